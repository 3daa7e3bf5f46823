/**
 * From an entry's `statusReports` to one decision (FIDO MDS v3.1.1 §3.1.3, §3.1.4): the latest
 * report by effectiveDate is the current status; compromise statuses deny; FIDO_CERTIFIED_L*
 * give the certification level.
 *
 * @example
 * summariseStatus(entry.statusReports).deny;   // true for a REVOKED model
 */
import type { MdsStatusReport, MdsStatusSummary } from './types.js';

/**
 * Statuses that refuse the whole model when current. MDS §3.1.4: USER_VERIFICATION_BYPASS,
 * USER_KEY_REMOTE_COMPROMISE and USER_KEY_PHYSICAL_COMPROMISE mean keys made on it cannot be
 * trusted; REVOKED means the FIDO Alliance withdrew it. ATTESTATION_KEY_COMPROMISE refuses the
 * whole model only when the report names no certificate (standards digest §9.3 step 5).
 */
export const MDS_DENY_STATUSES: readonly string[] = [
  'REVOKED',
  'USER_VERIFICATION_BYPASS',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
  'ATTESTATION_KEY_COMPROMISE',
];

/** FIDO certification statuses and their rank (FIDO_CERTIFIED is the legacy name of L1). */
export const MDS_LEVEL_RANKS: Readonly<Record<string, number>> = {
  FIDO_CERTIFIED: 1,
  FIDO_CERTIFIED_L1: 1,
  FIDO_CERTIFIED_L1plus: 1.5,
  FIDO_CERTIFIED_L2: 2,
  FIDO_CERTIFIED_L2plus: 2.5,
  FIDO_CERTIFIED_L3: 3,
  FIDO_CERTIFIED_L3plus: 3.5,
};

const FIPS = /^FIPS140_CERTIFIED_L([1-4])$/;

/** Summarise the reports into the current status, the deny decision and the levels. */
export function summariseStatus(reports: readonly MdsStatusReport[]): MdsStatusSummary {
  // Stable sort by effectiveDate (YYYY-MM-DD compares as text); undated reports first, so a
  // dated one always wins over them, and ties keep array order (the later one wins).
  const ordered = reports
    .map((r, i) => ({ r, i }))
    .sort((a, b) => compareDates(a.r.effectiveDate, b.r.effectiveDate) || a.i - b.i)
    .map((x) => x.r);
  const latest = ordered.at(-1) ?? null;
  let level: string | null = null;
  let fipsLevel = 0;
  for (const r of ordered) {
    if (r.status in MDS_LEVEL_RANKS) level = r.status;
    const fips = FIPS.exec(r.status);
    if (fips) fipsLevel = Number(fips[1]);
  }
  const compromisedKeys = new Set<string>();
  const compromisedCertificates = new Set<string>();
  for (const r of reports) {
    if (r.status !== 'ATTESTATION_KEY_COMPROMISE') continue;
    if (r.certificateSpkiSha256) compromisedKeys.add(r.certificateSpkiSha256);
    if (r.certificateSha256) compromisedCertificates.add(r.certificateSha256);
  }
  let denyReason: string | null = null;
  if (latest && MDS_DENY_STATUSES.includes(latest.status)) {
    // A compromise report that names the compromised attestation certificate refuses that key
    // (in compromisedKeys), not every authenticator of the model.
    const scoped = latest.status === 'ATTESTATION_KEY_COMPROMISE' && latest.certificateSha256 !== null;
    if (!scoped) denyReason = latest.status;
  }
  const denied = denyReason !== null;
  return {
    current: latest?.status ?? null,
    effectiveDate: latest?.effectiveDate ?? null,
    deny: denied,
    denyReason,
    level: denied ? null : level,
    levelRank: denied || level === null ? 0 : (MDS_LEVEL_RANKS[level] ?? 0),
    fipsLevel: denied ? 0 : fipsLevel,
    compromisedKeys: [...compromisedKeys].sort(),
    compromisedCertificates: [...compromisedCertificates].sort(),
  };
}

function compareDates(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
