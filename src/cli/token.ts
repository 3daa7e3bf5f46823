/**
 * `provenance token …`: use a software reference token (keygen, list, attest, csr). Thin over
 * src/token/software; the PIN comes from --pin, then PROVENANCE_PIN, then the default 123456
 * with a warning.
 */
import { type Command, Option } from 'commander';
import { sha256Hex } from '../core/bytes.js';
import { fail } from '../core/errors.js';
import { encodePem } from '../core/pem.js';
import type { KeyInfo, PinPolicy, TouchPolicy } from '../token/attester.js';
import { nodeFileAccess } from '../token/software/file-access.js';
import { KEY_ALGORITHMS } from '../token/software/key-algorithms.js';
import { SoftwareToken } from '../token/software/token.js';
import { type CliContext, warn } from './context.js';
import { parseNonceHex } from './files.js';

/** The PIN a token ships with when the maker gives none (a demo convenience, never a secret). */
export const DEFAULT_PIN = '123456';

/** The token PIN: --pin, then PROVENANCE_PIN, then the default 123456 with a warning. */
export function resolvePin(option: string | undefined, ctx: CliContext): string {
  if (option !== undefined) return option;
  const env = ctx.env['PROVENANCE_PIN'];
  if (env !== undefined && env !== '') return env;
  warn(ctx, `no PIN given (--pin or PROVENANCE_PIN): using the default PIN ${DEFAULT_PIN}`);
  return DEFAULT_PIN;
}

/** `sha256:` and the first 16 hex digits of the SPKI SHA-256, for summaries. */
export function shortFingerprint(spkiSha256: string): string {
  return `sha256:${spkiSha256.slice(0, 16)}…`;
}

/** Open a token file with the CLI's PIN, clock and touch prompt. */
export async function openCliToken(
  file: string,
  pin: string | undefined,
  ctx: CliContext,
): Promise<SoftwareToken> {
  let resolved: string | undefined;
  return SoftwareToken.open(file, {
    files: nodeFileAccess(),
    clock: ctx.clock,
    // Asked only when a key is used, so `token list` never warns about the PIN.
    pin: () => {
      resolved ??= resolvePin(pin, ctx);
      return resolved;
    },
    ...(ctx.confirmTouch ? { confirmTouch: ctx.confirmTouch } : {}),
  });
}

/** Write data to -o FILE (atomically), or to stdout. */
async function emit(ctx: CliContext, output: string | undefined, text: string): Promise<void> {
  if (output === undefined) ctx.out(text);
  else await nodeFileAccess().writeFileAtomic(output, text);
}

function describeKey(k: KeyInfo): string {
  return `${k.label}  ${k.algorithm}  PIN ${k.pinPolicy}  touch ${k.touchPolicy}  ${shortFingerprint(sha256Hex(k.spki))}`;
}

interface PinOption {
  pin?: string;
}

/**
 * Register `token keygen|list|attest|csr`.
 *
 * @example
 * registerTokenCommands(program, ctx);   // provenance token keygen alice.token --label signing
 */
