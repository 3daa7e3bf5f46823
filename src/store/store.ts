/**
 * `openStore(url)`: the service's database behind the `Store` interface, on SQLite
 * (`sqlite:PATH`, `sqlite::memory:`) or PostgreSQL (`postgres://…`), with the same Kysely code
 * for both. Opening runs the migrations, so a new file or an empty database is ready at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Kysely, sql } from 'kysely';
import type { Clock } from '../core/clock.js';
import { ProvenanceError } from '../core/errors.js';
import { AuditChainWalker } from './audit-chain.js';
import { guard, type StoreLogger, storeError } from './db-errors.js';
import { migrateToLatest, pendingMigrations, type StoreDialect } from './migrations.js';
import { openPostgres, redactDatabaseUrl } from './postgres.js';
import { AUDIT_PAGE_ROWS, auditRowFromDb, createRepositories } from './repositories.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';
import type { AuditVerification, Store, StoreRepositories } from './types.js';
import { toNumber } from './values.js';

/** Options for `openStore`. */
export interface OpenStoreOptions {
  /**
   * Accepted so every service component takes the same options; the store reads no clock:
   * every time it writes comes from the caller's record, so tests control all of them.
   */
  readonly clock?: Clock;
  /** Where failures and migrations are reported (pino's Logger fits). */
  readonly logger?: StoreLogger;
  /** SQLite: fail (STORE_UNAVAILABLE) instead of creating a missing database file. */
  readonly mustExist?: boolean;
  /**
   * false: do not create or migrate the schema; fail (STORE_UNAVAILABLE) unless the database
   * already has this release's schema. For tools that must not write (`audit verify`).
   * Default true.
   */
  readonly migrate?: boolean;
  /**
   * Look only: implies `mustExist` and `migrate: false`, and opens the SQLite file read-only
   * or makes every PostgreSQL session read-only, so nothing can be written.
   */
  readonly readOnly?: boolean;
  /** SQLite durability, see `SqliteOptions.synchronous` (default 'normal'). */
  readonly sqliteSynchronous?: 'normal' | 'full';
  /** SQLite WAL checkpoints: see `SqliteOptions.checkpoint` (default 'auto'; the service uses 'background'). */
  readonly sqliteCheckpoint?: 'auto' | 'background';
  /** PostgreSQL pool size (default 10). */
  readonly maxConnections?: number;
}

/** A parsed store URL. */
export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

/**
 * `sqlite:PATH` (relative to the working directory), `sqlite::memory:`, or
 * `postgres://…` / `postgresql://…`; anything else is USAGE.
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '')
      throw new ProvenanceError('USAGE', 'sqlite: URL needs a path, e.g. sqlite:./provenance.db');
    return { kind: 'sqlite', path };
  }
  if (/^postgres(?:ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  throw new ProvenanceError(
    'USAGE',
    `unsupported database URL ${JSON.stringify(redactDatabaseUrl(url))}: use sqlite:PATH, sqlite::memory: or postgres://user@host/db`,
  );
}

/**
 * Open the store at `url` and bring its schema up to date.
 *
 * On SQLite every statement and transaction goes through one connection, one at a time; on
 * PostgreSQL through a pool. Either way, inside `transaction(fn)` use the repositories `fn`
 * receives: calling the store itself there would wait for the transaction that is waiting
 * for it, so it fails at once with a TypeError instead.
 *
 * @example
 * const store = await openStore('sqlite:./provenance-data/provenance.db', { logger });
 * const record = await store.transaction(async (tx) => {
 *   const challenge = await tx.challenges.consume(id, codeId, now);
 *   if (!challenge) throw new ProvenanceError('CHALLENGE_INVALID', 'challenge used or expired');
 *   return tx.audit.append({ event: 'enrollment.issued', actor: `code:${codeId}`, subject, data: {}, at: now });
 * });
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  const logger = options.logger;
  const where = location.kind === 'sqlite' ? location.path : redactDatabaseUrl(location.url);
  let db: Kysely<Database>;
  try {
    const dialect =
      location.kind === 'sqlite'
        ? openSqlite(location.path, {
            ...(options.mustExist === undefined ? {} : { mustExist: options.mustExist }),
            ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
            ...(options.sqliteSynchronous === undefined ? {} : { synchronous: options.sqliteSynchronous }),
            ...(options.sqliteCheckpoint === undefined ? {} : { checkpoint: options.sqliteCheckpoint }),
          })
        : openPostgres(location.url, {
            logger,
            ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
            ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
          });
    db = new Kysely<Database>({ dialect });
  } catch (err) {
    throw storeError(err, `open ${location.kind} database ${where}`, { logger });
  }
  try {
    if (options.migrate === false || options.readOnly === true) {
      const pending = await pendingMigrations(db, location.kind);
      if (pending.length > 0)
        throw new ProvenanceError(
          'STORE_UNAVAILABLE',
          `the database ${where} does not hold this release's Provenance schema (missing ${pending.join(', ')}): start the service on it once to create or migrate it`,
          { pending },
        );
    } else {
      await migrate(db, location.kind, logger);
    }
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw storeError(err, `open ${location.kind} database ${where}`, { logger });
  }
  return new KyselyStore(db, location.kind, logger);
}

async function migrate(
  db: Kysely<Database>,
  dialect: StoreDialect,
  logger: StoreLogger | undefined,
): Promise<void> {
  // Concurrent openers are safe: Kysely tolerates racing creation of its bookkeeping tables
  // and then migrates under a lock (PostgreSQL: advisory lock; SQLite: BEGIN IMMEDIATE).
  const applied = await migrateToLatest(db, dialect);
  if (applied.length > 0) logger?.info({ migrations: applied }, 'store: schema migrated');
}

/** The transaction a call is running inside, if any (per store; follows async calls). */
interface TransactionScope {
  open: boolean;
}

