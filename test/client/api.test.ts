import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/api.js';
import { endpoint, isLoopbackHost, parseServerUrl } from '../../src/client/http.js';
import { isProvenanceError, ProvenanceError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { ecKey, ipName, issue } from '../helpers/pki.js';
import { ADMIN_TOKEN, fakeService } from './fake-service.js';

const CODE = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** The ProvenanceError a promise rejects with (fails the test when it resolves or throws anything else). */
async function rejection(p: Promise<unknown>): Promise<ProvenanceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProvenanceError) return err;
    throw err;
  }
  throw new Error('expected a ProvenanceError');
}

function answering(status: number, body: string, headers: Record<string, string> = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(body, { status, headers });
  };
  return { fetch, calls };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('server URL', () => {
  it('refuses plain http to a host that is not loopback, unless allowed', () => {
    expect(() => parseServerUrl('http://pki.example.com')).toThrowError(
      expect.objectContaining({ code: 'USAGE' }),
    );
    expect(parseServerUrl('http://pki.example.com', { allowInsecureHttp: true }).host).toBe(
      'pki.example.com',
    );
    expect(endpoint(parseServerUrl('https://pki.example.com/'), '/x')).toBe('https://pki.example.com/x');
  });

  it('accepts loopback names and addresses for plain http', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'a.localhost'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['example.com', '10.0.0.1', '[::2]', 'localhost.example.com'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses credentials, queries, fragments and other schemes', () => {
    for (const bad of ['https://u:p@h', 'https://h/?a=1', 'https://h/#x', 'ftp://h', 'not a url']) {
      expect(() => parseServerUrl(bad)).toThrowError(expect.objectContaining({ code: 'USAGE' }));
    }
  });

  it('keeps a path prefix of the base URL', async () => {
    const { fetch, calls } = answering(
      201,
      JSON.stringify({ id: 'c1', nonce: 'A'.repeat(43), expiresAt: '2026-01-01T00:00:00Z' }),
      { 'content-type': 'application/json' },
    );
    await createClient({ server: 'https://pki.example.com/provenance/', fetch }).challenge(CODE);
    expect(calls[0]!.url).toBe('https://pki.example.com/provenance/api/v1/challenges');
  });
});

