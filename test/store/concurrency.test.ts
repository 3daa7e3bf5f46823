import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { isProvenanceError, ProvenanceError } from '../../src/core/errors.js';
import type { AuditRecord, Store, StoreRepositories } from '../../src/store/index.js';
import { describeBackends } from './backends.js';
import { certificate, codeWithChallenge, enrollment, enrollmentCode, MINUTE, T0 } from './records.js';

const N = 100;

function event(i: number, actor = 'system'): Parameters<Store['audit']['append']>[0] {
  return { event: 'test.event', actor, subject: `item:${i}`, data: { i }, at: T0 + i };
}

/** The enrollment flow's transaction (step 2b of the design), as the server runs it. */
async function enrollOnce(
  tx: StoreRepositories,
  codeId: string,
  challengeId: string,
  at: number,
): Promise<string> {
  const challenge = await tx.challenges.consume(challengeId, codeId, at);
  if (challenge === null) throw new ProvenanceError('CHALLENGE_INVALID', 'challenge used or expired');
  if (!(await tx.codes.markUsed(codeId, at))) throw new ProvenanceError('ENROLLMENT_CODE_USED', 'code used');
  const e = enrollment(codeId, challengeId, { status: 'issued', code: 'ACCEPTED', createdAt: at });
  const c = certificate(e.id);
  await tx.certificates.insert(c);
  await tx.enrollments.insert({ ...e, certificateSerial: c.serial });
  await tx.audit.append({
    event: 'enrollment.issued',
    actor: `code:${codeId}`,
    subject: `enrollment:${e.id}`,
    data: { serial: c.serial },
    at,
  });
  return c.serial;
}

describeBackends('store concurrency', (backend) => {
  it(`lets exactly one of ${N} concurrent consumers take a challenge`, async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge } = await codeWithChallenge(store);
    const results = await Promise.all(
      Array.from({ length: N }, () => store.challenges.consume(challenge.id, code.id, T0 + MINUTE)),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect((await store.challenges.get(challenge.id))?.consumedAt).toBe(T0 + MINUTE);
  });

  it(`lets exactly one of ${N} concurrent callers mark a code used`, async (ctx) => {
    const store = await backend.open(ctx);
    const code = enrollmentCode();
    await store.codes.create(code);
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => store.codes.markUsed(code.id, T0 + MINUTE + i)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await store.codes.get(code.id))?.usedAt).toBe(T0 + MINUTE + winner);
  });

  it(`issues exactly one certificate when ${N} enrollment transactions reuse one challenge`, async (ctx) => {
    const store = await backend.open(ctx);
    const { code, challenge } = await codeWithChallenge(store);
    const outcomes = await Promise.allSettled(
      Array.from({ length: N }, () =>
        store.transaction((tx) => enrollOnce(tx, code.id, challenge.id, T0 + MINUTE)),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((o) => (isProvenanceError(o.reason) ? o.reason.code : String(o.reason)))).toEqual(
      Array(N - 1).fill('CHALLENGE_INVALID'),
    );
    expect(await store.certificates.count()).toBe(1);
    expect(await store.enrollments.count()).toBe(1);
    const audit = await store.verifyAudit();
    expect(audit).toMatchObject({ ok: true, records: 1 });
  });

  it('gives two codes their own challenge even when their enrollments race', async (ctx) => {
    const store = await backend.open(ctx);
    const pairs = await Promise.all(Array.from({ length: 20 }, () => codeWithChallenge(store)));
    const serials = await Promise.all(
      pairs.map(({ code, challenge }) =>
        store.transaction((tx) => enrollOnce(tx, code.id, challenge.id, T0)),
      ),
    );
    expect(new Set(serials).size).toBe(20);
    expect(await store.certificates.count()).toBe(20);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, records: 20 });
  });

  it(`chains ${N} concurrent audit appends without forks or gaps`, async (ctx) => {
    const store = await backend.open(ctx);
    const records = await Promise.all(Array.from({ length: N }, (_, i) => store.audit.append(event(i))));
    const bySeq = [...records].sort((a, b) => a.seq - b.seq);
    expect(bySeq.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    // Every record links to its predecessor: one chain, no two records share a prevHash.
    bySeq.forEach((r, i) => {
      expect(r.prevHash).toBe(i === 0 ? '0'.repeat(64) : (bySeq[i - 1] as AuditRecord).hash);
    });
    expect(new Set(records.map((r) => r.prevHash)).size).toBe(N);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, records: N, head: bySeq.at(-1)?.hash });
  });

  it('keeps a transaction’s audit records consecutive while other writers append', async (ctx) => {
    const store = await backend.open(ctx);
    const inside = store.transaction(async (tx) => {
      const first = await tx.audit.append(event(1, 'tx'));
      await sleep(30);
      const second = await tx.audit.append(event(2, 'tx'));
      return [first.seq, second.seq];
    });
    await sleep(5);
    const outside = Promise.all(Array.from({ length: 10 }, (_, i) => store.audit.append(event(10 + i))));
    const [[first, second]] = (await Promise.all([inside, outside])) as [number[], AuditRecord[]];
    expect(second).toBe((first as number) + 1);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, records: 12 });
  });

  it(`hands out ${N} distinct consecutive counter values to concurrent callers`, async (ctx) => {
    const store = await backend.open(ctx);
    const values = await Promise.all(Array.from({ length: N }, () => store.nextCounter('crl-number')));
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  });

  it('rolls back everything a failing transaction wrote, and rethrows its error unchanged', async (ctx) => {
    const store = await backend.open(ctx);
    const code = enrollmentCode();
    const thrown = new ProvenanceError('ENROLLMENT_CODE_USED', 'code used');
    const err = await store
      .transaction(async (tx) => {
        await tx.codes.create(code);
        await tx.audit.append(event(1));
        await tx.nextCounter('crl-number');
        throw thrown;
      })
      .catch((e: unknown) => e);
    expect(err).toBe(thrown);
    const bug = new RangeError('a bug in the caller');
    await expect(store.transaction(() => Promise.reject(bug))).rejects.toBe(bug);

    expect(await store.codes.get(code.id)).toBeNull();
    expect(await store.verifyAudit()).toMatchObject({ ok: true, records: 0 });
    expect(await store.nextCounter('crl-number')).toBe(1);
    expect((await store.audit.append(event(2))).seq).toBe(1);
  });

  it('fails fast (TypeError) when the store itself is called inside a transaction, instead of deadlocking', async (ctx) => {
    const store = await backend.open(ctx);
    const code = enrollmentCode();
    await store.codes.create(code);
    await expect(store.transaction(() => store.codes.get(code.id))).rejects.toBeInstanceOf(TypeError);
    await expect(store.transaction(() => store.audit.append(event(1)))).rejects.toBeInstanceOf(TypeError);
    await expect(store.transaction(() => store.transaction(async () => 1))).rejects.toBeInstanceOf(TypeError);
    // The store is still usable afterwards, and calls made after a transaction are fine.
    expect((await store.codes.get(code.id))?.id).toBe(code.id);
    expect(await store.transaction(async (tx) => (await tx.codes.get(code.id))?.id)).toBe(code.id);
  });
});

