/**
 * The Marvell (Cavium) LiquidSecurity key attestation blob that Google Cloud HSM returns
 * (standards.md §12.2; docs/cloud-hsm.md): a big-endian record of the key objects' attributes
 * followed by a 256-byte RSASSA-PKCS1-v1_5/SHA-256 signature by the HSM partition key.
 *
 *   response header  u32 responseCode (0) | u32 flags | u32 totalSize (= whole blob) | u32 bufferSize
 *   object handles   u64 each, one per key object (1 for a secret key, 2 for a key pair)
 *   info header      u16 objectVersion | u16 flags | u16 offsetFirst | u16 offsetSecond (0: none)
 *   object           u32 handle | u32 attributeCount | u32 size | size bytes of attributes
 *   attribute        u32 type | u32 length | length bytes
 *   signature        256 bytes over everything before it
 *
 * The parser is strict (every length and offset must account for every byte, no trailing data)
 * and bounded (blob size, object and attribute counts, attribute sizes).
 *
 * @example
 * const blob = parseMarvellAttestation(decodeAttestationBytes(fileBytes));
 * blob.objects[0].attributes.get(MARVELL_ATTR.extractable);
 */
import { gunzipSync } from 'node:zlib';
import { der } from '../../core/der-writer.js';
import { fail } from '../../core/errors.js';
import { OID } from '../../core/oids.js';

/** Limits of the blob parser (the real blobs are 1-3 KiB). */
export const MARVELL_LIMITS = {
  /** Largest decompressed blob. */
  maxBytes: 64 * 1024,
  /** Largest blob as given (compressed or base64). */
  maxInputBytes: 128 * 1024,
  /** Attributes per key object. */
  maxAttributes: 128,
  /** Bytes in one attribute value (an RSA-8192 modulus is 1 KiB). */
  maxAttributeBytes: 2048,
} as const;

/** Bytes of the trailing partition-key signature (RSA-2048). */
export const MARVELL_SIGNATURE_BYTES = 256;

/** Attribute type ids (PKCS#11-like `OBJ_ATTR_*`, standards.md §12.2). */
export const MARVELL_ATTR = {
  class: 0x0000,
  token: 0x0001,
  private: 0x0002,
  label: 0x0003,
  trusted: 0x0086,
  keyType: 0x0100,
  id: 0x0102,
  sensitive: 0x0103,
  encrypt: 0x0104,
  decrypt: 0x0105,
  wrap: 0x0106,
  unwrap: 0x0107,
  sign: 0x0108,
  verify: 0x010a,
  derive: 0x010c,
  /** RSA modulus, or the uncompressed EC point for EC keys. */
  modulus: 0x0120,
  modulusBits: 0x0121,
  publicExponent: 0x0122,
  valueLen: 0x0161,
  extractable: 0x0162,
  local: 0x0163,
  neverExtractable: 0x0164,
  alwaysSensitive: 0x0165,
  kcv: 0x0173,
  wrapWithTrusted: 0x0210,
} as const;

/** Object classes (CKO_*). */
export const MARVELL_CLASS = { publicKey: 2, privateKey: 3, secretKey: 4 } as const;

/** Key types (CKK_*) this module names. */
export const MARVELL_KEY_TYPE = { rsa: 0x00, ec: 0x03, aes: 0x1f } as const;

/** One key object of the blob. */
export interface MarvellObject {
  readonly handle: number;
  /** Attribute type → value; each type appears once (a duplicate is malformed). */
  readonly attributes: ReadonlyMap<number, Uint8Array>;
}

