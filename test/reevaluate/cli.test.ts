/**
 * `provenance reevaluate` against a real running service's data directory: the operator's
 * story after a compromise. The service issues certificates for two models; the operator
 * edits the configured policy to deny one model's CA, re-evaluates (exit 1, the model's
 * certificates listed), revokes them (exit 0), and the running service's CRL lists them
 * within a minute; a second run finds nothing to do (exit 0).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCrl, verifyCrl } from '../../src/pki/crl.js';
import { type RunningService, startService } from '../../src/server/serve.js';
import { runCli } from '../helpers/cli.js';
import { NOW, testClock } from '../server/fakes.js';
import { enrollOne, type TwoMakers, twoMakers } from './fixtures.js';

let cwd: string;
let data: string;
let m: TwoMakers;
let service: RunningService;
let admin: string;
let a: string[];
let b: string[];
const clock = testClock(NOW);
const env = { USER: 'tester' };

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'provenance-reevaluate-cli-'));
  data = join(cwd, 'data');
  mkdirSync(data, { mode: 0o700 });
  // The makers' certificates and policy.yaml (the configured default) in the data directory.
  m = twoMakers(data);
  service = await startService({
    data,
    listen: '127.0.0.1:0',
    env: {},
    clock,
    out: () => undefined,
    err: () => undefined,
    logger: pino({ level: 'silent' }) as never,
    cwd,
  });
  admin = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  a = [
    (await enrollOne(service.app, admin, m.a, 'CN=Alice Example,O=Acme')).serial,
    (await enrollOne(service.app, admin, m.a, 'CN=Bob Example,O=Acme')).serial,
  ].sort();
  b = [(await enrollOne(service.app, admin, m.b, 'CN=Carol Example,O=Acme')).serial];
}, 60_000);
afterAll(async () => {
  await service?.close();
  rmSync(cwd, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(['reevaluate', ...args], { env, clock });

describe('provenance reevaluate', () => {
  it('exits 0 with nothing to do while the configured policy accepts every certificate', async () => {
    const run = await cli('--data', data);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('re-evaluated 3 issued certificate(s)');
    expect(run.out).toContain('nothing to do');
  });

  it("after the policy denies a model, exits 1 listing exactly that model's certificates and revokes nothing", async () => {
    copyFileSync(m.denyPath, m.policyPath);
    const text = await cli('--data', data);
    expect(text.code).toBe(1);
    for (const serial of a) expect(text.out).toContain(serial);
    expect(text.out).not.toContain(b[0]!);
    expect(text.out).toContain('POLICY_DENIED');
    expect(text.out).toContain('is on the deny list: model attestation CA compromised (incident 2026-06)');
    expect(text.out).toContain('run again with --revoke');

    const json = await cli('--data', data, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out);
    expect(report.wouldReject.map((w: { serial: string }) => w.serial).sort()).toEqual(a);
    expect(report.revoked).toEqual([]);
    for (const serial of a) expect((await service.store.certificates.get(serial))?.status).toBe('good');
  });

  it("--revoke revokes them (exit 0), audited as the CLI user, and the running service's CRL lists them within a minute", async () => {
    const first = parseCrl(new Uint8Array((await service.app.inject({ url: '/api/v1/crl' })).rawPayload));
    expect(first.revoked).toHaveLength(0);

    const run = await cli('--data', data, '--revoke', '--reason', 'keyCompromise');
    expect(run.code).toBe(0);
    expect(run.out).toContain('revoked 2 certificate(s) (keyCompromise)');
    for (const serial of a)
      expect(await service.store.certificates.get(serial)).toMatchObject({
        status: 'revoked',
        revocationReason: 'keyCompromise',
      });
    expect((await service.store.certificates.get(b[0]!))?.status).toBe('good');
    const audit = (await service.store.audit.list({ event: 'certificate.revoked', limit: 10 })).items;
    expect(audit.map((e) => e.subject).sort()).toEqual(a.map((s) => `certificate:${s}`));
    expect(audit.every((e) => e.actor === 'cli:tester')).toBe(true);
    expect((await service.store.verifyAudit()).ok).toBe(true);

    // The service compares the revoked set with the store at most every 60 s.
    clock.advance(61_000);
    const crl = parseCrl(new Uint8Array((await service.app.inject({ url: '/api/v1/crl' })).rawPayload));
    const caCert = parseCertificate(decodePem(readFileSync(join(data, 'ca', 'ca.pem'), 'utf8'))[0]!.der);
    verifyCrl(crl, caCert);
    expect(crl.revoked.map((r) => r.serialHex).sort()).toEqual(a);
  });

  it('a second run finds nothing to do (exit 0): the revoked certificates are not listed again', async () => {
    const run = await cli('--data', data, '--revoke', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ evaluated: 1, skipped: 2, wouldReject: [], revoked: [] });
    expect((await service.store.audit.list({ event: 'certificate.revoked', limit: 10 })).items).toHaveLength(
      2,
    );
  });

  it('works on --db with --policy instead of a data directory', async () => {
    const run = await cli('--db', `sqlite:${join(data, 'provenance.db')}`, '--policy', m.denyPath);
    expect(run.code).toBe(0);
    expect(run.out).toContain('nothing to do');
  });

  it('exits 2 with USAGE for --data with --db, --db without --policy, an unknown reason or a bad limit', async () => {
    for (const args of [
      ['--data', data, '--db', 'sqlite::memory:'],
      ['--db', `sqlite:${join(data, 'provenance.db')}`],
      ['--data', data, '--reason', 'certificateHold'],
      ['--data', data, '--limit', '0'],
    ]) {
      const run = await cli(...args);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(/^error: USAGE: /);
    }
  });

  it('exits 2 with IO_ERROR for a folder that is not a data directory, and writes nothing there', async () => {
    const empty = join(cwd, 'not-data');
    mkdirSync(empty);
    const run = await cli('--data', empty);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^error: IO_ERROR: no config\.yaml/);
    expect(existsSync(join(empty, 'config.yaml'))).toBe(false);
    const missingDb = await cli('--db', `sqlite:${join(empty, 'none.db')}`, '--policy', m.denyPath);
    expect(missingDb.code).toBe(2);
    expect(existsSync(join(empty, 'none.db'))).toBe(false);
  });
});
