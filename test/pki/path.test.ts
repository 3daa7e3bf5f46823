import { beforeAll, describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { ProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import type { TrustAnchor } from '../../src/pki/anchor.js';
import { KeyCache } from '../../src/pki/keys.js';
import { type PathValidationOptions, validatePath } from '../../src/pki/path.js';
import { anchor, ecKey, issue, rsaKey, type TestCert, type TestKey } from '../helpers/pki.js';

const T = Date.UTC(2025, 5, 1);
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Run validatePath and return the ProvenanceError it throws (fails the test if it does not throw). */
function rejection(leaf: TestCert, options: PathValidationOptions): ProvenanceError {
  try {
    validatePath(leaf.cert, options);
  } catch (err) {
    if (err instanceof ProvenanceError) return err;
    throw err;
  }
  throw new Error('validatePath accepted the path');
}

let rootKey: TestKey;
let icaKey: TestKey;
let leafKey: TestKey;
let root: TestCert;
let ica: TestCert;
let leaf: TestCert;
let rootAnchor: TrustAnchor;

beforeAll(() => {
  rootKey = ecKey();
  icaKey = ecKey();
  leafKey = ecKey();
  root = issue({ subject: 'Test Root', key: rootKey, ca: {} });
  ica = issue({ subject: 'Test Device CA', key: icaKey, issuer: root, ca: { pathLen: 0 } });
  leaf = issue({ subject: 'Token 0042', key: leafKey, issuer: ica, keyUsage: ['digitalSignature'] });
  rootAnchor = anchor(root, 'test-root');
});

describe('validatePath: building and the result', () => {
  it('validates leaf → intermediate → root and returns the path leaf first, anchor certificate last', () => {
    const path = validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [ica.cert], time: T });
    expect(path.certificates.map((c) => c.subject.text)).toEqual([
      'CN=Token 0042',
      'CN=Test Device CA',
      'CN=Test Root',
    ]);
    expect(path.anchor.id).toBe('test-root');
    expect(path.quirks).toEqual([]);
    expect(path.policies).toEqual([]);
  });

  it('builds from an unordered pool that holds the leaf, the root and unrelated certificates', () => {
    const other = issue({ subject: 'Unrelated CA', key: ecKey(), ca: {} });
    const path = validatePath(leaf.cert, {
      anchors: [rootAnchor],
      intermediates: [other.cert, root.cert, leaf.cert, ica.cert],
      time: T,
    });
    expect(path.certificates).toHaveLength(3);
    expect(path.certificates[1]).toBe(ica.cert);
  });

  it('fails closed with TRUST_NO_ANCHORS when no anchor is configured', () => {
    expect(rejection(leaf, { anchors: [], intermediates: [ica.cert], time: T }).code).toBe(
      'TRUST_NO_ANCHORS',
    );
  });

  it('rejects a chain whose root is not trusted (PATH_NOT_FOUND naming the last certificate)', () => {
    const otherRoot = issue({ subject: 'Other Root', key: ecKey(), ca: {} });
    const err = rejection(leaf, {
      anchors: [anchor(otherRoot)],
      intermediates: [ica.cert, root.cert],
      time: T,
    });
    expect(err.code).toBe('PATH_NOT_FOUND');
    expect(err.details).toMatchObject({
      position: 2,
      subject: 'CN=Test Root',
      spkiSha256: root.cert.spkiSha256,
    });
  });

  it('rejects a leaf whose signature does not verify with its issuer key (PATH_SIGNATURE_INVALID)', () => {
    const forged = issue({ subject: 'Token 0043', key: ecKey(), issuer: ica, signWith: ecKey() });
    const err = rejection(forged, { anchors: [rootAnchor], intermediates: [ica.cert], time: T });
    expect(err.code).toBe('PATH_SIGNATURE_INVALID');
    expect(err.details).toMatchObject({ position: 0, subject: 'CN=Token 0043' });
  });

  it('rejects a same-name forged chain: identical names, different keys', () => {
    // The attacker copies every name of the real hierarchy but owns all the keys.
    const fakeRoot = issue({ subject: 'Test Root', key: ecKey(), ca: {} });
    const fakeIca = issue({ subject: 'Test Device CA', key: ecKey(), issuer: fakeRoot, ca: {} });
    const fakeLeaf = issue({ subject: 'Token 0042', key: ecKey(), issuer: fakeIca });
    const err = rejection(fakeLeaf, {
      anchors: [rootAnchor],
      intermediates: [fakeIca.cert, fakeRoot.cert, ica.cert],
      time: T,
    });
    expect(err.code).toBe('PATH_SIGNATURE_INVALID');
  });

  it('ends the path at an intermediate that is itself an anchor', () => {
    const path = validatePath(leaf.cert, {
      anchors: [anchor(ica, 'device-ca')],
      intermediates: [root.cert],
      time: T,
    });
    expect(path.anchor.id).toBe('device-ca');
    expect(path.certificates.map((c) => c.subject.text)).toEqual(['CN=Token 0042', 'CN=Test Device CA']);
  });

  it('accepts a leaf that is itself an anchor (same key and name) as a one-certificate path', () => {
    const path = validatePath(ica.cert, { anchors: [anchor(ica, 'pinned')], intermediates: [], time: T });
    expect(path.certificates).toEqual([ica.cert]);
    expect(path.anchor.id).toBe('pinned');
  });

  it('trusts a key-only anchor (no certificate) by name and signature', () => {
    const keyOnly: TrustAnchor = { ...rootAnchor, id: 'key-only', certificate: null };
    const path = validatePath(leaf.cert, { anchors: [keyOnly], intermediates: [ica.cert], time: T });
    expect(path.certificates).toHaveLength(2);
    expect(path.anchor.id).toBe('key-only');
  });

  it('matches names under RFC 5280 §7.1 (case and spaces in DirectoryString values)', () => {
    const printableName = der.seq(der.setOf(der.seq(der.oid(OID.commonName), der.printable('Test  ROOT'))));
    const child = issue({ subject: 'Case Leaf', key: ecKey(), issuer: root, issuerName: printableName });
    const path = validatePath(child.cert, { anchors: [rootAnchor], intermediates: [], time: T });
    expect(path.anchor.id).toBe('test-root');
  });

  it('orders candidate issuers by authorityKeyIdentifier, so the right one is tried first', () => {
    const decoys = Array.from({ length: 5 }, () =>
      issue({ subject: 'Test Device CA', key: ecKey(), issuer: root, ca: {} }),
    );
    // Two signature checks are enough only if the real CA is tried first.
    const path = validatePath(leaf.cert, {
      anchors: [rootAnchor],
      intermediates: [...decoys.map((d) => d.cert), ica.cert],
      time: T,
      maxSignatureChecks: 2,
    });
    expect(path.certificates[1]).toBe(ica.cert);
  });

  it('reuses an injected KeyCache across calls', () => {
    const cache = new KeyCache();
    for (let i = 0; i < 3; i++) {
      expect(
        validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [ica.cert], time: T, cache }).anchor
          .id,
      ).toBe('test-root');
    }
  });

  it('throws a TypeError naming the option for invalid options', () => {
    expect(() =>
      validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [], time: Number.NaN }),
    ).toThrow(/options\.time/);
    expect(() =>
      validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [], time: T, maxDepth: 0 }),
    ).toThrow(/options\.maxDepth/);
    expect(() =>
      validatePath(leaf.cert, {
        anchors: [rootAnchor],
        intermediates: [],
        time: T,
        quirks: [{ id: 'x', relax: 'nonsense' as never }],
      }),
    ).toThrow(TypeError);
  });
});

