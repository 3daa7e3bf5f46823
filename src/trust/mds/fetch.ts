/**
 * Fetch an MDS BLOB over HTTPS with an injected fetch, a timeout and a size limit; the bytes
 * are only text until `importMdsBlob` has verified them.
 *
 * @example
 * const jwt = await fetchMdsBlob('https://mds3.fidoalliance.org/', { fetch: globalThis.fetch });
 */
import { fail, ProvenanceError } from '../../core/errors.js';
import { MDS_MAX_BLOB_BYTES } from './blob.js';

/** The part of the WHATWG fetch Response this module reads. */
export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
}

/** A fetch function (globalThis.fetch fits); injected so tests never touch the network. */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; redirect: 'follow' | 'error'; headers: Record<string, string> },
) => Promise<FetchResponseLike>;

/** Options of `fetchMdsBlob`. */
export interface FetchMdsOptions {
  readonly fetch: FetchLike;
  /** Whole request, body included. Default 30 s. */
  readonly timeoutMs?: number;
  /** Default MDS_MAX_BLOB_BYTES. */
  readonly maxBytes?: number;
}

/** Default timeout of `fetchMdsBlob`, ms. */
export const MDS_FETCH_TIMEOUT_MS = 30_000;

/**
 * GET `url` (https only) and return the body as text. USAGE for a non-https URL;
 * INPUT_TOO_LARGE past the limit (announced or read); MDS_FETCH_FAILED for the network, a
 * non-2xx status or the timeout.
 *
 * @example
 * const jwt = await fetchMdsBlob(url, { fetch, timeoutMs: 10_000 });
 */
export async function fetchMdsBlob(url: string, options: FetchMdsOptions): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail('USAGE', `${url} is not a URL`);
  }
  // The BLOB is signed, but a plain-http fetch would still let anyone on the path withhold a
  // newer one: only https.
  if (parsed.protocol !== 'https:') fail('USAGE', `MDS BLOB URLs must be https, not ${parsed.protocol}`);
  const maxBytes = options.maxBytes ?? MDS_MAX_BLOB_BYTES;
  const timeoutMs = options.timeoutMs ?? MDS_FETCH_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await options.fetch(parsed.href, {
      signal: controller.signal,
      redirect: 'follow',
      headers: { accept: 'application/jwt, text/plain, */*' },
    });
    if (!response.ok)
      fail('MDS_FETCH_FAILED', `${parsed.href} answered HTTP ${response.status}`, {
        status: response.status,
      });
    const announced = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(announced) && announced > maxBytes)
      fail('INPUT_TOO_LARGE', `${parsed.href} announces ${announced} bytes, more than ${maxBytes}`, {
        size: announced,
        limit: maxBytes,
      });
    if (!response.body) fail('MDS_FETCH_FAILED', `${parsed.href} answered without a body`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        fail('INPUT_TOO_LARGE', `${parsed.href} sent more than ${maxBytes} bytes`, { limit: maxBytes });
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (err instanceof ProvenanceError) throw err;
    const reason = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message;
    throw new ProvenanceError(
      'MDS_FETCH_FAILED',
      `cannot fetch ${parsed.href}: ${reason}`,
      { url: parsed.href },
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}
