/**
 * The SQLite connection behind the store: one better-sqlite3 database in WAL mode, driven by
 * Kysely's SQLite dialect, which funnels every query through one connection guarded by a mutex
 * (so two transactions can never interleave on it), with these changes:
 *
 * - transactions begin with BEGIN IMMEDIATE: the write lock is taken at the start, so a
 *   transaction that reads then writes cannot fail half-way with SQLITE_BUSY when another
 *   connection (a second service instance, a CLI) wrote in between;
 * - that lock is awaited asynchronously (retry with back-off), not in SQLite's busy handler,
 *   which would block the whole event loop while another connection holds it; the store runs
 *   every write in such a transaction, so a busy database never stalls the service;
 * - prepared statements are cached (the dialect prepares every query anew otherwise).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';

/** How long a write waits for another connection's write lock before failing (SQLITE_BUSY). */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite's own (blocking) busy wait, for the rare lock a WAL reader or a statement inside our
 * transaction can meet (recovery, checkpoint): short, since it blocks the event loop.
 */
const SQLITE_BLOCKING_BUSY_MS = 250;

/** Distinct SQL texts kept prepared (the store issues a few dozen). */
const STATEMENT_CACHE_SIZE = 256;

/** Options for `openSqlite`. */
export interface SqliteOptions {
  /** Refuse to create the file. */
  readonly mustExist?: boolean;
  /**
   * Open read-only (implies mustExist): no write can reach the file, not even the journal
   * mode switch. For tools that only look (`audit verify`).
   */
  readonly readOnly?: boolean;
  /**
   * `normal` (default): WAL with synchronous=NORMAL is durable across process crashes
   * (SIGKILL, panics), and loses at most the last transactions on power loss or an OS crash.
   * `full`: fsync at every commit, durable across power loss, much slower.
   */
  readonly synchronous?: 'normal' | 'full';
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

class ImmediateTransactionDriver extends SqliteDriver {
  readonly #setBusyTimeout: (ms: number) => void;
  constructor(config: SqliteDialectConfig, setBusyTimeout: (ms: number) => void) {
    super(config);
    this.#setBusyTimeout = setBusyTimeout;
  }

  // BEGIN IMMEDIATE (https://sqlite.org/lang_transaction.html): take the RESERVED lock now
  // instead of upgrading a read lock later, which fails at once with SQLITE_BUSY_SNAPSHOT in
  // WAL mode if another connection committed in between. With busy_timeout 0 a held lock
  // answers SQLITE_BUSY at once and we wait here, asynchronously.
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const deadline = performance.now() + SQLITE_BUSY_TIMEOUT_MS;
    this.#setBusyTimeout(0);
    try {
      for (let delay = 1; ; delay = Math.min(delay * 2, 32)) {
        try {
          await connection.executeQuery(CompiledQuery.raw('begin immediate'));
          return;
        } catch (err) {
          if (!isBusy(err) || performance.now() >= deadline) throw err;
          await sleep(delay + Math.random() * delay);
        }
      }
    } finally {
      this.#setBusyTimeout(SQLITE_BLOCKING_BUSY_MS);
    }
  }
}

class TransactionalDdlAdapter extends SqliteAdapter {
  // SQLite runs DDL inside transactions (https://sqlite.org/lang_transaction.html). Kysely's
  // adapter says it does not, and takes no migration lock, since one connection cannot race
  // itself; but two processes opening one new file can. Saying true makes the Migrator read
  // the migration state and migrate inside one BEGIN IMMEDIATE transaction: the second
  // opener waits for the first, then finds nothing left to do.
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ProvenanceSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #setBusyTimeout: (ms: number) => void;
  constructor(config: SqliteDialectConfig, setBusyTimeout: (ms: number) => void) {
    super(config);
    this.#config = config;
    this.#setBusyTimeout = setBusyTimeout;
  }
  override createDriver(): Driver {
    return new ImmediateTransactionDriver(this.#config, this.#setBusyTimeout);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

/**
 * Open (creating unless `mustExist`) the SQLite file at `path`, or `:memory:`, and return the
 * Kysely dialect over it. Throws the driver's error (the caller translates it).
 *
 * @example
 * const db = new Kysely<Database>({ dialect: openSqlite('./provenance.db') });
 */
export function openSqlite(path: string, options: SqliteOptions = {}): SqliteDialect {
  const readOnly = options.readOnly ?? false;
  const database = new BetterSqlite3(path, {
    fileMustExist: readOnly || (options.mustExist ?? false),
    readonly: readOnly,
  });
  try {
    // WAL: readers never block the writer and the writer never blocks readers; a crash leaves
    // committed transactions in the WAL, replayed on the next open. (In-memory databases
    // have no WAL and ignore the pragma; the mode is stored in the file, so a read-only
    // opener finds it set by the service.)
    if (!readOnly) database.pragma('journal_mode = WAL');
    database.pragma(`busy_timeout = ${SQLITE_BLOCKING_BUSY_MS}`);
    database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Off by default in SQLite: the schema's foreign keys mean nothing without it.
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw err;
  }
  const statements = new Map<string, BetterSqlite3.Statement>();
  const setBusyTimeout = (ms: number): void => {
    database.pragma(`busy_timeout = ${ms}`);
  };
  return new ProvenanceSqliteDialect(
    {
      database: {
        close: () => database.close(),
        prepare: (sqlText: string) => {
          let statement = statements.get(sqlText);
          if (statement === undefined) {
            statement = database.prepare(sqlText);
            if (statements.size >= STATEMENT_CACHE_SIZE) {
              const oldest = statements.keys().next().value;
              if (oldest !== undefined) statements.delete(oldest);
            }
            statements.set(sqlText, statement);
          }
          return statement;
        },
      },
    },
    setBusyTimeout,
  );
}
