/**
 * COSE keys and algorithms (RFC 9052 §7, RFC 9053 §2 and §7, RFC 8230 for RSA, RFC 8812 for
 * RS1/PS*): COSE_Key → SubjectPublicKeyInfo, and COSE alg → a Node `crypto.verify` call.
 *
 * Each key's parameters must fit its kty and alg (an ES256 key is EC2 on P-256, an EdDSA key
 * is OKP Ed25519, an RS* key is RSA): a mismatch is WEBAUTHN_MALFORMED, never a guess.
 * ML-DSA (-48/-49/-50) keys are recognised and refused with ALGORITHM_UNSUPPORTED: the
 * OpenSSL this runs on cannot verify them.
 *
 * @example
 * const key = coseKeyToSpki(decodeCbor(coseBytes), coseBytes);
 * verifyCose(-7, data, sig, key.spki, { cache });
 */
import { constants, verify } from 'node:crypto';
import { der } from '../../core/der-writer.js';
import { fail } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import type { KeyCache } from '../../pki/keys.js';
import { publicKeyObject } from '../../pki/keys.js';
import type { CborValue } from './cbor.js';
import type { CoseKey } from './types.js';

/** COSE algorithm identifiers WebAuthn meets (IANA COSE Algorithms registry). */
export const COSE_ALG = {
  ES256: -7,
  ES384: -35,
  ES512: -36,
  EdDSA: -8,
  Ed25519: -19,
  RS256: -257,
  RS384: -258,
  RS512: -259,
  PS256: -37,
  PS384: -38,
  PS512: -39,
  RS1: -65535,
  ES256K: -47,
  MLDSA44: -48,
  MLDSA65: -49,
  MLDSA87: -50,
} as const;

const ML_DSA = new Set<number>([COSE_ALG.MLDSA44, COSE_ALG.MLDSA65, COSE_ALG.MLDSA87]);

interface CoseAlgorithm {
  readonly family: 'ecdsa' | 'rsa' | 'rsa-pss' | 'eddsa';
  readonly hash: string | null;
  readonly name: string;
}

const ALGORITHMS = new Map<number, CoseAlgorithm>([
  [COSE_ALG.ES256, { family: 'ecdsa', hash: 'sha256', name: 'ES256' }],
  [COSE_ALG.ES384, { family: 'ecdsa', hash: 'sha384', name: 'ES384' }],
  [COSE_ALG.ES512, { family: 'ecdsa', hash: 'sha512', name: 'ES512' }],
  [COSE_ALG.EdDSA, { family: 'eddsa', hash: null, name: 'EdDSA' }],
  [COSE_ALG.Ed25519, { family: 'eddsa', hash: null, name: 'Ed25519' }],
  [COSE_ALG.RS256, { family: 'rsa', hash: 'sha256', name: 'RS256' }],
  [COSE_ALG.RS384, { family: 'rsa', hash: 'sha384', name: 'RS384' }],
  [COSE_ALG.RS512, { family: 'rsa', hash: 'sha512', name: 'RS512' }],
  [COSE_ALG.PS256, { family: 'rsa-pss', hash: 'sha256', name: 'PS256' }],
  [COSE_ALG.PS384, { family: 'rsa-pss', hash: 'sha384', name: 'PS384' }],
  [COSE_ALG.PS512, { family: 'rsa-pss', hash: 'sha512', name: 'PS512' }],
  [COSE_ALG.RS1, { family: 'rsa', hash: 'sha1', name: 'RS1' }],
]);

/** The COSE name of an algorithm (for messages and claims), or its number. */
export function coseAlgName(alg: number): string {
  return ALGORITHMS.get(alg)?.name ?? (ML_DSA.has(alg) ? `ML-DSA(${alg})` : String(alg));
}

/** The hash a COSE signature algorithm uses (TPM extraData, SafetyNet), or null for EdDSA. */
export function coseAlgHash(alg: number): string | null {
  return resolve(alg, true).hash;
}

