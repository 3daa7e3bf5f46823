/**
 * Synthetic WebAuthn registrations for tests: authenticator data, COSE keys, attestation
 * objects (packed basic/self, fido-u2f, apple, none, compound) and RegistrationResponseJSON,
 * signed with fresh keys under a generated vendor PKI.
 */
import { createHash, type KeyObject, sign } from 'node:crypto';
import { der } from '../../../src/core/der-writer.js';
import { OID } from '../../../src/core/oids.js';
import { type CborMap, type CborValue, encodeCbor } from '../../../src/formats/webauthn/cbor.js';
import { FIDO_OID } from '../../../src/formats/webauthn/helpers.js';
import { encodeName } from '../../../src/pki/name.js';
import { ecKey, issue, type TestCert, type TestKey } from '../../helpers/pki.js';

export const RP_ID = 'example.com';
export const ORIGIN = 'https://example.com';
export const CHALLENGE = new Uint8Array(Buffer.from('registration-challenge-0123456789'));
export const AAGUID_A = '11111111-2222-4333-8444-555555555555';
export const AAGUID_B = '99999999-8888-4777-8666-555555555555';

export const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

export function aaguidBytes(uuid: string): Uint8Array {
  return new Uint8Array(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

/** COSE_Key for an EC P-256 public key (kty 2, alg -7, crv 1). */
export function coseEc2(key: TestKey): Map<number, CborValue> {
  const raw = key.spki.subarray(key.spki.length - 64);
  return new Map<number, CborValue>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, raw.slice(0, 32)],
    [-3, raw.slice(32)],
  ]);
}

export interface AuthDataSpec {
  readonly rpId?: string;
  readonly flags?: number;
  readonly signCount?: number;
  readonly aaguid?: Uint8Array;
  readonly credentialId?: Uint8Array;
  readonly coseKey?: CborValue;
  /** Raw bytes instead of the encoded COSE key. */
  readonly coseBytes?: Uint8Array;
  readonly extensions?: Uint8Array;
  readonly trailing?: Uint8Array;
}

/** authenticatorData: UP | AT by default (0x41). */
export function authData(spec: AuthDataSpec, credential: TestKey): Uint8Array {
  const flags = spec.flags ?? 0x41;
  const head = new Uint8Array(37);
  head.set(sha256(Buffer.from(spec.rpId ?? RP_ID)), 0);
  head[32] = flags;
  new DataView(head.buffer).setUint32(33, spec.signCount ?? 0);
  const parts: Uint8Array[] = [head];
  if (flags & 0x40) {
    const id = spec.credentialId ?? new Uint8Array(16).fill(7);
    const idLen = new Uint8Array([id.length >> 8, id.length & 0xff]);
    parts.push(spec.aaguid ?? aaguidBytes(AAGUID_A), idLen, id);
    parts.push(spec.coseBytes ?? encodeCbor(spec.coseKey ?? coseEc2(credential)));
  }
  if (spec.extensions) parts.push(spec.extensions);
  if (spec.trailing) parts.push(spec.trailing);
  return new Uint8Array(Buffer.concat(parts));
}

export function clientDataJSON(
  over: Partial<{
    type: string;
    challenge: string;
    origin: string;
    crossOrigin: boolean;
    topOrigin: string;
  }> = {},
): Uint8Array {
  return new Uint8Array(
    Buffer.from(
      JSON.stringify({
        type: 'webauthn.create',
        challenge: Buffer.from(CHALLENGE).toString('base64url'),
        origin: ORIGIN,
        crossOrigin: false,
        ...over,
      }),
    ),
  );
}

export function signDer(key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign('sha256', data, { key, dsaEncoding: 'der' }));
}

/** A vendor PKI: root → attestation certificate with the packed §8.2.1 subject. */
export interface Vendor {
  readonly root: TestCert;
  readonly leaf: TestCert;
}

export function packedSubject(o = 'Vendor A', ou = 'Authenticator Attestation'): Uint8Array {
  return encodeName(`CN=Vendor Authenticator,OU=${ou},O=${o},C=SE`);
}

