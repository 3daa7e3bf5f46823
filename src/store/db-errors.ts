/**
 * Database failures as ProvenanceErrors, the same for both drivers:
 * - a unique or primary-key violation → STORE_CONFLICT (a duplicate serial, code, token…);
 * - any other integrity violation (foreign key, check, NOT NULL, the append-only triggers)
 *   → INTERNAL: the caller handed the store an inconsistent record, which is a bug;
 * - everything else (unreachable server, busy, disk full, corrupt file, missing schema)
 *   → STORE_UNAVAILABLE.
 * The driver's error stays attached as `cause` (never in the message sent to clients).
 */
import { isProvenanceError, ProvenanceError } from '../core/errors.js';

/** What a store logger needs (pino's Logger satisfies it). */
export interface StoreLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

interface DriverError {
  readonly code?: unknown;
  readonly constraint?: unknown;
  readonly table?: unknown;
  readonly message?: unknown;
}

/** SQLSTATE class 23: integrity constraint violation (PostgreSQL). */
const PG_UNIQUE_VIOLATION = '23505';

function kindOf(err: unknown): 'conflict' | 'integrity' | 'unavailable' {
  const code = typeof (err as DriverError)?.code === 'string' ? ((err as DriverError).code as string) : '';
  // better-sqlite3: SqliteError.code is the extended result code name.
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'conflict';
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'integrity';
  // pg: DatabaseError.code is the SQLSTATE.
  if (code === PG_UNIQUE_VIOLATION) return 'conflict';
  if (/^23[0-9A-Z]{3}$/.test(code)) return 'integrity';
  return 'unavailable';
}

/** The constraint or column the database named, for details (never secret). */
function constraintOf(err: unknown): string | undefined {
  const e = err as DriverError;
  if (typeof e?.constraint === 'string') return e.constraint;
  const m = typeof e?.message === 'string' ? /constraint failed: (.+)$/.exec(e.message) : null;
  return m?.[1];
}

/**
 * Translate a driver error raised during `operation`. ProvenanceErrors pass through;
 * `conflict` words the STORE_CONFLICT message ("a certificate with this serial already exists").
 */
export function storeError(
  err: unknown,
  operation: string,
  options: { conflict?: string; logger?: StoreLogger | undefined } = {},
): ProvenanceError {
  if (isProvenanceError(err)) return err;
  const kind = kindOf(err);
  const constraint = constraintOf(err);
  const details = { operation, ...(constraint === undefined ? {} : { constraint }) };
  if (kind === 'conflict') {
    return new ProvenanceError(
      'STORE_CONFLICT',
      `${operation}: ${options.conflict ?? 'a record with the same unique key already exists'}`,
      details,
      { cause: err },
    );
  }
  // The driver's message may name hosts, paths or SQL: it goes to the log and `cause`,
  // never into the message an API client could see.
  options.logger?.error({ err, operation }, `store: ${operation} failed`);
  if (kind === 'integrity') {
    return new ProvenanceError(
      'INTERNAL',
      `${operation}: the database refused an inconsistent record`,
      details,
      {
        cause: err,
      },
    );
  }
  return new ProvenanceError(
    'STORE_UNAVAILABLE',
    `${operation}: the database is unavailable or failed`,
    details,
    {
      cause: err,
    },
  );
}

/** The driver's own words for a store error (for operators: CLI output, logs), or ''. */
export function storeErrorReason(err: ProvenanceError): string {
  const cause = err.cause;
  return cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
}

/** Run a database operation and translate what it throws (TypeErrors from our checks pass). */
export async function guard<T>(
  operation: string,
  run: () => Promise<T>,
  options: { conflict?: string; logger?: StoreLogger | undefined } = {},
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof TypeError && (err as DriverError).code === undefined) throw err;
    throw storeError(err, operation, options);
  }
}
