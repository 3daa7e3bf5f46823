/**
 * TPM enrollment end to end (issue #5): a software TPM (swtpm) whose EK certificate comes from
 * a throwaway local CA, a real service whose policy trusts that CA's root for format 'tpm' and
 * requires generatedOnDevice / nonExportable / nonce freshness, and `provenance enroll --token
 * tpm:<tcti>` through the CLI: credential activation, TPM2_Certify over the challenge, a CSR
 * signed in the TPM. Negatives, each with its code: a certify over another nonce, an imported
 * key, an AK never activated, an EK certificate from a CA the service does not trust.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/api.js';
import { PLACEHOLDER_SUBJECT } from '../../src/client/enroll.js';
import { activateTpm, createTpmClient, enrollTpmKey } from '../../src/client/tpm.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { buildTpmCsr, createTpmAttester, spawnRunner } from '../../src/token/tpm/index.js';
import { runCli } from '../helpers/cli.js';
import { needSwtpm, type Swtpm, startSwtpm } from '../helpers/swtpm.js';
import { hasTool } from '../helpers/tools.js';
import { tempDirs } from '../maker/fixtures.js';
import { type E2eService, startE2eService, testConfig } from './service.js';

const available =
  hasTool('swtpm', ['--version']) &&
  hasTool('swtpm_setup', ['--help']) &&
  hasTool('tpm2_createek', ['--version']);
const SUBJECT = 'CN=TPM Device 1,O=Example';
const dirs = tempDirs();
let trusted: Swtpm | null = null;
let stranger: Swtpm | null = null;
let svc: E2eService | null = null;
let work = '';

/** A policy trusting the swtpm local CA root for TPM evidence only. */
function policyYaml(rootFile: string): string {
  return [
    'version: 1',
    'trust:',
    '  - id: swtpm-localca',
    `    certificates: [${rootFile}]`,
    '    formats: [tpm]',
    'require:',
    '  freshness: nonce',
    '  generatedOnDevice: true',
    '  nonExportable: true',
    '',
  ].join('\n');
}

async function newCode(): Promise<string> {
  const admin = createClient({ server: svc!.url });
  return (await admin.adminCreateCode(svc!.adminToken, { customer: 'tpm-e2e', subject: SUBJECT })).code;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
}

beforeAll(async () => {
  if (!available) return;
  [trusted, stranger] = await Promise.all([startSwtpm(), startSwtpm()]);
  work = await dirs.make('provenance-e2e-tpm-');
  const data = join(work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'swtpm-root.pem'), trusted.caRootPem);
  writeFileSync(join(data, 'policy.yaml'), policyYaml('./swtpm-root.pem'));
  svc = await startE2eService(data, { config: `${testConfig()}policy: ./policy.yaml\n` });
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await Promise.all([trusted?.stop(), stranger?.stop()]);
  await dirs.cleanup();
});

