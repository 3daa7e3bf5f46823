/**
 * The app over the real store (SQLite in memory) and the real CA module: the transaction
 * semantics the enrollment flow relies on, checked against the implementation, not a fake.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../../src/ca/directory.js';
import { parseCrl, verifyCrl } from '../../src/pki/crl.js';
import { buildApp } from '../../src/server/app.js';
import { serviceCa } from '../../src/server/serve.js';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/types.js';
import { addAdminToken, NOW, testClock, testConfig } from './fakes.js';
import {
  createCode,
  csrPem,
  getChallenge,
  type NativeHierarchy,
  nativeHierarchy,
  type PolicyFolder,
  policyFolder,
  submit,
} from './fixtures.js';

let h: NativeHierarchy;
let folder: PolicyFolder;
let caDir: string;
let ca: Awaited<ReturnType<typeof initCa>>;

beforeAll(async () => {
  h = nativeHierarchy();
  folder = policyFolder(h);
  caDir = mkdtempSync(join(tmpdir(), 'provenance-server-ca-'));
  ca = await initCa(join(caDir, 'ca'), {
    name: 'Test Issuing CA',
    passphrase: null,
    clock: () => NOW - 86400_000,
  });
});
afterAll(() => {
  folder.cleanup();
  rmSync(caDir, { recursive: true, force: true });
});

async function setup() {
  const store = await openStore('sqlite::memory:');
  const clock = testClock();
  const app = buildApp({
    store,
    ca: serviceCa(ca),
    policy: folder.policy,
    config: testConfig('limits: { perCodePerMinute: 1000, perAddressPerMinute: 1000 }\n'),
    clock,
    logger: pino({ level: 'silent' }) as never,
  });
  const admin = await addAdminToken(store);
  const code = await createCode(app, admin);
  return { store, app, admin, code, close: () => app.close().then(() => store.close()) };
}

async function counts(store: Store) {
  const audit = await store.audit.list({ limit: 100 });
  return {
    enrollments: await store.enrollments.count(),
    certificates: await store.certificates.count(),
    audit: audit.items.length,
  };
}

describe('enrollment on SQLite with the real CA', () => {
  it('issues a certificate the CA signed, stored with its enrollment and audit event', async () => {
    const { store, app, code, close } = await setup();
    const challenge = await getChallenge(app, code.code);
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(201);
    const { serial, enrollmentId } = res.json();
    expect((await store.certificates.get(serial))?.enrollmentId).toBe(enrollmentId);
    expect((await store.challenges.get(challenge.id))?.consumedAt).not.toBeNull();
    expect((await store.verifyAudit()).ok).toBe(true);
    await close();
  });

  it('30 concurrent submissions on one challenge: exactly one certificate', async () => {
    const { store, app, code, close } = await setup();
    const challenge = await getChallenge(app, code.code);
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        submit(app, code.code, { challengeId: challenge.id, csr: csrPem(h, { nonce: challenge.nonce }) }),
      ),
    );
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
    expect(await counts(store)).toMatchObject({ enrollments: 1, certificates: 1 });
    await close();
  });

  it('malformed input writes no rows; a judged refusal writes one enrollment and consumes the challenge', async () => {
    const { store, app, code, close } = await setup();
    const challenge = await getChallenge(app, code.code);
    const before = await counts(store);
    for (const body of [
      { challengeId: challenge.id },
      { challengeId: challenge.id, csr: 'nope' },
      { challengeId: challenge.id, csr: csrPem(h, { nonce: challenge.nonce }), extra: 1 },
    ]) {
      const res = await submit(app, code.code, body);
      expect(res.statusCode).toBe(400);
    }
    expect(await counts(store)).toEqual(before);
    expect((await store.challenges.get(challenge.id))?.consumedAt).toBeNull();
    const wrong = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: new Uint8Array(32) }),
    });
    expect(wrong.json().code).toBe('NONCE_MISMATCH');
    expect(await counts(store)).toEqual({ ...before, enrollments: 1, audit: before.audit + 1 });
    expect((await store.challenges.get(challenge.id))?.consumedAt).not.toBeNull();
    await close();
  });

  it('serves a CRL signed by the CA that lists a revoked certificate', async () => {
    const { app, admin, code, close } = await setup();
    const challenge = await getChallenge(app, code.code);
    const { serial } = (
      await submit(app, code.code, { challengeId: challenge.id, csr: csrPem(h, { nonce: challenge.nonce }) })
    ).json();
    const revoke = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/certificates/${serial}/revoke`,
      headers: { authorization: `Bearer ${admin}` },
      payload: { reason: 'keyCompromise' },
    });
    expect(revoke.statusCode).toBe(200);
    const crl = await app.inject({ method: 'GET', url: '/api/v1/crl' });
    expect(crl.headers['content-type']).toBe('application/pkix-crl');
    const list = parseCrl(new Uint8Array(crl.rawPayload));
    verifyCrl(list, ca.certificate);
    expect(list.isRevoked(serial)?.reason).toBe('keyCompromise');
    expect(list.crlNumber).toBe(1n);
    await close();
  });
});
