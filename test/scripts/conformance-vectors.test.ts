/**
 * `npm run conformance:vectors` (scripts/conformance-vectors.ts) in-process over
 * ../shared/vectors: zero unexpected entries in the families whose formats are done, the JSON
 * shape the issue fixes, exit codes and options, and an expectations table that covers every
 * manifest file with a reason for every rejection. Skips with a printed reason when the vectors
 * are absent, except in CI.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXPECTATIONS, expectationFor } from '../../scripts/conformance-vectors/expectations.js';
import {
  type Actual,
  CATEGORIES,
  type Category,
  meets,
  summarize,
} from '../../scripts/conformance-vectors/model.js';
import { rocaModuli, rocaModuliOf } from '../../scripts/conformance-vectors/roca.js';
import { Vectors } from '../../scripts/conformance-vectors/vectors.js';
import {
  defaultVectorsDir,
  main,
  parseConformanceArgs,
  runConformance,
} from '../../scripts/conformance-vectors.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { fuzzParameters, outcome } from '../helpers/fuzz.js';

const VECTORS = join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'vectors');
const available = existsSync(join(VECTORS, 'manifest.json'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping vector conformance tests: ${reason}`);
  }
}

/** Every family: every entry must be as expected. */
const DONE: readonly Category[] = [...CATEGORIES];

function sink() {
  let text = '';
  return {
    write: (s: string) => (text += s),
    get text() {
      return text;
    },
  };
}

describe('conformance model', () => {
  it('a reject meets its expectation only with the expected code', () => {
    const exp = { outcome: 'reject', code: 'PATH_NOT_FOUND', reason: 'x' } as const;
    expect(meets(exp, { outcome: 'reject', code: 'PATH_NOT_FOUND' })).toBe(true);
    expect(meets(exp, { outcome: 'reject', code: 'SIGNATURE_INVALID' })).toBe(false);
    expect(meets(exp, { outcome: 'accept' })).toBe(false);
    expect(meets(null, { outcome: 'accept' })).toBe(false);
    expect(meets({ outcome: 'parse' }, { outcome: 'error', code: 'UNCAUGHT' })).toBe(false);
  });

  it('summarizes per category with unexpected files and reasons for expected rejections', () => {
    const ok: Actual = { outcome: 'accept' };
    const s = summarize([
      { category: 'roca', file: 'a', expected: { outcome: 'accept' }, actual: ok, asExpected: true },
      {
        category: 'roca',
        file: 'b',
        expected: { outcome: 'reject', code: 'KEY_ROCA_VULNERABLE', reason: 'weak' },
        actual: { outcome: 'reject', code: 'KEY_ROCA_VULNERABLE' },
        asExpected: true,
      },
      { category: 'tpm', file: 'c', expected: null, actual: ok, asExpected: false },
    ]);
    expect(Object.keys(s)).toEqual([...CATEGORIES]);
    expect(s.roca).toEqual({
      total: 2,
      asExpected: 2,
      unexpected: [],
      onPurpose: [{ file: 'b', reason: 'weak' }],
    });
    expect(s.tpm).toEqual({ total: 1, asExpected: 0, unexpected: ['c'], onPurpose: [] });
    expect(s.webauthn.total).toBe(0);
  });

  it('every rejection in the table carries a code and a reason', () => {
    for (const r of EXPECTATIONS) {
      if (r.expect.outcome !== 'reject') continue;
      expect(r.expect.code, String(r.match)).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(r.expect.reason, String(r.match)).toBeTruthy();
    }
  });

  it('parses options and refuses unknown ones with USAGE', () => {
    expect(parseConformanceArgs(['--json', '--only', 'tpm,roca', '--no-fail'])).toEqual({
      json: true,
      verbose: false,
      noFail: true,
      only: ['tpm', 'roca'],
    });
    for (const argv of [['--fast'], ['--only', 'x509'], ['--dir']]) {
      let thrown: unknown;
      try {
        parseConformanceArgs(argv);
      } catch (e) {
        thrown = e;
      }
      expect(isProvenanceError(thrown) && thrown.code).toBe('USAGE');
    }
    expect(defaultVectorsDir()).toMatch(/shared[/\\]vectors$/);
  });

  it('exits 1 when an entry is unexpected (a listed file is missing), 0 with --no-fail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenance-vectors-'));
    try {
      writeFileSync(
        join(dir, 'manifest.json'),
        JSON.stringify({
          files: [{ dest: 'roca/crocs-muni-roca/gone.pem', category: 'roca', expected: '' }],
        }),
      );
      const out = sink();
      expect(await main(['--dir', dir], out, sink())).toBe(1);
      expect(out.text).toContain('roca/crocs-muni-roca/gone.pem: expected accept, got error IO_ERROR');
      expect(out.text).toContain('1 unexpected.');
      const json = sink();
      expect(await main(['--dir', dir, '--json', '--no-fail'], json, sink())).toBe(0);
      expect(JSON.parse(json.text).roca).toEqual({
        total: 1,
        asExpected: 0,
        unexpected: ['roca/crocs-muni-roca/gone.pem'],
        onPurpose: [],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 without a manifest', async () => {
    const err = sink();
    expect(await main(['--dir', join(VECTORS, 'no-such-dir')], sink(), err)).toBe(2);
    expect(err.text).toContain('manifest.json');
  });
});

