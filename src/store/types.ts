/**
 * The service's persistent state, behind one interface with a SQLite (better-sqlite3, WAL)
 * and a PostgreSQL implementation sharing the same Kysely code. State lives here only, so
 * several service instances can share a PostgreSQL database.
 *
 * Times are milliseconds since the epoch (numbers). Binary values are Uint8Array. Secrets
 * (enrollment codes, admin tokens) are stored as SHA-256 hashes only.
 */

import type { TpmRepository } from './tpm-bindings.js';

export type Scope =
  | 'codes:write'
  | 'codes:read'
  | 'enrollments:read'
  | 'certificates:revoke'
  | 'audit:read'
  | 'policy:read'
  | 'policy:dry-run'
  | 'tokens:write';
export const ALL_SCOPES: readonly Scope[] = [
  'codes:write',
  'codes:read',
  'enrollments:read',
  'certificates:revoke',
  'audit:read',
  'policy:read',
  'policy:dry-run',
  'tokens:write',
];

export interface AdminTokenRecord {
  readonly id: string;
  readonly name: string;
  /** SHA-256 of the token secret. */
  readonly tokenHash: Uint8Array;
  readonly scopes: readonly Scope[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface EnrollmentCodeRecord {
  readonly id: string;
  /** SHA-256 of the code (the code itself is shown once, never stored). */
  readonly codeHash: Uint8Array;
  readonly customer: string;
  /** RFC 4514 subject for the issued certificate: comes from the code, never from the CSR. */
  readonly subject: string;
  readonly profile: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Set once, atomically, when an enrollment consumed the code. */
  readonly usedAt: number | null;
  /** Admin token id that created it. */
  readonly createdBy: string;
}

export interface ChallengeRecord {
  readonly id: string;
  readonly codeId: string;
  readonly nonce: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly consumedAt: number | null;
}

export type EnrollmentStatus = 'issued' | 'rejected';

export interface EnrollmentRecord {
  readonly id: string;
  readonly codeId: string;
  readonly challengeId: string;
  readonly customer: string;
  readonly status: EnrollmentStatus;
  /** 'ACCEPTED' or the rejection code. */
  readonly code: string;
  readonly format: string | null;
  readonly matchedRule: string | null;
  readonly policyDigest: string;
  /** The Verdict as JSON (device serials already minimised per the profile). */
  readonly verdict: unknown;
  /**
   * What the policy stage saw (a PolicyInput as JSON, key bytes base64, device serial hashed
   * unless the profile keeps an inventory): policy dry runs and re-evaluation after a
   * compromise run the policy over it without the raw evidence.
   */
  readonly policyInput: unknown;
  /** The submitted CSR (DER) only when the profile keeps an inventory; null otherwise (privacy). */
  readonly evidence: Uint8Array | null;
  /** SHA-256 of the attested key's SPKI. */
  readonly keySpkiSha256: string | null;
  readonly certificateSerial: string | null;
  readonly createdAt: number;
}

export type CertificateStatus = 'good' | 'revoked';

export interface CertificateRecord {
  /** Hex serial, lower case, no sign pad: unique across the store. */
  readonly serial: string;
  readonly enrollmentId: string;
  readonly subject: string;
  readonly profile: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly der: Uint8Array;
  readonly spkiSha256: string;
  readonly status: CertificateStatus;
  readonly revokedAt: number | null;
  /** RFC 5280 §5.3.1 CRLReason name, e.g. 'keyCompromise'. */
  readonly revocationReason: string | null;
}

export interface AuditEventInput {
  /** Stable event name: 'enrollment.issued', 'enrollment.rejected', 'code.created', 'certificate.revoked', 'token.created', 'ca.created', 'policy.loaded', ... */
  readonly event: string;
  /** Who did it: 'admin:<token id>', 'code:<code id>', 'system'. */
  readonly actor: string;
  /** What it is about: 'enrollment:<id>', 'certificate:<serial>', ... */
  readonly subject: string;
  readonly data: Record<string, unknown>;
  readonly at: number;
}

export interface AuditRecord extends AuditEventInput {
  /** 1, 2, 3, ... without gaps. */
  readonly seq: number;
  /** Hex SHA-256 of the previous record's hash and this record's canonical content. */
  readonly hash: string;
  readonly prevHash: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly records: number;
  /** First seq whose hash, chain link or numbering is wrong (edited, deleted, inserted, reordered). */
  readonly firstBad: number | null;
  readonly problem: string | null;
  /** Hash of the last record that checked out (64 zeros for an empty log). */
  readonly head?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque cursor for the next page, or null. */
  readonly next: string | null;
}

/** Filters for `enrollments.list` (all optional, combined with AND; newest first). */
export interface EnrollmentFilter {
  readonly customer?: string;
  readonly status?: EnrollmentStatus;
  readonly format?: string;
  /** The verdict code ('ACCEPTED' or a rejection code), not the enrollment code's id. */
  readonly code?: string;
  /** createdAt ≥ since (ms). */
  readonly since?: number;
  /** createdAt < until (ms, exclusive). */
  readonly until?: number;
  /** Page size, clamped to 1…100; 50 when absent. */
  readonly limit?: number;
  /** `next` of the previous page; a malformed one is BODY_INVALID. */
  readonly cursor?: string;
}

/** The last good signed token list of one id (the keeper's `ListState` plus its id). */
export interface TrustListRecord {
  readonly id: string;
  /** The list's `sequence` claim: never goes backwards in the store. */
  readonly sequence: number;
  /** The compact JWS as fetched (re-verified on every load, never trusted from the store alone). */
  readonly jws: string;
  readonly etag: string | null;
  readonly fetchedAt: number;
}

/** Repositories usable inside and outside a transaction. */
export interface StoreRepositories {
  readonly adminTokens: {
    create(record: AdminTokenRecord): Promise<void>;
    findByHash(tokenHash: Uint8Array): Promise<AdminTokenRecord | null>;
    list(): Promise<AdminTokenRecord[]>;
  };
  readonly codes: {
    create(record: EnrollmentCodeRecord): Promise<void>;
    findByHash(codeHash: Uint8Array): Promise<EnrollmentCodeRecord | null>;
    get(id: string): Promise<EnrollmentCodeRecord | null>;
    /** Atomically mark used: true only for the one caller that flipped usedAt from null, before expiry. */
    markUsed(id: string, at: number): Promise<boolean>;
    /** Newest first; limit and cursor as in EnrollmentFilter. */
    list(filter: { customer?: string; limit?: number; cursor?: string }): Promise<Page<EnrollmentCodeRecord>>;
  };
  readonly challenges: {
    create(record: ChallengeRecord): Promise<void>;
    /**
     * The challenge by id, or null (read-only). The service reads the nonce before verifying,
     * outside any transaction; `consume` then decides atomically.
     */
    get(id: string): Promise<ChallengeRecord | null>;
    /**
     * One atomic statement: set consumedAt where id and codeId match, consumedAt is null and
     * expiresAt > at; returns the record, or null when it was already used, expired or unknown.
     */
    consume(id: string, codeId: string, at: number): Promise<ChallengeRecord | null>;
    /** Challenges issued for a code that are still open (for per-code limits). */
    countOpen(codeId: string, at: number): Promise<number>;
  };
  readonly enrollments: {
    insert(record: EnrollmentRecord): Promise<void>;
    get(id: string): Promise<EnrollmentRecord | null>;
    list(filter: EnrollmentFilter): Promise<Page<EnrollmentRecord>>;
    /** The most recent N, newest first (policy dry runs). */
    recent(limit: number): Promise<EnrollmentRecord[]>;
    count(): Promise<number>;
  };
  readonly certificates: {
    /** Fails with a unique-constraint error if the serial exists (never issue a serial twice). */
    insert(record: CertificateRecord): Promise<void>;
    get(serial: string): Promise<CertificateRecord | null>;
    /** True only for the call that moved it from good to revoked (unknown or already revoked: false). */
    revoke(serial: string, at: number, reason: string): Promise<boolean>;
    revoked(): Promise<CertificateRecord[]>;
    count(): Promise<number>;
  };
  readonly audit: {
    /** Append one hash-chained record (serialised across concurrent writers and instances). */
    append(event: AuditEventInput): Promise<AuditRecord>;
    /** Newest first (by seq); `since` filters on `at` (ms, inclusive); limit/cursor as in EnrollmentFilter. */
    list(filter: {
      event?: string;
      since?: number;
      limit?: number;
      cursor?: string;
    }): Promise<Page<AuditRecord>>;
  };
  readonly trustLists: {
    get(id: string): Promise<TrustListRecord | null>;
    /** Every stored list, by id. */
    all(): Promise<TrustListRecord[]>;
    /**
     * One atomic upsert that only moves forward: writes when no row exists, the stored
     * sequence is lower, or it is equal with the same JWS (refreshing etag and fetchedAt).
     * True when it wrote; false when a newer (or a different list of equal) sequence is
     * stored, e.g. another instance got there first.
     */
    save(record: TrustListRecord): Promise<boolean>;
  };
  /** A monotonic counter (e.g. 'crl-number'), incremented atomically. */
  nextCounter(name: string): Promise<number>;
  /**
   * TPM credential activations and AK bindings (migration 003). Every database store has it;
   * optional so in-memory test stores without TPM support stay valid (the routes then refuse).
   */
  readonly tpm?: TpmRepository;
}

export interface Store extends StoreRepositories {
  readonly kind: 'sqlite' | 'postgres';
  /** Run fn in one transaction (serialisable enough that the enrollment flow is atomic). */
  transaction<T>(fn: (tx: StoreRepositories) => Promise<T>): Promise<T>;
  /** Walk the whole audit log and check numbering, links and hashes. */
  verifyAudit(): Promise<AuditVerification>;
  /** Cheap liveness query for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
