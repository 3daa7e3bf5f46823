/**
 * Signature verification for X.509 and PKCS#10 signatures, with the algorithm policy.
 * Hot path: synchronous `crypto.verify` on KeyObjects from a KeyCache.
 *
 * Supported (RFC 4055, RFC 5758, RFC 8410): sha{1,256,384,512}WithRSAEncryption,
 * RSASSA-PSS (MGF1 with the same hash), ecdsa-with-SHA{1,256,384,512}, Ed25519, Ed448.
 *
 * @example
 * verifySignature(cert.signatureAlgorithm, cert.tbs, cert.signature, issuer.spki, { cache });
 */
import { constants, verify } from 'node:crypto';
import { children, expectTag, parseDer, readSmallInt, TAG } from '../core/der.js';
import { fail } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { type AlgorithmIdentifier, parseAlgorithmIdentifier } from './certificate.js';
import { type KeyCache, publicKeyObject } from './keys.js';

export interface SignatureAlgorithmPolicy {
  /** SHA-1 signatures (RSA and ECDSA). Off by default: collisions are practical. */
  readonly allowSha1: boolean;
  /** ecdsa-with-SHA* with explicit NULL parameters (RFC 5758 §3.2 says absent). A quirk, off by default. */
  readonly allowEcdsaNullParams: boolean;
}

export const DEFAULT_SIGNATURE_POLICY: SignatureAlgorithmPolicy = {
  allowSha1: false,
  allowEcdsaNullParams: false,
};

interface ResolvedAlgorithm {
  readonly family: 'rsa' | 'rsa-pss' | 'ecdsa' | 'eddsa';
  /** Node digest name, or null for EdDSA. */
  readonly hash: string | null;
  readonly saltLength?: number;
}

const RSA_PKCS1: Record<string, string> = {
  [OID.sha1WithRSA]: 'sha1',
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
};
const ECDSA: Record<string, string> = {
  [OID.ecdsaWithSHA1]: 'sha1',
  [OID.ecdsaWithSHA256]: 'sha256',
  [OID.ecdsaWithSHA384]: 'sha384',
  [OID.ecdsaWithSHA512]: 'sha512',
};
const HASHES: Record<string, string> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

const resolvedCache = new Map<string, ResolvedAlgorithm>();

/**
 * Map a signature AlgorithmIdentifier to what Node needs, enforcing parameter rules and the
 * policy. Throws ALGORITHM_NOT_ALLOWED or ALGORITHM_UNSUPPORTED.
 */
export function resolveSignatureAlgorithm(
  alg: AlgorithmIdentifier,
  policy: SignatureAlgorithmPolicy = DEFAULT_SIGNATURE_POLICY,
): ResolvedAlgorithm {
  // Memoised per (encoding, policy): the same handful of AlgorithmIdentifiers recur everywhere.
  // The key spells the encoding one char per octet with a loop: Buffer.from(alg.der) would copy it first.
  let cacheKey = policy.allowEcdsaNullParams ? '1' : '0';
  for (let i = 0; i < alg.der.length; i++) cacheKey += String.fromCharCode(alg.der[i]!);
  let r = resolvedCache.get(cacheKey);
  if (r === undefined) {
    r = resolveUncached(alg, policy);
    if (resolvedCache.size < 256) resolvedCache.set(cacheKey, r);
  }
  if (r.hash === 'sha1' && !policy.allowSha1) {
    fail('ALGORITHM_NOT_ALLOWED', 'SHA-1 signatures are not allowed by the algorithm policy', {
      oid: alg.oid,
    });
  }
  return r;
}

function isNull(params: Uint8Array | null): boolean {
  return params !== null && params.length === 2 && params[0] === TAG.NULL && params[1] === 0;
}

function resolveUncached(alg: AlgorithmIdentifier, policy: SignatureAlgorithmPolicy): ResolvedAlgorithm {
  const rsa = RSA_PKCS1[alg.oid];
  if (rsa) {
    // RFC 4055 §5: parameters MUST be NULL; implementations MUST accept them absent too.
    if (alg.params !== null && !isNull(alg.params))
      fail('ALGORITHM_NOT_ALLOWED', 'RSA PKCS#1 v1.5 signature with non-NULL parameters');
    return { family: 'rsa', hash: rsa };
  }
  const ec = ECDSA[alg.oid];
  if (ec) {
    if (alg.params !== null && !(isNull(alg.params) && policy.allowEcdsaNullParams)) {
      fail('ALGORITHM_NOT_ALLOWED', 'ecdsa-with-SHA* must have absent parameters (RFC 5758 §3.2)', {
        oid: alg.oid,
      });
    }
    return { family: 'ecdsa', hash: ec };
  }
  if (alg.oid === OID.ed25519 || alg.oid === OID.ed448) {
    if (alg.params !== null) fail('ALGORITHM_NOT_ALLOWED', 'EdDSA signature with parameters (RFC 8410 §3)');
    return { family: 'eddsa', hash: null };
  }
  if (alg.oid === OID.rsassaPss) return resolvePss(alg);
  if (alg.oid === OID.md5WithRSA)
    fail('ALGORITHM_NOT_ALLOWED', 'MD5 signatures are never accepted', { oid: alg.oid });
  return fail('ALGORITHM_UNSUPPORTED', `signature algorithm ${alg.oid} is not supported`, { oid: alg.oid });
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1): hashAlgorithm [0], maskGenAlgorithm [1], saltLength [2],
 * trailerField [3]. We require explicit parameters with MGF1 over the same hash, trailer 1.
 */
