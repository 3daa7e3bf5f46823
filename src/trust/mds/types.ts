/**
 * Types of the FIDO Metadata Service v3 import: the verified BLOB, its entries, and the status
 * each entry's `statusReports` add up to (FIDO MDS v3.1.1 §3.1.3–§3.1.6).
 */
import type { TrustAnchor } from '../../pki/anchor.js';

/** AuthenticatorStatus values of FIDO MDS v3.1.1 §3.1.4 that Provenance knows. */
export const AUTHENTICATOR_STATUSES = [
  'NOT_FIDO_CERTIFIED',
  'FIDO_CERTIFIED',
  'USER_VERIFICATION_BYPASS',
  'ATTESTATION_KEY_COMPROMISE',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
  'UPDATE_AVAILABLE',
  'REVOKED',
  'RETIRED',
  'SELF_ASSERTION_SUBMITTED',
  'FIDO_CERTIFIED_L1',
  'FIDO_CERTIFIED_L1plus',
  'FIDO_CERTIFIED_L2',
  'FIDO_CERTIFIED_L2plus',
  'FIDO_CERTIFIED_L3',
  'FIDO_CERTIFIED_L3plus',
  'FIPS140_CERTIFIED_L1',
  'FIPS140_CERTIFIED_L2',
  'FIPS140_CERTIFIED_L3',
  'FIPS140_CERTIFIED_L4',
] as const;

/** One AuthenticatorStatus value. */
export type AuthenticatorStatus = (typeof AUTHENTICATOR_STATUSES)[number];

/** One status report, reduced to what a decision needs (MDS v3.1.1 §3.1.3). */
export interface MdsStatusReport {
  /** The AuthenticatorStatus as written; an unknown value is kept and never counts as certified. */
  readonly status: string;
  /** `YYYY-MM-DD`, or null when absent (then it sorts before every dated report). */
  readonly effectiveDate: string | null;
  /** Minimum authenticator (firmware) version the report applies to, when given. */
  readonly authenticatorVersion: number | null;
  /** SHA-256 hex of `certificate` (base64 DER), the compromised attestation certificate. */
  readonly certificateSha256: string | null;
  /** SPKI SHA-256 hex of `certificate`, when it parses: trust (and distrust) by key. */
  readonly certificateSpkiSha256: string | null;
}

/** The decision an entry's status reports add up to. */
export interface MdsStatusSummary {
  /** The latest report's status by effectiveDate (ties: the later in the array), or null. */
  readonly current: string | null;
  readonly effectiveDate: string | null;
  /**
   * True when the whole model must be refused: the current status is REVOKED,
   * USER_VERIFICATION_BYPASS, USER_KEY_REMOTE_COMPROMISE, USER_KEY_PHYSICAL_COMPROMISE, or
   * ATTESTATION_KEY_COMPROMISE without a certificate naming the one compromised key.
   */
  readonly deny: boolean;
  /** Why `deny` is true (the status), or null. */
  readonly denyReason: string | null;
  /** The latest FIDO certification level (FIDO_CERTIFIED counts as L1), or null. */
  readonly level: string | null;
  /** 1, 1.5, 2, 2.5, 3, 3.5 for L1 … L3plus; 0 when not certified. */
  readonly levelRank: number;
  /** The latest FIPS 140 level (1–4), or 0. */
  readonly fipsLevel: number;
  /**
   * Attestation keys (SPKI SHA-256) and certificates (SHA-256) named by any
   * ATTESTATION_KEY_COMPROMISE report: denied even if a later report certifies the model again.
   */
  readonly compromisedKeys: readonly string[];
  readonly compromisedCertificates: readonly string[];
}

/** One MDS entry, indexed (MetadataBLOBPayloadEntry, MDS v3.1.1 §3.1.1). */
export interface MdsEntry {
  /** FIDO2 AAGUID, lower-case with dashes, or null. */
  readonly aaguid: string | null;
  /** FIDO UAF AAID, or null. */
  readonly aaid: string | null;
  /** Lower-case hex SHA-1 of the attestation certificates' subjectPublicKey (RFC 5280 §4.2.1.2 (1)). */
  readonly attestationCertificateKeyIdentifiers: readonly string[];
  /** metadataStatement.description, for display only. */
  readonly description: string | null;
  readonly protocolFamily: string | null;
  /** The anchor id every anchor of this entry carries: `mds:<aaguid | aaid | key id>`. */
  readonly anchorId: string;
  /** metadataStatement.attestationRootCertificates, DER. */
  readonly attestationRootCertificates: readonly Uint8Array[];
  readonly statusReports: readonly MdsStatusReport[];
  readonly status: MdsStatusSummary;
  readonly timeOfLastStatusChange: string | null;
}

/** A verified, indexed BLOB. */
export interface MdsBlob {
  /** The BLOB serial number (`no`). */
  readonly no: number;
  /** `YYYY-MM-DD`. */
  readonly nextUpdate: string;
  readonly legalHeader: string | null;
  /** SHA-256 hex of the JWT text as imported. */
  readonly digest: string;
  /** The JWS `alg`. */
  readonly algorithm: string;
  /** Signing chain as validated: leaf first, then the root the BLOB chains to. */
  readonly signer: { readonly subject: string; readonly certificateSha256: string };
  readonly root: { readonly subject: string; readonly spkiSha256: string };
  /** Set when the BLOB is past nextUpdate and the caller allowed it: the reason given. */
  readonly staleAllowed: string | null;
  readonly entries: readonly MdsEntry[];
}

/** Lookups over a BLOB's entries. */
export interface MdsIndex {
  readonly blob: MdsBlob;
  /** The entry for an AAGUID (any case, with or without dashes), or undefined. */
  byAaguid(aaguid: string): MdsEntry | undefined;
  /** The entry for an attestation certificate key identifier (hex), or undefined. */
  byKeyIdentifier(keyId: string): MdsEntry | undefined;
  /** The entry for a UAF AAID, or undefined. */
  byAaid(aaid: string): MdsEntry | undefined;
  /** The entry's attestation roots as trust anchors for the WebAuthn formats (parse failures skipped). */
  anchors(entry: MdsEntry): TrustAnchor[];
}
