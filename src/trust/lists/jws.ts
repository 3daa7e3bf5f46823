/**
 * Signing and verifying token lists as compact JWS (RFC 7515 §7.1) with `jose`.
 *
 * Header: exactly `{ alg, typ: 'provenance-token-list+jws', kid }` where `alg` is ES256 (P-256,
 * RFC 7518 §3.4) or EdDSA (Ed25519, RFC 8037 §3.1) and `kid` is the hex SHA-256 of the
 * publisher key's SubjectPublicKeyInfo. The verifier takes keys only from its pinned set, never
 * from the header (no jwk/jku/x5c/x5u), refuses `crit` and `b64` (RFC 7515 §4.1.11, RFC 7797),
 * and checks the payload against the strict schema before anything reads it.
 *
 * @example
 * const jws = await signTokenList(list, privateKey);
 * const verified = await verifyTokenList(jws, { publisherKeys: [publicKey], now: Date.now() });
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { sha256Hex } from '../../core/bytes.js';
import { fail, ProvenanceError } from '../../core/errors.js';
import { parseCertificate } from '../../pki/certificate.js';
import { canonicalJson } from '../../policy/model.js';
import { describeIssue, TOKEN_LIST_LIMITS, tokenListSchema } from './schema.js';
import type { TokenList, VerifiedTokenList } from './types.js';

/** The JWS `typ` of a token list (RFC 7515 §4.1.9). */
export const TOKEN_LIST_JWS_TYPE = 'provenance-token-list+jws';

/** How far in the future `issuedAt` may be (clock skew between publisher and consumer). */
export const MAX_ISSUED_AT_SKEW_MS = 5 * 60 * 1000;

/** The JWS algorithm for a publisher key: ES256 for P-256, EdDSA for Ed25519; USAGE otherwise. */
export function jwsAlgorithmFor(key: KeyObject): 'ES256' | 'EdDSA' {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return fail('USAGE', `a publisher key is P-256 (ES256) or Ed25519 (EdDSA), not ${describeKeyType(key)}`);
}

/** The publisher key id: hex SHA-256 of its SubjectPublicKeyInfo (trust by key). */
export function publisherKeyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return sha256Hex(new Uint8Array(pub.export({ type: 'spki', format: 'der' })));
}

/**
 * Sign a list: validate it against the schema (never sign what a consumer would refuse),
 * serialise it canonically (sorted keys, no whitespace) and sign as compact JWS.
 *
 * @example
 * const jws = await signTokenList({ publisher: 'Sector', sequence: 1, issuedAt, nextUpdate, entries: [], revoked: [] }, key);
 */
export async function signTokenList(list: TokenList, privateKey: KeyObject): Promise<string> {
  const parsed = tokenListSchema.safeParse(list);
  if (!parsed.success) fail('LIST_INVALID', `the list is invalid: ${describeIssue(parsed.error)}`);
  checkAnchorCertificates(parsed.data as TokenList);
  const alg = jwsAlgorithmFor(privateKey);
  const payload = new TextEncoder().encode(canonicalJson(parsed.data));
  const jws = await new CompactSign(payload)
    .setProtectedHeader({ alg, typ: TOKEN_LIST_JWS_TYPE, kid: publisherKeyId(privateKey) })
    .sign(privateKey);
  if (jws.length > TOKEN_LIST_LIMITS.maxJwsBytes)
    fail('INPUT_TOO_LARGE', `the signed list is ${jws.length} bytes, above ${TOKEN_LIST_LIMITS.maxJwsBytes}`);
  return jws;
}

/** What `verifyTokenList` checks against. */
export interface VerifyTokenListOptions {
  /** The pinned publisher public keys (several during a key rotation). */
  readonly publisherKeys: readonly KeyObject[];
  /** Policy list id, recorded in the result and in error details. */
  readonly id?: string;
  /** The last list accepted for this id: a lower sequence is a rollback. */
  readonly lastSeen?: { readonly sequence: number; readonly jws?: string };
  /** Check freshness at this instant (ms): past nextUpdate + grace is LIST_STALE. */
  readonly now?: number;
  /** Grace after nextUpdate, in ms (default 0). */
  readonly graceMs?: number;
}

