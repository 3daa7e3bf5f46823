import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import { OID } from '../../../src/core/oids.js';
import {
  parseDistributionPoints,
  RevocationCache,
  type RevocationFetch,
} from '../../../src/trust/revocation/index.js';
import { revocationSettings } from '../../../src/trust/revocation/stage.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { bundle, NONCE, NOW, nativeHierarchy } from '../../verify/fixtures.js';
import { crlFor, DAY, entryFor, revocationPolicy } from './helpers.js';

const ascii = (s: string) => new TextEncoder().encode(s);
/** DistributionPoint with a fullName URI, optionally with reasons [1] or cRLIssuer [2]. */
function point(url: string, extra: Uint8Array[] = []): Uint8Array {
  return der.seq(der.explicit(0, der.explicit(0, der.implicitPrimitive(6, ascii(url)))), ...extra);
}
function cdp(...urls: string[]) {
  return { oid: OID.crlDistributionPoints, critical: false, value: der.seq(...urls.map((u) => point(u))) };
}

const MODEL_URL = 'http://crl.example/model.crl';
const LINE_URL = 'http://crl.example/line.crl';
const ROOT_URL = 'http://crl.example/root.crl';

/** A hierarchy whose token, model and line certificates name their CRLs. */
function hierarchyWithCdps() {
  return nativeHierarchy({
    token: { extensions: [cdp(MODEL_URL)] },
    model: { extensions: [cdp(LINE_URL)] },
    line: { extensions: [cdp(ROOT_URL)] },
  });
}

type Served = Record<
  string,
  Uint8Array | Error | 'hang' | { status: number } | { body: Uint8Array; headers: Record<string, string> }
>;

function fakeFetch(served: Served, calls: string[] = []): RevocationFetch {
  return async (url, init) => {
    calls.push(url);
    const item = served[url];
    if (item === undefined) throw new TypeError('fetch failed: ENOTFOUND');
    if (item instanceof Error) throw item;
    if (item === 'hang')
      return new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    if ('status' in item) return new Response(null, { status: item.status });
    if (item instanceof Uint8Array) return new Response(item);
    return new Response(item.body, { headers: item.headers });
  };
}

