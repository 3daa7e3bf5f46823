import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { encodePem } from '../../src/core/pem.js';
import { runCli } from '../helpers/cli.js';
import { bundle, csr, NONCE, NOW, nativeHierarchy } from '../verify/fixtures.js';

const h = nativeHierarchy();
let dir: string;
const f = (name: string) => join(dir, name);
const nonce = toHex(NONCE);
const run = (args: string[]) => runCli(args, { clock: () => NOW });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'provenance-verify-'));
  writeFileSync(f('root.pem'), encodePem('CERTIFICATE', h.root.der));
  writeFileSync(f('line.pem'), encodePem('CERTIFICATE', h.line.der));
  writeFileSync(f('model.pem'), encodePem('CERTIFICATE', h.model.der));
  writeFileSync(f('bundle.pem'), bundle(h));
  writeFileSync(f('req.csr'), csr(h));
  writeFileSync(f('garbage.pem'), 'not evidence at all');
  writeFileSync(
    f('policy.yaml'),
    'version: 1\ntrust:\n  - id: gemalto\n    certificates: [./root.pem]\nallow:\n  - id: smartcards\n    entry: ./line.pem\nrequire:\n  freshness: nonce\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('provenance verify', () => {
  it('accepts, draws the chain from the new key to the anchor and marks the matched entry', async () => {
    const r = await run([
      'verify',
      f('req.csr'),
      '--trust',
      f('root.pem'),
      '--allow',
      f('line.pem'),
      '--nonce',
      nonce,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      '[new key] → [per-token] → Gemalto .NET Card → Gemalto Smartcards ✓ → Gemalto NV',
    );
    expect(r.out).toMatch(/^ACCEPT/m);
    expect(r.out).toContain('generated on device  yes');
  });

  it('prints the verdict as JSON with --json', async () => {
    const r = await run([
      'verify',
      f('bundle.pem'),
      '--policy',
      f('policy.yaml'),
      '--nonce',
      nonce,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out);
    expect(v).toMatchObject({
      accepted: true,
      code: 'ACCEPTED',
      format: 'provenance',
      matchedRule: 'smartcards',
    });
    expect(v.path).toHaveLength(5);
    for (const e of v.path) {
      expect(e).toHaveProperty('role');
      expect(e).toHaveProperty('subject');
      expect(e.spkiSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(v.claims.model).toBe('Gemalto .NET Card');
    expect(v.findings.length).toBeGreaterThan(3);
  });

  it('allows by key hash as well as by certificate', async () => {
    const r = await run([
      'verify',
      f('bundle.pem'),
      '--trust',
      f('root.pem'),
      '--allow',
      `sha256:${h.model.cert.spkiSha256}`,
      '--nonce',
      nonce,
    ]);
    expect(r.code).toBe(0);
  });

  it('exits 1 with REJECT and the reason for a wrong nonce', async () => {
    const r = await run([
      'verify',
      f('req.csr'),
      '--policy',
      f('policy.yaml'),
      '--nonce',
      'ffffffffffffffffffffffffffffffff',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^REJECT {2}NONCE_MISMATCH/m);
  });

  it('exits 1 when the allow-list does not match, with JSON still on stdout', async () => {
    const r = await run([
      'verify',
      f('bundle.pem'),
      '--trust',
      f('root.pem'),
      '--allow',
      `sha256:${'0'.repeat(64)}`,
      '--nonce',
      nonce,
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).code).toBe('POLICY_NO_MATCH');
  });

  it('verifies at a pinned time with --at', async () => {
    const r = await run([
      'verify',
      f('bundle.pem'),
      '--trust',
      f('root.pem'),
      '--nonce',
      nonce,
      '--at',
      '2090-01-01T00:00:00Z',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({
      code: 'PATH_CERT_EXPIRED',
      evaluatedAt: '2090-01-01T00:00:00.000Z',
    });
  });

  it.each([
    ['no anchors at all', ['verify', 'x.pem'], 'USAGE'],
    ['--policy with --trust', ['verify', 'x.pem', '--policy', 'p.yaml', '--trust', 'r.pem'], 'USAGE'],
    ['a missing evidence file', ['verify', 'missing.pem', '--trust', 'root.pem'], 'IO_ERROR'],
    ['a short nonce', ['verify', 'bundle.pem', '--trust', 'root.pem', '--nonce', '0011'], 'USAGE'],
    [
      'a nonce that is not hex',
      ['verify', 'bundle.pem', '--trust', 'root.pem', '--nonce', 'zz'.repeat(8)],
      'USAGE',
    ],
    ['a bad --at', ['verify', 'bundle.pem', '--trust', 'root.pem', '--at', 'yesterday'], 'USAGE'],
    ['evidence that is not evidence', ['verify', 'garbage.pem', '--trust', 'root.pem'], 'INPUT_UNRECOGNIZED'],
  ])('exits 2 with one line naming the code for %s', async (_what, args, code) => {
    const r = await run(args.map((a) => (a.endsWith('.pem') || a.endsWith('.yaml') ? f(a) : a)));
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^error: ${code}: `));
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('prints a stack trace only with --debug', async () => {
    const r = await run(['verify', f('missing.pem'), '--trust', f('root.pem'), '--debug']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\n\s+at /);
  });
});

describe('provenance demo', () => {
  it('runs the seed story and every step ends as expected', async () => {
    const r = await runCli(['demo']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Every step ended as expected.');
    for (const expected of ['NONCE_MISMATCH', 'POLICY_NO_MATCH', 'NONCE_MISSING'])
      expect(r.out).toContain(expected);
    expect(r.out.match(/^\s+ACCEPT/gm)?.length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
