/**
 * Keeps a long-running service's token lists current: loads them at start (from the last good
 * copies persisted in the store or a file first, so a restart works offline and sequence never goes
 * backwards across restarts), refreshes them on the shortest `refresh` interval the policy
 * names, and hands the verifier the current set. A failed refresh keeps the last good list
 * until it goes stale; the policy fails closed after that.
 *
 * @example
 * const keeper = new TokenListKeeper({ clock: Date.now, persistence: fileListStatePersistence('data/trust-lists.json') });
 * await keeper.refresh(policy.lists ?? []);
 * keeper.start(() => policies.get()?.policy.lists ?? []);
 * createVerifier({ policy, lists: () => keeper.current() });
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Clock } from '../../core/clock.js';
import { type ListFetch, type ListState, loadTokenLists, type TokenListSourceConfig } from './loader.js';
import type { TokenListSet } from './types.js';

/** Where the last good list of each id is kept between runs. */
export interface ListStatePersistence {
  load(): Promise<ReadonlyMap<string, ListState>>;
  save(states: ReadonlyMap<string, ListState>): Promise<void>;
}

/** A list source with its refresh interval (`PolicyTokenList` fits). */
export interface KeptListConfig extends TokenListSourceConfig {
  readonly refreshMs?: number;
}

/** Default refresh interval when the policy names none. */
export const DEFAULT_LIST_REFRESH_MS = 60 * 60 * 1000;
/** Never refresh more often than this, whatever the policy says. */
export const MIN_LIST_REFRESH_MS = 60 * 1000;

/** Holds the current lists; see the module comment. */
export class TokenListKeeper {
  private lists: TokenListSet = new Map();
  private state: Map<string, ListState> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<TokenListSet> | null = null;
  private stopped = false;

  constructor(
    private readonly options: {
      readonly clock: Clock;
      readonly persistence?: ListStatePersistence;
      readonly fetch?: ListFetch;
      readonly readFile?: (path: string) => Promise<Uint8Array>;
      /** Called after each refresh with the problems found (for logs). */
      readonly onRefresh?: (lists: TokenListSet) => void;
    },
  ) {}

  /** The current lists (empty before the first refresh: the policy then fails closed). */
  current(): TokenListSet {
    return this.lists;
  }

  /** Load every list now; concurrent calls share one run. */
  refresh(configs: readonly KeptListConfig[]): Promise<TokenListSet> {
    this.running ??= this.doRefresh(configs).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Refresh on the shortest interval the configs name (re-read on each round). */
  start(configs: () => readonly KeptListConfig[]): void {
    this.stop();
    this.stopped = false;
    const schedule = () => {
      if (this.stopped) return;
      const list = configs();
      if (list.length === 0) return;
      const interval = Math.max(
        MIN_LIST_REFRESH_MS,
        Math.min(...list.map((c) => c.refreshMs ?? DEFAULT_LIST_REFRESH_MS)),
      );
      this.timer = setTimeout(() => {
        // A failed round (say, the state file cannot be written) keeps the current lists.
        void this.refresh(configs())
          .catch(() => undefined)
          .finally(schedule);
      }, interval);
      this.timer.unref?.();
    };
    schedule();
  }

  /** Stop refreshing. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async doRefresh(configs: readonly KeptListConfig[]): Promise<TokenListSet> {
    if (this.state === null) {
      this.state = new Map(this.options.persistence ? await this.options.persistence.load() : []);
    } else if (this.options.persistence) {
      // Re-read each round: with the state in a shared database another instance may have
      // accepted a newer list, and a rolled-back copy served to us must be refused here too
      // (a list's sequence never goes backwards). A failed read keeps what we hold.
      const persisted = await this.options.persistence.load().catch(() => null);
      for (const [id, s] of persisted ?? []) {
        const mine = this.state.get(id);
        if (mine === undefined || s.sequence > mine.sequence) this.state.set(id, s);
      }
    }
    const before = new Map(this.state);
    const lists = await loadTokenLists(configs, {
      now: this.options.clock(),
      state: this.state,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.readFile ? { readFile: this.options.readFile } : {}),
    });
    this.lists = lists;
    const changed = [...this.state].some(
      ([id, s]) => before.get(id)?.jws !== s.jws || before.get(id)?.etag !== s.etag,
    );
    if (changed && this.options.persistence) await this.options.persistence.save(this.state);
    this.options.onRefresh?.(lists);
    return lists;
  }
}

/**
 * Persist list state as one JSON file (written to a temporary file, then renamed). The JWS in
 * it is re-verified on every load, so the file needs no protection beyond ordinary integrity.
 */
export function fileListStatePersistence(path: string): ListStatePersistence {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
        throw err;
      }
      const out = new Map<string, ListState>();
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        return out; // a damaged cache is only a cache: the next fetch rebuilds it
      }
      if (data === null || typeof data !== 'object') return out;
      for (const [id, v] of Object.entries(data as Record<string, unknown>)) {
        const s = v as Partial<ListState>;
        if (typeof s?.jws !== 'string' || typeof s.sequence !== 'number' || typeof s.fetchedAt !== 'number')
          continue;
        out.set(id, {
          jws: s.jws,
          sequence: s.sequence,
          fetchedAt: s.fetchedAt,
          ...(typeof s.etag === 'string' ? { etag: s.etag } : {}),
        });
      }
      return out;
    },
    async save(states) {
      const tmp = `${path}.tmp-${process.pid}`;
      await writeFile(tmp, `${JSON.stringify(Object.fromEntries(states), null, 2)}\n`);
      await rename(tmp, path);
    },
  };
}
