/**
 * A typed client for the provisioning service's HTTP API (the enrollment flow, the admin
 * calls the CLI needs, the CA chain and the CRL). Every answer is checked against the shape
 * the API promises; every failure is a ProvenanceError: the server's own code for a problem
 * document (verdict in `details.verdict`), SERVER_UNREACHABLE when no answer came,
 * SERVER_RESPONSE_INVALID for an answer that is not the API's.
 *
 * @example
 * const client = createClient({ server: 'http://127.0.0.1:8080' });
 * const challenge = await client.challenge(code);
 * const csr = await token.signCsr({ label: 'signing', subject: 'CN=placeholder', nonce: challenge.nonce });
 * const { certificate, chain, verdict } = await client.enroll(code, challenge.id, encodePem('CERTIFICATE REQUEST', csr));
 */
import { z } from 'zod';
import { fromBase64Url } from '../core/bytes.js';
import { fail, isProvenanceError } from '../core/errors.js';
import { decodePem } from '../core/pem.js';
import type { Scope } from '../store/types.js';
import type { Verdict } from '../verify/verifier.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type ExchangeRequest,
  endpoint,
  exchange,
  type FetchLike,
  fetchWithCa,
  jsonBody,
  parseServerUrl,
  type Transport,
} from './http.js';

/** How to reach the service. */
export interface ClientOptions {
  /** Base URL, e.g. `https://pki.example.com` (a path prefix is kept). */
  readonly server: string;
  /** Replaces the platform fetch (tests, proxies). */
  readonly fetch?: FetchLike;
  /** Per request, connection to last byte. Default 30 s. */
  readonly timeoutMs?: number;
  /** PEM CA certificate(s) to trust for an https server instead of the system store. */
  readonly caCert?: string;
  /** Allow plain http to a host that is not loopback (secrets travel in clear). */
  readonly allowInsecureHttp?: boolean;
  /** Largest answer read. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

/** A single-use challenge from `POST /api/v1/challenges`. */
export interface Challenge {
  readonly id: string;
  /** The 32 random bytes to bind into the attestation. */
  readonly nonce: Uint8Array;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** A certificate from `POST /api/v1/enrollments`. */
export interface EnrollmentResult {
  readonly enrollmentId: string;
  /** PEM. */
  readonly certificate: string;
  /** PEM, issuing CA first. */
  readonly chain: readonly string[];
  readonly verdict: Verdict;
}

/** Body of `POST /api/v1/admin/enrollment-codes`. */
export interface CreateCodeRequest {
  readonly customer: string;
  /** RFC 4514 subject of the certificate the code will yield. */
  readonly subject: string;
  readonly profile?: string;
  /** Lifetime in seconds. */
  readonly ttl?: number;
}

/** A new enrollment code: `code` is shown this once. */
export interface CreatedCode {
  readonly id: string;
  readonly code: string;
  readonly customer: string;
  readonly subject: string;
  readonly profile: string;
  readonly expiresAt: string;
}

/** Body of `POST /api/v1/admin/tokens`. */
export interface CreateTokenRequest {
  readonly name: string;
  readonly scopes: readonly Scope[];
}

/** A new admin token: `token` is shown this once. */
export interface CreatedToken {
  readonly id: string;
  readonly token: string;
}

/** The calls a client makes. Credentials are passed per call, never kept. */
export interface ProvisioningClient {
  /** The normalised base URL. */
  readonly server: string;
  /** Ask for a challenge (`Authorization: Enroll <code>`). */
  challenge(code: string): Promise<Challenge>;
  /** Submit a CSR (PEM) answering the challenge. A rejection throws with the verdict in `details`. */
  enroll(code: string, challengeId: string, csrPem: string): Promise<EnrollmentResult>;
  /** Create an enrollment code (scope codes:write). */
  adminCreateCode(adminToken: string, request: CreateCodeRequest): Promise<CreatedCode>;
  /** Create an admin token (scope tokens:write). */
  adminCreateToken(adminToken: string, request: CreateTokenRequest): Promise<CreatedToken>;
  /** Revoke an issued certificate (scope certificates:revoke); `reason` is an RFC 5280 CRLReason name. */
  adminRevokeCertificate(adminToken: string, serial: string, reason: string): Promise<void>;
  /** The issuing CA chain (PEM, issuing CA first). */
  caCertificates(): Promise<string>;
  /** The current CRL (DER). */
  crl(): Promise<Uint8Array>;
}

const PEM_CERT = z.string().min(1).max(65536).includes('-----BEGIN CERTIFICATE-----');

const challengeSchema = z.object({
  id: z.string().min(1).max(128),
  nonce: z.string().min(11).max(88),
  expiresAt: z.string().min(1),
});

const enrollmentSchema = z.object({
  enrollmentId: z.string().min(1).max(128),
  certificate: PEM_CERT,
  chain: z.array(PEM_CERT).max(16),
  verdict: z.looseObject({ accepted: z.boolean(), code: z.string() }),
});

const codeSchema = z.object({
  id: z.string().min(1),
  code: z.string().min(16),
  customer: z.string(),
  subject: z.string(),
  profile: z.string(),
  expiresAt: z.string(),
});

const tokenSchema = z.looseObject({ id: z.string().min(1), token: z.string().min(16) });

/**
 * Make a client for one service.
 *
 * @example
 * const client = createClient({ server: 'https://pki.internal', caCert: readFileSync('ca.pem', 'utf8'), timeoutMs: 10_000 });
 * const { code } = await client.adminCreateCode(adminToken, { customer: 'acme', subject: 'CN=Alice,O=Acme' });
 */
export function createClient(options: ClientOptions): ProvisioningClient {
  const base = parseServerUrl(options.server, options.allowInsecureHttp ? { allowInsecureHttp: true } : {});
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new TypeError('timeoutMs must be a positive integer');
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes <= 0)
    throw new TypeError('maxResponseBytes must be a positive integer');
  const platformFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const transport: Transport = {
    fetch:
      options.caCert !== undefined
        ? fetchWithCa(options.caCert, platformFetch, maxResponseBytes)
        : platformFetch,
    timeoutMs,
    maxResponseBytes,
  };