/** A parsed blob. */
export interface MarvellAttestation {
  readonly flags: number;
  readonly objectVersion: number;
  /** One (secret or private key) or two (public and private key) objects, in blob order. */
  readonly objects: readonly MarvellObject[];
  /** The bytes the signature covers (everything but the last 256). */
  readonly signedData: Uint8Array;
  readonly signature: Uint8Array;
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * The blob bytes from what a user has: gzip (Cloud KMS `content`), the raw record, or either
 * in base64 / base64url text. Decompression is bounded (MARVELL_LIMITS.maxBytes).
 */
export function decodeAttestationBytes(input: Uint8Array): Uint8Array {
  if (input.length > MARVELL_LIMITS.maxInputBytes) {
    fail(
      'INPUT_TOO_LARGE',
      `cloud HSM attestation of ${input.length} bytes exceeds ${MARVELL_LIMITS.maxInputBytes}`,
    );
  }
  let bytes = input;
  if (!isGzip(bytes) && looksLikeBase64(bytes)) {
    const text = Buffer.from(bytes).toString('latin1').replace(/\s+/g, '');
    const std = text.replace(/-/g, '+').replace(/_/g, '/');
    const decoded = Buffer.from(std, 'base64');
    // Node's decoder skips junk silently: a round trip proves the text was base64 and nothing else.
    if (decoded.toString('base64').replace(/=+$/, '') !== std.replace(/=+$/, '')) {
      fail('ATTESTATION_MALFORMED', 'cloud HSM attestation text is not base64');
    }
    bytes = new Uint8Array(decoded);
  }
  if (isGzip(bytes)) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes, { maxOutputLength: MARVELL_LIMITS.maxBytes }));
    } catch (err) {
      const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      fail(
        tooLarge ? 'INPUT_TOO_LARGE' : 'ATTESTATION_MALFORMED',
        tooLarge
          ? `cloud HSM attestation inflates beyond ${MARVELL_LIMITS.maxBytes} bytes`
          : `cloud HSM attestation is not valid gzip: ${(err as Error).message}`,
      );
    }
  }
  return bytes;
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
}

function looksLikeBase64(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  for (const c of b) {
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f ||
      c === 0x2d ||
      c === 0x5f ||
      c === 0x3d ||
      c === 0x0a ||
      c === 0x0d ||
      c === 0x20;
    if (!ok) return false;
  }
  return true;
}

/** Parse a decompressed blob strictly. ATTESTATION_MALFORMED for any layout fault. */
export function parseMarvellAttestation(blob: Uint8Array): MarvellAttestation {
  if (blob.length > MARVELL_LIMITS.maxBytes) {
    fail(
      'INPUT_TOO_LARGE',
      `cloud HSM attestation of ${blob.length} bytes exceeds ${MARVELL_LIMITS.maxBytes}`,
    );
  }
  const bad = (what: string, details: Record<string, unknown> = {}): never =>
    fail('ATTESTATION_MALFORMED', `cloud HSM attestation: ${what}`, details);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const u32 = (o: number): number => {
    if (o + 4 > blob.length) bad('truncated', { offset: o });
    return view.getUint32(o);
  };
  const u16 = (o: number): number => {
    if (o + 2 > blob.length) bad('truncated', { offset: o });
    return view.getUint16(o);
  };
  if (blob.length < 16 + 8 + 8 + MARVELL_SIGNATURE_BYTES) bad('truncated', { size: blob.length });
  const responseCode = u32(0);
  const flags = u32(4);
  const totalSize = u32(8);
  const bufferSize = u32(12);
  if (responseCode !== 0) bad(`response code ${responseCode} is not success`);
  // totalSize accounts for the whole record: a shorter or longer blob is truncated or padded.
  if (totalSize !== blob.length)
    bad(`header says ${totalSize} bytes, the blob has ${blob.length}`, { totalSize, size: blob.length });
  const infoAt = blob.length - MARVELL_SIGNATURE_BYTES - bufferSize;
  const handleBytes = infoAt - 16;
  if (infoAt < 16 || handleBytes % 8 !== 0 || handleBytes < 8 || handleBytes > 16) {
    bad('the buffer size does not leave room for one or two object handles', { bufferSize });
  }
  const handles: number[] = [];
  for (let o = 16; o < infoAt; o += 8) {
    // u64 handles; the high half is zero on every firmware seen (a value beyond 2^32 is refused).
    if (u32(o) !== 0) bad('object handle beyond 32 bits');
    handles.push(u32(o + 4));
  }
  const objectVersion = u16(infoAt);
  u16(infoAt + 2);
  const offsets = [u16(infoAt + 4), u16(infoAt + 6)];
  if (offsets[0] !== 8) bad(`first object at offset ${offsets[0]}, expected 8`);
  const objects: MarvellObject[] = [];
  let cursor = 8;
  for (const off of offsets) {
    if (off === 0) continue;
    if (off !== cursor) bad(`object at offset ${off}, expected ${cursor}`);
    const { object, end } = readObject(blob, u32, infoAt + off, infoAt + bufferSize, bad);
    objects.push(object);
    cursor = end - infoAt;
  }
  // Every byte of the buffer is an object: no gap, no trailing data before the signature.
  if (cursor !== bufferSize) bad(`${bufferSize - cursor} bytes after the last object`);
  if (objects.length !== handles.length) bad(`${handles.length} handles but ${objects.length} objects`);
  objects.forEach((o, i) => {
    if (o.handle !== handles[i]) bad(`object ${i} has handle ${o.handle}, the header lists ${handles[i]}`);
  });
  const split = blob.length - MARVELL_SIGNATURE_BYTES;
  return {
    flags,
    objectVersion,
    objects,
    signedData: blob.slice(0, split),
    signature: blob.slice(split),
  };
}

