/**
 * Signed token lists (docs/token-list.md): the document an industry body publishes, signed
 * as a compact JWS, and what a consumer holds once a list has been verified.
 *
 * @example
 * const list: VerifiedTokenList = await verifyTokenList(jws, { publisherKeys, now: Date.now() });
 * list.entries.find((e) => e.anchors.some((a) => a.spkiSha256 === cert.spkiSha256))?.status;
 */

/** The lifecycle of a listed token model or product line. */
export type TokenListStatus = 'approved' | 'deprecated' | 'suspended' | 'revoked';

/** Statuses in the order the schema lists them. */
export const TOKEN_LIST_STATUSES: readonly TokenListStatus[] = [
  'approved',
  'deprecated',
  'suspended',
  'revoked',
];

/** One key that vouches for a listed model: identified by SPKI SHA-256 (trust by key). */
export interface TokenListAnchor {
  /** Lower-case hex SHA-256 of the SubjectPublicKeyInfo. */
  readonly spkiSha256: string;
  /** Base64 DER of a certificate for that key (display and path building only). */
  readonly certificate?: string;
}

/** One listed token model, product line or maker. */
export interface TokenListEntry {
  readonly id: string;
  readonly maker: string;
  readonly product: string;
  readonly model?: string;
  readonly anchors: readonly TokenListAnchor[];
  /** Assurance level the publisher assigns (higher is stronger). */
  readonly level: number;
  readonly status: TokenListStatus;
  /** When the current status took effect (RFC 3339 date or date-time). */
  readonly since: string;
  readonly notes?: string;
  /** Firmware version ranges of this entry that must be refused (policy version-range syntax). */
  readonly firmware?: { readonly denied: readonly string[] };
}

/** A key or certificate the publisher revokes: anywhere in a path, it is refused. */
export type TokenListRevocation =
  | { readonly spkiSha256: string; readonly reason: string; readonly since?: string }
  | { readonly certificateSha256: string; readonly reason: string; readonly since?: string };

/** The signed document (the JWS payload). */
export interface TokenList {
  readonly publisher: string;
  /** Monotonic: a consumer never accepts a lower sequence than one it has seen. */
  readonly sequence: number;
  /** RFC 3339 instants. */
  readonly issuedAt: string;
  readonly nextUpdate: string;
  readonly entries: readonly TokenListEntry[];
  readonly revoked: readonly TokenListRevocation[];
}

/** A list whose signature, schema and sequence have been checked. */
export interface VerifiedTokenList extends TokenList {
  /** The list id in the consumer's policy (set by the loader; '' when verified alone). */
  readonly id: string;
  /** The JWS `kid`: SPKI SHA-256 of the publisher key that signed. */
  readonly kid: string;
  /** issuedAt and nextUpdate in ms since the epoch. */
  readonly issuedAtMs: number;
  readonly nextUpdateMs: number;
  /** The compact JWS as received (to store and re-verify after a restart). */
  readonly jws: string;
}

/** Why a list named by the policy is not usable right now (the policy fails closed on it). */
export interface ListProblem {
  readonly id: string;
  readonly problem: true;
  readonly code:
    | 'LIST_INVALID'
    | 'LIST_SIGNATURE_INVALID'
    | 'LIST_ROLLBACK'
    | 'LIST_STALE'
    | 'LIST_UNAVAILABLE';
  readonly message: string;
  /** For LIST_STALE: the list itself, which a policy exception (`allowStale`) may still use. */
  readonly list?: VerifiedTokenList;
}

/** The lists a policy evaluation may consult, by policy list id. */
export type TokenListSet = ReadonlyMap<string, VerifiedTokenList | ListProblem>;

/** True when the value is a ListProblem rather than a verified list. */
export function isListProblem(value: VerifiedTokenList | ListProblem): value is ListProblem {
  return 'problem' in value && value.problem === true;
}