class KyselyStore implements Store {
  readonly adminTokens: StoreRepositories['adminTokens'];
  readonly codes: StoreRepositories['codes'];
  readonly challenges: StoreRepositories['challenges'];
  readonly enrollments: StoreRepositories['enrollments'];
  readonly certificates: StoreRepositories['certificates'];
  readonly audit: StoreRepositories['audit'];
  readonly trustLists: StoreRepositories['trustLists'];
  readonly nextCounter: StoreRepositories['nextCounter'];
  readonly tpm: NonNullable<StoreRepositories['tpm']>;
  readonly #db: Kysely<Database>;
  readonly #logger: StoreLogger | undefined;
  readonly #scope = new AsyncLocalStorage<TransactionScope>();
  #closed: Promise<void> | undefined;

  constructor(
    db: Kysely<Database>,
    readonly kind: StoreDialect,
    logger: StoreLogger | undefined,
  ) {
    this.#db = db;
    this.#logger = logger;
    const direct = createRepositories({
      db,
      logger,
      atomically: (fn) => db.transaction().execute((trx) => fn(trx)),
    });
    const repositories = outsideTransactions(
      kind === 'sqlite' ? writesInTransactions(direct, (fn) => this.transaction(fn)) : direct,
      () => this.#inTransaction(),
    );
    this.adminTokens = repositories.adminTokens;
    this.codes = repositories.codes;
    this.challenges = repositories.challenges;
    this.enrollments = repositories.enrollments;
    this.certificates = repositories.certificates;
    this.audit = repositories.audit;
    this.trustLists = repositories.trustLists;
    this.nextCounter = repositories.nextCounter;
    if (repositories.tpm === undefined) throw new TypeError('store: the TPM repository is missing');
    this.tpm = repositories.tpm;
  }