/**
 * Verify a compact JWS token list: size, header, signature by a pinned key, schema, anchor
 * certificates, sequence against the last seen, and (with `now`) freshness.
 * Throws INPUT_TOO_LARGE, LIST_INVALID, LIST_SIGNATURE_INVALID, LIST_ROLLBACK or LIST_STALE.
 *
 * @example
 * const list = await verifyTokenList(jws, { publisherKeys: [pub], lastSeen: { sequence: 41 }, now: Date.now() });
 */
export async function verifyTokenList(
  jws: string,
  options: VerifyTokenListOptions,
): Promise<VerifiedTokenList> {
  const id = options.id ?? '';
  const where = id === '' ? 'the token list' : `token list "${id}"`;
  const details = id === '' ? {} : { list: id };
  if (jws.length > TOKEN_LIST_LIMITS.maxJwsBytes)
    fail(
      'INPUT_TOO_LARGE',
      `${where} is ${jws.length} bytes, above ${TOKEN_LIST_LIMITS.maxJwsBytes}`,
      details,
    );
  const compact = jws.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(compact))
    fail('LIST_INVALID', `${where} is not a compact JWS (three base64url parts)`, details);

  const header = decodeHeader(compact.slice(0, compact.indexOf('.')), where, details);
  if (options.publisherKeys.length === 0)
    fail('LIST_SIGNATURE_INVALID', `${where}: no publisher key is pinned: failing closed`, details);
  const key = options.publisherKeys.find((k) => publisherKeyId(k) === header.kid);
  if (key === undefined)
    fail(
      'LIST_SIGNATURE_INVALID',
      `${where} is signed by key ${header.kid}, which is not a pinned publisher key`,
      {
        ...details,
        kid: header.kid,
      },
    );
  if (jwsAlgorithmForOrNull(key) !== header.alg)
    fail(
      'LIST_SIGNATURE_INVALID',
      `${where}: alg ${header.alg} does not fit the pinned key ${header.kid}`,
      details,
    );

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(compact, key, { algorithms: [header.alg] }));
  } catch (err) {
    throw new ProvenanceError('LIST_SIGNATURE_INVALID', `${where}: the signature does not verify`, details, {
      cause: err,
    });
  }

  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new ProvenanceError('LIST_INVALID', `${where}: the payload is not UTF-8 JSON`, details, {
      cause: err,
    });
  }
  const parsed = tokenListSchema.safeParse(data);
  if (!parsed.success) fail('LIST_INVALID', `${where}: ${describeIssue(parsed.error)}`, details);
  const list = parsed.data as TokenList;
  checkAnchorCertificates(list);

  const last = options.lastSeen;
  if (last !== undefined) {
    // Rollback protection: an attacker replaying an older, validly signed list (one from before
    // a revocation) must not succeed, and neither may a second, different list with the same number.
    if (list.sequence < last.sequence)
      fail(
        'LIST_ROLLBACK',
        `${where}: sequence ${list.sequence} is lower than ${last.sequence}, already seen`,
        {
          ...details,
          sequence: list.sequence,
          lastSequence: last.sequence,
        },
      );
    if (list.sequence === last.sequence && last.jws !== undefined && last.jws.trim() !== compact)
      fail(
        'LIST_ROLLBACK',
        `${where}: a different list with the same sequence ${list.sequence} was already seen`,
        {
          ...details,
          sequence: list.sequence,
        },
      );
  }

  const verified: VerifiedTokenList = {
    ...list,
    id,
    kid: header.kid,
    issuedAtMs: Date.parse(list.issuedAt),
    nextUpdateMs: Date.parse(list.nextUpdate),
    jws: compact,
  };
  if (options.now !== undefined) {
    if (verified.issuedAtMs > options.now + MAX_ISSUED_AT_SKEW_MS)
      fail('LIST_INVALID', `${where} is issued in the future (${list.issuedAt})`, details);
    checkListFreshness(verified, options.now, options.graceMs ?? 0);
  }
  return verified;
}

