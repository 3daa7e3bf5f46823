/**
 * Races over real HTTP: a challenge is single-use and a code yields one certificate, however
 * many requests arrive at once. 100 genuine CSRs (100 keys, each attested by a token of the
 * demo maker) answer one challenge at the same moment: exactly one certificate is issued and
 * stored, the 99 others get a 409 problem and leave no row. On SQLite, and on PostgreSQL when
 * its server binaries are here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MemoryKey,
  type MemoryToken,
  memoryTokens,
  newMemoryKey,
  openDemoLine,
} from '../../scripts/bench-server.js';
import { fromBase64Url } from '../../src/core/bytes.js';
import { encodePem } from '../../src/core/pem.js';
import { needPostgres, type PostgresCluster, startPostgres } from '../helpers/postgres.js';
import { tempDirs } from '../maker/fixtures.js';
import { type E2eService, raw, startE2eService, testConfig } from './service.js';

const RACERS = 100;
const dirs = tempDirs();
afterAll(() => dirs.cleanup());

/** Every challenge a code may hold open at once: the second race needs 100. */
const CONFIG = testConfig({
  limits:
    'limits:\n  perCodePerMinute: 1000\n  perAddressPerMinute: 1000000\nenrollment:\n  maxOpenChallengesPerCode: 100',
});

function races(name: string, db: () => Promise<string | undefined | null>) {
  describe(`concurrent enrollments on ${name}`, () => {
    let s: E2eService | null = null;
    let tokens: MemoryToken[];
    let keys: MemoryKey[];

    beforeAll(async () => {
      const url = await db();
      if (url === null) return;
      s = await startE2eService(await dirs.make('provenance-e2e-race-'), {
        config: CONFIG,
        ...(url === undefined ? {} : { db: url }),
      });
      tokens = memoryTokens(await openDemoLine(s.line), 10);
      keys = Array.from({ length: RACERS }, () => newMemoryKey());
    });
    afterAll(async () => {
      await s?.close();
    });

    const ready = (ctx: { skip: (note?: string) => void }): E2eService => {
      if (s === null) needPostgres(ctx, null);
      return s!;
    };

    async function newCode(svc: E2eService): Promise<{ code: string; id: string }> {
      const r = await raw(`${svc.url}/api/v1/admin/enrollment-codes`, {
        authorization: `Bearer ${svc.adminToken}`,
        body: JSON.stringify({ customer: 'race', subject: 'CN=Racer' }),
      });
      expect(r.status).toBe(201);
      return { code: r.json!['code'] as string, id: r.json!['id'] as string };
    }

    async function challenge(svc: E2eService, code: string): Promise<{ id: string; nonce: Uint8Array }> {
      const r = await raw(`${svc.url}/api/v1/challenges`, { authorization: `Enroll ${code}`, body: '{}' });
      expect(r.status).toBe(201);
      return { id: r.json!['id'] as string, nonce: fromBase64Url(r.json!['nonce'] as string) };
    }

    async function counts(svc: E2eService) {
      const store = svc.service.store;
      const audit = await store.audit.list({ event: 'enrollment.issued', limit: 1000 });
      return {
        certificates: await store.certificates.count(),
        enrollments: await store.enrollments.count(),
        issuedEvents: audit.items.length,
      };
    }

    it(`issues exactly one certificate when ${RACERS} requests answer one challenge at once`, async (ctx) => {
      const svc = ready(ctx);
      const before = await counts(svc);
      const { code } = await newCode(svc);
      const c = await challenge(svc, code);
      const bodies = keys.map((key, i) =>
        JSON.stringify({
          challengeId: c.id,
          csr: encodePem('CERTIFICATE REQUEST', tokens[i % tokens.length]!.csr(key, c.nonce)),
        }),
      );
      const answers = await Promise.all(
        bodies.map((body) => raw(`${svc.url}/api/v1/enrollments`, { authorization: `Enroll ${code}`, body })),
      );
      const issued = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status !== 201);
      expect(issued).toHaveLength(1);
      expect(refused).toHaveLength(RACERS - 1);
      for (const a of refused) {
        expect(a.status).toBe(409);
        expect(a.contentType).toMatch(/^application\/problem\+json/);
        expect(['CHALLENGE_INVALID', 'ENROLLMENT_CODE_USED']).toContain(a.json!['code']);
        expect(a.json!['type']).toBe(`urn:provenance:error:${a.json!['code']}`);
      }
      const after = await counts(svc);
      expect(after.certificates - before.certificates).toBe(1);
      expect(after.enrollments - before.enrollments).toBe(1);
      expect(after.issuedEvents - before.issuedEvents).toBe(1);
      const serial = issued[0]!.json!['serial'] as string | undefined;
      if (serial !== undefined) expect(await svc.service.store.certificates.get(serial)).not.toBeNull();
      expect((await svc.service.store.verifyAudit()).ok).toBe(true);
    });

    it(`issues exactly one certificate when ${RACERS} challenges of one code are answered at once`, async (ctx) => {
      const svc = ready(ctx);
      const before = await counts(svc);
      const { code } = await newCode(svc);
      const challenges = await Promise.all(keys.map(() => challenge(svc, code)));
      const answers = await Promise.all(
        challenges.map((c, i) =>
          raw(`${svc.url}/api/v1/enrollments`, {
            authorization: `Enroll ${code}`,
            body: JSON.stringify({
              challengeId: c.id,
              csr: encodePem('CERTIFICATE REQUEST', tokens[i % tokens.length]!.csr(keys[i]!, c.nonce)),
            }),
          }),
        ),
      );
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      const codes = new Set(answers.filter((a) => a.status !== 201).map((a) => a.json!['code']));
      expect([...codes]).toEqual(['ENROLLMENT_CODE_USED']);
      const after = await counts(svc);
      expect(after.certificates - before.certificates).toBe(1);
      expect(after.issuedEvents - before.issuedEvents).toBe(1);
      expect((await svc.service.store.verifyAudit()).ok).toBe(true);
    });
  });
}

races('SQLite', async () => undefined);

let pg: PostgresCluster | null = null;
afterAll(async () => {
  await pg?.stop();
});
races('PostgreSQL', async () => {
  pg = await startPostgres();
  return pg === null ? null : pg.createDatabase();
});
