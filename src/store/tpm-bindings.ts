/**
 * The TPM credential-activation repository (migration 003): pending activations and the AK
 * bindings they prove. The decisive steps (`fail`, `consume`) are each one conditional
 * `UPDATE … WHERE <still open> RETURNING`, like `challenges.consume`, so concurrent callers
 * cannot both win a secret or both spend the last try.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import { guard, type StoreLogger } from './db-errors.js';
import type { Database, TpmActivationsTable, TpmBindingsTable } from './schema.js';
import { int, jsonText, text, toBuffer, toBytes, toNullableNumber, toNumber } from './values.js';

/** A pending TPM2_MakeCredential challenge: the secret's SHA-256 only, never the secret. */
export interface TpmActivationRecord {
  readonly id: string;
  /** The enrollment code that asked for it. */
  readonly codeId: string;
  /** SHA-256 of the 32-byte credential secret. */
  readonly secretHash: Uint8Array;
  /** The AK Name the credential is bound to (u16 nameAlg || digest). */
  readonly akName: Uint8Array;
  /** The AK TPMT_PUBLIC the Name was computed from. */
  readonly akPublic: Uint8Array;
  /** DER certificates, EK certificate first, then its chain as presented. */
  readonly ekCertificates: readonly Uint8Array[];
  /** Lower-case hex SHA-256 of the EK SubjectPublicKeyInfo. */
  readonly ekSpkiSha256: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly failedAttempts: number;
  readonly consumedAt: number | null;
}

/** An AK proven resident in the same TPM as a trusted EK. */
export interface TpmBindingRecord {
  /** The AK id handed to the client (`akId`). */
  readonly id: string;
  readonly codeId: string;
  readonly activationId: string;
  readonly akName: Uint8Array;
  readonly akPublic: Uint8Array;
  readonly ekCertificates: readonly Uint8Array[];
  readonly ekSpkiSha256: string;
  readonly boundAt: number;
}

/** Repository methods for `tpm_activations` and `tpm_bindings`. */
export interface TpmRepository {
  createActivation(record: TpmActivationRecord): Promise<void>;
  getActivation(id: string): Promise<TpmActivationRecord | null>;
  /** Activations of a code still open at `at` (unconsumed, unexpired): for per-code limits. */
  countOpenActivations(codeId: string, at: number, maxAttempts: number): Promise<number>;
  /**
   * Count one wrong secret, atomically, while the activation is open and has tries left;
   * returns the new count, or null when it was already spent, dead or unknown.
   */
  failActivation(id: string, codeId: string, at: number, maxAttempts: number): Promise<number | null>;
  /**
   * One atomic statement: mark consumed where id, code and secret hash match, it is unused,
   * unexpired and has tries left; returns the record, or null.
   */
  consumeActivation(
    id: string,
    codeId: string,
    secretHash: Uint8Array,
    at: number,
    maxAttempts: number,
  ): Promise<TpmActivationRecord | null>;
  /** Fails with STORE_CONFLICT if the id or the activation already has a binding. */
  insertBinding(record: TpmBindingRecord): Promise<void>;
  getBinding(id: string): Promise<TpmBindingRecord | null>;
  /** Every binding made under an enrollment code, oldest first. */
  bindingsForCode(codeId: string): Promise<TpmBindingRecord[]>;
}

/** Most bindings one code may list (bounded reads). */
export const MAX_BINDINGS_LISTED = 100;

