/**
 * The service behind its own TLS certificate from a private CA: the CLI reaches it with
 * `--ca-cert`, and without it refuses to send the code (the certificate is not trusted).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePem } from '../../src/core/pem.js';
import { runCli } from '../helpers/cli.js';
import { ecKey, ipName, issue } from '../helpers/pki.js';
import { tempDirs } from '../maker/fixtures.js';
import { type E2eService, startE2eService, testConfig } from './service.js';

const PIN = '97531864';
const dirs = tempDirs();
let s: E2eService;
let dir: string;
let caFile: string;

beforeAll(async () => {
  dir = await dirs.make('provenance-e2e-tls-');
  const root = issue({ subject: 'Example Bank TLS Root', key: ecKey(), ca: {} });
  const key = ecKey();
  const leaf = issue({
    subject: '127.0.0.1',
    key,
    issuer: root,
    notCa: true,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['1.3.6.1.5.5.7.3.1'],
    subjectAltName: [ipName([127, 0, 0, 1])],
  });
  await mkdir(join(dir, 'tls'));
  await writeFile(join(dir, 'tls', 'cert.pem'), encodePem('CERTIFICATE', leaf.der));
  await writeFile(join(dir, 'tls', 'key.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  caFile = join(dir, 'tls-root.pem');
  await writeFile(caFile, encodePem('CERTIFICATE', root.der));
  s = await startE2eService(dir, {
    config: `${testConfig()}tls: { cert: ./tls/cert.pem, key: ./tls/key.pem }\n`,
  });
});
afterAll(async () => {
  await s?.close();
  await dirs.cleanup();
});

function cli(args: string[]) {
  return runCli(args, { env: { PROVENANCE_PIN: PIN } });
}

describe('a service with a TLS certificate from a private CA', () => {
  it('serves https', () => {
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses to talk without --ca-cert, with a hint, before anything is spent', async () => {
    const r = await cli([
      'admin',
      'code',
      'create',
      '--server',
      s.url,
      '--admin-token-file',
      s.adminTokenFile,
      '--customer',
      'tls',
      '--subject',
      'CN=TLS',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/SERVER_UNREACHABLE/);
    expect(r.err).toMatch(/--ca-cert/);
  });

  it('makes a code and enrolls through --ca-cert', async () => {
    const made = await cli([
      'admin',
      'code',
      'create',
      '--server',
      s.url,
      '--ca-cert',
      caFile,
      '--admin-token-file',
      s.adminTokenFile,
      '--customer',
      'tls',
      '--subject',
      'CN=Over TLS',
      '--json',
    ]);
    expect(made.code).toBe(0);
    const token = join(dir, 'tls.token');
    expect(
      (
        await cli([
          'maker',
          'token',
          token,
          '--parent',
          s.line,
          '--model',
          'Demo Token',
          '--serial',
          'T1',
          '--pin',
          PIN,
        ])
      ).code,
    ).toBe(0);
    const r = await cli([
      'enroll',
      '--server',
      s.url,
      '--ca-cert',
      caFile,
      '--code',
      JSON.parse(made.out).code,
      '--token',
      token,
      '-o',
      join(dir, 'tls.pem'),
    ]);
    expect(r.err).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/subject +CN=Over TLS/);
  });
});
