import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodePem } from '../../../src/core/pem.js';
import { startService } from '../../../src/server/serve.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { TokenListKeeper } from '../../../src/trust/lists/keeper.js';
import {
  importListStateFile,
  storeListStatePersistence,
} from '../../../src/trust/lists/store-persistence.js';
import { isListProblem, type VerifiedTokenList } from '../../../src/trust/lists/types.js';
import { NOW, nativeHierarchy } from '../../verify/fixtures.js';
import { DAY, entry, publisher, sign } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'provenance-list-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pub = publisher();
const spki = new Uint8Array(pub.publicKey.export({ type: 'spki', format: 'der' }));
const config = { id: 'sector', location: '/lists/sector.jws', publisherKeys: [{ spki }], graceMs: 0 };

let files = 0;
const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A database file that several "instances" (stores) open, as service replicas share one. */
function databaseUrl(): string {
  return `sqlite:${join(dir, `lists-${++files}.db`)}`;
}

async function instance(url: string): Promise<Store> {
  const store = await openStore(url);
  opened.push(store);
  return store;
}

/** A service's keeper over the store; `serve` returns the list its source has now (null: offline). */
function keeper(store: Store, serve: () => string | null): TokenListKeeper {
  return new TokenListKeeper({
    clock: () => NOW,
    persistence: storeListStatePersistence(store),
    readFile: async () => {
      const text = serve();
      if (text === null) throw new Error('ENOENT');
      return new TextEncoder().encode(text);
    },
  });
}

function sequenceOf(lists: Awaited<ReturnType<TokenListKeeper['refresh']>>): number {
  const list = lists.get('sector');
  expect(list !== undefined && !isListProblem(list)).toBe(true);
  return (list as VerifiedTokenList).sequence;
}