/** The repository over `db` (the database or an open transaction). */
export function createTpmRepository(db: Kysely<Database>, logger?: StoreLogger): TpmRepository {
  const run = <T>(operation: string, fn: () => Promise<T>, conflict?: string): Promise<T> =>
    guard(operation, fn, conflict === undefined ? { logger } : { logger, conflict });
  return {
    createActivation: (r) =>
      run(
        'create tpm activation',
        async () => {
          const values = [
            text(r.id, 'id'),
            text(r.codeId, 'codeId'),
            toBuffer(r.secretHash),
            toBuffer(r.akName),
            toBuffer(r.akPublic),
            certificatesText(r.ekCertificates),
            text(r.ekSpkiSha256, 'ekSpkiSha256'),
            int(r.createdAt, 'createdAt'),
            int(r.expiresAt, 'expiresAt'),
            int(r.failedAttempts, 'failedAttempts'),
            r.consumedAt === null ? null : int(r.consumedAt, 'consumedAt'),
          ];
          await sql`
            insert into tpm_activations (id, code_id, secret_hash, ak_name, ak_public, ek_certificates,
              ek_spki_sha256, created_at, expires_at, failed_attempts, consumed_at)
            values (${sql.join(values)})`.execute(db);
        },
        'a TPM activation with this id already exists',
      ),
    getActivation: (id) =>
      run('get tpm activation', async () => {
        const { rows } = await sql<Selectable<TpmActivationsTable>>`
          select * from tpm_activations where id = ${id}`.execute(db);
        const row = rows[0];
        return row === undefined ? null : activationFromRow(row);
      }),
    countOpenActivations: (codeId, at, maxAttempts) =>
      run('count open tpm activations', async () => {
        const { rows } = await sql<{ n: number | string }>`
          select count(*) as n from tpm_activations
          where code_id = ${codeId} and consumed_at is null and expires_at > ${int(at, 'at')}
            and failed_attempts < ${int(maxAttempts, 'maxAttempts')}`.execute(db);
        return toNumber(rows[0]?.n ?? 0);
      }),
    failActivation: (id, codeId, at, maxAttempts) =>
      run('count a wrong tpm activation secret', async () => {
        const { rows } = await sql<{ failed_attempts: number | string }>`
          update tpm_activations set failed_attempts = failed_attempts + 1
          where id = ${id} and code_id = ${codeId} and consumed_at is null
            and expires_at > ${int(at, 'at')} and failed_attempts < ${int(maxAttempts, 'maxAttempts')}
          returning failed_attempts`.execute(db);
        const row = rows[0];
        return row === undefined ? null : toNumber(row.failed_attempts);
      }),
    consumeActivation: (id, codeId, secretHash, at, maxAttempts) =>
      run('consume tpm activation', async () => {
        const { rows } = await sql<Selectable<TpmActivationsTable>>`
          update tpm_activations set consumed_at = ${int(at, 'at')}
          where id = ${id} and code_id = ${codeId} and secret_hash = ${toBuffer(secretHash)}
            and consumed_at is null and expires_at > ${at}
            and failed_attempts < ${int(maxAttempts, 'maxAttempts')}
          returning *`.execute(db);
        const row = rows[0];
        return row === undefined ? null : activationFromRow(row);
      }),
    insertBinding: (r) =>
      run(
        'insert tpm binding',
        async () => {
          const values = [
            text(r.id, 'id'),
            text(r.codeId, 'codeId'),
            text(r.activationId, 'activationId'),
            toBuffer(r.akName),
            toBuffer(r.akPublic),
            certificatesText(r.ekCertificates),
            text(r.ekSpkiSha256, 'ekSpkiSha256'),
            int(r.boundAt, 'boundAt'),
          ];
          await sql`
            insert into tpm_bindings (id, code_id, activation_id, ak_name, ak_public, ek_certificates,
              ek_spki_sha256, bound_at)
            values (${sql.join(values)})`.execute(db);
        },
        'a TPM binding with this id or activation already exists',
      ),
    getBinding: (id) =>
      run('get tpm binding', async () => {
        const { rows } = await sql<Selectable<TpmBindingsTable>>`
          select * from tpm_bindings where id = ${id}`.execute(db);
        const row = rows[0];
        return row === undefined ? null : bindingFromRow(row);
      }),
    bindingsForCode: (codeId) =>
      run('list tpm bindings', async () => {
        const { rows } = await sql<Selectable<TpmBindingsTable>>`
          select * from tpm_bindings where code_id = ${codeId}
          order by bound_at, id limit ${MAX_BINDINGS_LISTED}`.execute(db);
        return rows.map(bindingFromRow);
      }),
  };
}

function certificatesText(certificates: readonly Uint8Array[]): string {
  return jsonText(
    certificates.map((c) => toBuffer(c).toString('base64')),
    'ekCertificates',
  );
}

function certificatesFromText(value: string): Uint8Array[] {
  const parsed: unknown = JSON.parse(value);
  if (!Array.isArray(parsed)) throw new TypeError('store: ek_certificates is not a JSON array');
  return parsed.map((c) => new Uint8Array(Buffer.from(String(c), 'base64')));
}

function activationFromRow(row: Selectable<TpmActivationsTable>): TpmActivationRecord {
  return {
    id: row.id,
    codeId: row.code_id,
    secretHash: toBytes(row.secret_hash),
    akName: toBytes(row.ak_name),
    akPublic: toBytes(row.ak_public),
    ekCertificates: certificatesFromText(row.ek_certificates),
    ekSpkiSha256: row.ek_spki_sha256,
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
    failedAttempts: toNumber(row.failed_attempts),
    consumedAt: toNullableNumber(row.consumed_at),
  };
}

function bindingFromRow(row: Selectable<TpmBindingsTable>): TpmBindingRecord {
  return {
    id: row.id,
    codeId: row.code_id,
    activationId: row.activation_id,
    akName: toBytes(row.ak_name),
    akPublic: toBytes(row.ak_public),
    ekCertificates: certificatesFromText(row.ek_certificates),
    ekSpkiSha256: row.ek_spki_sha256,
    boundAt: toNumber(row.bound_at),
  };
}
