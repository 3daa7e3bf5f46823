import { describe, expect, it } from 'vitest';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { problemFor, validationItems } from '../../src/server/problem.js';
import { FixedWindowLimiter } from '../../src/server/rate-limit.js';
import { addAdminToken, testApp, testClock, testConfig } from './fakes.js';
import { createCode } from './fixtures.js';

describe('problem documents', () => {
  it('an unknown route is a NOT_FOUND problem', async () => {
    const { app } = testApp();
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toEqual({
      type: 'urn:provenance:error:NOT_FOUND',
      title: 'No such resource.',
      status: 404,
      detail: 'no route GET /api/v1/nothing',
      code: 'NOT_FOUND',
      instance: '/api/v1/nothing',
    });
  });

  it('an unexpected failure is INTERNAL (500) and says nothing about it', async () => {
    const { app, store } = testApp();
    store.codes.findByHash = async () => {
      throw new Error('connection to db.internal:5432 refused (password=hunter2)');
    };
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/challenges',
      headers: { authorization: `Enroll ${'A'.repeat(32)}` },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('INTERNAL');
    expect(res.body).not.toMatch(/db\.internal|hunter2|refused/);
  });

  it('a store failure is STORE_UNAVAILABLE (503) with the summary only', async () => {
    const { app, store } = testApp();
    const token = await addAdminToken(store);
    store.audit.list = async () => {
      const { ProvenanceError } = await import('../../src/core/errors.js');
      throw new ProvenanceError('STORE_UNAVAILABLE', 'postgres://admin:secret@db/provenance is down');
    };
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/audit',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('STORE_UNAVAILABLE');
    expect(res.body).not.toContain('secret');
  });

  it('maps schema errors to RFC 6901 pointers naming the part of the request', () => {
    expect(
      validationItems({
        validationContext: 'body',
        validation: [
          { instancePath: '', keyword: 'required', params: { missingProperty: 'csr' } },
          { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'a/b~c' } },
          {
            instancePath: '/scopes/0',
            keyword: 'enum',
            message: 'must be equal to one of the allowed values',
          },
        ],
      }),
    ).toEqual([
      { pointer: '#/csr', detail: 'is required' },
      { pointer: '#/a~1b~0c', detail: 'is not a known field' },
      { pointer: '#/scopes/0', detail: 'must be equal to one of the allowed values' },
    ]);
    expect(
      validationItems({
        validationContext: 'querystring',
        validation: [{ instancePath: '/limit', message: 'bad' }],
      }),
    ).toEqual([{ pointer: '#/limit', detail: 'bad', in: 'query' }]);
  });

  it('never copies arbitrary error details into the problem', () => {
    const answer = problemFor(
      Object.assign(new (class extends Error {})('x'), { statusCode: 418, code: 'FST_SOMETHING' }),
      '/x',
    );
    expect(answer.problem.code).toBe('BODY_INVALID');
    expect(answer.internal).toBe(false);
  });
});

