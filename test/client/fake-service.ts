/**
 * A tiny fake of the provisioning service's HTTP API for client tests: enough of the
 * challenge/enrollment flow (nonce checked, certificate issued by a test CA for the CSR's key,
 * subject from the code) and the admin calls, with knobs to misbehave. Usable as an injected
 * fetch or listening on a loopback port.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bytesEqual, toBase64Url } from '../../src/core/bytes.js';
import { OID } from '../../src/core/oids.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { parseCsr } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { certificatePolicies, ecKey, issue, type TestCert, type TestKey } from '../helpers/pki.js';

/** How the fake answers a request. */
export interface FakeAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/** What a test can set to make the fake misbehave. */
export interface FakeKnobs {
  /** Answer every enrollment with this problem (a refusal with a verdict). */
  refuse?: { code: string; status: number; detail: string; verdict?: unknown } | undefined;
  /** Certify another key than the CSR's. */
  certifyOtherKey?: boolean;
  /** Sign with a key that is not the chain's CA. */
  signWithStranger?: boolean;
  /** Answer every request with this instead. */
  override?: FakeAnswer | undefined;
}

export interface FakeService {
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  readonly knobs: FakeKnobs;
  /** Requests seen: method, path, authorization, parsed JSON body. */
  readonly requests: { method: string; path: string; authorization: string | null; body: unknown }[];
  readonly codes: Map<string, { subject: string; used: boolean }>;
  readonly issued: string[];
  readonly root: TestCert;
  readonly ca: TestCert;
  /** Add an enrollment code and return it. */
  addCode(subject: string): string;
  handle(method: string, path: string, headers: Headers, body: string): Promise<FakeAnswer>;
  /** Listen on 127.0.0.1; resolves to the base URL. */
  listen(): Promise<{ url: string; server: Server; close(): Promise<void> }>;
}

export const ADMIN_TOKEN = `pvat_${'A'.repeat(43)}`;

function json(status: number, value: unknown, type = 'application/json'): FakeAnswer {
  return { status, headers: { 'content-type': type }, body: JSON.stringify(value) };
}

function problem(
  code: string,
  status: number,
  detail: string,
  extra: Record<string, unknown> = {},
): FakeAnswer {
  return json(
    status,
    { type: `urn:provenance:error:${code}`, title: code, status, detail, code, ...extra },
    'application/problem+json',
  );
}

