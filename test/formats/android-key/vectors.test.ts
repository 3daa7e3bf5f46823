/**
 * Real Android Key Attestation chains from ../shared/vectors/android-key (MANIFEST.md §3), read
 * in place, through createVerifier under a policy trusting the Google roots for 'android-key'
 * with the sample status list: every device chain verifies at its pinned time with the right
 * claims and only the documented quirks, or fails with its documented reason (software roots,
 * edited leaf, ML-DSA leaf key).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { androidKeyFormat } from '../../../src/formats/android-key/index.js';
import type { EvidenceInput } from '../../../src/formats/types.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import {
  ANDROID,
  available,
  deviceChains,
  KA,
  manifestTime,
  pemCerts,
  readJsonc,
  requireVectors,
} from './vectors.js';

requireVectors('Android vector verification');

/** The four certificates of the one Google RSA root key (2016, 2019, 2021, 2022). */
const RSA_ROOTS = [1, 2, 3, 4].map((n) =>
  join(ANDROID, 'simplewebauthn', `Google_Hardware_Attestation_Root_${n}.pem`),
);
const EC_ROOT = join(ANDROID, 'smallstep-certificates', 'google-key-attestation-ca1-ec-p384-2025.pem');
const STATUS = join(ANDROID, 'google-android-key-attestation', 'status.json');

function policyText(status = STATUS, extraTrust = ''): string {
  return `version: 1
trust:
  - id: google-hardware-attestation-rsa
    certificates: [${RSA_ROOTS.map((r) => JSON.stringify(r)).join(', ')}]
    formats: [android-key]
    statusList: ${JSON.stringify(status)}
  - id: google-key-attestation-ca1
    certificates: [${JSON.stringify(EC_ROOT)}]
    formats: [android-key]
    statusList: ${JSON.stringify(status)}
${extraTrust}`;
}

const policy = (text = policyText()) => parsePolicy(text, { source: 'android.yaml', baseDir: ANDROID });
const verifier = (text?: string) => createVerifier({ policy: policy(text), formats: [androidKeyFormat] });
const input = (rel: string): EvidenceInput => ({
  kind: 'certificates',
  certificates: pemCerts(join(KA, rel)),
});
const challengeOf = (rel: string) =>
  new Uint8Array(
    Buffer.from(String(readJsonc(join(KA, rel.replace(/\.pem$/, '.json'))).attestationChallenge), 'base64'),
  );

/** Outcomes the MANIFEST documents for chains that must not verify. */
const EXPECTED_FAILURES: Record<string, string> = {
  // 3-certificate chains ending at the AOSP software roots (NOT hardware-backed).
  'marlin/sdk29/TEE_EC_NONE.pem': 'ANDROID_SOFTWARE_ROOT',
  'marlin/sdk29/TEE_RSA_NONE.pem': 'ANDROID_SOFTWARE_ROOT',
  // ML-DSA leaf keys: the path validator's key policy checks the leaf key too, and has no
  // ML-DSA (docs/android.md): a stable refusal, never a crash.
  'tokay/sdk37/TEE_MLDSA_FACTORY.pem': 'ALGORITHM_UNSUPPORTED',
  'tokay/sdk37/TEE_MLDSA_RKP.pem': 'ALGORITHM_UNSUPPORTED',
};

/** Quirks each chain needs (MANIFEST quirks 4-6), by chain. */
const EXPECTED_QUIRKS: Record<string, string[]> = {
  'sony-xperia10-iii/sdk33/TEE_EC.pem': ['android-non-ca-intermediate', 'android-expired-chain'],
};

const tmp = mkdtempSync(join(tmpdir(), 'provenance-android-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!available)('Android device chains through createVerifier', () => {
  for (const rel of deviceChains()) {
    it(`${rel}: ${EXPECTED_FAILURES[rel] ?? 'accepted'} at its pinned time`, () => {
      const at = manifestTime(rel);
      expect(at, 'MANIFEST pins a time').toBeDefined();
      const verdict = verifier().verify(input(rel), { at: at!, nonce: challengeOf(rel) });
      const expected = EXPECTED_FAILURES[rel];
      if (expected) {
        expect(verdict.code).toBe(expected);
        return;
      }
      expect(verdict.code, verdict.message).toBe('ACCEPTED');
      const json = readJsonc(join(KA, rel.replace(/\.pem$/, '.json')));
      const level = String(json.attestationSecurityLevel);
      expect(verdict.claims?.securityLevel).toBe(
        level === 'STRONG_BOX' ? 'secure-element' : level === 'SOFTWARE' ? 'software' : 'tee',
      );
      const hw = json.hardwareEnforced as Record<string, unknown>;
      const rot = hw.rootOfTrust as Record<string, unknown> | undefined;
      if (rot) {
        const claimed = verdict.claims?.rootOfTrust as Record<string, unknown>;
        expect(claimed.deviceLocked).toBe(rot.deviceLocked);
        expect(String(claimed.verifiedBootState).toUpperCase().replace('-', '_')).toBe(rot.verifiedBootState);
      }
      expect(verdict.claims?.generatedOnDevice).toBe(hw.origin === 'GENERATED');
      // RKP chains pass through Google's "Droid CA" intermediates; factory chains do not.
      const rkp = pemCerts(join(KA, rel)).some((c) => c.subject.text.includes('Droid CA'));
      expect(verdict.claims?.provisioning).toBe(rkp ? 'rkp' : 'factory');
      expect(verdict.freshness).toBe('nonce');
      const quirkIds = [...new Set(verdict.quirks?.map((q) => q.id))].sort();
      expect(quirkIds).toEqual([...(EXPECTED_QUIRKS[rel] ?? [])].sort());
    });
  }
});