function resolvePss(alg: AlgorithmIdentifier): ResolvedAlgorithm {
  if (!alg.params)
    return fail('ALGORITHM_NOT_ALLOWED', 'RSASSA-PSS without parameters (SHA-1 defaults) is not allowed');
  const p = alg.params;
  const seq = expectTag(parseDer(p), TAG.SEQUENCE, 'RSASSA-PSS-params');
  let hash = 'sha1';
  let mgfHash = 'sha1';
  let saltLength = 20;
  let last = -1;
  for (const f of children(p, seq, [0, 4])) {
    if (f.tagClass !== 2 || !f.constructed || f.tagNumber <= last || f.tagNumber > 3)
      fail('ALGORITHM_NOT_ALLOWED', 'bad RSASSA-PSS parameters');
    last = f.tagNumber;
    const inner = children(p, f, 1)[0]!;
    if (f.tagNumber === 0) {
      const h = parseAlgorithmIdentifier(p, inner);
      hash = HASHES[h.oid] ?? fail('ALGORITHM_UNSUPPORTED', `PSS hash ${h.oid} not supported`);
    } else if (f.tagNumber === 1) {
      const m = parseAlgorithmIdentifier(p, inner);
      if (m.oid !== OID.mgf1 || !m.params) fail('ALGORITHM_UNSUPPORTED', 'PSS mask generation must be MGF1');
      const mh = parseAlgorithmIdentifier(m.params, parseDer(m.params));
      mgfHash = HASHES[mh.oid] ?? fail('ALGORITHM_UNSUPPORTED', `MGF1 hash ${mh.oid} not supported`);
    } else if (f.tagNumber === 2) {
      saltLength = readSmallInt(p, inner, 'saltLength');
      if (saltLength < 0 || saltLength > 512) fail('ALGORITHM_NOT_ALLOWED', 'PSS saltLength out of range');
    } else if (readSmallInt(p, inner, 'trailerField') !== 1) {
      fail('ALGORITHM_NOT_ALLOWED', 'PSS trailerField must be 1');
    }
  }
  if (mgfHash !== hash)
    fail('ALGORITHM_UNSUPPORTED', 'PSS with an MGF1 hash different from the message hash');
  return { family: 'rsa-pss', hash, saltLength };
}

export interface VerifyOptions {
  readonly cache?: KeyCache;
  readonly policy?: SignatureAlgorithmPolicy;
}

/**
 * Verify `signature` over `data` with the key in `spki` under `alg`. Returns false for a
 * signature that does not verify; throws for algorithms the policy refuses or a key that does
 * not fit the algorithm (an RSA signature claimed by an EC key).
 */
export function verifySignature(
  alg: AlgorithmIdentifier,
  data: Uint8Array,
  signature: Uint8Array,
  spki: Uint8Array,
  options: VerifyOptions = {},
): boolean {
  const r = resolveSignatureAlgorithm(alg, options.policy);
  const key = options.cache ? options.cache.get(spki) : publicKeyObject(spki);
  const keyType = key.asymmetricKeyType;
  const fits =
    (r.family === 'rsa' && keyType === 'rsa') ||
    (r.family === 'rsa-pss' && (keyType === 'rsa' || keyType === 'rsa-pss')) ||
    (r.family === 'ecdsa' && keyType === 'ec') ||
    (r.family === 'eddsa' && keyType === (alg.oid === OID.ed25519 ? 'ed25519' : 'ed448'));
  if (!fits)
    fail('SIGNATURE_INVALID', `signature algorithm ${alg.oid} does not fit a ${keyType} key`, {
      oid: alg.oid,
    });
  try {
    if (r.family === 'rsa')
      return verify(r.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (r.family === 'rsa-pss') {
      return verify(
        r.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: r.saltLength ?? 20 },
        signature,
      );
    }
    if (r.family === 'ecdsa') return verify(r.hash, data, { key, dsaEncoding: 'der' }, signature);
    return verify(null, data, key, signature);
  } catch {
    // OpenSSL throws on some malformed signatures (bad DER, wrong length): that is "does not verify".
    return false;
  }
}
