import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { buildCertificate } from '../../src/pki/builder.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { encodeName } from '../../src/pki/name.js';
import {
  ADMIN_TOKEN_FILE,
  type RunningService,
  type ServeOptions,
  startService,
} from '../../src/server/serve.js';
import { nodeTrustFolderFs, TrustFolder } from '../../src/trust/catalog/store.js';
import { runCli } from '../helpers/cli.js';
import { newKey } from '../verify/fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'provenance-serve-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

interface Started {
  readonly service: RunningService;
  readonly out: string;
  readonly err: string;
}

/** Start a service on an ephemeral loopback port in `cwd` (data directory `data`). */
async function start(cwd: string, options: Partial<ServeOptions> = {}): Promise<Started> {
  let out = '';
  let err = '';
  const service = await startService({
    data: 'data',
    listen: '127.0.0.1:0',
    env: {},
    clock: Date.now,
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    logger: pino({ level: 'silent' }) as never,
    cwd,
    ...options,
  });
  cleanups.push(() => service.close());
  return { service, out, err };
}

const mode = (path: string) => statSync(path).mode & 0o777;

async function events(service: RunningService): Promise<string[]> {
  const page = await service.store.audit.list({ limit: 100 });
  return page.items.map((e) => e.event).reverse();
}

describe('provenance serve: first and second start', () => {
  it('creates config, database, CA and admin token (secrets 0600), prints the token once; a second start reuses them', async () => {
    const cwd = tempDir();
    const first = await start(cwd);
    const data = join(cwd, 'data');
    expect(mode(data)).toBe(0o700);
    for (const f of [
      'config.yaml',
      'provenance.db',
      'ca/ca.pem',
      'ca/chain.pem',
      'ca/root.pem',
      'ca/ca.json',
    ])
      expect(statSync(join(data, f)).isFile()).toBe(true);
    for (const f of [ADMIN_TOKEN_FILE, 'provenance.db', 'ca/ca-key.pem', 'ca/root-key.pem'])
      expect(mode(join(data, f))).toBe(0o600);
    const token = readFileSync(join(data, ADMIN_TOKEN_FILE), 'utf8').trim();
    expect(token).toMatch(/^pvat_/);
    expect(first.out).toContain(token);
    expect(first.out).toContain(`${first.service.url}/docs`);
    expect(first.out).toContain(`${first.service.url}/metrics`);
    expect(first.err).toContain('NOT encrypted');
    expect(first.err).toContain('no policy');
    expect(await events(first.service)).toEqual([
      'ca.created',
      'token.created',
      'policy.loaded',
      'service.started',
    ]);
    const ca1 = readFileSync(join(data, 'ca/ca.pem'), 'utf8');
    await first.service.close();

    const second = await start(cwd);
    expect(second.out).not.toContain(token);
    expect(second.out).toContain(`Admin token: the bootstrap token is in ${join('data', ADMIN_TOKEN_FILE)}`);
    expect(readFileSync(join(data, ADMIN_TOKEN_FILE), 'utf8').trim()).toBe(token);
    expect(readFileSync(join(data, 'ca/ca.pem'), 'utf8')).toBe(ca1);
    const res = await fetch(`${second.service.url}/api/v1/admin/audit?event=token.created`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it('encrypts the CA keys with PROVENANCE_CA_PASSPHRASE, and a start without it is CA_KEY_LOCKED', async () => {
    const cwd = tempDir();
    const first = await start(cwd, { env: { PROVENANCE_CA_PASSPHRASE: 'correct horse' } });
    expect(readFileSync(join(cwd, 'data/ca/ca-key.pem'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
    expect(first.err).not.toContain('NOT encrypted');
    await first.service.close();
    await expect(start(cwd)).rejects.toMatchObject({ code: 'CA_KEY_LOCKED' });
    const again = await start(cwd, { env: { PROVENANCE_CA_PASSPHRASE: 'correct horse' } });
    expect((await fetch(`${again.service.url}/healthz`)).status).toBe(200);
  });

  it('without a policy the service runs but is not ready, and refuses enrollments (fail closed)', async () => {
    const { service } = await start(tempDir());
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { policy: string } }).checks.policy).toBe('not loaded');
  });
});

describe('provenance serve --demo', () => {
  it('prints next steps that work as printed: a token, a code, an enrollment', async () => {
    const cwd = tempDir();
    const { service, out } = await start(cwd, { demo: true });
    expect(out).toContain('policy     data/demo/policy.yaml');
    const steps = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('provenance '));
    expect(steps).toHaveLength(3);
    const previous = process.cwd();
    process.chdir(cwd);
    cleanups.push(() => process.chdir(previous));

    const token = await runCli(shellWords(steps[0]!).slice(1));
    expect(token.code, token.err).toBe(0);
    const code = await runCli(shellWords(steps[1]!).slice(1));
    expect(code.code, code.err).toBe(0);
    const enrollmentCode = /^\s+code\s+(\S+)$/m.exec(code.out)![1]!;
    const enroll = await runCli(shellWords(steps[2]!.replace('CODE_FROM_STEP_2', enrollmentCode)).slice(1));
    expect(enroll.code, enroll.err).toBe(0);
    expect(enroll.out).toContain('certificate issued');
    expect(enroll.out).toContain('accepted  by rule demo-line');
    const pem = readFileSync(join(cwd, 'my-cert.pem'), 'utf8');
    expect(new X509Certificate(pem).subject).toBe('CN=Demo Customer');
    expect(await service.store.certificates.count()).toBe(1);
    expect((await service.store.verifyAudit()).ok).toBe(true);
  });

  it('a second --demo start reuses the demo maker and policy', async () => {
    const cwd = tempDir();
    const first = await start(cwd, { demo: true });
    const root = readFileSync(join(cwd, 'data/demo/maker/maker-root/cert.pem'), 'utf8');
    const digest = first.service.policies.get()?.policy.digest;
    await first.service.close();
    const second = await start(cwd, { demo: true });
    expect(readFileSync(join(cwd, 'data/demo/maker/maker-root/cert.pem'), 'utf8')).toBe(root);
    expect(second.service.policies.get()?.policy.digest).toBe(digest);
  });
});

describe('listening', () => {
  it('refuses plain HTTP on a non-loopback address unless --insecure-listen', async () => {
    const cwd = tempDir();
    await expect(start(cwd, { listen: '0.0.0.0:0' })).rejects.toMatchObject({ code: 'USAGE' });
    const { service } = await start(cwd, { listen: '0.0.0.0:0', insecureListen: true });
    expect((await fetch(`http://127.0.0.1:${service.address.port}/healthz`)).status).toBe(200);
  });

  it('a taken port is LISTEN_FAILED naming the address; the CLI exits 2 with one line', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const cwd = tempDir();
    await expect(start(cwd, { listen: `127.0.0.1:${port}` })).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: expect.stringContaining(`127.0.0.1:${port} is already in use`),
    });
    const cli = await runCli(['serve', '--data', join(cwd, 'data'), '--listen', `127.0.0.1:${port}`], {
      env: { PROVENANCE_LOG_LEVEL: 'silent' },
    });
    expect(cli.code).toBe(2);
    expect(cli.err).toContain(`error: LISTEN_FAILED: 127.0.0.1:${port} is already in use`);
  });

  it('serves HTTPS with --tls-cert/--tls-key', async () => {
    const cwd = tempDir();
    const key = newKey();
    const name = encodeName('CN=localhost');
    const ip = der.seq(der.implicitPrimitive(7, new Uint8Array([127, 0, 0, 1])));
    const cert = buildCertificate({
      issuer: { name, signer: key.signer },
      subject: name,
      spki: key.signer.spki,
      notBefore: Date.now() - 60_000,
      notAfter: Date.now() + 86400_000,
      authorityKeyId: false,
      extensions: [{ oid: OID.subjectAltName, critical: false, value: ip }],
    });
    const certPem = encodePem('CERTIFICATE', cert);
    writeFileSync(join(cwd, 'tls.pem'), certPem);
    writeFileSync(join(cwd, 'tls-key.pem'), key.key.export({ type: 'pkcs8', format: 'pem' }));
    const { service } = await start(cwd, { tlsCert: 'tls.pem', tlsKey: 'tls-key.pem' });
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`${service.url}/healthz`, { ca: certPem }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(body)).toEqual({ status: 'ok' });
  });

  it('closes gracefully: the port is freed and the store closed; close is idempotent', async () => {
    const cwd = tempDir();
    const { service } = await start(cwd);
    const port = service.address.port;
    await Promise.all([service.close(), service.close()]);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(service.store.ping()).rejects.toBeDefined();
  });

  it('reloads the policy file (SIGHUP) and audits it; a broken file leaves the old policy', async () => {
    const cwd = tempDir();
    const { service } = await start(cwd, { demo: true });
    const demoDigest = service.policies.get()!.policy.digest;
    const policy = readFileSync(join(cwd, 'data/demo/policy.yaml'), 'utf8').replaceAll(
      './maker/',
      './demo/maker/',
    );
    writeFileSync(join(cwd, 'data/policy.yaml'), policy.replace('level: 1', 'level: 3'));
    const reloaded = await service.reloadPolicy();
    expect(reloaded?.digest).not.toBe(demoDigest);
    expect(service.policies.get()?.policy.digest).toBe(reloaded?.digest);
    await new Promise((r) => setImmediate(r));
    expect((await events(service)).filter((e) => e === 'policy.loaded')).toHaveLength(2);
    writeFileSync(join(cwd, 'data/policy.yaml'), 'version: 1\ntrust: [\n');
    await expect(service.reloadPolicy()).rejects.toMatchObject({ code: 'POLICY_INVALID' });
    expect(service.policies.get()?.policy.digest).toBe(reloaded?.digest);
  });
});