describe('validatePath: validity', () => {
  it('rejects a leaf expired at the validation time and accepts it at a pinned earlier time', () => {
    const old = issue({ subject: 'Old', key: ecKey(), issuer: ica, notAfter: Date.UTC(2024, 0, 1) });
    const err = rejection(old, { anchors: [rootAnchor], intermediates: [ica.cert], time: T });
    expect(err.code).toBe('PATH_CERT_EXPIRED');
    expect(err.details).toMatchObject({ position: 0, subject: 'CN=Old' });
    const pinned = Date.UTC(2023, 0, 1);
    expect(
      validatePath(old.cert, { anchors: [rootAnchor], intermediates: [ica.cert], time: pinned }).certificates,
    ).toHaveLength(3);
  });

  it('rejects a certificate that is not yet valid (PATH_CERT_NOT_YET_VALID)', () => {
    const future = issue({ subject: 'Future', key: ecKey(), issuer: ica, notBefore: Date.UTC(2030, 0, 1) });
    expect(rejection(future, { anchors: [rootAnchor], intermediates: [ica.cert], time: T }).code).toBe(
      'PATH_CERT_NOT_YET_VALID',
    );
  });

  it('treats both bounds as inclusive, compared at the encoding granularity of one second', () => {
    const nb = Date.UTC(2024, 2, 1, 0, 0, 1);
    const na = Date.UTC(2024, 3, 1);
    const c = issue({ subject: 'Bounds', key: ecKey(), issuer: ica, notBefore: nb, notAfter: na });
    const at = (time: number) => () =>
      validatePath(c.cert, { anchors: [rootAnchor], intermediates: [ica.cert], time });
    expect(at(nb)).not.toThrow();
    expect(at(na)).not.toThrow();
    expect(at(na + 999)).not.toThrow(); // still 00:00:00 at one-second granularity
    expect(at(na + 1000)).toThrow(expect.objectContaining({ code: 'PATH_CERT_EXPIRED' }));
    expect(at(nb - 1)).toThrow(expect.objectContaining({ code: 'PATH_CERT_NOT_YET_VALID' }));
  });

  it('rejects an expired intermediate and an expired anchor certificate, naming the position', () => {
    const oldIca = issue({
      subject: 'Old CA',
      key: ecKey(),
      issuer: root,
      ca: {},
      notAfter: Date.UTC(2024, 0, 1),
    });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: oldIca });
    const e1 = rejection(below, { anchors: [rootAnchor], intermediates: [oldIca.cert], time: T });
    expect(e1).toMatchObject({ code: 'PATH_CERT_EXPIRED', details: { position: 1 } });

    const oldRoot = issue({ subject: 'Old Root', key: ecKey(), ca: {}, notAfter: Date.UTC(2024, 0, 1) });
    const child = issue({ subject: 'Child', key: ecKey(), issuer: oldRoot });
    const e2 = rejection(child, { anchors: [anchor(oldRoot, 'old-root')], intermediates: [], time: T });
    expect(e2).toMatchObject({ code: 'PATH_CERT_EXPIRED', details: { position: 1, anchor: 'old-root' } });
  });

  it('prefers a valid path when an expired cross-certificate is also in the pool', () => {
    const root2Key = ecKey();
    const root2 = issue({ subject: 'Root Two', key: root2Key, ca: {} });
    const expiredCross = issue({
      subject: 'Test Root',
      key: rootKey,
      issuer: root2,
      ca: {},
      notAfter: Date.UTC(2024, 0, 1),
    });
    const path = validatePath(leaf.cert, {
      anchors: [anchor(root2, 'root-two'), rootAnchor],
      intermediates: [expiredCross.cert, ica.cert],
      time: T,
    });
    expect(path.anchor.id).toBe('test-root');
  });
});

