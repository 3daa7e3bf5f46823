import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScopes, parseTtl } from '../../src/cli/admin.js';
import { chainFileFor } from '../../src/cli/enroll.js';
import { decodePem } from '../../src/core/pem.js';
import { personaliseToken } from '../../src/maker/personalise.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { ALL_SCOPES } from '../../src/store/types.js';
import { runCli } from '../helpers/cli.js';
import { type Hierarchy, makeHierarchy, makerIo, tempDirs } from '../maker/fixtures.js';
import { ADMIN_TOKEN, type FakeService, fakeService } from './fake-service.js';

const PIN = '24682468';
const dirs = tempDirs();
let base: string;
let h: Hierarchy;
let fake: FakeService;
let server: { url: string; close(): Promise<void> };
let tokens = 0;

beforeAll(async () => {
  base = await dirs.make('provenance-client-cli-');
  h = await makeHierarchy(base);
  fake = fakeService();
  server = await fake.listen();
});
afterAll(async () => {
  await server.close();
  await dirs.cleanup();
});

/** A token the CLI can open (production scrypt cost: the CLI does not lower the floor). */
async function cliToken(): Promise<string> {
  tokens += 1;
  const file = join(base, `cli-${tokens}.token`);
  await personaliseToken(
    file,
    { parent: h.caAuthority, model: 'Gemalto .NET Card', serial: `C${tokens}`, pin: PIN },
    makerIo(),
  );
  return file;
}

function run(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { PROVENANCE_PIN: PIN, ...env } });
}

