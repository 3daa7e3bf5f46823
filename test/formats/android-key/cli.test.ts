/**
 * `provenance verify` on a real Android chain with `--trust` (the catalogue recognises the
 * Google root and scopes it to android-key), `--nonce` and `--at`; a software root given with
 * `--trust` is refused; `provenance policy template android-key` prints the template.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANDROID_KEY_POLICY_TEMPLATE } from '../../../src/formats/android-key/policy-template.js';
import { runCli } from '../../helpers/cli.js';
import { ANDROID, available, KA, manifestTime, readJsonc, requireVectors } from './vectors.js';

requireVectors('Android CLI');

describe('provenance CLI with Android evidence', () => {
  it('prints the android-key policy template', async () => {
    const run = await runCli(['policy', 'template', 'android-key']);
    expect(run.code).toBe(0);
    expect(run.out).toBe(ANDROID_KEY_POLICY_TEMPLATE);
  });

  it.skipIf(!available)(
    'verifies an RKP chain under the P-384 root with --trust, --nonce and --at',
    async () => {
      const rel = 'tegu/sdk36/SB_EC_2026_ROOT.pem';
      const challenge = Buffer.from(
        String(readJsonc(join(KA, rel.replace(/\.pem$/, '.json'))).attestationChallenge),
        'base64',
      ).toString('hex');
      const run = await runCli([
        'verify',
        join(KA, rel),
        '--trust',
        join(ANDROID, 'smallstep-certificates', 'google-key-attestation-ca1-ec-p384-2025.pem'),
        '--nonce',
        challenge,
        '--at',
        new Date(manifestTime(rel)!).toISOString(),
        '--json',
      ]);
      expect(run.code, run.err).toBe(0);
      const verdict = JSON.parse(run.out);
      expect(verdict.format).toBe('android-key');
      expect(verdict.claims.securityLevel).toBe('secure-element');
      expect(verdict.claims.provisioning).toBe('rkp');
    },
  );

  it.skipIf(!available)('refuses a software root given with --trust', async () => {
    const run = await runCli([
      'verify',
      join(KA, 'marlin/sdk29/TEE_EC_NONE.pem'),
      '--trust',
      join(KA, 'software-roots.pem'),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.err + run.out).toMatch(/CATALOG_NEVER_TRUST|ANDROID_SOFTWARE_ROOT/);
  });
});