  #inTransaction(): boolean {
    return this.#scope.getStore()?.open === true;
  }

  async transaction<T>(fn: (tx: StoreRepositories) => Promise<T>): Promise<T> {
    if (this.#inTransaction()) throw new TypeError(NESTED_TRANSACTION);
    // Errors from fn (CHALLENGE_INVALID, ENROLLMENT_CODE_USED, …) roll back and reach the
    // caller unchanged; only failures of BEGIN/COMMIT/ROLLBACK themselves are translated.
    let fnError: { error: unknown } | undefined;
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const scope: TransactionScope = { open: true };
        try {
          return await this.#scope.run(scope, () =>
            fn(createRepositories({ db: trx, logger: this.#logger, atomically: (inner) => inner(trx) })),
          );
        } catch (error) {
          fnError = { error };
          throw error;
        } finally {
          scope.open = false;
        }
      });
    } catch (err) {
      if (fnError !== undefined && err === fnError.error) throw err;
      throw storeError(err, 'transaction', { logger: this.#logger });
    }
  }

  verifyAudit(): Promise<AuditVerification> {
    if (this.#inTransaction()) return Promise.reject(new TypeError(NESTED_TRANSACTION));
    return guard(
      'verify audit log',
      async () => {
        const walker = new AuditChainWalker();
        const broken = (seq: number, problem: string): AuditVerification => ({
          ok: false,
          records: walker.records,
          firstBad: seq,
          problem,
          head: walker.head,
        });
        let after = 0;
        // Appends may commit while we read: when the head is ahead of the last page, read
        // on; only a head that stays ahead with nothing left to read means a deleted tail.
        let idleRounds = 0;
        for (;;) {
          const rows = await this.#db
            .selectFrom('audit')
            .selectAll()
            .where('seq', '>', after)
            .orderBy('seq')
            .limit(AUDIT_PAGE_ROWS)
            .execute();
          for (const row of rows) {
            const fault = walker.next(auditRowFromDb(row));
            if (fault !== null) return broken(fault.seq, fault.problem);
          }
          const last = rows.at(-1);
          if (last !== undefined) after = toNumber(last.seq);
          if (rows.length === AUDIT_PAGE_ROWS) continue;
          const head = await this.#db
            .selectFrom('audit_head')
            .select(['seq', 'hash'])
            .where('id', '=', 1)
            .executeTakeFirst();
          if (head === undefined)
            return broken(
              walker.records + 1,
              'the audit head row is missing: the end of the log cannot be checked',
            );
          const headSeq = toNumber(head.seq);
          idleRounds = rows.length === 0 ? idleRounds + 1 : 0;
          if (headSeq > walker.records && idleRounds < 2) continue;
          const fault = walker.finish({ seq: headSeq, hash: head.hash });
          if (fault !== null) return broken(fault.seq, fault.problem);
          return { ok: true, records: walker.records, firstBad: null, problem: null, head: walker.head };
        }
      },
      { logger: this.#logger },
    );
  }

  ping(): Promise<void> {
    if (this.#inTransaction()) return Promise.reject(new TypeError(NESTED_TRANSACTION));
    return guard(
      'ping',
      async () => {
        await sql`select 1`.execute(this.#db);
      },
      { logger: this.#logger },
    );
  }

  close(): Promise<void> {
    this.#closed ??= this.#db.destroy();
    return this.#closed;
  }
}

const NESTED_TRANSACTION =
  'store: inside transaction(fn), use the repositories fn receives (the store itself would wait for this transaction)';

/**
 * SQLite: run each single-statement write in its own BEGIN IMMEDIATE transaction, so the write
 * lock is awaited asynchronously (see sqlite.ts) rather than in SQLite's blocking busy handler.
 * The statement is still one atomic step; the transaction only changes how the lock is taken.
 */
function writesInTransactions(
  repositories: StoreRepositories,
  transaction: <T>(fn: (tx: StoreRepositories) => Promise<T>) => Promise<T>,
): StoreRepositories {
  return {
    ...repositories,
    adminTokens: {
      ...repositories.adminTokens,
      create: (r) => transaction((tx) => tx.adminTokens.create(r)),
    },
    codes: {
      ...repositories.codes,
      create: (r) => transaction((tx) => tx.codes.create(r)),
      markUsed: (id, at) => transaction((tx) => tx.codes.markUsed(id, at)),
    },
    challenges: {
      ...repositories.challenges,
      create: (r) => transaction((tx) => tx.challenges.create(r)),
      consume: (id, codeId, at) => transaction((tx) => tx.challenges.consume(id, codeId, at)),
    },
    enrollments: {
      ...repositories.enrollments,
      insert: (r) => transaction((tx) => tx.enrollments.insert(r)),
    },
    certificates: {
      ...repositories.certificates,
      insert: (r) => transaction((tx) => tx.certificates.insert(r)),
      revoke: (serial, at, reason) => transaction((tx) => tx.certificates.revoke(serial, at, reason)),
    },
    trustLists: {
      ...repositories.trustLists,
      save: (r) => transaction((tx) => tx.trustLists.save(r)),
    },
    // audit.append already runs in its own transaction (`atomically`).
    nextCounter: (name) => transaction((tx) => tx.nextCounter(name)),
    ...(repositories.tpm === undefined ? {} : { tpm: tpmWrites(repositories.tpm, transaction) }),
  };
}

/** The TPM repository's writes, each in its own BEGIN IMMEDIATE transaction (SQLite). */
function tpmWrites(
  tpm: NonNullable<StoreRepositories['tpm']>,
  transaction: <T>(fn: (tx: StoreRepositories) => Promise<T>) => Promise<T>,
): NonNullable<StoreRepositories['tpm']> {
  const inTx = <T>(fn: (t: NonNullable<StoreRepositories['tpm']>) => Promise<T>): Promise<T> =>
    transaction((tx) => {
      if (tx.tpm === undefined) throw new TypeError('store: the TPM repository is missing');
      return fn(tx.tpm);
    });
  return {
    ...tpm,
    createActivation: (r) => inTx((t) => t.createActivation(r)),
    failActivation: (...a) => inTx((t) => t.failActivation(...a)),
    consumeActivation: (...a) => inTx((t) => t.consumeActivation(...a)),
    insertBinding: (r) => inTx((t) => t.insertBinding(r)),
  };
}

/** Wrap every repository method to fail fast when called from inside a transaction. */
function outsideTransactions(
  repositories: StoreRepositories,
  inTransaction: () => boolean,
): StoreRepositories {
  const wrap = <F extends (...args: never[]) => Promise<unknown>>(fn: F): F =>
    ((...args: Parameters<F>) =>
      inTransaction() ? Promise.reject(new TypeError(NESTED_TRANSACTION)) : fn(...args)) as unknown as F;
  const group = <G extends object>(methods: G): G =>
    Object.fromEntries(
      Object.entries(methods).map(([name, fn]) => [name, wrap(fn as (...args: never[]) => Promise<unknown>)]),
    ) as G;
  return {
    adminTokens: group(repositories.adminTokens),
    codes: group(repositories.codes),
    challenges: group(repositories.challenges),
    enrollments: group(repositories.enrollments),
    certificates: group(repositories.certificates),
    audit: group(repositories.audit),
    trustLists: group(repositories.trustLists),
    nextCounter: wrap(repositories.nextCounter),
    ...(repositories.tpm === undefined ? {} : { tpm: group(repositories.tpm) }),
  };
}
