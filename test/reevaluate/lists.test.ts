/**
 * Re-evaluation with signed token lists: a sector body's list revokes one model's CA key after
 * certificates were issued; re-evaluation with the loaded lists finds exactly that model's
 * certificates. A list that is missing or stale makes every decision fail closed, which is
 * no ground to revoke what was issued: re-evaluation refuses to run with the list's code.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../../src/ca/directory.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/model.js';
import { buildApp } from '../../src/server/app.js';
import { PolicyHolder } from '../../src/server/policy-holder.js';
import { reevaluate } from '../../src/server/reevaluate.js';
import { serviceCa } from '../../src/server/serve.js';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/types.js';
import { signTokenList } from '../../src/trust/lists/jws.js';
import { loadTokenLists } from '../../src/trust/lists/loader.js';
import type { TokenList, TokenListSet } from '../../src/trust/lists/types.js';
import { runCli } from '../helpers/cli.js';
import { addAdminToken, NOW, testClock, testConfig } from '../server/fakes.js';
import { enrollOne, type TwoMakers, twoMakers } from './fixtures.js';

const DAY = 86400_000;
let m: TwoMakers;
let caDir: string;
let store: Store;
let dbUrl: string;
let ca: Awaited<ReturnType<typeof initCa>>;
let a: string[];
let withLists: Policy;
const publisher = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function list(over: Partial<TokenList>): TokenList {
  return {
    publisher: 'Smartcard Sector Body',
    sequence: 1,
    issuedAt: new Date(NOW - DAY).toISOString(),
    nextUpdate: new Date(NOW + 30 * DAY).toISOString(),
    entries: [],
    revoked: [],
    ...over,
  };
}

beforeAll(async () => {
  m = twoMakers();
  caDir = mkdtempSync(join(tmpdir(), 'provenance-reevaluate-lists-ca-'));
  ca = await initCa(join(caDir, 'ca'), {
    name: 'Test Issuing CA',
    passphrase: null,
    clock: () => NOW - DAY,
  });
  dbUrl = `sqlite:${join(caDir, 'provenance.db')}`;
  store = await openStore(dbUrl);
  const clock = testClock();
  const app = buildApp({
    store,
    ca: serviceCa(ca),
    policy: loadPolicyFile(m.policyPath),
    config: testConfig('limits: { perCodePerMinute: 1000, perAddressPerMinute: 1000 }\n', m.dir),
    clock,
    logger: pino({ level: 'silent' }) as never,
  });
  const admin = await addAdminToken(store);
  a = [(await enrollOne(app, admin, m.a)).serial, (await enrollOne(app, admin, m.a)).serial].sort();
  await enrollOne(app, admin, m.b);
  await app.close();

  // The sector body revokes maker A's model CA key (sequence 2).
  writeFileSync(
    join(m.dir, 'sector.jws'),
    await signTokenList(
      list({
        sequence: 2,
        revoked: [{ spkiSha256: m.a.model.cert.spkiSha256, reason: 'model attestation key extracted' }],
      }),
      publisher.privateKey,
    ),
  );
  writeFileSync(join(m.dir, 'publisher.pem'), publisher.publicKey.export({ type: 'spki', format: 'pem' }));
  const yaml = `${readFileSync(m.policyPath, 'utf8')}lists:\n  - id: sector\n    source: ./sector.jws\n    publisherKeys: [./publisher.pem]\n`;
  writeFileSync(join(m.dir, 'policy-lists.yaml'), yaml);
  withLists = loadPolicyFile(join(m.dir, 'policy-lists.yaml'));
}, 60_000);
afterAll(async () => {
  await store?.close();
  m.cleanup();
  rmSync(caDir, { recursive: true, force: true });
});

describe('re-evaluation with signed token lists', () => {
  it("lists exactly the certificates under a key the list revokes, with the list's code", async () => {
    const lists = await loadTokenLists(withLists.lists ?? [], { now: NOW });
    const report = await reevaluate({ store, policy: withLists, lists, clock: () => NOW, actor: 'system' });
    expect(report.evaluated).toBe(3);
    expect(report.wouldReject.map((w) => w.serial).sort()).toEqual(a);
    for (const w of report.wouldReject) {
      expect(w.after.code).toBe('LIST_REVOKED');
      expect(w.why).toContain('model attestation key extracted');
    }
  });

  it('refuses to run (LIST_UNAVAILABLE) when the lists the policy names are not given, revoking nothing', async () => {
    await expect(
      reevaluate({ store, policy: withLists, clock: () => NOW, actor: 'system', revoke: true }),
    ).rejects.toMatchObject({ code: 'LIST_UNAVAILABLE' });
    expect(await store.certificates.revoked()).toEqual([]);
  });

  it('refuses to run (LIST_STALE) on a stale list instead of listing every certificate', async () => {
    const later = NOW + 40 * DAY;
    const lists = await loadTokenLists(withLists.lists ?? [], { now: later });
    await expect(
      reevaluate({ store, policy: withLists, lists, clock: () => later, actor: 'system', revoke: true }),
    ).rejects.toMatchObject({ code: 'LIST_STALE' });
    expect(await store.certificates.revoked()).toEqual([]);
  });

  it('refuses to run (LIST_SIGNATURE_INVALID) on a list signed by another key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = mkdtempSync(join(tmpdir(), 'provenance-reevaluate-lists-'));
    try {
      const path = join(dir, 'sector.jws');
      writeFileSync(path, await signTokenList(list({ sequence: 3 }), other.privateKey));
      const policy = { ...withLists, lists: (withLists.lists ?? []).map((l) => ({ ...l, location: path })) };
      const lists = await loadTokenLists(policy.lists, { now: NOW });
      await expect(
        reevaluate({ store, policy, lists, clock: () => NOW, actor: 'system', revoke: true }),
      ).rejects.toMatchObject({ code: 'LIST_SIGNATURE_INVALID' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('provenance reevaluate loads the lists the policy names: exit 1 listing them; exit 2 LIST_STALE when stale', async () => {
    const policy = join(m.dir, 'policy-lists.yaml');
    const run = await runCli(['reevaluate', '--db', dbUrl, '--policy', policy, '--json'], {
      clock: () => NOW,
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.out);
    expect(report.wouldReject.map((w: { serial: string }) => w.serial).sort()).toEqual(a);
    expect(report.wouldReject[0].after.code).toBe('LIST_REVOKED');

    const stale = await runCli(['reevaluate', '--db', dbUrl, '--policy', policy, '--revoke'], {
      clock: () => NOW + 40 * DAY,
    });
    expect(stale.code).toBe(2);
    expect(stale.err).toMatch(/^error: LIST_STALE: /);
    expect(await store.certificates.revoked()).toEqual([]);
  });

  it("POST /api/v1/admin/reevaluate judges with the service's current lists; without them it answers 503 LIST_UNAVAILABLE", async () => {
    const loaded = await loadTokenLists(withLists.lists ?? [], { now: NOW });
    const post = async (lists: (() => TokenListSet) | undefined) => {
      const clock = testClock();
      const policies = new PolicyHolder({
        clock,
        policy: withLists,
        ...(lists === undefined ? {} : { lists }),
      });
      const app = buildApp({
        store,
        ca: serviceCa(ca),
        policy: policies,
        config: testConfig('', m.dir),
        clock,
        logger: pino({ level: 'silent' }) as never,
      });
      const token = await addAdminToken(store);
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/admin/reevaluate',
        headers: { authorization: `Bearer ${token}` },
        payload: {},
      });
      await app.close();
      return res;
    };
    const ok = await post(() => loaded);
    expect(ok.statusCode).toBe(200);
    expect(
      ok
        .json()
        .wouldReject.map((w: { serial: string }) => w.serial)
        .sort(),
    ).toEqual(a);
    const without = await post(undefined);
    expect(without.statusCode).toBe(503);
    expect(without.json().code).toBe('LIST_UNAVAILABLE');
  });
});
