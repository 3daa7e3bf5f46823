/**
 * Schema migrations, shipped in code (no migration files to lose) and run by Kysely's Migrator
 * on every open: an up-to-date database is left untouched, so opening twice is harmless.
 *
 * A migration, once released, never changes: a new schema change is a new entry.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Database } from './schema.js';

/** The two SQL dialects the store speaks. */
export type StoreDialect = 'sqlite' | 'postgres';

/** 64 hex zeros: the `prevHash` of the first audit record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The tables, in creation order (tests and tools iterate over them). */
export const STORE_TABLES = [
  'admin_tokens',
  'enrollment_codes',
  'challenges',
  'enrollments',
  'certificates',
  'audit',
  'audit_head',
  'counters',
  'trust_lists',
  'tpm_activations',
  'tpm_bindings',
] as const;

/**
 * Migration 001: every table with its constraints (unique code hash, token hash and serial,
 * foreign keys, checks), the indexes behind the admin filters, and the triggers that make the
 * audit log append-only at the database level.
 */
function initialSchema(dialect: StoreDialect): Migration {
  // SQLite STRICT tables accept only INTEGER/TEXT/BLOB; PostgreSQL wants BIGINT for
  // millisecond times (they overflow int4) and BYTEA for bytes.
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  // SQLite: STRICT makes the declared types binding (no silent text in an integer column).
  const strict = dialect === 'sqlite' ? sql`strict` : sql``;

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('admin_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', bytes, (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', int8, (c) => c.notNull())
        .addColumn('revoked_at', int8)
        .addUniqueConstraint('admin_tokens_token_hash_key', ['token_hash'])
        .modifyEnd(strict)
        .execute();

      await db.schema
        .createTable('enrollment_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('code_hash', bytes, (c) => c.notNull())
        .addColumn('customer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('created_at', int8, (c) => c.notNull())
        .addColumn('expires_at', int8, (c) => c.notNull())
        .addColumn('used_at', int8)
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('enrollment_codes_code_hash_key', ['code_hash'])
        .modifyEnd(strict)
        .execute();
      await db.schema
        .createIndex('enrollment_codes_created_idx')
        .on('enrollment_codes')
        .columns(['created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('enrollment_codes_customer_idx')
        .on('enrollment_codes')
        .columns(['customer', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('challenges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('code_id', 'text', (c) => c.notNull().references('enrollment_codes.id'))
        .addColumn('nonce', bytes, (c) => c.notNull())
        .addColumn('created_at', int8, (c) => c.notNull())
        .addColumn('expires_at', int8, (c) => c.notNull())
        .addColumn('consumed_at', int8)
        .modifyEnd(strict)
        .execute();
      await db.schema
        .createIndex('challenges_code_idx')
        .on('challenges')
        .columns(['code_id', 'expires_at'])
        .execute();

      // enrollments and certificates point at each other (an issued enrollment names its
      // certificate; a certificate names its enrollment). Both foreign keys are DEFERRABLE
      // INITIALLY DEFERRED so the enrollment flow may insert them in either order inside its
      // one transaction; they are checked at COMMIT.
      let enrollments = db.schema
        .createTable('enrollments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('code_id', 'text', (c) => c.notNull().references('enrollment_codes.id'))
        .addColumn('challenge_id', 'text', (c) => c.notNull().references('challenges.id'))
        .addColumn('customer', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('format', 'text')
        .addColumn('matched_rule', 'text')
        .addColumn('policy_digest', 'text', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('policy_input', 'text', (c) => c.notNull())
        .addColumn('evidence', bytes)
        .addColumn('key_spki_sha256', 'text')
        .addColumn('certificate_serial', 'text')
        .addColumn('created_at', int8, (c) => c.notNull())
        // A challenge is single-use: at most one enrollment can ever come from it.
        .addUniqueConstraint('enrollments_challenge_key', ['challenge_id'])
        .addUniqueConstraint('enrollments_certificate_key', ['certificate_serial'])
        .addCheckConstraint('enrollments_status_check', sql`status in ('issued', 'rejected')`)
        .addCheckConstraint(
          'enrollments_issued_has_certificate',
          sql`(status = 'issued') = (certificate_serial is not null)`,
        );
      if (dialect === 'sqlite') {
        // SQLite cannot add a constraint later, but accepts a reference to a table created after.
        enrollments = enrollments.addForeignKeyConstraint(
          'enrollments_certificate_fk',
          ['certificate_serial'],
          'certificates',
          ['serial'],
          (fk) => fk.deferrable().initiallyDeferred(),
        );
      }
      await enrollments.modifyEnd(strict).execute();
      for (const [name, columns] of [
        ['enrollments_created_idx', ['created_at', 'id']],
        ['enrollments_customer_idx', ['customer', 'created_at', 'id']],
        ['enrollments_status_idx', ['status', 'created_at', 'id']],
        ['enrollments_format_idx', ['format', 'created_at', 'id']],
        ['enrollments_code_idx', ['code', 'created_at', 'id']],
        ['enrollments_code_id_idx', ['code_id']],
      ] as const) {
        await db.schema
          .createIndex(name)
          .on('enrollments')
          .columns([...columns])
          .execute();
      }

      await db.schema
        .createTable('certificates')
        .addColumn('serial', 'text', (c) => c.primaryKey())
        .addColumn('enrollment_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('not_before', int8, (c) => c.notNull())
        .addColumn('not_after', int8, (c) => c.notNull())
        .addColumn('der', bytes, (c) => c.notNull())
        .addColumn('spki_sha256', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('revoked_at', int8)
        .addColumn('revocation_reason', 'text')
        .addUniqueConstraint('certificates_enrollment_key', ['enrollment_id'])
        .addForeignKeyConstraint(
          'certificates_enrollment_fk',
          ['enrollment_id'],
          'enrollments',
          ['id'],
          (fk) => fk.deferrable().initiallyDeferred(),
        )
        .addCheckConstraint('certificates_status_check', sql`status in ('good', 'revoked')`)
        // Serials are lower-case hex of whole bytes without a sign pad, at most 20 octets
        // (RFC 5280 §4.1.2.2), so one number has one spelling and the primary key really
        // means "never issue a serial twice".
        .addCheckConstraint(
          'certificates_serial_check',
          dialect === 'postgres'
            ? sql`serial ~ '^([0-9a-f]{2}){1,20}$'`
            : sql`serial not glob '*[^0-9a-f]*' and length(serial) between 2 and 40 and length(serial) % 2 = 0`,
        )
        .modifyEnd(strict)
        .execute();
      await db.schema.createIndex('certificates_status_idx').on('certificates').column('status').execute();
      if (dialect === 'postgres') {
        await db.schema
          .alterTable('enrollments')
          .addForeignKeyConstraint(
            'enrollments_certificate_fk',
            ['certificate_serial'],
            'certificates',
            ['serial'],
            (fk) => fk.deferrable().initiallyDeferred(),
          )
          .execute();
      }

      await db.schema
        .createTable('audit')
        .addColumn('seq', int8, (c) => c.primaryKey())
        .addColumn('at', int8, (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addCheckConstraint('audit_seq_check', sql`seq >= 1`)
        .modifyEnd(strict)
        .execute();
      await db.schema.createIndex('audit_event_idx').on('audit').columns(['event', 'seq']).execute();
      await db.schema.createIndex('audit_at_idx').on('audit').columns(['at', 'seq']).execute();

      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', int8, (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addCheckConstraint('audit_head_single_row', sql`id = 1`)
        .modifyEnd(strict)
        .execute();
      await sql`insert into audit_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);

      await db.schema
        .createTable('counters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', int8, (c) => c.notNull())
        .modifyEnd(strict)
        .execute();

      await appendOnlyTriggers(db, dialect);
    },
  };
}

/**
 * The audit log is append-only at the database level too: UPDATE, DELETE (and on PostgreSQL
 * TRUNCATE) of audit rows raise, and the head may only move forward. This stops accidents and
 * casual edits; someone who drops the triggers is still caught by `verifyAudit`, which checks
 * every hash and link.
 */
async function appendOnlyTriggers(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  if (dialect === 'sqlite') {
    for (const statement of [
      sql`create trigger audit_no_update before update on audit
          begin select raise(abort, 'audit log is append-only'); end`,
      sql`create trigger audit_no_delete before delete on audit
          begin select raise(abort, 'audit log is append-only'); end`,
      sql`create trigger audit_head_forward before update on audit_head
          when new.seq < old.seq or new.id <> old.id
          begin select raise(abort, 'audit head only moves forward'); end`,
      sql`create trigger audit_head_keep before delete on audit_head
          begin select raise(abort, 'audit head only moves forward'); end`,
    ]) {
      await statement.execute(db);
    }
    return;
  }
  for (const statement of [
    sql`create function provenance_audit_append_only() returns trigger language plpgsql as $$
        begin raise exception 'audit log is append-only' using errcode = 'restrict_violation'; end $$`,
    sql`create trigger audit_no_update before update or delete on audit
        for each row execute function provenance_audit_append_only()`,
    sql`create trigger audit_no_truncate before truncate on audit
        for each statement execute function provenance_audit_append_only()`,
    sql`create function provenance_audit_head_forward() returns trigger language plpgsql as $$
        begin
          -- Nested IFs: PL/pgSQL does not promise to short-circuit OR, and NEW/OLD are NULL
          -- for DELETE and statement-level TRUNCATE triggers.
          if tg_op <> 'UPDATE' then
            raise exception 'audit head only moves forward' using errcode = 'restrict_violation';
          end if;
          if new.seq < old.seq or new.id <> old.id then
            raise exception 'audit head only moves forward' using errcode = 'restrict_violation';
          end if;
          return new;
        end $$`,
    sql`create trigger audit_head_forward before update or delete on audit_head
        for each row execute function provenance_audit_head_forward()`,
    sql`create trigger audit_head_no_truncate before truncate on audit_head
        for each statement execute function provenance_audit_head_forward()`,
  ]) {
    await statement.execute(db);
  }
}

/**
 * Migration 002: the last good signed token list per list id (issue #4 §1), so a restarted
 * service works offline and every instance sharing the database refuses a rolled-back list.
 * The JWS is re-verified on every load; the row only says "this is the newest seen".
 */
function trustListsSchema(dialect: StoreDialect): Migration {
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  const strict = dialect === 'sqlite' ? sql`strict` : sql``;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('trust_lists')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sequence', int8, (c) => c.notNull())
        .addColumn('jws', 'text', (c) => c.notNull())
        .addColumn('etag', 'text')
        .addColumn('fetched_at', int8, (c) => c.notNull())
        .addCheckConstraint('trust_lists_sequence_check', sql`sequence >= 0`)
        .modifyEnd(strict)
        .execute();
    },
  };
}

/**
 * Migration 003: TPM credential activation (issue #5). `tpm_activations` holds each pending
 * MakeCredential challenge (the SHA-256 of its secret, never the secret; expiry; wrong tries;
 * single use), `tpm_bindings` each AK proven resident beside a trusted EK.
 */
function tpmBindingsSchema(dialect: StoreDialect): Migration {
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  const strict = dialect === 'sqlite' ? sql`strict` : sql``;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tpm_activations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('code_id', 'text', (c) => c.notNull().references('enrollment_codes.id'))
        .addColumn('secret_hash', bytes, (c) => c.notNull())
        .addColumn('ak_name', bytes, (c) => c.notNull())
        .addColumn('ak_public', bytes, (c) => c.notNull())
        .addColumn('ek_certificates', 'text', (c) => c.notNull())
        .addColumn('ek_spki_sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', int8, (c) => c.notNull())
        .addColumn('expires_at', int8, (c) => c.notNull())
        .addColumn('failed_attempts', int8, (c) => c.notNull())
        .addColumn('consumed_at', int8)
        .addCheckConstraint('tpm_activations_attempts_check', sql`failed_attempts >= 0`)
        .modifyEnd(strict)
        .execute();
      await db.schema
        .createIndex('tpm_activations_code_idx')
        .on('tpm_activations')
        .columns(['code_id', 'expires_at'])
        .execute();

      await db.schema
        .createTable('tpm_bindings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('code_id', 'text', (c) => c.notNull().references('enrollment_codes.id'))
        .addColumn('activation_id', 'text', (c) => c.notNull().references('tpm_activations.id'))
        .addColumn('ak_name', bytes, (c) => c.notNull())
        .addColumn('ak_public', bytes, (c) => c.notNull())
        .addColumn('ek_certificates', 'text', (c) => c.notNull())
        .addColumn('ek_spki_sha256', 'text', (c) => c.notNull())
        .addColumn('bound_at', int8, (c) => c.notNull())
        // One binding per activation: a secret proves residency once.
        .addUniqueConstraint('tpm_bindings_activation_key', ['activation_id'])
        .modifyEnd(strict)
        .execute();
      await db.schema.createIndex('tpm_bindings_code_idx').on('tpm_bindings').columns(['code_id']).execute();
      await db.schema
        .createIndex('tpm_bindings_ak_name_idx')
        .on('tpm_bindings')
        .columns(['ak_name'])
        .execute();
    },
  };
}

/** The in-code provider: every migration of this release, by name (applied in name order). */
export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return {
    getMigrations: async () => ({
      '001_initial': initialSchema(dialect),
      '002_trust_lists': trustListsSchema(dialect),
      '003_tpm_bindings': tpmBindingsSchema(dialect),
    }),
  };
}

/** Kysely's record of applied migrations, named for this application so another Kysely app can share the schema. */
export const MIGRATION_TABLE = 'provenance_migration';
/** Kysely's migration lock row, named likewise. */
export const MIGRATION_LOCK_TABLE = 'provenance_migration_lock';

/**
 * Bring the schema up to date. Concurrent openers are safe: Kysely's Migrator takes a lock
 * (PostgreSQL: an advisory lock; SQLite: the write transaction).
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: StoreDialect): Promise<string[]> {
  const { error, results } = await (await migratorFor(db, dialect)).migrateToLatest();
  if (error !== undefined) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The migrations this release knows that the database has not run, read without writing
 * anything (no bookkeeping tables are created): for tools that must not change the database.
 */
export async function pendingMigrations(db: Kysely<Database>, dialect: StoreDialect): Promise<string[]> {
  const migrations = await (await migratorFor(db, dialect)).getMigrations();
  return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

async function migratorFor(db: Kysely<Database>, dialect: StoreDialect): Promise<Migrator> {
  // On PostgreSQL, Kysely looks for its bookkeeping table in every schema unless told which:
  // pin it to the schema our tables go to (the first of search_path), or a store in another
  // schema of the same database would be taken for this one.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  return new Migrator({
    db,
    provider: migrationProvider(dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
}
