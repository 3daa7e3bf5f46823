/**
 * The enrollment protocol, independent of HTTP:
 *
 * 1. `createChallenge`: a single-use nonce (32 random bytes) with a short TTL, at most
 *    `maxOpenChallengesPerCode` open per code.
 * 2. `enroll`: outside any transaction, load the challenge (this code's, still open), decode
 *    the CSR, verify it with the live policy bound to the challenge's nonce, and when accepted
 *    build and sign the certificate (crypto never holds a lock). Then one transaction:
 *    consume the challenge (one atomic statement; a loser discards its signed certificate,
 *    which is never stored or returned), mark the code used, insert the enrollment and the
 *    certificate, append the audit event. The answer leaves only after the commit.
 *
 * What writes rows: a CSR that cannot be read, or evidence the verifier finds malformed
 * (codes with HTTP status 400 or 413), writes nothing and leaves the challenge open; evidence
 * that was read and judged (422, 403) is a recorded rejection and consumes the challenge.
 *
 * @example
 * const challenge = await createChallenge(ctx, code);
 * const issued = await enroll(ctx, code, { challengeId: challenge.id, csr: pem });
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CertificateProfile, IssuanceProvenance, IssuedCertificate } from '../ca/types.js';
import { sha256Hex } from '../core/bytes.js';
import type { Clock } from '../core/clock.js';
import { ERROR_CODES, type ErrorCode, fail, ProvenanceError } from '../core/errors.js';
import type { EvidenceInput } from '../formats/types.js';
import type { Certificate } from '../pki/certificate.js';
import type {
  CertificateRecord,
  ChallengeRecord,
  EnrollmentCodeRecord,
  EnrollmentRecord,
  Store,
} from '../store/types.js';
import type { RevocationCache } from '../trust/revocation/cache.js';
import { revocationSettings } from '../trust/revocation/stage.js';
import { decodeEvidence } from '../verify/input.js';
import type { Verdict } from '../verify/verifier.js';
import type { EnrollmentSettings } from './config.js';
import type { ServiceMetrics } from './metrics.js';
import { minimiseVerdict, policyInputRecord } from './minimise.js';
import type { PolicyHolder } from './policy-holder.js';
import type { ServiceCa } from './service-ca.js';
import { boundKeysForEvidence } from './tpm.js';

/** Bytes of a challenge nonce (the native format accepts 8 to 64). */
export const CHALLENGE_NONCE_BYTES = 32;

/** What the protocol needs. */
export interface EnrollmentContext {
  readonly store: Store;
  readonly ca: ServiceCa;
  readonly policies: PolicyHolder;
  readonly profiles: ReadonlyMap<string, CertificateProfile>;
  readonly settings: EnrollmentSettings;
  readonly clock: Clock;
  readonly metrics: ServiceMetrics;
  /**
   * Fetched revocation data (the verifier's provider): fetched here, bounded by its timeout,
   * when a validated path needs data it does not hold yet. Absent: only the policy's files.
   */
  readonly revocation?: Pick<RevocationCache, 'prefetch'>;
}

/** A successful enrollment. */
export interface EnrollmentResult {
  readonly enrollmentId: string;
  readonly certificate: IssuedCertificate;
  readonly verdict: Verdict;
}

/**
 * Open a challenge for `code`. CHALLENGE_LIMIT when the code holds too many open ones.
 *
 * @example
 * const { id, nonce, expiresAt } = await createChallenge(ctx, code);
 */
export async function createChallenge(
  ctx: EnrollmentContext,
  code: EnrollmentCodeRecord,
): Promise<ChallengeRecord> {
  const now = ctx.clock();
  const record: ChallengeRecord = {
    id: randomUUID(),
    codeId: code.id,
    nonce: new Uint8Array(randomBytes(CHALLENGE_NONCE_BYTES)),
    createdAt: now,
    expiresAt: now + ctx.settings.challengeTtlSeconds * 1000,
    consumedAt: null,
  };
  // Count and create in one transaction, so concurrent requests cannot both take the last slot
  // (on SQLite transactions are serialised; on PostgreSQL the limit may be passed by a few).
  await ctx.store.transaction(async (tx) => {
    const open = await tx.challenges.countOpen(code.id, now);
    if (open >= ctx.settings.maxOpenChallengesPerCode)
      fail(
        'CHALLENGE_LIMIT',
        `this enrollment code already has ${open} open challenges: use one, or wait for them to expire`,
        { limit: ctx.settings.maxOpenChallengesPerCode },
      );
    await tx.challenges.create(record);
  });
  return record;
}

/**
 * Verify a CSR against a challenge and, when the policy accepts it, issue and record the
 * certificate. A rejection throws a ProvenanceError whose code is the verdict's, with
 * `details.verdict` (and `details.enrollmentId` when recorded).
 */
