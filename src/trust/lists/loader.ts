/**
 * Load the token lists a policy names: read a file or fetch an https URL (injected fetch,
 * conditional request with the last ETag, timeout, size limit), verify against the pinned
 * publisher keys and the last sequence seen, and check freshness. Never throws for a list
 * problem: each list becomes a VerifiedTokenList or a ListProblem, and the policy fails closed
 * on problems (docs/token-list.md, "Consuming a list").
 *
 * @example
 * const state = new Map();   // keep across refreshes: sequences never go backwards
 * const lists = await loadTokenLists(policy.lists ?? [], { now: Date.now(), state });
 * createVerifier({ policy, lists });
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile as readFileAsync } from 'node:fs/promises';
import { isProvenanceError } from '../../core/errors.js';
import { verifyTokenList } from './jws.js';
import { TOKEN_LIST_LIMITS } from './schema.js';
import type { ListProblem, TokenListSet, VerifiedTokenList } from './types.js';

/** What the loader needs of a policy's list entry (`PolicyTokenList` fits). */
export interface TokenListSourceConfig {
  readonly id: string;
  /** An https URL or a file path. */
  readonly location: string;
  readonly publisherKeys: readonly { readonly spki: Uint8Array }[];
  readonly graceMs: number;
}

/** The minimal fetch the loader uses (the global fetch fits). */
export type ListFetch = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal; redirect: 'error' },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
}>;

/** What the loader remembers per list id between loads (persist it to survive restarts). */
export interface ListState {
  readonly sequence: number;
  readonly jws: string;
  readonly etag?: string;
  readonly fetchedAt: number;
}

/** Options of `loadTokenLists`. */
export interface LoadTokenListsOptions {
  /** The instant to judge freshness at (ms). */
  readonly now: number;
  /** Last good list per id; updated in place with each newly accepted list. */
  readonly state?: Map<string, ListState>;
  readonly fetch?: ListFetch;
  readonly readFile?: (path: string) => Promise<Uint8Array>;
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Largest accepted body (default TOKEN_LIST_LIMITS.maxJwsBytes). */
  readonly maxBytes?: number;
}

/**
 * Load, verify and check every list; the result maps each id to its list or its problem.
 *
 * @example
 * const lists = await loadTokenLists(policy.lists ?? [], { now: Date.now() });
 */
export async function loadTokenLists(
  configs: readonly TokenListSourceConfig[],
  options: LoadTokenListsOptions,
): Promise<TokenListSet> {
  const out = new Map<string, VerifiedTokenList | ListProblem>();
  await Promise.all(
    configs.map(async (config) => {
      out.set(config.id, await loadOne(config, options));
    }),
  );
  return out;
}

async function loadOne(
  config: TokenListSourceConfig,
  options: LoadTokenListsOptions,
): Promise<VerifiedTokenList | ListProblem> {
  const last = options.state?.get(config.id);
  let text: string;
  let etag: string | undefined;
  try {
    const got = await readSource(config, options, last);
    text = got.text;
    etag = got.etag;
  } catch (err) {
    // Unreachable source: the last good list (from this process or the store) still counts
    // until it goes stale; it is re-verified, never trusted from memory alone.
    const reason = err instanceof Error ? err.message : String(err);
    if (last === undefined)
      return problem(
        config.id,
        'LIST_UNAVAILABLE',
        `token list "${config.id}" cannot be loaded from ${config.location}: ${reason}`,
      );
    text = last.jws;
    etag = last.etag;
  }
  let keys: KeyObject[];
  try {
    keys = config.publisherKeys.map((k) =>
      createPublicKey({ key: Buffer.from(k.spki), format: 'der', type: 'spki' }),
    );
  } catch {
    return problem(
      config.id,
      'LIST_SIGNATURE_INVALID',
      `token list "${config.id}": a pinned publisher key does not decode`,
    );
  }
  let list: VerifiedTokenList;
  try {
    list = await verifyTokenList(text, {
      id: config.id,
      publisherKeys: keys,
      ...(last === undefined ? {} : { lastSeen: { sequence: last.sequence, jws: last.jws } }),
    });
  } catch (err) {
    if (!isProvenanceError(err)) throw err;
    const code =
      (['LIST_INVALID', 'LIST_SIGNATURE_INVALID', 'LIST_ROLLBACK'] as const).find((c) => c === err.code) ??
      'LIST_INVALID';
    return problem(config.id, code, err.message);
  }
  if (list.issuedAtMs > options.now + 5 * 60 * 1000)
    return problem(
      config.id,
      'LIST_INVALID',
      `token list "${config.id}" is issued in the future (${list.issuedAt})`,
    );
  if (last === undefined || list.sequence > last.sequence || etag !== last.etag)
    options.state?.set(config.id, {
      sequence: list.sequence,
      jws: list.jws,
      fetchedAt: options.now,
      ...(etag === undefined ? {} : { etag }),
    });
  if (options.now > list.nextUpdateMs + config.graceMs) {
    return {
      id: config.id,
      problem: true,
      code: 'LIST_STALE',
      message: `token list "${config.id}" is stale: nextUpdate was ${list.nextUpdate}`,
      list,
    };
  }
  return list;
}

async function readSource(
  config: TokenListSourceConfig,
  options: LoadTokenListsOptions,
  last: ListState | undefined,
): Promise<{ text: string; etag?: string }> {
  const max = options.maxBytes ?? TOKEN_LIST_LIMITS.maxJwsBytes;
  if (!/^https:\/\//i.test(config.location)) {
    const bytes = await (
      options.readFile ?? ((p: string) => readFileAsync(p).then((b) => new Uint8Array(b)))
    )(config.location);
    if (bytes.length > max) throw new Error(`the file is ${bytes.length} bytes, above ${max}`);
    return { text: new TextDecoder().decode(bytes) };
  }
  const fetchImpl = options.fetch ?? (globalThis.fetch as unknown as ListFetch);
  const headers: Record<string, string> = { accept: 'application/jose, application/octet-stream;q=0.5' };
  if (last?.etag !== undefined) headers['if-none-match'] = last.etag;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const response = await fetchImpl(config.location, { headers, signal, redirect: 'error' });
  if (response.status === 304) {
    if (last === undefined) throw new Error('304 Not Modified without a stored list');
    return { text: last.jws, ...(last.etag === undefined ? {} : { etag: last.etag }) };
  }
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > max) throw new Error(`the list is ${length} bytes, above ${max}`);
  const text = await readBounded(response.body, max, signal);
  const etag = response.headers.get('etag') ?? undefined;
  return { text, ...(etag === undefined ? {} : { etag }) };
}

/** Read a body, stopping (and cancelling) as soon as it exceeds `max` bytes. */
async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  max: number,
  signal: AbortSignal,
): Promise<string> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    if (signal.aborted) {
      await reader.cancel();
      throw new Error('timed out');
    }
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      throw new Error(`the list exceeds ${max} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function problem(id: string, code: ListProblem['code'], message: string): ListProblem {
  return { id, problem: true, code, message };
}
