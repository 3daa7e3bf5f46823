/**
 * The WebAuthn `android-key` statement verifier on generated material: a credential key whose
 * certificate (under a test CA) carries a KeyDescription built with the android-key test
 * builder. Each WebAuthn §8.4 check fails with its own code; mutations only ever throw
 * ProvenanceError.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { KEY_DESCRIPTION_OID } from '../../../src/formats/android-key/key-description.js';
import { androidKeyStatement } from '../../../src/formats/webauthn/android-key.js';
import { type CborMap, type CborValue, encodeCbor } from '../../../src/formats/webauthn/cbor.js';
import { parseAuthenticatorData } from '../../../src/formats/webauthn/containers.js';
import { COSE_ALG } from '../../../src/formats/webauthn/cose.js';
import type { AuthenticatorData } from '../../../src/formats/webauthn/types.js';
import { KeyCache } from '../../../src/pki/keys.js';
import { fuzzParameters, outcome } from '../../helpers/fuzz.js';
import { ecKey, issue, type TestKey } from '../../helpers/pki.js';
import {
  applicationId,
  authList,
  intSet,
  keyDescription,
  rootOfTrust,
  teeHardwareList,
} from '../android-key/build.js';

const cache = new KeyCache();
const ca = issue({ subject: 'Android Attestation Test CA', key: ecKey(), ca: {} });

function authDataFor(key: KeyObject): AuthenticatorData {
  const jwk = key.export({ format: 'jwk' });
  const cose: CborMap = new Map<number | string, CborValue>([
    [1, 2],
    [3, COSE_ALG.ES256],
    [-1, 1],
    [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
    [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
  ]);
  const credId = randomBytes(16);
  const raw = Buffer.concat([
    createHash('sha256').update('example.com').digest(),
    Uint8Array.of(0x45),
    Uint8Array.of(0, 0, 0, 1),
    new Uint8Array(16).fill(0x55),
    Uint8Array.of(0, credId.length),
    credId,
    encodeCbor(cose),
  ]);
  return parseAuthenticatorData(new Uint8Array(raw));
}

interface Build {
  /** KeyDescription (the default binds clientDataHash with a TEE hardware list). */
  kd?: (clientDataHash: Uint8Array) => Uint8Array | null;
  /** The certificate is for another key than the credential (and that key signs). */
  otherCertKey?: boolean;
  signWith?: KeyObject;
  edit?: (m: CborMap) => void;
}

function build(o: Build = {}) {
  const cred = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certKey: TestKey = o.otherCertKey
    ? ecKey()
    : {
        privateKey: cred.privateKey,
        spki: new Uint8Array(cred.publicKey.export({ type: 'spki', format: 'der' })),
      };
  const authData = authDataFor(cred.publicKey);
  const clientDataHash = new Uint8Array(randomBytes(32));
  const kd = o.kd ? o.kd(clientDataHash) : keyDescription({ challenge: clientDataHash });
  const cert = issue({
    subject: 'Android Keystore Key',
    key: certKey,
    issuer: ca,
    extensions: kd ? [{ oid: KEY_DESCRIPTION_OID, value: kd }] : [],
  });
  const sig = sign('sha256', Buffer.concat([authData.raw, clientDataHash]), {
    key: o.signWith ?? certKey.privateKey,
    dsaEncoding: 'der',
  });
  const stmt: CborMap = new Map<number | string, CborValue>([
    ['alg', COSE_ALG.ES256],
    ['sig', new Uint8Array(sig)],
    ['x5c', [cert.der, ca.der]],
  ]);
  o.edit?.(stmt);
  return { stmt, authData, clientDataHash };
}

const run = (b: ReturnType<typeof build>) =>
  androidKeyStatement.verify(b.stmt, b.authData, b.clientDataHash, { keyCache: cache });

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
}

/** A hardware list without origin and purpose (they then sit in the software list only). */
const hwWithoutOriginPurpose = () =>
  authList([2, der.int(3)], [704, rootOfTrust(true, 0, new Uint8Array(32))]);
const swWithOriginPurpose = () => authList([1, intSet(2)], [702, der.int(0)]);

/** Random CBOR values with the statement's member names as keys (shape fuzzing). */
function stmtArbitrary(keys: readonly string[]): fc.Arbitrary<CborValue> {
  const leaf: fc.Arbitrary<CborValue> = fc.oneof(
    fc.integer({ min: -70_000, max: 70_000 }),
    fc.string({ maxLength: 8 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 64 }).map((b) => new Uint8Array(b)),
  );
  const value = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }));
  return fc
    .array(fc.tuple(fc.constantFrom(...keys, 'other'), value), { maxLength: keys.length + 1 })
    .map((entries) => new Map<number | string, CborValue>(entries) as CborValue);
}

