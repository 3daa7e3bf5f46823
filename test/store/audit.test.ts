import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUDIT_PAGE_ROWS,
  type AuditRecord,
  auditRecordHash,
  GENESIS_HASH,
  openStore,
  type Store,
} from '../../src/store/index.js';
import { describeBackends } from './backends.js';
import { openRaw, placeholders, type RawDatabase } from './raw.js';
import { T0 } from './records.js';

/** Independent oracle: JSON with keys sorted at every level, hashed after the previous hex hash. */
function oracleHash(prevHash: string, record: Omit<AuditRecord, 'hash' | 'prevHash'>): string {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
          )
        : v;
  const { seq, at, event, actor, subject, data } = record;
  const json = JSON.stringify(sortKeys({ seq, at, event, actor, subject, data }));
  return createHash('sha256')
    .update(prevHash + json)
    .digest('hex');
}

async function appendFive(store: Store): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (let i = 1; i <= 5; i++) {
    out.push(
      await store.audit.append({
        event: i % 2 ? 'enrollment.issued' : 'code.created',
        actor: 'admin:1',
        subject: `enrollment:${i}`,
        data: { n: i, z: 'last', a: { y: [1, 'two', null], b: true } },
        at: T0 + i * 1000,
      }),
    );
  }
  return out;
}

describe('audit record hash', () => {
  it('is sha256(previous hash in hex ‖ canonical JSON of seq, at, event, actor, subject, data)', () => {
    const record = {
      seq: 7,
      at: T0,
      event: 'certificate.revoked',
      actor: 'admin:42',
      subject: 'certificate:0a1b',
      data: { reason: 'keyCompromise', nested: { b: 2, a: 1 }, list: [3, 1] },
    };
    const prev = 'ab'.repeat(32);
    expect(auditRecordHash(prev, record)).toBe(oracleHash(prev, record));
    expect(auditRecordHash(GENESIS_HASH, record)).not.toBe(auditRecordHash(prev, record));
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });
});

describeBackends('audit log', (backend) => {
  it('links every record to the previous one, starting from 64 zeros, with the documented hash', async (ctx) => {
    const store = await backend.open(ctx);
    const records = await appendFive(store);
    let prev = GENESIS_HASH;
    for (const [i, r] of records.entries()) {
      expect(r.seq).toBe(i + 1);
      expect(r.prevHash).toBe(prev);
      expect(r.hash).toBe(oracleHash(prev, r));
      prev = r.hash;
    }
    expect(await store.verifyAudit()).toEqual({
      ok: true,
      records: 5,
      firstBad: null,
      problem: null,
      head: prev,
    });
  });

  it('reports an empty log as intact with the genesis head', async (ctx) => {
    const store = await backend.open(ctx);
    expect(await store.verifyAudit()).toEqual({
      ok: true,
      records: 0,
      firstBad: null,
      problem: null,
      head: GENESIS_HASH,
    });
  });

  it('stores data in canonical form and returns what it stored', async (ctx) => {
    const store = await backend.open(ctx);
    const when = new Date(T0);
    const record = await store.audit.append({
      event: 'policy.loaded',
      actor: 'system',
      subject: 'policy:abc',
      data: { when, skipped: undefined, ratio: 0.5, big: 2 ** 53 - 1, text: 'é\u2028"' } as Record<
        string,
        unknown
      >,
      at: T0,
    });
    expect(record.data).toEqual({ when: when.toISOString(), ratio: 0.5, big: 2 ** 53 - 1, text: 'é\u2028"' });
    const [listed] = (await store.audit.list({ limit: 1 })).items;
    expect(listed).toEqual(record);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, records: 1 });
  });

  it('refuses data that is not a JSON object, and moves nothing when it does', async (ctx) => {
    const store = await backend.open(ctx);
    const base = { event: 'x.y', actor: 'system', subject: 's', at: T0 };
    for (const data of [{ bytes: new Uint8Array(2) }, { n: 10n }, { m: new Map() }, [] as unknown]) {
      await expect(
        store.audit.append({ ...base, data: data as Record<string, unknown> }),
      ).rejects.toBeInstanceOf(TypeError);
    }
    await expect(store.audit.append({ ...base, at: 1.5, data: {} })).rejects.toBeInstanceOf(TypeError);
    await expect(store.audit.append({ ...base, event: '', data: {} })).rejects.toBeInstanceOf(TypeError);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, records: 0 });
    expect((await store.audit.append({ ...base, data: {} })).seq).toBe(1);
  });

  it('lists events newest first, by name and time, in pages', async (ctx) => {
    const store = await backend.open(ctx);
    await appendFive(store);
    const all = await store.audit.list({});
    expect(all.items.map((r) => r.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(all.next).toBeNull();
    const issued = await store.audit.list({ event: 'enrollment.issued' });
    expect(issued.items.map((r) => r.seq)).toEqual([5, 3, 1]);
    expect((await store.audit.list({ since: T0 + 4000 })).items.map((r) => r.seq)).toEqual([5, 4]);
    const first = await store.audit.list({ limit: 2 });
    expect(first.items.map((r) => r.seq)).toEqual([5, 4]);
    const second = await store.audit.list({ limit: 2, cursor: first.next as string });
    expect(second.items.map((r) => r.seq)).toEqual([3, 2]);
    const third = await store.audit.list({ limit: 2, cursor: second.next as string });
    expect(third.items.map((r) => r.seq)).toEqual([1]);
    expect(third.next).toBeNull();
  });
});

