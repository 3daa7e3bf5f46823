import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ProvenanceError } from '../../src/core/errors.js';
import { openStore, parseStoreUrl, STORE_TABLES, type StoreLogger } from '../../src/store/index.js';
import { describeBackends } from './backends.js';
import { openRaw } from './raw.js';
import { enrollmentCode, T0 } from './records.js';

const dir = mkdtempSync(join(tmpdir(), 'provenance-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openError(
  url: string,
  options: Parameters<typeof openStore>[1] = {},
): Promise<ProvenanceError> {
  const err = await openStore(url, options).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProvenanceError);
  return err as ProvenanceError;
}

function recordingLogger(): StoreLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (_: object, message?: string): void => {
    lines.push(message ?? '');
  };
  return { lines, info: log, warn: log, error: log };
}

describe('store URLs', () => {
  it('accepts sqlite:PATH, sqlite::memory: and postgres:// or postgresql://', () => {
    expect(parseStoreUrl('sqlite:./data/provenance.db')).toEqual({
      kind: 'sqlite',
      path: './data/provenance.db',
    });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStoreUrl('postgres://app@db/provenance')).toEqual({
      kind: 'postgres',
      url: 'postgres://app@db/provenance',
    });
    expect(parseStoreUrl('postgresql://app@db/p').kind).toBe('postgres');
  });

  it('refuses other URLs with USAGE, without echoing a password', () => {
    for (const url of ['mysql://root:hunter2@db/x', 'sqlite:', './provenance.db', 'http://x']) {
      let err: unknown;
      try {
        parseStoreUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProvenanceError);
      expect((err as ProvenanceError).code).toBe('USAGE');
      expect((err as ProvenanceError).message).not.toContain('hunter2');
    }
  });
});

describe('opening a store that cannot be opened', () => {
  it('fails with STORE_UNAVAILABLE and creates nothing when a required SQLite file is missing', async () => {
    const path = join(dir, 'missing.db');
    const err = await openError(`sqlite:${path}`, { mustExist: true });
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain(path);
    expect(existsSync(path)).toBe(false);
  });

  it('fails with STORE_UNAVAILABLE for a SQLite file in a directory that does not exist', async () => {
    const err = await openError(`sqlite:${join(dir, 'no', 'such', 'dir', 'p.db')}`);
    expect(err.code).toBe('STORE_UNAVAILABLE');
  });

  it('fails with STORE_UNAVAILABLE (no password in the message) when PostgreSQL is unreachable', async () => {
    // A port nobody listens on: bind, read the number, close.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
      });
    });
    const logger = recordingLogger();
    const err = await openError(`postgres://app:hunter2@127.0.0.1:${port}/provenance`, { logger });
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.status).toBe(503);
    expect(err.message).toContain('postgres://app:***@127.0.0.1');
    expect(err.message).not.toContain('hunter2');
    expect(err.cause).toBeInstanceOf(Error);
    expect(logger.lines.length).toBeGreaterThan(0);
  });

  it('turns calls on a closed store into STORE_UNAVAILABLE', async () => {
    const store = await openStore('sqlite::memory:');
    await store.close();
    const err = await store.codes.get('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvenanceError);
    expect((err as ProvenanceError).code).toBe('STORE_UNAVAILABLE');
  });

  it('accepts a pino logger', async () => {
    const store = await openStore('sqlite::memory:', { logger: pino({ level: 'silent' }) });
    await store.ping();
    await store.close();
  });
});

describeBackends(
  'migrations',
  (backend) => {
    it('creates every table once, and a second open migrates nothing and keeps the data', async (ctx) => {
      const logger = recordingLogger();
      const first = await backend.open(ctx, { logger });
      expect(logger.lines).toEqual(['store: schema migrated']);
      const code = enrollmentCode();
      await first.codes.create(code);
      await first.audit.append({ event: 'x.y', actor: 'system', subject: 's', data: {}, at: T0 });
      await first.close();

      const again = recordingLogger();
      const second = await backend.reopen({ logger: again });
      expect(again.lines).toEqual([]);
      expect(await second.codes.get(code.id)).toEqual(code);
      expect(await second.verifyAudit()).toMatchObject({ ok: true, records: 1 });

      const raw = await openRaw(backend.url());
      try {
        const migrations = await raw.all<{ name: string }>('select name from provenance_migration');
        expect(migrations.map((m) => m.name)).toEqual(['001_initial', '002_trust_lists', '003_tpm_bindings']);
        const tables =
          raw.kind === 'sqlite'
            ? await raw.all<{ name: string }>("select name from sqlite_master where type = 'table'")
            : await raw.all<{ name: string }>(
                'select table_name as name from information_schema.tables where table_schema = current_schema()',
              );
        expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining([...STORE_TABLES]));
      } finally {
        await raw.close();
      }
    });

    it('lets two instances open one empty database at the same moment', async (ctx) => {
      const url = await backend.freshUrl(ctx);
      const [a, b] = await Promise.all([openStore(url), openStore(url)]);
      try {
        await a.codes.create(enrollmentCode());
        expect((await b.codes.list({})).items).toHaveLength(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('opens read-only: reads, refuses every write, and never creates the schema', async (ctx) => {
      const url = await backend.freshUrl(ctx);
      if (backend.name === 'postgres') {
        // An empty database: a read-only opener must not create the schema in it.
        const err = await openError(url, { readOnly: true });
        expect(err.code).toBe('STORE_UNAVAILABLE');
        expect(err.message).toContain("does not hold this release's Provenance schema");
      }
      const writer = await openStore(url);
      const code = enrollmentCode();
      await writer.codes.create(code);
      const reader = await openStore(url, { readOnly: true });
      try {
        expect(await reader.codes.get(code.id)).toEqual(code);
        expect(await reader.verifyAudit()).toMatchObject({ ok: true });
        for (const write of [
          () => reader.codes.create(enrollmentCode()),
          () => reader.audit.append({ event: 'x.y', actor: 'system', subject: 's', data: {}, at: T0 }),
          () => reader.nextCounter('crl-number'),
        ]) {
          const err = await write().catch((e: unknown) => e);
          expect((err as ProvenanceError).code).toBe('STORE_UNAVAILABLE');
        }
        // The writer is unaffected and sees no stray rows.
        expect((await writer.codes.list({})).items).toHaveLength(1);
      } finally {
        await reader.close();
        await writer.close();
      }
    });

    it('refuses (STORE_UNAVAILABLE) a database migrated by a newer release it does not know', async (ctx) => {
      const url = await backend.freshUrl(ctx);
      const store = await openStore(url);
      await store.close();
      const raw = await openRaw(url);
      try {
        // What a later release would leave behind: a migration this code has never heard of.
        await raw.run(
          "insert into provenance_migration (name, timestamp) values ('999_future', '2030-01-01')",
        );
      } finally {
        await raw.close();
      }
      const err = await openError(url);
      expect(err.code).toBe('STORE_UNAVAILABLE');
    });
  },
  ['sqlite-file', 'postgres'],
);

describe('SQLite settings', () => {
  it('uses the WAL journal for a file database (readers never block the writer)', async () => {
    const path = join(dir, 'wal.db');
    const store = await openStore(`sqlite:${path}`);
    const raw = await openRaw(`sqlite:${path}`);
    try {
      expect(await raw.all('pragma journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    } finally {
      await raw.close();
      await store.close();
    }
  });
});
