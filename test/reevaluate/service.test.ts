/**
 * Re-evaluation after a compromise over the real app, store (SQLite in memory; PostgreSQL
 * when its binaries are here) and CA: certificates for two models are issued through the
 * API, the policy then denies one model's CA, and re-evaluation must list exactly that
 * model's certificates, revoke them on request (audited, in the CRL), and find nothing more
 * on a second run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../../src/ca/directory.js';
import { parseCrl, verifyCrl } from '../../src/pki/crl.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { buildApp } from '../../src/server/app.js';
import { PolicyHolder } from '../../src/server/policy-holder.js';
import { reevaluate } from '../../src/server/reevaluate.js';
import { serviceCa } from '../../src/server/serve.js';
import { openStore } from '../../src/store/store.js';
import type { Scope, Store } from '../../src/store/types.js';
import { needPostgres, type PostgresCluster, startPostgres } from '../helpers/postgres.js';
import { addAdminToken, NOW, testApp, testClock, testConfig } from '../server/fakes.js';
import { enrollOne, type TwoMakers, twoMakers } from './fixtures.js';

const DAY = 86400_000;
let m: TwoMakers;
let caDir: string;
let ca: Awaited<ReturnType<typeof initCa>>;
let pg: PostgresCluster | null = null;

beforeAll(async () => {
  m = twoMakers();
  caDir = mkdtempSync(join(tmpdir(), 'provenance-reevaluate-ca-'));
  ca = await initCa(join(caDir, 'ca'), { name: 'Test Issuing CA', passphrase: null, clock: () => NOW - DAY });
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  m.cleanup();
  rmSync(caDir, { recursive: true, force: true });
  await pg?.stop();
});

/** The app with certificates issued for two keys of maker A and one of maker B. */
async function issued(url: string) {
  const store = await openStore(url);
  const clock = testClock();
  const policies = new PolicyHolder({ clock, policy: loadPolicyFile(m.policyPath) });
  const app = buildApp({
    store,
    ca: serviceCa(ca),
    policy: policies,
    config: testConfig('limits: { perCodePerMinute: 1000, perAddressPerMinute: 1000 }\n', m.dir),
    clock,
    logger: pino({ level: 'silent' }) as never,
  });
  const admin = await addAdminToken(store);
  const a1 = await enrollOne(app, admin, m.a, 'CN=Alice Example,O=Acme');
  const a2 = await enrollOne(app, admin, m.a, 'CN=Bob Example,O=Acme');
  const b1 = await enrollOne(app, admin, m.b, 'CN=Carol Example,O=Acme');
  const compromise = () => policies.set(loadPolicyFile(m.denyPath));
  const post = (token: string, payload: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/admin/reevaluate',
      headers: { authorization: `Bearer ${token}` },
      payload,
    });
  return {
    store,
    app,
    clock,
    admin,
    a: [a1.serial, a2.serial].sort(),
    b: [b1.serial],
    compromise,
    post,
    close: () => app.close().then(() => store.close()),
  };
}

async function events(store: Store, event: string) {
  return (await store.audit.list({ event, limit: 100 })).items;
}

const backends: [string, () => Promise<string>][] = [
  ['SQLite', async () => 'sqlite::memory:'],
  ['PostgreSQL', async () => pg!.createSchema()],
];