export async function enroll(
  ctx: EnrollmentContext,
  code: EnrollmentCodeRecord,
  body: { readonly challengeId: string; readonly csr: string },
): Promise<EnrollmentResult> {
  const now = ctx.clock();
  const live = ctx.policies.get();
  if (live === null)
    fail(
      'TRUST_NO_ANCHORS',
      'the service has no policy loaded: no enrollment can be accepted (failing closed)',
    );
  const profile = ctx.profiles.get(code.profile);
  if (profile === undefined)
    fail(
      'PROFILE_UNKNOWN',
      `the enrollment code names the profile "${code.profile}", which is not configured`,
    );

  // 2a. The challenge must be this code's and still open (checked again, atomically, in 2b).
  const challenge = await ctx.store.challenges.get(body.challengeId);
  if (
    challenge === null ||
    challenge.codeId !== code.id ||
    challenge.consumedAt !== null ||
    challenge.expiresAt <= now
  )
    fail(
      'CHALLENGE_INVALID',
      'the challenge is unknown, used, expired or belongs to another code: get a new one',
    );

  const evidence = decodeCsr(ctx, body.csr);
  // TPM evidence: the AKs this code bound by credential activation (docs/tpm-activation.md).
  const boundKeys = await boundKeysForEvidence(ctx.store, code.id, evidence);
  const expectations = { nonce: challenge.nonce, at: now, ...(boundKeys === undefined ? {} : { boundKeys }) };
  const started = performance.now();
  let verdict = live.verifier.verify(evidence, expectations);
  ctx.metrics.verification((performance.now() - started) / 1000);
  const missing = ctx.revocation ? missingRevocationData(verdict, evidence) : null;
  if (ctx.revocation && missing) {
    // Revocation data the path needs is not cached yet (a first-seen distribution point, a
    // status list whose last fetch failed): fetch it (each request bounded by the cache's
    // timeout) and judge again with the same nonce and instant. Only certificates of a path
    // that already validated to an anchor are fetched for, so a client cannot make the service
    // fetch URLs of its choosing (SSRF) with certificates nobody trusts.
    await ctx.revocation.prefetch(missing.certificates, revocationSettings(live.policy, missing.anchorId));
    const again = performance.now();
    verdict = live.verifier.verify(evidence, expectations);
    ctx.metrics.verification((performance.now() - again) / 1000);
  }

  if (!verdict.accepted && !isJudgement(verdict.code as ErrorCode)) {
    // The evidence could not be read (400, 413), or the verifier failed (500): nothing was
    // judged, so nothing is recorded and the challenge stays open.
    ctx.metrics.enrollment(verdict.format, 'invalid', verdict.code);
    throw new ProvenanceError(verdict.code as ErrorCode, verdict.message, { verdict });
  }

  // Crypto outside the transaction: build and sign before taking any lock.
  const issued = verdict.accepted
    ? await ctx.ca.issue({
        profile,
        subject: code.subject,
        spki: evidence.csr.spki,
        provenance: issuanceProvenance(verdict, profile),
        now,
      })
    : null;

  const keep = { keepSerial: profile.includeDeviceSerial };
  const enrollmentId = randomUUID();
  const at = ctx.clock();
  const record: EnrollmentRecord = {
    id: enrollmentId,
    codeId: code.id,
    challengeId: challenge.id,
    customer: code.customer,
    status: issued ? 'issued' : 'rejected',
    code: verdict.code,
    format: verdict.format,
    matchedRule: verdict.matchedRule,
    policyDigest: verdict.policyDigest,
    verdict: minimiseVerdict(verdict, keep),
    policyInput: policyInputRecord(verdict, evidence, live.policy, keep),
    // The CSR carries the device serial: kept only by inventory profiles.
    evidence: profile.includeDeviceSerial && evidence.kind === 'csr' ? evidence.csr.der : null,
    keySpkiSha256: verdict.path[0]?.spkiSha256 ?? null,
    certificateSerial: issued?.serial ?? null,
    createdAt: at,
  };

  // 2b. One transaction: every state change of this enrollment, or none.
  await ctx.store.transaction(async (tx) => {
    // The nonce is single use: exactly one request consumes it (one atomic statement).
    const consumed = await tx.challenges.consume(challenge.id, code.id, at);
    if (consumed === null)
      fail('CHALLENGE_INVALID', 'the challenge was used or expired meanwhile: get a new one');
    if (issued) {
      if (!(await tx.codes.markUsed(code.id, at)))
        fail('ENROLLMENT_CODE_USED', 'this enrollment code was used for a certificate meanwhile');
      await tx.enrollments.insert(record);
      await tx.certificates.insert(certificateRecord(issued, enrollmentId, profile, evidence));
      await tx.audit.append({
        event: 'enrollment.issued',
        actor: `code:${code.id}`,
        subject: `enrollment:${enrollmentId}`,
        data: {
          customer: code.customer,
          serial: issued.serial,
          profile: profile.id,
          format: verdict.format,
          rule: verdict.matchedRule,
          policyDigest: verdict.policyDigest,
          keySpkiSha256: record.keySpkiSha256,
        },
        at,
      });
    } else {
      await tx.enrollments.insert(record);
      await tx.audit.append({
        event: 'enrollment.rejected',
        actor: `code:${code.id}`,
        subject: `enrollment:${enrollmentId}`,
        data: {
          customer: code.customer,
          code: verdict.code,
          format: verdict.format,
          policyDigest: verdict.policyDigest,
          keySpkiSha256: record.keySpkiSha256,
        },
        at,
      });
    }
  });

  // 2c. Committed: now, and only now, answer.
  ctx.metrics.enrollment(verdict.format, issued ? 'issued' : 'rejected', verdict.code);
  if (!issued)
    throw new ProvenanceError(verdict.code as ErrorCode, verdict.message, { verdict, enrollmentId });
  return { enrollmentId, certificate: issued, verdict };
}

