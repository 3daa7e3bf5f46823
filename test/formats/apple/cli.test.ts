/**
 * App Attest evidence files through `provenance verify`: the JSON file of docs/apple.md
 * (attestation object, App ID, allowDevelopment) with the challenge as `--nonce`, built in a
 * temporary directory from a real vector (../shared, read in place) and verified at a pinned
 * time under the `apple` policy template. Skips with a printed reason when the vectors are
 * absent, except in CI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { APPLE_POLICY_TEMPLATE } from '../../../src/formats/apple/policy-template.js';
import { decodeEvidence } from '../../../src/verify/input.js';
import { runCli } from '../../helpers/cli.js';
import { outcome } from '../../helpers/fuzz.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const APPLE = join(VECTORS, 'apple');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping Apple CLI tests: ${reason}`);
  }
}

it('policy template apple prints the template', async () => {
  const run = await runCli(['policy', 'template', 'apple']);
  expect(run.code).toBe(0);
  expect(run.out).toBe(APPLE_POLICY_TEMPLATE);
});

it('App Attest JSON needs an App ID and base64', () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  expect(outcome(() => decodeEvidence(enc({ appAttest: { attestationObject: 'o2Nm' } })))).toBe('USAGE');
  expect(outcome(() => decodeEvidence(enc({ appAttest: { attestationObject: '***', appId: 'A.b' } })))).toBe(
    'ATTESTATION_MALFORMED',
  );
});

it('a bare App Attest object is a usage error pointing at the JSON file', async () => {
  const { appAttestObject, appleCa } = await import('./build.js');
  const { object } = appAttestObject(appleCa());
  expect(outcome(() => decodeEvidence(object))).toBe('USAGE');
});

describe.runIf(available)('App Attest evidence file', () => {
  const dir = available ? mkdtempSync(join(tmpdir(), 'apple-cli-')) : '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies with the template, the App ID from the file and the challenge as --nonce', async () => {
    writeFileSync(
      join(dir, 'Apple_App_Attestation_Root_CA.pem'),
      readFileSync(join(APPLE, 'webauthn4j', 'Apple_App_Attestation_Root_CA.pem')),
    );
    writeFileSync(
      join(dir, 'Apple_Enterprise_Attestation_Root_CA.pem'),
      readFileSync(join(APPLE, 'smallstep-certificates', 'apple-enterprise-attestation-root-ca.pem')),
    );
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, APPLE_POLICY_TEMPLATE);
    const v = JSON.parse(readFileSync(join(APPLE, 'node-app-attest', 'attestation-production.json'), 'utf8'));
    const file = join(dir, 'app-attest.json');
    writeFileSync(
      file,
      JSON.stringify({
        appAttest: { attestationObject: v.attestation, appId: 'V8H6LQ9448.io.uebelacker.AppAttestExample' },
      }),
    );
    const nonce = Buffer.from(v.challenge, 'base64').toString('hex');
    const at = new Date(Date.UTC(2024, 5, 1)).toISOString();
    const run = await runCli(['verify', file, '--policy', policy, '--nonce', nonce, '--at', at, '--json']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const verdict = JSON.parse(run.out);
    expect(verdict.format).toBe('apple');
    expect(verdict.claims.environment).toBe('production');
    expect(verdict.path.at(-1).anchor).toBe('apple-app-attestation-root');
  });

  it('verifies the bare attestation object with --app-id; without it, or with another App ID, refuses', async () => {
    const root = join(APPLE, 'webauthn4j', 'Apple_App_Attestation_Root_CA.pem');
    const v = JSON.parse(readFileSync(join(APPLE, 'node-app-attest', 'attestation-production.json'), 'utf8'));
    const file = join(dir, 'app-attest.cbor');
    writeFileSync(file, Buffer.from(v.attestation, 'base64'));
    const nonce = Buffer.from(v.challenge, 'base64').toString('hex');
    const common = ['--trust', root, '--nonce', nonce, '--at', new Date(Date.UTC(2024, 5, 1)).toISOString()];
    const appId = 'V8H6LQ9448.io.uebelacker.AppAttestExample';
    const ok = await runCli(['verify', file, ...common, '--app-id', appId, '--json']);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out).claims.environment).toBe('production');
    const bare = await runCli(['verify', file, ...common]);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('USAGE');
    const other = await runCli([
      'verify',
      file,
      ...common,
      '--app-id',
      'AAAAAAAAAA.com.example.other',
      '--json',
    ]);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.out).code).toBe('RPID_MISMATCH');
  });
});
