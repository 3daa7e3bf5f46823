import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, toHex } from '../../src/core/bytes.js';
import { ALL_SCOPES, type Scope } from '../../src/store/types.js';
import { addAdminToken, hashSecret, testApp, testConfig } from './fakes.js';
import {
  createCode,
  csrPem,
  getChallenge,
  type NativeHierarchy,
  nativeHierarchy,
  POLICY_YAML,
  type PolicyFolder,
  policyFolder,
  submit,
} from './fixtures.js';

let h: NativeHierarchy;
let folder: PolicyFolder;

beforeAll(() => {
  h = nativeHierarchy();
  folder = policyFolder(h);
});
afterAll(() => folder.cleanup());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** An app with one issued and one rejected enrollment. */
async function withEnrollments() {
  const t = testApp({ policy: folder.policy });
  const admin = await addAdminToken(t.store);
  const alice = await createCode(t.app, admin, { customer: 'acme', subject: 'CN=Alice' });
  const c1 = await getChallenge(t.app, alice.code);
  const issued = await submit(t.app, alice.code, { challengeId: c1.id, csr: csrPem(h, { nonce: c1.nonce }) });
  const bob = await createCode(t.app, admin, { customer: 'globex', subject: 'CN=Bob' });
  const c2 = await getChallenge(t.app, bob.code);
  const rejected = await submit(t.app, bob.code, {
    challengeId: c2.id,
    csr: csrPem(h, { nonce: new Uint8Array(32) }),
  });
  return { ...t, admin, issued: issued.json(), rejected: rejected.json(), alice, bob };
}

/** Every admin route with a valid request and the scope it needs. */
const ADMIN_ROUTES: { method: 'GET' | 'POST'; url: string; scope: Scope; payload?: object }[] = [
  {
    method: 'POST',
    url: '/api/v1/admin/enrollment-codes',
    scope: 'codes:write',
    payload: { customer: 'c', subject: 'CN=X' },
  },
  { method: 'GET', url: '/api/v1/admin/enrollment-codes', scope: 'codes:read' },
  { method: 'GET', url: '/api/v1/admin/enrollments', scope: 'enrollments:read' },
  {
    method: 'GET',
    url: '/api/v1/admin/enrollments/00000000-0000-4000-8000-000000000000',
    scope: 'enrollments:read',
  },
  {
    method: 'POST',
    url: '/api/v1/admin/certificates/0abc/revoke',
    scope: 'certificates:revoke',
    payload: { reason: 'superseded' },
  },
  { method: 'GET', url: '/api/v1/admin/audit', scope: 'audit:read' },
  { method: 'GET', url: '/api/v1/admin/policy', scope: 'policy:read' },
  {
    method: 'POST',
    url: '/api/v1/admin/policy/dry-run',
    scope: 'policy:dry-run',
    payload: { policy: 'version: 1\ntrust: []\n' },
  },
  {
    method: 'POST',
    url: '/api/v1/admin/tokens',
    scope: 'tokens:write',
    payload: { name: 'n', scopes: ['tokens:write'] },
  },
];

describe('admin authentication and scopes', () => {
  it.each(ADMIN_ROUTES)('$method $url needs a Bearer token with $scope', async (route) => {
    const { app, store } = testApp({ policy: folder.policy });
    const inject = (headers: Record<string, string>) =>
      app.inject({
        method: route.method,
        url: route.url,
        headers,
        ...(route.payload ? { payload: route.payload } : {}),
      });

    const none = await inject({});
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('AUTH_REQUIRED');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="provenance"/);

    const garbage = await inject(bearer('pvat_not-a-token'));
    expect(garbage.json().code).toBe('AUTH_INVALID');
    const unknown = await inject(bearer(`pvat_${'A'.repeat(43)}`));
    expect(unknown.json().code).toBe('AUTH_INVALID');
    const enrollScheme = await inject({ authorization: `Enroll ${'A'.repeat(32)}` });
    expect(enrollScheme.json().code).toBe('AUTH_REQUIRED');

    const others = await addAdminToken(
      store,
      ALL_SCOPES.filter((s) => s !== route.scope),
      'others',
    );
    const denied = await inject(bearer(others));
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('AUTH_SCOPE');
    expect(denied.headers['www-authenticate']).toContain(`scope="${route.scope}"`);

    const only = await addAdminToken(store, [route.scope], 'only');
    const allowed = await inject(bearer(only));
    expect([401, 403]).not.toContain(allowed.statusCode);
  });

  it('a revoked admin token is AUTH_INVALID', async () => {
    const { app, store } = testApp();
    const token = await addAdminToken(store);
    const record = (await store.adminTokens.findByHash(hashSecret(token)))!;
    await store.adminTokens.create({ ...record, revokedAt: 1 });
    const res = await app.inject({ method: 'GET', url: '/api/v1/admin/audit', headers: bearer(token) });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('AUTH_INVALID');
  });

  it('the enrollment API wants an Enroll code, not an admin token', async () => {
    const { app, store } = testApp();
    const token = await addAdminToken(store);
    const res = await app.inject({ method: 'POST', url: '/api/v1/challenges', headers: bearer(token) });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('AUTH_REQUIRED');
    expect(res.headers['www-authenticate']).toBe('Enroll realm="provenance"');
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/challenges',
      headers: { authorization: `Enroll ${'A'.repeat(32)}` },
    });
    expect(unknown.json().code).toBe('AUTH_INVALID');
  });
});

