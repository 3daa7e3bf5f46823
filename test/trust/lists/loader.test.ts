import { describe, expect, it } from 'vitest';
import { type ListFetch, type ListState, loadTokenLists } from '../../../src/trust/lists/loader.js';
import { isListProblem, type ListProblem, type VerifiedTokenList } from '../../../src/trust/lists/types.js';
import { NOW } from '../../verify/fixtures.js';
import { publisher, sign } from './fixtures.js';

const pub = publisher();
const spki = new Uint8Array(pub.publicKey.export({ type: 'spki', format: 'der' }));
const config = {
  id: 'sector',
  location: 'https://lists.example/sector.jws',
  publisherKeys: [{ spki }],
  graceMs: 0,
};

interface Served {
  status: number;
  body?: string;
  etag?: string;
}

function fakeFetch(answers: Served[]): ListFetch & { requests: Record<string, string>[] } {
  const requests: Record<string, string>[] = [];
  const f = (async (_url, init) => {
    requests.push(init.headers);
    const a = answers.shift() ?? { status: 500 };
    const bytes = new TextEncoder().encode(a.body ?? '');
    return {
      status: a.status,
      headers: {
        get: (n: string) =>
          n === 'etag' ? (a.etag ?? null) : n === 'content-length' ? String(bytes.length) : null,
      },
      body: new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes);
          c.close();
        },
      }),
    };
  }) as ListFetch & { requests: Record<string, string>[] };
  f.requests = requests;
  return f;
}

function get(lists: ReadonlyMap<string, VerifiedTokenList | ListProblem>): VerifiedTokenList | ListProblem {
  return lists.get('sector')!;
}

describe('loadTokenLists', () => {
  it('fetches over https, remembers the ETag and sends it back; a 304 re-verifies the stored list', async () => {
    const jws = await sign(pub, { sequence: 3 });
    const state = new Map<string, ListState>();
    const fetch = fakeFetch([{ status: 200, body: jws, etag: '"v3"' }, { status: 304 }]);
    const first = get(await loadTokenLists([config], { now: NOW, state, fetch }));
    expect(isListProblem(first)).toBe(false);
    expect(state.get('sector')).toMatchObject({ sequence: 3, etag: '"v3"' });
    const second = get(await loadTokenLists([config], { now: NOW, state, fetch }));
    expect((second as VerifiedTokenList).sequence).toBe(3);
    expect(fetch.requests[1]!['if-none-match']).toBe('"v3"');
  });

  it('refuses a served list older than the stored one (LIST_ROLLBACK) across loads', async () => {
    const state = new Map<string, ListState>();
    const newer = await sign(pub, { sequence: 7 });
    const older = await sign(pub, { sequence: 6 });
    await loadTokenLists([config], { now: NOW, state, fetch: fakeFetch([{ status: 200, body: newer }]) });
    const r = get(
      await loadTokenLists([config], { now: NOW, state, fetch: fakeFetch([{ status: 200, body: older }]) }),
    );
    expect(r).toMatchObject({ problem: true, code: 'LIST_ROLLBACK' });
    expect(state.get('sector')!.sequence).toBe(7);
  });

  it('keeps using the last good list when the source is unreachable; LIST_UNAVAILABLE without one', async () => {
    const state = new Map<string, ListState>();
    const jws = await sign(pub, { sequence: 2 });
    await loadTokenLists([config], { now: NOW, state, fetch: fakeFetch([{ status: 200, body: jws }]) });
    const down = fakeFetch([{ status: 503 }]);
    expect(
      (get(await loadTokenLists([config], { now: NOW, state, fetch: down })) as VerifiedTokenList).sequence,
    ).toBe(2);
    expect(
      get(await loadTokenLists([config], { now: NOW, fetch: fakeFetch([{ status: 503 }]) })),
    ).toMatchObject({
      code: 'LIST_UNAVAILABLE',
    });
  });

  it('refuses a body above the size limit', async () => {
    const jws = await sign(pub);
    const r = get(
      await loadTokenLists([config], {
        now: NOW,
        maxBytes: 100,
        fetch: fakeFetch([{ status: 200, body: jws }]),
      }),
    );
    expect(r).toMatchObject({ code: 'LIST_UNAVAILABLE' });
    expect((r as ListProblem).message).toContain('above 100');
  });

  it('gives up after the timeout', async () => {
    const hanging: ListFetch = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    const r = get(await loadTokenLists([config], { now: NOW, timeoutMs: 20, fetch: hanging }));
    expect(r).toMatchObject({ code: 'LIST_UNAVAILABLE' });
  });

  it('reports a stale list as LIST_STALE with the list attached (for an allowStale policy)', async () => {
    const jws = await sign(pub);
    const r = get(
      await loadTokenLists([config], {
        now: NOW + 40 * 86_400_000,
        fetch: fakeFetch([{ status: 200, body: jws }]),
      }),
    ) as ListProblem;
    expect(r.code).toBe('LIST_STALE');
    expect(r.list?.sequence).toBe(1);
  });
});