function resolve(alg: number, allowSha1: boolean): CoseAlgorithm {
  if (ML_DSA.has(alg))
    fail('ALGORITHM_UNSUPPORTED', `COSE algorithm ${coseAlgName(alg)} (ML-DSA) is not supported here`, {
      alg,
    });
  const a = ALGORITHMS.get(alg);
  if (!a) return fail('ALGORITHM_UNSUPPORTED', `COSE algorithm ${alg} is not supported`, { alg });
  // RS1 only where a format needs it and says so (WebAuthn §8.3: Windows TPMs).
  if (a.hash === 'sha1' && !allowSha1)
    fail('ALGORITHM_NOT_ALLOWED', 'COSE RS1 (SHA-1) signatures are not allowed here', { alg });
  return a;
}

/** Options of `verifyCose`. */
export interface CoseVerifyOptions {
  readonly cache?: KeyCache | undefined;
  /** Accept RS1 (-65535). Off unless a format needs it. */
  readonly allowSha1?: boolean | undefined;
}

/**
 * Verify `sig` over `data` with the key `spki` under COSE `alg`. ECDSA signatures are DER
 * Ecdsa-Sig-Value (WebAuthn §6.5.5). Returns false when the signature does not verify; throws
 * for an algorithm not allowed or a key of the wrong type for `alg`.
 */