describe('provenance enroll', () => {
  it('enrolls, writes the certificate and the chain, and prints subject, serial, validity, rule and level', async () => {
    const token = await cliToken();
    const code = fake.addCode('CN=Alice,O=Acme');
    const out = join(base, 'alice.pem');
    const r = await run([
      'enroll',
      '--server',
      server.url,
      '--code',
      code,
      '--token',
      token,
      '--label',
      'sig',
      '-o',
      out,
    ]);
    expect(r.err).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/certificate issued for key "sig" \(p256/);
    expect(r.out).toMatch(/subject +CN=Alice,O=Acme/);
    expect(r.out).toMatch(/serial +[0-9a-f]+/);
    expect(r.out).toMatch(/valid +\d{4}-\d\d-\d\dT.* to /);
    expect(r.out).toMatch(/accepted +by rule gemalto-cards, assurance level 2/);
    const cert = parseCertificate(decodePem(await readFile(out, 'utf8'))[0]!.der);
    expect(cert.subject.text).toBe('CN=Alice,O=Acme');
    const chain = decodePem(await readFile(join(base, 'alice.chain.pem'), 'utf8'));
    expect(chain).toHaveLength(2);
    expect(r.err).toMatch(/made a new p256 key "sig"/);
  });

  it('prints JSON with --json', async () => {
    const token = await cliToken();
    const out = join(base, 'json.pem');
    const r = await run([
      'enroll',
      '--server',
      server.url,
      '--code',
      fake.addCode('CN=Json'),
      '--token',
      token,
      '--label',
      'k',
      '-o',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({
      issued: true,
      key: { label: 'k', algorithm: 'p256', created: true },
      certificate: { subject: 'CN=Json', file: out, chainFile: join(base, 'json.chain.pem') },
      matchedRule: 'gemalto-cards',
      level: 2,
    });
  });

  it('takes the code from PROVENANCE_ENROLLMENT_CODE and the server from PROVENANCE_SERVER', async () => {
    const token = await cliToken();
    const r = await run(['enroll', '--token', token, '--label', 'env', '-o', join(base, 'env.pem')], {
      PROVENANCE_ENROLLMENT_CODE: fake.addCode('CN=Env'),
      PROVENANCE_SERVER: server.url,
    });
    expect(r.code).toBe(0);
  });

  it('refuses to overwrite an existing file before spending the code', async () => {
    const token = await cliToken();
    const out = join(base, 'exists.pem');
    await writeFile(out, 'keep me');
    const before = fake.requests.length;
    const r = await run([
      'enroll',
      '--server',
      server.url,
      '--code',
      fake.addCode('CN=X'),
      '--token',
      token,
      '-o',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exists.*--force/);
    expect(fake.requests.length).toBe(before);
    expect(await readFile(out, 'utf8')).toBe('keep me');
  });

  it('refuses an output folder that does not exist before spending the code', async () => {
    const token = await cliToken();
    const before = fake.requests.length;
    const r = await run([
      'enroll',
      '--server',
      server.url,
      '--code',
      fake.addCode('CN=Nowhere'),
      '--token',
      token,
      '-o',
      join(base, 'no-such-folder', 'cert.pem'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/IO_ERROR: cannot write .*cert\.pem/);
    expect(fake.requests.length).toBe(before);
  });

  it('exits 1 on a refusal with the code, the reason, the chain and what to do', async () => {
    const token = await cliToken();
    fake.knobs.refuse = {
      code: 'POLICY_NO_MATCH',
      status: 403,
      detail: 'no allow rule matches the validated path',
      verdict: {
        accepted: false,
        code: 'POLICY_NO_MATCH',
        claims: null,
        path: [
          { role: 'attested-key', spkiSha256: 'aa'.repeat(32), subject: null },
          { role: 'anchor', spkiSha256: 'bb'.repeat(32), subject: 'CN=Other Maker' },
        ],
      },
    };
    try {
      const out = join(base, 'refused.pem');
      const r = await run([
        'enroll',
        '--server',
        server.url,
        '--code',
        fake.addCode('CN=Y'),
        '--token',
        token,
        '-o',
        out,
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/enrollment refused: POLICY_NO_MATCH: no allow rule matches the validated path/);
      expect(r.err).toMatch(/chain +\[new key\] → Other Maker/);
      expect(r.err).toMatch(/what to do +this token model is not accepted by the institution/);
      expect(existsSync(out)).toBe(false);

      const j = await run([
        'enroll',
        '--server',
        server.url,
        '--code',
        fake.addCode('CN=Y'),
        '--token',
        token,
        '-o',
        out,
        '--json',
      ]);
      expect(j.code).toBe(1);
      expect(JSON.parse(j.out)).toMatchObject({
        issued: false,
        code: 'POLICY_NO_MATCH',
        verdict: { accepted: false },
      });
    } finally {
      fake.knobs.refuse = undefined;
    }
  });

  it('tells the customer to ask for a new code when the code was used', async () => {
    const token = await cliToken();
    const code = fake.addCode('CN=Once');
    expect(
      (
        await run([
          'enroll',
          '--server',
          server.url,
          '--code',
          code,
          '--token',
          token,
          '-o',
          join(base, 'once.pem'),
        ])
      ).code,
    ).toBe(0);
    const again = await run([
      'enroll',
      '--server',
      server.url,
      '--code',
      code,
      '--token',
      token,
      '-o',
      join(base, 'twice.pem'),
    ]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/ENROLLMENT_CODE_USED/);
    expect(again.err).toMatch(/ask the institution for a new enrollment code/);
  });

  it('exits 2 with a hint when the service cannot be reached', async () => {
    const token = await cliToken();
    const r = await run([
      'enroll',
      '--server',
      'http://127.0.0.1:9',
      '--code',
      fake.addCode('CN=Z'),
      '--token',
      token,
      '-o',
      join(base, 'unreachable.pem'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/SERVER_UNREACHABLE/);
    expect(r.err).toMatch(/what to do +check the --server URL/);
  });

  it('exits 2 for usage errors: no code, no server, plain http off loopback', async () => {
    const token = await cliToken();
    const noCode = await run(['enroll', '--server', server.url, '--token', token]);
    expect(noCode.code).toBe(2);
    expect(noCode.err).toMatch(/USAGE: no enrollment code/);
    const noServer = await run(['enroll', '--code', 'x'.repeat(32), '--token', token]);
    expect(noServer.err).toMatch(/USAGE: no service URL/);
    const insecure = await run([
      'enroll',
      '--server',
      'http://pki.example.com',
      '--code',
      'x'.repeat(32),
      '--token',
      token,
    ]);
    expect(insecure.code).toBe(2);
    expect(insecure.err).toMatch(/plain HTTP/);
  });

  it('names the chain file after the certificate file', () => {
    expect(chainFileFor('signing.pem')).toBe('signing.chain.pem');
    expect(chainFileFor('out/cert')).toBe('out/cert.chain.pem');
  });
});

describe('provenance admin', () => {
  let tokenFile: string;
  beforeAll(async () => {
    tokenFile = join(base, 'admin-token');
    await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  });

  it('creates an enrollment code and shows how the customer uses it', async () => {
    const r = await run([
      'admin',
      'code',
      'create',
      '--server',
      server.url,
      '--customer',
      'acme',
      '--subject',
      'CN=Alice,O=Acme',
      '--ttl',
      '2d',
      '--admin-token-file',
      tokenFile,
    ]);
    expect(r.code).toBe(0);
    const code = /^ {2}code +(\S+)$/m.exec(r.out)![1]!;
    expect(fake.codes.get(code)?.subject).toBe('CN=Alice,O=Acme');
    expect(r.out).toContain(`provenance enroll --server ${server.url} --code ${code} --token TOKEN_FILE`);
    expect(fake.requests.at(-1)!.body).toMatchObject({
      customer: 'acme',
      subject: 'CN=Alice,O=Acme',
      ttl: 172800,
    });
  });

  it('takes the admin token from PROVENANCE_ADMIN_TOKEN and prints JSON', async () => {
    const r = await run(
      ['admin', 'code', 'create', '--server', server.url, '--customer', 'c', '--subject', 'CN=C', '--json'],
      { PROVENANCE_ADMIN_TOKEN: ADMIN_TOKEN },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ customer: 'c', subject: 'CN=C', profile: 'default' });
  });

  it('exits 1 with the code when the service refuses (unknown profile, unknown token)', async () => {
    const profile = await run(
      [
        'admin',
        'code',
        'create',
        '--server',
        server.url,
        '--customer',
        'c',
        '--subject',
        'CN=C',
        '--profile',
        'nope',
      ],
      { PROVENANCE_ADMIN_TOKEN: ADMIN_TOKEN },
    );
    expect(profile.code).toBe(1);
    expect(profile.err).toMatch(/refused: PROFILE_UNKNOWN/);
    const bad = await run(
      ['admin', 'code', 'create', '--server', server.url, '--customer', 'c', '--subject', 'CN=C'],
      {
        PROVENANCE_ADMIN_TOKEN: `pvat_${'Z'.repeat(43)}`,
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/AUTH_INVALID/);
  });

  it('exits 2 without an admin token, or with a bad --ttl, before calling the service', async () => {
    const before = fake.requests.length;
    const none = await run([
      'admin',
      'code',
      'create',
      '--server',
      server.url,
      '--customer',
      'c',
      '--subject',
      'CN=C',
    ]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no admin token/);
    const ttl = await run(
      [
        'admin',
        'code',
        'create',
        '--server',
        server.url,
        '--customer',
        'c',
        '--subject',
        'CN=C',
        '--ttl',
        'soon',
      ],
      { PROVENANCE_ADMIN_TOKEN: ADMIN_TOKEN },
    );
    expect(ttl.code).toBe(2);
    expect(ttl.err).toMatch(/--ttl must be a duration/);
    expect(fake.requests.length).toBe(before);
  });

  it('warns when the admin token file is readable by others', async () => {
    const loose = join(base, 'loose-token');
    await writeFile(loose, ADMIN_TOKEN);
    await chmod(loose, 0o644);
    const r = await run([
      'admin',
      'code',
      'create',
      '--server',
      server.url,
      '--customer',
      'c',
      '--subject',
      'CN=C',
      '--admin-token-file',
      loose,
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/readable by other users/);
  });

  it('creates an admin token with scopes', async () => {
    const r = await run(
      [
        'admin',
        'token',
        'create',
        '--server',
        server.url,
        '--name',
        'crm',
        '--scopes',
        'codes:write,codes:read',
      ],
      { PROVENANCE_ADMIN_TOKEN: ADMIN_TOKEN },
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/token +pvat_/);
    expect(fake.requests.at(-1)!.body).toEqual({ name: 'crm', scopes: ['codes:write', 'codes:read'] });
    const unknown = await run(
      ['admin', 'token', 'create', '--server', server.url, '--name', 'x', '--scopes', 'codes:write,root'],
      { PROVENANCE_ADMIN_TOKEN: ADMIN_TOKEN },
    );
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown scope\(s\) root/);
  });

  it('revokes a certificate by serial', async () => {
    const token = await cliToken();
    const e = await run([
      'enroll',
      '--server',
      server.url,
      '--code',
      fake.addCode('CN=Rev'),
      '--token',
      token,
      '-o',
      join(base, 'rev.pem'),
      '--json',
    ]);
    const serial = JSON.parse(e.out).certificate.serial as string;
    const r = await run(
      ['admin', 'cert', 'revoke', serial, '--reason', 'keyCompromise', '--server', server.url],
      {
        PROVENANCE_ADMIN_TOKEN: ADMIN_TOKEN,
      },
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/revoked \(keyCompromise\)/);
    const missing = await run(['admin', 'cert', 'revoke', 'abcdef', '--server', server.url], {
      PROVENANCE_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/NOT_FOUND/);
  });

  it('parses durations and scopes', () => {
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('12h')).toBe(43200);
    expect(parseTtl('7d')).toBe(604800);
    expect(parseTtl('2w')).toBe(1209600);
    for (const bad of ['0', '7x', '-1d', '1.5h', ''])
      expect(() => parseTtl(bad)).toThrowError(expect.objectContaining({ code: 'USAGE' }));
    expect(parseScopes('all')).toEqual([...ALL_SCOPES]);
    expect(parseScopes('codes:read, codes:read')).toEqual(['codes:read']);
  });
});
