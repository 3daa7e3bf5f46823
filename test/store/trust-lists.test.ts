import { expect, it } from 'vitest';
import type { Store, TrustListRecord } from '../../src/store/index.js';
import { describeBackends } from './backends.js';
import { T0 } from './records.js';

function record(over: Partial<TrustListRecord> = {}): TrustListRecord {
  const sequence = over.sequence ?? 1;
  return {
    id: 'sector',
    sequence,
    jws: `header.payload-${sequence}.signature`,
    etag: null,
    fetchedAt: T0,
    ...over,
  };
}

describeBackends('store trust lists', (backend) => {
  it('stores the first list of an id and reads it back by id and in all()', async (ctx) => {
    const store = await backend.open(ctx);
    expect(await store.trustLists.get('sector')).toBeNull();
    expect(await store.trustLists.all()).toEqual([]);
    const first = record({ sequence: 3, etag: '"v3"' });
    expect(await store.trustLists.save(first)).toBe(true);
    const other = record({ id: 'another', sequence: 9 });
    expect(await store.trustLists.save(other)).toBe(true);
    expect(await store.trustLists.get('sector')).toEqual(first);
    expect(await store.trustLists.all()).toEqual([other, first]);
  });

  it('moves forward to a higher sequence', async (ctx) => {
    const store = await backend.open(ctx);
    await store.trustLists.save(record({ sequence: 3 }));
    const newer = record({ sequence: 4, fetchedAt: T0 + 1000, etag: '"v4"' });
    expect(await store.trustLists.save(newer)).toBe(true);
    expect(await store.trustLists.get('sector')).toEqual(newer);
  });

  it('never lets a lower sequence overwrite a higher one (reports false, keeps the row)', async (ctx) => {
    const store = await backend.open(ctx);
    const kept = record({ sequence: 5 });
    await store.trustLists.save(kept);
    expect(await store.trustLists.save(record({ sequence: 4, fetchedAt: T0 + 1000 }))).toBe(false);
    expect(await store.trustLists.get('sector')).toEqual(kept);
  });

  it('refreshes etag and fetchedAt for the same list at the same sequence', async (ctx) => {
    const store = await backend.open(ctx);
    await store.trustLists.save(record({ sequence: 5, etag: '"a"' }));
    const refreshed = record({ sequence: 5, etag: null, fetchedAt: T0 + 60_000 });
    expect(await store.trustLists.save(refreshed)).toBe(true);
    expect(await store.trustLists.get('sector')).toEqual(refreshed);
  });

  it('refuses another JWS at the same sequence (a substituted list is a rollback too)', async (ctx) => {
    const store = await backend.open(ctx);
    const kept = record({ sequence: 5 });
    await store.trustLists.save(kept);
    expect(await store.trustLists.save({ ...kept, jws: 'other.list.signature', fetchedAt: T0 + 1 })).toBe(
      false,
    );
    expect(await store.trustLists.get('sector')).toEqual(kept);
  });

  it('rejects a non-integer sequence as a caller bug (TypeError) before writing', async (ctx) => {
    const store = await backend.open(ctx);
    await expect(store.trustLists.save(record({ sequence: 1.5 }))).rejects.toBeInstanceOf(TypeError);
    expect(await store.trustLists.all()).toEqual([]);
  });

  it('keeps the highest sequence when two instances race with saves in any order', async (ctx) => {
    const first = await backend.open(ctx);
    // Two instances on one database where the backend has a shared one; else one store.
    const second: Store = backend.name === 'sqlite-memory' ? first : await backend.reopen();
    const sequences = [7, 3, 12, 1, 12, 9, 5, 11, 2, 10, 4, 8, 6];
    const results = await Promise.all(
      sequences.map((sequence, i) => (i % 2 === 0 ? first : second).trustLists.save(record({ sequence }))),
    );
    expect((await first.trustLists.get('sector'))?.sequence).toBe(12);
    expect((await second.trustLists.get('sector'))?.sequence).toBe(12);
    // Both saves of 12 wrote, whichever landed first (the second is the same list again).
    expect([results[2], results[4]]).toEqual([true, true]);
  });
});
