import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvenanceError, ProvenanceError } from '../../src/core/errors.js';
import { loadPolicyFile, parsePolicy } from '../../src/policy/load.js';
import { type Hierarchy, hierarchy, TempDir, writeHierarchy } from './fixtures.js';

let dir: TempDir;
let h: Hierarchy;

beforeAll(() => {
  dir = new TempDir();
  h = hierarchy();
  writeHierarchy(dir, h);
});
afterAll(() => dir.cleanup());

/** The minimal form from docs/policy.md. */
const MINIMAL = `version: 1
trust:
  - id: gemalto
    certificates: [./gemalto/root.pem]   # paths relative to the policy file
    formats: [provenance]
allow:
  - id: gemalto-smartcards
    entry: ./smartcards/cert.pem
    level: 2
    require: { userPresence: [always] }
require:
  freshness: nonce
deny:
  roca: true
`;

function load(yaml: string, name = 'policy.yaml') {
  return loadPolicyFile(dir.write(name, yaml));
}

/** The POLICY_INVALID error for `yaml`, with its line and column. */
function invalid(yaml: string): ProvenanceError {
  try {
    load(yaml, 'invalid.yaml');
  } catch (err) {
    if (isProvenanceError(err)) return err;
    throw err;
  }
  throw new Error('expected the policy to be rejected');
}

function expectInvalidAt(yaml: string, line: number, column: number, message: RegExp): void {
  const err = invalid(yaml);
  expect(err.code).toBe('POLICY_INVALID');
  expect({ line: err.details['line'], column: err.details['column'] }).toEqual({ line, column });
  expect(err.message).toMatch(message);
  expect(err.message).toMatch(new RegExp(`invalid\\.yaml:${line}:${column}: `));
}

