/**
 * Raw SQL on a store's database, bypassing the store: what an attacker (or a careless
 * operator) with database access can do. Used to tamper with the audit log in tests.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export interface RawDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** Run one statement with positional parameters (`?` on SQLite, `$1` on PostgreSQL). */
  run(sql: string, params?: unknown[]): Promise<void>;
  /** Rows of one query. */
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Drop the triggers that make the audit log append-only. */
  dropAuditTriggers(): Promise<void>;
  close(): Promise<void>;
}

export async function openRaw(url: string): Promise<RawDatabase> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return {
      kind: 'sqlite',
      run: async (sql, params = []) => {
        db.prepare(sql).run(...params);
      },
      all: async <T>(sql: string, params: unknown[] = []) => db.prepare(sql).all(...params) as T[],
      dropAuditTriggers: async () => {
        for (const t of ['audit_no_update', 'audit_no_delete', 'audit_head_forward', 'audit_head_keep'])
          db.exec(`drop trigger ${t}`);
      },
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    kind: 'postgres',
    run: async (sql, params = []) => {
      await client.query(sql, params);
    },
    all: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    dropAuditTriggers: async () => {
      for (const [t, table] of [
        ['audit_no_update', 'audit'],
        ['audit_no_truncate', 'audit'],
        ['audit_head_forward', 'audit_head'],
        ['audit_head_no_truncate', 'audit_head'],
      ])
        await client.query(`drop trigger ${t} on ${table}`);
    },
    close: async () => {
      await client.end();
    },
  };
}

/** `?` placeholders for SQLite, `$n` for PostgreSQL. */
export function placeholders(raw: RawDatabase, sql: string): string {
  if (raw.kind === 'sqlite') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
