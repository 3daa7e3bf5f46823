import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { ProvenanceError } from '../../src/core/errors.js';
import type { EnrollmentRecord, Store } from '../../src/store/index.js';
import { describeBackends } from './backends.js';
import {
  adminToken,
  certificate,
  challenge,
  codeWithChallenge,
  enrollment,
  enrollmentCode,
  hash,
  issue,
  MINUTE,
  serial,
  T0,
} from './records.js';

async function rejects(promise: Promise<unknown>): Promise<ProvenanceError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProvenanceError);
  return err as ProvenanceError;
}

describeBackends('store repositories', (backend) => {
  it('stores an admin token by hash only and finds it again by that hash', async (ctx) => {
    const store = await backend.open(ctx);
    const token = adminToken({ scopes: ['audit:read', 'tokens:write'] });
    await store.adminTokens.create(token);
    expect(await store.adminTokens.findByHash(token.tokenHash)).toEqual(token);
    expect(await store.adminTokens.findByHash(hash('some other token'))).toBeNull();
    expect(await store.adminTokens.list()).toEqual([token]);
  });

  it('refuses a second admin token with the same secret hash (STORE_CONFLICT)', async (ctx) => {
    const store = await backend.open(ctx);
    const token = adminToken();
    await store.adminTokens.create(token);
    const err = await rejects(store.adminTokens.create(adminToken({ tokenHash: token.tokenHash })));
    expect(err.code).toBe('STORE_CONFLICT');
    expect(err.status).toBe(409);
  });

  it('rejects an unknown admin scope as a caller bug (TypeError) before writing', async (ctx) => {
    const store = await backend.open(ctx);
    await expect(
      store.adminTokens.create(adminToken({ scopes: ['everything' as never] })),
    ).rejects.toBeInstanceOf(TypeError);
    expect(await store.adminTokens.list()).toEqual([]);
  });

  it('finds an enrollment code by hash and by id, and refuses a duplicate code hash', async (ctx) => {
    const store = await backend.open(ctx);
    const code = enrollmentCode();
    await store.codes.create(code);
    expect(await store.codes.findByHash(code.codeHash)).toEqual(code);
    expect(await store.codes.get(code.id)).toEqual(code);
    expect(await store.codes.get(randomUUID())).toBeNull();
    const err = await rejects(store.codes.create(enrollmentCode({ codeHash: code.codeHash })));
    expect(err.code).toBe('STORE_CONFLICT');
  });

  it('marks a code used once, never after expiry, and keeps the first time', async (ctx) => {
    const store = await backend.open(ctx);
    const code = enrollmentCode({ expiresAt: T0 + 10 * MINUTE });
    await store.codes.create(code);
    expect(await store.codes.markUsed(code.id, T0 + MINUTE)).toBe(true);
    expect(await store.codes.markUsed(code.id, T0 + 2 * MINUTE)).toBe(false);
    expect((await store.codes.get(code.id))?.usedAt).toBe(T0 + MINUTE);

    const expired = enrollmentCode({ expiresAt: T0 + MINUTE });
    await store.codes.create(expired);
    expect(await store.codes.markUsed(expired.id, T0 + MINUTE)).toBe(false);
    expect(await store.codes.markUsed(randomUUID(), T0)).toBe(false);
    expect((await store.codes.get(expired.id))?.usedAt).toBeNull();
  });

  it('lists codes newest first in stable pages, filtered by customer', async (ctx) => {
    const store = await backend.open(ctx);
    const made = [];
    for (let i = 0; i < 7; i++) {
      // Two codes share each creation time: the id breaks the tie, so no row is lost or repeated.
      const code = enrollmentCode({
        createdAt: T0 + Math.floor(i / 2),
        customer: i % 3 === 0 ? 'globex' : 'acme',
      });
      await store.codes.create(code);
      made.push(code);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.codes.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.next ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(4);
    const expected = [...made]
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((c) => c.id);
    expect(seen).toEqual(expected);

    const globex = await store.codes.list({ customer: 'globex' });
    expect(globex.items.map((c) => c.customer)).toEqual(['globex', 'globex', 'globex']);
    expect(globex.next).toBeNull();
  });

  it('refuses a malformed or foreign-shaped cursor with BODY_INVALID', async (ctx) => {
    const store = await backend.open(ctx);
    for (const cursor of [
      'not a cursor!',
      'eyJ4IjoxfQ',
      Buffer.from('[1]').toString('base64url'),
      'x'.repeat(600),
    ]) {
      const err = await rejects(store.enrollments.list({ cursor }));
      expect(err.code).toBe('BODY_INVALID');
      expect(err.details).toEqual({ parameter: 'cursor' });
    }
    // An audit cursor (one number) is not an enrollment cursor (number, id).
    const auditCursor = Buffer.from('[5]').toString('base64url');
    expect((await rejects(store.codes.list({ cursor: auditCursor }))).code).toBe('BODY_INVALID');
  });

  it('reads a challenge back and consumes it only with its own code, before expiry, once', async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge: ch } = await codeWithChallenge(store);
    expect(await store.challenges.get(ch.id)).toEqual(ch);
    expect(await store.challenges.get(randomUUID())).toBeNull();

    const other = enrollmentCode();
    await store.codes.create(other);
    expect(await store.challenges.consume(ch.id, other.id, T0 + MINUTE)).toBeNull();
    expect(await store.challenges.consume(ch.id, code.id, ch.expiresAt)).toBeNull();
    const consumed = await store.challenges.consume(ch.id, code.id, T0 + MINUTE);
    expect(consumed).toEqual({ ...ch, consumedAt: T0 + MINUTE });
    expect(await store.challenges.consume(ch.id, code.id, T0 + MINUTE)).toBeNull();
    expect(await store.challenges.consume(randomUUID(), code.id, T0)).toBeNull();
  });

  it('counts only the open, unexpired challenges of a code', async (ctx) => {
    const store = await backend.open(ctx);
    const code = enrollmentCode();
    await store.codes.create(code);
    const open = [challenge(code.id), challenge(code.id), challenge(code.id, { expiresAt: T0 + MINUTE })];
    for (const ch of open) await store.challenges.create(ch);
    await store.challenges.consume((open[0] as { id: string }).id, code.id, T0);
    expect(await store.challenges.countOpen(code.id, T0)).toBe(2);
    expect(await store.challenges.countOpen(code.id, T0 + MINUTE)).toBe(1);
    expect(await store.challenges.countOpen(randomUUID(), T0)).toBe(0);
  });

  it('refuses a challenge for a code that does not exist (foreign key)', async (ctx) => {
    const store = await backend.open(ctx);
    const err = await rejects(store.challenges.create(challenge(randomUUID())));
    expect(err.code).toBe('INTERNAL');
  });

  it('round-trips a rejected enrollment with its verdict and policy input, without evidence', async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge: ch } = await codeWithChallenge(store);
    const rejected = enrollment(code.id, ch.id);
    await store.enrollments.insert(rejected);
    expect(await store.enrollments.get(rejected.id)).toEqual(rejected);
    expect(await store.enrollments.get(randomUUID())).toBeNull();
    expect(await store.enrollments.count()).toBe(1);
  });

  it('keeps the CSR bytes only when given (inventory profiles)', async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge: ch } = await codeWithChallenge(store);
    const evidence = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
    const withEvidence = enrollment(code.id, ch.id, { evidence });
    await store.enrollments.insert(withEvidence);
    const back = await store.enrollments.get(withEvidence.id);
    expect(back?.evidence).toEqual(evidence);
    expect(back?.evidence).toBeInstanceOf(Uint8Array);
  });

  it('refuses a second enrollment from the same challenge (single use, STORE_CONFLICT)', async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge: ch } = await codeWithChallenge(store);
    await store.enrollments.insert(enrollment(code.id, ch.id));
    const err = await rejects(store.enrollments.insert(enrollment(code.id, ch.id)));
    expect(err.code).toBe('STORE_CONFLICT');
  });

  it('writes an issued enrollment and its certificate in one transaction, in either order', async (ctx) => {
    const store = await backend.open(ctx);
    const first = await issue(store);
    expect(await store.enrollments.get(first.enrollment.id)).toEqual(first.enrollment);
    expect(await store.certificates.get(first.certificate.serial)).toEqual(first.certificate);

    // Enrollment first, then certificate: the mutual foreign keys are checked at COMMIT.
    const { code, challenge: ch } = await codeWithChallenge(store);
    const e = enrollment(code.id, ch.id, { status: 'issued', code: 'ACCEPTED' });
    const c = certificate(e.id);
    await store.transaction(async (tx) => {
      await tx.enrollments.insert({ ...e, certificateSerial: c.serial });
      await tx.certificates.insert(c);
    });
    expect((await store.certificates.get(c.serial))?.enrollmentId).toBe(e.id);
    expect(await store.certificates.count()).toBe(2);
  });

  it('refuses an issued enrollment whose certificate never arrives (checked at commit)', async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge: ch } = await codeWithChallenge(store);
    const e = enrollment(code.id, ch.id, { status: 'issued', code: 'ACCEPTED', certificateSerial: serial() });
    const err = await rejects(store.transaction((tx) => tx.enrollments.insert(e)));
    expect(err.code).toBe('INTERNAL');
    expect(await store.enrollments.get(e.id)).toBeNull();
  });

  it('refuses a status that contradicts the certificate serial (issued without one)', async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge: ch } = await codeWithChallenge(store);
    const err = await rejects(
      store.enrollments.insert(enrollment(code.id, ch.id, { status: 'issued', certificateSerial: null })),
    );
    expect(err.code).toBe('INTERNAL');
  });

  it('never stores a serial twice (STORE_CONFLICT naming the serial)', async (ctx) => {
    const store = await backend.open(ctx);
    const first = await issue(store);
    const err = await rejects(issue(store, { certificate: { serial: first.certificate.serial } }));
    expect(err.code).toBe('STORE_CONFLICT');
    expect(err.message).toContain(first.certificate.serial);
    expect(await store.certificates.count()).toBe(1);
    expect(await store.enrollments.count()).toBe(1);
  });

  it('refuses a serial that is not in the one spelling (upper case, sign pad, odd length)', async (ctx) => {
    const store = await backend.open(ctx);
    for (const bad of ['ABCD', '00ff', 'abc', '', 'zz']) {
      await expect(issue(store, { certificate: { serial: bad } })).rejects.toBeInstanceOf(TypeError);
    }
    expect(await store.certificates.count()).toBe(0);
  });

  it('finds a certificate by serial written with upper case or a sign pad', async (ctx) => {
    const store = await backend.open(ctx);
    const { certificate: c } = await issue(store, { certificate: { serial: 'ff01' } });
    expect((await store.certificates.get('FF01'))?.serial).toBe('ff01');
    expect((await store.certificates.get('00ff01'))?.serial).toBe('ff01');
    expect(await store.certificates.get('not-hex')).toBeNull();
    expect((await store.certificates.get(c.serial))?.der).toEqual(c.der);
  });

  it('revokes a certificate once, keeping the first time and reason, and lists revoked ones', async (ctx) => {
    const store = await backend.open(ctx);
    const a = await issue(store);
    const b = await issue(store);
    expect(await store.certificates.revoke(a.certificate.serial, T0 + MINUTE, 'keyCompromise')).toBe(true);
    expect(await store.certificates.revoke(a.certificate.serial, T0 + 2 * MINUTE, 'superseded')).toBe(false);
    expect(await store.certificates.revoke(serial(), T0, 'keyCompromise')).toBe(false);
    const revoked = await store.certificates.revoked();
    expect(revoked).toEqual([
      { ...a.certificate, status: 'revoked', revokedAt: T0 + MINUTE, revocationReason: 'keyCompromise' },
    ]);
    expect((await store.certificates.get(b.certificate.serial))?.status).toBe('good');
  });

  it('filters enrollments by customer, status, format, verdict code and time, newest first', async (ctx) => {
    const store = await backend.open(ctx);
    const rows: EnrollmentRecord[] = [];
    const specs = [
      { customer: 'acme', status: 'rejected', code: 'POLICY_NO_MATCH', format: 'provenance', createdAt: T0 },
      { customer: 'acme', status: 'issued', code: 'ACCEPTED', format: 'provenance', createdAt: T0 + 1 },
      { customer: 'globex', status: 'rejected', code: 'NONCE_MISMATCH', format: 'tpm', createdAt: T0 + 2 },
      { customer: 'globex', status: 'issued', code: 'ACCEPTED', format: 'tpm', createdAt: T0 + 3 },
    ] as const;
    for (const spec of specs) {
      if (spec.status === 'issued') {
        rows.push((await issue(store, { enrollment: { ...spec } })).enrollment);
      } else {
        const { code, challenge: ch } = await codeWithChallenge(store);
        const e = enrollment(code.id, ch.id, { ...spec });
        await store.enrollments.insert(e);
        rows.push(e);
      }
    }
    const ids = async (filter: Parameters<Store['enrollments']['list']>[0]): Promise<number[]> =>
      (await store.enrollments.list(filter)).items.map((e) => rows.findIndex((r) => r.id === e.id));
    expect(await ids({})).toEqual([3, 2, 1, 0]);
    expect(await ids({ customer: 'acme' })).toEqual([1, 0]);
    expect(await ids({ status: 'issued' })).toEqual([3, 1]);
    expect(await ids({ format: 'tpm' })).toEqual([3, 2]);
    expect(await ids({ code: 'NONCE_MISMATCH' })).toEqual([2]);
    expect(await ids({ since: T0 + 1, until: T0 + 3 })).toEqual([2, 1]);
    expect(await ids({ customer: 'globex', status: 'rejected' })).toEqual([2]);
    expect(await ids({ customer: 'nobody' })).toEqual([]);
  });

  it('pages through enrollments with a limit capped at 100 and returns the newest N for dry runs', async (ctx) => {
    const store = await backend.open(ctx);
    const ids: string[] = [];
    for (let i = 0; i < 105; i++) {
      const { code, challenge: ch } = await codeWithChallenge(store);
      const e = enrollment(code.id, ch.id, { createdAt: T0 + i });
      await store.enrollments.insert(e);
      ids.push(e.id);
    }
    const first = await store.enrollments.list({ limit: 1000 });
    expect(first.items).toHaveLength(100);
    expect(first.next).not.toBeNull();
    const second = await store.enrollments.list({ limit: 1000, cursor: first.next as string });
    expect(second.items.map((e) => e.id)).toEqual(ids.slice(0, 5).reverse());
    expect(second.next).toBeNull();
    expect((await store.enrollments.list({ limit: 0 })).items).toHaveLength(1);
    expect((await store.enrollments.list({})).items).toHaveLength(50);

    const recent = await store.enrollments.recent(3);
    expect(recent.map((e) => e.id)).toEqual(ids.slice(-3).reverse());
    expect(await store.enrollments.recent(0)).toEqual([]);
    expect(await store.enrollments.count()).toBe(105);
  });

  it('hands out consecutive counter values per name', async (ctx) => {
    const store = await backend.open(ctx);
    expect(await store.nextCounter('crl-number')).toBe(1);
    expect(await store.nextCounter('crl-number')).toBe(2);
    expect(await store.nextCounter('other')).toBe(1);
    expect(await store.nextCounter('crl-number')).toBe(3);
  });

  it('refuses text no database can store faithfully (NUL, lone surrogate) with BODY_INVALID', async (ctx) => {
    const store = await backend.open(ctx);
    for (const customer of ['a\u0000b', 'x\uD800y']) {
      const err = await rejects(store.codes.create(enrollmentCode({ customer })));
      expect(err.code).toBe('BODY_INVALID');
      expect(err.details).toEqual({ field: 'customer' });
    }
    // Unicode that is well formed is kept exactly.
    const code = enrollmentCode({ customer: 'Müller & Søn 🏦', subject: 'CN=Zoë,O=Ünïcode' });
    await store.codes.create(code);
    expect(await store.codes.get(code.id)).toEqual(code);
  });

  it('answers ping and can be closed twice', async (ctx) => {
    const store = await backend.open(ctx);
    await expect(store.ping()).resolves.toBeUndefined();
    expect(store.kind).toBe(backend.name === 'postgres' ? 'postgres' : 'sqlite');
    await store.close();
    await store.close();
  });
});
