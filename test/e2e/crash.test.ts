/**
 * Crash safety: `provenance serve` (a real process, real SQLite file) is killed with SIGKILL in
 * the middle of 500 enrollments and started again on the same data directory. Every
 * certificate a client received must be in the database (a certificate is committed before
 * its response leaves), no serial may be used twice, and the audit chain must verify. The
 * clients run in this process; the whole test is bounded in time.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  enrollOnce,
  type MemoryKey,
  type MemoryToken,
  memoryTokens,
  newMemoryKey,
  openDemoLine,
} from '../../scripts/bench-server.js';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { openStore } from '../../src/store/store.js';
import type { EnrollmentRecord } from '../../src/store/types.js';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../maker/fixtures.js';
import { type ChildService, raw, spawnServe, testConfig } from './service.js';

const TOTAL = 500;
const CONCURRENCY = 8;
/** Kill once this many certificates have reached clients (well inside the run). */
const KILL_AFTER = 150;
/** Give up on the whole run after this long (the test then fails on the counts). */
const DEADLINE_MS = 150_000;

const dirs = tempDirs();
const children: ChildService[] = [];
afterAll(async () => {
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await dirs.cleanup();
});

interface Received {
  readonly enrollmentId: string;
  readonly serial: string;
  readonly der: Uint8Array;
}

async function makeCodes(url: string, admin: string, n: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, j) =>
        raw(`${url}/api/v1/admin/enrollment-codes`, {
          authorization: `Bearer ${admin}`,
          body: JSON.stringify({ customer: 'crash', subject: `CN=Crash Customer ${i + j + 1}` }),
        }),
      ),
    );
    for (const r of batch) {
      expect(r.status).toBe(201);
      codes.push(r.json!['code'] as string);
    }
  }
  return codes;
}

describe('the service killed with SIGKILL mid-run', () => {
  it(
    `loses no certificate a client received, across a SIGKILL and a restart during ${TOTAL} enrollments`,
    async () => {
      const started = Date.now();
      const dir = await dirs.make('provenance-e2e-crash-');
      await writeFile(join(dir, 'config.yaml'), testConfig());
      const first = await spawnServe(['--data', dir, '--demo']);
      children.push(first);
      const admin = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
      const codes = await makeCodes(first.url, admin, TOTAL);
      const tokens: MemoryToken[] = memoryTokens(
        await openDemoLine(join(dir, 'demo', 'maker', 'line')),
        CONCURRENCY,
      );
      const keys: MemoryKey[] = codes.map(() => newMemoryKey());

      const received: Received[] = [];
      const failures: string[] = [];
      let next = 0;
      let killed = false;

      /** Run enrollments against `url` until `stop()` says so or the codes run out. */
      const run = (url: string, stop: () => boolean) =>
        Promise.all(
          tokens.map(async (token) => {
            while (!stop() && next < TOTAL && Date.now() - started < DEADLINE_MS) {
              const i = next++;
              try {
                const r = await enrollOnce(url, codes[i]!, token, keys[i]!);
                if (r.status !== 201 || r.certificate === undefined) {
                  failures.push(r.code);
                  continue;
                }
                const der = decodePem(r.certificate)[0]!.der;
                const serial = r.serial ?? parseCertificate(der).serialHex;
                received.push({ enrollmentId: r.enrollmentId ?? '', serial, der });
                if (!killed && received.length >= KILL_AFTER) {
                  killed = true;
                  first.child.kill('SIGKILL');
                }
              } catch (err) {
                // The connection died with the server: this client got nothing.
                failures.push((err as { cause?: { code?: string } })?.cause?.code ?? 'NETWORK');
              }
            }
          }),
        );

      await run(first.url, () => killed);
      const exit = await first.exited;
      expect(exit.signal).toBe('SIGKILL');
      const beforeRestart = received.length;
      expect(beforeRestart).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(next).toBeLessThan(TOTAL);

      const second = await spawnServe(['--data', dir, '--demo']);
      children.push(second);
      expect(second.output()).toMatch(/not shown again/);
      await run(second.url, () => false);
      expect(next).toBe(TOTAL);
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);

      // Everything attempted is accounted for; only the requests in flight at the kill failed.
      expect(received.length + failures.length).toBe(TOTAL);
      expect(failures.length).toBeLessThanOrEqual(CONCURRENCY);
      expect(received.length - beforeRestart).toBeGreaterThan(0);

      const store = await openStore(`sqlite:${join(dir, 'provenance.db')}`);
      try {
        // No serial twice among what the clients received …
        expect(new Set(received.map((r) => r.serial)).size).toBe(received.length);
        // … and each of them is in the database, byte for byte.
        for (const r of received) {
          const stored = await store.certificates.get(r.serial);
          expect(stored, `certificate ${r.serial} was received but is not in the database`).not.toBeNull();
          expect(Buffer.from(stored!.der).equals(Buffer.from(r.der))).toBe(true);
          expect(stored!.enrollmentId).toBe(r.enrollmentId);
          const enrollment = await store.enrollments.get(r.enrollmentId);
          expect(enrollment).toMatchObject({ status: 'issued', certificateSerial: r.serial });
        }
        // Every issued enrollment names its own certificate: no serial shared in the database.
        const issued: EnrollmentRecord[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.enrollments.list({
            status: 'issued',
            limit: 100,
            ...(cursor !== null ? { cursor } : {}),
          });
          issued.push(...page.items);
          cursor = page.next;
        } while (cursor !== null);
        const serials = issued.map((e) => e.certificateSerial);
        expect(new Set(serials).size).toBe(serials.length);
        expect(await store.certificates.count()).toBe(issued.length);
        // At most the in-flight ones were committed without their response reaching the client.
        expect(issued.length - received.length).toBeGreaterThanOrEqual(0);
        expect(issued.length - received.length).toBeLessThanOrEqual(CONCURRENCY);

        const audit = await store.verifyAudit();
        expect(audit).toMatchObject({ ok: true, firstBad: null });
        console.log(
          `crash run: killed after ${beforeRestart} certificates received; ${failures.length} requests lost in flight ` +
            `(${[...new Set(failures)].join(', ')}); ${issued.length - received.length} committed without reaching ` +
            `their client; ${received.length} received in all; ${audit.records} audit records verified`,
        );
      } finally {
        await store.close();
      }
      // The operator's check, as the issue names it.
      const verify = await runCli(['audit', 'verify', '--data', dir]);
      expect(verify.code, verify.err).toBe(0);
    },
    DEADLINE_MS + 60_000,
  );
});