describe('validatePath: CA rules', () => {
  it('rejects a chain whose intermediate is not a CA (cA FALSE)', () => {
    const notCa = issue({ subject: 'Not A CA', key: ecKey(), issuer: root, notCa: true });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: notCa });
    const err = rejection(below, { anchors: [rootAnchor], intermediates: [notCa.cert], time: T });
    expect(err).toMatchObject({ code: 'PATH_NOT_CA', details: { position: 1, subject: 'CN=Not A CA' } });
  });

  it('rejects an intermediate without basicConstraints (a v1 certificate)', () => {
    const v1 = issue({ subject: 'V1 CA', key: ecKey(), issuer: root, version: 1 });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: v1 });
    expect(rejection(below, { anchors: [rootAnchor], intermediates: [v1.cert], time: T }).code).toBe(
      'PATH_NOT_CA',
    );
  });

  it('rejects an intermediate whose keyUsage lacks keyCertSign (PATH_KEY_USAGE)', () => {
    const noSign = issue({
      subject: 'No Sign CA',
      key: ecKey(),
      issuer: root,
      ca: {},
      keyUsage: ['digitalSignature'],
    });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: noSign });
    expect(rejection(below, { anchors: [rootAnchor], intermediates: [noSign.cert], time: T }).code).toBe(
      'PATH_KEY_USAGE',
    );
  });

  it('accepts an intermediate without keyUsage (no restriction)', () => {
    const noKu = issue({ subject: 'No KU CA', key: ecKey(), issuer: root, ca: {}, keyUsage: null });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: noKu });
    expect(
      validatePath(below.cert, { anchors: [rootAnchor], intermediates: [noKu.cert], time: T }).certificates,
    ).toHaveLength(3);
  });

  it('rejects a CA below a pathLenConstraint 0 CA (PATH_LENGTH_EXCEEDED at the constraining CA)', () => {
    const sub = issue({ subject: 'Sub CA', key: ecKey(), issuer: ica, ca: {} });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: sub });
    const err = rejection(below, { anchors: [rootAnchor], intermediates: [ica.cert, sub.cert], time: T });
    expect(err).toMatchObject({
      code: 'PATH_LENGTH_EXCEEDED',
      details: { position: 2, subject: 'CN=Test Device CA' },
    });
  });

  it('does not count self-issued intermediates against pathLenConstraint (RFC 5280 §6.1.4 (l))', () => {
    // Key rollover: the device CA certifies its new key under the same name.
    const newKey = ecKey();
    const rollover = issue({ subject: 'Test Device CA', key: newKey, issuer: ica, ca: {} });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: rollover });
    const path = validatePath(below.cert, {
      anchors: [rootAnchor],
      intermediates: [rollover.cert, ica.cert],
      time: T,
    });
    expect(path.certificates).toHaveLength(4);
  });

  it('limits intermediates with maxIntermediates, self-issued ones not counted', () => {
    const sub = issue({ subject: 'Sub CA', key: ecKey(), issuer: root, ca: {} });
    const sub2 = issue({ subject: 'Sub CA 2', key: ecKey(), issuer: sub, ca: {} });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: sub2 });
    const options = { anchors: [rootAnchor], intermediates: [sub.cert, sub2.cert], time: T };
    expect(validatePath(below.cert, { ...options, maxIntermediates: 2 }).certificates).toHaveLength(4);
    expect(rejection(below, { ...options, maxIntermediates: 1 }).code).toBe('PATH_LENGTH_EXCEEDED');
  });

  it('rejects an unknown critical extension on the leaf, an intermediate or the anchor certificate', () => {
    const unknown = { oid: '1.3.6.1.4.1.55738.666.1', critical: true, value: der.null() };
    const badLeaf = issue({ subject: 'Crit Leaf', key: ecKey(), issuer: ica, extensions: [unknown] });
    const e1 = rejection(badLeaf, { anchors: [rootAnchor], intermediates: [ica.cert], time: T });
    expect(e1).toMatchObject({
      code: 'PATH_UNKNOWN_CRITICAL_EXTENSION',
      details: { position: 0, oid: unknown.oid },
    });

    const badCa = issue({ subject: 'Crit CA', key: ecKey(), issuer: root, ca: {}, extensions: [unknown] });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: badCa });
    expect(rejection(below, { anchors: [rootAnchor], intermediates: [badCa.cert], time: T }).code).toBe(
      'PATH_UNKNOWN_CRITICAL_EXTENSION',
    );

    const badRoot = issue({ subject: 'Crit Root', key: ecKey(), ca: {}, extensions: [unknown] });
    const child = issue({ subject: 'Child', key: ecKey(), issuer: badRoot });
    expect(rejection(child, { anchors: [anchor(badRoot)], intermediates: [], time: T }).code).toBe(
      'PATH_UNKNOWN_CRITICAL_EXTENSION',
    );
  });

  it('accepts a critical extension the caller declares it processes', () => {
    const tpmOid = '2.23.133.2.99';
    const c = issue({
      subject: 'Crit Leaf',
      key: ecKey(),
      issuer: ica,
      extensions: [{ oid: tpmOid, critical: true, value: der.null() }],
    });
    const path = validatePath(c.cert, {
      anchors: [rootAnchor],
      intermediates: [ica.cert],
      time: T,
      understoodCriticalExtensions: [tpmOid],
    });
    expect(path.certificates).toHaveLength(3);
  });

  it('ignores an unknown critical extension on an unused pool certificate', () => {
    const unknown = { oid: '1.3.6.1.4.1.55738.666.1', critical: true, value: der.null() };
    const unused = issue({ subject: 'Unused CA', key: ecKey(), issuer: root, ca: {}, extensions: [unknown] });
    expect(
      validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [unused.cert, ica.cert], time: T })
        .certificates,
    ).toHaveLength(3);
  });

  it('rejects a malformed known extension (an empty extKeyUsage) with EXTENSION_MALFORMED', () => {
    const bad = issue({
      subject: 'Bad EKU',
      key: ecKey(),
      issuer: ica,
      extensions: [{ oid: OID.extKeyUsage, value: der.seq() }],
    });
    expect(rejection(bad, { anchors: [rootAnchor], intermediates: [ica.cert], time: T }).code).toBe(
      'EXTENSION_MALFORMED',
    );
  });
});

