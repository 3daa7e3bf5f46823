/**
 * `provenance enroll`: get a certificate from a provisioning service for a key on a software
 * token. Thin over src/client: the key is made when the label is new, the CSR carries the
 * token's attestation bound to the service's challenge, and the answer is checked before it is
 * written. A refusal exits 1 with the code, the service's reason and what to do about it.
 *
 * Also the options every client command shares (--server, --ca-cert, --insecure-http,
 * --timeout), used by `provenance admin` too.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { type ClientOptions, createClient, type ProvisioningClient } from '../client/api.js';
import { DEFAULT_KEY_ALGORITHM, defaultLabel, type EnrolledKey, enrollKey } from '../client/enroll.js';
import { enrollmentHint } from '../client/hints.js';
import { createTpmClient, enrollTpmKey } from '../client/tpm.js';
import { sha256Hex } from '../core/bytes.js';
import { fail, isProvenanceError, type ProvenanceError } from '../core/errors.js';
import { decodePem } from '../core/pem.js';
import type { KeyAlgorithm, PinPolicy, TouchPolicy } from '../token/attester.js';
import { nodeFileAccess } from '../token/software/file-access.js';
import { KEY_ALGORITHMS } from '../token/software/key-algorithms.js';
import { createTpmAttester } from '../token/tpm/attester.js';
import type { Verdict } from '../verify/verifier.js';
import { type CliContext, CliExit, EXIT, warn } from './context.js';
import { chainLine } from './render-verdict.js';
import { openCliToken, shortFingerprint } from './token.js';

/** The options shared by every command that talks to the service. */
export interface ServerOptions {
  server?: string;
  caCert?: string;
  insecureHttp?: boolean;
  timeout?: string;
}

/** Add --server, --ca-cert, --insecure-http and --timeout to a command. */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'the provisioning service base URL (default: $PROVENANCE_SERVER)')
    .option('--ca-cert <pem>', "trust this CA (PEM file) for the service's TLS certificate")
    .option('--insecure-http', 'allow plain http:// to a host that is not loopback (secrets travel in clear)')
    .option('--timeout <seconds>', 'give up on a request after this many seconds', '30');
}

