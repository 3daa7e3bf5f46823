/**
 * The verifier's revocation stage: every certificate of the validated path is put to the
 * sources configured for the anchor the path ended at, and the statuses become one decision
 * under the anchor's mode (policy `trust[].revocation`):
 *
 * - any source saying revoked or suspended rejects with CERT_REVOKED (in every mode but `off`);
 * - `require`: each checkable certificate needs a 'good' from some source; data that is
 *   missing, unreachable, out of date or fails its signature rejects with REVOCATION_UNAVAILABLE;
 * - `best-effort`: the same gaps become warning findings and the path is accepted;
 * - `off`: nothing is checked; an info finding says so.
 *
 * Not checkable (no status needed, though a 'revoked' from a source still counts): the anchor's
 * own certificate (RFC 5280 §6.1: an anchor is trusted as configured) and the key certificate
 * a token issued itself (a token publishes no CRL; revoking its attestation certificate, which
 * is checked, covers every key it vouched for).
 *
 * @example
 * const outcome = checkRevocation({ certificates, mode: 'require', sources, time, anchorId: 'maker' });
 * if (!outcome.ok) return reject(outcome.code, outcome.message);
 */
import { type ErrorCode, isProvenanceError } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import type { KeyCache } from '../../pki/keys.js';
import type { Finding } from '../../policy/types.js';
import type { RevocationMode, RevocationSource, RevocationStatus } from './types.js';

/** Inputs of `checkRevocation`. */
export interface RevocationCheckInput {
  /** The validated path: leaf first, the anchor's certificate last when it has one. */
  readonly certificates: readonly Certificate[];
  readonly anchorId: string;
  readonly mode: RevocationMode;
  readonly sources: readonly RevocationSource[];
  readonly time: number;
  readonly cache?: KeyCache;
  /** Verdict path position of `certificates[0]` (findings use verdict positions). Default 0. */
  readonly positionOffset?: number;
  /** Indexes in `certificates` that need no status (the anchor's certificate, a token-made key certificate). */
  readonly exempt?: ReadonlySet<number>;
}

/** The stage's decision and the findings it leaves. */
export type RevocationOutcome =
  | { readonly ok: true; readonly findings: Finding[]; readonly statuses: RevocationStatus[] }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly findings: Finding[];
      readonly statuses: RevocationStatus[];
    };

/**
 * Run every source over the path and decide under `mode`. Never throws for bad data: a source
 * that throws counts as unavailable for every checkable certificate.
 *
 * @example
 * checkRevocation({ certificates: validated.certificates, anchorId: 'maker', mode: 'best-effort', sources: [], time: Date.now() })
 */
export function checkRevocation(input: RevocationCheckInput): RevocationOutcome {
  const { certificates, anchorId, mode } = input;
  const offset = input.positionOffset ?? 0;
  const exempt = input.exempt ?? new Set<number>();
  const findings: Finding[] = [];
  if (mode === 'off') {
    findings.push({
      check: 'revocation',
      ok: true,
      severity: 'info',
      message: `revocation checking is off for anchor "${anchorId}"`,
      detail: { anchor: anchorId, mode },
    });
    return { ok: true, findings, statuses: [] };
  }

  const statuses: RevocationStatus[] = [];
  for (const source of input.sources) {
    try {
      const ctx = { time: input.time, ...(input.cache ? { cache: input.cache } : {}) };
      statuses.push(...source.check(certificates, ctx));
    } catch (err) {
      // A source that cannot answer says nothing is good: unknown for every checkable certificate.
      const code: ErrorCode = isProvenanceError(err) ? err.code : 'INTERNAL';
      certificates.forEach((cert, position) => {
        if (exempt.has(position)) return;
        statuses.push({
          position,
          serial: cert.serialHex,
          status: 'unknown',
          source: source.name,
          code,
          detail: (err as Error)?.message ?? String(err),
        });
      });
    }
  }

  // 1. Revoked or suspended anywhere, by any source: reject (a revocation is never outvoted).
  const revoked = statuses.filter((s) => s.status === 'revoked' || s.status === 'suspended');
  if (revoked.length > 0) {
    for (const s of revoked) {
      findings.push({
        check: 'revocation',
        ok: false,
        code: 'CERT_REVOKED',
        message: `${describe(certificates[s.position], s.position + offset)} is ${s.status} according to ${s.source}${s.reason ? ` (${s.reason})` : ''}`,
        position: s.position + offset,
        detail: detailOf(s, offset),
      });
    }
    const first = findings[0]!;
    return { ok: false, code: 'CERT_REVOKED', message: first.message, findings, statuses };
  }

  // 2. Coverage: each checkable certificate needs a 'good' from some source.
  const gaps: { position: number; statuses: RevocationStatus[] }[] = [];
  certificates.forEach((_cert, position) => {
    const own = statuses.filter((s) => s.position === position);
    if (own.some((s) => s.status === 'good')) return;
    if (exempt.has(position)) return;
    gaps.push({ position, statuses: own });
  });
  const checked = certificates.length - gaps.length;
  const sourceNames = [...new Set(statuses.filter((s) => s.status === 'good').map((s) => s.source))];

  if (gaps.length === 0) {
    findings.push({
      check: 'revocation',
      ok: true,
      message: `no certificate of the path is revoked (${sourceNames.join(', ') || 'nothing to check'})`,
      detail: { anchor: anchorId, mode, sources: sourceNames },
    });
    return { ok: true, findings, statuses };
  }

  if (input.sources.length === 0 && mode === 'best-effort') {
    findings.push({
      check: 'revocation',
      ok: true,
      severity: 'info',
      message: `no revocation data is configured or cached for anchor "${anchorId}": not checked`,
      detail: { anchor: anchorId, mode },
    });
    return { ok: true, findings, statuses };
  }

  const require = mode === 'require';
  for (const gap of gaps) {
    const failure = gap.statuses[0];
    const what = describe(certificates[gap.position], gap.position + offset);
    const message = failure
      ? `the revocation status of ${what} is unknown: ${failure.source}: ${failure.code ?? ''} ${failure.detail ?? ''}`.trim()
      : `no revocation data covers ${what}`;
    findings.push({
      check: 'revocation',
      ok: !require,
      code: 'REVOCATION_UNAVAILABLE',
      severity: require ? 'error' : 'warning',
      message,
      position: gap.position + offset,
      detail: {
        anchor: anchorId,
        mode,
        ...(failure ? detailOf(failure, offset) : {}),
      },
    });
  }
  if (require) {
    const first = findings.find((f) => !f.ok)!;
    return {
      ok: false,
      code: 'REVOCATION_UNAVAILABLE',
      message: `revocation is required for anchor "${anchorId}": ${first.message}`,
      findings,
      statuses,
    };
  }
  if (checked > 0) {
    findings.push({
      check: 'revocation',
      ok: true,
      message: `${checked} of ${certificates.length} certificates checked and not revoked (${sourceNames.join(', ') || 'no source'})`,
      detail: { anchor: anchorId, mode, sources: sourceNames },
    });
  }
  return { ok: true, findings, statuses };
}

function describe(cert: Certificate | undefined, position: number): string {
  const subject = cert?.subject.text;
  return `the certificate at position ${position}${subject ? ` ("${subject}")` : ''}`;
}

function detailOf(s: RevocationStatus, offset: number): Record<string, unknown> {
  return {
    position: s.position + offset,
    serial: s.serial,
    status: s.status,
    source: s.source,
    ...(s.reason === undefined ? {} : { reason: s.reason }),
    ...(s.code === undefined ? {} : { cause: s.code }),
    ...(s.detail === undefined ? {} : { note: s.detail }),
  };
}
