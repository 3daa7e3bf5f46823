/**
 * Strict, bounded parsers for the TPM 2.0 structures a key attestation carries (TPM 2.0 Library
 * Part 2; docs/tpm.md; standards §2.2): TPMS_ATTEST, TPMT_PUBLIC (RSA and ECC, with the DER
 * SubjectPublicKeyInfo built from it), TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA), TPM2B_PUBLIC
 * unwrapping, and the object Name. All integers are big-endian; every size is checked against
 * the remaining buffer and an upper bound; a structure must consume its buffer exactly.
 *
 * @example
 * const attest = parseTpmsAttest(certInfo);          // throws TPM_MALFORMED on any deviation
 * const pub = parseTpmtPublic(pubArea);               // pub.spki is a DER SubjectPublicKeyInfo
 * bytesEqual(attest.attested.name, tpmName(pubArea, pub.nameAlg));
 */
import { constants, createHash, type KeyObject, verify } from 'node:crypto';
import { der } from '../../core/der-writer.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { publicKeyObject } from '../../pki/keys.js';
import { DEFAULT_SIGNATURE_POLICY, type SignatureAlgorithmPolicy } from '../../pki/signature.js';

/** TPM_GENERATED_VALUE: every TPM-produced attestation starts with "\xFFTCG" (Part 2 §6.2). */
export const TPM_GENERATED_VALUE = 0xff544347;

/** TPM_ST attestation structure tags this module decodes (Part 2 §6.9). */
export const TPM_ST = { ATTEST_CERTIFY: 0x8017, ATTEST_CREATION: 0x801a } as const;

/** TPM_ALG_ID values (Part 2 §6.3; standards §2.2). */
export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  SM3_256: 0x0012,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  SM2: 0x001b,
  ECSCHNORR: 0x001c,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CFB: 0x0043,
} as const;

/** TPM_ECC_CURVE values (Part 2 §6.4). */
export const TPM_ECC_CURVE = {
  NIST_P192: 0x0001,
  NIST_P224: 0x0002,
  NIST_P256: 0x0003,
  NIST_P384: 0x0004,
  NIST_P521: 0x0005,
  BN_P256: 0x0010,
  BN_P638: 0x0011,
  SM2_P256: 0x0020,
} as const;

/** TPMA_OBJECT bit masks (Part 2 §8.3; standards §2.2 table). */
export const TPMA_OBJECT = {
  fixedTPM: 0x00000002,
  stClear: 0x00000004,
  fixedParent: 0x00000010,
  sensitiveDataOrigin: 0x00000020,
  userWithAuth: 0x00000040,
  adminWithPolicy: 0x00000080,
  firmwareLimited: 0x00000100,
  noDA: 0x00000400,
  encryptedDuplication: 0x00000800,
  restricted: 0x00010000,
  decrypt: 0x00020000,
  sign: 0x00040000,
  x509sign: 0x00080000,
} as const;

/** A named TPMA_OBJECT flag. */
export type TpmObjectAttributeName = keyof typeof TPMA_OBJECT;

/** TPMA_OBJECT decoded: one boolean per named flag, plus the raw u32. */
export type TpmObjectAttributes = { readonly [K in TpmObjectAttributeName]: boolean } & {
  readonly raw: number;
};

/** Hash algorithms by TPM_ALG_ID: Node digest name and digest size. */
export const TPM_HASHES: Readonly<Record<number, { readonly node: string; readonly size: number }>> = {
  [TPM_ALG.SHA1]: { node: 'sha1', size: 20 },
  [TPM_ALG.SHA256]: { node: 'sha256', size: 32 },
  [TPM_ALG.SHA384]: { node: 'sha384', size: 48 },
  [TPM_ALG.SHA512]: { node: 'sha512', size: 64 },
};

/** Curves we can turn into a PKIX SubjectPublicKeyInfo: named-curve OID and coordinate size. */
export const TPM_CURVES: Readonly<
  Record<number, { readonly oid: string; readonly size: number; readonly name: string }>