describe('parsePolicy: the minimal form', () => {
  it('loads trust anchors, allow rules with their entry keys, requirements and deny rules', () => {
    const policy = load(MINIMAL);
    expect(policy.version).toBe(1);
    expect(policy.anchors).toHaveLength(1);
    expect(policy.anchors[0]).toMatchObject({
      id: 'gemalto',
      spkiSha256: h.root.cert.spkiSha256,
      formats: ['provenance'],
    });
    expect(policy.allow).toEqual([
      {
        id: 'gemalto-smartcards',
        level: 2,
        entries: [
          {
            kind: 'certificate',
            spkiSha256: h.productLine.cert.spkiSha256,
            subject: h.productLine.cert.subject.text,
            file: './smartcards/cert.pem',
          },
        ],
        require: { userPresence: ['always'] },
      },
    ]);
    expect(policy.require).toEqual({ freshness: 'nonce' });
    expect(policy.deny).toEqual({ roca: true, weakKeys: true, entries: [], firmware: [] });
    expect(policy.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('resolves certificate paths against the policy file’s directory, not the working directory', () => {
    const sub = new TempDir();
    try {
      writeHierarchy(sub, h, 'conf/');
      const policy = loadPolicyFile(sub.write('conf/policy.yaml', MINIMAL));
      expect(policy.anchors[0]!.spkiSha256).toBe(h.root.cert.spkiSha256);
    } finally {
      sub.cleanup();
    }
  });

  it('reads DER certificate files as well as PEM, and bundles of several PEM certificates', () => {
    dir.write('der/root.der', h.root.der);
    dir.write('bundle.pem', h.root.pem + h.productLine.pem);
    const policy = load(`version: 1
trust:
  - id: der-root
    certificates: der/root.der
  - id: bundle-line
    certificates: [./dotnet/cert.pem]
`);
    expect(policy.anchors.map((a) => a.spkiSha256)).toEqual([
      h.root.cert.spkiSha256,
      h.model.cert.spkiSha256,
    ]);
  });

  it('defaults formats to [provenance] and accepts formats: any when the operator says so', () => {
    const policy = load(`version: 1
trust:
  - { id: a, certificates: [gemalto/root.pem] }
  - { id: b, certificates: [dotnet/cert.pem], formats: any }
`);
    expect(policy.anchors.map((a) => a.formats)).toEqual([['provenance'], 'any']);
  });

  it('accepts a single value where a list is expected', () => {
    const policy = load(`version: 1
trust: [{ id: g, certificates: gemalto/root.pem }]
require: { userPresence: always, algorithms: ec-p256, firmware: ">=5.2" }
`);
    expect(policy.require.userPresence).toEqual(['always']);
    expect(policy.require.algorithms).toEqual(['ec-p256']);
    expect(policy.require.firmware!.map((r) => r.text)).toEqual(['>=5.2']);
  });

  it('normalises key hashes (sha256: prefix, upper case) and resolves anchor references', () => {
    const upper = h.model.cert.spkiSha256.toUpperCase();
    const policy = load(`version: 1
trust: [{ id: gemalto, certificates: [gemalto/root.pem] }]
allow:
  - { id: by-hash, spkiSha256: "sha256:${upper}" }
  - { id: whole-maker, anchor: gemalto }
deny:
  entries:
    - { spkiSha256: "${h.token.cert.spkiSha256}", reason: lost token }
    - { certificate: dotnet/cert.pem, reason: recalled model }
`);
    expect(policy.allow[0]!.entries).toEqual([{ kind: 'spki', spkiSha256: h.model.cert.spkiSha256 }]);
    expect(policy.allow[1]!.entries).toEqual([
      {
        kind: 'anchor',
        anchorId: 'gemalto',
        spkiSha256: h.root.cert.spkiSha256,
        subject: h.root.cert.subject.text,
      },
    ]);
    expect(policy.deny.entries.map((e) => [e.spkiSha256, e.reason])).toEqual([
      [h.token.cert.spkiSha256, 'lost token'],
      [h.model.cert.spkiSha256, 'recalled model'],
    ]);
  });

  it('takes file access injected by the caller', () => {
    const files = new Map([['/virtual/root.pem', new TextEncoder().encode(h.root.pem)]]);
    const policy = parsePolicy('version: 1\ntrust: [{ id: v, certificates: [root.pem] }]\n', {
      source: 'virtual.yaml',
      baseDir: '/virtual',
      readFile: (p) =>
        files.get(p) ??
        (() => {
          throw Object.assign(new Error('nope'), { code: 'ENOENT' });
        })(),
    });
    expect(policy.anchors[0]!.spkiSha256).toBe(h.root.cert.spkiSha256);
  });
});

describe('parsePolicy: the digest', () => {
  it('ignores comments, layout, key order, descriptions and file names', () => {
    dir.write('copy/of-root.pem', h.root.pem);
    const a = load(MINIMAL);
    const b = load(`# same policy, other spelling
deny: { roca: true }
require: { freshness: nonce }
allow:
  - level: 2
    id: gemalto-smartcards
    description: every Gemalto smart card
    require:
      userPresence: always
    entry: smartcards/cert.pem
trust:
  - { id: gemalto, formats: provenance, certificates: [copy/of-root.pem] }
version: 1
`);
    expect(b.digest).toBe(a.digest);
  });

  it('changes when a requirement, a level, a key or a default changes', () => {
    const base = load(MINIMAL).digest;
    const variants = [
      MINIMAL.replace('[always]', '[always, cached]'),
      MINIMAL.replace('level: 2', 'level: 3'),
      MINIMAL.replace('./smartcards/cert.pem', './dotnet/cert.pem'),
      MINIMAL.replace('roca: true', 'roca: false'),
      MINIMAL.replace('formats: [provenance]', 'formats: [provenance, tpm]'),
    ];
    const digests = variants.map((v) => load(v).digest);
    expect(new Set([base, ...digests]).size).toBe(variants.length + 1);
  });
});

describe('parsePolicy: errors name the line and column', () => {
  it('rejects an unknown top-level key', () => {
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nrequre:\n  freshness: nonce\n`,
      3,
      1,
      /unknown key "requre"/,
    );
  });

  it('rejects a misspelt requirement inside an allow rule', () => {
    expectInvalidAt(
      `version: 1
trust: [{ id: g, certificates: [gemalto/root.pem] }]
allow:
  - id: a
    anchor: g
  - id: b
    anchor: g
    require:
      userPresense: [always]
`,
      9,
      7,
      /allow\[1\]\.require\.userPresense: unknown key "userPresense"/,
    );
  });

  it('rejects a misspelt deny key rather than silently not denying', () => {
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\ndeny:\n  rocca: true\n`,
      4,
      3,
      /unknown key "rocca"/,
    );
  });

  it('rejects a value of the wrong type at its own position', () => {
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nrequire:\n  freshness: sometimes\n`,
      4,
      14,
      /require\.freshness: .*"nonce"\|"possession"\|"none"/,
    );
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nallow:\n  - { id: a, anchor: g, level: high }\n`,
      4,
      32,
      /allow\[0\]\.level: expected number/,
    );
  });

  it('rejects version 2', () => {
    expectInvalidAt(`version: 2\ntrust: []\n`, 1, 10, /version must be 1/);
  });

  it('rejects a policy that trusts nothing', () => {
    expectInvalidAt(`version: 1\ntrust: []\n`, 2, 8, /at least one anchor/);
  });

  it('rejects a trust entry with no certificates', () => {
    expectInvalidAt(
      `version: 1\ntrust:\n  - id: gemalto\n    formats: [provenance]\n`,
      3,
      5,
      /trust entry "gemalto" has no certificates/,
    );
    expectInvalidAt(
      `version: 1\ntrust:\n  - id: gemalto\n    certificates: []\n`,
      4,
      19,
      /certificates: the list is empty/,
    );
  });

  it('rejects duplicate trust ids and duplicate allow rule ids, naming the first use', () => {
    expectInvalidAt(
      `version: 1\ntrust:\n  - { id: g, certificates: [gemalto/root.pem] }\n  - { id: g, certificates: [dotnet/cert.pem] }\n`,
      4,
      11,
      /duplicate trust id "g" \(first used on line 3\)/,
    );
    expectInvalidAt(
      `version: 1
trust: [{ id: g, certificates: [gemalto/root.pem] }]
allow:
  - id: same
    anchor: g
  - id: same
    entry: dotnet/cert.pem
`,
      6,
      9,
      /duplicate allow rule id "same" \(first used on line 4\)/,
    );
  });

  it('rejects the same key trusted under two ids', () => {
    dir.write('again/root.pem', h.root.pem);
    expectInvalidAt(
      `version: 1\ntrust:\n  - { id: a, certificates: [gemalto/root.pem] }\n  - { id: b, certificates: [again/root.pem] }\n`,
      4,
      29,
      /already trusted as "a"/,
    );
  });

  it('rejects an allow rule with no entry, or with two kinds of entry', () => {
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nallow:\n  - id: empty\n    level: 1\n`,
      4,
      5,
      /names no entry/,
    );
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nallow:\n  - id: both\n    anchor: g\n    entry: dotnet/cert.pem\n`,
      4,
      5,
      /gives "entry" and "anchor": give exactly one/,
    );
  });

  it('rejects an allow rule naming an unknown anchor', () => {
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nallow:\n  - id: a\n    anchor: gemalto\n`,
      5,
      13,
      /no trust entry has the id "gemalto"/,
    );
  });

  it('rejects a missing certificate file at the line that names it', () => {
    expectInvalidAt(
      `version: 1\ntrust:\n  - id: g\n    certificates:\n      - gemalto/root.pem\n      - gemalto/missing.pem\n`,
      6,
      9,
      /cannot read "gemalto\/missing\.pem": ENOENT/,
    );
  });

  it('rejects a file that is not a certificate, with the parser’s code in the details', () => {
    dir.write('junk.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    dir.write(
      'key.pem',
      `-----BEGIN PUBLIC KEY-----\n${Buffer.from(h.attested.spki).toString('base64')}\n-----END PUBLIC KEY-----\n`,
    );
    const err = invalid(`version: 1\ntrust: [{ id: g, certificates: [junk.pem] }]\n`);
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.details).toMatchObject({ line: 2, cause: expect.stringMatching(/^(DER|CERT)_/) });
    expectInvalidAt(`version: 1\ntrust: [{ id: g, certificates: [key.pem] }]\n`, 2, 33, /"PUBLIC KEY" block/);
  });

  it('rejects an allow entry file holding several certificates', () => {
    dir.write('two.pem', h.root.pem + h.model.pem);
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nallow:\n  - { id: a, entry: two.pem }\n`,
      4,
      21,
      /holds 2 certificates/,
    );
  });

  it('rejects malformed key hashes and version ranges', () => {
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\nallow:\n  - { id: a, spkiSha256: abc }\n`,
      4,
      26,
      /64 hex digits/,
    );
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\ndeny:\n  firmware: ["~4.3"]\n`,
      4,
      14,
      /version range/,
    );
  });

  it('rejects a deny entry without a reason or with two identities', () => {
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\ndeny:\n  entries:\n    - { certificate: dotnet/cert.pem }\n`,
      5,
      7,
      /reason/,
    );
    expectInvalidAt(
      `version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }]\ndeny:\n  entries:\n    - { certificate: dotnet/cert.pem, spkiSha256: "${'a'.repeat(64)}", reason: x }\n`,
      5,
      7,
      /exactly one/,
    );
  });

  it('rejects YAML syntax errors, duplicate keys and unknown tags with their position', () => {
    // An unclosed flow sequence is reported where the parser gave up: the end of the input.
    expectInvalidAt(`version: 1\ntrust: [{ id: g, certificates: [gemalto/root.pem] }\n`, 3, 1, /./);
    expectInvalidAt(`version: 1\nversion: 1\ntrust: []\n`, 2, 1, /unique/);
    expectInvalidAt(`version: 1\ntrust: !custom []\n`, 2, 8, /tag/i);
  });

  it('reports the first problem in document order and lists every issue in the details', () => {
    const err = invalid(
      `version: 3\ntrust:\n  - { id: g, certificates: [gemalto/root.pem], colour: red }\nrequire: { minRsaBits: 512 }\n`,
    );
    expect(err.details['line']).toBe(1);
    expect((err.details['issues'] as unknown[]).length).toBe(3);
  });

  it('rejects an empty document and a document that is not a mapping', () => {
    expectInvalidAt('', 1, 1, /expected object/);
    expectInvalidAt('- a\n- b\n', 1, 1, /expected object/);
  });
});

describe('loadPolicyFile', () => {
  it('fails with IO_ERROR when the policy file itself cannot be read', () => {
    expect(() => loadPolicyFile(`${dir.path}/nope.yaml`)).toThrow(
      expect.objectContaining({ code: 'IO_ERROR' }),
    );
  });

  it('rejects a policy that is not UTF-8', () => {
    const file = dir.write('latin1.yaml', Uint8Array.of(0x76, 0x3a, 0xff, 0x0a));
    expect(() => loadPolicyFile(file)).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});

describe('parsePolicy: robustness', () => {
  const fragments = [
    'version: 1\n',
    'version: 2\n',
    'trust:\n',
    '  - id: g\n',
    '    certificates: [gemalto/root.pem]\n',
    '    certificates: [missing.pem]\n',
    '    formats: [tpm]\n',
    'allow:\n',
    '  - { id: a, anchor: g }\n',
    '  - { id: a, spkiSha256: 00 }\n',
    'require: { freshness: nonce, firmware: ">=1" }\n',
    'deny: { roca: yes, entries: [{ reason: x }] }\n',
    '&a [*a]\n',
    '? [a]\n: b\n',
    '!!binary AAAA\n',
    '{{{{\n',
    '"\\u0000"\n',
    '- - - -\n',
    '\t\n',
  ];
  const yamlish = fc
    .array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 12 })), { maxLength: 12 })
    .map((parts) => parts.join(''));

  it('only ever throws ProvenanceError on random YAML-ish input', () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parsePolicy(text, { source: 'fuzz.yaml', baseDir: dir.path });
        } catch (err) {
          if (!(err instanceof ProvenanceError)) throw err;
          if (err.code === 'POLICY_INVALID') {
            expect(err.details['line']).toBeGreaterThanOrEqual(1);
            expect(err.details['column']).toBeGreaterThanOrEqual(1);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('refuses alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    expect(() => parsePolicy(bomb.join('\n'), { source: 'bomb.yaml', baseDir: dir.path })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
  });

  it('refuses an oversized policy with INPUT_TOO_LARGE', () => {
    expect(() =>
      parsePolicy(`# ${'x'.repeat(1024 * 1024)}\n`, { source: 'big.yaml', baseDir: dir.path }),
    ).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE' }));
  });
});