describe('android-key statement (generated)', () => {
  it('accepts a TEE key: basic, leaf is the credential, Android claims', () => {
    const r = run(build());
    expect(r.attestationType).toBe('basic');
    expect(r.leafIsCredential).toBe(true);
    expect(r.trustPath).toHaveLength(2);
    expect(r.quirks).toEqual([]);
    expect(r.claims).toMatchObject({
      securityLevel: 'tee',
      generatedOnDevice: true,
      nonExportable: true,
      keyPurposes: ['sign'],
      androidVerifiedBootState: 'verified',
      androidDeviceLocked: true,
    });
  });

  it('a StrongBox key claims secure-element; mixed levels claim the lower one', () => {
    const strongbox = (c: Uint8Array) =>
      keyDescription({ challenge: c, attestationSecurityLevel: 2, keyMintSecurityLevel: 2 });
    expect(run(build({ kd: strongbox })).claims?.securityLevel).toBe('secure-element');
    const mixed = (c: Uint8Array) =>
      keyDescription({ challenge: c, attestationSecurityLevel: 2, keyMintSecurityLevel: 1 });
    expect(run(build({ kd: mixed })).claims).toMatchObject({
      securityLevel: 'tee',
      androidSecurityLevel: 'tee',
    });
  });

  it('a software key reads origin/purpose from the union and claims software', () => {
    const kd = (c: Uint8Array) =>
      keyDescription({
        challenge: c,
        attestationSecurityLevel: 0,
        keyMintSecurityLevel: 0,
        software: swWithOriginPurpose(),
        hardware: authList(),
      });
    const r = run(build({ kd }));
    expect(r.claims).toMatchObject({
      securityLevel: 'software',
      nonExportable: false,
      generatedOnDevice: true,
    });
  });

  it('a TEE key whose origin/purpose are only software-enforced is ATTESTATION_INVALID', () => {
    const kd = (c: Uint8Array) =>
      keyDescription({ challenge: c, software: swWithOriginPurpose(), hardware: hwWithoutOriginPurpose() });
    expect(code(() => run(build({ kd })))).toBe('ATTESTATION_INVALID');
  });

  it('an imported key or one without the sign purpose is ATTESTATION_INVALID', () => {
    const imported = (c: Uint8Array) =>
      keyDescription({ challenge: c, hardware: teeHardwareList({ origin: 2 }) });
    const agree = (c: Uint8Array) =>
      keyDescription({ challenge: c, hardware: teeHardwareList({ purposes: [6] }) });
    expect(code(() => run(build({ kd: imported })))).toBe('ATTESTATION_INVALID');
    expect(code(() => run(build({ kd: agree })))).toBe('ATTESTATION_INVALID');
  });

  it('allApplications (tag 600) in either list is ATTESTATION_INVALID', () => {
    const sw = (c: Uint8Array) =>
      keyDescription({ challenge: c, software: authList([600, der.null()], [701, der.int(1)]) });
    const hw = (c: Uint8Array) =>
      keyDescription({
        challenge: c,
        hardware: authList([1, intSet(2)], [600, der.null()], [702, der.int(0)]),
      });
    expect(code(() => run(build({ kd: sw })))).toBe('ATTESTATION_INVALID');
    expect(code(() => run(build({ kd: hw })))).toBe('ATTESTATION_INVALID');
  });

  it('an attestationChallenge other than clientDataHash is NONCE_MISMATCH', () => {
    expect(code(() => run(build({ kd: () => keyDescription({ challenge: new Uint8Array(32) }) })))).toBe(
      'NONCE_MISMATCH',
    );
  });

  it('a certificate for another key than the credential is KEY_MISMATCH', () => {
    expect(code(() => run(build({ otherCertKey: true })))).toBe('KEY_MISMATCH');
  });

  it('a signature by another key is SIGNATURE_INVALID', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(code(() => run(build({ signWith: other })))).toBe('SIGNATURE_INVALID');
  });

  it('no KeyDescription is ATTESTATION_INVALID; a broken one ATTESTATION_MALFORMED', () => {
    expect(code(() => run(build({ kd: () => null })))).toBe('ATTESTATION_INVALID');
    expect(code(() => run(build({ kd: () => der.seq(der.int(3)) })))).toBe('ATTESTATION_MALFORMED');
  });

  it('unknown members or a missing x5c are ATTESTATION_MALFORMED', () => {
    expect(code(() => run(build({ edit: (m) => m.set('ver', '1') })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ edit: (m) => m.delete('x5c') })))).toBe('ATTESTATION_MALFORMED');
  });

  it('KeyDescription deviations are accepted and reported on position 0 (the credential certificate)', () => {
    const kd = (c: Uint8Array) =>
      keyDescription({
        challenge: c,
        software: authList([709, der.octets(applicationId([['com.example', 1]], []))], [701, der.int(1)]),
      });
    const r = run(build({ kd }));
    expect(r.quirks).toEqual([
      expect.objectContaining({ id: 'android-key-description-tags-out-of-order', position: 0 }),
    ]);
  });

  it('mutated sig and credential certificate only ever throw ProvenanceError', () => {
    const b = build();
    const leaf = (b.stmt.get('x5c') as Uint8Array[])[0]!;
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 }), (inCert, at, xor) => {
        const m: CborMap = new Map(b.stmt);
        const v = (inCert ? leaf : (b.stmt.get('sig') as Uint8Array)).slice();
        const i = at % v.length;
        v[i] = v[i]! ^ xor;
        if (inCert) m.set('x5c', [v, ca.der]);
        else m.set('sig', v);
        // A changed signature never verifies; a changed certificate may still parse (its own
        // signature is the path stage's), but nothing other than a ProvenanceError escapes.
        const r = outcome(() => androidKeyStatement.verify(m, b.authData, b.clientDataHash, {}));
        if (!inCert) expect(r).not.toBe('ok');
      }),
      fuzzParameters(300),
    );
  });
  it('random statement shapes only ever throw ProvenanceError', () => {
    const b = build();
    fc.assert(
      fc.property(stmtArbitrary(['alg', 'sig', 'x5c']), (stmt) => {
        expect(
          outcome(() => androidKeyStatement.verify(stmt, b.authData, b.clientDataHash, { keyCache: cache })),
        ).not.toBe('ok');
      }),
      fuzzParameters(300),
    );
  });
});
