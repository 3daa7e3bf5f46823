/**
 * Strict JWS Compact Serialization for MDS BLOBs (RFC 7515 §7.1, FIDO MDS v3.1.1 §3.1.7):
 * three base64url parts, a JSON header with a pinned-down `alg` and an `x5c` chain, and the
 * signature checked with Node's crypto over `header.payload` (RFC 7515 §5.2).
 *
 * @example
 * const jws = parseCompactJws(text);
 * verifyJwsSignature(jws, leaf.spki);   // true or false
 */
import { constants, type KeyObject, verify } from 'node:crypto';
import { fail } from '../../core/errors.js';
import type { KeyCache } from '../../pki/keys.js';
import { publicKeyObject } from '../../pki/keys.js';

/**
 * The only algorithms accepted (RFC 7518 §3.3–§3.5). Never `none`, never HMAC: the BLOB is
 * signed by a certificate key, and an HS256 header would let anyone who knows that public key
 * forge one.
 */
export const MDS_JWS_ALGORITHMS = ['RS256', 'ES256', 'PS256'] as const;

/** One accepted JWS algorithm. */
export type MdsJwsAlgorithm = (typeof MDS_JWS_ALGORITHMS)[number];

/** Most certificates in `x5c` (the production chain has two). */
export const MAX_X5C = 8;

/** A parsed compact JWS; the signature is checked by `verifyJwsSignature`. */
export interface CompactJws {
  readonly alg: MdsJwsAlgorithm;
  /** `x5c`, leaf first, DER (RFC 7515 §4.1.6: standard base64, not base64url). */
  readonly x5c: readonly Uint8Array[];
  /** ASCII(BASE64URL(header) || '.' || BASE64URL(payload)): the signed bytes. */
  readonly signingInput: Uint8Array;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parse the compact form strictly; MDS_MALFORMED or ALGORITHM_NOT_ALLOWED. */
export function parseCompactJws(text: string): CompactJws {
  const parts = text.split('.');
  if (parts.length !== 3) malformed(`a compact JWS has 3 parts, this has ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  for (const [part, name] of [
    [h, 'header'],
    [p, 'payload'],
    [s, 'signature'],
  ] as const) {
    // An empty signature is well-formed (alg none has one): the alg check refuses it below.
    const ok = name === 'signature' && part === '' ? true : B64URL.test(part) && part.length % 4 !== 1;
    if (!ok) malformed(`the JWS ${name} is not base64url`);
  }
  const header = parseJsonObject(Buffer.from(h, 'base64url'), 'header');
  // RFC 7515 §4.1.11: a `crit` header names extensions the recipient must understand; none are.
  if ('crit' in header) malformed('the JWS header has "crit": no extension is understood');
  // Keys come only from the x5c chain validated to a pinned root: a key or key URL in the
  // header (jwk, jku, x5u) would be a second, unvalidated source of trust.
  for (const name of ['jwk', 'jku', 'x5u'])
    if (name in header) malformed(`the JWS header has "${name}": only an x5c chain is accepted`);
  if (header['typ'] !== undefined && header['typ'] !== 'JWT')
    malformed(`the JWS header typ is ${JSON.stringify(header['typ'])}, not "JWT"`);
  const alg = header['alg'];
  if (typeof alg !== 'string' || !(MDS_JWS_ALGORITHMS as readonly string[]).includes(alg))
    fail(
      'ALGORITHM_NOT_ALLOWED',
      `JWS alg ${JSON.stringify(alg)} is not one of ${MDS_JWS_ALGORITHMS.join(', ')}`,
      {
        alg,
      },
    );
  const x5c = header['x5c'];
  if (!Array.isArray(x5c) || x5c.length === 0)
    malformed('the JWS header has no x5c certificate chain (MDS §3.1.7)');
  if (x5c.length > MAX_X5C) malformed(`x5c holds ${x5c.length} certificates, more than ${MAX_X5C}`);
  const chain = x5c.map((c, i) => {
    if (typeof c !== 'string' || !B64.test(c)) malformed(`x5c[${i}] is not base64 (RFC 7515 §4.1.6)`);
    return new Uint8Array(Buffer.from(c, 'base64'));
  });
  return {
    alg: alg as MdsJwsAlgorithm,
    x5c: chain,
    signingInput: new Uint8Array(Buffer.from(`${h}.${p}`, 'ascii')),
    payload: new Uint8Array(Buffer.from(p, 'base64url')),
    signature: new Uint8Array(Buffer.from(s, 'base64url')),
  };
}

/**
 * Verify the JWS signature with the key in `spki` (RFC 7515 §5.2 step 8). False when it does
 * not verify or the key does not fit `alg` (an ES256 header over an RSA key).
 */
export function verifyJwsSignature(jws: CompactJws, spki: Uint8Array, cache?: KeyCache): boolean {
  const key: KeyObject = cache ? cache.get(spki) : publicKeyObject(spki);
  const type = key.asymmetricKeyType;
  try {
    switch (jws.alg) {
      case 'RS256':
        return (
          type === 'rsa' &&
          verify('sha256', jws.signingInput, { key, padding: constants.RSA_PKCS1_PADDING }, jws.signature)
        );
      case 'PS256':
        // RFC 7518 §3.5: the salt is as long as the hash.
        return (
          (type === 'rsa' || type === 'rsa-pss') &&
          verify(
            'sha256',
            jws.signingInput,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
            jws.signature,
          )
        );
      case 'ES256':
        // RFC 7518 §3.4: P-256 only, and the signature is R || S (64 bytes), not DER.
        return (
          type === 'ec' &&
          key.asymmetricKeyDetails?.namedCurve === 'prime256v1' &&
          jws.signature.length === 64 &&
          verify('sha256', jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature)
        );
    }
  } catch {
    // OpenSSL throws on some malformed signatures: that is "does not verify".
    return false;
  }
}

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    malformed(`the JWS ${what} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    malformed(`the JWS ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Decode the payload as a JSON object (after the signature is checked). MDS_MALFORMED. */
export function decodeJwsPayload(jws: CompactJws): Record<string, unknown> {
  return parseJsonObject(jws.payload, 'payload');
}

function malformed(message: string): never {
  return fail('MDS_MALFORMED', message);
}
