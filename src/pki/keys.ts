/**
 * Public keys: describe a SubjectPublicKeyInfo (algorithm, size, curve), turn it into a cached
 * Node KeyObject, and apply the algorithm policy to keys (RFC 5480, RFC 8017, RFC 8410).
 *
 * @example
 * describeKey(spki)          // { keyAlgorithm: 'ec-p256', keySize: 256, curve: '1.2.840.10045.3.1.7' }
 * publicKeyObject(spki)      // KeyObject, decoded once per distinct key
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { children, expectTag, parseDer, readOid, readUnsignedBytes, TAG, type Tlv } from '../core/der.js';
import { fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { parseSpki } from './certificate.js';

export interface KeyDescription {
  /** 'ec-p256' | 'ec-p384' | 'ec-p521' | 'ec-secp256k1' | 'ec-p192' | 'rsa' | 'rsa-pss' | 'ed25519' | 'ed448' | other OID */
  readonly keyAlgorithm: string;
  /** RSA modulus bits, or the curve's field size. */
  readonly keySize: number;
  /** Named curve OID for EC keys. */
  readonly curve?: string;
  /** RSA modulus (for weak-key checks such as ROCA). */
  readonly rsaModulus?: bigint;
  readonly rsaExponent?: bigint;
}

const CURVES: Record<string, { name: string; bits: number; pointBytes: number }> = {
  [OID.p192]: { name: 'ec-p192', bits: 192, pointBytes: 24 },
  [OID.p256]: { name: 'ec-p256', bits: 256, pointBytes: 32 },
  [OID.p384]: { name: 'ec-p384', bits: 384, pointBytes: 48 },
  [OID.p521]: { name: 'ec-p521', bits: 521, pointBytes: 66 },
  [OID.secp256k1]: { name: 'ec-secp256k1', bits: 256, pointBytes: 32 },
};

/**
 * Describe a SubjectPublicKeyInfo. Throws KEY_MALFORMED when the key does not decode,
 * ALGORITHM_NOT_ALLOWED for explicit EC parameters (RFC 5480 §2.1.1 forbids them in PKIX).
 */
export function describeKey(spki: Uint8Array): KeyDescription {
  try {
    return describeKeyUnchecked(spki);
  } catch (err) {
    if (isProvenanceError(err) && err.code.startsWith('DER_')) {
      throw new ProvenanceError('KEY_MALFORMED', `malformed public key: ${err.message}`, err.details, {
        cause: err,
      });
    }
    throw err;
  }
}

function describeKeyUnchecked(spki: Uint8Array): KeyDescription {
  const { algorithm, publicKey } = parseSpki(spki);
  switch (algorithm.oid) {
    case OID.ecPublicKey: {
      if (!algorithm.params) return fail('KEY_MALFORMED', 'EC key without curve parameters');
      if (algorithm.params[0] !== TAG.OID) {
        return fail(
          'ALGORITHM_NOT_ALLOWED',
          'EC key with explicit or implicit curve parameters (RFC 5480 §2.1.1: namedCurve only)',
        );
      }
      const curve = readOid(algorithm.params, parseDer(algorithm.params), 'namedCurve');
      const info = CURVES[curve];
      if (!info) return { keyAlgorithm: `ec-${curve}`, keySize: 0, curve };
      // SEC 1 §2.3.3: uncompressed (04||X||Y) or compressed (02/03||X) points.
      const n = info.pointBytes;
      const ok =
        (publicKey[0] === 0x04 && publicKey.length === 1 + 2 * n) ||
        ((publicKey[0] === 0x02 || publicKey[0] === 0x03) && publicKey.length === 1 + n);
      if (!ok) fail('KEY_MALFORMED', `EC point has the wrong encoding for ${info.name}`);
      return { keyAlgorithm: info.name, keySize: info.bits, curve };
    }
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      // RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
      const seq = expectTag(parseDer(publicKey), TAG.SEQUENCE, 'RSAPublicKey');
      const [nTlv, eTlv] = children(publicKey, seq, 2) as [Tlv, Tlv];
      const nBytes = readUnsignedBytes(publicKey, nTlv, 'modulus');
      const eBytes = readUnsignedBytes(publicKey, eTlv, 'publicExponent');
      const modulus = BigInt(`0x${Buffer.from(nBytes).toString('hex') || '0'}`);
      const exponent = BigInt(`0x${Buffer.from(eBytes).toString('hex') || '0'}`);
      if (modulus <= 0n || (modulus & 1n) === 0n)
        fail('KEY_MALFORMED', 'RSA modulus is not a positive odd integer');
      if (exponent < 3n || (exponent & 1n) === 0n)
        fail('KEY_MALFORMED', 'RSA public exponent is not an odd integer >= 3');
      if (
        algorithm.oid === OID.rsaEncryption &&
        algorithm.params &&
        !(algorithm.params.length === 2 && algorithm.params[0] === 0x05)
      ) {
        fail('KEY_MALFORMED', 'rsaEncryption parameters must be NULL');
      }
      return {
        keyAlgorithm: algorithm.oid === OID.rsassaPss ? 'rsa-pss' : 'rsa',
        keySize: modulus.toString(2).length,
        rsaModulus: modulus,
        rsaExponent: exponent,
      };
    }
    case OID.ed25519:
      if (algorithm.params) fail('KEY_MALFORMED', 'Ed25519 key with parameters (RFC 8410 §3)');
      if (publicKey.length !== 32) fail('KEY_MALFORMED', 'Ed25519 key must be 32 bytes');
      return { keyAlgorithm: 'ed25519', keySize: 256 };
    case OID.ed448:
      if (algorithm.params) fail('KEY_MALFORMED', 'Ed448 key with parameters (RFC 8410 §3)');
      if (publicKey.length !== 57) fail('KEY_MALFORMED', 'Ed448 key must be 57 bytes');
      return { keyAlgorithm: 'ed448', keySize: 456 };
    default:
      return { keyAlgorithm: algorithm.oid, keySize: 0 };
  }
}

