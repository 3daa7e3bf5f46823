/**
 * Fetched revocation data for the verifier: CRLs from the certificates' distribution points
 * and status lists named by URL. Fetching is asynchronous, verification is not, so the
 * service pre-fetches (`prefetch` before verifying, `refreshDue` on a timer) and the verifier
 * consults what is cached synchronously through `sourcesFor` (the `RevocationProvider`).
 *
 * Every fetch has a timeout and a size bound; fetch, clock and limits are injected. A failed
 * refresh keeps the last good CRL (it is still checked for currency at verification time) and
 * otherwise records the failure, which the verifier reports as 'unknown', never as good.
 *
 * @example
 * const cache = new RevocationCache({ fetch, clock: Date.now });
 * await cache.prefetch(chain, revocationSettings(policy, anchorId));
 * const verifier = createVerifier({ policy, revocation: cache });
 */
import type { Clock } from '../../core/clock.js';
import { type ErrorCode, fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import type { Certificate } from '../../pki/certificate.js';
import { type CertificateList, parseCrl } from '../../pki/crl.js';
import { checkOne } from './crl-source.js';
import { crlUrls } from './distribution-points.js';
import { unavailableSource } from './stage.js';
import { parseStatusList, type StatusList, statusListSource } from './status-list.js';
import type { AnchorRevocation, RevocationProvider, RevocationSource, RevocationStatus } from './types.js';

/** The part of WHATWG `fetch` the cache uses (inject a fake in tests). */
export type RevocationFetch = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<Pick<Response, 'ok' | 'status' | 'headers' | 'body' | 'arrayBuffer'>>;

/** Options of `RevocationCache`. */
export interface RevocationCacheOptions {
  readonly fetch: RevocationFetch;
  readonly clock: Clock;
  /** Per request, ms. Default 5 000. */
  readonly timeoutMs?: number;
  /** Largest CRL accepted, bytes. Default 4 MiB. */
  readonly maxCrlBytes?: number;
  /** Largest status list accepted, bytes. Default 1 MiB. */
  readonly maxStatusListBytes?: number;
  /** Refetch a CRL at most this long after fetching it even if nextUpdate is later, ms. Default 1 day. */
  readonly crlMaxAgeMs?: number;
  /** A status list without Cache-Control max-age is refetched after this, ms. Default 1 hour. */
  readonly statusListMaxAgeMs?: number;
  /** A cached status list older than this is unusable (fail closed), ms. Default 1 day. */
  readonly statusListMaxStaleMs?: number;
  /** Most URLs cached. Default 1 024. */
  readonly maxEntries?: number;
}

type Fetched<T> =
  | { readonly ok: true; readonly value: T; readonly fetchedAt: number; readonly refreshAt: number }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly fetchedAt: number };

/** Fetched CRLs and status lists, refreshed by the caller, read synchronously by the verifier. */
export class RevocationCache implements RevocationProvider {
  private readonly crls = new Map<string, Fetched<CertificateList>>();
  private readonly lists = new Map<string, Fetched<StatusList>>();
  private readonly timeoutMs: number;
  private readonly maxEntries: number;

  constructor(private readonly options: RevocationCacheOptions) {
    if (typeof options?.fetch !== 'function')
      throw new TypeError('RevocationCache: options.fetch is required');
    if (typeof options.clock !== 'function')
      throw new TypeError('RevocationCache: options.clock is required');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 1_024;
  }

  /** Fetch what a path needs and is missing or due: each certificate's CRLs, the entry's status list URL. */
  async prefetch(certificates: readonly Certificate[], settings?: AnchorRevocation): Promise<void> {
    if (settings?.mode === 'off') return;
    const jobs: Promise<void>[] = [];
    for (const cert of certificates) {
      let urls: string[];
      try {
        urls = crlUrls(cert);
      } catch {
        continue; // a malformed extension: the path validator reports it; nothing to fetch
      }
      for (const url of urls) if (this.isDue(this.crls.get(url))) jobs.push(this.refreshCrl(url));
    }
    const list = settings?.statusList;
    if (list?.kind === 'url' && this.isDue(this.lists.get(list.url)))
      jobs.push(this.refreshStatusList(list.url));
    await Promise.all(jobs);
  }