> = {
  [TPM_ECC_CURVE.NIST_P256]: { oid: OID.p256, size: 32, name: 'ec-p256' },
  [TPM_ECC_CURVE.NIST_P384]: { oid: OID.p384, size: 48, name: 'ec-p384' },
  [TPM_ECC_CURVE.NIST_P521]: { oid: OID.p521, size: 66, name: 'ec-p521' },
};

/** Bounds (bytes) on TPM2B buffers: Part 2 sizes with headroom, and on whole structures. */
export const TPM_LIMITS = {
  /** TPMU_NAME: a TPMT_HA (2 + 64) or a 4-byte handle. */
  name: 66,
  /** TPM2B_DATA is sizeof(TPMT_HA). */
  data: 66,
  digest: 64,
  /** RSA modulus / signature: 8192-bit keys at most. */
  rsa: 1024,
  /** TPM2B_ECC_PARAMETER: up to BN P-638 (80 bytes). */
  eccParameter: 80,
  /** Any whole structure handed to a parser. */
  structure: 4096,
} as const;

/** TPMS_CLOCK_INFO (Part 2 §10.11.1). resetCount/restartCount may be obfuscated. */
export interface TpmClockInfo {
  readonly clock: bigint;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: boolean;
}

/** TPMS_CERTIFY_INFO or TPMS_CREATION_INFO, selected by TPMS_ATTEST.type. */
export type TpmAttested =
  | { readonly kind: 'certify'; readonly name: Uint8Array; readonly qualifiedName: Uint8Array }
  | { readonly kind: 'creation'; readonly objectName: Uint8Array; readonly creationHash: Uint8Array };

/** A decoded TPMS_ATTEST (Part 2 §10.12.12). */
export interface TpmsAttest {
  readonly magic: number;
  /** TPM_ST_ATTEST_CERTIFY (0x8017) or TPM_ST_ATTEST_CREATION (0x801A). */
  readonly type: number;
  readonly qualifiedSigner: Uint8Array;
  readonly extraData: Uint8Array;
  readonly clockInfo: TpmClockInfo;
  /** Vendor-specific; obfuscated unless the signer is in the endorsement/platform hierarchy. */
  readonly firmwareVersion: bigint;
  readonly attested: TpmAttested;
  /** The exact bytes parsed (what the AK signed). */
  readonly bytes: Uint8Array;
}

/** TPMT_SYM_DEF_OBJECT: null when the algorithm is TPM_ALG_NULL. */
export type TpmSymmetric = {
  readonly algorithm: number;
  readonly keyBits: number;
  readonly mode: number;
} | null;

/** TPMT_RSA_SCHEME / TPMT_ECC_SCHEME / TPMT_KDF_SCHEME: null when TPM_ALG_NULL. */
export type TpmScheme = {
  readonly scheme: number;
  readonly hashAlg?: number;
  readonly count?: number;
} | null;

interface TpmtPublicCommon {
  readonly nameAlg: number;
  readonly objectAttributes: TpmObjectAttributes;
  readonly authPolicy: Uint8Array;
  readonly symmetric: TpmSymmetric;
  readonly scheme: TpmScheme;
  /** DER SubjectPublicKeyInfo of the public key. */
  readonly spki: Uint8Array;
  /** The exact TPMT_PUBLIC bytes parsed (what the Name hashes). */
  readonly bytes: Uint8Array;
}

/** An RSA TPMT_PUBLIC. `exponent` is the effective exponent (0 on the wire ⇒ 65537). */
export interface TpmtPublicRsa extends TpmtPublicCommon {
  readonly type: 'rsa';
  readonly keyBits: number;
  readonly exponent: number;
  readonly modulus: Uint8Array;
}

/** An ECC TPMT_PUBLIC. */
export interface TpmtPublicEcc extends TpmtPublicCommon {
  readonly type: 'ecc';
  readonly curveId: number;
  readonly kdf: TpmScheme;
  readonly x: Uint8Array;
  readonly y: Uint8Array;
}

/** A decoded TPMT_PUBLIC (Part 2 §12.2.4), RSA or ECC. */
export type TpmtPublic = TpmtPublicRsa | TpmtPublicEcc;