export function registerTokenCommands(program: Command, ctx: CliContext): void {
  const token = program
    .command('token')
    .description('use a software reference token: make keys, list them, attest them, make CSRs');
  const pinOption = () =>
    new Option('--pin <pin>', 'token PIN (default: $PROVENANCE_PIN, else 123456 with a warning)');

  token
    .command('keygen')
    .description('generate a key inside the token')
    .argument('<token-file>', 'the software token file')
    .requiredOption('--label <label>', 'a name for the key, unique on the token')
    .addOption(new Option('--alg <alg>', 'key algorithm').choices(KEY_ALGORITHMS).default('p256'))
    .addOption(
      new Option('--pin-policy <policy>', 'when the PIN is needed')
        .choices(['never', 'once', 'always'])
        .default('once'),
    )
    .addOption(
      new Option('--touch-policy <policy>', 'when a touch is needed')
        .choices(['never', 'cached', 'always'])
        .default('never'),
    )
    .addOption(pinOption())
    .action(
      async (
        file: string,
        o: PinOption & {
          label: string;
          alg: (typeof KEY_ALGORITHMS)[number];
          pinPolicy: PinPolicy;
          touchPolicy: TouchPolicy;
        },
      ) => {
        const t = await openCliToken(file, o.pin, ctx);
        const key = await t.generateKey({
          label: o.label,
          algorithm: o.alg,
          pinPolicy: o.pinPolicy,
          touchPolicy: o.touchPolicy,
        });
        const info = await t.info();
        ctx.out(`generated ${key.algorithm} key "${key.label}" on ${info.model} ${info.serial} (${file})\n`);
        ctx.out(
          `  PIN ${key.pinPolicy}, touch ${key.touchPolicy}, public key ${shortFingerprint(sha256Hex(key.spki))}\n`,
        );
      },
    );

  token
    .command('list')
    .description('show the token and its keys (no PIN needed)')
    .argument('<token-file>', 'the software token file')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      const t = await openCliToken(file, undefined, ctx);
      const info = await t.info();
      const keys = await t.listKeys();
      if (o.json) {
        const json = {
          token: { ...info, maker: t.maker },
          keys: keys.map((k) => ({
            label: k.label,
            algorithm: k.algorithm,
            pinPolicy: k.pinPolicy,
            touchPolicy: k.touchPolicy,
            createdAt: k.createdAt,
            spki: Buffer.from(k.spki).toString('base64'),
            spkiSha256: sha256Hex(k.spki),
          })),
        };
        ctx.out(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      ctx.out(`${info.model}, serial ${info.serial}, firmware ${info.firmware}, made by ${t.maker}\n`);
      ctx.out(
        `  attestation ${info.attestation}; PIN ${info.locked ? 'LOCKED' : `${info.pinRetriesLeft} tries left`}\n`,
      );
      if (keys.length === 0) ctx.out('  no keys yet (token keygen)\n');
      for (const k of keys) ctx.out(`  ${describeKey(k)}\n`);
    });

  token
    .command('attest')
    .description('the certificate of provenance for a key, then the chain, as one PEM bundle')
    .argument('<token-file>', 'the software token file')
    .requiredOption('--label <label>', 'the key to attest')
    .requiredOption('--nonce <hex>', "the verifier's challenge, 8 to 64 bytes in hex")
    .option('-o, --output <file>', 'write the bundle here instead of stdout')
    .addOption(pinOption())
    .action(async (file: string, o: PinOption & { label: string; nonce: string; output?: string }) => {
      const nonce = parseNonceHex(o.nonce);
      const t = await openCliToken(file, o.pin, ctx);
      const evidence = await t.attest(o.label, nonce);
      await emit(ctx, o.output, evidence.map((c) => encodePem('CERTIFICATE', c)).join(''));
      const key = (await t.listKeys()).find((k) => k.label === o.label)!;
      ctx.err(
        `attested key "${o.label}" (${shortFingerprint(sha256Hex(key.spki))}): certificate of provenance + ${evidence.length - 1} chain certificates${o.output ? ` written to ${o.output}` : ''}\n`,
      );
    });

  token
    .command('csr')
    .description('a PKCS#10 request signed by the key, carrying its attestation and the nonce')
    .argument('<token-file>', 'the software token file')
    .requiredOption('--label <label>', 'the key to certify')
    .requiredOption('--nonce <hex>', "the verifier's challenge, 8 to 64 bytes in hex")
    .requiredOption('--subject <dn>', "the requested subject, e.g. 'CN=Alice,O=Example Bank'")
    .option('-o, --output <file>', 'write the CSR here instead of stdout')
    .addOption(pinOption())
    .action(
      async (
        file: string,
        o: PinOption & { label: string; nonce: string; subject: string; output?: string },
      ) => {
        const nonce = parseNonceHex(o.nonce);
        if (o.subject.trim() === '') fail('USAGE', '--subject must name someone, e.g. CN=Alice');
        const t = await openCliToken(file, o.pin, ctx);
        const der = await t.signCsr({ label: o.label, subject: o.subject, nonce });
        await emit(ctx, o.output, encodePem('CERTIFICATE REQUEST', der));
        const key = (await t.listKeys()).find((k) => k.label === o.label)!;
        ctx.err(
          `CSR for "${o.subject}" signed by key "${o.label}" (${shortFingerprint(sha256Hex(key.spki))}) with its attestation${o.output ? `, written to ${o.output}` : ''}\n`,
        );
      },
    );
}
