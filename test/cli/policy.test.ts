import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/core/clock.js';
import { runCli } from '../helpers/cli.js';
import { type Hierarchy, hierarchy, TempDir, writeHierarchy } from '../policy/fixtures.js';

let dir: TempDir;
let h: Hierarchy;

beforeAll(() => {
  dir = new TempDir();
  h = hierarchy();
  writeHierarchy(dir, h);
});
afterAll(() => dir.cleanup());

const run = (...args: string[]) => runCli(args, { clock: fixedClock(Date.UTC(2025, 0, 1)) });

const VALID = `version: 1
trust:
  - id: gemalto
    certificates: [./gemalto/root.pem]
allow:
  - id: gemalto-smartcards
    entry: ./smartcards/cert.pem
    level: 2
require:
  freshness: nonce
`;

describe('provenance policy check', () => {
  it('exits 0 for a valid policy and summarises anchors, rules, requirements, deny rules and the digest', async () => {
    const file = dir.write('valid.yaml', VALID);
    const { code, out, err } = await run('policy', 'check', file);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toContain(
      `gemalto  ${h.root.cert.subject.text}  sha256:${h.root.cert.spkiSha256}  formats: provenance`,
    );
    expect(out).toContain(
      `entry  ${h.productLine.cert.subject.text}  sha256:${h.productLine.cert.spkiSha256}`,
    );
    expect(out).toContain('requirements: freshness: nonce');
    expect(out).toContain('roca: yes');
    expect(out).toMatch(/digest sha256:[0-9a-f]{64}/);
    expect(out.trimEnd().split('\n').at(-1)).toBe(`valid: ${file}`);
  });

  it('prints the summary as JSON with --json', async () => {
    const file = dir.write('valid.yaml', VALID);
    const { code, out } = await run('policy', 'check', file, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({
      valid: true,
      version: 1,
      trust: [{ id: 'gemalto', spkiSha256: h.root.cert.spkiSha256, formats: ['provenance'] }],
      allow: [
        { id: 'gemalto-smartcards', level: 2, entries: [{ spkiSha256: h.productLine.cert.spkiSha256 }] },
      ],
      require: { freshness: 'nonce' },
      deny: { roca: true, weakKeys: true },
    });
    expect(json.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('exits 2 with one line naming file:line:column for an invalid policy', async () => {
    const file = dir.write('typo.yaml', VALID.replace('  freshness: nonce', '  freshnes: nonce'));
    const { code, out, err } = await run('policy', 'check', file);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(
      `error: POLICY_INVALID: ${file}:10:3: require.freshnes: unknown key "freshnes" (a misspelt key must not weaken a policy)\n`,
    );
  });

  it('with --json, also prints the error as JSON on stdout', async () => {
    const file = dir.write('missing-cert.yaml', VALID.replace('./smartcards/cert.pem', './nowhere.pem'));
    const { code, out, err } = await run('policy', 'check', file, '--json');
    expect(code).toBe(2);
    expect(JSON.parse(out)).toMatchObject({
      valid: false,
      error: { code: 'POLICY_INVALID', details: { line: 7, column: 12 } },
    });
    expect(err.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^error: POLICY_INVALID: .*:7:12: .*ENOENT/),
    ]);
  });

  it('exits 2 with IO_ERROR when the policy file does not exist', async () => {
    const { code, err } = await run('policy', 'check', `${dir.path}/absent.yaml`);
    expect(code).toBe(2);
    expect(err).toMatch(/^error: IO_ERROR: cannot read policy .*absent\.yaml: ENOENT\n$/);
  });
});

describe('provenance policy template', () => {
  it('lists the templates, and prints one that `policy check` parses once its roots are beside it', async () => {
    const list = await run('policy', 'template');
    expect(list.code).toBe(0);
    expect(list.out).toContain('yubikey-piv');
    const { code, out } = await run('policy', 'template', 'yubikey-piv');
    expect(code).toBe(0);
    expect(out).toContain('formats: [yubikey-piv]');
    expect(out).toContain('firmware: [">=4.2.6 <4.3.5"');
    // The roots it names must exist for the policy to load: without them it fails closed.
    const file = dir.write('yk-policy.yaml', out);
    const missing = await run('policy', 'check', file);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/POLICY_INVALID|IO_ERROR/);
  });

  it('an unknown template name is a usage error naming the known ones', async () => {
    const { code, err } = await run('policy', 'template', 'nope');
    expect(code).toBe(2);
    expect(err).toContain('USAGE');
    expect(err).toContain('yubikey-piv');
  });
});