/** The double-wrapped AAGUID extension value (the helper wraps it once more as extnValue). */
export function aaguidExtension(uuid: string): { oid: string; value: Uint8Array } {
  return { oid: FIDO_OID.aaguid, value: der.octets(aaguidBytes(uuid)) };
}

export function vendor(
  options: {
    name?: string;
    aaguidExt?: string;
    subject?: Uint8Array;
    ca?: boolean;
    fwVersion?: number;
    key?: TestKey;
  } = {},
): Vendor {
  const root = issue({ subject: `${options.name ?? 'Vendor A'} FIDO Root`, key: ecKey(), ca: {} });
  const extensions = [
    ...(options.aaguidExt ? [aaguidExtension(options.aaguidExt)] : []),
    ...(options.fwVersion !== undefined
      ? [{ oid: FIDO_OID.fwVersion, value: der.int(options.fwVersion) }]
      : []),
  ];
  const leaf = issue({
    subject: options.subject ?? packedSubject(options.name ?? 'Vendor A'),
    key: options.key ?? ecKey(),
    issuer: root,
    ...(options.ca ? { ca: {} } : { keyUsage: ['digitalSignature'] }),
    extensions,
  });
  return { root, leaf };
}

export function attestationObject(fmt: string, attStmt: CborValue, ad: Uint8Array): Uint8Array {
  return encodeCbor(
    new Map<string, CborValue>([
      ['fmt', fmt],
      ['attStmt', attStmt],
      ['authData', ad],
    ]),
  );
}

/** packed basic: sig by the vendor leaf over authData ‖ clientDataHash. */
export function packedBasic(ad: Uint8Array, cdj: Uint8Array, v: Vendor, extra: TestCert[] = []): CborMap {
  const sig = signDer(v.leaf.key.privateKey, Buffer.concat([ad, sha256(cdj)]));
  return new Map<string, CborValue>([
    ['alg', -7],
    ['sig', sig],
    ['x5c', [v.leaf.der, ...extra.map((c) => c.der)]],
  ]);
}

/** packed self: sig by the credential key. */
export function packedSelf(ad: Uint8Array, cdj: Uint8Array, credential: TestKey): CborMap {
  return new Map<string, CborValue>([
    ['alg', -7],
    ['sig', signDer(credential.privateKey, Buffer.concat([ad, sha256(cdj)]))],
  ]);
}

/** fido-u2f: sig over 0x00 ‖ rpIdHash ‖ clientDataHash ‖ credentialId ‖ 04 x y. */
export function u2f(cdj: Uint8Array, v: Vendor, credential: TestKey, credentialId: Uint8Array): CborMap {
  const raw = credential.spki.subarray(credential.spki.length - 64);
  const data = Buffer.concat([
    Buffer.of(0),
    sha256(Buffer.from(RP_ID)),
    sha256(cdj),
    credentialId,
    Buffer.of(4),
    raw,
  ]);
  return new Map<string, CborValue>([
    ['sig', signDer(v.leaf.key.privateKey, data)],
    ['x5c', [v.leaf.der]],
  ]);
}

/** An Apple-style credential certificate: the credential key, nonce extension. */
export function appleCert(root: TestCert, credential: TestKey, nonce: Uint8Array): TestCert {
  return issue({
    subject: 'Apple credential',
    key: credential,
    issuer: root,
    keyUsage: ['digitalSignature'],
    extensions: [{ oid: FIDO_OID.appleNonce, value: der.seq(explicit1(der.octets(nonce))) }],
  });
}

function explicit1(inner: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + inner.length);
  out[0] = 0xa1;
  out[1] = inner.length;
  out.set(inner, 2);
  return out;
}

/** A RegistrationResponseJSON for the attestation object and client data. */
export function registrationJson(ao: Uint8Array, cdj: Uint8Array): Uint8Array {
  return new Uint8Array(
    Buffer.from(
      JSON.stringify({
        id: 'AAAA',
        rawId: 'AAAA',
        type: 'public-key',
        response: {
          attestationObject: Buffer.from(ao).toString('base64url'),
          clientDataJSON: Buffer.from(cdj).toString('base64url'),
        },
      }),
    ),
  );
}

export { OID };