/** A fake service with its own root and issuing CA (P-256). */
export function fakeService(): FakeService {
  const rootKey = ecKey();
  const caKey = ecKey();
  const root = issue({ subject: 'Fake Root', key: rootKey, ca: {} });
  const ca = issue({ subject: 'Fake Issuing CA', key: caKey, issuer: root, ca: { pathLen: 0 } });
  const stranger = issue({ subject: 'Fake Issuing CA', key: ecKey(), ca: {} });
  const knobs: FakeKnobs = {};
  const requests: FakeService['requests'] = [];
  const codes = new Map<string, { subject: string; used: boolean }>();
  const challenges = new Map<string, { code: string; nonce: Uint8Array; used: boolean }>();
  const issued: string[] = [];

  async function handle(method: string, path: string, headers: Headers, text: string): Promise<FakeAnswer> {
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      return problem('BODY_INVALID', 400, 'not JSON');
    }
    const authorization = headers.get('authorization');
    requests.push({ method, path, authorization, body });
    if (knobs.override) return knobs.override;
    const enrollCode = /^Enroll (.+)$/.exec(authorization ?? '')?.[1];
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];

    if (method === 'POST' && path === '/api/v1/challenges') {
      const code = enrollCode ? codes.get(enrollCode) : undefined;
      if (!code) return problem('AUTH_INVALID', 401, 'unknown enrollment code');
      if (code.used) return problem('ENROLLMENT_CODE_USED', 409, 'the code was used');
      const id = randomUUID();
      const nonce = new Uint8Array(randomBytes(32));
      challenges.set(id, { code: enrollCode!, nonce, used: false });
      return json(201, {
        id,
        nonce: toBase64Url(nonce),
        expiresAt: new Date(Date.now() + 300_000).toISOString(),
      });
    }
    if (method === 'POST' && path === '/api/v1/enrollments') {
      const code = enrollCode ? codes.get(enrollCode) : undefined;
      if (!code) return problem('AUTH_INVALID', 401, 'unknown enrollment code');
      const b = body as { challengeId?: string; csr?: string };
      const challenge = challenges.get(b.challengeId ?? '');
      if (!challenge || challenge.used || challenge.code !== enrollCode)
        return problem('CHALLENGE_INVALID', 409, 'unknown or used challenge');
      challenge.used = true;
      if (knobs.refuse)
        return problem(knobs.refuse.code, knobs.refuse.status, knobs.refuse.detail, {
          ...(knobs.refuse.verdict !== undefined ? { verdict: knobs.refuse.verdict } : {}),
        });
      const csr = parseCsr(decodePem(b.csr ?? '')[0]!.der);
      if (!csr.nonce || !bytesEqual(csr.nonce, challenge.nonce))
        return problem('NONCE_MISMATCH', 422, 'the nonce differs', {
          verdict: { accepted: false, code: 'NONCE_MISMATCH' },
        });
      if (code.used) return problem('ENROLLMENT_CODE_USED', 409, 'the code was used');
      code.used = true;
      const subjectKey: TestKey = knobs.certifyOtherKey
        ? ecKey()
        : { privateKey: caKey.privateKey, spki: csr.spki };
      const leaf = issue({
        subject: encodeName(code.subject),
        key: subjectKey,
        issuer: knobs.signWithStranger ? stranger : ca,
        keyUsage: ['digitalSignature'],
        notCa: true,
        extensions: [
          { oid: OID.certificatePolicies, value: certificatePolicies([`${OID.provenanceAssuranceArc}.2`]) },
        ],
      });
      issued.push(leaf.cert.serialHex);
      return json(201, {
        enrollmentId: randomUUID(),
        certificate: encodePem('CERTIFICATE', leaf.der),
        chain: [encodePem('CERTIFICATE', ca.der), encodePem('CERTIFICATE', root.der)],
        verdict: {
          accepted: true,
          code: 'ACCEPTED',
          message: 'accepted',
          format: 'provenance',
          path: [],
          claims: null,
          matchedRule: 'gemalto-cards',
          level: 2,
        },
      });
    }
    if (path.startsWith('/api/v1/admin/')) {
      if (!bearer) return problem('AUTH_REQUIRED', 401, 'no credentials');
      if (bearer !== ADMIN_TOKEN) return problem('AUTH_INVALID', 401, 'unknown token');
      if (method === 'POST' && path === '/api/v1/admin/enrollment-codes') {
        const b = body as { customer?: string; subject?: string; profile?: string; ttl?: number };
        if (typeof b.customer !== 'string' || typeof b.subject !== 'string')
          return problem('BODY_INVALID', 400, 'body does not match the schema', {
            errors: [{ pointer: '/customer', detail: 'required' }],
          });
        if (b.profile !== undefined && b.profile !== 'default')
          return problem('PROFILE_UNKNOWN', 400, `no profile ${b.profile}`);
        const code = toBase64Url(randomBytes(24));
        codes.set(code, { subject: b.subject, used: false });
        return json(201, {
          id: randomUUID(),
          code,
          customer: b.customer,
          subject: b.subject,
          profile: b.profile ?? 'default',
          expiresAt: new Date(Date.now() + (b.ttl ?? 604800) * 1000).toISOString(),
        });
      }
      if (method === 'POST' && path === '/api/v1/admin/tokens') {
        const b = body as { name?: string; scopes?: string[] };
        return json(201, { id: randomUUID(), token: `pvat_${toBase64Url(randomBytes(32))}`, ...b });
      }
      const revoke = /^\/api\/v1\/admin\/certificates\/([0-9a-f]+)\/revoke$/.exec(path);
      if (method === 'POST' && revoke) {
        if (!issued.includes(revoke[1]!)) return problem('NOT_FOUND', 404, 'no such certificate');
        return json(200, { serial: revoke[1], status: 'revoked' });
      }
    }
    if (method === 'GET' && path === '/api/v1/ca/certificates')
      return {
        status: 200,
        headers: { 'content-type': 'application/pem-certificate-chain' },
        body: encodePem('CERTIFICATE', ca.der) + encodePem('CERTIFICATE', root.der),
      };
    return problem('NOT_FOUND', 404, `no route ${method} ${path}`);
  }

  const service: FakeService = {
    knobs,
    requests,
    codes,
    issued,
    root,
    ca,
    addCode(subject) {
      const code = toBase64Url(randomBytes(24));
      codes.set(code, { subject, used: false });
      return code;
    },
    handle,
    async fetch(url, init) {
      const u = new URL(url);
      const answer = await handle(
        init.method ?? 'GET',
        u.pathname,
        new Headers(init.headers),
        typeof init.body === 'string' ? init.body : '',
      );
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
    async listen() {
      const server = createServer(async (req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
        const answer = await handle(
          req.method ?? 'GET',
          new URL(req.url ?? '/', 'http://x').pathname,
          headers,
          Buffer.concat(chunks).toString('utf8'),
        );
        res.writeHead(answer.status, answer.headers).end(answer.body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        server,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
  };
  return service;
}