function readObject(
  blob: Uint8Array,
  u32: (o: number) => number,
  at: number,
  limit: number,
  bad: (what: string, details?: Record<string, unknown>) => never,
): { object: MarvellObject; end: number } {
  const handle = u32(at);
  const count = u32(at + 4);
  const size = u32(at + 8);
  if (count > MARVELL_LIMITS.maxAttributes)
    bad(`${count} attributes (limit ${MARVELL_LIMITS.maxAttributes})`);
  const end = at + 12 + size;
  if (end > limit) bad('an object runs past the buffer');
  const attributes = new Map<number, Uint8Array>();
  let p = at + 12;
  for (let i = 0; i < count; i++) {
    if (p + 8 > end) bad('an attribute header runs past its object');
    const type = u32(p);
    const len = u32(p + 4);
    if (len > MARVELL_LIMITS.maxAttributeBytes) bad(`attribute 0x${type.toString(16)} of ${len} bytes`);
    if (p + 8 + len > end) bad(`attribute 0x${type.toString(16)} runs past its object`);
    if (attributes.has(type)) bad(`attribute 0x${type.toString(16)} appears twice`);
    attributes.set(type, blob.slice(p + 8, p + 8 + len));
    p += 8 + len;
  }
  if (p !== end) bad(`object size ${size} does not match its ${count} attributes`);
  return { object: { handle, attributes }, end };
}

/** A boolean attribute: exactly one byte, 0 or 1. Undefined when absent. */
export function attrBool(obj: MarvellObject, type: number): boolean | undefined {
  const v = obj.attributes.get(type);
  if (v === undefined) return undefined;
  if (v.length !== 1 || v[0]! > 1) {
    fail('ATTESTATION_MALFORMED', `cloud HSM attribute 0x${type.toString(16)} is not a boolean`);
  }
  return v[0] === 1;
}

/** A u32 attribute (exactly 4 bytes) or undefined. */
export function attrU32(obj: MarvellObject, type: number): number | undefined {
  const v = obj.attributes.get(type);
  if (v === undefined) return undefined;
  if (v.length !== 4)
    fail('ATTESTATION_MALFORMED', `cloud HSM attribute 0x${type.toString(16)} is not 4 bytes`);
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
}

/** A one-byte enumerated attribute (class, key type) or undefined. */
export function attrByte(obj: MarvellObject, type: number): number | undefined {
  const v = obj.attributes.get(type);
  if (v === undefined) return undefined;
  if (v.length !== 1)
    fail('ATTESTATION_MALFORMED', `cloud HSM attribute 0x${type.toString(16)} is not 1 byte`);
  return v[0]!;
}

/** What the blob says about the attested key. */
export interface MarvellKey {
  /** 'rsa', 'ec-p256', 'ec-p384', 'ec-p521', 'aes', or 'key-type-0x..'. */
  readonly keyAlgorithm: string;
  /** Bits: modulus or curve size; AES key length. */
  readonly keySize?: number;
  /** SubjectPublicKeyInfo DER for RSA and EC keys; null for secret keys. */
  readonly spki: Uint8Array | null;
  /** The object whose attributes describe the secret half (private or secret key). */
  readonly privateObject: MarvellObject;
  readonly extractable: boolean;
  readonly neverExtractable: boolean;
  /** OBJ_ATTR_LOCAL: the key was generated in the HSM, not imported. */
  readonly local: boolean;
  readonly sensitive: boolean;
  readonly alwaysSensitive?: boolean;
}