/**
 * The validated path's certificates and anchor when the verdict says revocation data was
 * unavailable for it (REVOCATION_UNAVAILABLE: an error under `require`, a warning under
 * `best-effort`); null otherwise. The certificates are the CSR bundle's that are in the
 * validated path (matched by SPKI SHA-256), never the others.
 */
function missingRevocationData(
  verdict: Verdict,
  evidence: Extract<EvidenceInput, { kind: 'csr' }>,
): { certificates: Certificate[]; anchorId: string } | null {
  if (verdict.path.length === 0) return null;
  const finding = verdict.findings.find(
    (f) => f.check === 'revocation' && f.code === 'REVOCATION_UNAVAILABLE',
  );
  const anchorId = finding?.detail?.['anchor'];
  if (typeof anchorId !== 'string') return null;
  const inPath = new Set(verdict.path.map((e) => e.certificateSha256));
  const certificates = evidence.certificates.filter((c) => inPath.has(c.fingerprintSha256));
  return { certificates, anchorId };
}

/**
 * A refusal of evidence that was read and judged: 422 (a check failed: signature, nonce, path)
 * or 403 (the policy said no). These are recorded; malformed input and our own failures are not.
 */
function isJudgement(code: ErrorCode): boolean {
  const status = ERROR_CODES[code].status;
  return status === 422 || status === 403;
}

/** Decode the submitted PEM; it must hold a certification request. Nothing is recorded on failure. */
function decodeCsr(ctx: EnrollmentContext, pem: string): Extract<EvidenceInput, { kind: 'csr' }> {
  let evidence: EvidenceInput;
  try {
    evidence = decodeEvidence(new TextEncoder().encode(pem));
  } catch (err) {
    const code = err instanceof ProvenanceError ? err.code : 'INTERNAL';
    ctx.metrics.enrollment(null, 'invalid', code);
    throw err;
  }
  if (evidence.kind !== 'csr') {
    ctx.metrics.enrollment(null, 'invalid', 'INPUT_UNRECOGNIZED');
    fail('INPUT_UNRECOGNIZED', 'the csr field holds no CERTIFICATE REQUEST block');
  }
  return evidence;
}

/** Why this key was accepted, as the certificate's provenance summary records it. */
export function issuanceProvenance(verdict: Verdict, profile: CertificateProfile): IssuanceProvenance {
  const pathFinding = verdict.findings.find((f) => f.check === 'path' && f.ok);
  const anchorSpki = pathFinding?.detail?.['anchorSpkiSha256'];
  const anchorSpkiSha256 =
    typeof anchorSpki === 'string' ? anchorSpki : verdict.path[verdict.path.length - 1]!.spkiSha256;
  const serial = verdict.claims?.serial;
  return {
    ruleId: verdict.matchedRule ?? 'trusted-anchor',
    level: verdict.level ?? 1,
    format: verdict.format ?? 'unknown',
    anchorSpkiSha256,
    policyDigest: verdict.policyDigest,
    ...(profile.includeDeviceSerial && typeof serial === 'string' ? { deviceSerial: serial } : {}),
  };
}

function certificateRecord(
  issued: IssuedCertificate,
  enrollmentId: string,
  profile: CertificateProfile,
  evidence: Extract<EvidenceInput, { kind: 'csr' }>,
): CertificateRecord {
  return {
    serial: issued.serial,
    enrollmentId,
    subject: issued.subject,
    profile: profile.id,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    der: issued.der,
    spkiSha256: sha256Hex(evidence.csr.spki),
    status: 'good',
    revokedAt: null,
    revocationReason: null,
  };
}
