/**
 * The PostgreSQL connection behind the store: a `pg` Pool driven by Kysely's PostgreSQL
 * dialect. Several service instances may share the database: every atomic step is a single
 * statement or a transaction, and audit appends serialise on the audit head's row lock.
 */
import { CompiledQuery, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { StoreLogger } from './db-errors.js';

/** Options for `openPostgres`. */
export interface PostgresOptions {
  /** Pool size (default 10). */
  readonly maxConnections?: number;
  /** Give up connecting after this long (default 10 s): /readyz must answer, not hang. */
  readonly connectTimeoutMs?: number;
  readonly logger?: StoreLogger | undefined;
  /** Every session read-only (tools that only look, such as `audit verify`). */
  readonly readOnly?: boolean;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db` (for logs and messages). */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/**
 * A Kysely dialect over a new pool for `url`. Connections open lazily, so a wrong URL shows
 * at the first query (the store's migrations), not here.
 *
 * @example
 * const db = new Kysely<Database>({ dialect: openPostgres('postgres://app@db/provenance') });
 */
export function openPostgres(url: string, options: PostgresOptions = {}): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its server emits 'error' on the pool; unhandled, it would kill
  // the process. The next query gets a fresh client (or a STORE_UNAVAILABLE error).
  pool.on('error', (err) => {
    options.logger?.warn({ err }, 'store: an idle PostgreSQL connection failed');
  });
  return new PostgresDialect({
    pool,
    ...(options.readOnly === true
      ? {
          // The server then refuses any write in this session (SQLSTATE 25006), whatever the SQL.
          onCreateConnection: async (connection) => {
            await connection.executeQuery(
              CompiledQuery.raw('set session characteristics as transaction read only'),
            );
          },
        }
      : {}),
  });
}