/** LIST_STALE when `now` is past nextUpdate + grace: a list nobody refreshes must not be trusted forever. */
export function checkListFreshness(list: VerifiedTokenList, now: number, graceMs: number): void {
  if (now > list.nextUpdateMs + graceMs) {
    const where = list.id === '' ? 'the token list' : `token list "${list.id}"`;
    fail(
      'LIST_STALE',
      `${where} is stale: nextUpdate was ${list.nextUpdate}${graceMs > 0 ? ` (grace ${graceMs / 1000} s)` : ''}`,
      {
        ...(list.id === '' ? {} : { list: list.id }),
        nextUpdate: list.nextUpdate,
        sequence: list.sequence,
      },
    );
  }
}

/** Decode a token list's payload WITHOUT verifying it (for `list show`); LIST_INVALID when unreadable. */
export function decodeTokenListUnverified(jws: string): {
  header: Record<string, unknown>;
  payload: unknown;
} {
  const parts = jws.trim().split('.');
  if (parts.length !== 3) fail('LIST_INVALID', 'not a compact JWS (three base64url parts)');
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    return { header, payload };
  } catch (err) {
    throw new ProvenanceError('LIST_INVALID', 'the JWS header or payload is not JSON', {}, { cause: err });
  }
}

interface ListHeader {
  readonly alg: 'ES256' | 'EdDSA';
  readonly kid: string;
}

function decodeHeader(part: string, where: string, details: Record<string, unknown>): ListHeader {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url')));
  } catch {
    return fail('LIST_INVALID', `${where}: the JWS header is not JSON`, details);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('LIST_INVALID', `${where}: the JWS header is not an object`, details);
  const h = header as Record<string, unknown>;
  // Only these three members: anything else (crit, b64, jwk, jku, x5c, x5u) could change how
  // the signature is read or where the key comes from (RFC 7515 §4.1, RFC 7797 §3).
  const extra = Object.keys(h).filter((k) => k !== 'alg' && k !== 'typ' && k !== 'kid');
  if (extra.length > 0)
    fail('LIST_SIGNATURE_INVALID', `${where}: unexpected JWS header member(s) ${extra.join(', ')}`, details);
  if (h['typ'] !== TOKEN_LIST_JWS_TYPE)
    fail(
      'LIST_SIGNATURE_INVALID',
      `${where}: JWS typ is ${JSON.stringify(h['typ'])}, not "${TOKEN_LIST_JWS_TYPE}"`,
      details,
    );
  if (h['alg'] !== 'ES256' && h['alg'] !== 'EdDSA')
    fail(
      'LIST_SIGNATURE_INVALID',
      `${where}: JWS alg ${JSON.stringify(h['alg'])} is not ES256 or EdDSA`,
      details,
    );
  if (typeof h['kid'] !== 'string' || !/^[0-9a-f]{64}$/.test(h['kid']))
    fail('LIST_SIGNATURE_INVALID', `${where}: JWS kid is not a SPKI SHA-256 (64 hex digits)`, details);
  return { alg: h['alg'], kid: h['kid'] };
}

function jwsAlgorithmForOrNull(key: KeyObject): 'ES256' | 'EdDSA' | null {
  try {
    return jwsAlgorithmFor(key);
  } catch {
    return null;
  }
}

/** An anchor's optional certificate must carry the key the anchor names (display must not lie). */
function checkAnchorCertificates(list: TokenList): void {
  for (const entry of list.entries) {
    for (const anchor of entry.anchors) {
      if (anchor.certificate === undefined) continue;
      let spki: string;
      try {
        spki = parseCertificate(new Uint8Array(Buffer.from(anchor.certificate, 'base64'))).spkiSha256;
      } catch (err) {
        throw new ProvenanceError(
          'LIST_INVALID',
          `entry "${entry.id}": an anchor certificate does not parse`,
          {
            entry: entry.id,
          },
          { cause: err },
        );
      }
      if (spki !== anchor.spkiSha256)
        fail(
          'LIST_INVALID',
          `entry "${entry.id}": the anchor certificate's key is ${spki}, not ${anchor.spkiSha256}`,
          {
            entry: entry.id,
          },
        );
    }
  }
}

function describeKeyType(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''}`;
}
