import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { OID } from '../../src/core/oids.js';
import { decodePem } from '../../src/core/pem.js';
import { decodeProvenanceKeyAttestation } from '../../src/formats/provenance/extension.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCsr, verifyCsrSignature } from '../../src/pki/csr.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { NOW, tempDirs } from '../maker/fixtures.js';

const PASSPHRASE = 'a long enough passphrase';
const NONCE = '00112233445566778899aabbccddeeff';
const dirs = tempDirs();
let base: string;

type Run = CliRun;

/** Run the CLI in-process with the maker passphrase and token PIN in the environment. */
function run(
  args: string[],
  options: { env?: Record<string, string>; ctx?: Partial<CliContext> } = {},
): Promise<Run> {
  return runCli(args, {
    env: { PROVENANCE_PASSPHRASE: PASSPHRASE, PROVENANCE_PIN: '24682468', ...options.env },
    clock: () => NOW,
    ...(options.ctx ? { ctx: options.ctx } : {}),
  });
}

function expectOk(r: Run): Run {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}`);
  return r;
}

/** Each certificate issued by the next, checked with Node's X509Certificate. */
function nodeChainVerifies(ders: readonly Uint8Array[]): boolean {
  const xs = ders.map((d) => new X509Certificate(d));
  return xs.every((x, i) => {
    const issuer = xs[i + 1] ?? x;
    return x.checkIssued(issuer) && x.verify(issuer.publicKey);
  });
}

let root: string;
let ca: string;
let batch: string;
let tokenFile: string;

beforeAll(async () => {
  base = await dirs.make('provenance-cli-');
  root = join(base, 'gemalto');
  ca = join(base, 'smartcards');
  batch = join(base, 'batch');
  tokenFile = join(base, 'card.token');
  expectOk(await run(['maker', 'init', root, '--name', 'Gemalto NV']));
  expectOk(await run(['maker', 'ca', ca, '--parent', root, '--name', 'Gemalto Smartcards']));
  expectOk(
    await run([
      'maker',
      'batch',
      batch,
      '--parent',
      ca,
      '--name',
      'Gemalto .NET Card 2026',
      '--batch-id',
      'B-2026-03',
    ]),
  );
  expectOk(
    await run([
      'maker',
      'token',
      tokenFile,
      '--parent',
      ca,
      '--model',
      'Gemalto .NET Card',
      '--serial',
      '0001',
    ]),
  );
  expectOk(await run(['token', 'keygen', tokenFile, '--label', 'signing']));
});
afterAll(() => dirs.cleanup());

describe('provenance maker (in-process)', () => {
  it('maker init prints where it wrote the root and the full SPKI hash to allow-list', async () => {
    const dir = join(base, 'other-root');
    const r = expectOk(await run(['maker', 'init', dir, '--name', 'Other Maker', '--alg', 'ed25519']));
    const cert = parseCertificate(decodePem(await readFile(join(dir, 'cert.pem'), 'utf8'))[0]!.der);
    expect(r.out).toContain(`root CA "Other Maker" written to ${dir}`);
    expect(r.out).toContain(`sha256:${cert.spkiSha256}`);
    expect(r.out).toContain('ed25519, encrypted');
    expect(r.err).toBe('');
  });

  it('maker ca writes chain.pem (the CA then the root) and maker.json', async () => {
    const chain = decodePem(await readFile(join(ca, 'chain.pem'), 'utf8')).map((b) => b.der);
    expect(chain).toHaveLength(2);
    expect(nodeChainVerifies(chain)).toBe(true);
    const record = JSON.parse(await readFile(join(ca, 'maker.json'), 'utf8'));
    expect(record).toMatchObject({
      kind: 'ca',
      name: 'Gemalto Smartcards',
      maker: 'Gemalto NV',
      alg: 'p256',
    });
  });

  it('asks for a new passphrase twice through the prompt when PROVENANCE_PASSPHRASE is unset', async () => {
    const asked: string[] = [];
    const prompt = async (q: string) => {
      asked.push(q);
      return PASSPHRASE;
    };
    const dir = join(base, 'prompted');
    expectOk(
      await run(['maker', 'init', dir, '--name', 'Prompted'], {
        env: { PROVENANCE_PASSPHRASE: '' },
        ctx: { prompt },
      }),
    );
    expect(asked).toHaveLength(2);
    const different = ['first passphrase', 'second passphrase'];
    const r = await run(['maker', 'init', join(base, 'mismatch'), '--name', 'X'], {
      env: { PROVENANCE_PASSPHRASE: '' },
      ctx: { prompt: async () => different.shift()! },
    });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: USAGE: the two passphrases differ/);
  });

  it('refuses to run without a passphrase or --no-passphrase when it cannot prompt (USAGE)', async () => {
    const r = await run(['maker', 'init', join(base, 'nopass'), '--name', 'X'], {
      env: { PROVENANCE_PASSPHRASE: '' },
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: USAGE:');
  });

  it('--no-passphrase writes an unencrypted key with a loud warning', async () => {
    const dir = join(base, 'plain');
    const r = expectOk(await run(['maker', 'init', dir, '--name', 'Plain', '--no-passphrase']));
    expect(r.err).toMatch(/warning: \*\*\* .*key\.pem will NOT be encrypted/);
    expect(await readFile(join(dir, 'key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('reports a wrong passphrase as MAKER_KEY_LOCKED with exit code 2 and one line', async () => {
    const r = await run(['maker', 'ca', join(base, 'locked'), '--parent', root, '--name', 'X'], {
      env: { PROVENANCE_PASSPHRASE: 'the wrong passphrase' },
    });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: MAKER_KEY_LOCKED: .*\n$/);
    expect(r.err.split('\n')).toHaveLength(2);
  });

  it('refuses to overwrite an existing maker directory without --force (USAGE)', async () => {
    const r = await run(['maker', 'init', root, '--name', 'Again']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: USAGE:');
    expect(r.err).toContain('--force');
  });

  it('refuses a child of a pathLen-0 CA (USAGE)', async () => {
    const shallow = join(base, 'shallow');
    expectOk(await run(['maker', 'init', shallow, '--name', 'Shallow', '--path-len', '1']));
    const line = join(base, 'shallow-line');
    expectOk(await run(['maker', 'ca', line, '--parent', shallow, '--name', 'Line']));
    const r = await run([
      'maker',
      'token',
      join(base, 'deep.token'),
      '--parent',
      line,
      '--model',
      'M',
      '--serial',
      '1',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error: USAGE: .*pathLen 0/);
  });

  it('rejects an unknown --alg (exit 2)', async () => {
    const r = await run(['maker', 'init', join(base, 'bad-alg'), '--name', 'X', '--alg', 'dsa']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('dsa');
  });

  it('maker token needs --parent or --batch (USAGE)', async () => {
    const r = await run(['maker', 'token', join(base, 'none.token'), '--model', 'M', '--serial', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: USAGE:');
  });

  it('maker token warns when it falls back to the default PIN 123456', async () => {
    const file = join(base, 'default-pin.token');
    const r = expectOk(
      await run(
        ['maker', 'token', file, '--batch', batch, '--model', 'Gemalto .NET Card', '--serial', '0099'],
        {
          env: { PROVENANCE_PIN: '' },
        },
      ),
    );
    expect(r.err).toContain('warning: no PIN given');
    expect(r.out).toContain('attestation batch');
    expectOk(await run(['token', 'keygen', file, '--label', 'k', '--pin', '123456']));
  });
});

describe('provenance token (in-process)', () => {
  it('token list shows the token and its keys without a PIN, and --json gives full hashes', async () => {
    const human = expectOk(await run(['token', 'list', tokenFile], { env: { PROVENANCE_PIN: '' } }));
    expect(human.out).toContain('Gemalto .NET Card, serial 0001');
    expect(human.out).toMatch(/signing {2}p256 {2}PIN once {2}touch never {2}sha256:[0-9a-f]{16}…/);
    expect(human.err).toBe('');
    const json = JSON.parse(expectOk(await run(['token', 'list', tokenFile, '--json'])).out);
    expect(json.token).toMatchObject({
      model: 'Gemalto .NET Card',
      serial: '0001',
      attestation: 'per-token',
      maker: 'Gemalto NV',
    });
    expect(json.keys[0]).toMatchObject({ label: 'signing', algorithm: 'p256', pinPolicy: 'once' });
    expect(json.keys[0].spkiSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('token attest prints a PEM bundle: certificate of provenance, then the chain to the root', async () => {
    const r = expectOk(await run(['token', 'attest', tokenFile, '--label', 'signing', '--nonce', NONCE]));
    const ders = decodePem(r.out).map((b) => b.der);
    expect(ders).toHaveLength(4);
    expect(nodeChainVerifies(ders)).toBe(true);
    const claims = decodeProvenanceKeyAttestation(
      parseCertificate(ders[0]!).extension(OID.provenanceKeyAttestation)!.value,
    );
    expect(Buffer.from(claims.nonce!).toString('hex')).toBe(NONCE);
    expect(claims.token?.serial).toBe('0001');
    expect(r.err).toContain('attested key "signing"');
  });

  it('token attest -o writes the bundle to a file', async () => {
    const out = join(base, 'attestation.pem');
    const r = expectOk(
      await run(['token', 'attest', tokenFile, '--label', 'signing', '--nonce', NONCE, '-o', out]),
    );
    expect(r.out).toBe('');
    expect(decodePem(await readFile(out, 'utf8'))).toHaveLength(4);
  });

  it('token csr prints a PEM CSR signed by the key, with the attestation and the nonce', async () => {
    const r = expectOk(
      await run([
        'token',
        'csr',
        tokenFile,
        '--label',
        'signing',
        '--nonce',
        NONCE,
        '--subject',
        'CN=Alice,O=Example Bank',
      ]),
    );
    const [block] = decodePem(r.out);
    expect(block!.label).toBe('CERTIFICATE REQUEST');
    const csr = parseCsr(block!.der);
    verifyCsrSignature(csr);
    expect(csr.subject.text).toBe('CN=Alice,O=Example Bank');
    expect(Buffer.from(csr.nonce!).toString('hex')).toBe(NONCE);
    expect(csr.attestation!.statements[0]!.type).toBe(OID.provenanceStatementType);
  });

  it('batch tokens attest without the unit serial', async () => {
    const file = join(base, 'batch.token');
    expectOk(
      await run([
        'maker',
        'token',
        file,
        '--batch',
        batch,
        '--parent',
        ca,
        '--model',
        'Gemalto .NET Card',
        '--serial',
        '7777',
      ]),
    );
    expectOk(await run(['token', 'keygen', file, '--label', 'k', '--alg', 'ed25519']));
    const r = expectOk(await run(['token', 'attest', file, '--label', 'k', '--nonce', NONCE]));
    const ders = decodePem(r.out).map((b) => b.der);
    const claims = decodeProvenanceKeyAttestation(
      parseCertificate(ders[0]!).extension(OID.provenanceKeyAttestation)!.value,
    );
    expect(claims.token).toEqual({ model: 'Gemalto .NET Card', firmware: '1.0.0' });
    expect(parseCertificate(ders[1]!).subject.text).toContain('B-2026-03');
  });

  it('rejects a nonce that is not hex or not 8..64 bytes (USAGE)', async () => {
    for (const nonce of ['xyz', '0011', 'ab'.repeat(65)]) {
      const r = await run(['token', 'attest', tokenFile, '--label', 'signing', '--nonce', nonce]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('error: USAGE:');
    }
  });

  it('reports a wrong PIN with the tries left, and the right PIN resets the counter', async () => {
    const r = await run([
      'token',
      'attest',
      tokenFile,
      '--label',
      'signing',
      '--nonce',
      NONCE,
      '--pin',
      '999999',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: TOKEN_PIN_INCORRECT: wrong PIN: 7 tries left/);
    const list = JSON.parse(expectOk(await run(['token', 'list', tokenFile, '--json'])).out);
    expect(list.token.pinRetriesLeft).toBe(7);
    expectOk(await run(['token', 'attest', tokenFile, '--label', 'signing', '--nonce', NONCE]));
    expect(
      JSON.parse(expectOk(await run(['token', 'list', tokenFile, '--json'])).out).token.pinRetriesLeft,
    ).toBe(8);
  });

  it('refuses a duplicate label (TOKEN_KEY_EXISTS) and an unknown one (TOKEN_KEY_NOT_FOUND)', async () => {
    const dup = await run(['token', 'keygen', tokenFile, '--label', 'signing']);
    expect(dup.err).toMatch(/^error: TOKEN_KEY_EXISTS/);
    const missing = await run(['token', 'attest', tokenFile, '--label', 'nobody', '--nonce', NONCE]);
    expect(missing.err).toMatch(/^error: TOKEN_KEY_NOT_FOUND/);
  });

  it('needs a touch for touch-always keys: denied without a way to ask, allowed when confirmed', async () => {
    expectOk(await run(['token', 'keygen', tokenFile, '--label', 'touchy', '--touch-policy', 'always']));
    const args = ['token', 'csr', tokenFile, '--label', 'touchy', '--nonce', NONCE, '--subject', 'CN=Bob'];
    const denied = await run(args);
    expect(denied.code).toBe(2);
    expect(denied.err).toMatch(/^error: TOKEN_USER_PRESENCE_DENIED/);
    const refused = await run(args, { ctx: { confirmTouch: async () => false } });
    expect(refused.err).toMatch(/^error: TOKEN_USER_PRESENCE_DENIED/);
    expectOk(await run(args, { ctx: { confirmTouch: async () => true } }));
  });

  it('reports a missing token file as IO_ERROR and a non-token file as TOKEN_FILE_INVALID', async () => {
    const missing = await run(['token', 'list', join(base, 'absent.token')]);
    expect(missing.err).toMatch(/^error: IO_ERROR/);
    const notToken = await run(['token', 'list', join(root, 'maker.json')]);
    expect(notToken.err).toMatch(/^error: TOKEN_FILE_INVALID/);
  });
});

// --- through the real launcher ---------------------------------------------------------------

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const launcher = join(repoRoot, 'bin', 'provenance.js');
const exec = promisify(execFile);

async function runProcess(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [launcher, ...args], {
      env: { ...process.env, PROVENANCE_PASSPHRASE: PASSPHRASE, PROVENANCE_PIN: '13571357', ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

describe('provenance maker and token (bin/provenance.js process)', () => {
  beforeAll(async () => {
    // The launcher runs the compiled CLI: build it (type errors elsewhere do not stop emitting).
    await exec(
      process.execPath,
      [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: repoRoot,
        timeout: 180_000,
      },
    ).catch((err: { stdout?: string }) => {
      if (!existsSync(join(repoRoot, 'dist', 'src', 'cli', 'main.js'))) throw err;
    });
  }, 200_000);

  it('makes a root, personalises a token, makes a key and attests it; errors exit 2 with one line', async () => {
    const dir = join(base, 'process');
    const r1 = await runProcess(['maker', 'init', join(dir, 'root'), '--name', 'Process Maker']);
    expect(r1.err).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.out).toContain('root CA "Process Maker"');
    const file = join(dir, 'p.token');
    expect(
      (
        await runProcess([
          'maker',
          'token',
          file,
          '--parent',
          join(dir, 'root'),
          '--model',
          'Proc',
          '--serial',
          '42',
        ])
      ).code,
    ).toBe(0);
    expect((await runProcess(['token', 'keygen', file, '--label', 'k'])).code).toBe(0);
    const attest = await runProcess(['token', 'attest', file, '--label', 'k', '--nonce', NONCE]);
    expect(attest.code).toBe(0);
    expect(nodeChainVerifies(decodePem(attest.out).map((b) => b.der))).toBe(true);
    const bad = await runProcess([
      'token',
      'attest',
      file,
      '--label',
      'k',
      '--nonce',
      NONCE,
      '--pin',
      '000000',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: TOKEN_PIN_INCORRECT: wrong PIN: 7 tries left\n$/);
  });
});
