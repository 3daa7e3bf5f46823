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
import { anchorFromCertificate } from '../../../src/pki/anchor.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
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
};

/** Quirks each chain needs (MANIFEST quirks 4-6), by chain. */
const EXPECTED_QUIRKS: Record<string, string[]> = {
  'sony-xperia10-iii/sdk33/TEE_EC.pem': ['android-non-ca-intermediate', 'android-expired-chain'],
  // ML-DSA leaf keys: the format verifies the attestation certificate, the path starts above it.
  'tokay/sdk37/TEE_MLDSA_FACTORY.pem': ['android-ml-dsa-attested-key'],
  'tokay/sdk37/TEE_MLDSA_RKP.pem': ['android-ml-dsa-attested-key'],
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

const GAKA = join(ANDROID, 'google-android-key-attestation');
const gakaChain = (dir: string): EvidenceInput => ({
  kind: 'certificates',
  certificates: [0, 1, 2, 3].flatMap((i) => pemCerts(join(GAKA, dir, `cert${i}.pem`))),
});
/** MANIFEST: `openssl verify -attime 1570000000`; attestationChallenge "abc". */
const GAKA_AT = 1_570_000_000_000;
const ABC = new TextEncoder().encode('abc');

describe.skipIf(!available)('Android vectors: quirks, expiry, revocation and documented failures', () => {
  for (const dir of ['algorithm_EC_SecurityLevel_TEE', 'algorithm_RSA_SecurityLevel_TEE']) {
    it(`${dir} verifies with challenge "abc"`, () => {
      const verdict = verifier().verify(gakaChain(dir), { at: GAKA_AT, nonce: ABC });
      expect(verdict.code, verdict.message).toBe('ACCEPTED');
      expect(verdict.claims?.securityLevel).toBe('tee');
    });
  }

  // The StrongBox chains end at serialNumber=e35d38c6897d47e8, not at the Google root the
  // MANIFEST names: under the Google anchors there is no path.
  // The EC StrongBox leaf names cert2 as its issuer but is not signed by cert2's key: the leaf
  // signature fails first (OpenSSL: "certificate signature failure").
  for (const [dir, code] of [
    ['algorithm_EC_SecurityLevel_StrongBox', 'PATH_SIGNATURE_INVALID'],
    ['algorithm_RSA_SecurityLevel_StrongBox', 'PATH_NOT_FOUND'],
  ] as const) {
    it(`${dir} does not verify under the Google roots (${code})`, () => {
      expect(verifier().verify(gakaChain(dir), { at: GAKA_AT, nonce: ABC }).code).toBe(code);
    });
  }

  it('StrongBox under its own root: RSA accepted; the EC leaf (NULL parameters, issuer named wrongly) refused', () => {
    const root = join(GAKA, 'algorithm_RSA_SecurityLevel_StrongBox', 'cert3.pem');
    const text = `version: 1\ntrust:\n  - id: strongbox-2018\n    certificates: [${JSON.stringify(root)}]\n    formats: [android-key]\n`;
    const rsa = verifier(text).verify(gakaChain('algorithm_RSA_SecurityLevel_StrongBox'), {
      at: GAKA_AT,
      nonce: ABC,
    });
    expect(rsa.code, rsa.message).toBe('ACCEPTED');
    expect(rsa.claims?.securityLevel).toBe('secure-element');
    const ec = verifier(text).verify(gakaChain('algorithm_EC_SecurityLevel_StrongBox'), {
      at: GAKA_AT,
      nonce: ABC,
    });
    expect(ec.code).toBe('PATH_SIGNATURE_INVALID');
  });

  it('accepts an expired factory chain today under the Google root, reporting android-expired-chain', () => {
    const rel = 'blueline/sdk28/TEE_EC_NONE.pem';
    const verdict = verifier().verify(input(rel), { at: Date.UTC(2026, 10, 30), nonce: challengeOf(rel) });
    expect(verdict.code, verdict.message).toBe('ACCEPTED');
    expect(verdict.quirks?.some((q) => q.id === 'android-expired-chain')).toBe(true);
  });

  it('scopes the quirks by key: the Google root under an operator-chosen id still gets them', () => {
    const [, , , root] = pemCerts(join(KA, 'blueline/sdk28/TEE_EC_NONE.pem'));
    const file = join(tmp, 'self-root.pem');
    writeFileSync(
      file,
      `-----BEGIN CERTIFICATE-----\n${Buffer.from(root!.der).toString('base64')}\n-----END CERTIFICATE-----\n`,
    );
    // The same key under an operator-chosen id still is a Google key: scope is by key, not id.
    const text = `version: 1\ntrust:\n  - id: my-android-root\n    certificates: [${JSON.stringify(file)}]\n    formats: [android-key]\n`;
    const rel = 'blueline/sdk28/TEE_EC_NONE.pem';
    const verdict = verifier(text).verify(input(rel), {
      at: Date.UTC(2026, 10, 30),
      nonce: challengeOf(rel),
    });
    expect(verdict.code, verdict.message).toBe('ACCEPTED');
  });

  it('rejects a wrong challenge with NONCE_MISMATCH', () => {
    const rel = 'caiman/sdk36/TEE_EC_RKP.pem';
    const verdict = verifier().verify(input(rel), { at: manifestTime(rel)!, nonce: new Uint8Array(36) });
    expect(verdict.code).toBe('NONCE_MISMATCH');
  });

  it('rejects a chain whose intermediate serial the status list revokes (CERT_REVOKED)', () => {
    const rel = 'caiman/sdk36/TEE_EC_RKP.pem';
    const [, attestationKeyCert] = pemCerts(join(KA, rel));
    const list = join(tmp, 'status-revoked.json');
    writeFileSync(
      list,
      JSON.stringify({
        entries: {
          [attestationKeyCert!.serialHex.replace(/^0+/, '')]: { status: 'REVOKED', reason: 'KEY_COMPROMISE' },
        },
      }),
    );
    const verdict = verifier(policyText(list)).verify(input(rel), {
      at: manifestTime(rel)!,
      nonce: challengeOf(rel),
    });
    expect(verdict.code).toBe('CERT_REVOKED');
  });

  it('treats SUSPENDED like REVOKED (the status.json test certificate)', () => {
    const [suspended] = pemCerts(join(GAKA, 'test-cert-suspended.pem'));
    const list = JSON.parse(readFileSync(STATUS, 'utf8')) as { entries: Record<string, { status: string }> };
    expect(list.entries[suspended!.serialHex.replace(/^0+/, '')]?.status).toBe('SUSPENDED');
  });

  it('refuses software-rooted chains even when an operator trusts the software root', () => {
    const roots = pemCerts(join(KA, 'software-roots.pem'));
    const file = join(tmp, 'software-roots.pem');
    writeFileSync(
      file,
      roots
        .map(
          (r) =>
            `-----BEGIN CERTIFICATE-----\n${Buffer.from(r.der).toString('base64')}\n-----END CERTIFICATE-----\n`,
        )
        .join(''),
    );
    const text = policyText(
      STATUS,
      `  - id: aosp-software\n    certificates: [${JSON.stringify(file)}]\n    formats: [android-key]\n`,
    );
    // First defence: a policy file naming a never-trust key does not load.
    let loadError: unknown;
    try {
      policy(text);
    } catch (err) {
      loadError = err;
    }
    expect((loadError as { code?: string }).code).toBe('CATALOG_NEVER_TRUST');
    // Second defence: a policy built in code with those anchors still gets no software-rooted chain.
    const base = policy();
    const trusting = {
      ...base,
      anchors: [
        ...base.anchors,
        ...roots.map((r) => anchorFromCertificate(r, { id: 'aosp-software', formats: ['android-key'] })),
      ],
    };
    const lenient = createVerifier({ policy: trusting, formats: [androidKeyFormat] });
    for (const rel of ['marlin/sdk29/TEE_EC_NONE.pem', 'marlin/sdk29/TEE_RSA_NONE.pem']) {
      const full = lenient.verify(input(rel), { at: manifestTime(rel)!, nonce: challengeOf(rel) });
      expect(full.code).toBe('ANDROID_SOFTWARE_ROOT');
      // Without the root in the evidence, the issuer name of its child still gives it away.
      const certs = pemCerts(join(KA, rel)).slice(0, 2);
      const partial = lenient.verify(
        { kind: 'certificates', certificates: certs },
        { at: manifestTime(rel)! },
      );
      expect(partial.code).toBe('ANDROID_SOFTWARE_ROOT');
    }
  });

  it('rejects the edited leaf with tags out of order: SIGNATURE_INVALID', () => {
    const verdict = verifier().verify(input('invalid/tags_not_in_ascending_order.pem'), {
      at: Date.UTC(2024, 0, 1),
    });
    expect(verdict.code).toBe('SIGNATURE_INVALID');
    expect(verdict.message).toContain('out of order');
  });

  it('rejects the malformed RootOfTrust.deviceLocked encoding: ATTESTATION_MALFORMED', () => {
    const verdict = verifier().verify(input('invalid/malformed_rot_device_locked.pem'), {
      at: Date.UTC(2024, 0, 1),
    });
    expect(verdict.code).toBe('ATTESTATION_MALFORMED');
  });

  it('accepts ML-DSA attested keys end to end: the key is described, the path starts at its issuer', () => {
    for (const rel of ['tokay/sdk37/TEE_MLDSA_FACTORY.pem', 'tokay/sdk37/TEE_MLDSA_RKP.pem']) {
      const verdict = verifier().verify(input(rel), { at: manifestTime(rel)!, nonce: challengeOf(rel) });
      expect(verdict.code, verdict.message).toBe('ACCEPTED');
      expect(String(verdict.claims?.keyAlgorithm)).toMatch(/^ml-dsa-(44|65|87)$/);
      expect(verdict.path?.[0]).toMatchObject({ position: 0, role: 'attested-key', subject: null });
      expect(verdict.path?.[1]?.subject).toMatch(/TEE/);
    }
  });

  it('an edited ML-DSA attestation certificate fails its signature (PATH_SIGNATURE_INVALID)', () => {
    const rel = 'tokay/sdk37/TEE_MLDSA_RKP.pem';
    const certs = pemCerts(join(KA, rel));
    const der = Uint8Array.from(certs[0]!.der);
    der[der.length - 10]! ^= 0x01; // inside the signature value
    const edited = parseCertificate(der);
    const verdict = verifier().verify(
      { kind: 'certificates', certificates: [edited, ...certs.slice(1)] },
      { at: manifestTime(rel)!, nonce: challengeOf(rel) },
    );
    expect(verdict.code).toBe('PATH_SIGNATURE_INVALID');
  });

  it('reports ID attestation fields as display claims', () => {
    const rel = 'akita/sdk34/TEE_RSA_BASE+IMEI.pem';
    const verdict = verifier().verify(input(rel), { at: manifestTime(rel)!, nonce: challengeOf(rel) });
    expect(verdict.code, verdict.message).toBe('ACCEPTED');
    expect(verdict.claims?.model).toBe('Pixel 8a');
    expect(verdict.claims?.deviceIds).toMatchObject({ brand: 'google', imei: '351163520096208' });
    expect(verdict.claims?.application).toEqual({
      packages: [{ name: 'AndroidSystem', version: '1' }],
      signingCertificateSha256: [],
    });
  });
});
