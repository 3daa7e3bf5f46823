/**
 * Fixtures for the issuing CA tests: temporary directories, a fixed clock, a CA made with the
 * repository's own `initCa`, leaf keys from Node's crypto, and a request builder.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CaAlgorithm, initCa, type OpenedCa } from '../../src/ca/directory.js';
import { parseProfiles } from '../../src/ca/profiles.js';
import type { CertificateProfile, IssuanceProvenance, IssueRequest } from '../../src/ca/types.js';

/** A fixed "now": 2026-03-01T12:00:00Z. */
export const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
export const DAY = 86_400_000;
export const PASSPHRASE = 'correct horse battery staple';

/** A fresh temporary directory per call; `cleanup()` removes them all. */
export function tempDirs(): { make(): Promise<string>; cleanup(): Promise<void> } {
  const made: string[] = [];
  return {
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'provenance-ca-'));
      made.push(dir);
      return dir;
    },
    async cleanup() {
      await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** A new CA in `<dir>/ca`, made a day before NOW (so issuance at NOW is backdated 5 minutes freely). */
export async function makeCa(
  dir: string,
  options: { alg?: CaAlgorithm; passphrase?: string | null; at?: number; validityYears?: number } = {},
): Promise<OpenedCa> {
  return initCa(join(dir, 'ca'), {
    name: 'Example Bank Issuing CA',
    alg: options.alg ?? 'p256',
    passphrase: options.passphrase ?? null,
    clock: () => options.at ?? NOW - DAY,
    ...(options.validityYears === undefined ? {} : { validityYears: options.validityYears }),
  });
}

/** A leaf key pair of the given kind. */
export function leafKey(kind: 'p256' | 'p384' | 'ed25519' | 'rsa2048' = 'p256'): {
  privateKey: KeyObject;
  spki: Uint8Array;
} {
  const pair =
    kind === 'p256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : kind === 'p384'
        ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
        : kind === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: pair.privateKey,
    spki: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
  };
}

/** The default profile with a CRL URL, overridden field by field. */
export function profile(overrides: Partial<CertificateProfile> = {}): CertificateProfile {
  const [base] = parseProfiles(undefined, { publicUrl: 'https://pki.example.com' });
  return { ...base!, ...overrides };
}

export const ANCHOR_SPKI_SHA256 = 'ab'.repeat(32);
export const POLICY_DIGEST = 'cd'.repeat(32);

/** Provenance of an accepted key. */
export function provenance(overrides: Partial<IssuanceProvenance> = {}): IssuanceProvenance {
  return {
    ruleId: 'gemalto-cards',
    level: 2,
    format: 'provenance',
    anchorSpkiSha256: ANCHOR_SPKI_SHA256,
    policyDigest: POLICY_DIGEST,
    deviceSerial: 'TOKEN-0042',
    ...overrides,
  };
}

/** An issue request for `ca` at NOW. */
export function request(ca: OpenedCa, overrides: Partial<IssueRequest> = {}): IssueRequest {
  return {
    ca,
    profile: profile(),
    subject: 'CN=Alice Example,O=Example Bank Customers',
    spki: leafKey().spki,
    provenance: provenance(),
    now: NOW,
    ...overrides,
  };
}
