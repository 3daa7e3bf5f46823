/**
 * Record builders for store tests: valid records with random ids and secrets, overridable.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type {
  AdminTokenRecord,
  CertificateRecord,
  ChallengeRecord,
  EnrollmentCodeRecord,
  EnrollmentRecord,
  Store,
  StoreRepositories,
} from '../../src/store/index.js';

/** A fixed "now" for store tests (2025-01-01T00:00:00Z). */
export const T0 = Date.parse('2025-01-01T00:00:00Z');
export const MINUTE = 60_000;

export function hash(text: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(text).digest());
}

export function adminToken(overrides: Partial<AdminTokenRecord> = {}): AdminTokenRecord {
  return {
    id: randomUUID(),
    name: 'bootstrap',
    tokenHash: hash(`pvat_${randomUUID()}`),
    scopes: ['codes:write', 'codes:read'],
    createdAt: T0,
    revokedAt: null,
    ...overrides,
  };
}

export function enrollmentCode(overrides: Partial<EnrollmentCodeRecord> = {}): EnrollmentCodeRecord {
  return {
    id: randomUUID(),
    codeHash: hash(randomBytes(24).toString('base64url')),
    customer: 'acme',
    subject: 'CN=Alice,O=Acme',
    profile: 'default',
    createdAt: T0,
    expiresAt: T0 + 7 * 24 * 60 * MINUTE,
    usedAt: null,
    createdBy: 'admin-1',
    ...overrides,
  };
}

export function challenge(codeId: string, overrides: Partial<ChallengeRecord> = {}): ChallengeRecord {
  return {
    id: randomUUID(),
    codeId,
    nonce: new Uint8Array(randomBytes(32)),
    createdAt: T0,
    expiresAt: T0 + 5 * MINUTE,
    consumedAt: null,
    ...overrides,
  };
}

/** A random 16-byte positive serial in the store's spelling. */
export function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f || 0x01;
  return bytes.toString('hex');
}

export function enrollment(
  codeId: string,
  challengeId: string,
  overrides: Partial<EnrollmentRecord> = {},
): EnrollmentRecord {
  return {
    id: randomUUID(),
    codeId,
    challengeId,
    customer: 'acme',
    status: 'rejected',
    code: 'POLICY_NO_MATCH',
    format: 'provenance',
    matchedRule: null,
    policyDigest: 'ab'.repeat(32),
    verdict: { accepted: false, code: 'POLICY_NO_MATCH', findings: [{ code: 'PATH', ok: true }] },
    policyInput: { format: 'provenance', claims: { serialSha256: 'cd'.repeat(32) } },
    evidence: null,
    keySpkiSha256: 'ef'.repeat(32),
    certificateSerial: null,
    createdAt: T0,
    ...overrides,
  };
}

export function certificate(
  enrollmentId: string,
  overrides: Partial<CertificateRecord> = {},
): CertificateRecord {
  return {
    serial: serial(),
    enrollmentId,
    subject: 'CN=Alice,O=Acme',
    profile: 'default',
    notBefore: T0 - 5 * MINUTE,
    notAfter: T0 + 365 * 24 * 60 * MINUTE,
    der: new Uint8Array(randomBytes(300)),
    spkiSha256: 'ef'.repeat(32),
    status: 'good',
    revokedAt: null,
    revocationReason: null,
    ...overrides,
  };
}

/** A code with one open challenge, stored. */
export async function codeWithChallenge(
  store: StoreRepositories,
  codeOverrides: Partial<EnrollmentCodeRecord> = {},
): Promise<{ code: EnrollmentCodeRecord; challenge: ChallengeRecord }> {
  const code = enrollmentCode(codeOverrides);
  await store.codes.create(code);
  const ch = challenge(code.id);
  await store.challenges.create(ch);
  return { code, challenge: ch };
}

/** An issued enrollment with its certificate, written the way the service does: one transaction. */
export async function issue(
  store: Store,
  overrides: { enrollment?: Partial<EnrollmentRecord>; certificate?: Partial<CertificateRecord> } = {},
): Promise<{ enrollment: EnrollmentRecord; certificate: CertificateRecord }> {
  const { code, challenge: ch } = await codeWithChallenge(store);
  const e = enrollment(code.id, ch.id, { status: 'issued', code: 'ACCEPTED', ...overrides.enrollment });
  const c = certificate(e.id, overrides.certificate);
  const issued = { ...e, certificateSerial: c.serial };
  await store.transaction(async (tx) => {
    await tx.certificates.insert(c);
    await tx.enrollments.insert(issued);
  });
  return { enrollment: issued, certificate: c };
}