/** A decoded TPMT_SIGNATURE (Part 2 §11.3.4). */
export type TpmtSignature =
  | {
      readonly sigAlg: typeof TPM_ALG.RSASSA | typeof TPM_ALG.RSAPSS;
      readonly hashAlg: number;
      readonly signature: Uint8Array;
      readonly bytes: Uint8Array;
    }
  | {
      readonly sigAlg: typeof TPM_ALG.ECDSA;
      readonly hashAlg: number;
      readonly r: Uint8Array;
      readonly s: Uint8Array;
      readonly bytes: Uint8Array;
    };

/** A bounds-checked big-endian reader over one TPM structure. */
class Cursor {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly what: string,
  ) {
    if (buf.length > TPM_LIMITS.structure)
      fail('TPM_MALFORMED', `${what} is ${buf.length} bytes (limit ${TPM_LIMITS.structure})`);
  }
  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length)
      fail('TPM_MALFORMED', `${this.what} is truncated in ${field}`, { offset: this.pos, needed: n });
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }
  u64(field: string): bigint {
    const hi = this.u32(field);
    const lo = this.u32(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  /** A TPM2B: u16 size ‖ size bytes, size ≤ max. Returns a copy. */
  tpm2b(field: string, max: number): Uint8Array {
    const size = this.u16(field);
    if (size > max) fail('TPM_MALFORMED', `${this.what}: ${field} is ${size} bytes (limit ${max})`);
    this.need(size, field);
    const out = this.buf.slice(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }
  end(): void {
    if (this.pos !== this.buf.length)
      fail('TPM_MALFORMED', `${this.what} has ${this.buf.length - this.pos} trailing bytes`, {
        offset: this.pos,
      });
  }
}

/** TPM2B_NAME content: empty, a 4-byte handle, or nameAlg ‖ digest of that algorithm's size. */
function checkName(name: Uint8Array, what: string): Uint8Array {
  if (name.length === 0 || name.length === 4) return name;
  const alg = name.length >= 2 ? (name[0]! << 8) | name[1]! : -1;
  const h = TPM_HASHES[alg];
  if (!h || name.length !== 2 + h.size)
    fail(
      'TPM_MALFORMED',
      `${what} is not a TPM Name (hash algorithm 0x${alg.toString(16)}, ${name.length} bytes)`,
    );
  return name;
}

/** Parse a TPMS_ATTEST of type CERTIFY or CREATION; throws TPM_MALFORMED. */
export function parseTpmsAttest(bytes: Uint8Array): TpmsAttest {
  const c = new Cursor(bytes, 'TPMS_ATTEST');
  const magic = c.u32('magic');
  // Part 2 §10.12.12: a restricted AK signs only structures that start with TPM_GENERATED_VALUE;
  // anything else was not produced by the TPM.
  if (magic !== TPM_GENERATED_VALUE)
    fail('TPM_MALFORMED', `TPMS_ATTEST magic is 0x${magic.toString(16)}, not TPM_GENERATED_VALUE`);
  const type = c.u16('type');
  if (type !== TPM_ST.ATTEST_CERTIFY && type !== TPM_ST.ATTEST_CREATION)
    fail('TPM_MALFORMED', `TPMS_ATTEST type 0x${type.toString(16)} is not CERTIFY or CREATION`, { type });
  const qualifiedSigner = checkName(c.tpm2b('qualifiedSigner', TPM_LIMITS.name), 'qualifiedSigner');
  const extraData = c.tpm2b('extraData', TPM_LIMITS.data);
  const clock = c.u64('clockInfo.clock');
  const resetCount = c.u32('clockInfo.resetCount');
  const restartCount = c.u32('clockInfo.restartCount');
  const safeByte = c.u8('clockInfo.safe');
  if (safeByte > 1) fail('TPM_MALFORMED', `TPMS_CLOCK_INFO.safe is ${safeByte}, not YES/NO`);
  const firmwareVersion = c.u64('firmwareVersion');
  let attested: TpmAttested;
  if (type === TPM_ST.ATTEST_CERTIFY) {
    const name = checkName(c.tpm2b('attested.name', TPM_LIMITS.name), 'attested.name');
    const qualifiedName = checkName(
      c.tpm2b('attested.qualifiedName', TPM_LIMITS.name),
      'attested.qualifiedName',
    );
    attested = { kind: 'certify', name, qualifiedName };
  } else {
    const objectName = checkName(c.tpm2b('attested.objectName', TPM_LIMITS.name), 'attested.objectName');
    const creationHash = c.tpm2b('attested.creationHash', TPM_LIMITS.digest);
    attested = { kind: 'creation', objectName, creationHash };
  }
  c.end();
  return {
    magic,
    type,
    qualifiedSigner,
    extraData,
    clockInfo: { clock, resetCount, restartCount, safe: safeByte === 1 },
    firmwareVersion,
    attested,
    bytes: bytes.slice(),
  };
}

/** Decode a TPMA_OBJECT u32 into named flags. */
export function decodeObjectAttributes(raw: number): TpmObjectAttributes {
  const out: Record<string, boolean | number> = { raw: raw >>> 0 };
  for (const [name, mask] of Object.entries(TPMA_OBJECT)) out[name] = (raw & mask) !== 0;
  return out as TpmObjectAttributes;
}

function readSymmetric(c: Cursor): TpmSymmetric {
  const algorithm = c.u16('symmetric.algorithm');
  if (algorithm === TPM_ALG.NULL) return null;
  return { algorithm, keyBits: c.u16('symmetric.keyBits'), mode: c.u16('symmetric.mode') };
}

function readScheme(c: Cursor, field: string, noHash: readonly number[] = []): TpmScheme {
  const scheme = c.u16(`${field}.scheme`);
  if (scheme === TPM_ALG.NULL) return null;
  // RSAES (TPMS_ENC_SCHEME_RSAES) is TPMS_EMPTY; every other scheme carries a hash (Part 2 §11.2.3).
  if (noHash.includes(scheme)) return { scheme };
  const hashAlg = c.u16(`${field}.hashAlg`);
  if (scheme === TPM_ALG.ECDAA) return { scheme, hashAlg, count: c.u16(`${field}.count`) };
  return { scheme, hashAlg };
}

/** Parse a TPMT_PUBLIC (RSA or ECC) and build its SubjectPublicKeyInfo. */
export function parseTpmtPublic(bytes: Uint8Array): TpmtPublic {
  const c = new Cursor(bytes, 'TPMT_PUBLIC');
  const typeAlg = c.u16('type');
  if (typeAlg !== TPM_ALG.RSA && typeAlg !== TPM_ALG.ECC)
    fail('ALGORITHM_UNSUPPORTED', `TPMT_PUBLIC type 0x${typeAlg.toString(16)} is not RSA or ECC`, {
      type: typeAlg,
    });
  const nameAlg = c.u16('nameAlg');
  if (!TPM_HASHES[nameAlg])
    fail('ALGORITHM_UNSUPPORTED', `TPMT_PUBLIC nameAlg 0x${nameAlg.toString(16)} is not supported`, {
      nameAlg,
    });
  const objectAttributes = decodeObjectAttributes(c.u32('objectAttributes'));
  const authPolicy = c.tpm2b('authPolicy', TPM_LIMITS.digest);
  const symmetric = readSymmetric(c);
  if (typeAlg === TPM_ALG.RSA) {
    const scheme = readScheme(c, 'scheme', [TPM_ALG.RSAES]);
    const keyBits = c.u16('keyBits');
    const wireExponent = c.u32('exponent');
    const modulus = c.tpm2b('unique.rsa', TPM_LIMITS.rsa);
    c.end();
    // Part 2 §12.2.3.5: the modulus is exactly keyBits long, and exponent 0 means 2^16+1.
    if (keyBits < 1024 || keyBits % 8 !== 0 || modulus.length !== keyBits / 8 || (modulus[0]! & 0x80) === 0)
      fail('TPM_MALFORMED', `RSA modulus of ${modulus.length} bytes does not match keyBits ${keyBits}`);
    const exponent = wireExponent === 0 ? 65537 : wireExponent;
    if (exponent < 3 || exponent % 2 === 0) fail('TPM_MALFORMED', `RSA exponent ${exponent} is invalid`);
    const spki = der.seq(
      der.seq(der.oid(OID.rsaEncryption), der.null()),
      der.bitString(der.seq(der.uintBytes(modulus), der.int(exponent))),
    );
    return {
      type: 'rsa',
      nameAlg,
      objectAttributes,
      authPolicy,
      symmetric,
      scheme,
      keyBits,
      exponent,
      modulus,
      spki,
      bytes: bytes.slice(),
    };
  }
  const scheme = readScheme(c, 'scheme');
  const curveId = c.u16('curveID');
  const kdf = readScheme(c, 'kdf');
  const x = c.tpm2b('unique.ecc.x', TPM_LIMITS.eccParameter);
  const y = c.tpm2b('unique.ecc.y', TPM_LIMITS.eccParameter);
  c.end();
  const curve = TPM_CURVES[curveId];
  if (!curve)
    fail('ALGORITHM_UNSUPPORTED', `TPM ECC curve 0x${curveId.toString(16)} is not supported`, { curveId });
  const spki = der.seq(
    der.seq(der.oid(OID.ecPublicKey), der.oid(curve.oid)),
    der.bitString(Uint8Array.from([0x04, ...leftPad(x, curve.size, 'x'), ...leftPad(y, curve.size, 'y')])),
  );
  return {
    type: 'ecc',
    nameAlg,
    objectAttributes,
    authPolicy,
    symmetric,
    scheme,
    curveId,
    kdf,
    x,
    y,
    spki,
    bytes: bytes.slice(),
  };
}

/** Left-pad an unsigned big-endian value to `size` bytes (TPMs may drop leading zeros). */
export function leftPad(value: Uint8Array, size: number, what = 'value'): Uint8Array {
  if (value.length > size) fail('TPM_MALFORMED', `${what} is ${value.length} bytes, longer than ${size}`);
  const out = new Uint8Array(size);
  out.set(value, size - value.length);
  return out;
}

/** Strip the u16 size of a TPM2B_PUBLIC and return the TPMT_PUBLIC bytes (the size must match exactly). */
export function unwrapTpm2bPublic(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 2) fail('TPM_MALFORMED', 'TPM2B_PUBLIC is truncated');
  const size = (bytes[0]! << 8) | bytes[1]!;
  if (size !== bytes.length - 2)
    fail('TPM_MALFORMED', `TPM2B_PUBLIC size ${size} does not match its ${bytes.length - 2} content bytes`);
  return bytes.slice(2);
}

/** Parse a TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA). Other schemes are ALGORITHM_UNSUPPORTED. */
export function parseTpmtSignature(bytes: Uint8Array): TpmtSignature {
  const c = new Cursor(bytes, 'TPMT_SIGNATURE');
  const sigAlg = c.u16('sigAlg');
  if (sigAlg === TPM_ALG.RSASSA || sigAlg === TPM_ALG.RSAPSS) {
    const hashAlg = c.u16('hashAlg');
    const signature = c.tpm2b('signature', TPM_LIMITS.rsa);
    c.end();
    if (signature.length === 0) fail('TPM_MALFORMED', 'TPMT_SIGNATURE has an empty RSA signature');
    return { sigAlg, hashAlg, signature, bytes: bytes.slice() };
  }
  if (sigAlg === TPM_ALG.ECDSA) {
    const hashAlg = c.u16('hashAlg');
    const r = c.tpm2b('signatureR', TPM_LIMITS.eccParameter);
    const s = c.tpm2b('signatureS', TPM_LIMITS.eccParameter);
    c.end();
    if (r.length === 0 || s.length === 0) fail('TPM_MALFORMED', 'TPMT_SIGNATURE has an empty ECDSA r or s');
    return { sigAlg, hashAlg, r, s, bytes: bytes.slice() };
  }
  return fail('ALGORITHM_UNSUPPORTED', `TPM signature scheme 0x${sigAlg.toString(16)} is not supported`, {
    sigAlg,
  });
}

/** Node digest of `data` with a TPM hash algorithm; ALGORITHM_UNSUPPORTED for others. */
export function tpmHash(hashAlg: number, data: Uint8Array): Uint8Array {
  const h = TPM_HASHES[hashAlg];
  if (!h)
    fail('ALGORITHM_UNSUPPORTED', `TPM hash algorithm 0x${hashAlg.toString(16)} is not supported`, {
      hashAlg,
    });
  return new Uint8Array(createHash(h.node).update(data).digest());
}

/** The TPM Name of an object (Part 1 §16): u16 nameAlg ‖ H_nameAlg(TPMT_PUBLIC bytes, without the TPM2B size). */
export function tpmName(publicAreaBytes: Uint8Array, nameAlg: number): Uint8Array {
  const digest = tpmHash(nameAlg, publicAreaBytes);
  const out = new Uint8Array(2 + digest.length);
  out[0] = nameAlg >> 8;
  out[1] = nameAlg & 0xff;
  out.set(digest, 2);
  return out;
}

/** ECDSA r and s (unsigned big-endian) as the DER Ecdsa-Sig-Value Node verifies (RFC 3279 §2.2.3). */
export function ecdsaSignatureToDer(r: Uint8Array, s: Uint8Array): Uint8Array {
  return der.seq(der.uintBytes(r), der.uintBytes(s));
}

/** Options for verifyTpmSignature. */
export interface TpmSignatureOptions {
  /** The repo's signature algorithm policy; SHA-1 is refused unless `allowSha1`. */
  readonly policy?: SignatureAlgorithmPolicy;
}

const CURVE_SIZE_BY_NODE_NAME: Readonly<Record<string, number>> = {
  prime256v1: 32,
  secp384r1: 48,
  secp521r1: 66,
};

/**
 * Verify a TPMT_SIGNATURE over `message` (the TPMS_ATTEST bytes; the scheme hashes it) with a
 * public key. Returns false when the signature does not verify; throws ALGORITHM_NOT_ALLOWED for
 * SHA-1 under the default policy, ALGORITHM_UNSUPPORTED for unknown hashes, SIGNATURE_INVALID
 * when the scheme does not fit the key type.
 *
 * @example
 * verifyTpmSignature(parseTpmtSignature(sig), certInfo, akSpki, { policy: { ...DEFAULT_SIGNATURE_POLICY, allowSha1: true } });
 */
export function verifyTpmSignature(
  sig: TpmtSignature,
  message: Uint8Array,
  key: KeyObject | Uint8Array,
  options: TpmSignatureOptions = {},
): boolean {
  const policy = options.policy ?? DEFAULT_SIGNATURE_POLICY;
  const h = TPM_HASHES[sig.hashAlg];
  if (!h) fail('ALGORITHM_UNSUPPORTED', `TPM signature hash 0x${sig.hashAlg.toString(16)} is not supported`);
  // Same rule as X.509 signatures (src/pki/signature.ts): SHA-1 collisions are practical.
  if (h.node === 'sha1' && !policy.allowSha1)
    fail('ALGORITHM_NOT_ALLOWED', 'SHA-1 signatures are not allowed by the algorithm policy', {
      hashAlg: sig.hashAlg,
    });
  const keyObject = key instanceof Uint8Array ? publicKeyObject(key) : key;
  const keyType = keyObject.asymmetricKeyType;
  try {
    if (sig.sigAlg === TPM_ALG.ECDSA) {
      if (keyType !== 'ec') fail('SIGNATURE_INVALID', `a TPM ECDSA signature does not fit a ${keyType} key`);
      const size = CURVE_SIZE_BY_NODE_NAME[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
      // Standards §2.2: r and s may come shorter than the curve size (left-pad), never longer.
      if (size !== undefined && (sig.r.length > size || sig.s.length > size)) return false;
      return verify(
        h.node,
        message,
        { key: keyObject, dsaEncoding: 'der' },
        ecdsaSignatureToDer(sig.r, sig.s),
      );
    }
    if (keyType !== 'rsa') fail('SIGNATURE_INVALID', `a TPM RSA signature does not fit a ${keyType} key`);
    if (sig.sigAlg === TPM_ALG.RSASSA)
      return verify(h.node, message, { key: keyObject, padding: constants.RSA_PKCS1_PADDING }, sig.signature);
    // TPMs use salt = digest size (FIPS 186-4) or the maximum (older firmware): accept either.
    return verify(
      h.node,
      message,
      {
        key: keyObject,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_AUTO,
      },
      sig.signature,
    );
  } catch (err) {
    if (isProvenanceError(err)) throw err;
    // OpenSSL throws on some malformed signatures (wrong length): that is "does not verify".
    return false;
  }
}