describe('CRL distribution points', () => {
  it('reads fullName URIs and skips partitioned (reasons) and indirect (cRLIssuer) points', () => {
    const value = der.seq(
      point('http://a.example/a.crl'),
      point('http://b.example/b.crl', [der.implicitPrimitive(1, Uint8Array.of(0x07, 0x80))]),
      point('ldap://c.example/c'),
      point('https://d.example/d.crl'),
    );
    expect(parseDistributionPoints(value)).toEqual(['http://a.example/a.crl', 'https://d.example/d.crl']);
  });

  it('rejects an empty extension', () => {
    expect(() => parseDistributionPoints(der.seq())).toThrowError(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
  });
});

describe('RevocationCache: CRLs fetched from distribution points', () => {
  const h = hierarchyWithCdps();
  const good = () => ({
    [MODEL_URL]: crlFor(h.model),
    [LINE_URL]: crlFor(h.line),
    [ROOT_URL]: crlFor(h.root),
  });
  const chain = () => [h.token.cert, h.model.cert, h.line.cert, h.root.cert];

  async function verifyWith(
    mode: string,
    served: Served,
    options: { timeoutMs?: number; maxCrlBytes?: number } = {},
  ) {
    const policy = revocationPolicy(h, `revocation: ${mode}`);
    const cache = new RevocationCache({ fetch: fakeFetch(served), clock: () => NOW, ...options });
    await cache.prefetch(chain(), revocationSettings(policy, 'maker'));
    return createVerifier({ policy, clock: () => NOW, revocation: cache }).verifyBytes(bundle(h), {
      nonce: NONCE,
    });
  }

  it('accepts under require when every distribution point serves a current CRL without the serial', async () => {
    expect((await verifyWith('require', good())).code).toBe('ACCEPTED');
  });

  it('rejects with CERT_REVOKED when the fetched CRL revokes the per-token certificate', async () => {
    const v = await verifyWith('best-effort', {
      ...good(),
      [MODEL_URL]: crlFor(h.model, [entryFor(h.token)]),
    });
    expect(v.code).toBe('CERT_REVOKED');
    expect(v.findings.find((f) => f.code === 'CERT_REVOKED')?.detail).toMatchObject({
      source: `crl:${MODEL_URL}`,
    });
  });

  it('rejects an unreachable CRL under require and accepts it with a warning under best-effort', async () => {
    const { [LINE_URL]: _gone, ...served } = good();
    const required = await verifyWith('require', served);
    expect(required.code).toBe('REVOCATION_UNAVAILABLE');
    expect(required.findings.find((f) => f.code === 'REVOCATION_UNAVAILABLE')).toMatchObject({
      ok: false,
      position: 2,
    });
    const relaxed = await verifyWith('best-effort', served);
    expect(relaxed.code).toBe('ACCEPTED');
    expect(relaxed.findings.find((f) => f.code === 'REVOCATION_UNAVAILABLE')).toMatchObject({
      ok: true,
      severity: 'warning',
    });
  });

  it('gives up on a distribution point that does not answer within the timeout', async () => {
    const v = await verifyWith('require', { ...good(), [ROOT_URL]: 'hang' }, { timeoutMs: 30 });
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    expect(JSON.stringify(v.findings)).toContain('timed out');
  });

  it('refuses a CRL above the size limit (INPUT_TOO_LARGE as the cause)', async () => {
    const v = await verifyWith('require', good(), { maxCrlBytes: 64 });
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    expect(v.findings.find((f) => f.code === 'REVOCATION_UNAVAILABLE')?.detail).toMatchObject({
      cause: 'INPUT_TOO_LARGE',
    });
  });

  it('treats an HTTP error as unavailable, and a fetched CRL signed by another key as unknown', async () => {
    expect((await verifyWith('require', { ...good(), [MODEL_URL]: { status: 503 } })).code).toBe(
      'REVOCATION_UNAVAILABLE',
    );
    const forged = crlFor(h.model, [], { signer: nativeHierarchy().model.signer });
    const v = await verifyWith('require', { ...good(), [MODEL_URL]: forged });
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    expect(v.findings.find((f) => f.code === 'REVOCATION_UNAVAILABLE')?.detail).toMatchObject({
      cause: 'SIGNATURE_INVALID',
    });
  });

  it('keeps a fetched CRL until its nextUpdate and refetches after it; a failed refetch keeps the last good copy', async () => {
    let now = NOW;
    const calls: string[] = [];
    const served: Served = good();
    const cache = new RevocationCache({ fetch: fakeFetch(served, calls), clock: () => now });
    await cache.prefetch(chain());
    expect(calls).toHaveLength(3);
    await cache.prefetch(chain());
    expect(calls).toHaveLength(3);
    now = NOW + 8 * DAY; // past nextUpdate
    delete served[MODEL_URL];
    await cache.refreshDue();
    expect(calls.length).toBeGreaterThan(3);
    // The kept copy is out of date at this time: unusable, not good.
    const policy = revocationPolicy(h, 'revocation: require');
    const v = createVerifier({ policy, clock: () => now, revocation: cache }).verifyBytes(bundle(h), {
      nonce: NONCE,
      at: now,
    });
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
  });
});

describe('RevocationCache: status list by URL', () => {
  const h = nativeHierarchy();
  const url = 'https://android.example/attestation/status';
  const listing = (serial: string) =>
    ascii(JSON.stringify({ entries: { [serial]: { status: 'REVOKED', reason: 'KEY_COMPROMISE' } } }));

  it('fetches the list, honours Cache-Control max-age, and rejects a listed serial', async () => {
    let now = NOW;
    const calls: string[] = [];
    const policy = revocationPolicy(h, `revocation: require\nstatusList: ${url}`);
    const settings = revocationSettings(policy, 'maker');
    const served: Served = {
      [url]: { body: listing(h.model.cert.serialHex), headers: { 'cache-control': 'public, max-age=60' } },
    };
    const cache = new RevocationCache({ fetch: fakeFetch(served, calls), clock: () => now });
    await cache.prefetch([h.token.cert], settings);
    const v = createVerifier({ policy, clock: () => now, revocation: cache }).verifyBytes(bundle(h), {
      nonce: NONCE,
    });
    expect(v.code).toBe('CERT_REVOKED');
    now += 30_000;
    await cache.prefetch([h.token.cert], settings);
    expect(calls).toHaveLength(1);
    now += 60_000;
    await cache.prefetch([h.token.cert], settings);
    expect(calls).toHaveLength(2);
  });

  it('a malformed list is unavailable (STATUS_LIST_INVALID as the cause), never good', async () => {
    const policy = revocationPolicy(h, `revocation: require\nstatusList: ${url}`);
    const cache = new RevocationCache({
      fetch: fakeFetch({ [url]: ascii('{"entries":7}') }),
      clock: () => NOW,
    });
    await cache.prefetch([], revocationSettings(policy, 'maker'));
    const v = createVerifier({ policy, clock: () => NOW, revocation: cache }).verifyBytes(bundle(h), {
      nonce: NONCE,
    });
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    expect(JSON.stringify(v.findings)).toContain('STATUS_LIST_INVALID');
  });
});