  const call = async <T>(
    req: Omit<ExchangeRequest, 'url'> & { path: string },
    schema: z.ZodType<T>,
  ): Promise<T> => {
    const where = `${req.method} ${req.path}`;
    const res = await exchange(transport, { ...req, url: endpoint(base, req.path) });
    const parsed = schema.safeParse(jsonBody(res, where));
    if (!parsed.success)
      fail('SERVER_RESPONSE_INVALID', `${where}: the answer does not have the expected shape`, {
        issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      });
    return parsed.data;
  };

  return {
    server: endpoint(base, ''),

    async challenge(code) {
      const body = await call(
        { method: 'POST', path: '/api/v1/challenges', authorization: enrollAuth(code), json: {} },
        challengeSchema,
      );
      let nonce: Uint8Array;
      try {
        nonce = fromBase64Url(body.nonce, 'challenge nonce');
      } catch (err) {
        if (!isProvenanceError(err)) throw err;
        return fail('SERVER_RESPONSE_INVALID', 'the challenge nonce is not base64url');
      }
      return { id: body.id, nonce, expiresAt: body.expiresAt };
    },

    async enroll(code, challengeId, csrPem) {
      const body = await call(
        {
          method: 'POST',
          path: '/api/v1/enrollments',
          authorization: enrollAuth(code),
          json: { challengeId, csr: csrPem },
        },
        enrollmentSchema,
      );
      return {
        enrollmentId: body.enrollmentId,
        certificate: body.certificate,
        chain: body.chain,
        verdict: body.verdict as unknown as Verdict,
      };
    },

    async adminCreateCode(adminToken, request) {
      return call(
        {
          method: 'POST',
          path: '/api/v1/admin/enrollment-codes',
          authorization: bearerAuth(adminToken),
          json: request,
        },
        codeSchema,
      );
    },

    async adminCreateToken(adminToken, request) {
      const body = await call(
        {
          method: 'POST',
          path: '/api/v1/admin/tokens',
          authorization: bearerAuth(adminToken),
          json: { name: request.name, scopes: request.scopes },
        },
        tokenSchema,
      );
      return { id: body.id, token: body.token };
    },

    async adminRevokeCertificate(adminToken, serial, reason) {
      if (!/^[0-9a-f]{1,40}$/i.test(serial)) fail('USAGE', 'a certificate serial is 1 to 40 hex digits');
      await exchange(transport, {
        method: 'POST',
        url: endpoint(base, `/api/v1/admin/certificates/${serial.toLowerCase()}/revoke`),
        authorization: bearerAuth(adminToken),
        json: { reason },
      });
    },

    async caCertificates() {
      const res = await exchange(transport, {
        method: 'GET',
        url: endpoint(base, '/api/v1/ca/certificates'),
        accept: 'application/pem-certificate-chain, application/problem+json',
      });
      const text = Buffer.from(res.body).toString('utf8');
      let certificates = 0;
      try {
        certificates = decodePem(text).filter((b) => b.label === 'CERTIFICATE').length;
      } catch {
        certificates = 0;
      }
      if (certificates === 0)
        fail('SERVER_RESPONSE_INVALID', 'GET /api/v1/ca/certificates: the answer holds no PEM certificate');
      return text;
    },

    async crl() {
      const res = await exchange(transport, {
        method: 'GET',
        url: endpoint(base, '/api/v1/crl'),
        accept: 'application/pkix-crl, application/problem+json',
      });
      // A CRL is a DER SEQUENCE; anything else is not the API's answer.
      if (res.body[0] !== 0x30) fail('SERVER_RESPONSE_INVALID', 'GET /api/v1/crl: the answer is not DER');
      return res.body;
    },
  };
}

/**
 * `Enroll <code>`. A code is base64url (design: 24 random bytes); refusing other characters
 * keeps header injection out and gives a clear error for a mangled paste.
 */
function enrollAuth(code: string): string {
  const trimmed = code.trim();
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(trimmed))
    fail('USAGE', 'the enrollment code must be the base64url text the institution gave you (check the copy)');
  return `Enroll ${trimmed}`;
}

/** `Bearer <token>` (RFC 6750 §2.1: token68 characters only). */
function bearerAuth(token: string): string {
  const trimmed = token.trim();
  if (!/^[A-Za-z0-9._~+/-]{16,512}=*$/.test(trimmed))
    fail('USAGE', 'the admin token is malformed (expected pvat_… as printed by the service)');
  return `Bearer ${trimmed}`;
}
