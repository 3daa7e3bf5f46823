/**
 * Every real `fmt=android-key` WebAuthn vector in ../shared/vectors through the android-key
 * statement verifier, then (where the vectors hold the root) path validation to the Google
 * attestation roots at the MANIFEST's pinned time. Skips with a printed reason when the
 * vectors are absent, except in CI.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { decodePem } from '../../../src/core/pem.js';
import { androidKeyStatement } from '../../../src/formats/webauthn/android-key.js';
import {
  decodeBase64Lenient,
  parseAttestationObject,
  parseAuthenticatorData,
} from '../../../src/formats/webauthn/containers.js';
import { anchorFromCertificate } from '../../../src/pki/anchor.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';
import { KeyCache } from '../../../src/pki/keys.js';
import { validatePath } from '../../../src/pki/path.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping android-key vector tests: ${reason}`);
  }
}

function load(path: string) {
  const d = JSON.parse(readFileSync(join(VECTORS, path), 'utf8')) as Record<string, unknown>;
  const outer = d['response'] as Record<string, unknown>;
  const r = (outer['response'] ?? outer) as Record<string, string>;
  const obj = parseAttestationObject(decodeBase64Lenient(r['attestationObject']!, 'attestationObject'));
  const clientData = decodeBase64Lenient(r['clientDataJSON']!, 'clientDataJSON');
  return {
    fmt: obj.fmt,
    attStmt: obj.attStmt,
    authData: parseAuthenticatorData(obj.authData),
    clientDataHash: new Uint8Array(createHash('sha256').update(clientData).digest()),
  };
}

function pemCerts(path: string): Certificate[] {
  return decodePem(readFileSync(join(VECTORS, path), 'utf8'))
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der));
}

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
}

const cache = new KeyCache();
const GOOGLE_ROOTS = [1, 2, 3, 4].map(
  (i) => `android-key/simplewebauthn/Google_Hardware_Attestation_Root_${i}.pem`,
);

interface Case {
  file: string;
  at: string;
  expect: string;
  /** Validate the chain to the Google roots (false: FIDO conformance FAKE roots, not in the vectors). */
  google: boolean;
}

const CASES: Case[] = [
  {
    file: 'webauthn/simplewebauthn/android-key/should-verify-android-keystore-response-from-a-pixel-8a-in-january-202.json',
    at: '2025-02-02T10:00:00Z',
    expect: 'ok',
    google: true,
  },
  {
    file: 'webauthn/simplewebauthn/android-key/should-verify-android-keystore-response-from-a-samsung-galaxy-s9-runni.json',
    at: '2025-07-15T10:00:00Z',
    expect: 'ok',
    google: true,
  },
  {
    file: 'webauthn/simplewebauthn/android-key/should-verify-android-keystore-response-from-fido-conformance-in-2020.json',
    at: '2025-01-26T19:00:00Z',
    expect: 'ok',
    google: false,
  },
  {
    file: 'webauthn/simplewebauthn/verifyRegistrationResponse/should-validate-android-key-response.json',
    at: '2025-01-26T19:00:00Z',
    expect: 'ok',
    google: false,
  },
  {
    file: 'webauthn/fido2-net-lib/attestationAndroidKeyResponse.json',
    at: '2025-01-26T19:00:00Z',
    expect: 'ok',
    google: false,
  },
];

describe.skipIf(!available)('android-key statement on the real vectors', () => {
  for (const c of CASES) {
    it(`${c.file.split('/').slice(1).join('/')}: ${c.expect}`, () => {
      const v = load(c.file);
      expect(v.fmt).toBe('android-key');
      const run = () =>
        androidKeyStatement.verify(v.attStmt, v.authData, v.clientDataHash, { keyCache: cache });
      expect(code(run)).toBe(c.expect);
      if (c.expect !== 'ok') return;
      const r = run();
      expect(r.attestationType).toBe('basic');
      expect(r.leafIsCredential).toBe(true);
      // Real phones: TEE keys generated on device; the FIDO conformance ones are software keys.
      expect(r.claims?.securityLevel).toBe(c.google ? 'tee' : 'software');
      expect(r.claims?.generatedOnDevice).toBe(true);
      expect(r.claims?.keyPurposes).toEqual(['sign']);
      expect(r.quirks).toEqual([]);
      if (c.google) {
        const anchors = GOOGLE_ROOTS.map((p, i) =>
          anchorFromCertificate(pemCerts(p)[0]!, { id: `google-${i + 1}`, formats: 'any' }),
        );
        const path = validatePath(r.trustPath[0]!, {
          anchors,
          intermediates: r.trustPath.slice(1),
          time: Date.parse(c.at),
          cache,
        });
        expect(path.anchor.id).toMatch(/^google-/);
      }
    });
  }
});
