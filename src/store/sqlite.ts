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
 * - prepared statements are cached (the dialect prepares every query anew otherwise);
 * - optionally (`checkpoint: 'background'`, the service's choice), WAL checkpoints run on a
 *   second connection in a worker thread instead of inside a COMMIT on the event loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
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
  /**
   * `auto` (default): SQLite checkpoints the WAL inside the COMMIT that crosses 1000 pages,
   * on the caller's thread; with synchronous=NORMAL that checkpoint fsyncs the WAL and the
   * database file, stalling that one COMMIT (and so an event loop) for milliseconds.
   * `background`: this connection never checkpoints; a worker thread with its own connection
   * runs a PASSIVE checkpoint every `BACKGROUND_CHECKPOINT_MS` (it never blocks the writer,
   * https://sqlite.org/c3ref/wal_checkpoint_v2.html). Durability is unchanged: the same
   * commits reach the same WAL with the same syncs; only the thread that copies the WAL back
   * and fsyncs differs. If the worker fails, this connection falls back to `auto`, so the WAL
   * stays bounded. Ignored for `:memory:` and read-only databases.
   */
  readonly checkpoint?: 'auto' | 'background';
}

/** How often the background checkpointer copies the WAL back into the database file. */
export const BACKGROUND_CHECKPOINT_MS = 100;

/** SQLite's default wal_autocheckpoint (pages), restored if the background checkpointer fails. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/**
 * The checkpointer's code (CommonJS, evaluated in a worker): better-sqlite3 is resolved from
 * this module's location, so it works from the compiled package and from sources under test.
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const Database = createRequire(workerData.from)('better-sqlite3');
const db = new Database(workerData.path, { fileMustExist: true });
// Never wait in the busy handler: a PASSIVE checkpoint that meets a lock just tries again later.
db.pragma('busy_timeout = 0');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try { checkpoint.get(); } catch (err) { if (!String(err && err.code).startsWith('SQLITE_BUSY')) throw err; }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;

/** A running background checkpointer: `stop` closes its connection and ends the worker. */
interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Start the checkpointer for the WAL database at `path`. `onFailure` runs if the worker
 * cannot open the file or dies (the caller then re-enables automatic checkpoints).
 */
function startCheckpointer(path: string, onFailure: (err: unknown) => void): Checkpointer {
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: { from: import.meta.url, path, intervalMs: BACKGROUND_CHECKPOINT_MS },
  });
  // Never keep the process alive for checkpoints alone.
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.once('error', (err) => {
    if (!stopping) onFailure(err);
  });
  worker.once('exit', (code) => {
    if (!stopping) onFailure(new Error(`the SQLite checkpointer exited with code ${code}`));
  });
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      // Referenced again while it stops: otherwise a process with nothing else to do would
      // exit (code 13, an unsettled await) before the worker closed its connection.
      worker.ref();
      worker.postMessage('stop');
      // The worker closes its connection first, so ours is the last and the final close
      // checkpoints and removes the WAL as usual; a stuck worker is ended after a second.
      const guard = setTimeout(() => void worker.terminate(), 1000);
      guard.unref();
      await exited;
      clearTimeout(guard);
    },
  };
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

class ImmediateTransactionDriver extends SqliteDriver {
  readonly #setBusyTimeout: (ms: number) => void;
  readonly #beforeClose: () => Promise<void>;
  constructor(
    config: SqliteDialectConfig,
    setBusyTimeout: (ms: number) => void,
    beforeClose: () => Promise<void>,
  ) {
    super(config);
    this.#setBusyTimeout = setBusyTimeout;
    this.#beforeClose = beforeClose;
  }

  override async destroy(): Promise<void> {
    await this.#beforeClose();
    await super.destroy();
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
  readonly #beforeClose: () => Promise<void>;
  constructor(
    config: SqliteDialectConfig,
    setBusyTimeout: (ms: number) => void,
    beforeClose: () => Promise<void>,
  ) {
    super(config);
    this.#config = config;
    this.#setBusyTimeout = setBusyTimeout;
    this.#beforeClose = beforeClose;
  }
  override createDriver(): Driver {
    return new ImmediateTransactionDriver(this.#config, this.#setBusyTimeout, this.#beforeClose);
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
  let checkpointer: Checkpointer | null = null;
  if (options.checkpoint === 'background' && !readOnly && !database.memory) {
    database.pragma('wal_autocheckpoint = 0');
    checkpointer = startCheckpointer(database.name, () => {
      // Fail safe: back to checkpoints inside COMMIT, so the WAL cannot grow without bound.
      if (database.open) database.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    });
  }
  const statements = new Map<string, BetterSqlite3.Statement>();
  // Prepared once: the busy timeout is switched twice per write transaction, and
  // database.pragma() would compile the statement every time.
  const busyTimeouts = new Map<number, BetterSqlite3.Statement>();
  const setBusyTimeout = (ms: number): void => {
    let statement = busyTimeouts.get(ms);
    if (statement === undefined) {
      statement = database.prepare(`pragma busy_timeout = ${Math.trunc(ms)}`);
      busyTimeouts.set(ms, statement);
    }
    statement.run();
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
    async () => {
      await checkpointer?.stop();
    },
  );
}
