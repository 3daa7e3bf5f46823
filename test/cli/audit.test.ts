import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { needPostgres, type PostgresCluster, startPostgres } from '../helpers/postgres.js';

const root = mkdtempSync(join(tmpdir(), 'provenance-audit-cli-'));
let counter = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function appendThree(store: Store): Promise<void> {
  for (let i = 1; i <= 3; i++) {
    await store.audit.append({
      event: 'code.created',
      actor: 'admin:1',
      subject: `code:${i}`,
      data: { i },
      at: i,
    });
  }
}

/** A data directory whose database holds three audit records. */
async function dataDir(dbFile = 'provenance.db'): Promise<string> {
  const dir = join(root, `data-${++counter}`);
  mkdirSync(dir);
  const store = await openStore(`sqlite:${join(dir, dbFile)}`);
  await appendThree(store);
  await store.close();
  return dir;
}

function tamper(dbPath: string, statement: string): void {
  const db = new Database(dbPath);
  try {
    db.exec('drop trigger audit_no_update; drop trigger audit_no_delete;');
    db.exec(statement);
  } finally {
    db.close();
  }
}

describe('provenance audit verify', () => {
  it('reports an intact log with its record count and head, exit 0', async () => {
    const dir = await dataDir();
    const run = await runCli(['audit', 'verify', '--data', dir]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^audit log intact: 3 records, head [0-9a-f]{64}\n$/);
  });

  it('checks the log while the service has the database open and keeps writing', async () => {
    const dir = join(root, `live-${++counter}`);
    mkdirSync(dir);
    const service = await openStore(`sqlite:${join(dir, 'provenance.db')}`);
    try {
      await appendThree(service);
      const first = await runCli(['audit', 'verify', '--data', dir]);
      expect(first.out).toContain('3 records');
      await appendThree(service);
      const second = await runCli(['audit', 'verify', '--data', dir]);
      expect(second.code).toBe(0);
      expect(second.out).toContain('6 records');
    } finally {
      await service.close();
    }
  });

  it('names the first edited record, exit 1', async () => {
    const dir = await dataDir();
    tamper(join(dir, 'provenance.db'), `update audit set data = '{"i":99}' where seq = 2`);
    const run = await runCli(['audit', 'verify', '--data', dir]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('audit log BROKEN at record 2: record 2 was edited');
  });

  it('names a deleted record, exit 1', async () => {
    const dir = await dataDir();
    tamper(join(dir, 'provenance.db'), 'delete from audit where seq = 1');
    const run = await runCli(['audit', 'verify', '--db', `sqlite:${join(dir, 'provenance.db')}`]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('audit log BROKEN at record 1: record 1 is missing');
  });

  it('prints the result as JSON with --json', async () => {
    const dir = await dataDir();
    const ok = await runCli(['audit', 'verify', '--data', dir, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, records: 3, firstBad: null, problem: null });
    tamper(join(dir, 'provenance.db'), 'delete from audit where seq = 3');
    const broken = await runCli(['audit', 'verify', '--data', dir, '--json']);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out)).toMatchObject({ ok: false, records: 2, firstBad: 3 });
  });

  it("reads the database from the data directory's config.yaml", async () => {
    const dir = await dataDir('elsewhere.db');
    writeFileSync(join(dir, 'config.yaml'), 'db: sqlite:./elsewhere.db\n');
    const run = await runCli(['audit', 'verify', '--data', dir]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('3 records');
  });

  it('refuses a missing database with IO_ERROR (exit 2) and creates nothing', async () => {
    const dir = join(root, 'empty');
    mkdirSync(dir, { recursive: true });
    const run = await runCli(['audit', 'verify', '--data', dir]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^error: IO_ERROR: no database at .*provenance\.db/);
    expect(() => readFileSync(join(dir, 'provenance.db'))).toThrow();
  });

  it('refuses a SQLite file that is not a Provenance database, without changing it', async () => {
    const path = join(root, 'other.db');
    const other = new Database(path);
    other.exec('create table notes (id integer primary key, text text)');
    other.close();
    const before = readFileSync(path);
    const run = await runCli(['audit', 'verify', '--db', `sqlite:${path}`]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^error: STORE_UNAVAILABLE: .*does not hold this release's Provenance schema/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses --data with --db (USAGE) and an unknown database URL', async () => {
    const both = await runCli(['audit', 'verify', '--data', root, '--db', 'sqlite::memory:']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('USAGE');
    const mysql = await runCli(['audit', 'verify', '--db', 'mysql://root:secret@db/x']);
    expect(mysql.code).toBe(2);
    expect(mysql.err).toContain('USAGE');
    expect(mysql.err).not.toContain('secret');
  });
});

describe('provenance audit verify on PostgreSQL', () => {
  let cluster: PostgresCluster | null = null;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('checks the log of a PostgreSQL store given with --db', async (ctx) => {
    needPostgres(ctx, cluster);
    const url = await cluster.createSchema();
    const store = await openStore(url);
    await appendThree(store);
    await store.close();
    const run = await runCli(['audit', 'verify', '--db', url]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^audit log intact: 3 records, head [0-9a-f]{64}\n$/);
  });
});