describe('provenance enroll --token tpm:<tcti>', () => {
  it('activates the AK, certifies a TPM key over the challenge, and gets a certificate for it', async (ctx) => {
    needSwtpm(ctx);
    const state = join(work, 'state-cli');
    const out = join(work, 'tpm-signing.pem');
    const r = await runCli([
      'enroll',
      '--server',
      svc!.url,
      '--code',
      await newCode(),
      '--token',
      `tpm:${trusted!.tcti}`,
      '--tpm-state',
      state,
      '--ek-chain',
      chainFile(trusted!),
      '--label',
      'signing',
      '--alg',
      'p256',
      '-o',
      out,
      '--json',
    ]);
    expect(r.code, r.err + r.out).toBe(0);
    const result = JSON.parse(r.out) as {
      issued: boolean;
      key: { spkiSha256: string };
      verdict: { path: unknown[] } & Record<string, unknown>;
    };
    expect(result.issued).toBe(true);
    // The certificate certifies the TPM key: the SPKI the driver read from the TPM.
    const meta = JSON.parse(readFileSync(join(state, 'keys', 'signing.json'), 'utf8')) as { spki: string };
    const cert = parseCertificate(pemDer(readFileSync(out, 'utf8')));
    expect(Buffer.from(cert.spki).toString('base64')).toBe(meta.spki);
    expect(cert.subject.text).toContain('TPM Device 1');
    // key → AK (activated) → EK cert → swtpm-localca → root.
    const path = result.verdict.path as { role: string; subject: string | null }[];
    expect(path.map((e) => e.role)).toEqual([
      'attested-key',
      'attestation-key',
      'intermediate',
      'intermediate',
      'root',
    ]);
    expect(path[1]!.subject).toMatch(/^TPM AK \(credential activation, binding .+\)$/);
    expect(path.slice(2).map((e) => e.subject)).toEqual([
      'CN=unknown',
      'CN=swtpm-localca',
      'CN=swtpm-localca-rootca',
    ]);
    expect(result.verdict['format']).toBe('tpm');
  }, 60_000);

  it('enrolls an RSA-2048 TPM key through the library (enrollTpmKey)', async (ctx) => {
    needSwtpm(ctx);
    const tpm = createTpmAttester({ tcti: trusted!.tcti, stateDir: join(work, 'state-rsa') });
    const r = await enrollTpmKey({
      client: createClient({ server: svc!.url }),
      tpmClient: createTpmClient({ server: svc!.url }),
      token: tpm,
      code: await newCode(),
      label: 'rsa',
      algorithm: 'rsa2048',
      ekChain: chainOf(trusted!),
    });
    expect(r.akId).not.toBeNull();
    expect(r.key.algorithm).toBe('rsa2048');
    expect(Buffer.from(r.certificate.spki)).toEqual(Buffer.from(r.key.spki));
    expect(r.verdict.accepted).toBe(true);
  }, 60_000);

  it('refuses a TPM2_Certify over another nonce (NONCE_MISMATCH)', async (ctx) => {
    needSwtpm(ctx);
    const tpm = createTpmAttester({ tcti: trusted!.tcti, stateDir: join(work, 'state-nonce') });
    const code = await newCode();
    const client = createClient({ server: svc!.url });
    await activateTpm({
      tpmClient: createTpmClient({ server: svc!.url }),
      token: tpm,
      code,
      ekChain: chainOf(trusted!),
    });
    const key = await tpm.generateKey({
      label: 'k',
      algorithm: 'p256',
      pinPolicy: 'never',
      touchPolicy: 'never',
    });
    const challenge = await client.challenge(code);
    const certification = await tpm.certify('k', randomBytes(32)); // not the challenge
    const { ekCertificate } = await tpm.endorsement();
    const csr = await buildTpmCsr({
      subject: PLACEHOLDER_SUBJECT,
      nonce: challenge.nonce,
      key,
      certification,
      certificates: [ekCertificate],
      sign: (d) => tpm.sign('k', d),
    });
    expect(await codeOf(client.enroll(code, challenge.id, encodePem('CERTIFICATE REQUEST', csr)))).toBe(
      'NONCE_MISMATCH',
    );
  }, 60_000);

  it('refuses an imported key (not fixedTPM, not sensitiveDataOrigin)', async (ctx) => {
    needSwtpm(ctx);
    const stateDir = join(work, 'state-import');
    const tpm = createTpmAttester({ tcti: trusted!.tcti, stateDir });
    const code = await newCode();
    await activateTpm({
      tpmClient: createTpmClient({ server: svc!.url }),
      token: tpm,
      code,
      ekChain: chainOf(trusted!),
    });
    await importKey(trusted!.tcti, stateDir, 'imported');
    let refusal: unknown = null;
    try {
      await enrollTpmKey({
        client: createClient({ server: svc!.url }),
        tpmClient: createTpmClient({ server: svc!.url }),
        token: tpm,
        code,
        label: 'imported',
        skipActivation: true, // the AK is bound above; only the key is wrong
      });
    } catch (err) {
      refusal = err;
    }
    expect(isProvenanceError(refusal, 'POLICY_REQUIREMENT_FAILED'), String(refusal)).toBe(true);
    // The verdict says which requirements the TPM's attributes failed.
    const verdict = JSON.stringify((refusal as { details: Record<string, unknown> }).details['verdict']);
    expect(verdict).toMatch(/nonExportable|generatedOnDevice/);
  }, 60_000);

  it('refuses an AK that was never activated (TPM_AK_NOT_BOUND)', async (ctx) => {
    needSwtpm(ctx);
    const tpm = createTpmAttester({ tcti: trusted!.tcti, stateDir: join(work, 'state-unbound') });
    const r = await codeOf(
      enrollTpmKey({
        client: createClient({ server: svc!.url }),
        tpmClient: createTpmClient({ server: svc!.url }),
        token: tpm,
        code: await newCode(),
        label: 'k',
        algorithm: 'p256',
        skipActivation: true,
      }),
    );
    expect(r).toBe('TPM_AK_NOT_BOUND');
  }, 60_000);

  it('refuses to activate against an EK certificate from a CA the service does not trust', async (ctx) => {
    needSwtpm(ctx);
    const tpm = createTpmAttester({ tcti: stranger!.tcti, stateDir: join(work, 'state-stranger') });
    const r = await codeOf(
      activateTpm({
        tpmClient: createTpmClient({ server: svc!.url }),
        token: tpm,
        code: await newCode(),
        ekChain: chainOf(stranger!),
      }),
    );
    // Every swtpm local CA is named CN=swtpm-localca-rootca: the name leads to the trusted
    // root, whose key did not sign the stranger's CA. Trust is by key, never by name.
    expect(r).toBe('PATH_SIGNATURE_INVALID');
  }, 60_000);
});