describeBackends(
  'store concurrency across instances',
  (backend) => {
    it('keeps one audit chain when two store instances on one database append at once', async (ctx) => {
      const a = await backend.open(ctx);
      const b = await backend.reopen();
      await Promise.all([
        ...Array.from({ length: 40 }, (_, i) => a.audit.append(event(i, 'instance-a'))),
        ...Array.from({ length: 40 }, (_, i) => b.audit.append(event(i, 'instance-b'))),
      ]);
      expect(await a.verifyAudit()).toMatchObject({ ok: true, records: 80 });
      expect(await b.verifyAudit()).toMatchObject({ ok: true, records: 80 });
    });

    it('lets exactly one of two instances consume a challenge and issue for it', async (ctx) => {
      const a = await backend.open(ctx);
      const b = await backend.reopen();
      const { code, challenge } = await codeWithChallenge(a);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? a : b).transaction((tx) => enrollOnce(tx, code.id, challenge.id, T0 + MINUTE)),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect((o.reason as ProvenanceError).code).toBe('CHALLENGE_INVALID');
      }
      expect(await b.certificates.count()).toBe(1);
    });

    it('reads committed rows from the other instance at once', async (ctx) => {
      const a = await backend.open(ctx);
      const b = await backend.reopen();
      const code = enrollmentCode();
      await a.codes.create(code);
      expect(await b.codes.findByHash(code.codeHash)).toEqual(code);
      await b.codes.markUsed(code.id, T0);
      expect((await a.codes.get(code.id))?.usedAt).toBe(T0);
    });
  },
  ['sqlite-file', 'postgres'],
);

describeBackends(
  'SQLite single writer',
  (backend) => {
    it('never interleaves two transactions on the one connection', async (ctx) => {
      const store = await backend.open(ctx);
      const steps: string[] = [];
      const body = (name: string) => async (tx: StoreRepositories) => {
        steps.push(`${name} begins`);
        await tx.nextCounter(name);
        await sleep(20);
        await tx.nextCounter(name);
        steps.push(`${name} ends`);
      };
      await Promise.all([
        store.transaction(body('a')),
        store.transaction(body('b')),
        store.transaction(body('c')),
      ]);
      expect(steps).toEqual(['a begins', 'a ends', 'b begins', 'b ends', 'c begins', 'c ends']);
    });
  },
  ['sqlite-memory', 'sqlite-file'],
);

describeBackends(
  'SQLite write lock held by another connection',
  (backend) => {
    it('waits for the lock without blocking the event loop, then writes', async (ctx) => {
      const store = await backend.open(ctx);
      const other = new Database(backend.url().slice('sqlite:'.length));
      try {
        // Another process's writer (a second instance, a maintenance script) holds the lock.
        other.exec('begin immediate');
        let ticks = 0;
        const timer = setInterval(() => {
          ticks++;
        }, 5);
        setTimeout(() => other.exec('commit'), 200);
        const started = performance.now();
        const code = enrollmentCode();
        await store.codes.create(code);
        clearInterval(timer);
        expect(performance.now() - started).toBeGreaterThanOrEqual(150);
        // Timers kept firing while the write waited: SQLite's busy handler would have frozen them.
        expect(ticks).toBeGreaterThan(10);
        expect((await store.codes.get(code.id))?.id).toBe(code.id);
      } finally {
        other.close();
      }
    });
  },
  ['sqlite-file'],
);