describe('enrollment codes', () => {
  it('creates a 192-bit code, shown once and stored as its SHA-256, and audits it', async () => {
    const { app, store } = testApp();
    const token = await addAdminToken(store);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/enrollment-codes',
      headers: bearer(token),
      payload: { customer: 'acme', subject: 'CN=Alice,O=Acme', ttl: 3600 },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.code).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(body).toMatchObject({ customer: 'acme', subject: 'CN=Alice,O=Acme', profile: 'default' });
    expect(Date.parse(body.expiresAt) - Date.UTC(2026, 5, 1, 12)).toBe(3600_000);
    const stored = (await store.codes.get(body.id))!;
    expect(toHex(stored.codeHash)).toBe(sha256Hex(new TextEncoder().encode(body.code)));
    expect(JSON.stringify(stored)).not.toContain(body.code);
    expect(store.auditEvents().at(-1)).toMatchObject({ event: 'code.created', subject: `code:${body.id}` });

    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/enrollment-codes?customer=acme',
      headers: bearer(token),
    });
    expect(list.json().items).toHaveLength(1);
    expect(list.body).not.toContain(body.code);
    const none = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/enrollment-codes?customer=else',
      headers: bearer(token),
    });
    expect(none.json().items).toHaveLength(0);
  });

  it.each([
    [{ customer: 'c', subject: 'CN=A', profile: 'nope' }, 400, 'PROFILE_UNKNOWN', undefined],
    [{ customer: 'c', subject: 'CN=A', ttl: 40 * 86400 }, 400, 'BODY_INVALID', '#/ttl'],
    [{ customer: 'c', subject: 'not a name' }, 400, 'BODY_INVALID', '#/subject'],
    [{ customer: '  ', subject: 'CN=A' }, 400, 'BODY_INVALID', '#/customer'],
    [{ customer: 'c' }, 400, 'BODY_INVALID', '#/subject'],
    [{ customer: 'c', subject: 'CN=A', ttl: '60' }, 400, 'BODY_INVALID', '#/ttl'],
  ])('refuses %j with %i %s', async (payload, status, code, pointer) => {
    const { app, store } = testApp();
    const token = await addAdminToken(store);
    await app.ready();
    const before = store.rows();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/enrollment-codes',
      headers: bearer(token),
      payload,
    });
    expect(res.statusCode).toBe(status);
    expect(res.json().code).toBe(code);
    if (pointer) expect(res.json().errors[0].pointer).toBe(pointer);
    expect(store.rows()).toEqual(before);
  });

  it('checks the subject inside the profile’s template', async () => {
    const { app, store } = testApp({
      config: testConfig('profiles:\n  default: { subjectTemplate: "{subject},O=Example Bank" }\n'),
    });
    const token = await addAdminToken(store);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/enrollment-codes',
      headers: bearer(token),
      payload: { customer: 'c', subject: 'CN=Alice' },
    });
    expect(ok.statusCode).toBe(201);
  });
});

