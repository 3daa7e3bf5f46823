/**
 * Run the same store tests on every backend: SQLite in memory, SQLite in a temp file (WAL)
 * and PostgreSQL (a throwaway cluster per test file, a fresh schema per test). The
 * PostgreSQL cases skip visibly without the server binaries and fail under CI=true.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { type OpenStoreOptions, openStore, type Store } from '../../src/store/index.js';
import { needPostgres, type PostgresCluster, startPostgres } from '../helpers/postgres.js';

export type BackendName = 'sqlite-memory' | 'sqlite-file' | 'postgres';

/** What a parameterised test body gets. */
export interface Backend {
  readonly name: BackendName;
  /** A fresh store (closed after the test). Skips the test when the backend is absent. */
  open(ctx: { skip: (note?: string) => void }, options?: OpenStoreOptions): Promise<Store>;
  /** A URL for a fresh empty database of this backend (opened and closed by the test itself). */
  freshUrl(ctx: { skip: (note?: string) => void }): Promise<string>;
  /** The URL `open` or `freshUrl` returned last. */
  url(): string;
  /** Open another store on the last URL `open` or `freshUrl` returned (a second instance). */
  reopen(options?: OpenStoreOptions): Promise<Store>;
}

/** `describe` once per backend, with the test body parameterised. */
export function describeBackends(
  title: string,
  body: (backend: Backend) => void,
  names: readonly BackendName[] = ['sqlite-memory', 'sqlite-file', 'postgres'],
): void {
  for (const name of names) {
    describe(`${title} [${name}]`, () => {
      let cluster: PostgresCluster | null = null;
      let tempDir: string | undefined;
      let lastUrl: string | undefined;
      let files = 0;
      const opened: Store[] = [];

      beforeAll(async () => {
        if (name === 'postgres') cluster = await startPostgres();
        if (name === 'sqlite-file') tempDir = mkdtempSync(join(tmpdir(), 'provenance-store-'));
      });
      afterEach(async () => {
        await Promise.all(opened.splice(0).map((s) => s.close()));
      });
      afterAll(async () => {
        await cluster?.stop();
        if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
      });

      const freshUrl = async (ctx: { skip: (note?: string) => void }): Promise<string> => {
        if (name === 'sqlite-memory') lastUrl = 'sqlite::memory:';
        else if (name === 'sqlite-file') lastUrl = `sqlite:${join(tempDir as string, `store-${++files}.db`)}`;
        else {
          needPostgres(ctx, cluster);
          lastUrl = await cluster.createSchema();
        }
        return lastUrl;
      };
      const track = (store: Store): Store => {
        opened.push(store);
        return store;
      };

      body({
        name,
        freshUrl,
        open: async (ctx, options) => track(await openStore(await freshUrl(ctx), options)),
        url: () => {
          if (lastUrl === undefined) throw new Error('no database opened yet');
          return lastUrl;
        },
        reopen: async (options) => {
          if (lastUrl === undefined || lastUrl === 'sqlite::memory:')
            throw new Error('reopen needs a file or PostgreSQL database opened first');
          return track(await openStore(lastUrl, options));
        },
      });
    });
  }
}
