/**
 * The SQLite connection behind the store: one better-sqlite3 database in WAL mode, driven by
 * Kysely's SQLite dialect, which funnels every query through one connection guarded by a mutex
 * (so two transactions can never interleave on it), with two changes:
 *
 * - transactions begin with BEGIN IMMEDIATE: the write lock is taken at the start, so a
 *   transaction that reads then writes cannot fail half-way with SQLITE_BUSY when another
 *   process (a second service instance, `provenance audit verify`) touched the file;
 * - prepared statements are cached (the dialect prepares every query anew otherwise).
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';

/** How long a statement waits for another process's write lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** Distinct SQL texts kept prepared (the store issues a few dozen). */
const STATEMENT_CACHE_SIZE = 256;

/** Options for `openSqlite`. */
export interface SqliteOptions {
  /** Refuse to create the file (read-only tools such as `audit verify`). */
  readonly mustExist?: boolean;
  /**
   * `normal` (default): WAL with synchronous=NORMAL is durable across process crashes
   * (SIGKILL, panics), and loses at most the last transactions on power loss or an OS crash.
   * `full`: fsync at every commit, durable across power loss, much slower.
   */
  readonly synchronous?: 'normal' | 'full';
}

class ImmediateTransactionDriver extends SqliteDriver {
  // BEGIN IMMEDIATE (https://sqlite.org/lang_transaction.html): take the RESERVED lock now,
  // waiting up to busy_timeout, instead of upgrading a read lock later, which fails at once
  // with SQLITE_BUSY_SNAPSHOT in WAL mode if another connection committed in between.
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ProvenanceSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateTransactionDriver(this.#config);
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
  const database = new BetterSqlite3(path, { fileMustExist: options.mustExist ?? false });
  try {
    // WAL: readers never block the writer and the writer never blocks readers; a crash leaves
    // committed transactions in the WAL, replayed on the next open. (In-memory databases
    // have no WAL and ignore the pragma.)
    database.pragma('journal_mode = WAL');
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Off by default in SQLite: the schema's foreign keys mean nothing without it.
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw err;
  }
  const statements = new Map<string, BetterSqlite3.Statement>();
  return new ProvenanceSqliteDialect({
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
  });
}
