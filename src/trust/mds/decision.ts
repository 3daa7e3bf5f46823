/**
 * The per-registration use of MDS (standards digest §9.3 "Per registration", WebAuthn §7.1 steps
 * 22–23): find the model's entry, check that the validated path ends at one of *that entry's*
 * roots (never any MDS root: that would let one vendor's root vouch for another's AAGUID),
 * refuse denied models and compromised attestation keys, and require a certification level.
 *
 * @example
 * const d = checkMdsEntry(index, { aaguid, path: validated.certificates, anchorSpkiSha256: validated.anchor.spkiSha256, minLevel: 2 });
 * if (!d.ok) reject(d.code, d.reason);
 */
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import type { MdsEntry, MdsIndex } from './types.js';

/** What identifies the authenticator model and the path its attestation validated to. */
export interface MdsEntryQuery {
  /** The AAGUID from authenticator data (FIDO2). */
  readonly aaguid?: string;
  /** U2F and others: the attestation certificate key identifier (see `attestationKeyIdentifier`). */
  readonly keyIdentifier?: string;
  /** The validated path, leaf (attestation certificate) first. */
  readonly path: readonly Certificate[];
  /** SPKI SHA-256 of the anchor the path was validated to. */
  readonly anchorSpkiSha256: string;
  /** Lowest acceptable FIDO certification rank (1 = L1, 1.5 = L1plus, 2 = L2 …). Default 0. */
  readonly minLevel?: number;
}

/** The outcome: the entry and its level, or a stable code with a reason. */
export type MdsEntryDecision =
  | { readonly ok: true; readonly entry: MdsEntry; readonly levelRank: number }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly reason: string;
      readonly entry: MdsEntry | null;
    };

/**
 * Decide whether MDS vouches for this attestation. POLICY_NO_MATCH for an unknown model or a
 * level below `minLevel`; PATH_NOT_FOUND when the path's anchor is not one of the entry's roots;
 * POLICY_DENIED for a denied status or a compromised attestation key in the path.
 */
export function checkMdsEntry(index: MdsIndex, query: MdsEntryQuery): MdsEntryDecision {
  const entry =
    (query.aaguid !== undefined ? index.byAaguid(query.aaguid) : undefined) ??
    (query.keyIdentifier !== undefined ? index.byKeyIdentifier(query.keyIdentifier) : undefined);
  // An absent entry is unknown, never "certified" (standards digest §9.5).
  if (!entry)
    return {
      ok: false,
      code: 'POLICY_NO_MATCH',
      reason: `no MDS entry for ${query.aaguid ?? query.keyIdentifier ?? 'this authenticator'}`,
      entry: null,
    };
  // WebAuthn §7.1 step 23 / MDS: the chain must end at one of this entry's roots, by key.
  if (!index.anchors(entry).some((a) => a.spkiSha256 === query.anchorSpkiSha256))
    return {
      ok: false,
      code: 'PATH_NOT_FOUND',
      reason: `the path ends at a root that is not one of ${entry.anchorId}'s attestation roots`,
      entry,
    };
  const s = entry.status;
  if (s.deny)
    return {
      ok: false,
      code: 'POLICY_DENIED',
      reason: `MDS status ${s.denyReason} since ${s.effectiveDate}`,
      entry,
    };
  // ATTESTATION_KEY_COMPROMISE naming a certificate: refuse that key, wherever it is in the path.
  const compromised = query.path.find(
    (c) =>
      s.compromisedKeys.includes(c.spkiSha256) || s.compromisedCertificates.includes(c.fingerprintSha256),
  );
  if (compromised)
    return {
      ok: false,
      code: 'POLICY_DENIED',
      reason: `MDS reports the attestation key of "${compromised.subject.text}" compromised`,
      entry,
    };
  const minLevel = query.minLevel ?? 0;
  if (s.levelRank < minLevel)
    return {
      ok: false,
      code: 'POLICY_NO_MATCH',
      reason: `${entry.anchorId} is certified ${s.level ?? 'at no level'}, below the required rank ${minLevel}`,
      entry,
    };
  return { ok: true, entry, levelRank: s.levelRank };
}

/**
 * The attestation certificate key identifier MDS uses for U2F entries: lower-case hex SHA-1 of
 * the subjectPublicKey BIT STRING value (RFC 5280 §4.2.1.2 method (1)).
 */
export function attestationKeyIdentifier(certificate: Certificate): string {
  return createHash('sha1').update(certificate.publicKey).digest('hex');
}
