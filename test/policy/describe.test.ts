import { beforeAll, describe, expect, it } from 'vitest';
import { describePolicy, policySummary } from '../../src/policy/describe.js';
import { policyFromOptions } from '../../src/policy/from-options.js';
import { parsePolicy } from '../../src/policy/load.js';
import { type Hierarchy, hierarchy } from './fixtures.js';

let h: Hierarchy;
beforeAll(() => {
  h = hierarchy();
});

function policy(yaml: string) {
  const files: Record<string, string> = { '/p/root.pem': h.root.pem, '/p/line.pem': h.productLine.pem };
  return parsePolicy(yaml, {
    source: 'policy.yaml',
    baseDir: '/p',
    readFile: (p) => new TextEncoder().encode(files[p] ?? ''),
  });
}

const FULL = `version: 1
trust:
  - { id: gemalto, certificates: [root.pem], formats: [provenance, yubikey-piv] }
allow:
  - id: gemalto-smartcards
    description: every Gemalto smart card
    entry: line.pem
    level: 2
    require: { userPresence: [always, cached] }
require: { freshness: nonce, securityLevel: tee, minRsaBits: 2048 }
deny:
  firmware: [">=4.2.6 <4.3.5"]
  entries: [{ spkiSha256: "${'ab'.repeat(32)}", reason: stolen batch }]
`;

describe('describePolicy', () => {
  it('lists anchors with subject, SPKI hash and formats; rules with what their entries resolve to', () => {
    const text = describePolicy(policy(FULL));
    expect(text).toContain(
      `gemalto  ${h.root.cert.subject.text}  sha256:${h.root.cert.spkiSha256}  formats: provenance, yubikey-piv`,
    );
    expect(text).toContain('gemalto-smartcards  level 2  – every Gemalto smart card');
    expect(text).toContain(
      `entry  ${h.productLine.cert.subject.text}  sha256:${h.productLine.cert.spkiSha256}  (line.pem)`,
    );
    expect(text).toContain('require  userPresence: always, cached');
    expect(text).toContain('requirements: freshness: nonce; minRsaBits: ≥ 2048; securityLevel: at least tee');
    expect(text).toContain('firmware: >=4.2.6 <4.3.5');
    expect(text).toContain(`sha256:${'ab'.repeat(32)}  – stolen batch`);
    expect(text).toMatch(/^policy policy\.yaml \(version 1\)\n {2}digest sha256:[0-9a-f]{64}\n/);
    expect(text).not.toContain('notes');
  });

  it('notes choices that widen what is accepted', () => {
    const text = describePolicy(
      policy(
        'version: 1\ntrust: [{ id: g, certificates: root.pem }]\ndeny: { roca: false, weakKeys: false }\n',
      ),
    );
    expect(text).toContain('allow rules: none');
    expect(text).toContain('- no allow rules: any path to a trusted anchor is allowed');
    expect(text).toContain('- freshness is not required');
    expect(text).toContain('- the ROCA check is off');
    expect(text).toContain('- weak-key checks are off');
  });
});

describe('policySummary', () => {
  it('is plain JSON data carrying the digest and every resolved key', () => {
    const p = policy(FULL);
    const s = JSON.parse(JSON.stringify(policySummary(p)));
    expect(s).toMatchObject({
      source: 'policy.yaml',
      version: 1,
      digest: p.digest,
      trust: [{ id: 'gemalto', spkiSha256: h.root.cert.spkiSha256, formats: ['provenance', 'yubikey-piv'] }],
      allow: [
        {
          id: 'gemalto-smartcards',
          level: 2,
          entries: [{ kind: 'certificate', spkiSha256: h.productLine.cert.spkiSha256, file: 'line.pem' }],
          require: { userPresence: ['always', 'cached'] },
        },
      ],
      require: { freshness: 'nonce', securityLevel: 'tee', minRsaBits: 2048 },
      deny: { roca: true, weakKeys: true, firmware: ['>=4.2.6 <4.3.5'] },
      notes: [],
    });
  });
});

describe('policyFromOptions', () => {
  it('builds the same model as a file: ids, default formats, default deny rules', () => {
    const p = policyFromOptions({
      trust: [h.root.cert, h.root.cert],
      allow: [
        { certificate: h.productLine.cert, level: 2 },
        { spkiSha256: `sha256:${'A'.repeat(64)}`, id: 'by-hash' },
      ],
    });
    expect(p.anchors.map((a) => [a.id, a.formats])).toEqual([['trust-1', ['provenance']]]);
    expect(p.allow.map((r) => [r.id, r.level, r.entries[0]!.spkiSha256])).toEqual([
      ['allow-1', 2, h.productLine.cert.spkiSha256],
      ['by-hash', undefined, 'a'.repeat(64)],
    ]);
    expect(p.deny).toEqual({ roca: true, weakKeys: true, entries: [], firmware: [] });
    expect(p.source).toBe('<options>');
  });

  it('gives the same digest as the equivalent policy file', () => {
    const fromFile = policy(`version: 1
trust: [{ id: trust-1, certificates: root.pem }]
allow: [{ id: allow-1, entry: line.pem, level: 2 }]
require: { freshness: nonce }
`);
    const fromOptions = policyFromOptions({
      trust: [h.root.cert],
      allow: [{ certificate: h.productLine.cert, level: 2 }],
      require: { freshness: 'nonce' },
    });
    expect(fromOptions.digest).toBe(fromFile.digest);
  });

  it('rejects invalid options with USAGE naming the option', () => {
    const usage = (o: Parameters<typeof policyFromOptions>[0], m: RegExp) =>
      expect(() => policyFromOptions(o)).toThrow(
        expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(m) }),
      );
    usage({ trust: [h.root.cert], allow: [{ spkiSha256: 'xyz' }] }, /allow\[0\]\.spkiSha256/);
    usage({ trust: [h.root.cert], formats: ['pgp'] }, /formats: unknown format "pgp"/);
    usage({ trust: [h.root.cert], require: { freshness: 'often' as 'nonce' } }, /^require\.freshness/);
    usage({ trust: [h.root.cert], allow: [{ spkiSha256: 'a'.repeat(64), level: 1.5 }] }, /level/);
    usage(
      {
        trust: [h.root.cert],
        allow: [
          { spkiSha256: 'a'.repeat(64), id: 'x' },
          { spkiSha256: 'b'.repeat(64), id: 'x' },
        ],
      },
      /duplicate/,
    );
    usage({ trust: [h.root.cert], deny: { firmware: ['~1'] } }, /version range/);
  });
});
