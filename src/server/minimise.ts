/**
 * What an enrollment record keeps: the verdict and the policy input, with device serials
 * reduced to their SHA-256 unless the profile keeps an inventory (privacy: store what the
 * policy and the audit need). The policy input keeps the key of every path entry (base64),
 * so a policy dry run (and re-evaluation after a compromise) can run the policy again
 * without the raw evidence.
 *
 * Device serials appear in two places: the claims (`serial`, from the attestation) and the
 * `serialNumber` attribute of a per-token attestation certificate's subject. Both are hashed.
 *
 * @example
 * const verdict = minimiseVerdict(result, { keepSerial: profile.includeDeviceSerial });
 * const input = policyInputRecord(result, evidence, policy, { keepSerial: false });
 */
import { sha256Hex } from '../core/bytes.js';
import type { Claims, EvidenceInput } from '../formats/types.js';
import type { Policy } from '../policy/model.js';
import type { PathEntry, PolicyInput } from '../policy/types.js';
import type { Verdict } from '../verify/verifier.js';

/** Options of the minimisation. */
export interface MinimiseOptions {
  /** Keep device serials as they are (the profile's includeDeviceSerial). */
  readonly keepSerial: boolean;
}

/** SHA-256 (hex) of a serial's UTF-8 text. */
export function serialSha256(serial: string): string {
  return sha256Hex(new TextEncoder().encode(serial));
}

/** Claims with `serial` replaced by `serialSha256` (unless kept). */
export function minimiseClaims(claims: Claims, options: MinimiseOptions): Claims {
  if (options.keepSerial || typeof claims.serial !== 'string') return claims;
  const { serial, ...rest } = claims;
  return { ...rest, serialSha256: serialSha256(serial) };
}

/** RFC 4514 text with each serialNumber value replaced by `sha256:<hex>` of its text. */
export function minimiseSubject(subject: string | null, options: MinimiseOptions): string | null {
  if (subject === null || options.keepSerial) return subject;
  return subject.replace(
    /(^|[,+])(serialNumber|2\.5\.4\.5)=((?:\\.|[^,+\\])*)/gi,
    (_m, sep: string, type: string, value: string) =>
      `${sep}${type}=sha256:${serialSha256(value.replace(/\\(.)/g, '$1'))}`,
  );
}

/**
 * The verdict as stored, claims and path subjects minimised: a new object for the store to
 * serialise (its JSON is what is stored; it is not round-tripped through JSON here, since the
 * store's JSON.stringify writes the same text and an enrollment would parse it for nothing).
 *
 * @example
 * minimiseVerdict(verdict, { keepSerial: false }).claims   // { serialSha256: '…', … }
 */
export function minimiseVerdict(verdict: Verdict, options: MinimiseOptions): Record<string, unknown> {
  return {
    ...verdict,
    claims: verdict.claims === null ? null : minimiseClaims(verdict.claims, options),
    path: verdict.path.map((e) => ({ ...e, subject: minimiseSubject(e.subject, options) })),
  };
}

/** A PolicyInput as stored: keys as base64, claims minimised. */
export interface PolicyInputRecord {
  readonly format: string;
  readonly path: readonly (Omit<PathEntry, 'spki' | 'matchedRules'> & { readonly spki: string | null })[];
  readonly claims: Claims;
  readonly freshness: PolicyInput['freshness'];
  readonly anchorId: string;
}

/**
 * What the policy stage saw, rebuilt from the verdict and the keys the evidence and the
 * policy's anchors carry; null when the evidence was rejected before the policy stage (no
 * validated path). A key not found (never expected) is stored as null: a later evaluation
 * then fails closed on it.
 */
export function policyInputRecord(
  verdict: Verdict,
  evidence: EvidenceInput,
  policy: Policy,
  options: MinimiseOptions,
): PolicyInputRecord | null {
  if (verdict.format === null || verdict.path.length === 0 || verdict.claims === null) return null;
  const anchorId = verdict.path[verdict.path.length - 1]?.anchor;
  if (anchorId === undefined) return null;
  const keys = new Map<string, Uint8Array>();
  const add = (spki: Uint8Array) => keys.set(sha256Hex(spki), spki);
  if (evidence.kind === 'csr') {
    add(evidence.csr.spki);
    for (const c of evidence.csr.attestation?.certificates ?? []) add(c.spki);
  }
  for (const c of evidence.certificates) add(c.spki);
  for (const a of policy.anchors) add(a.spki);
  return {
    format: verdict.format,
    path: verdict.path.map(({ matchedRules: _m, ...e }) => {
      const spki = keys.get(e.spkiSha256);
      return {
        ...e,
        subject: minimiseSubject(e.subject, options),
        spki: spki === undefined ? null : Buffer.from(spki).toString('base64'),
      };
    }),
    claims: minimiseClaims(verdict.claims, options),
    freshness: verdict.freshness,
    anchorId,
  };
}

/** A stored policy input back as a PolicyInput; null when the record holds none or is unusable. */
export function revivePolicyInput(stored: unknown): PolicyInput | null {
  if (stored === null || typeof stored !== 'object') return null;
  const s = stored as Partial<PolicyInputRecord>;
  if (typeof s.format !== 'string' || !Array.isArray(s.path) || typeof s.anchorId !== 'string') return null;
  if (s.claims === null || typeof s.claims !== 'object') return null;
  const freshness = s.freshness === 'nonce' || s.freshness === 'possession' ? s.freshness : 'none';
  return {
    format: s.format,
    path: s.path.map((e) => ({
      ...e,
      // A missing key revives as empty bytes: describing it fails, and the policy fails closed.
      spki: typeof e.spki === 'string' ? new Uint8Array(Buffer.from(e.spki, 'base64')) : new Uint8Array(0),
    })),
    claims: s.claims,
    freshness,
    anchorId: s.anchorId,
  };
}