/** The swtpm local CA's signing certificate: the EK chain the TPM itself does not hold. */
function chainOf(t: Swtpm): Uint8Array[] {
  return t.caCerts.map(pemDer);
}

function chainFile(t: Swtpm): string {
  const f = join(t.dir, 'ek-chain.pem');
  writeFileSync(f, t.caCerts.join(''));
  return f;
}

function pemDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/**
 * Put a key made outside the TPM into the driver's state directory, as if it were a TPM key:
 * tpm2_import under the SRK (the TPM clears fixedTPM and sensitiveDataOrigin for it).
 */
async function importKey(tcti: string, stateDir: string, label: string): Promise<void> {
  const run = spawnRunner({ tcti });
  mkdirSync(join(stateDir, 'keys'), { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(stateDir, 'import.pem'), privateKey.export({ type: 'sec1', format: 'pem' }));
  const step = async (tool: string, args: string[]) => {
    const res = await run({ tool, args, cwd: stateDir });
    if (res.status !== 0) throw new Error(`${tool}: ${res.stderr}`);
    await run({ tool: 'tpm2_flushcontext', args: ['-t'], cwd: stateDir });
  };
  await step('tpm2_createprimary', ['-C', 'o', '-g', 'sha256', '-G', 'ecc', '-c', 'srk.ctx']);
  await step('tpm2_import', [
    '-C',
    'srk.ctx',
    '-G',
    'ecc',
    '-i',
    'import.pem',
    '-u',
    `keys/${label}.pub`,
    '-r',
    `keys/${label}.priv`,
  ]);
  await step('tpm2_load', [
    '-C',
    'srk.ctx',
    '-u',
    `keys/${label}.pub`,
    '-r',
    `keys/${label}.priv`,
    '-c',
    `keys/${label}.ctx`,
  ]);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  writeFileSync(
    join(stateDir, 'keys', `${label}.json`),
    JSON.stringify({
      label,
      algorithm: 'p256',
      spki: spki.toString('base64'),
      createdAt: new Date().toISOString(),
    }),
  );
}