const CURVES: Record<number, { oid: string; name: string; bits: number }> = {
  65: { oid: OID.p256, name: 'ec-p256', bits: 256 },
  97: { oid: OID.p384, name: 'ec-p384', bits: 384 },
  133: { oid: OID.p521, name: 'ec-p521', bits: 521 },
};

/**
 * Interpret the objects: a secret key alone, or a public/private pair of the same key type
 * and public value. Every attribute the verdict relies on must be present and well formed.
 */
export function describeMarvellKey(att: MarvellAttestation): MarvellKey {
  const bad = (what: string): never => fail('ATTESTATION_MALFORMED', `cloud HSM attestation: ${what}`);
  const classes = att.objects.map((o) => attrByte(o, MARVELL_ATTR.class));
  let priv: MarvellObject;
  let pub: MarvellObject | undefined;
  if (att.objects.length === 1) {
    // A secret key, or a private key alone (its object carries the public value too).
    if (classes[0] === MARVELL_CLASS.privateKey) pub = att.objects[0]!;
    else if (classes[0] !== MARVELL_CLASS.secretKey)
      bad('a single object that is neither a secret nor a private key');
    priv = att.objects[0]!;
  } else {
    const pi = classes.indexOf(MARVELL_CLASS.publicKey);
    const ki = classes.indexOf(MARVELL_CLASS.privateKey);
    if (pi < 0 || ki < 0) bad('two objects that are not a public and a private key');
    pub = att.objects[pi]!;
    priv = att.objects[ki]!;
  }
  const keyType = attrByte(priv, MARVELL_ATTR.keyType) ?? bad('no key type');
  if (pub && attrByte(pub, MARVELL_ATTR.keyType) !== keyType)
    bad('the public and private objects differ in key type');
  const need = (o: MarvellObject, t: number, what: string): boolean =>
    attrBool(o, t) ?? bad(`no ${what} attribute`);
  const common = {
    privateObject: priv,
    extractable: need(priv, MARVELL_ATTR.extractable, 'extractable'),
    neverExtractable: need(priv, MARVELL_ATTR.neverExtractable, 'never-extractable'),
    local: need(priv, MARVELL_ATTR.local, 'local'),
    sensitive: need(priv, MARVELL_ATTR.sensitive, 'sensitive'),
    ...optional('alwaysSensitive', attrBool(priv, MARVELL_ATTR.alwaysSensitive)),
  };
  if (keyType === MARVELL_KEY_TYPE.aes || !pub) {
    if (pub) bad('a secret key type in a key pair');
    const len = attrU32(priv, MARVELL_ATTR.valueLen);
    return {
      keyAlgorithm: keyType === MARVELL_KEY_TYPE.aes ? 'aes' : `key-type-0x${keyType.toString(16)}`,
      ...optional('keySize', len === undefined ? undefined : len * 8),
      spki: null,
      ...common,
    };
  }
  const value = pub.attributes.get(MARVELL_ATTR.modulus) ?? bad('no public value (modulus / EC point)');
  const privValue = priv.attributes.get(MARVELL_ATTR.modulus);
  if (privValue !== undefined && Buffer.compare(privValue, value) !== 0) {
    bad('the public and private objects carry different public values');
  }
  if (keyType === MARVELL_KEY_TYPE.ec) {
    const curve = CURVES[value.length];
    if (!curve || value[0] !== 0x04)
      bad(`EC point of ${value.length} bytes is not an uncompressed P-256/384/521 point`);
    const spki = der.seq(der.seq(der.oid(OID.ecPublicKey), der.oid(curve!.oid)), der.bitString(value));
    return { keyAlgorithm: curve!.name, keySize: curve!.bits, spki, ...common };
  }
  if (keyType === MARVELL_KEY_TYPE.rsa) {
    const e = pub.attributes.get(MARVELL_ATTR.publicExponent) ?? bad('no RSA public exponent');
    if (value.length === 0 || value[0] === 0) bad('RSA modulus with a leading zero byte');
    if (e.length === 0 || e.length > 8) bad('RSA public exponent of a bad size');
    const spki = der.seq(
      der.seq(der.oid(OID.rsaEncryption), der.null()),
      der.bitString(der.seq(der.uintBytes(value), der.uintBytes(e))),
    );
    return { keyAlgorithm: 'rsa', keySize: value.length * 8, spki, ...common };
  }
  return bad(`key type 0x${keyType.toString(16)} in a key pair is not RSA or EC`);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