describe('provenance serve: anchors installed in the data directory', () => {
  it('resolves catalog: trust entries from <data>/trust (provenance trust add --dir data/trust)', async () => {
    const cwd = tempDir();
    const { service } = await start(cwd, { demo: true });
    const root = parseCertificate(
      decodePem(readFileSync(join(cwd, 'data/demo/maker/maker-root/cert.pem'), 'latin1'))[0]!.der,
    );
    new TrustFolder(join(cwd, 'data/trust'), nodeTrustFolderFs).add(root, {
      id: 'demo-maker-root',
      formats: ['provenance'],
      now: Date.now(),
    });
    writeFileSync(
      join(cwd, 'data/policy.yaml'),
      'version: 1\ntrust:\n  - id: demo\n    catalog: demo-maker-root\n',
    );
    const policy = await service.reloadPolicy();
    expect(policy?.anchors.map((a) => [a.id, a.spkiSha256])).toEqual([['demo', root.spkiSha256]]);
    writeFileSync(
      join(cwd, 'data/policy.yaml'),
      'version: 1\ntrust:\n  - id: x\n    catalog: not-installed\n',
    );
    await expect(service.reloadPolicy()).rejects.toMatchObject({ code: 'TRUST_NOT_INSTALLED' });
  });
});

/** Split a POSIX shell command line with single quotes (what the banner prints). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] !== undefined ? m[1].replaceAll("'\\''", "'") : m[2]!);
  return words;
}
