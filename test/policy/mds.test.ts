/**
 * `mds:` in policy files: the index is read with the policy (fail closed at its line), its BLOB
 * enters the digest, `policy check` summarises it, and the verifier uses it for WebAuthn unless
 * given its own index (the option wins). `mds.minLevel` is enforced through checkMdsEntry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../src/core/errors.js';
import { createWebauthnFormat } from '../../src/formats/webauthn/index.js';
import { describePolicy, policySummary } from '../../src/policy/describe.js';
import { loadPolicyFile, parsePolicy } from '../../src/policy/load.js';
import { parseDraftPolicy } from '../../src/server/dry-run.js';
import { indexMdsBlob } from '../../src/trust/mds/entries.js';
import { createVerifier } from '../../src/verify/verifier.js';
import {
  AAGUID_A,
  AAGUID_B,
  aaguidBytes,
  attestationObject,
  authData,
  CHALLENGE,
  clientDataJSON,
  ORIGIN,
  packedBasic,
  RP_ID,
  registrationJson,
  type Vendor,
} from '../formats/webauthn/builder.js';
import { fuzzParameters, outcome } from '../helpers/fuzz.js';
import { ecKey } from '../helpers/pki.js';
import { MDS_NOW, vendorA, vendorB, writeMdsIndex } from './mds-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'provenance-policy-mds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const blob1 = writeMdsIndex(join(dir, 'mds'), 1);
const blob2 = writeMdsIndex(join(dir, 'mds2'), 2);

/** Write a policy next to the indexes and load it. */
function load(text: string, name = 'policy.yaml') {
  const file = join(dir, name);
  writeFileSync(file, text);
  return loadPolicyFile(file);
}

function codeOf(fn: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return { code: err.code, details: err.details };
    throw err;
  }
  throw new Error('expected a ProvenanceError');
}

function registration(v: Vendor, aaguid: string) {
  const cdj = clientDataJSON();
  const ad = authData({ aaguid: aaguidBytes(aaguid) }, ecKey());
  return registrationJson(attestationObject('packed', packedBasic(ad, cdj, v), ad), cdj);
}

const EXPECT = { at: MDS_NOW, webauthn: { challenge: CHALLENGE, origin: ORIGIN, rpId: RP_ID } };

