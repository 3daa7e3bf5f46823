/**
 * Real `tpm`, `android-key` and `android-safetynet` registrations through the whole verifier
 * (webauthn format → path to the real root → policy) at the pinned time, with the vector runner
 * of src/formats/webauthn/vectors.ts. RS1 TPM statements are refused by the default format and
 * accepted with SHA-1 allowed, the quirk then in the verdict. Skips with a printed reason when
 * the vectors are absent, except in CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodePem } from '../../../src/core/pem.js';
import { verifyWebauthnVector } from '../../../src/formats/webauthn/vectors.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping webauthn tpm/android pipeline tests: ${reason}`);
  }
}

const fixture = (p: string): unknown => JSON.parse(readFileSync(join(VECTORS, p), 'utf8'));
const pem = (p: string): Certificate[] =>
  decodePem(readFileSync(join(VECTORS, p), 'utf8'))
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der));

const MS_ROOT = 'tpm/simplewebauthn/microsoft-tpm-root-ca-2014.pem';
const LENOVO = 'webauthn/py_webauthn/tpm__verify_attestation_lenovo_carbon_x1.json';

describe.skipIf(!available)('tpm / android-key registrations through the verifier', () => {
  it('a Windows Hello RS1 registration is refused by default (ALGORITHM_NOT_ALLOWED)', () => {
    const r = verifyWebauthnVector(fixture(LENOVO), {
      trust: pem(MS_ROOT),
      at: Date.parse('2024-06-01T00:00:00Z'),
    });
    expect(r.fmt).toBe('tpm');
    expect(r.verdict.accepted).toBe(false);
    expect(r.verdict.code).toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('with SHA-1 allowed it validates to the Microsoft TPM root, reporting webauthn-rs1', () => {
    const r = verifyWebauthnVector(fixture(LENOVO), {
      trust: pem(MS_ROOT),
      at: Date.parse('2024-06-01T00:00:00Z'),
      format: { allowSha1: true },
    });
    expect(r.statementOk).toBe(true);
    expect(r.verdict.code).not.toBe('ALGORITHM_NOT_ALLOWED');
    expect(r.verdict.quirks.map((q) => q.id)).toContain('webauthn-rs1');
    expect(r.verdict.path.length).toBeGreaterThanOrEqual(3);
    expect(r.verdict.code).toBe('ACCEPTED');
    expect(r.verdict.path.at(-1)?.subject).toContain('Microsoft TPM Root Certificate Authority 2014');
  });

  it('a Pixel 8a android-key registration validates to a Google root', () => {
    const roots = [1, 2, 3, 4].flatMap((i) =>
      pem(`android-key/simplewebauthn/Google_Hardware_Attestation_Root_${i}.pem`),
    );
    const r = verifyWebauthnVector(
      fixture(
        'webauthn/simplewebauthn/android-key/should-verify-android-keystore-response-from-a-pixel-8a-in-january-202.json',
      ),
      { trust: roots },
    );
    expect(r.fmt).toBe('android-key');
    expect(r.statementOk).toBe(true);
    expect(r.verdict.code).toBe('ACCEPTED');
    expect(r.verdict.path.at(-1)?.anchor).toBeDefined();
    expect(r.verdict.claims).toMatchObject({ securityLevel: expect.any(String) });
  });
});