describe('enrollment calls', () => {
  it('asks for a challenge with the Enroll code and decodes the nonce', async () => {
    const fake = fakeService();
    const code = fake.addCode('CN=Alice');
    const client = createClient({ server: 'http://127.0.0.1:1', fetch: fake.fetch });
    const challenge = await client.challenge(code);
    expect(challenge.nonce).toHaveLength(32);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/v1/challenges',
      authorization: `Enroll ${code}`,
    });
  });

  it('refuses a mangled enrollment code before sending anything', async () => {
    const fake = fakeService();
    const client = createClient({ server: 'http://127.0.0.1:1', fetch: fake.fetch });
    for (const bad of ['short', 'has spaces in the middle of it', 'new\nline-AAAAAAAAAAAAAAAAA']) {
      expect((await rejection(client.challenge(bad))).code).toBe('USAGE');
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("turns a problem document into a ProvenanceError with the server's code and verdict", async () => {
    const verdict = { accepted: false, code: 'POLICY_NO_MATCH', path: [] };
    const { fetch } = answering(
      403,
      JSON.stringify({
        type: 'urn:provenance:error:POLICY_NO_MATCH',
        title: 'No allow rule matches',
        status: 403,
        detail: 'no allow rule matches the validated path',
        code: 'POLICY_NO_MATCH',
        verdict,
      }),
      { 'content-type': 'application/problem+json' },
    );
    const err = await rejection(
      createClient({ server: 'http://localhost:9', fetch }).enroll(CODE, 'c', 'csr'),
    );
    expect(err.code).toBe('POLICY_NO_MATCH');
    expect(err.message).toBe('no allow rule matches the validated path');
    expect(err.details).toMatchObject({ status: 403, verdict });
  });

  it('keeps Retry-After and the sub-problems of a problem document', async () => {
    const { fetch } = answering(
      429,
      JSON.stringify({
        code: 'RATE_LIMITED',
        status: 429,
        detail: 'slow down',
        errors: [{ pointer: '/x', detail: 'y' }],
      }),
      { 'content-type': 'application/problem+json', 'retry-after': '17' },
    );
    const err = await rejection(createClient({ server: 'http://localhost:9', fetch }).challenge(CODE));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.details).toMatchObject({ retryAfter: 17, errors: [{ pointer: '/x', detail: 'y' }] });
  });

  it('reports a problem code this client does not know as SERVER_RESPONSE_INVALID, naming it', async () => {
    const { fetch } = answering(400, JSON.stringify({ code: 'SOMETHING_NEW', status: 400, detail: 'd' }), {
      'content-type': 'application/problem+json',
    });
    const err = await rejection(createClient({ server: 'http://localhost:9', fetch }).challenge(CODE));
    expect(err.code).toBe('SERVER_RESPONSE_INVALID');
    expect(err.details['serverCode']).toBe('SOMETHING_NEW');
  });

  it('reports an answer that is not the API (an HTML error page) as SERVER_RESPONSE_INVALID', async () => {
    const { fetch } = answering(404, '<html>Not Found</html>', { 'content-type': 'text/html' });
    const err = await rejection(createClient({ server: 'http://localhost:9', fetch }).challenge(CODE));
    expect(err.code).toBe('SERVER_RESPONSE_INVALID');
    expect(err.message).toMatch(/base URL/);
  });

  it('refuses a 2xx answer of the wrong shape', async () => {
    for (const body of [
      JSON.stringify({ id: 'c1' }),
      JSON.stringify({ id: 'c1', nonce: 'not base64url!!!', expiresAt: 'x' }),
      'not json',
    ]) {
      const { fetch } = answering(201, body, { 'content-type': 'application/json' });
      const err = await rejection(createClient({ server: 'http://localhost:9', fetch }).challenge(CODE));
      expect(err.code).toBe('SERVER_RESPONSE_INVALID');
    }
    const { fetch } = answering(
      201,
      JSON.stringify({ enrollmentId: 'e', certificate: 'x', chain: [], verdict: {} }),
      {
        'content-type': 'application/json',
      },
    );
    expect(
      (await rejection(createClient({ server: 'http://localhost:9', fetch }).enroll(CODE, 'c', 'x'))).code,
    ).toBe('SERVER_RESPONSE_INVALID');
  });

  it('reads at most maxResponseBytes of an answer (INPUT_TOO_LARGE)', async () => {
    const { fetch } = answering(201, 'x'.repeat(5000), { 'content-type': 'application/json' });
    const err = await rejection(
      createClient({ server: 'http://localhost:9', fetch, maxResponseBytes: 1000 }).challenge(CODE),
    );
    expect(err.code).toBe('INPUT_TOO_LARGE');
  });
});

describe('admin calls', () => {
  it('creates a code with the Bearer token and the request body', async () => {
    const fake = fakeService();
    const client = createClient({ server: 'http://127.0.0.1:1', fetch: fake.fetch });
    const created = await client.adminCreateCode(ADMIN_TOKEN, {
      customer: 'acme',
      subject: 'CN=Alice',
      ttl: 3600,
    });
    expect(created).toMatchObject({ customer: 'acme', subject: 'CN=Alice', profile: 'default' });
    expect(created.code.length).toBeGreaterThanOrEqual(32);
    expect(fake.requests[0]).toMatchObject({
      path: '/api/v1/admin/enrollment-codes',
      authorization: `Bearer ${ADMIN_TOKEN}`,
      body: { customer: 'acme', subject: 'CN=Alice', ttl: 3600 },
    });
  });

  it('creates an admin token, and surfaces AUTH_INVALID for an unknown one', async () => {
    const fake = fakeService();
    const client = createClient({ server: 'http://127.0.0.1:1', fetch: fake.fetch });
    const created = await client.adminCreateToken(ADMIN_TOKEN, { name: 'ci', scopes: ['codes:write'] });
    expect(created.token).toMatch(/^pvat_/);
    const err = await rejection(client.adminCreateToken(`pvat_${'B'.repeat(43)}`, { name: 'x', scopes: [] }));
    expect(err.code).toBe('AUTH_INVALID');
    expect(err.details['status']).toBe(401);
  });

  it('reads the CA chain as PEM', async () => {
    const fake = fakeService();
    const pem = await createClient({ server: 'http://127.0.0.1:1', fetch: fake.fetch }).caCertificates();
    expect(pem).toContain('BEGIN CERTIFICATE');
  });
});