  /** Refetch every cached URL whose refresh time has come (call on a timer). */
  async refreshDue(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const [url, entry] of this.crls) if (this.isDue(entry)) jobs.push(this.refreshCrl(url));
    for (const [url, entry] of this.lists) if (this.isDue(entry)) jobs.push(this.refreshStatusList(url));
    await Promise.all(jobs);
  }

  /** Fetch and parse one CRL (its signature is checked per path, against the issuer in it). */
  async refreshCrl(url: string): Promise<void> {
    const now = this.options.clock();
    try {
      const bytes = await this.download(url, this.options.maxCrlBytes ?? 4 * 1024 * 1024);
      const crl = parseCrl(bytes);
      const maxAge = this.options.crlMaxAgeMs ?? 86_400_000;
      const refreshAt = Math.min(now + maxAge, crl.nextUpdate ?? now);
      this.store(this.crls, url, { ok: true, value: crl, fetchedAt: now, refreshAt });
    } catch (err) {
      this.failed(this.crls, url, err, now);
    }
  }

  /** Fetch and parse one status list, honouring Cache-Control max-age (standards.md §4.4). */
  async refreshStatusList(url: string): Promise<void> {
    const now = this.options.clock();
    try {
      let maxAge = this.options.statusListMaxAgeMs ?? 3_600_000;
      const bytes = await this.download(url, this.options.maxStatusListBytes ?? 1024 * 1024, (headers) => {
        const m = /(?:^|,)\s*max-age=(\d{1,9})\s*(?:,|$)/i.exec(headers.get('cache-control') ?? '');
        if (m) maxAge = Number(m[1]) * 1000;
      });
      const list = parseStatusList(bytes);
      this.store(this.lists, url, { ok: true, value: list, fetchedAt: now, refreshAt: now + maxAge });
    } catch (err) {
      this.failed(this.lists, url, err, now);
    }
  }

  /** Sources over the cached data for this path (see RevocationProvider). */
  sourcesFor(
    certificates: readonly Certificate[],
    settings: AnchorRevocation | undefined,
  ): RevocationSource[] {
    if (settings?.mode === 'off') return [];
    const sources: RevocationSource[] = [];
    if (certificates.some((c) => c.extension(OID.crlDistributionPoints) !== undefined))
      sources.push(this.distributionPointSource());
    const list = settings?.statusList;
    if (list?.kind === 'url') {
      const name = `android-status:${list.url}`;
      const entry = this.lists.get(list.url);
      const maxStale = this.options.statusListMaxStaleMs ?? 86_400_000;
      if (entry?.ok && this.options.clock() - entry.fetchedAt <= maxStale)
        sources.push(statusListSource(entry.value, name));
      else
        sources.push(
          unavailableSource(
            name,
            !entry
              ? 'not fetched yet'
              : entry.ok
                ? 'the cached copy is too old'
                : `${entry.code}: ${entry.message}`,
          ),
        );
    }
    return sources;
  }

  /** CRLs from each certificate's own distribution points, checked against its issuer in the path. */
  private distributionPointSource(): RevocationSource {
    return {
      name: 'crl:distribution-points',
      check: (path, ctx) => {
        const out: RevocationStatus[] = [];
        for (let position = 0; position + 1 < path.length; position++) {
          const cert = path[position]!;
          let urls: string[];
          try {
            urls = crlUrls(cert);
          } catch (err) {
            out.push(unknown(position, cert, 'crl:distribution-points', err));
            continue;
          }
          if (urls.length === 0) continue;
          let failure: RevocationStatus | null = null;
          let decided: RevocationStatus | null = null;
          for (const url of urls) {
            const entry = this.crls.get(url);
            const name = `crl:${url}`;
            if (entry === undefined || entry.ok === false) {
              failure ??= {
                position,
                serial: cert.serialHex,
                status: 'unknown',
                source: name,
                code: entry ? entry.code : 'REVOCATION_UNAVAILABLE',
                detail: entry ? entry.message : 'not fetched yet',
              };
              continue;
            }
            const status = checkOne(cert, path[position + 1]!, position, [{ name, crl: entry.value }], ctx);
            if (status && status.status !== 'unknown') {
              decided = status;
              break;
            }
            failure ??= status ?? {
              position,
              serial: cert.serialHex,
              status: 'unknown',
              source: name,
              code: 'CRL_INVALID',
              detail: 'the CRL at the distribution point is not issued by the certificate issuer',
            };
          }
          const result = decided ?? failure;
          if (result) out.push(result);
        }
        return out;
      },
    };
  }

  private isDue(entry: Fetched<unknown> | undefined): boolean {
    if (!entry) return true;
    // A failure is retried at once by prefetch; a timer keeps refreshDue cheap anyway.
    return !entry.ok || this.options.clock() >= entry.refreshAt;
  }

  private store<T>(map: Map<string, Fetched<T>>, url: string, entry: Fetched<T>): void {
    map.delete(url);
    map.set(url, entry);
    // Bounded: the oldest insertion goes first.
    while (map.size > this.maxEntries) map.delete(map.keys().next().value as string);
  }

  private failed<T>(map: Map<string, Fetched<T>>, url: string, err: unknown, now: number): void {
    const previous = map.get(url);
    // Keep the last good copy: the verifier still checks that it is current.
    if (previous?.ok) {
      this.store(map, url, { ...previous, refreshAt: now + 60_000 });
      return;
    }
    const code: ErrorCode = isProvenanceError(err) ? err.code : 'REVOCATION_UNAVAILABLE';
    this.store(map, url, {
      ok: false,
      code,
      message: (err as Error)?.message ?? String(err),
      fetchedAt: now,
    });
  }

  /** GET with a timeout and a size bound (Content-Length, then the bytes as they arrive). */
  private async download(
    url: string,
    maxBytes: number,
    onHeaders?: (headers: Headers) => void,
  ): Promise<Uint8Array> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      let response: Awaited<ReturnType<RevocationFetch>>;
      try {
        response = await this.options.fetch(url, { signal: controller.signal, headers: { accept: '*/*' } });
      } catch (err) {
        return fail(
          'REVOCATION_UNAVAILABLE',
          `cannot fetch ${url}: ${controller.signal.aborted ? `timed out after ${this.timeoutMs} ms` : (err as Error)?.message}`,
        );
      }
      if (!response.ok) fail('REVOCATION_UNAVAILABLE', `fetching ${url} gave HTTP ${response.status}`);
      onHeaders?.(response.headers);
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared > maxBytes) fail('INPUT_TOO_LARGE', `${url} is ${declared} bytes, above ${maxBytes}`);
      const chunks: Uint8Array[] = [];
      let size = 0;
      if (response.body) {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.length;
          if (size > maxBytes) {
            controller.abort();
            fail('INPUT_TOO_LARGE', `${url} exceeds ${maxBytes} bytes`);
          }
          chunks.push(value);
        }
      } else {
        const all = new Uint8Array(await response.arrayBuffer());
        if (all.length > maxBytes) fail('INPUT_TOO_LARGE', `${url} exceeds ${maxBytes} bytes`);
        chunks.push(all);
        size = all.length;
      }
      return new Uint8Array(Buffer.concat(chunks, size));
    } catch (err) {
      if (controller.signal.aborted && !isProvenanceError(err))
        fail('REVOCATION_UNAVAILABLE', `fetching ${url} timed out after ${this.timeoutMs} ms`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

function unknown(position: number, cert: Certificate, source: string, err: unknown): RevocationStatus {
  return {
    position,
    serial: cert.serialHex,
    status: 'unknown',
    source,
    code: isProvenanceError(err) ? err.code : 'INTERNAL',
    detail: (err as Error)?.message ?? String(err),
  };
}
