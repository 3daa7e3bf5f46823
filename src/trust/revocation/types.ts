/**
 * The revocation contract shared by every source (CRL files, CRLs fetched from distribution
 * points, the Android attestation status list, token lists): a source looks at a validated
 * path and says, per certificate it knows about, good / revoked / suspended / unknown.
 * The verifier's revocation stage (`checkRevocation`) turns those statuses into a decision
 * under the anchor's policy mode.
 *
 * @example
 * const statuses = await source.check(validated.certificates, { time: Date.now() });
 * statuses.filter((s) => s.status === 'revoked');
 */
import type { ErrorCode } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import type { KeyCache } from '../../pki/keys.js';

/** What one source says about one certificate of the path. */
export interface RevocationStatus {
  /** Index in the certificate path given to `check` (0 = leaf, last = anchor certificate). */
  readonly position: number;
  /** Lower-case hex serial of the certificate, no sign pad. */
  readonly serial: string;
  /** 'unknown' = this source should cover the certificate but its data is unusable or missing. */
  readonly status: 'good' | 'revoked' | 'suspended' | 'unknown';
  /** 'crl:<url or file>' | 'android-status:<url or file>' | 'list:<id>'. */
  readonly source: string;
  /** The revocation reason (CRLReason name or the status list's reason). */
  readonly reason?: string;
  /** Why the status is unknown, or extra context (revocation date). */
  readonly detail?: string;
  /** For 'unknown': the error code of the problem (CRL_INVALID, SIGNATURE_INVALID, ...). */
  readonly code?: ErrorCode;
}

/** Context of one check. */
export interface RevocationContext {
  /** The verification instant (ms): CRLs must be current at this time. */
  readonly time: number;
  /** Decoded public keys for CRL signature checks (the verifier's cache). */
  readonly cache?: KeyCache;
}

/** A revocation data source: CRLs, a status list, a token list. */
export interface RevocationSource {
  /** A name for messages ('crl:root.crl', 'android-status:status.json'). */
  readonly name: string;
  /** Statuses for the certificates this source covers; the path is leaf first, anchor certificate last. */
  check(path: readonly Certificate[], ctx: RevocationContext): RevocationStatus[];
}

/**
 * Per-anchor policy (policy `trust[].revocation`):
 * - `require`: every checkable certificate needs a definitive status; missing or invalid data rejects;
 * - `best-effort` (the default): revoked rejects; missing or invalid data is a warning;
 * - `off`: no check, an info finding says so.
 */
export type RevocationMode = 'require' | 'best-effort' | 'off';

/** The default mode of a trust entry that does not name one. */
export const DEFAULT_REVOCATION_MODE: RevocationMode = 'best-effort';

/** A status list named by a trust entry: read with the policy (file) or fetched by the service (URL). */
export type StatusListRef =
  | {
      readonly kind: 'file';
      readonly file: string;
      /** Hex SHA-256 of the file: what the policy digest covers. */
      readonly sha256: string;
      readonly source: RevocationSource;
    }
  | { readonly kind: 'url'; readonly url: string };

/** A parsed CRL file named by a trust entry. */
export interface CrlFileRef {
  readonly file: string;
  /** Hex SHA-256 of the DER: what the policy digest covers. */
  readonly sha256: string;
  readonly source: RevocationSource;
}

/** The revocation settings of one trust entry, as the policy model holds them. */
export interface AnchorRevocation {
  readonly anchorId: string;
  readonly mode: RevocationMode;
  /** CRL files, parsed when the policy was loaded (signatures are checked per path, at verification time). */
  readonly crls: readonly CrlFileRef[];
  readonly statusList?: StatusListRef;
}

/**
 * Fetched revocation data the verifier consults synchronously (CRLs from the certificates'
 * distribution points, status lists by URL): the service refreshes it in the background.
 */
export interface RevocationProvider {
  /** Sources for this path under this trust entry's settings (the entry is absent for defaults). */
  sourcesFor(
    certificates: readonly Certificate[],
    settings: AnchorRevocation | undefined,
  ): RevocationSource[];
}