describe('validatePath: algorithm and key policy', () => {
  let rsa1024: TestKey;
  let rsa2048: TestKey;
  beforeAll(() => {
    rsa1024 = rsaKey(1024);
    rsa2048 = rsaKey(2048);
  });

  it('refuses SHA-1 signatures by default and accepts them when the policy allows', () => {
    const rsaRoot = issue({ subject: 'RSA Root', key: rsa2048, ca: {} });
    const sha1Leaf = issue({ subject: 'SHA1 Leaf', key: ecKey(), issuer: rsaRoot, hash: 'sha1' });
    const options = { anchors: [anchor(rsaRoot)], intermediates: [], time: T };
    expect(rejection(sha1Leaf, options)).toMatchObject({
      code: 'ALGORITHM_NOT_ALLOWED',
      details: { position: 0 },
    });
    const path = validatePath(sha1Leaf.cert, {
      ...options,
      signaturePolicy: { allowSha1: true, allowEcdsaNullParams: false },
    });
    expect(path.certificates).toHaveLength(2);
  });

  it('refuses an RSA-1024 key in the leaf and in an intermediate (KEY_TOO_WEAK)', () => {
    const weakLeaf = issue({ subject: 'Weak Leaf', key: rsa1024, issuer: ica });
    expect(rejection(weakLeaf, { anchors: [rootAnchor], intermediates: [ica.cert], time: T })).toMatchObject({
      code: 'KEY_TOO_WEAK',
      details: { position: 0 },
    });
    const weakCa = issue({ subject: 'Weak CA', key: rsa1024, issuer: root, ca: {} });
    const below = issue({ subject: 'Below', key: ecKey(), issuer: weakCa });
    expect(rejection(below, { anchors: [rootAnchor], intermediates: [weakCa.cert], time: T })).toMatchObject({
      code: 'KEY_TOO_WEAK',
      details: { position: 1, subject: 'CN=Weak CA' },
    });
  });

  it('refuses a weak key-only anchor', () => {
    const weakRoot = issue({ subject: 'Weak Root', key: rsa1024, ca: {} });
    const child = issue({ subject: 'Child', key: ecKey(), issuer: weakRoot });
    const keyOnly: TrustAnchor = { ...anchor(weakRoot, 'weak'), certificate: null };
    expect(rejection(child, { anchors: [keyOnly], intermediates: [], time: T }).code).toBe('KEY_TOO_WEAK');
  });
});

