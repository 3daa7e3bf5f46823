/**
 * GeneralName (RFC 5280 §4.2.1.6): the name forms of subjectAltName and of name constraints,
 * decoded strictly, plus the syntax rules a name must follow to be compared at all.
 *
 * ```asn1
 * GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
 * GeneralName ::= CHOICE {
 *   otherName                 [0] AnotherName,        -- SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
 *   rfc822Name                [1] IA5String,
 *   dNSName                   [2] IA5String,
 *   x400Address               [3] ORAddress,
 *   directoryName             [4] Name,
 *   ediPartyName              [5] EDIPartyName,
 *   uniformResourceIdentifier [6] IA5String,
 *   iPAddress                 [7] OCTET STRING,
 *   registeredID              [8] OBJECT IDENTIFIER }
 * ```
 *
 * @example
 * const san = parseGeneralNames(cert.extension(OID.subjectAltName)!.value);
 * san.filter((n) => n.type === 'dNSName').map((n) => n.value)   // ['example.com']
 */
import {
  children,
  contentOf,
  decodeOidBytes,
  encodingOf,
  expectTag,
  parseDer,
  readOid,
  TAG,
  type Tlv,
} from '../core/der.js';
import { fail } from '../core/errors.js';
import { type Name, parseName } from './certificate.js';

/** One decoded GeneralName; IA5String forms as text, the rest as their parts or encoding. */
export type GeneralName =
  | { readonly type: 'otherName'; readonly typeId: string; readonly der: Uint8Array }
  | { readonly type: 'rfc822Name'; readonly value: string }
  | { readonly type: 'dNSName'; readonly value: string }
  | { readonly type: 'x400Address'; readonly der: Uint8Array }
  | { readonly type: 'directoryName'; readonly name: Name }
  | { readonly type: 'ediPartyName'; readonly der: Uint8Array }
  | { readonly type: 'uniformResourceIdentifier'; readonly value: string }
  | { readonly type: 'iPAddress'; readonly bytes: Uint8Array }
  | { readonly type: 'registeredID'; readonly oid: string };

/** The name form of a GeneralName ('dNSName', 'iPAddress', ...). */
export type GeneralNameType = GeneralName['type'];

/** Upper bound on names in one GeneralNames value (real certificates carry a handful). */
export const MAX_GENERAL_NAMES = 4096;

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (a subjectAltName extnValue). */
export function parseGeneralNames(value: Uint8Array): GeneralName[] {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'GeneralNames');
  const list = children(value, seq);
  if (list.length === 0) fail('EXTENSION_MALFORMED', 'GeneralNames is empty (SIZE 1..MAX)');
  if (list.length > MAX_GENERAL_NAMES)
    fail('DER_LIMIT_EXCEEDED', `more than ${MAX_GENERAL_NAMES} names in GeneralNames`);
  return list.map((t) => parseGeneralName(value, t));
}

/** One GeneralName element. Throws EXTENSION_MALFORMED / DER_* on a malformed encoding. */
export function parseGeneralName(buf: Uint8Array, t: Tlv): GeneralName {
  if (t.tagClass !== 2 || t.tagNumber > 8) {
    return fail('EXTENSION_MALFORMED', `GeneralName with tag 0x${t.tag.toString(16)}`, { offset: t.start });
  }
  const expectConstructed = t.tagNumber === 0 || t.tagNumber === 3 || t.tagNumber === 4 || t.tagNumber === 5;
  if (t.constructed !== expectConstructed) {
    fail('EXTENSION_MALFORMED', `GeneralName [${t.tagNumber}] has the wrong form`, { offset: t.start });
  }
  switch (t.tagNumber) {
    case 0: {
      // AnotherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY } (IMPLICIT [0])
      const [idTlv, valTlv] = children(buf, t, 2) as [Tlv, Tlv];
      const typeId = readOid(buf, idTlv, 'otherName type-id');
      if (valTlv.tag !== 0xa0) fail('EXTENSION_MALFORMED', 'otherName value must be [0] EXPLICIT');
      children(buf, valTlv, 1);
      return { type: 'otherName', typeId, der: encodingOf(buf, t) };
    }
    case 1:
      return { type: 'rfc822Name', value: readIa5(buf, t, 'rfc822Name') };
    case 2:
      return { type: 'dNSName', value: readIa5(buf, t, 'dNSName') };
    case 3:
      return { type: 'x400Address', der: encodingOf(buf, t) };
    case 4: {
      // Name is a CHOICE, so [4] is EXPLICIT: it wraps the RDNSequence.
      const [inner] = children(buf, t, 1) as [Tlv];
      return { type: 'directoryName', name: parseName(buf, inner) };
    }
    case 5:
      return { type: 'ediPartyName', der: encodingOf(buf, t) };
    case 6:
      return { type: 'uniformResourceIdentifier', value: readIa5(buf, t, 'uniformResourceIdentifier') };
    case 7:
      return { type: 'iPAddress', bytes: contentOf(buf, t) };
    default:
      return { type: 'registeredID', oid: decodeOidBytes(contentOf(buf, t), t.start) };
  }
}

function readIa5(buf: Uint8Array, t: Tlv, what: string): string {
  const v = contentOf(buf, t);
  for (const b of v)
    if (b > 0x7f) fail('EXTENSION_MALFORMED', `${what} is not an IA5String`, { offset: t.start });
  return Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * A host name in the "preferred name syntax" (RFC 5280 §4.2.1.6: RFC 1034 §3.5 as relaxed by
 * RFC 1123 §2.1): LDH labels of 1..63 octets, 253 octets at most. With `wildcard`, the
 * leftmost label may be exactly '*'. A name whose last label is all digits is refused: no
 * top-level domain is numeric (RFC 3696 §2), so it is an IP address in the wrong field.
 */
export function isPreferredDnsName(name: string, options: { wildcard?: boolean } = {}): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (i === 0 && options.wildcard === true && label === '*' && labels.length > 1) continue;
    if (!LABEL.test(label)) return false;
  }
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

/** RFC 5322 atext plus '.', the local-part characters accepted without quoting. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;

/**
 * An addr-spec mailbox (RFC 5280 §4.2.1.6, RFC 5322 §3.4.1): one '@', a dot-atom local
 * part, and a preferred-syntax domain. Quoted local parts are not accepted.
 */
export function isMailbox(value: string): boolean {
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@')) return false;
  return LOCAL_PART.test(value.slice(0, at)) && isPreferredDnsName(value.slice(at + 1));
}

/** An iPAddress SAN is 4 (IPv4) or 16 (IPv6) octets (RFC 5280 §4.2.1.6). */
export function isIpAddressName(bytes: Uint8Array): boolean {
  return bytes.length === 4 || bytes.length === 16;
}

/**
 * The host of a URI with an authority ('scheme://[userinfo@]host[:port]/…'), lower-cased; null
 * when the URI has no authority or its host is an IP literal (RFC 5280 §4.2.1.10 constrains
 * URIs by host name only).
 */
export function uriHost(uri: string): string | null {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!m) return null;
  let authority = m[1]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) return null;
  const colon = authority.indexOf(':');
  if (colon >= 0) authority = authority.slice(0, colon);
  return authority.length > 0 ? authority.toLowerCase() : null;
}
