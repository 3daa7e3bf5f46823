/**
 * What the policy stage sees and says: the validated path as entries, the claims, and the
 * findings every check leaves behind (they become the verdict's `findings`).
 */
import type { ErrorCode } from '../core/errors.js';
import type { Claims } from '../formats/types.js';

/** One element from the attested key to the anchor, as shown in a verdict. */
export interface PathEntry {
  /** 0 = the attested key, then each certificate up to the anchor. */
  readonly position: number;
  readonly role: 'attested-key' | 'attestation-key' | 'intermediate' | 'root';
  /** Display name (RFC 4514 text); display only, never used for trust. */
  readonly subject: string | null;
  /** Hex SHA-256 of the SubjectPublicKeyInfo: the identity allow and deny rules match. */
  readonly spkiSha256: string;
  /** DER SubjectPublicKeyInfo, for weak-key checks. Not serialised into verdict JSON. */
  readonly spki: Uint8Array;
  /** Hex SHA-256 of the certificate, for entries that are certificates. */
  readonly certificateSha256?: string;
  /** This entry is the configured trust anchor (the path ends here). */
  readonly anchor?: string;
  /** Ids of allow rules that matched this entry (filled by the policy stage). */
  readonly matchedRules?: string[];
}

export interface Finding {
  /** Stable id of the check: 'format.signature', 'nonce', 'path', 'policy.allow', 'deny.roca', ... */
  readonly check: string;
  readonly ok: boolean;
  /** The error code when the check failed (or warned). */
  readonly code?: ErrorCode;
  readonly severity?: 'error' | 'warning' | 'info';
  readonly message: string;
  /** Path position the finding is about, if any. */
  readonly position?: number;
  readonly detail?: Record<string, unknown>;
}

export interface PolicyInput {
  readonly format: string;
  /** Validated path, attested key first, anchor last. */
  readonly path: readonly PathEntry[];
  readonly claims: Claims;
  /** 'nonce' when the evidence itself carries the verifier's challenge; 'possession' for CSR-only freshness. */
  readonly freshness: 'nonce' | 'possession' | 'none';
  /** Id of the anchor that ended the path. */
  readonly anchorId: string;
}

export interface PolicyDecision {
  readonly accepted: boolean;
  readonly code: 'ACCEPTED' | ErrorCode;
  readonly matchedRule?: string;
  /** Policy-level assurance level of the matched rule, if it names one. */
  readonly level?: number;
  readonly findings: Finding[];
  /** The input path with `matchedRules` filled in for entries that an allow rule matched. */
  readonly path?: readonly PathEntry[];
}
