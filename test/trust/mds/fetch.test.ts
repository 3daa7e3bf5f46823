/**
 * fetchMdsBlob through an injected fetch: https only, status, announced and actual size
 * limits, timeout. No network.
 */
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { type FetchLike, type FetchResponseLike, fetchMdsBlob } from '../../../src/trust/mds/fetch.js';

function response(body: string, init: { status?: number; length?: string | null } = {}): FetchResponseLike {
  const bytes = Buffer.from(body);
  return {
    ok: (init.status ?? 200) < 300,
    status: init.status ?? 200,
    headers: {
      get: (n) =>
        n === 'content-length' ? (init.length === undefined ? String(bytes.length) : init.length) : null,
    },
    body: new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(bytes));
        c.close();
      },
    }),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a ProvenanceError');
}

describe('fetchMdsBlob', () => {
  it('returns the body of an https answer', async () => {
    const seen: string[] = [];
    const fetch: FetchLike = async (url) => {
      seen.push(url);
      return response('a.b.c');
    };
    expect(await fetchMdsBlob('https://mds.example.test/', { fetch })).toBe('a.b.c');
    expect(seen).toEqual(['https://mds.example.test/']);
  });

  it('refuses URLs that are not https', async () => {
    const fetch: FetchLike = async () => response('x');
    expect(await codeOf(fetchMdsBlob('http://mds.example.test/', { fetch }))).toBe('USAGE');
    expect(await codeOf(fetchMdsBlob('file:///etc/passwd', { fetch }))).toBe('USAGE');
    expect(await codeOf(fetchMdsBlob('not a url', { fetch }))).toBe('USAGE');
  });

  it('fails with MDS_FETCH_FAILED on an error status or a network failure', async () => {
    expect(
      await codeOf(fetchMdsBlob('https://x.test/', { fetch: async () => response('no', { status: 404 }) })),
    ).toBe('MDS_FETCH_FAILED');
    const broken: FetchLike = async () => {
      throw new TypeError('getaddrinfo ENOTFOUND');
    };
    expect(await codeOf(fetchMdsBlob('https://x.test/', { fetch: broken }))).toBe('MDS_FETCH_FAILED');
  });

  it('enforces the size limit on the announced length and on the bytes read', async () => {
    const big = 'x'.repeat(2000);
    expect(
      await codeOf(fetchMdsBlob('https://x.test/', { fetch: async () => response(big), maxBytes: 1000 })),
    ).toBe('INPUT_TOO_LARGE');
    const unannounced: FetchLike = async () => response(big, { length: null });
    expect(await codeOf(fetchMdsBlob('https://x.test/', { fetch: unannounced, maxBytes: 1000 }))).toBe(
      'INPUT_TOO_LARGE',
    );
  });

  it('gives up after the timeout', async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const err = await fetchMdsBlob('https://x.test/', { fetch: hanging, timeoutMs: 20 }).catch((e) => e);
    expect(err.code).toBe('MDS_FETCH_FAILED');
    expect(err.message).toContain('no answer within 20 ms');
  });
});