describe('network', () => {
  it('maps a refused connection to SERVER_UNREACHABLE with the errno', async () => {
    const port = await listen(createHttpServer());
    const s = servers.pop()!;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const err = await rejection(createClient({ server: `http://127.0.0.1:${port}` }).challenge(CODE));
    expect(err.code).toBe('SERVER_UNREACHABLE');
    expect(err.details['errno']).toBe('ECONNREFUSED');
  });

  it('gives up after the timeout with SERVER_UNREACHABLE', async () => {
    const port = await listen(createHttpServer(() => undefined)); // never answers
    const started = Date.now();
    const err = await rejection(
      createClient({ server: `http://127.0.0.1:${port}`, timeoutMs: 300 }).challenge(CODE),
    );
    expect(err.code).toBe('SERVER_UNREACHABLE');
    expect(err.details['timeoutMs']).toBe(300);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('talks over real HTTP to a listening service', async () => {
    const fake = fakeService();
    const port = await listen(
      createHttpServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const headers = new Headers(req.headers as Record<string, string>);
        const a = await fake.handle(req.method!, req.url!, headers, Buffer.concat(chunks).toString());
        res.writeHead(a.status, a.headers).end(a.body);
      }),
    );
    const created = await createClient({ server: `http://127.0.0.1:${port}` }).adminCreateCode(ADMIN_TOKEN, {
      customer: 'acme',
      subject: 'CN=Bob',
    });
    expect(created.subject).toBe('CN=Bob');
  });

  /** An https server on 127.0.0.1 with a certificate from a fresh private root. */
  function httpsServer(handler: (res: import('node:http').ServerResponse) => void) {
    const root = issue({ subject: 'Test TLS Root', key: ecKey(), ca: {} });
    const leafKey = ecKey();
    const leaf = issue({
      subject: 'localhost',
      key: leafKey,
      issuer: root,
      notCa: true,
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['1.3.6.1.5.5.7.3.1'],
      subjectAltName: [ipName([127, 0, 0, 1])],
    });
    const server = createHttpsServer(
      {
        cert: encodePem('CERTIFICATE', leaf.der),
        key: leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      },
      (_req, res) => handler(res),
    );
    return { server, rootPem: encodePem('CERTIFICATE', root.der) };
  }

  it('trusts a private CA for an https server only when given with caCert', async () => {
    const { server, rootPem } = httpsServer((res) => {
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: 'c1', nonce: 'A'.repeat(43), expiresAt: '2026-01-01T00:00:00Z' }));
    });
    const port = await listen(server as unknown as Server);
    const url = `https://127.0.0.1:${port}`;

    const untrusted = await rejection(createClient({ server: url }).challenge(CODE));
    expect(untrusted.code).toBe('SERVER_UNREACHABLE');
    expect(untrusted.message).toMatch(/--ca-cert/);

    const client = createClient({ server: url, caCert: rootPem });
    expect((await client.challenge(CODE)).id).toBe('c1');

    const other = issue({ subject: 'Other Root', key: ecKey(), ca: {} });
    const wrong = await rejection(
      createClient({ server: url, caCert: encodePem('CERTIFICATE', other.der) }).challenge(CODE),
    );
    expect(wrong.code).toBe('SERVER_UNREACHABLE');
  });

  it('bounds an https answer read through the private CA too (INPUT_TOO_LARGE)', async () => {
    const { server, rootPem } = httpsServer((res) => {
      res.writeHead(201, { 'content-type': 'application/json' }).end('x'.repeat(50_000));
    });
    const port = await listen(server as unknown as Server);
    const client = createClient({
      server: `https://127.0.0.1:${port}`,
      caCert: rootPem,
      maxResponseBytes: 1000,
    });
    expect((await rejection(client.challenge(CODE))).code).toBe('INPUT_TOO_LARGE');
  });

  it('refuses a CA file without a certificate', () => {
    expect(() => createClient({ server: 'https://h', caCert: 'no pem here' })).toThrowError(
      expect.objectContaining({ code: 'USAGE' }),
    );
    expect(isProvenanceError(new ProvenanceError('USAGE', 'x'))).toBe(true);
  });
});