export function verifyCose(
  alg: number,
  data: Uint8Array,
  sig: Uint8Array,
  spki: Uint8Array,
  options: CoseVerifyOptions = {},
): boolean {
  const a = resolve(alg, options.allowSha1 === true);
  const key = options.cache ? options.cache.get(spki) : publicKeyObject(spki);
  const type = key.asymmetricKeyType;
  const fits =
    (a.family === 'ecdsa' && type === 'ec') ||
    (a.family === 'eddsa' && type === 'ed25519') ||
    ((a.family === 'rsa' || a.family === 'rsa-pss') && type === 'rsa');
  if (!fits)
    fail('ATTESTATION_INVALID', `COSE algorithm ${a.name} does not fit a ${type} key`, {
      alg,
      keyType: type,
    });
  try {
    if (a.family === 'ecdsa') return verify(a.hash, data, { key, dsaEncoding: 'der' }, sig);
    if (a.family === 'rsa') return verify(a.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    if (a.family === 'rsa-pss')
      return verify(
        a.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        sig,
      );
    return verify(null, data, key, sig);
  } catch {
    // OpenSSL throws on some malformed signatures: that is "does not verify".
    return false;
  }
}

const EC2_CURVES = new Map<
  number,
  { oid: string; name: string; bits: number; bytes: number; algs: number[] }
>([
  [1, { oid: OID.p256, name: 'ec-p256', bits: 256, bytes: 32, algs: [COSE_ALG.ES256] }],
  [2, { oid: OID.p384, name: 'ec-p384', bits: 384, bytes: 48, algs: [COSE_ALG.ES384] }],
  [3, { oid: OID.p521, name: 'ec-p521', bits: 521, bytes: 66, algs: [COSE_ALG.ES512] }],
]);

const P256_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function malformed(message: string, details: Record<string, unknown> = {}): never {
  return fail('WEBAUTHN_MALFORMED', `COSE key: ${message}`, details);
}

function param(m: Map<number | string, CborValue>, label: number, what: string): Uint8Array {
  const v = m.get(label);
  if (!(v instanceof Uint8Array)) return malformed(`${what} (${label}) must be a byte string`);
  return v;
}

/** RFC 8230 §4: n and e are unsigned big-endian with no leading zero octets. */
function unsignedNoLeadingZero(v: Uint8Array, what: string): Uint8Array {
  if (v.length === 0 || v[0] === 0) malformed(`RSA ${what} has a leading zero octet or is empty`);
  return v;
}

/**
 * Convert a decoded COSE_Key to a SubjectPublicKeyInfo. `encoded` is the key's CBOR bytes.
 * Throws WEBAUTHN_MALFORMED for a key that is inconsistent, ALGORITHM_UNSUPPORTED for ML-DSA
 * or an unknown kty/alg.
 */
export function coseKeyToSpki(value: CborValue, encoded: Uint8Array): CoseKey {
  if (!(value instanceof Map)) return malformed('not a CBOR map');
  const kty = value.get(1);
  const alg = value.get(3);
  if (typeof kty !== 'number') return malformed('kty (1) must be an integer');
  // WebAuthn §6.5.1.1: the credential public key MUST contain alg.
  if (typeof alg !== 'number') return malformed('alg (3) must be present and an integer');
  for (const k of value.keys())
    if (typeof k !== 'number') malformed(`unexpected text label ${JSON.stringify(k)}`);
  if (ML_DSA.has(alg) || kty === 7)
    fail('ALGORITHM_UNSUPPORTED', `the credential key is ML-DSA (COSE alg ${alg}): not supported here`, {
      alg,
      kty,
    });
  if (kty === 2) {
    const crv = value.get(-1);
    if (typeof crv !== 'number') return malformed('EC2 crv (-1) must be an integer');
    const c = EC2_CURVES.get(crv);
    if (!c) return fail('ALGORITHM_UNSUPPORTED', `EC2 curve ${crv} is not supported`, { crv });
    if (!c.algs.includes(alg))
      malformed(`alg ${coseAlgName(alg)} does not fit curve ${c.name}`, { alg, crv });
    const x = param(value, -2, 'x');
    const y = param(value, -3, 'y');
    if (x.length !== c.bytes || y.length !== c.bytes)
      malformed(`EC2 coordinates must be ${c.bytes} bytes each`, { x: x.length, y: y.length });
    // The canonical P-256 encoding byte for byte (what certificates carry), built without DER work.
    const spki =
      crv === 1
        ? new Uint8Array(Buffer.concat([P256_PREFIX, x, y]))
        : der.seq(
            der.seq(der.oid(OID.ecPublicKey), der.oid(c.oid)),
            der.bitString(new Uint8Array(Buffer.concat([Buffer.of(4), x, y]))),
          );
    return { kty, alg, crv, spki, keyAlgorithm: c.name, keySize: c.bits, x, y, encoded };
  }
  if (kty === 1) {
    const crv = value.get(-1);
    // OKP crv 6 = Ed25519 (RFC 9053 §7.2); Ed448 and X25519 are not signing keys WebAuthn uses.
    if (crv !== 6) return fail('ALGORITHM_UNSUPPORTED', `OKP curve ${String(crv)} is not supported`, { crv });
    if (alg !== COSE_ALG.EdDSA && alg !== COSE_ALG.Ed25519)
      malformed(`alg ${coseAlgName(alg)} does not fit Ed25519`);
    const x = param(value, -2, 'x');
    if (x.length !== 32) malformed('Ed25519 x must be 32 bytes');
    return {
      kty,
      alg,
      crv,
      spki: new Uint8Array(Buffer.concat([ED25519_PREFIX, x])),
      keyAlgorithm: 'ed25519',
      keySize: 256,
      x,
      encoded,
    };
  }
  if (kty === 3) {
    const a = ALGORITHMS.get(alg);
    if (!a || (a.family !== 'rsa' && a.family !== 'rsa-pss'))
      malformed(`alg ${coseAlgName(alg)} does not fit an RSA key`, { alg });
    const n = unsignedNoLeadingZero(param(value, -1, 'n'), 'modulus');
    const e = unsignedNoLeadingZero(param(value, -2, 'e'), 'exponent');
    if (n.length > 1024) malformed('RSA modulus longer than 8192 bits');
    if (e.length > 8) malformed('RSA exponent longer than 8 bytes');
    const spki = der.seq(
      der.seq(der.oid(OID.rsaEncryption), der.null()),
      der.bitString(der.seq(der.uintBytes(n), der.uintBytes(e))),
    );
    let bits = n.length * 8;
    for (let top = n[0]!; top < 0x80; top <<= 1) bits--;
    return { kty, alg, spki, keyAlgorithm: 'rsa', keySize: bits, encoded };
  }
  return fail('ALGORITHM_UNSUPPORTED', `COSE key type ${kty} is not supported`, { kty });
}
