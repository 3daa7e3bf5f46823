/**
 * The service's revocation wiring (issue #4 §3): policy CRL files and status lists reach the
 * enrollment verifier, a status list named by URL is fetched through the service's
 * RevocationCache when a validated path needs it, and an unreachable list fails closed under
 * `require` and warns under `best-effort`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/model.js';
import { buildApp } from '../../src/server/app.js';
import { startService } from '../../src/server/serve.js';
import { RevocationCache, type RevocationFetch } from '../../src/trust/revocation/cache.js';
import { crlFor, entryFor, goodCrls } from '../trust/revocation/helpers.js';
import { addAdminToken, FakeCa, MemoryStore, testClock, testConfig } from './fakes.js';
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

const STATUS_URL = 'https://status.example/attestation/status';

let h: NativeHierarchy;
let folder: PolicyFolder;

beforeAll(() => {
  h = nativeHierarchy();
  folder = policyFolder(h);
});
afterAll(() => folder.cleanup());

/** The fixture policy with revocation lines added to its trust entry, files written beside it. */
function policyWith(
  name: string,
  trustLines: string[],
  files: Record<string, Uint8Array | string> = {},
): Policy {
  return loadPolicyFile(policyFileWith(name, trustLines, files));
}

/** Like policyWith, but returns the policy file's path. */
function policyFileWith(
  name: string,
  trustLines: string[],
  files: Record<string, Uint8Array | string> = {},
): string {
  for (const [file, body] of Object.entries(files)) writeFileSync(join(folder.dir, file), body);
  const yaml = `version: 1
trust:
  - id: gemalto
    certificates: [./root.pem]
${trustLines.map((l) => `    ${l}\n`).join('')}allow:
  - id: gemalto-smartcards
    entry: ./line.pem
    level: 2
require:
  freshness: nonce
  generatedOnDevice: true
  nonExportable: true
`;
  const path = join(folder.dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

/** A status list (standards.md §4.4) revoking the token attestation certificate, or nothing. */
function statusList(revokeToken: boolean): string {
  const entries = revokeToken
    ? { [h.token.cert.serialHex]: { status: 'REVOKED', reason: 'KEY_COMPROMISE' } }
    : {};
  return JSON.stringify({ entries });
}

/** A stub fetch that records the URLs asked for. */
function stubFetch(answer: (url: string) => Response | Error): RevocationFetch & { urls: string[] } {
  const urls: string[] = [];
  const fn = (async (url: string) => {
    urls.push(url);
    const a = answer(url);
    if (a instanceof Error) throw a;
    return a;
  }) as unknown as RevocationFetch & { urls: string[] };
  fn.urls = urls;
  return fn;
}

/** An app whose verifier and enrollments use one RevocationCache over `fetch`, with a code and a challenge. */
async function ready(policy: Policy, fetch?: RevocationFetch) {
  const clock = testClock();
  const store = new MemoryStore();
  const revocation = fetch ? new RevocationCache({ fetch, clock, timeoutMs: 1_000 }) : undefined;
  const app = buildApp({
    store: store,
    ca: new FakeCa(clock()),
    policy,
    config: testConfig(),
    clock,
    logger: pino({ level: 'silent' }),
    ...(revocation ? { revocation } : {}),
  });
  const admin = await addAdminToken(store);
  const code = await createCode(app, admin);
  const challenge = await getChallenge(app, code.code);
  const send = (hierarchy = h) =>
    submit(app, code.code, { challengeId: challenge.id, csr: csrPem(hierarchy, { nonce: challenge.nonce }) });
  return { app, store, send };
}

describe('service revocation: CRL files named by the policy', () => {
  it('refuses (422 CERT_REVOKED) and records an enrollment whose token attestation certificate a CRL file revokes', async () => {
    const crls = { ...goodCrls(h), 'model.crl': crlFor(h.model, [entryFor(h.token)]) };
    const policy = policyWith(
      'crl-revoked',
      ['revocation: require', 'crls: [./model.crl, ./line.crl, ./root.crl]'],
      crls,
    );
    const { store, send } = await ready(policy);
    const res = await send();
    expect(res.statusCode).toBe(422);
    const p = res.json();
    expect(p.code).toBe('CERT_REVOKED');
    expect(p.verdict.findings).toContainEqual(
      expect.objectContaining({ check: 'revocation', code: 'CERT_REVOKED', position: 1 }),
    );
    expect(await store.enrollments.get(p.enrollmentId)).toMatchObject({
      status: 'rejected',
      code: 'CERT_REVOKED',
    });
    expect(store.auditEvents().at(-1)).toMatchObject({ event: 'enrollment.rejected' });
  });

  it('issues when every checkable certificate is on a current CRL file and none is revoked', async () => {
    const policy = policyWith(
      'crl-good',
      ['revocation: require', 'crls: [./model.crl, ./line.crl, ./root.crl]'],
      goodCrls(h),
    );
    const { send } = await ready(policy);
    const res = await send();
    expect(res.statusCode).toBe(201);
    expect(res.json().verdict.findings).toContainEqual(
      expect.objectContaining({ check: 'revocation', ok: true }),
    );
  });
});

describe('service revocation: status lists', () => {
  it('refuses (422 CERT_REVOKED) when a status list file revokes the token attestation certificate', async () => {
    const policy = policyWith('list-file', ['revocation: require', 'statusList: ./status.json'], {
      'status.json': statusList(true),
    });
    const { store, send } = await ready(policy);
    const res = await send();
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('CERT_REVOKED');
    expect(store.rows()).toMatchObject({ enrollments: 1, certificates: 0 });
  });

  it('fetches a status list named by URL on first use and refuses (422 CERT_REVOKED) the revoked token', async () => {
    const policy = policyWith('list-url', ['revocation: require', `statusList: ${STATUS_URL}`]);
    const fetch = stubFetch(
      () => new Response(statusList(true), { headers: { 'content-type': 'application/json' } }),
    );
    const { store, send } = await ready(policy, fetch);
    const res = await send();
    expect(res.statusCode).toBe(422);
    const p = res.json();
    expect(p.code).toBe('CERT_REVOKED');
    expect(p.verdict.findings).toContainEqual(
      expect.objectContaining({
        code: 'CERT_REVOKED',
        detail: expect.objectContaining({ source: `android-status:${STATUS_URL}` }),
      }),
    );
    expect(fetch.urls).toEqual([STATUS_URL]);
    expect(await store.enrollments.get(p.enrollmentId)).toMatchObject({
      status: 'rejected',
      code: 'CERT_REVOKED',
    });
  });

  it('issues with a fetched status list that does not list the path, and fetches it once', async () => {
    const policy = policyWith('list-url-good', ['revocation: require', `statusList: ${STATUS_URL}`]);
    const fetch = stubFetch(() => new Response(statusList(false)));
    const first = await ready(policy, fetch);
    expect((await first.send()).statusCode).toBe(201);
    expect(fetch.urls).toEqual([STATUS_URL]);
  });

  it('refuses with REVOCATION_UNAVAILABLE (422, recorded) when the status list URL is unreachable under require', async () => {
    const policy = policyWith('list-down-require', ['revocation: require', `statusList: ${STATUS_URL}`]);
    const fetch = stubFetch(() => new TypeError('fetch failed: ECONNREFUSED'));
    const { store, send } = await ready(policy, fetch);
    const res = await send();
    expect(res.statusCode).toBe(422);
    const p = res.json();
    expect(p.code).toBe('REVOCATION_UNAVAILABLE');
    expect(fetch.urls).toEqual([STATUS_URL]);
    expect(await store.enrollments.get(p.enrollmentId)).toMatchObject({
      status: 'rejected',
      code: 'REVOCATION_UNAVAILABLE',
    });
  });

  it('issues with a warning finding when the status list URL is unreachable under best-effort', async () => {
    const policy = policyWith('list-down-best', ['revocation: best-effort', `statusList: ${STATUS_URL}`]);
    const fetch = stubFetch(() => new Response('unavailable', { status: 503 }));
    const { send } = await ready(policy, fetch);
    const res = await send();
    expect(res.statusCode).toBe(201);
    expect(res.json().verdict.findings).toContainEqual(
      expect.objectContaining({
        check: 'revocation',
        code: 'REVOCATION_UNAVAILABLE',
        severity: 'warning',
        ok: true,
      }),
    );
  });

  it('fetches nothing for a chain that does not validate to a trusted anchor (no fetches chosen by the client)', async () => {
    const policy = policyWith('list-untrusted', ['revocation: require', `statusList: ${STATUS_URL}`]);
    const fetch = stubFetch(() => new Response(statusList(false)));
    const { send } = await ready(policy, fetch);
    const res = await send(nativeHierarchy());
    expect(res.statusCode).toBe(422);
    expect(res.json().code).not.toBe('REVOCATION_UNAVAILABLE');
    expect(fetch.urls).toEqual([]);
  });
});

describe('service revocation: startService', () => {
  it('fetches the policy’s status list URLs at start through the injected fetch, and stops refreshing on close', async () => {
    const policy = policyFileWith('serve-list', ['revocation: require', `statusList: ${STATUS_URL}`]);
    const fetch = stubFetch(() => new Response(statusList(false)));
    const cwd = mkdtempSync(join(tmpdir(), 'provenance-serve-revocation-'));
    const service = await startService({
      data: 'data',
      listen: '127.0.0.1:0',
      policy,
      env: {},
      clock: Date.now,
      out: () => undefined,
      err: () => undefined,
      logger: pino({ level: 'silent' }) as never,
      cwd,
      fetch,
    });
    try {
      await vi.waitFor(() => expect(fetch.urls).toEqual([STATUS_URL]));
    } finally {
      await service.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
