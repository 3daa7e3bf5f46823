import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { BACKGROUND_CHECKPOINT_MS } from '../../src/store/sqlite.js';
import { enrollmentCode } from './records.js';

const dir = mkdtempSync(join(tmpdir(), 'provenance-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write `n` codes, each in its own transaction (as the service does). */
async function writeCodes(store: Awaited<ReturnType<typeof openStore>>, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const code = enrollmentCode();
    await store.codes.create(code);
    ids.push(code.id);
  }
  return ids;
}

/** Poll until `check` holds or `ms` passed. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

describe('SQLite background checkpoints', () => {
  it('copies committed pages into the database file from the worker, long before 1000 WAL pages', async () => {
    const path = join(dir, 'background.db');
    const store = await openStore(`sqlite:${path}`, { sqliteCheckpoint: 'background' });
    try {
      // Let the migration's pages be checkpointed, then measure what the writes add.
      await sleep(BACKGROUND_CHECKPOINT_MS * 3);
      const before = statSync(path).size;
      const ids = await writeCodes(store, 100);
      // Far below the 1000 pages that trigger an automatic checkpoint: only the worker moves them.
      expect(await eventually(() => statSync(path).size > before, 5000)).toBe(true);
      expect((await store.codes.get(ids[99]!))?.id).toBe(ids[99]);
    } finally {
      await store.close();
    }
    // Our connection closes last: the final checkpoint runs and the WAL is removed, as without the worker.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('keeps every committed record across a close and reopen', async () => {
    const path = join(dir, 'reopen.db');
    const store = await openStore(`sqlite:${path}`, { sqliteCheckpoint: 'background' });
    const ids = await writeCodes(store, 50);
    await store.close();
    const again = await openStore(`sqlite:${path}`, { mustExist: true });
    try {
      for (const id of ids) expect((await again.codes.get(id))?.id).toBe(id);
    } finally {
      await again.close();
    }
  });

  it('does without the worker for an in-memory database', async () => {
    const store = await openStore('sqlite::memory:', { sqliteCheckpoint: 'background' });
    try {
      const [id] = await writeCodes(store, 1);
      expect((await store.codes.get(id!))?.id).toBe(id);
    } finally {
      await store.close();
    }
  });
});
