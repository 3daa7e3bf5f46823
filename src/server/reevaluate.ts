/**
 * Re-evaluation after a compromise (issue #4 §4): run the current policy over the stored
 * policy input of every enrollment whose certificate is still good, list the certificates
 * whose keys the policy would now reject (a model denied, a batch key revoked, a firmware
 * range added), and optionally revoke them in bulk.
 *
 * Only what the policy stage saw is re-run (the stored `policyInput`, as the dry run does):
 * the raw evidence is not kept, so checks before the policy stage (signatures, the nonce)
 * are not repeated; they cannot change after issuance anyway.
 *
 * Revocation is per certificate, each in its own transaction with its `certificate.revoked`
 * audit record (as the revoke route does), so a failure half-way leaves every revocation
 * made so far audited; one `reevaluation.run` record then sums up the run. Running it again
 * is harmless: revoked certificates are no longer "good", so they are not listed twice.
 *
 * @example
 * const report = await reevaluate({ store, policy, clock, actor: 'admin:1234', revoke: true, reason: 'keyCompromise' });
 * report.wouldReject   // [{ enrollmentId, serial, before: { code: 'ACCEPTED', … }, after: { code: 'POLICY_DENIED', … } }]
 * crls.invalidate();   // the caller's CRL publisher: the next GET /api/v1/crl lists them
 */
import { REVOCATION_REASONS } from '../ca/crl.js';
import type { Clock } from '../core/clock.js';
import { fail, ProvenanceError } from '../core/errors.js';
import type { CrlReason } from '../pki/crl.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import type { Policy } from '../policy/model.js';
import type { PolicyDecision, PolicyInput } from '../policy/types.js';
import type { EnrollmentRecord, Store } from '../store/types.js';
import { isListProblem, type TokenListSet } from '../trust/lists/types.js';
import { type DecisionSummary, reevaluateEnrollment } from './dry-run.js';

/** Store page size while walking enrollments (the store clamps pages to 100). */
const PAGE = 100;

/** Evaluates a policy over one input: `evaluatePolicy`, or one bound to extra context (lists). */
export type PolicyEvaluator = (policy: Policy, input: PolicyInput) => PolicyDecision;

/** Options of `reevaluate`. */
export interface ReevaluateOptions {
  readonly store: Pick<Store, 'enrollments' | 'certificates' | 'audit' | 'transaction'>;
  /** The policy to judge by (the live one, or the file an operator names). */
  readonly policy: Policy;
  readonly clock: Clock;
  /** Who runs it, for the audit log: 'admin:<token id>', 'cli:<user>', 'system'. */
  readonly actor: string;
  /**
   * The signed token lists the policy names (`policy.lists`), as the caller loaded them. Each
   * must be usable (a stale one only under the policy's `allowStale`), else LIST_* is thrown.
   */
  readonly lists?: TokenListSet;
  /** Evaluate otherwise (tests); default `evaluatePolicy` with `lists` at the current time. */
  readonly evaluate?: PolicyEvaluator;
  /** Examine at most this many issued enrollments, newest first (default: all). */
  readonly limit?: number;
  /** Revoke every certificate listed (default false: report only). */
  readonly revoke?: boolean;
  /** RFC 5280 §5.3.1 reason for the revocations (default keyCompromise). */
  readonly reason?: CrlReason;
}

/** A certificate whose key the policy would now reject. */
export interface WouldReject {
  readonly enrollmentId: string;
  readonly serial: string;
  readonly customer: string;
  readonly subject: string;
  /** SHA-256 of the certified key's SPKI. */
  readonly keySpkiSha256: string;
  /** The decision on record at issuance. */
  readonly before: DecisionSummary;
  /** The decision now. */
  readonly after: DecisionSummary;
  /** Why, in words: the first failed check's message (e.g. "… is on the deny list: <reason>"). */
  readonly why: string;
  /** True when this run revoked it. */
  readonly revoked: boolean;
}

/** What a re-evaluation found (and did). */
export interface ReevaluationReport {
  /** Digest of the policy judged by. */
  readonly policyDigest: string;
  /** Issued enrollments whose certificate is good and unexpired, re-evaluated. */
  readonly evaluated: number;
  /** Issued enrollments not re-evaluated: certificate revoked, expired or missing, or no stored policy input. */
  readonly skipped: number;
  /** True when `limit` stopped the walk before the oldest enrollment. */
  readonly truncated: boolean;
  readonly wouldReject: readonly WouldReject[];
  /** Certificates this run revoked (serials). */
  readonly revoked: readonly string[];
  readonly reason: CrlReason | null;
}

/**
 * Re-run the policy over stored issued enrollments; list (and with `revoke`, revoke) the
 * certificates it would now reject. USAGE for a bad reason or limit.
 *
 * @example
 * const { wouldReject } = await reevaluate({ store, policy, clock: Date.now, actor: 'system' });
 */
