/**
 * The keeper's list state in the service's database (issue #4 §1): the last good list of
 * each id lives in the `trust_lists` table, so a restart works offline and every instance
 * sharing one PostgreSQL database refuses a list whose sequence went backwards. The store's
 * save is forward-only; the JWS is re-verified on every load, so a row is never trusted alone.
 *
 * @example
 * const keeper = new TokenListKeeper({ clock: Date.now, persistence: storeListStatePersistence(store) });
 * await importListStateFile(store, join(dataDir, 'trust-lists.json')); // once, at start
 */
import type { StoreRepositories, TrustListRecord } from '../../store/types.js';
import { fileListStatePersistence, type ListStatePersistence } from './keeper.js';
import type { ListState } from './loader.js';

/** The part of the store the persistence needs. */
export type TrustListStore = Pick<StoreRepositories, 'trustLists'>;

/** Keep list state in the store's `trust_lists` table (forward-only writes). */
export function storeListStatePersistence(store: TrustListStore): ListStatePersistence {
  return {
    async load() {
      const out = new Map<string, ListState>();
      for (const row of await store.trustLists.all()) out.set(row.id, toState(row));
      return out;
    },
    async save(states) {
      // Each row is its own forward-only upsert: a row another instance moved further keeps
      // its newer list (save returns false), and the keeper picks it up on its next load.
      for (const [id, state] of states) await store.trustLists.save(toRecord(id, state));
    },
  };
}

/**
 * Copy the list state of a pre-database release (`trust-lists.json`) into the store. Safe to
 * run on every start: the store keeps whichever sequence is higher, and the file is only read
 * (left in place for a downgrade). Returns the ids the store took.
 */
export async function importListStateFile(store: TrustListStore, path: string): Promise<string[]> {
  const taken: string[] = [];
  for (const [id, state] of await fileListStatePersistence(path).load()) {
    // A damaged entry is skipped, as the file loader skips one: the file was only a cache.
    if (!Number.isSafeInteger(state.sequence) || !Number.isSafeInteger(state.fetchedAt)) continue;
    if (await store.trustLists.save(toRecord(id, state))) taken.push(id);
  }
  return taken;
}

function toState(row: TrustListRecord): ListState {
  return {
    sequence: row.sequence,
    jws: row.jws,
    fetchedAt: row.fetchedAt,
    ...(row.etag === null ? {} : { etag: row.etag }),
  };
}

function toRecord(id: string, state: ListState): TrustListRecord {
  return {
    id,
    sequence: state.sequence,
    jws: state.jws,
    etag: state.etag ?? null,
    fetchedAt: state.fetchedAt,
  };
}