describe.skipIf(!available)('conformance:vectors on ../shared/vectors', () => {
  const report = available ? runConformance({ dir: VECTORS, only: DONE }) : null;

  for (const c of DONE) {
    it(`${c}: every entry as expected`, () => {
      const bad = report!.results
        .filter((r) => r.category === c && !r.asExpected)
        .map((r) => `${r.file}: ${r.actual.outcome} ${r.actual.code ?? ''} ${r.actual.message ?? ''}`);
      expect(bad).toEqual([]);
      expect(report!.summary[c].total).toBeGreaterThan(0);
    });
  }

  it('webauthn: refusals on purpose cover none/self, SHA-1, and the registration checks', () => {
    const codes = new Set(
      report!.results
        .filter((x) => x.category === 'webauthn' && x.asExpected && x.actual.outcome === 'reject')
        .map((x) => x.actual.code),
    );
    for (const c of [
      'ATTESTATION_NONE',
      'ATTESTATION_SELF',
      'ALGORITHM_NOT_ALLOWED',
      'NONCE_MISMATCH',
      'ORIGIN_MISMATCH',
    ])
      expect(codes.has(c), c).toBe(true);
    expect(report!.summary.webauthn.total).toBe(117);
  });

  it('covers every manifest file of every category with an expectation', () => {
    const v = new Vectors(VECTORS);
    const missing = v
      .manifest()
      .filter((f) => expectationFor(f.dest) === null)
      .map((f) => f.dest);
    expect(missing).toEqual([]);
    const counts = Object.fromEntries(
      DONE.map((c) => [c, v.manifest().filter((f) => f.category === c).length]),
    );
    // The yubikey-piv total adds the two documented wrong pairings.
    expect(report!.summary['yubikey-piv'].total).toBe(counts['yubikey-piv']! + 2);
    expect(report!.summary.roca.total).toBe(counts['roca']);
  });

  it('lists the genuine vectors refused on purpose with their reason', () => {
    const tpm = report!.summary.tpm.onPurpose;
    expect(tpm.filter((p) => p.reason.includes('SHA1'))).toHaveLength(12);
    const certify = report!.results.find((r) => r.file.endsWith('stm_netpassport/certInfo_TPMS_ATTEST.bin'))!;
    expect(certify.actual.code).toBe('ALGORITHM_NOT_ALLOWED');
    expect(report!.summary['fido-mds'].onPurpose.map((p) => p.file)).toEqual([
      'fido-mds/go-webauthn/mds3-spec-example-blob.jwt',
    ]);
    expect(report!.summary.roca.onPurpose).toHaveLength(12);
  });

  it('--json prints exactly one JSON object with the issue shape', async () => {
    const out = sink();
    const err = sink();
    const code = await main(['--json', '--dir', VECTORS, '--only', 'roca,cloud-hsm'], out, err);
    expect(err.text).toBe('');
    expect(code).toBe(0);
    expect(out.text.trim().split('\n')).toHaveLength(1);
    const parsed = JSON.parse(out.text) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['cloud-hsm', 'roca']);
    expect(parsed['roca']).toMatchObject({ total: 35, asExpected: 35, unexpected: [] });
    for (const s of Object.values(parsed))
      expect(Object.keys(s as object)).toEqual(['total', 'asExpected', 'unexpected', 'onPurpose']);
  });

  it('an expectations table can be given: a wrong expectation makes exactly that entry unexpected', () => {
    // An expectations table that expects the wrong thing of one ROCA file.
    const rules = [
      { match: 'roca/crocs-muni-roca/cert01.pem', expect: { outcome: 'parse' as const } },
      ...EXPECTATIONS,
    ];
    const r = runConformance({ dir: VECTORS, only: ['roca'], expectations: rules });
    expect(r.summary.roca.unexpected).toEqual(['roca/crocs-muni-roca/cert01.pem']);
    expect(r.summary.roca.asExpected).toBe(34);
  });
  it('reads every ROCA container (ssh, pgp, pkcs7, pem, moduli)', () => {
    const v = new Vectors(VECTORS);
    for (const f of ['ssh01.pub', 'key01.pgp', 'pkcs701.p7s', 'csr03.pem', 'privkey04.pem', 'mod04.txt'])
      expect(rocaModuli(v, `roca/crocs-muni-roca/${f}`).length, f).toBeGreaterThan(0);
    expect(rocaModuli(v, 'roca/crocs-muni-roca/fake_moduli_decimal.txt').length).toBeGreaterThan(5);
  });
});

describe('ROCA container readers under random and mutated input', () => {
  const NAMES = ['x.txt', 'x.pub', 'x.pgp', 'x.p7s', 'x.pem'];

  it('random text only ever throws ProvenanceError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), fc.string({ maxLength: 400 }), (name, text) => {
        outcome(() => rocaModuliOf(name, text));
      }),
      fuzzParameters(300),
    );
  });

  it.skipIf(!available)('mutated real files only ever throw ProvenanceError', () => {
    const v = new Vectors(VECTORS);
    const seeds = [
      'ssh06.pub',
      'key04.pgp',
      'pkcs701.p7s',
      'privkey05.pem',
      'csr05.pem',
      'pubkey03.pem',
      'mod01.txt',
    ].map((f) => ({ name: f, text: v.text(`roca/crocs-muni-roca/${f}`) }));
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.nat(),
        fc.nat({ max: 40 }),
        fc.string({ maxLength: 8 }),
        (seed, at, cut, insert) => {
          const i = at % (seed.text.length + 1);
          const text = seed.text.slice(0, i) + insert + seed.text.slice(Math.min(seed.text.length, i + cut));
          outcome(() => rocaModuliOf(seed.name, text));
        },
      ),
      fuzzParameters(300),
    );
  });
});