/** A client from the shared options: --server or PROVENANCE_SERVER, else USAGE. */
export function clientFromOptions(o: ServerOptions, ctx: CliContext): ProvisioningClient {
  const server = o.server ?? ctx.env['PROVENANCE_SERVER'];
  if (server === undefined || server === '')
    fail('USAGE', 'no service URL: pass --server URL (or set PROVENANCE_SERVER)');
  const timeout = o.timeout ?? '30';
  if (!/^\d{1,4}$/.test(timeout) || Number(timeout) === 0)
    fail('USAGE', `--timeout must be a whole number of seconds from 1 to 9999, not "${timeout}"`);
  let caCert: string | undefined;
  if (o.caCert !== undefined) {
    try {
      caCert = readFileSync(o.caCert, 'utf8');
    } catch (err) {
      fail('IO_ERROR', `cannot read --ca-cert ${o.caCert}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
        path: o.caCert,
      });
    }
  }
  return createClient({
    server,
    timeoutMs: Number(timeout) * 1000,
    ...(caCert !== undefined ? { caCert } : {}),
    ...(o.insecureHttp ? { allowInsecureHttp: true } : {}),
  });
}

/** The same checked options as `clientFromOptions`, for the TPM activation client. */
function clientOptionsFrom(o: ServerOptions, ctx: CliContext): ClientOptions {
  const server = o.server ?? ctx.env['PROVENANCE_SERVER'] ?? '';
  const caCert = o.caCert !== undefined ? readFileSync(o.caCert, 'utf8') : undefined;
  return {
    server,
    timeoutMs: Number(o.timeout ?? '30') * 1000,
    ...(caCert !== undefined ? { caCert } : {}),
    ...(o.insecureHttp ? { allowInsecureHttp: true } : {}),
  };
}

/** DER certificates from a PEM file (IO_ERROR unreadable, USAGE when it holds none). */
function readCertificates(file: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail('IO_ERROR', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      path: file,
    });
  }
  const certs = decodePem(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.der);
  if (certs.length === 0) fail('USAGE', `${file} holds no PEM CERTIFICATE block`);
  return certs;
}

/** True when the error is the service's answer (a problem document), not a local failure. */
export function isServiceAnswer(err: unknown): err is ProvenanceError {
  return (
    isProvenanceError(err) &&
    typeof err.details['status'] === 'number' &&
    err.code !== 'SERVER_RESPONSE_INVALID'
  );
}

interface EnrollOptions extends ServerOptions {
  code?: string;
  token: string;
  label?: string;
  alg?: KeyAlgorithm;
  pinPolicy?: PinPolicy;
  touchPolicy?: TouchPolicy;
  pin?: string;
  output?: string;
  force?: boolean;
  json?: boolean;
  tpmState?: string;
  ekChain?: string;
}

/** `--token tpm:<tcti>` → the TCTI (e.g. `swtpm:host=127.0.0.1,port=2321`, `device:/dev/tpmrm0`), else null. */
export function tpmTctiOf(token: string): string | null {
  if (!token.startsWith('tpm:')) return null;
  const tcti = token.slice('tpm:'.length);
  // A TCTI is a library name and a config string: no spaces or shell-ish characters needed.
  if (!/^[a-z0-9_-]{1,32}(?::[A-Za-z0-9_.,=/:@-]{0,256})?$/.test(tcti))
    fail(
      'USAGE',
      `--token tpm:<tcti> needs a TCTI like swtpm:host=127.0.0.1,port=2321 or device:/dev/tpmrm0, not "${tcti}"`,
    );
  return tcti;
}

/** Where the chain goes: `signing.pem` → `signing.chain.pem`; `cert` → `cert.chain.pem`. */
export function chainFileFor(certificateFile: string): string {
  return certificateFile.endsWith('.pem')
    ? `${certificateFile.slice(0, -'.pem'.length)}.chain.pem`
    : `${certificateFile}.chain.pem`;
}

function day(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * Register `enroll`.
 *
 * @example
 * registerEnroll(program, ctx);   // provenance enroll --server URL --code CODE --token alice.token
 */
export function registerEnroll(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('enroll')
    .description(
      'get a certificate for a key on your token from a provisioning service: makes the key if the label is new, answers a challenge with the attestation, saves the certificate and chain',
    )
    .option(
      '--code <code>',
      'the enrollment code the institution gave you (default: $PROVENANCE_ENROLLMENT_CODE)',
    )
    .requiredOption(
      '--token <token>',
      'the software token file, or tpm:<tcti> for a TPM (e.g. tpm:device:/dev/tpmrm0)',
    )
    .option('--label <label>', 'the key to certify; made when new (default: enrollment-<date>)')
    .addOption(
      new Option('--alg <alg>', `algorithm of a new key (default ${DEFAULT_KEY_ALGORITHM})`).choices(
        KEY_ALGORITHMS,
      ),
    )
    .addOption(
      new Option('--pin-policy <policy>', 'PIN policy of a new key (default once)').choices([
        'never',
        'once',
        'always',
      ]),
    )
    .addOption(
      new Option('--touch-policy <policy>', 'touch policy of a new key (default never)').choices([
        'never',
        'cached',
        'always',
      ]),
    )
    .option('--pin <pin>', 'token PIN (default: $PROVENANCE_PIN, else 123456 with a warning)')
    .option(
      '-o, --output <file>',
      'certificate file (default <label>.pem); the chain goes to <file minus .pem>.chain.pem',
    )
    .option('--force', 'replace existing output files')
    .option('--json', 'print the result (or the refusal) as JSON')
    .option(
      '--tpm-state <dir>',
      'with --token tpm:…, where the TPM key blobs and the attestation key are kept (default: $PROVENANCE_TPM_STATE, else .provenance-tpm)',
    )
    .option(
      '--ek-chain <pem>',
      "with --token tpm:…, CA certificates between the TPM's EK certificate and its maker's root",
    );
  addServerOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nThe certificate subject comes from the enrollment code (set by the institution), never from\n' +
      'the request: the CSR carries a placeholder subject. Exit 0 issued, 1 refused by the service,\n' +
      '2 usage or local error.\n',
  );
  cmd.action(async (o: EnrollOptions) => {
    const code = o.code ?? ctx.env['PROVENANCE_ENROLLMENT_CODE'];
    if (code === undefined || code === '')
      fail('USAGE', 'no enrollment code: pass --code CODE (or set PROVENANCE_ENROLLMENT_CODE)');
    const client = clientFromOptions(o, ctx);
    const label = o.label ?? defaultLabel(ctx.clock);
    const certFile = o.output ?? `${label}.pem`;
    const chainFile = chainFileFor(certFile);
    // Check before the code is spent: a certificate that cannot be saved would be lost.
    for (const f of [certFile, chainFile]) {
      if (!o.force && existsSync(f))
        fail('USAGE', `${f} exists: choose another -o FILE, or pass --force to replace it`);
      try {
        accessSync(dirname(resolve(f)), constants.W_OK);
      } catch {
        fail('IO_ERROR', `cannot write ${f}: its folder does not exist or is not writable`, { path: f });
      }
    }

    const tcti = tpmTctiOf(o.token);
    const common = {
      client,
      code,
      label,
      ...(o.alg !== undefined ? { algorithm: o.alg } : {}),
      ...(o.pinPolicy !== undefined ? { pinPolicy: o.pinPolicy } : {}),
      ...(o.touchPolicy !== undefined ? { touchPolicy: o.touchPolicy } : {}),
      ...(o.json ? {} : { onProgress: (m: string) => ctx.err(`${m}\n`) }),
    };
    let result: EnrolledKey;
    try {
      if (tcti !== null) {
        // TPM: activate the attestation key against the EK certificate first (issue #5).
        const stateDir = o.tpmState ?? ctx.env['PROVENANCE_TPM_STATE'] ?? '.provenance-tpm';
        const ekChain = o.ekChain !== undefined ? readCertificates(o.ekChain) : undefined;
        result = await enrollTpmKey({
          ...common,
          token: createTpmAttester({ tcti, stateDir, clock: ctx.clock }),
          tpmClient: createTpmClient(clientOptionsFrom(o, ctx)),
          ...(ekChain ? { ekChain } : {}),
        });
      } else {
        if (o.tpmState !== undefined || o.ekChain !== undefined)
          fail('USAGE', '--tpm-state and --ek-chain go with --token tpm:<tcti>');
        const token = await openCliToken(o.token, o.pin, ctx);
        result = await enrollKey({ ...common, token });
      }
    } catch (err) {
      reportFailure(err, ctx, o.json === true);
      throw err;
    }

    const files = nodeFileAccess();
    try {
      await files.writeFileAtomic(certFile, result.certificatePem);
      await files.writeFileAtomic(chainFile, result.chainPem.join(''));
    } catch (err) {
      // The code is spent and the certificate issued: never lose it, print it instead.
      ctx.err(
        `error: the certificate was issued but could not be saved (${(err as Error).message}); here it is:\n`,
      );
      ctx.out(result.certificatePem + result.chainPem.join(''));
      throw err;
    }
    printSummary(result, certFile, chainFile, ctx, o.json === true);
  });
}

/** Refusals by the service: exit 1 with code, reason, hint. Unreachable or garbled service: hint, exit 2. */
function reportFailure(err: unknown, ctx: CliContext, json: boolean): void {
  if (!isProvenanceError(err)) return;
  const serviceAnswer = isServiceAnswer(err);
  const clientSide = err.code === 'SERVER_UNREACHABLE' || err.code === 'SERVER_RESPONSE_INVALID';
  if (!serviceAnswer && !clientSide) return; // a local problem (token, PIN, file): main prints it
  const verdict = err.details['verdict'] as Partial<Verdict> | undefined;
  const hint = enrollmentHint(err.code);
  if (json) {
    ctx.out(
      `${JSON.stringify({ issued: false, code: err.code, message: err.message, hint, ...(verdict ? { verdict } : {}) }, null, 2)}\n`,
    );
  } else {
    ctx.err(`${serviceAnswer ? 'enrollment refused' : 'error'}: ${err.code}: ${err.message}\n`);
    if (verdict && Array.isArray(verdict.path) && verdict.path.length > 0)
      ctx.err(`  chain       ${chainLine(verdict as Verdict)}\n`);
    if (typeof err.details['retryAfter'] === 'number')
      ctx.err(`  retry after ${err.details['retryAfter']} s\n`);
    ctx.err(`  what to do  ${hint}\n`);
  }
  throw new CliExit(serviceAnswer ? EXIT.reject : EXIT.usage);
}

function printSummary(
  r: EnrolledKey,
  certFile: string,
  chainFile: string,
  ctx: CliContext,
  json: boolean,
): void {
  const c = r.certificate;
  const rule = r.verdict.matchedRule ?? null;
  const level = r.level ?? r.verdict.level ?? null;
  if (json) {
    const out = {
      issued: true,
      enrollmentId: r.enrollmentId,
      key: {
        label: r.key.label,
        algorithm: r.key.algorithm,
        created: r.keyCreated,
        spkiSha256: sha256Hex(r.key.spki),
      },
      certificate: {
        subject: c.subject.text,
        issuer: c.issuer.text,
        serial: c.serialHex,
        notBefore: new Date(c.notBefore).toISOString(),
        notAfter: new Date(c.notAfter).toISOString(),
        file: certFile,
        chainFile,
      },
      matchedRule: rule,
      level,
      verdict: r.verdict,
    };
    ctx.out(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  ctx.out(
    `certificate issued for key "${r.key.label}" (${r.key.algorithm}, ${shortFingerprint(sha256Hex(r.key.spki))})\n`,
  );
  ctx.out(`  subject   ${c.subject.text}\n`);
  ctx.out(`  issuer    ${c.issuer.text}\n`);
  ctx.out(`  serial    ${c.serialHex}\n`);
  ctx.out(`  valid     ${day(c.notBefore)} to ${day(c.notAfter)}\n`);
  ctx.out(
    `  accepted  by rule ${rule ?? '(none named)'}${level !== null ? `, assurance level ${level}` : ''}\n`,
  );
  if (r.verdict.path?.length) ctx.out(`  chain     ${chainLine(r.verdict)}\n`);
  ctx.out(`  written   ${certFile} (certificate), ${chainFile} (CA chain)\n`);
  if (c.notAfter < ctx.clock()) warn(ctx, "the certificate is already expired by this computer's clock");
}