describe('rate limits', () => {
  it('limits API requests per client address, with Retry-After, and not the health endpoints', async () => {
    const clock = testClock();
    const { app } = testApp({ clock, config: testConfig('limits: { perAddressPerMinute: 3 }\n') });
    const hit = () => app.inject({ method: 'GET', url: '/api/v1/ca/certificates' });
    for (let i = 0; i < 3; i++) expect((await hit()).statusCode).toBe(200);
    const limited = await hit();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Another address has its own window.
    const other = await app.inject({
      method: 'GET',
      url: '/api/v1/ca/certificates',
      remoteAddress: '10.0.0.9',
    });
    expect(other.statusCode).toBe(200);
    clock.advance(60_000);
    expect((await hit()).statusCode).toBe(200);
  });

  it('counts the client behind a trusted proxy by X-Forwarded-For, and ignores it from others', async () => {
    const { app } = testApp({
      config: testConfig('limits: { perAddressPerMinute: 1 }\ntrustProxy: [127.0.0.1]\n'),
    });
    const from = (client: string, remoteAddress = '127.0.0.1') =>
      app.inject({
        method: 'GET',
        url: '/api/v1/ca/certificates',
        remoteAddress,
        headers: { 'x-forwarded-for': client },
      });
    expect((await from('192.0.2.1')).statusCode).toBe(200);
    expect((await from('192.0.2.2')).statusCode).toBe(200);
    expect((await from('192.0.2.1')).statusCode).toBe(429);
    // A direct client cannot pick its address by sending the header.
    expect((await from('192.0.2.3', '198.51.100.7')).statusCode).toBe(200);
    expect((await from('192.0.2.4', '198.51.100.7')).statusCode).toBe(429);
  });

  it('limits requests per enrollment code', async () => {
    const clock = testClock();
    const { app, store } = testApp({ clock, config: testConfig('limits: { perCodePerMinute: 2 }\n') });
    const token = await addAdminToken(store);
    const { code } = await createCode(app, token);
    const challenge = () =>
      app.inject({ method: 'POST', url: '/api/v1/challenges', headers: { authorization: `Enroll ${code}` } });
    expect((await challenge()).statusCode).toBe(201);
    expect((await challenge()).statusCode).toBe(201);
    const limited = await challenge();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('60');
  });

  it('a full limiter table refuses new keys instead of growing', () => {
    const limiter = new FixedWindowLimiter({ limit: 5, windowMs: 60_000, clock: () => 0, maxKeys: 2 });
    expect(limiter.hit('a').allowed).toBe(true);
    expect(limiter.hit('b').allowed).toBe(true);
    expect(limiter.hit('c').allowed).toBe(false);
    expect(limiter.size).toBe(2);
  });
});

describe('public and operational endpoints', () => {
  it('serves the CA chain as PEM, issuing CA first', async () => {
    const { app, ca } = testApp();
    const res = await app.inject({ method: 'GET', url: '/api/v1/ca/certificates' });
    expect(res.headers['content-type']).toMatch(/^application\/pem-certificate-chain/);
    const certs = decodePem(res.body).map((b) => parseCertificate(b.der));
    expect(certs.map((c) => c.spkiSha256)).toEqual(ca.issuing.chain.map((c) => c.spkiSha256));
  });

  it('healthz is up; readyz needs the store, the CA and a policy', async () => {
    const { app, store } = testApp({ policy: null });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const noPolicy = await app.inject({ method: 'GET', url: '/readyz' });
    expect(noPolicy.statusCode).toBe(503);
    expect(noPolicy.json()).toMatchObject({
      code: 'TRUST_NO_ANCHORS',
      checks: { store: 'ok', policy: 'not loaded' },
    });

    const { policyFromOptions } = await import('../../src/policy/from-options.js');
    const { nativeHierarchy } = await import('./fixtures.js');
    app.provenance.policies.set(policyFromOptions({ trust: [nativeHierarchy().root.cert] }));
    const ok = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ready', checks: { store: 'ok', ca: 'ok', policy: 'ok' } });
    store.down = true;
    const down = await app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ code: 'STORE_UNAVAILABLE', checks: { store: 'STORE_UNAVAILABLE' } });
  });

  it('metrics count HTTP requests by route pattern and status', async () => {
    const { app } = testApp();
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/api/v1/admin/enrollments/abc' });
    await app.inject({ method: 'GET', url: '/nope' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain('provenance_http_requests_total{route="/healthz",status="200"} 1');
    expect(res.body).toContain(
      'provenance_http_requests_total{route="/api/v1/admin/enrollments/:id",status="401"} 1',
    );
    expect(res.body).toContain('provenance_http_requests_total{route="unmatched",status="404"} 1');
    expect(res.body).toContain('# TYPE provenance_verification_seconds histogram');
  });
});