describe('token list state in the store', () => {
  it('a service restarted offline reads the last good list from the database', async () => {
    const url = databaseUrl();
    const jws = await sign(pub, { sequence: 4 });
    const first = await instance(url);
    await keeper(first, () => jws).refresh([config]);
    await first.close();

    const restarted = await instance(url);
    expect(sequenceOf(await keeper(restarted, () => null).refresh([config]))).toBe(4);
    expect(await restarted.trustLists.get('sector')).toMatchObject({ sequence: 4, jws, fetchedAt: NOW });
  });

  it('refuses a rolled-back list in an instance that starts after another accepted a newer one', async () => {
    const url = databaseUrl();
    const [v4, v5] = [await sign(pub, { sequence: 4 }), await sign(pub, { sequence: 5 })];
    await keeper(await instance(url), () => v5).refresh([config]);
    const lists = await keeper(await instance(url), () => v4).refresh([config]);
    expect(lists.get('sector')).toMatchObject({ problem: true, code: 'LIST_ROLLBACK' });
  });

  it('refuses a rolled-back list in a running instance once another instance accepted a newer one', async () => {
    const url = databaseUrl();
    const [v3, v4, v5] = [
      await sign(pub, { sequence: 3 }),
      await sign(pub, { sequence: 4 }),
      await sign(pub, { sequence: 5 }),
    ];
    let servedToB = v3;
    const a = keeper(await instance(url), () => v5);
    const b = keeper(await instance(url), () => servedToB);
    expect(sequenceOf(await b.refresh([config]))).toBe(3);
    expect(sequenceOf(await a.refresh([config]))).toBe(5);
    // B's source now serves 4: newer than what B saw itself, older than the database holds.
    servedToB = v4;
    const lists = await b.refresh([config]);
    expect(lists.get('sector')).toMatchObject({ problem: true, code: 'LIST_ROLLBACK' });
    expect((await (await instance(url)).trustLists.get('sector'))?.sequence).toBe(5);
  });

  it('an instance that lost the race keeps the newer row, and the next round uses it', async () => {
    const url = databaseUrl();
    const [v6, v7] = [await sign(pub, { sequence: 6 }), await sign(pub, { sequence: 7 })];
    const storeA = await instance(url);
    const storeB = await instance(url);
    const b = keeper(storeB, () => v6);
    expect(sequenceOf(await b.refresh([config]))).toBe(6);
    await keeper(storeA, () => v7).refresh([config]);
    // B's source goes offline: it falls back to the last good list, now the database's 7.
    const offline = keeper(storeB, () => null);
    expect(sequenceOf(await offline.refresh([config]))).toBe(7);
  });

  it('imports a trust-lists.json of an older release once, forward-only, and leaves the file', async () => {
    const url = databaseUrl();
    const store = await instance(url);
    const v6 = await sign(pub, { sequence: 6 });
    const file = join(dir, `legacy-${files}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        sector: { sequence: 6, jws: v6, fetchedAt: NOW, etag: '"v6"' },
        broken: { sequence: 1.5, jws: 'x', fetchedAt: NOW },
      }),
    );
    expect(await importListStateFile(store, file)).toEqual(['sector']);
    expect(await store.trustLists.get('sector')).toMatchObject({ sequence: 6, jws: v6, etag: '"v6"' });
    expect(await store.trustLists.get('broken')).toBeNull();

    const v7 = await sign(pub, { sequence: 7 });
    await keeper(store, () => v7).refresh([config]);
    // A later start imports the same (older) file again: the store keeps 7.
    expect(await importListStateFile(store, file)).toEqual([]);
    expect((await store.trustLists.get('sector'))?.sequence).toBe(7);
    expect(await importListStateFile(store, join(dir, 'absent.json'))).toEqual([]);
  });
});

describe('provenance serve keeps its token lists in the database', () => {
  it('imports an old trust-lists.json on start, then restarts offline from the database alone', async () => {
    const cwd = mkdtempSync(join(dir, 'serve-'));
    const h = nativeHierarchy();
    writeFileSync(join(cwd, 'root.pem'), encodePem('CERTIFICATE', h.root.der));
    writeFileSync(
      join(cwd, 'publisher.pem'),
      pub.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    writeFileSync(
      join(cwd, 'policy.yaml'),
      [
        'version: 1',
        'trust: [{ id: gemalto, certificates: [root.pem] }]',
        // The source never exists: every list the service has comes from its saved state.
        'lists: [{ id: sector, source: sector.jws, publisherKeys: [publisher.pem], refresh: 1h }]',
        'allow: [{ id: sector-approved, list: { id: sector, minLevel: 2 } }]',
        '',
      ].join('\n'),
    );
    const now = Date.now();
    const jws = await sign(pub, {
      sequence: 6,
      issuedAt: new Date(now - DAY).toISOString(),
      nextUpdate: new Date(now + 30 * DAY).toISOString(),
      entries: [entry('dotnet', h.model.cert.spkiSha256)],
    });
    mkdirSync(join(cwd, 'data'));
    const legacy = `${JSON.stringify({ sector: { sequence: 6, jws, fetchedAt: now } })}\n`;
    writeFileSync(join(cwd, 'data', 'trust-lists.json'), legacy);

    const start = async (): Promise<string> => {
      let err = '';
      const service = await startService({
        data: 'data',
        listen: '127.0.0.1:0',
        env: {},
        clock: Date.now,
        out: () => {},
        err: (t) => {
          err += t;
        },
        logger: pino({ level: 'silent' }) as never,
        cwd,
        policy: join(cwd, 'policy.yaml'),
      });
      await service.close();
      return err;
    };

    expect(await start()).not.toContain('token list');
    // The file is left as it was; the store now holds the list.
    expect(readFileSync(join(cwd, 'data', 'trust-lists.json'), 'utf8')).toBe(legacy);
    rmSync(join(cwd, 'data', 'trust-lists.json'));
    expect(await start()).not.toContain('token list');
    const store = await instance(`sqlite:${join(cwd, 'data', 'provenance.db')}`);
    expect(await store.trustLists.get('sector')).toMatchObject({ sequence: 6, jws });
  });
});