describe('policy mds: loading', () => {
  it('reads the index relative to the policy file; an empty trust list is allowed with it', () => {
    const policy = load('version: 1\ntrust: []\nmds:\n  index: mds\n');
    expect(policy.mds?.mds.blob.no).toBe(1);
    expect(policy.mds?.location).toBe(join(dir, 'mds'));
    expect(policy.anchors).toEqual([]);
  });

  it('still refuses an empty trust list without mds (fail closed)', () => {
    const e = codeOf(() => load('version: 1\ntrust: []\n'));
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.details['line']).toBe(2);
  });

  it('a missing index fails closed with POLICY_INVALID naming the line (cause IO_ERROR)', () => {
    const e = codeOf(() => load('version: 1\ntrust: []\nmds:\n  index: nowhere\n'));
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.details).toMatchObject({ line: 4, cause: 'IO_ERROR' });
  });

  it('an index that is not ours fails closed (cause MDS_MALFORMED)', () => {
    const bad = join(dir, 'bad');
    rmSync(bad, { recursive: true, force: true });
    writeMdsIndex(bad, 3);
    writeFileSync(join(bad, 'mds-index.json'), '{"format":"something else"}');
    const e = codeOf(() => load('version: 1\ntrust: []\nmds: { index: bad }\n'));
    expect(e).toMatchObject({ code: 'POLICY_INVALID', details: { line: 3, cause: 'MDS_MALFORMED' } });
  });

  it('refuses an unknown minLevel and unknown keys under mds', () => {
    expect(codeOf(() => load('version: 1\ntrust: []\nmds: { index: mds, minLevel: L2 }\n')).code).toBe(
      'POLICY_INVALID',
    );
    expect(codeOf(() => load('version: 1\ntrust: []\nmds: { index: mds, level: 2 }\n')).code).toBe(
      'POLICY_INVALID',
    );
  });

  it('the BLOB number and digest, and minLevel, enter the policy digest', () => {
    const a = load('version: 1\ntrust: []\nmds: { index: mds }\n');
    const b = load('version: 1\ntrust: []\nmds: { index: mds2 }\n');
    const c = load('version: 1\ntrust: []\nmds: { index: mds, minLevel: FIDO_CERTIFIED_L2 }\n');
    const again = load('version: 1\ntrust: []\nmds: { index: ./mds }\n', 'other.yaml');
    expect(new Set([a.digest, b.digest, c.digest]).size).toBe(3);
    expect(again.digest).toBe(a.digest);
    expect(blob1.digest).not.toBe(blob2.digest);
  });

  it('a draft policy may not name an MDS index outside the live policy folder', () => {
    const inner = join(dir, 'confined');
    const e = codeOf(() =>
      parseDraftPolicy(`version: 1\ntrust: []\nmds: { index: ${join(dir, 'mds')} }\n`, inner),
    );
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.details['line']).toBe(3);
    expect(String((e as { details: Record<string, unknown> }).details['path'])).toBe('mds.index');
  });

  it('injected loadMds is used instead of the file system', () => {
    const index = indexMdsBlob(blob2);
    const policy = parsePolicy('version: 1\ntrust: []\nmds: { index: anywhere }\n', {
      source: 'p.yaml',
      baseDir: '/nonexistent',
      loadMds: () => index,
    });
    expect(policy.mds?.mds.blob.no).toBe(2);
  });

  it('policy check summarises the BLOB: number, entries, nextUpdate, minimum level', () => {
    const policy = load('version: 1\ntrust: []\nmds: { index: mds, minLevel: FIDO_CERTIFIED_L1 }\n');
    expect(policySummary(policy).mds).toMatchObject({
      index: 'mds',
      blobNo: 1,
      blobDigest: blob1.digest,
      entries: 2,
      nextUpdate: '2026-07-01',
      minLevel: 'FIDO_CERTIFIED_L1',
    });
    expect(describePolicy(policy)).toContain('BLOB no. 1, 2 entries, next update 2026-07-01');
    const open = load('version: 1\ntrust: []\nmds: { index: mds }\n');
    expect(policySummary(open).notes.join('\n')).toMatch(/any certification level/);
  });

  it('random mds values only ever throw ProvenanceError', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.constant(null),
      fc.constantFrom('FIDO_CERTIFIED_L1', 'FIDO_CERTIFIED_L3plus', 'mds', '../mds', ''),
    );
    fc.assert(
      fc.property(value, value, (index, minLevel) => {
        const text = `version: 1\ntrust: []\nmds: ${JSON.stringify({ index, minLevel })}\n`;
        outcome(() => parsePolicy(text, { source: 'p.yaml', baseDir: dir }));
      }),
      fuzzParameters(100),
    );
  });
});

describe('policy mds: verification', () => {
  const verifierFor = (text: string, options: { mds?: ReturnType<typeof indexMdsBlob> } = {}) =>
    createVerifier({ policy: load(text), formats: [createWebauthnFormat()], ...options });

  it('WebAuthn validates to the MDS entry of its own AAGUID without VerifierOptions.mds', () => {
    const verdict = verifierFor('version: 1\ntrust: []\nmds: { index: mds }\n').verifyBytes(
      registration(vendorA, AAGUID_A),
      EXPECT,
    );
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims).toMatchObject({ model: 'Vendor A Key', mdsStatus: 'FIDO_CERTIFIED_L2' });
  });

  it("refuses vendor A's certificate claiming vendor B's AAGUID (PATH_NOT_FOUND)", () => {
    const verdict = verifierFor('version: 1\ntrust: []\nmds: { index: mds }\n').verifyBytes(
      registration(vendorA, AAGUID_B),
      EXPECT,
    );
    expect(verdict.code).toBe('PATH_NOT_FOUND');
  });

  it('mds.minLevel refuses a model certified below it (POLICY_NO_MATCH) and accepts one at it', () => {
    const v = verifierFor('version: 1\ntrust: []\nmds: { index: mds, minLevel: FIDO_CERTIFIED_L2 }\n');
    expect(v.verifyBytes(registration(vendorB, AAGUID_B), EXPECT).code).toBe('POLICY_NO_MATCH');
    expect(v.verifyBytes(registration(vendorA, AAGUID_A), EXPECT).code).toBe('ACCEPTED');
  });

  it("VerifierOptions.mds wins over the policy's index", () => {
    // An index without the entry: were the policy's index used, this would be accepted.
    const otherIndex = indexMdsBlob(writeMdsIndex(join(dir, 'other'), 9));
    const empty = indexMdsBlob({ ...otherIndex.blob, entries: [] });
    const refused = verifierFor('version: 1\ntrust: []\nmds: { index: mds }\n', { mds: empty }).verifyBytes(
      registration(vendorA, AAGUID_A),
      EXPECT,
    );
    expect(refused.code).toBe('TRUST_NO_ANCHORS');
  });
});