describe('enrollments, revocation, audit', () => {
  it('lists enrollments with filters and shows one with verdict, policy input and certificate', async () => {
    const { app, admin, issued, rejected } = await withEnrollments();
    const all = await app.inject({ method: 'GET', url: '/api/v1/admin/enrollments', headers: bearer(admin) });
    expect(all.statusCode).toBe(200);
    expect(all.json().items).toHaveLength(2);
    const only = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/enrollments?status=rejected',
      headers: bearer(admin),
    });
    expect(only.json().items.map((e: { id: string }) => e.id)).toEqual([rejected.enrollmentId]);
    const acme = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/enrollments?customer=acme&limit=1',
      headers: bearer(admin),
    });
    expect(acme.json().items[0]).toMatchObject({
      id: issued.enrollmentId,
      status: 'issued',
      code: 'ACCEPTED',
    });

    const one = await app.inject({
      method: 'GET',
      url: `/api/v1/admin/enrollments/${issued.enrollmentId}`,
      headers: bearer(admin),
    });
    const body = one.json();
    expect(body.verdict).toMatchObject({ accepted: true, matchedRule: 'gemalto-smartcards' });
    expect(body.verdict.path).toHaveLength(5);
    expect(body.policyInput).toMatchObject({ format: 'provenance', anchorId: 'gemalto' });
    expect(body.certificate).toMatchObject({ serial: issued.serial, status: 'good' });
    expect(body.certificate.pem).toContain('BEGIN CERTIFICATE');
    expect(body.evidence).toBeNull();

    const missing = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/enrollments/nope',
      headers: bearer(admin),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('NOT_FOUND');
    const badQuery = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/enrollments?limit=500',
      headers: bearer(admin),
    });
    expect(badQuery.json()).toMatchObject({
      code: 'BODY_INVALID',
      errors: [{ pointer: '#/limit', in: 'query' }],
    });
  });

  it('revokes a certificate: audited, the CRL rebuilt with a new number, idempotent', async () => {
    const { app, ca, store, admin, issued } = await withEnrollments();
    const crl1 = await app.inject({ method: 'GET', url: '/api/v1/crl' });
    expect(crl1.statusCode).toBe(200);
    expect(crl1.headers['content-type']).toBe('application/pkix-crl');
    await app.inject({ method: 'GET', url: '/api/v1/crl' });
    expect(ca.crls).toHaveLength(1); // cached

    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/certificates/${issued.serial.toUpperCase()}/revoke`,
      headers: bearer(admin),
      payload: { reason: 'keyCompromise' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ serial: issued.serial, status: 'revoked', reason: 'keyCompromise' });
    expect((await store.certificates.get(issued.serial))?.status).toBe('revoked');
    expect(store.auditEvents().at(-1)).toMatchObject({
      event: 'certificate.revoked',
      subject: `certificate:${issued.serial}`,
    });

    await app.inject({ method: 'GET', url: '/api/v1/crl' });
    expect(ca.crls).toHaveLength(2);
    expect(ca.crls[1]).toMatchObject({
      crlNumber: 2,
      revoked: [{ serial: issued.serial, reason: 'keyCompromise' }],
    });

    const again = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/certificates/${issued.serial}/revoke`,
      headers: bearer(admin),
      payload: { reason: 'superseded' },
    });
    expect(again.json()).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect(store.auditEvents().filter((e) => e.event === 'certificate.revoked')).toHaveLength(1);

    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/certificates/abcdef/revoke',
      headers: bearer(admin),
      payload: { reason: 'superseded' },
    });
    expect(unknown.json().code).toBe('NOT_FOUND');
    const badReason = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/certificates/${issued.serial}/revoke`,
      headers: bearer(admin),
      payload: { reason: 'certificateHold' },
    });
    expect(badReason.json()).toMatchObject({ code: 'BODY_INVALID', errors: [{ pointer: '#/reason' }] });
  });

  it('lists the audit log with its hash chain, filtered by event', async () => {
    const { app, admin } = await withEnrollments();
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/audit?event=enrollment.rejected',
      headers: bearer(admin),
    });
    const items = res.json().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ event: 'enrollment.rejected', data: { code: 'NONCE_MISMATCH' } });
    expect(items[0].hash).toMatch(/^[0-9a-f]{64}$/);
    const bad = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/audit?since=yesterday',
      headers: bearer(admin),
    });
    expect(bad.json()).toMatchObject({ code: 'BODY_INVALID', errors: [{ pointer: '#/since', in: 'query' }] });
  });
});

describe('policy', () => {
  it('shows the live policy: source, digest, summary; 404 when none is loaded', async () => {
    const { app, store } = testApp({ policy: folder.policy });
    const token = await addAdminToken(store);
    const res = await app.inject({ method: 'GET', url: '/api/v1/admin/policy', headers: bearer(token) });
    expect(res.json()).toMatchObject({ source: folder.policyPath, digest: folder.policy.digest });
    expect(res.json().summary.allow[0].id).toBe('gemalto-smartcards');
    const none = testApp({ policy: null });
    const t2 = await addAdminToken(none.store);
    const missing = await none.app.inject({
      method: 'GET',
      url: '/api/v1/admin/policy',
      headers: bearer(t2),
    });
    expect(missing.json().code).toBe('NOT_FOUND');
  });

  it('dry-runs a draft over stored enrollments and lists the decisions that would change', async () => {
    const { app, store, admin, issued } = await withEnrollments();
    const same = await dryRun(app, admin, POLICY_YAML);
    expect(same.statusCode).toBe(200);
    expect(same.json()).toMatchObject({ evaluated: 1, skipped: 1, changed: [] });

    const byModel = POLICY_YAML.replace('entry: ./line.pem', 'entry: ./model.pem').replace(
      'gemalto-smartcards',
      'gemalto-net',
    );
    const renamed = await dryRun(app, admin, byModel);
    expect(renamed.json().changed).toEqual([
      {
        enrollmentId: issued.enrollmentId,
        before: { code: 'ACCEPTED', rule: 'gemalto-smartcards' },
        after: { code: 'ACCEPTED', rule: 'gemalto-net' },
      },
    ]);
    const denied =
      POLICY_YAML.replace('deny:', 'deny:') +
      `deny:\n  entries:\n    - certificate: ./line.pem\n      reason: recalled\n`;
    const recall = await dryRun(app, admin, denied);
    expect(recall.json().changed[0]).toMatchObject({ after: { code: 'POLICY_DENIED' } });
    expect(store.auditEvents().filter((e) => e.event === 'policy.dry-run')).toHaveLength(3);
  });

  it('refuses a draft that does not parse (naming the line) or names files outside the policy folder', async () => {
    const { app, admin } = await withEnrollments();
    const broken = await dryRun(app, admin, 'version: 1\ntrust:\n  - id: x\n    certificatez: []\n');
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'POLICY_INVALID', line: 4 });
    // Refused before any read: the file need not exist.
    const outside = await dryRun(app, admin, POLICY_YAML.replace('./root.pem', '../outside.pem'));
    expect(outside.json().code).toBe('POLICY_INVALID');
    expect(outside.json().detail).toContain("inside the live policy's folder");
    const absolute = await dryRun(app, admin, POLICY_YAML.replace('./root.pem', '/etc/hostname'));
    expect(absolute.json().code).toBe('POLICY_INVALID');
  });
});

describe('admin tokens', () => {
  it('creates a scoped token that works for its scope only, and cannot grant scopes it lacks', async () => {
    const { app, store } = testApp();
    const root = await addAdminToken(store);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/tokens',
      headers: bearer(root),
      payload: { name: 'crm', scopes: ['codes:write', 'tokens:write'] },
    });
    expect(res.statusCode).toBe(201);
    const { token, id } = res.json();
    expect(token).toMatch(/^pvat_[A-Za-z0-9_-]{43}$/);
    expect(store.auditEvents().at(-1)).toMatchObject({ event: 'token.created', subject: `token:${id}` });
    const write = await createCode(app, token);
    expect(write.code).toHaveLength(32);
    const read = await app.inject({ method: 'GET', url: '/api/v1/admin/audit', headers: bearer(token) });
    expect(read.json().code).toBe('AUTH_SCOPE');
    const escalate = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/tokens',
      headers: bearer(token),
      payload: { name: 'more', scopes: ['audit:read'] },
    });
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json().code).toBe('AUTH_SCOPE');
    const unknownScope = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/tokens',
      headers: bearer(root),
      payload: { name: 'x', scopes: ['everything'] },
    });
    expect(unknownScope.json().code).toBe('BODY_INVALID');
  });
});

function dryRun(app: ReturnType<typeof testApp>['app'], token: string, policy: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/admin/policy/dry-run',
    headers: bearer(token),
    payload: { policy, limit: 10 },
  });
}