/** What keys the algorithm policy accepts. Defaults: RSA >= 2048, P-256/384/521, Ed25519/Ed448. */
export interface KeyPolicy {
  readonly minRsaBits: number;
  readonly allowedCurves: readonly string[];
  readonly allowEdwards: boolean;
}

export const DEFAULT_KEY_POLICY: KeyPolicy = {
  minRsaBits: 2048,
  allowedCurves: [OID.p256, OID.p384, OID.p521],
  allowEdwards: true,
};

/** Throw KEY_TOO_WEAK or ALGORITHM_NOT_ALLOWED when the key breaks the policy; else describe it. */
export function checkKey(spki: Uint8Array, policy: KeyPolicy = DEFAULT_KEY_POLICY): KeyDescription {
  const d = describeKey(spki);
  if (d.keyAlgorithm === 'rsa' || d.keyAlgorithm === 'rsa-pss') {
    if (d.keySize < policy.minRsaBits) {
      fail('KEY_TOO_WEAK', `RSA-${d.keySize} is below the minimum of ${policy.minRsaBits} bits`, {
        keySize: d.keySize,
      });
    }
  } else if (d.curve !== undefined) {
    if (!policy.allowedCurves.includes(d.curve)) {
      fail(
        d.keySize < 256 ? 'KEY_TOO_WEAK' : 'ALGORITHM_NOT_ALLOWED',
        `curve ${d.keyAlgorithm} is not allowed`,
        { curve: d.curve },
      );
    }
  } else if (d.keyAlgorithm === 'ed25519' || d.keyAlgorithm === 'ed448') {
    if (!policy.allowEdwards) fail('ALGORITHM_NOT_ALLOWED', `${d.keyAlgorithm} keys are not allowed`);
  } else {
    fail('ALGORITHM_UNSUPPORTED', `public key algorithm ${d.keyAlgorithm} is not supported`, {
      oid: d.keyAlgorithm,
    });
  }
  return d;
}

const MAX_CACHED_KEYS = 4096;

/**
 * Decodes SubjectPublicKeyInfo bytes into Node KeyObjects, once per distinct key, and remembers
 * which exact certificate signatures already verified. Inject one per verifier (no global
 * cache); bounded, oldest entry evicted first.
 */
export class KeyCache {
  private readonly map = new Map<string, KeyObject>();
  private readonly verified = new Set<string>();
  constructor(private readonly capacity = MAX_CACHED_KEYS) {}

  /**
   * Whether this signature verified before. `id` must name everything the outcome depends on:
   * the signed object's exact bytes (a certificate's SHA-256 covers TBS, algorithm and
   * signature), the verifying key, and the algorithm policy. Only successes are remembered, so
   * a cached answer can never turn a bad signature into a good one. Batch attestation
   * certificates are shared by ≥100,000 devices: the issuer's signature on one is checked once.
   */
  hasVerified(id: string): boolean {
    return this.verified.has(id);
  }

  /** Remember a signature that verified (see `hasVerified` for what `id` must cover). */
  markVerified(id: string): void {
    if (this.verified.has(id)) return;
    if (this.verified.size >= this.capacity)
      this.verified.delete(this.verified.values().next().value as string);
    this.verified.add(id);
  }

  get(spki: Uint8Array): KeyObject {
    const id = Buffer.from(spki.buffer, spki.byteOffset, spki.length).toString('latin1');
    let key = this.map.get(id);
    if (key === undefined) {
      key = publicKeyObject(spki);
      if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value as string);
      this.map.set(id, key);
    }
    return key;
  }
}

/**
 * The exact DER of a P-256 SubjectPublicKeyInfo up to the uncompressed point (RFC 5480 §2:
 * SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 00 ‖ 04 ‖ X ‖ Y }; SEC 1 §2.3.3).
 */
const P256_SPKI_PREFIX = Uint8Array.from(
  Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04', 'hex'),
);
const P256_SPKI_BYTES = P256_SPKI_PREFIX.length + 64;

function isCanonicalP256Spki(spki: Uint8Array): boolean {
  if (spki.length !== P256_SPKI_BYTES) return false;
  for (let i = 0; i < P256_SPKI_PREFIX.length; i++) if (spki[i] !== P256_SPKI_PREFIX[i]) return false;
  return true;
}

/**
 * Decode SubjectPublicKeyInfo DER into a KeyObject (uncached).
 *
 * An SPKI that is byte for byte the canonical encoding of an uncompressed P-256 point is imported
 * from its coordinates as a JWK (RFC 7518 §6.2.1): OpenSSL 3's DER decoder costs about 1.7× as
 * much for the same key. Both paths reject the same points (coordinates >= p, points off the
 * curve; P-256 has cofactor 1, so the JWK path's order check rejects nothing more) and yield the
 * same key. Everything else takes the DER decoder (for P-384/P-521 the JWK import is slower).
 */
export function publicKeyObject(spki: Uint8Array): KeyObject {
  try {
    if (isCanonicalP256Spki(spki)) {
      const point = Buffer.from(spki.buffer, spki.byteOffset + P256_SPKI_PREFIX.length, 64);
      return createPublicKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: point.toString('base64url', 0, 32),
          y: point.toString('base64url', 32),
        },
        format: 'jwk',
      });
    }
    return createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.length),
      format: 'der',
      type: 'spki',
    });
  } catch (err) {
    throw new ProvenanceError(
      'KEY_MALFORMED',
      `public key does not decode: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}