describe('validatePath: termination on cycles and pathological pools', () => {
  it('ends a cycle of two CAs that certify each other with PATH_NOT_FOUND', () => {
    const aKey = ecKey();
    const bKey = ecKey();
    const aSelf = issue({ subject: 'CA A', key: aKey, ca: {} });
    const bSelf = issue({ subject: 'CA B', key: bKey, ca: {} });
    const aByB = issue({ subject: 'CA A', key: aKey, issuer: bSelf, ca: {} });
    const bByA = issue({ subject: 'CA B', key: bKey, issuer: aSelf, ca: {} });
    const ee = issue({ subject: 'EE', key: ecKey(), issuer: aSelf });
    const started = performance.now();
    const err = rejection(ee, { anchors: [rootAnchor], intermediates: [aByB.cert, bByA.cert], time: T });
    expect(err.code).toBe('PATH_NOT_FOUND');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('ends quickly on 60 same-name CAs with distinct keys (PATH_LIMIT_EXCEEDED or PATH_NOT_FOUND)', () => {
    const keys = Array.from({ length: 60 }, () => ecKey());
    const cas: TestCert[] = [issue({ subject: 'Loop CA', key: keys[0]!, ca: {} })];
    for (let i = 1; i < keys.length; i++) {
      cas.push(issue({ subject: 'Loop CA', key: keys[i]!, issuer: cas[i - 1]!, ca: {} }));
    }
    const ee = issue({ subject: 'EE', key: ecKey(), issuer: cas[cas.length - 1]! });
    const started = performance.now();
    const err = rejection(ee, { anchors: [rootAnchor], intermediates: cas.map((c) => c.cert), time: T });
    expect(['PATH_LIMIT_EXCEEDED', 'PATH_NOT_FOUND']).toContain(err.code);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('ends quickly on 60 same-name CAs sharing one key (every one appears to sign every other)', () => {
    const shared = ecKey();
    const cas: TestCert[] = [issue({ subject: 'Loop CA', key: shared, ca: {} })];
    for (let i = 1; i < 60; i++)
      cas.push(issue({ subject: 'Loop CA', key: shared, issuer: cas[i - 1]!, ca: {} }));
    const ee = issue({ subject: 'EE', key: ecKey(), issuer: cas[59]! });
    const started = performance.now();
    const err = rejection(ee, { anchors: [rootAnchor], intermediates: cas.map((c) => c.cert), time: T });
    expect(['PATH_LIMIT_EXCEEDED', 'PATH_NOT_FOUND']).toContain(err.code);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses a pool larger than PATH_LIMITS.maxPoolSize before searching', () => {
    const pool = new Array(1025).fill(ica.cert);
    expect(rejection(leaf, { anchors: [rootAnchor], intermediates: pool, time: T }).code).toBe(
      'PATH_LIMIT_EXCEEDED',
    );
  });

  it('stops at maxDepth with PATH_LIMIT_EXCEEDED', () => {
    const chain: TestCert[] = [root];
    for (let i = 0; i < 4; i++)
      chain.push(issue({ subject: `Level ${i}`, key: ecKey(), issuer: chain[i]!, ca: {} }));
    const ee = issue({ subject: 'EE', key: ecKey(), issuer: chain[4]! });
    const options = { anchors: [rootAnchor], intermediates: chain.slice(1).map((c) => c.cert), time: T };
    expect(validatePath(ee.cert, options).certificates).toHaveLength(6);
    expect(rejection(ee, { ...options, maxDepth: 3 }).code).toBe('PATH_LIMIT_EXCEEDED');
  });

  it('reports the deepest failure among several candidate paths', () => {
    // Two device CAs with the right name: one not signed by the root (shallow failure), one
    // signed by the root but expired (the path got to the anchor: the more useful error).
    const badSig = issue({ subject: 'Test Device CA', key: icaKey, issuer: root, ca: {}, signWith: ecKey() });
    const expired = issue({
      subject: 'Test Device CA',
      key: icaKey,
      issuer: root,
      ca: {},
      notAfter: Date.UTC(2024, 0, 1),
    });
    const err = rejection(leaf, {
      anchors: [rootAnchor],
      intermediates: [badSig.cert, expired.cert],
      time: T,
    });
    expect(err).toMatchObject({ code: 'PATH_CERT_EXPIRED', details: { position: 1 } });
  });
});

describe('validatePath: quirks', () => {
  let v1Ca: TestCert;
  let below: TestCert;
  beforeAll(() => {
    v1Ca = issue({ subject: 'Vendor V1 CA', key: ecKey(), issuer: root, version: 1 });
    below = issue({ subject: 'Vendor Leaf', key: ecKey(), issuer: v1Ca });
  });

  it('accepts a named deviation at its position and reports it (verdict position: leaf = 1)', () => {
    const path = validatePath(below.cert, {
      anchors: [rootAnchor],
      intermediates: [v1Ca.cert],
      time: T,
      quirks: [{ id: 'vendor-v1-ca', relax: 'ca-flag-missing', position: 1, anchorIds: ['test-root'] }],
    });
    expect(path.quirks).toEqual([
      { id: 'vendor-v1-ca', position: 2, detail: expect.stringContaining('ca-flag-missing') },
    ]);
  });

  it('never applies a quirk at another position', () => {
    const err = rejection(below, {
      anchors: [rootAnchor],
      intermediates: [v1Ca.cert],
      time: T,
      quirks: [{ id: 'vendor-v1-ca', relax: 'ca-flag-missing', position: 2 }],
    });
    expect(err.code).toBe('PATH_NOT_CA');
  });

  it('never applies a quirk when the path ends at an anchor outside its anchorIds', () => {
    const err = rejection(below, {
      anchors: [rootAnchor],
      intermediates: [v1Ca.cert],
      time: T,
      quirks: [{ id: 'vendor-v1-ca', relax: 'ca-flag-missing', position: 1, anchorIds: ['another-vendor'] }],
    });
    expect(err).toMatchObject({ code: 'PATH_NOT_CA', details: { position: 1, anchor: 'test-root' } });
  });

  it('never lets a quirk for one deviation accept another', () => {
    const err = rejection(below, {
      anchors: [rootAnchor],
      intermediates: [v1Ca.cert],
      time: T,
      quirks: [{ id: 'wrong-kind', relax: 'non-ca-issuer', position: 1 }],
    });
    expect(err.code).toBe('PATH_NOT_CA');
  });

  it('accepts an expired device certificate only through an expired quirk scoped to its position', () => {
    const old = issue({ subject: 'Old Token', key: ecKey(), issuer: ica, notAfter: Date.UTC(2024, 0, 1) });
    const options = { anchors: [rootAnchor], intermediates: [ica.cert], time: T };
    const path = validatePath(old.cert, {
      ...options,
      quirks: [{ id: 'token-no-clock', relax: 'expired', position: 0 }],
    });
    expect(path.quirks.map((q) => [q.id, q.position])).toEqual([['token-no-clock', 1]]);
    expect(
      rejection(old, { ...options, quirks: [{ id: 'token-no-clock', relax: 'expired', position: 1 }] }).code,
    ).toBe('PATH_CERT_EXPIRED');
  });

  it('accepts GeneralizedTime before 2050 only with its quirk (CERT_MALFORMED without)', () => {
    const gt = issue({ subject: 'GT Leaf', key: ecKey(), issuer: ica, generalizedTime: true });
    expect(gt.cert.deviations).toContain('generalized-time-before-2050');
    const options = { anchors: [rootAnchor], intermediates: [ica.cert], time: T };
    expect(rejection(gt, options).code).toBe('CERT_MALFORMED');
    const path = validatePath(gt.cert, {
      ...options,
      quirks: [{ id: 'vendor-gt', relax: 'generalized-time-before-2050', position: 0 }],
    });
    expect(path.quirks[0]?.id).toBe('vendor-gt');
  });

  it('accepts ecdsa-with-SHA256 with NULL parameters only with its quirk', () => {
    const nul = issue({ subject: 'Null Params Leaf', key: ecKey(), issuer: ica, ecdsaNullParams: true });
    const options = { anchors: [rootAnchor], intermediates: [ica.cert], time: T };
    expect(rejection(nul, options).code).toBe('ALGORITHM_NOT_ALLOWED');
    const path = validatePath(nul.cert, {
      ...options,
      quirks: [{ id: 'java-null', relax: 'ecdsa-null-params', position: 0 }],
    });
    expect(path.quirks.map((q) => q.id)).toEqual(['java-null']);
  });

  it('accepts a violated pathLenConstraint only with a path-length quirk at the constraining CA', () => {
    const sub = issue({ subject: 'Sub CA', key: ecKey(), issuer: ica, ca: {} });
    const ee = issue({ subject: 'EE', key: ecKey(), issuer: sub });
    const options = { anchors: [rootAnchor], intermediates: [ica.cert, sub.cert], time: T };
    expect(
      rejection(ee, { ...options, quirks: [{ id: 'pl', relax: 'path-length', position: 1 }] }).code,
    ).toBe('PATH_LENGTH_EXCEEDED');
    expect(
      validatePath(ee.cert, { ...options, quirks: [{ id: 'pl', relax: 'path-length', position: 2 }] }).quirks,
    ).toHaveLength(1);
  });
});

describe('validatePath: extended key usage and the strict profile', () => {
  it('requires the extended key usages asked for, on the leaf and on CAs that restrict them', () => {
    const serverLeaf = issue({ subject: 'Server', key: ecKey(), issuer: ica, extKeyUsage: [SERVER_AUTH] });
    const options = { anchors: [rootAnchor], intermediates: [ica.cert], time: T };
    expect(
      validatePath(serverLeaf.cert, { ...options, requiredExtendedKeyUsages: [SERVER_AUTH] }).certificates,
    ).toHaveLength(3);
    expect(rejection(serverLeaf, { ...options, requiredExtendedKeyUsages: [CLIENT_AUTH] }).code).toBe(
      'PATH_INVALID',
    );

    const emailCa = issue({
      subject: 'Email CA',
      key: ecKey(),
      issuer: root,
      ca: {},
      extKeyUsage: ['1.3.6.1.5.5.7.3.4'],
    });
    const under = issue({ subject: 'Server 2', key: ecKey(), issuer: emailCa, extKeyUsage: [SERVER_AUTH] });
    expect(
      rejection(under, {
        anchors: [rootAnchor],
        intermediates: [emailCa.cert],
        time: T,
        requiredExtendedKeyUsages: [SERVER_AUTH],
      }),
    ).toMatchObject({ code: 'PATH_INVALID', details: { position: 1 } });
  });

  it('accepts a leaf without authorityKeyIdentifier by default and rejects it in the strict profile', () => {
    const noAki = issue({ subject: 'No AKI', key: ecKey(), issuer: ica, noAki: true });
    const options = { anchors: [rootAnchor], intermediates: [ica.cert], time: T };
    expect(validatePath(noAki.cert, options).certificates).toHaveLength(3);
    expect(rejection(noAki, { ...options, profile: 'strict' }).code).toBe('PATH_INVALID');
  });

  it('accepts a conforming chain in the strict profile', () => {
    expect(
      validatePath(leaf.cert, {
        anchors: [rootAnchor],
        intermediates: [ica.cert],
        time: T,
        profile: 'strict',
      }).certificates,
    ).toHaveLength(3);
  });

  it('rejects a non-critical basicConstraints in a CA only in the strict profile', () => {
    const soft = issue({ subject: 'Soft BC CA', key: ecKey(), issuer: root, ca: { critical: false } });
    const ee = issue({ subject: 'EE', key: ecKey(), issuer: soft });
    const options = { anchors: [rootAnchor], intermediates: [soft.cert], time: T };
    expect(validatePath(ee.cert, options).certificates).toHaveLength(3);
    expect(rejection(ee, { ...options, profile: 'strict' })).toMatchObject({
      code: 'PATH_INVALID',
      details: { position: 1 },
    });
  });
});