describeBackends(
  'audit log tampering',
  (backend) => {
    let raw: RawDatabase | undefined;
    afterEach(async () => {
      await raw?.close();
      raw = undefined;
    });

    /** A store with five records, and raw access to its database with the triggers dropped. */
    async function tampered(ctx: {
      skip: (note?: string) => void;
    }): Promise<{ store: Store; records: AuditRecord[] }> {
      const store = await backend.open(ctx);
      const records = await appendFive(store);
      raw = await openRaw(backend.url());
      await raw.dropAuditTriggers();
      return { store, records };
    }
    const q = (sql: string): string => placeholders(raw as RawDatabase, sql);

    it('refuses UPDATE and DELETE of audit rows and a head moving back, while the triggers stand', async (ctx) => {
      const store = await backend.open(ctx);
      await appendFive(store);
      raw = await openRaw(backend.url());
      const db = raw;
      await expect(db.run(q('update audit set data = ? where seq = 3'), ['{}'])).rejects.toThrow(
        /append-only/,
      );
      await expect(db.run('delete from audit where seq = 5')).rejects.toThrow(/append-only/);
      await expect(db.run('update audit_head set seq = 4 where id = 1')).rejects.toThrow(
        /only moves forward/,
      );
      await expect(db.run('delete from audit_head')).rejects.toThrow(/only moves forward/);
      if (db.kind === 'postgres') await expect(db.run('truncate audit')).rejects.toThrow(/append-only/);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, records: 5 });
    });

    it('finds a record whose data was edited (triggers dropped)', async (ctx) => {
      const { store } = await tampered(ctx);
      await (raw as RawDatabase).run(q('update audit set data = ? where seq = 3'), ['{"n":3,"z":"edited"}']);
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        records: 2,
        firstBad: 3,
        problem: expect.stringMatching(/record 3 was edited/),
      });
    });

    it('finds an edited timestamp, event or actor, not only data', async (ctx) => {
      const { store } = await tampered(ctx);
      await (raw as RawDatabase).run(q('update audit set at = at + 1 where seq = 1'));
      expect(await store.verifyAudit()).toMatchObject({ ok: false, firstBad: 1 });
      await (raw as RawDatabase).run(q('update audit set at = at - 1 where seq = 1'));
      await (raw as RawDatabase).run(q("update audit set actor = 'admin:2' where seq = 4"));
      expect(await store.verifyAudit()).toMatchObject({ ok: false, firstBad: 4 });
    });

    it('finds a record rewritten with a fresh hash at the next link', async (ctx) => {
      const { store, records } = await tampered(ctx);
      const r3 = records[2] as AuditRecord;
      const forged = { ...r3, data: { n: 3, forged: true } };
      const hash = auditRecordHash(r3.prevHash, forged);
      await (raw as RawDatabase).run(q('update audit set data = ?, hash = ? where seq = 3'), [
        '{"forged":true,"n":3}',
        hash,
      ]);
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        firstBad: 4,
        problem: expect.stringMatching(/record 4 does not link to record 3/),
      });
    });

    it('finds a deleted record in the middle', async (ctx) => {
      const { store } = await tampered(ctx);
      await (raw as RawDatabase).run('delete from audit where seq = 3');
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        records: 2,
        firstBad: 3,
        problem: 'record 3 is missing (deleted or renumbered)',
      });
    });

    it('finds records deleted from the end through the head', async (ctx) => {
      const { store } = await tampered(ctx);
      await (raw as RawDatabase).run('delete from audit where seq >= 4');
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        records: 3,
        firstBad: 4,
        problem: 'records 4 to 5 are missing (deleted from the end of the log)',
      });
    });

    it('finds a well-formed record inserted after the last one the service wrote', async (ctx) => {
      const { store, records } = await tampered(ctx);
      const last = records[4] as AuditRecord;
      const extra = {
        seq: 6,
        at: T0 + 6000,
        event: 'code.created',
        actor: 'admin:1',
        subject: 'x',
        data: {},
      };
      await (raw as RawDatabase).run(
        q(
          'insert into audit (seq, at, event, actor, subject, data, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
        ),
        [
          6,
          extra.at,
          extra.event,
          extra.actor,
          extra.subject,
          '{}',
          last.hash,
          auditRecordHash(last.hash, extra),
        ],
      );
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        firstBad: 6,
        problem: expect.stringMatching(/record 6 was inserted/),
      });
    });

    it('finds a record inserted in the middle (later records renumbered)', async (ctx) => {
      const { store, records } = await tampered(ctx);
      const db = raw as RawDatabase;
      // Make room at seq 3 (descending, so the primary key never collides), then insert a
      // record that links correctly to record 2.
      for (const seq of [5, 4, 3]) await db.run(q('update audit set seq = ? where seq = ?'), [seq + 1, seq]);
      const r2 = records[1] as AuditRecord;
      const fake = { seq: 3, at: T0 + 2500, event: 'code.created', actor: 'admin:1', subject: 'x', data: {} };
      await db.run(
        q(
          'insert into audit (seq, at, event, actor, subject, data, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
        ),
        [3, fake.at, fake.event, fake.actor, fake.subject, '{}', r2.hash, auditRecordHash(r2.hash, fake)],
      );
      expect(await store.verifyAudit()).toMatchObject({ ok: false, firstBad: 4 });
    });

    it('finds two records whose contents were swapped', async (ctx) => {
      const { store, records } = await tampered(ctx);
      const db = raw as RawDatabase;
      const [r2, r3] = [records[1] as AuditRecord, records[2] as AuditRecord];
      const set = q(
        'update audit set at = ?, event = ?, actor = ?, subject = ?, data = ?, prev_hash = ?, hash = ? where seq = ?',
      );
      const row = (r: AuditRecord) => [
        r.at,
        r.event,
        r.actor,
        r.subject,
        JSON.stringify(r.data),
        r.prevHash,
        r.hash,
      ];
      await db.run(set, [...row(r3), 2]);
      await db.run(set, [...row(r2), 3]);
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        firstBad: 2,
        problem: expect.stringMatching(/record 2 does not link to record 1/),
      });
    });

    it('finds two records whose sequence numbers were swapped (reordered)', async (ctx) => {
      const { store } = await tampered(ctx);
      const db = raw as RawDatabase;
      await db.run('update audit set seq = 100 where seq = 2');
      await db.run('update audit set seq = 2 where seq = 3');
      await db.run('update audit set seq = 3 where seq = 100');
      expect(await store.verifyAudit()).toMatchObject({ ok: false, firstBad: 2 });
    });

    it('notices a tail rewritten consistently, at the head', async (ctx) => {
      const { store, records } = await tampered(ctx);
      const db = raw as RawDatabase;
      let prev = (records[2] as AuditRecord).hash;
      for (const r of records.slice(3)) {
        const forged = { ...r, data: { forged: r.seq } };
        const hash = auditRecordHash(prev, forged);
        await db.run(q('update audit set data = ?, prev_hash = ?, hash = ? where seq = ?'), [
          JSON.stringify(forged.data),
          prev,
          hash,
          r.seq,
        ]);
        prev = hash;
      }
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        firstBad: 5,
        problem: expect.stringMatching(/does not match the log head/),
      });
    });

    it('reports a missing head row', async (ctx) => {
      const { store } = await tampered(ctx);
      await (raw as RawDatabase).run('delete from audit_head');
      expect(await store.verifyAudit()).toMatchObject({
        ok: false,
        records: 5,
        firstBad: 6,
        problem: expect.stringMatching(/head row is missing/),
      });
    });

    it('walks a log longer than one page and finds an edit on a later page', async (ctx) => {
      const store = await backend.open(ctx);
      const db = await openRaw(backend.url());
      raw = db;
      // Build a valid chain directly (appending 2 500 records one by one would be slow).
      const total = AUDIT_PAGE_ROWS * 2 + 500;
      let prev = GENESIS_HASH;
      const rows: unknown[][] = [];
      for (let seq = 1; seq <= total; seq++) {
        const content = {
          seq,
          at: T0 + seq,
          event: 'test.bulk',
          actor: 'system',
          subject: `n:${seq}`,
          data: { seq },
        };
        const hash = auditRecordHash(prev, content);
        rows.push([
          seq,
          content.at,
          content.event,
          content.actor,
          content.subject,
          `{"seq":${seq}}`,
          prev,
          hash,
        ]);
        prev = hash;
      }
      await db.run('begin');
      for (let i = 0; i < rows.length; i += 250) {
        const chunk = rows.slice(i, i + 250);
        const values = chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
        await db.run(
          q(`insert into audit (seq, at, event, actor, subject, data, prev_hash, hash) values ${values}`),
          chunk.flat(),
        );
      }
      await db.run(q('update audit_head set seq = ?, hash = ? where id = 1'), [total, prev]);
      await db.run('commit');
      expect(await store.verifyAudit()).toEqual({
        ok: true,
        records: total,
        firstBad: null,
        problem: null,
        head: prev,
      });
      // The service's own next append continues the same chain.
      expect(
        (await store.audit.append({ event: 'x.y', actor: 'system', subject: 's', data: {}, at: T0 })).seq,
      ).toBe(total + 1);

      await db.dropAuditTriggers();
      const target = AUDIT_PAGE_ROWS * 2 + 7;
      await db.run(q('update audit set subject = ? where seq = ?'), ['n:forged', target]);
      expect(await store.verifyAudit()).toMatchObject({ ok: false, records: target - 1, firstBad: target });
    });
  },
  ['sqlite-file', 'postgres'],
);

describe('audit log on a SQLite file reopened', () => {
  it('keeps the chain across close and reopen', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'provenance-audit-'));
    try {
      const url = `sqlite:${join(dir, 'p.db')}`;
      const first = await openStore(url);
      await appendFive(first);
      await first.close();
      const second = await openStore(url);
      const next = await second.audit.append({
        event: 'x.y',
        actor: 'system',
        subject: 's',
        data: {},
        at: T0,
      });
      expect(next.seq).toBe(6);
      expect(await second.verifyAudit()).toMatchObject({ ok: true, records: 6, head: next.hash });
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
