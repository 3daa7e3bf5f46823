/**
 * The database tables as Kysely sees them: one interface per table, columns in snake_case.
 *
 * Integers that hold milliseconds or sequence numbers are BIGINT on PostgreSQL, which `pg`
 * returns as strings (a JavaScript number cannot hold every int8): rows therefore type them
 * `number | string` and the repositories convert with `toNumber`. Binary columns come back as
 * Buffer from both drivers.
 */
import type { ColumnType } from 'kysely';

/** A BIGINT column: written as a number, read as a number (SQLite) or a decimal string (pg). */
export type Int8 = ColumnType<number | string, number, number>;
/** A nullable BIGINT column. */
export type NullableInt8 = ColumnType<number | string | null, number | null, number | null>;
/** A BLOB / BYTEA column: bound as Buffer, read as Buffer. */
export type Bytes = ColumnType<Uint8Array, Buffer, Buffer>;
/** A nullable BLOB / BYTEA column. */
export type NullableBytes = ColumnType<Uint8Array | null, Buffer | null, Buffer | null>;

/** `admin_tokens`: bearer tokens for the admin API, stored as SHA-256 only. */
export interface AdminTokensTable {
  id: string;
  name: string;
  token_hash: Bytes;
  /** JSON array of scopes. */
  scopes: string;
  created_at: Int8;
  revoked_at: NullableInt8;
}

/** `enrollment_codes`: one-use enrollment codes, stored as SHA-256 only. */
export interface EnrollmentCodesTable {
  id: string;
  code_hash: Bytes;
  customer: string;
  subject: string;
  profile: string;
  created_at: Int8;
  expires_at: Int8;
  used_at: NullableInt8;
  created_by: string;
}

/** `challenges`: single-use nonces handed out for one enrollment code. */
export interface ChallengesTable {
  id: string;
  code_id: string;
  nonce: Bytes;
  created_at: Int8;
  expires_at: Int8;
  consumed_at: NullableInt8;
}

/** `enrollments`: every decided enrollment, issued or rejected. */
export interface EnrollmentsTable {
  id: string;
  code_id: string;
  challenge_id: string;
  customer: string;
  status: string;
  code: string;
  format: string | null;
  matched_rule: string | null;
  policy_digest: string;
  /** JSON text. */
  verdict: string;
  /** JSON text. */
  policy_input: string;
  evidence: NullableBytes;
  key_spki_sha256: string | null;
  certificate_serial: string | null;
  created_at: Int8;
}

/** `certificates`: every certificate the CA issued (committed before the response leaves). */
export interface CertificatesTable {
  serial: string;
  enrollment_id: string;
  subject: string;
  profile: string;
  not_before: Int8;
  not_after: Int8;
  der: Bytes;
  spki_sha256: string;
  status: string;
  revoked_at: NullableInt8;
  revocation_reason: string | null;
}

/** `audit`: the append-only, hash-chained event log. */
export interface AuditTable {
  seq: Int8;
  at: Int8;
  event: string;
  actor: string;
  subject: string;
  /** Canonical JSON text of the event data (the bytes the hash covers). */
  data: string;
  prev_hash: string;
  hash: string;
}

/** `audit_head`: one row (id 1) holding the last seq and hash; its row lock serialises appends. */
export interface AuditHeadTable {
  id: number;
  seq: Int8;
  hash: string;
}

/** `counters`: named monotonic counters (e.g. 'crl-number'). */
export interface CountersTable {
  name: string;
  value: Int8;
}

/** `trust_lists`: the last good signed token list per list id (migration 002). */
export interface TrustListsTable {
  id: string;
  sequence: Int8;
  jws: string;
  etag: string | null;
  fetched_at: Int8;
}

/** `tpm_activations`: pending TPM credential activations (migration 003). */
export interface TpmActivationsTable {
  id: string;
  code_id: string;
  secret_hash: Bytes;
  ak_name: Bytes;
  ak_public: Bytes;
  /** JSON array of base64 DER certificates, EK certificate first. */
  ek_certificates: string;
  ek_spki_sha256: string;
  created_at: Int8;
  expires_at: Int8;
  failed_attempts: Int8;
  consumed_at: NullableInt8;
}

/** `tpm_bindings`: AKs proven resident in the TPM of a trusted EK (migration 003). */
export interface TpmBindingsTable {
  id: string;
  code_id: string;
  activation_id: string;
  ak_name: Bytes;
  ak_public: Bytes;
  /** JSON array of base64 DER certificates, EK certificate first. */
  ek_certificates: string;
  ek_spki_sha256: string;
  bound_at: Int8;
}

/** The whole database. */
export interface Database {
  admin_tokens: AdminTokensTable;
  enrollment_codes: EnrollmentCodesTable;
  challenges: ChallengesTable;
  enrollments: EnrollmentsTable;
  certificates: CertificatesTable;
  audit: AuditTable;
  audit_head: AuditHeadTable;
  counters: CountersTable;
  trust_lists: TrustListsTable;
  tpm_activations: TpmActivationsTable;
  tpm_bindings: TpmBindingsTable;
}
