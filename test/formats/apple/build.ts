/**
 * Synthetic Apple evidence for the apple format tests: an App Attest PKI (P-384 root,
 * intermediate, P-256 credential certificate with the nonce extension) and attestation objects
 * built with the WebAuthn CBOR encoder; Managed Device Attestation leaves with the Apple
 * device-property extensions in both encodings (raw bytes and DER).
 */
import { createHash } from 'node:crypto';
import { der } from '../../../src/core/der-writer.js';
import { APP_ATTEST_AAGUID, APP_ATTEST_OID, MDA_OID } from '../../../src/formats/apple/index.js';
import { type CborValue, encodeCbor } from '../../../src/formats/webauthn/cbor.js';
import { type ExtensionSpec, ecKey, issue, type TestCert, type TestKey } from '../../helpers/pki.js';

export const sha = (...parts: Uint8Array[]): Uint8Array =>
  new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());

export interface AppleTestPki {
  readonly root: TestCert;
  readonly intermediate: TestCert;
}

/** Root and intermediate, shaped like Apple's (P-384 CAs, pathLen 0 on the intermediate). */
export function appleCa(name = 'Test App Attestation'): AppleTestPki {
  const root = issue({ subject: `${name} Root CA`, key: ecKey('P-384'), ca: {} });
  const intermediate = issue({
    subject: `${name} CA 1`,
    key: ecKey('P-384'),
    issuer: root,
    ca: { pathLen: 0 },
  });
  return { root, intermediate };
}

/** The nonce extension value: SEQUENCE { [1] EXPLICIT OCTET STRING }. */
export function nonceExtension(nonce: Uint8Array): Uint8Array {
  return der.seq(der.explicit(1, der.octets(nonce)));
}

export interface AppAttestOptions {
  readonly appId?: string;
  readonly challenge?: Uint8Array;
  readonly aaguid?: Uint8Array;
  readonly counter?: number;
  /** Put this key's id in credentialId instead of the certificate key's. */
  readonly credentialIdKey?: TestKey;
  /** Put this key in authData instead of the certificate key. */
  readonly authDataKey?: TestKey;
  /** Certificate nonce override (default: the correct one). */
  readonly certNonce?: Uint8Array;
  readonly fmt?: string;
  readonly extraStmt?: boolean;
}

export const APP_ID = 'ABCDE12345.com.example.app';
export const CHALLENGE = new Uint8Array(Buffer.from('server challenge 0001'));

function point(key: TestKey): Uint8Array {
  return key.spki.slice(key.spki.length - 65);
}

function coseKey(key: TestKey): CborValue {
  const p = point(key);
  return new Map<number, CborValue>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, p.slice(1, 33)],
    [-3, p.slice(33)],
  ]);
}

/** A signed-off App Attest attestation object for a fresh P-256 key under `pki`. */
export function appAttestObject(
  pki: AppleTestPki,
  o: AppAttestOptions = {},
): { object: Uint8Array; key: TestKey; cert: TestCert } {
  const key = ecKey();
  const credId = sha(point(o.credentialIdKey ?? key));
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(o.counter ?? 0);
  const authData = Buffer.concat([
    sha(Buffer.from(o.appId ?? APP_ID)),
    Buffer.of(0x40),
    counter,
    o.aaguid ?? APP_ATTEST_AAGUID.production,
    Buffer.of(0, credId.length),
    credId,
    encodeCbor(coseKey(o.authDataKey ?? key)),
  ]);
  const nonce = o.certNonce ?? sha(authData, sha(o.challenge ?? CHALLENGE));
  const cert = issue({
    subject: Buffer.from(credId).toString('hex'),
    key,
    issuer: pki.intermediate,
    notCa: true,
    keyUsage: ['digitalSignature'],
    extensions: [{ oid: APP_ATTEST_OID.nonce, value: nonceExtension(nonce) }],
  });
  const stmt = new Map<string, CborValue>([
    ['x5c', [cert.der, pki.intermediate.der]],
    ['receipt', new Uint8Array([0x30, 0x80, 1, 2, 3])],
  ]);
  if (o.extraStmt) stmt.set('alg', -7);
  const object = encodeCbor(
    new Map<string, CborValue>([
      ['fmt', o.fmt ?? 'apple-appattest'],
      ['attStmt', stmt],
      ['authData', new Uint8Array(authData)],
    ]),
  );
  return { object, key, cert };
}

/** An MDA leaf under `pki` with the given extension values (raw extnValue bytes). */
export function mdaLeaf(
  pki: AppleTestPki,
  values: Partial<Record<keyof typeof MDA_OID, Uint8Array>>,
  key = ecKey('P-384'),
): TestCert {
  const extensions: ExtensionSpec[] = Object.entries(values).map(([k, v]) => ({
    oid: MDA_OID[k as keyof typeof MDA_OID],
    value: v!,
  }));
  return issue({ subject: 'device attestation', key, issuer: pki.intermediate, notCa: true, extensions });
}
