/**
 * The client's transport: one bounded, timed HTTP exchange with the provisioning service, the
 * base-URL rules (no plain HTTP off loopback, no credentials in the URL), a fetch for HTTPS
 * servers behind a private CA, and the mapping of every failure to a ProvenanceError.
 *
 * Node's fetch takes no CA option and `undici` is not a dependency, so a server with a custom
 * CA is reached through `node:https` wrapped as a fetch (`fetchWithCa`).
 *
 * @example
 * const base = parseServerUrl('https://pki.example.com/provenance');
 * const res = await exchange({ fetch: globalThis.fetch, timeoutMs: 30_000, maxResponseBytes: 1 << 20 },
 *   { method: 'GET', url: endpoint(base, '/api/v1/ca/certificates') });
 */
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ERROR_CODES, type ErrorCode, fail, ProvenanceError } from '../core/errors.js';
import { decodePem } from '../core/pem.js';

/** The part of `fetch` the client uses: injectable for tests and for HTTPS with a custom CA. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Default time one request may take, connection to last byte. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest response body read (a certificate chain and a verdict fit many times over). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** What `exchange` needs: injected, never global. */
export interface Transport {
  readonly fetch: FetchLike;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/** One request to the service. */
export interface ExchangeRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly authorization?: string;
  /** Sent as JSON. */
  readonly json?: unknown;
  readonly accept?: string;
}

/** A successful (2xx) answer, body read in full. */
export interface ExchangeResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** True for names and addresses that never leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || host.startsWith('::ffff:127.');
  return false;
}

/**
 * Check the service's base URL. Refuses anything but http(s),
 * credentials, queries and fragments; plain http off loopback unless `allowInsecureHttp`,
 * since enrollment codes and admin tokens are bearer secrets (RFC 6750 §5.3: TLS required).
 */
export function parseServerUrl(text: string, options: { allowInsecureHttp?: boolean } = {}): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('USAGE', `--server must be a URL such as https://pki.example.com, not "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    fail('USAGE', `--server must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    fail('USAGE', '--server must not carry credentials: use --code or the admin token instead');
  if (url.search !== '' || url.hash !== '') fail('USAGE', '--server must not carry a query or fragment');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !options.allowInsecureHttp)
    fail(
      'USAGE',
      `refusing to send secrets over plain HTTP to ${url.host}: use https://, or --insecure-http if you really mean it`,
      { host: url.host },
    );
  return url;
}