export async function reevaluate(options: ReevaluateOptions): Promise<ReevaluationReport> {
  const { store, policy, clock } = options;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 1)) fail('USAGE', `limit must be at least 1 (got ${options.limit})`);
  const reason = options.reason ?? 'keyCompromise';
  if (!REVOCATION_REASONS.includes(reason))
    fail('USAGE', `revocation reason "${reason}" is not one of ${REVOCATION_REASONS.join(', ')}`);
  const now = clock();
  requireUsableLists(policy, options.lists);
  const lists = options.lists;
  const evaluate: PolicyEvaluator =
    options.evaluate ?? ((p, input) => evaluatePolicy(p, input, { ...(lists ? { lists } : {}), at: now }));

  let evaluated = 0;
  let skipped = 0;
  let examined = 0;
  let truncated = false;
  const found: Omit<WouldReject, 'revoked'>[] = [];
  let cursor: string | null = null;
  walk: do {
    const page = await store.enrollments.list({
      status: 'issued',
      limit: PAGE,
      ...(cursor === null ? {} : { cursor }),
    });
    for (const record of page.items) {
      if (examined >= limit) {
        truncated = true;
        break walk;
      }
      examined++;
      const outcome = await judge(record);
      if (outcome === 'skipped') skipped++;
      else {
        evaluated++;
        if (outcome !== null) found.push(outcome);
      }
    }
    cursor = page.next;
  } while (cursor !== null);

  const revoked: string[] = [];
  const summary = () => ({
    evaluated,
    skipped,
    truncated,
    wouldReject: found.length,
    revoke: options.revoke === true,
    revoked: revoked.length,
    ...(options.revoke === true ? { reason } : {}),
  });
  if (options.revoke === true) {
    try {
      for (const item of found) if (await revokeOne(item)) revoked.push(item.serial);
    } catch (err) {
      // Every revocation made so far is committed and audited; say where the run stopped.
      const error = err instanceof Error ? err.message : String(err);
      await store.audit
        .append({
          event: 'reevaluation.run',
          actor: options.actor,
          subject: `policy:${policy.digest}`,
          data: { ...summary(), failed: error },
          at: clock(),
        })
        .catch(() => undefined);
      throw err;
    }
  }
  const revokedSet = new Set(revoked);
  const wouldReject = found.map((item) => ({ ...item, revoked: revokedSet.has(item.serial) }));

  await store.audit.append({
    event: 'reevaluation.run',
    actor: options.actor,
    subject: `policy:${policy.digest}`,
    data: summary(),
    at: clock(),
  });
  return {
    policyDigest: policy.digest,
    evaluated,
    skipped,
    truncated,
    wouldReject,
    revoked,
    reason: options.revoke === true ? reason : null,
  };

  /** Null: still accepted; 'skipped': not a candidate; else the certificate now rejected. */
  async function judge(record: EnrollmentRecord): Promise<Omit<WouldReject, 'revoked'> | null | 'skipped'> {
    if (record.certificateSerial === null) return 'skipped';
    const cert = await store.certificates.get(record.certificateSerial);
    // A revoked certificate is already dealt with; an expired one is no longer relied on
    // (RFC 5280 §3.3: revocation information for it need not be kept).
    if (cert === null || cert.status !== 'good' || cert.notAfter <= now) return 'skipped';
    const outcome = reevaluateEnrollment(policy, record, evaluate);
    // No stored policy input: nothing to re-run (never expected for an issued enrollment).
    if (outcome === null) return 'skipped';
    if (outcome.after.code === 'ACCEPTED') return null;
    return {
      enrollmentId: record.id,
      serial: cert.serial,
      customer: record.customer,
      subject: cert.subject,
      keySpkiSha256: cert.spkiSha256,
      before: outcome.before,
      after: outcome.after,
      why:
        outcome.decision.findings.find((f) => !f.ok && f.code === outcome.after.code)?.message ??
        outcome.decision.findings.find((f) => !f.ok)?.message ??
        outcome.after.code,
    };
  }

  /** Revoke and audit in one transaction; false when it was revoked meanwhile. */
  async function revokeOne(item: Omit<WouldReject, 'revoked'>): Promise<boolean> {
    const at = clock();
    return store.transaction(async (tx) => {
      if (!(await tx.certificates.revoke(item.serial, at, reason))) return false;
      await tx.audit.append({
        event: 'certificate.revoked',
        actor: options.actor,
        subject: `certificate:${item.serial}`,
        data: {
          reason,
          enrollmentId: item.enrollmentId,
          reevaluation: { policyDigest: policy.digest, code: item.after.code, rule: item.after.rule },
        },
        at,
      });
      return true;
    });
  }
}

/**
 * A list the policy names but that is missing, unverifiable or stale makes every decision fail
 * closed. Right for a new enrollment; wrong as grounds to revoke what was issued: re-evaluation
 * refuses to run instead, with the list's own code (docs/token-list.md, "Consuming a list").
 */
function requireUsableLists(policy: Policy, lists: TokenListSet | undefined): void {
  for (const named of policy.lists ?? []) {
    const got = lists?.get(named.id);
    if (got === undefined)
      fail(
        'LIST_UNAVAILABLE',
        `token list "${named.id}" is not loaded: re-evaluation will not judge without it (every certificate would fail closed)`,
        { list: named.id },
      );
    if (!isListProblem(got)) continue;
    if (got.code === 'LIST_STALE' && named.allowStale !== undefined) continue;
    throw new ProvenanceError(
      got.code,
      `token list "${named.id}" cannot be used (${got.message}): re-evaluation will not judge without it`,
      { list: named.id },
    );
  }
}