describe.each(backends)('re-evaluation on %s', (backend, url) => {
  const needs = (ctx: { skip: (note?: string) => void }) => {
    if (backend === 'PostgreSQL') needPostgres(ctx, pg);
  };

  it('lists nothing while the policy still accepts every issued certificate', async (ctx) => {
    needs(ctx);
    const s = await issued(await url());
    const report = await reevaluate({
      store: s.store,
      policy: loadPolicyFile(m.policyPath),
      clock: s.clock,
      actor: 'system',
    });
    expect(report).toMatchObject({
      evaluated: 3,
      skipped: 0,
      truncated: false,
      wouldReject: [],
      revoked: [],
    });
    await s.close();
  });

  it("lists exactly the denied model's certificates, with the decision before and after, and revokes nothing", async (ctx) => {
    needs(ctx);
    const s = await issued(await url());
    s.compromise();
    const res = await s.post(s.admin, {});
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.evaluated).toBe(3);
    expect(report.wouldReject.map((w: { serial: string }) => w.serial).sort()).toEqual(s.a);
    for (const w of report.wouldReject) {
      expect(w.before).toEqual({ code: 'ACCEPTED', rule: 'gemalto-smartcards' });
      expect(w.after.code).toBe('POLICY_DENIED');
      expect(w.why).toContain('is on the deny list: model attestation CA compromised');
      expect(w.revoked).toBe(false);
      expect(w.keySpkiSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(report.revoked).toEqual([]);
    for (const serial of [...s.a, ...s.b])
      expect((await s.store.certificates.get(serial))?.status).toBe('good');
    const runs = await events(s.store, 'reevaluation.run');
    expect(runs).toHaveLength(1);
    expect(runs[0]?.data).toMatchObject({ evaluated: 3, wouldReject: 2, revoke: false, revoked: 0 });
    expect(runs[0]?.actor).toMatch(/^admin:/);
    expect(await events(s.store, 'certificate.revoked')).toHaveLength(0);
    await s.close();
  });

  it('revokes them in bulk: audited each, listed in the CRL under the CA, and a second run finds nothing', async (ctx) => {
    needs(ctx);
    const s = await issued(await url());
    const crlBefore = parseCrl(
      new Uint8Array((await s.app.inject({ method: 'GET', url: '/api/v1/crl' })).rawPayload),
    );
    expect(crlBefore.revoked).toHaveLength(0);
    s.compromise();
    const res = await s.post(s.admin, { revoke: true, reason: 'keyCompromise' });
    expect(res.statusCode).toBe(200);
    expect(res.json().revoked.sort()).toEqual(s.a);
    expect(res.json().reason).toBe('keyCompromise');
    for (const serial of s.a) {
      const cert = await s.store.certificates.get(serial);
      expect(cert).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
    }
    expect((await s.store.certificates.get(s.b[0]!))?.status).toBe('good');
    const revokedEvents = await events(s.store, 'certificate.revoked');
    expect(revokedEvents.map((e) => e.subject).sort()).toEqual(s.a.map((x) => `certificate:${x}`));
    expect(revokedEvents[0]?.data).toMatchObject({
      reason: 'keyCompromise',
      reevaluation: { code: 'POLICY_DENIED' },
    });
    expect((await s.store.verifyAudit()).ok).toBe(true);

    // The cached CRL was invalidated: the next one lists exactly the revoked serials.
    const crl = parseCrl(
      new Uint8Array((await s.app.inject({ method: 'GET', url: '/api/v1/crl' })).rawPayload),
    );
    verifyCrl(crl, ca.certificate);
    expect(crl.revoked.map((r) => r.serialHex).sort()).toEqual(s.a);
    for (const serial of s.a) expect(crl.isRevoked(serial)?.reason).toBe('keyCompromise');
    expect(crl.isRevoked(s.b[0]!)).toBeUndefined();

    const again = (await s.post(s.admin, { revoke: true })).json();
    expect(again).toMatchObject({ evaluated: 1, skipped: 2, wouldReject: [], revoked: [] });
    expect(await events(s.store, 'certificate.revoked')).toHaveLength(2);
    expect(await events(s.store, 'reevaluation.run')).toHaveLength(2);
    await s.close();
  });
});

describe('re-evaluation: bulk revocation under contention and failure', () => {
  it('two runs revoking at once revoke each certificate once, audited once', async () => {
    const s = await issued('sqlite::memory:');
    const policy = loadPolicyFile(m.denyPath);
    const run = () => reevaluate({ store: s.store, policy, clock: s.clock, actor: 'system', revoke: true });
    const [one, two] = await Promise.all([run(), run()]);
    expect([...one.revoked, ...two.revoked].sort()).toEqual(s.a);
    expect(await events(s.store, 'certificate.revoked')).toHaveLength(2);
    expect((await s.store.verifyAudit()).ok).toBe(true);
    await s.close();
  });

  it('a store failure half-way keeps the revocations made so far, audited, and records where the run stopped', async () => {
    const s = await issued('sqlite::memory:');
    let calls = 0;
    const failing = {
      ...s.store,
      enrollments: s.store.enrollments,
      certificates: s.store.certificates,
      audit: s.store.audit,
      transaction: <T>(fn: Parameters<typeof s.store.transaction<T>>[0]) => {
        calls++;
        if (calls === 2) return Promise.reject(new Error('disk full'));
        return s.store.transaction(fn);
      },
    };
    await expect(
      reevaluate({
        store: failing,
        policy: loadPolicyFile(m.denyPath),
        clock: s.clock,
        actor: 'system',
        revoke: true,
      }),
    ).rejects.toThrow('disk full');
    const revoked = await events(s.store, 'certificate.revoked');
    expect(revoked).toHaveLength(1);
    expect((await s.store.certificates.revoked()).map((c) => c.serial)).toEqual([
      revoked[0]!.subject.slice('certificate:'.length),
    ]);
    const runs = await events(s.store, 'reevaluation.run');
    expect(runs[0]?.data).toMatchObject({ wouldReject: 2, revoked: 1, failed: 'disk full' });
    // The next run finishes the job.
    const again = await reevaluate({
      store: s.store,
      policy: loadPolicyFile(m.denyPath),
      clock: s.clock,
      actor: 'system',
      revoke: true,
    });
    expect(again.revoked).toHaveLength(1);
    expect((await s.store.certificates.revoked()).map((c) => c.serial).sort()).toEqual(s.a);
    await s.close();
  });
});

describe('re-evaluation: scopes, drafts and bounds', () => {
  let s: Awaited<ReturnType<typeof issued>>;
  beforeAll(async () => {
    s = await issued('sqlite::memory:');
  });
  afterAll(async () => {
    await s.close();
  });
  const token = (scopes: Scope[]) => addAdminToken(s.store, scopes, scopes.join('+'));

  it('a token with enrollments:read may look but not revoke (AUTH_SCOPE names certificates:revoke)', async () => {
    const reader = await token(['enrollments:read']);
    expect((await s.post(reader, {})).statusCode).toBe(200);
    const res = await s.post(reader, { revoke: true });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'AUTH_SCOPE' });
    expect(res.headers['www-authenticate']).toContain('scope="certificates:revoke"');
  });

  it('a token with only certificates:revoke is refused: the answer lists enrollments', async () => {
    const revoker = await token(['certificates:revoke']);
    const res = await s.post(revoker, { revoke: true });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('AUTH_SCOPE');
  });

  it('a draft policy shows what it would reject without being loaded, but never revokes', async () => {
    const look = await s.post(s.admin, { policy: m.denyYaml });
    expect(look.statusCode).toBe(200);
    expect(
      look
        .json()
        .wouldReject.map((w: { serial: string }) => w.serial)
        .sort(),
    ).toEqual(s.a);
    const refused = await s.post(s.admin, { policy: m.denyYaml, revoke: true });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('BODY_INVALID');
    for (const serial of s.a) expect((await s.store.certificates.get(serial))?.status).toBe('good');
  });

  it("a draft naming a file outside the live policy's folder is POLICY_INVALID", async () => {
    const res = await s.post(s.admin, {
      policy: 'version: 1\ntrust:\n  - id: x\n    certificates: [/etc/passwd]\n',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('POLICY_INVALID');
  });

  it('rejects an unknown reason, an unknown field and a zero limit (BODY_INVALID)', async () => {
    for (const body of [{ reason: 'certificateHold' }, { force: true }, { limit: 0 }]) {
      const res = await s.post(s.admin, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('BODY_INVALID');
    }
  });

  it('stops at the limit and says so', async () => {
    const report = (await s.post(s.admin, { limit: 2 })).json();
    expect(report).toMatchObject({ evaluated: 2, truncated: true });
  });

  it('skips certificates that have expired (nothing left to revoke)', async () => {
    const report = await reevaluate({
      store: s.store,
      policy: loadPolicyFile(m.denyPath),
      clock: () => NOW + 400 * DAY,
      actor: 'system',
    });
    expect(report).toMatchObject({ evaluated: 0, skipped: 3, wouldReject: [] });
  });

  it('refuses a revocation reason outside the list (USAGE)', async () => {
    await expect(
      reevaluate({
        store: s.store,
        policy: loadPolicyFile(m.denyPath),
        clock: s.clock,
        actor: 'system',
        revoke: true,
        reason: 'certificateHold',
      }),
    ).rejects.toMatchObject({ code: 'USAGE' });
    for (const serial of s.a) expect((await s.store.certificates.get(serial))?.status).toBe('good');
  });

  it('answers 404 NOT_FOUND when no policy is loaded and no draft is given (nothing to judge by)', async () => {
    const { app, store } = testApp({ policy: null });
    const token = await addAdminToken(store);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/reevaluate',
      headers: { authorization: `Bearer ${token}` },
      payload: { revoke: true },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
    await app.close();
  });
});