/** The URL of an API path under the base URL (which may itself have a path prefix). */
export function endpoint(base: URL, path: string): string {
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${path}`;
}

/**
 * A fetch that trusts only the given CA certificates (PEM) for https URLs, over `node:https`.
 * Plain http URLs go to `fallback` (the platform fetch).
 *
 * @example
 * const client = createClient({ server: 'https://pki.internal', fetch: fetchWithCa(readFileSync('ca.pem', 'utf8')) });
 */
export function fetchWithCa(
  caPem: string,
  fallback: FetchLike = globalThis.fetch,
  maxResponseBytes: number = DEFAULT_MAX_RESPONSE_BYTES,
): FetchLike {
  const blocks = decodePem(caPem).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length === 0) fail('USAGE', 'the CA file holds no PEM CERTIFICATE block');
  // node:https wants PEM text; re-encode only the certificate blocks (no stray text, no keys).
  const ca = blocks.map((b) => pemOf(b.der));
  return (url, init) => {
    if (!url.startsWith('https:')) return fallback(url, init);
    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      const headers = new Headers(init.headers);
      const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
      if (body) headers.set('content-length', String(body.length));
      const req = httpsRequest(url, {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(headers),
        ca,
        ...(signal ? { signal } : {}),
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.length;
          // Bounded like the fetch path: never hold more than the client will read.
          if (total > maxResponseBytes) {
            res.destroy();
            reject(
              new ProvenanceError(
                'INPUT_TOO_LARGE',
                `the answer exceeds the limit of ${maxResponseBytes} bytes`,
              ),
            );
            return;
          }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const x of v) out.append(k, x);
            else if (v !== undefined) out.set(k, v);
          }
          const status = res.statusCode ?? 500;
          const nullBody = status === 204 || status === 304;
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: out }));
        });
      });
      req.end(body);
    });
  };
}

function pemOf(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * Send one request and read the whole answer within the timeout. A 2xx answer is returned;
 * an RFC 9457 problem document becomes a ProvenanceError with the server's code (verdict,
 * sub-problems and Retry-After in `details`); no answer is SERVER_UNREACHABLE; anything else
 * is SERVER_RESPONSE_INVALID.
 */
export async function exchange(transport: Transport, req: ExchangeRequest): Promise<ExchangeResponse> {
  const headers: Record<string, string> = {
    accept: req.accept ?? 'application/json, application/problem+json',
  };
  if (req.authorization !== undefined) headers['authorization'] = req.authorization;
  let body: string | undefined;
  if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  }
  const signal = AbortSignal.timeout(transport.timeoutMs);
  const where = `${req.method} ${redact(req.url)}`;
  let res: Response;
  let bytes: Uint8Array;
  try {
    res = await transport.fetch(req.url, {
      method: req.method,
      headers,
      signal,
      redirect: 'error',
      ...(body !== undefined ? { body } : {}),
    });
    bytes = await readBounded(res, transport.maxResponseBytes, where);
  } catch (err) {
    throw networkError(err, where, transport.timeoutMs);
  }
  const contentType = res.headers.get('content-type') ?? '';
  if (res.status >= 200 && res.status < 300) return { status: res.status, contentType, body: bytes };
  throw problemError(res, contentType, bytes, where);
}

/** Parse a JSON body or fail with SERVER_RESPONSE_INVALID. */
export function jsonBody(res: ExchangeResponse, where: string): unknown {
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(res.contentType))
    fail('SERVER_RESPONSE_INVALID', `${where}: expected JSON, got ${res.contentType || 'no content type'}`);
  try {
    return JSON.parse(Buffer.from(res.body).toString('utf8'));
  } catch {
    return fail('SERVER_RESPONSE_INVALID', `${where}: the JSON answer does not parse`);
  }
}

/** Read at most `limit` bytes of the body; more is INPUT_TOO_LARGE (a bounded client). */
async function readBounded(res: Response, limit: number, where: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    fail('INPUT_TOO_LARGE', `${where}: the answer is ${declared} bytes, above the limit of ${limit}`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      fail('INPUT_TOO_LARGE', `${where}: the answer exceeds the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** TLS failures worth a hint: the server's certificate is not trusted by this client. */
const TLS_TRUST_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function networkError(err: unknown, where: string, timeoutMs: number): ProvenanceError {
  if (err instanceof ProvenanceError) return err;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return new ProvenanceError(
      'SERVER_UNREACHABLE',
      `${where}: no answer within ${timeoutMs} ms`,
      { timeoutMs },
      { cause: err },
    );
  const code = e?.cause?.code ?? (e as { code?: string })?.code;
  const reason = code ?? e?.cause?.message ?? e?.message ?? String(err);
  const hint =
    code !== undefined && TLS_TRUST_ERRORS.has(code)
      ? ' (the server certificate is not trusted: pass its CA with --ca-cert)'
      : code === 'ECONNREFUSED'
        ? ' (is the service running, and is --server right?)'
        : '';
  return new ProvenanceError(
    'SERVER_UNREACHABLE',
    `${where}: ${reason}${hint}`,
    { ...(code !== undefined ? { errno: code } : {}) },
    { cause: err },
  );
}

function problemError(res: Response, contentType: string, bytes: Uint8Array, where: string): ProvenanceError {
  const retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
  let doc: Record<string, unknown> | null = null;
  if (/json/i.test(contentType)) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        doc = parsed as Record<string, unknown>;
    } catch {
      doc = null;
    }
  }
  if (doc === null || typeof doc['code'] !== 'string') {
    // Not one of ours: a proxy's error page, a wrong --server path, a different service.
    return new ProvenanceError(
      'SERVER_RESPONSE_INVALID',
      `${where}: HTTP ${res.status} ${contentType || 'without content type'}, not a Provenance problem document (is --server the service's base URL?)`,
      { status: res.status },
    );
  }
  const serverCode = doc['code'];
  const detail =
    typeof doc['detail'] === 'string'
      ? doc['detail']
      : typeof doc['title'] === 'string'
        ? doc['title']
        : serverCode;
  const details: Record<string, unknown> = { status: res.status };
  for (const key of ['type', 'title', 'instance', 'verdict', 'errors'] as const)
    if (doc[key] !== undefined) details[key] = doc[key];
  if (retryAfter !== null) details['retryAfter'] = retryAfter;
  if (!(serverCode in ERROR_CODES))
    return new ProvenanceError(
      'SERVER_RESPONSE_INVALID',
      `${where}: the service answered ${serverCode}, a code this client does not know: ${detail}`,
      { ...details, serverCode },
    );
  return new ProvenanceError(serverCode as ErrorCode, detail, details);
}

/** Retry-After as seconds (RFC 9110 §10.2.3: delay-seconds or an HTTP date). */
function retryAfterSeconds(value: string | null): number | null {
  if (value === null) return null;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The URL without anything secret (there is none in ours, but be safe in messages). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return url;
  }
}
