/**
 * Strict, bounded DER reader (X.690 §8 and §10).
 *
 * The hot verification path walks DER itself: JS ASN.1 libraries cost hundreds of µs per
 * certificate, this reader a few. Every function checks bounds; every failure is a
 * ProvenanceError with a DER_* code. Nothing here allocates more than the element headers.
 *
 * Rules enforced (DER, X.690 §10): definite lengths only, minimal length octets, minimal
 * high-tag-number encoding, BOOLEAN 0x00/0xFF, minimal INTEGER, BIT STRING unused bits 0..7
 * with zeroed padding, canonical times, and no trailing bytes after a top-level element.
 *
 * @example
 * const cert = parseDer(bytes);                 // the whole buffer must be one element
 * const [tbs, alg, sig] = children(bytes, cert, 3);
 */
import { fail } from './errors.js';

/** Default limits; callers may pass tighter ones. */
export const DER_LIMITS = {
  /** Largest single input accepted by parseDer. */
  maxBytes: 1 << 20,
  /** Deepest nesting walkDer accepts. */
  maxDepth: 32,
  /** Most elements walkDer visits. */
  maxNodes: 100_000,
  /** Most children `children()` returns for one constructed element. */
  maxChildren: 10_000,
} as const;

export interface DerLimits {
  maxBytes?: number;
  maxDepth?: number;
  maxNodes?: number;
}

/** One TLV: positions are absolute offsets into the buffer it was read from. */
export interface Tlv {
  /** The first identifier octet (for low tag numbers this is the whole tag, e.g. 0x30). */
  readonly tag: number;
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly tagClass: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly valueStart: number;
  /** Offset just after the last content octet. */
  readonly end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** Tag octet of a context-specific [n] element (n < 31). */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/**
 * Read one TLV starting at `pos`, not extending beyond `limit`.
 * Throws DER_TRUNCATED when the element runs past `limit`, DER_MALFORMED on non-DER encodings.
 */
export function readTlv(buf: Uint8Array, pos: number, limit: number = buf.length): Tlv {
  if (limit > buf.length) limit = buf.length;
  if (pos >= limit) fail('DER_TRUNCATED', 'expected a DER element, found end of input', { offset: pos });
  const start = pos;
  const tag = buf[pos++]!;
  const tagClass = tag >> 6;
  const constructed = (tag & 0x20) !== 0;
  let tagNumber = tag & 0x1f;
  if (tagNumber === 0x1f) {
    // High tag number form (X.690 §8.1.2.4): base-128, minimal, and only for numbers >= 31.
    tagNumber = 0;
    let first = true;
    for (;;) {
      if (pos >= limit) fail('DER_TRUNCATED', 'tag number runs past the end of input', { offset: pos });
      const b = buf[pos++]!;
      if (first && b === 0x80) fail('DER_MALFORMED', 'non-minimal high tag number', { offset: start });
      first = false;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if (tagNumber > 0x1fffff) fail('DER_MALFORMED', 'tag number too large', { offset: start });
      if ((b & 0x80) === 0) break;
    }
    if (tagNumber < 31) fail('DER_MALFORMED', 'high tag number form used for a low tag', { offset: start });
  }
  // Universal 0 is reserved for the end-of-contents octets of indefinite lengths (X.690 §8.1.5),
  // which DER never uses (§10.1): no DER value carries this tag.
  if (tagClass === 0 && tagNumber === 0)
    fail('DER_MALFORMED', 'end-of-contents octets are not DER', { offset: start });
  if (pos >= limit) fail('DER_TRUNCATED', 'length octets missing', { offset: pos });
  let length = buf[pos++]!;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0) fail('DER_MALFORMED', 'indefinite length is not DER', { offset: start });
    if (n > 4) fail('DER_LIMIT_EXCEEDED', 'length field longer than 4 octets', { offset: start });
    if (pos + n > limit) fail('DER_TRUNCATED', 'length octets run past the end of input', { offset: pos });
    if (buf[pos] === 0) fail('DER_MALFORMED', 'length has leading zero octets', { offset: start });
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
    if (length < 0x80) fail('DER_MALFORMED', 'long-form length for a short value', { offset: start });
  }
  const valueStart = pos;
  const end = valueStart + length;
  if (end > limit) {
    fail('DER_TRUNCATED', 'element length runs past the end of its container', {
      offset: start,
      length,
      available: limit - valueStart,
    });
  }
  if (tagClass === 0 && !constructed && (tagNumber === 0x10 || tagNumber === 0x11)) {
    fail('DER_MALFORMED', 'SEQUENCE/SET must be constructed', { offset: start });
  }
  return { tag, tagClass, constructed, tagNumber, start, valueStart, end };
}

/**
 * Parse `buf` as exactly one DER element: no trailing bytes, within `maxBytes`.
 */
export function parseDer(buf: Uint8Array, limits: DerLimits = {}): Tlv {
  const maxBytes = limits.maxBytes ?? DER_LIMITS.maxBytes;
  if (buf.length > maxBytes) {
    fail('INPUT_TOO_LARGE', `DER input of ${buf.length} bytes exceeds the limit of ${maxBytes}`, {
      size: buf.length,
      limit: maxBytes,
    });
  }
  const tlv = readTlv(buf, 0, buf.length);
  if (tlv.end !== buf.length) {
    fail('DER_TRAILING_DATA', `${buf.length - tlv.end} bytes follow the DER element`, { offset: tlv.end });
  }
  return tlv;
}

/**
 * The children of a constructed element. With `expected`, the count must match exactly;
 * with [min, max], the count must fall in that range.
 */
export function children(buf: Uint8Array, parent: Tlv, expected?: number | readonly [number, number]): Tlv[] {
  if (!parent.constructed) fail('DER_MALFORMED', 'expected a constructed element', { offset: parent.start });
  const out: Tlv[] = [];
  let pos = parent.valueStart;
  while (pos < parent.end) {
    if (out.length >= DER_LIMITS.maxChildren) {
      fail('DER_LIMIT_EXCEEDED', 'too many elements in one constructed value', { offset: parent.start });
    }
    const t = readTlv(buf, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  if (expected !== undefined) {
    const [min, max] = typeof expected === 'number' ? [expected, expected] : expected;
    if (out.length < min || out.length > max) {
      fail(
        'DER_MALFORMED',
        `expected ${min === max ? min : `${min}..${max}`} elements, found ${out.length}`,
        {
          offset: parent.start,
        },
      );
    }
  }
  return out;
}

/** Throw DER_MALFORMED unless `tlv` has the tag octet `tag`. */
export function expectTag(tlv: Tlv, tag: number, what: string): Tlv {
  if (tlv.tag !== tag || tlv.tagNumber >= 31) {
    fail('DER_MALFORMED', `${what}: expected tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)}`, {
      offset: tlv.start,
    });
  }
  return tlv;
}

/** The content octets of `tlv` (a view, no copy). */
export function contentOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.valueStart, tlv.end);
}

/** The whole encoding of `tlv`, header included (a view, no copy). */
export function encodingOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}

function checkIntegerEncoding(buf: Uint8Array, tlv: Tlv, what: string): void {
  const len = tlv.end - tlv.valueStart;
  if (len === 0) fail('DER_MALFORMED', `${what}: empty INTEGER`, { offset: tlv.start });
  if (len > 1) {
    const a = buf[tlv.valueStart]!;
    const b = buf[tlv.valueStart + 1]!;
    if ((a === 0x00 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0)) {
      fail('DER_MALFORMED', `${what}: non-minimal INTEGER`, { offset: tlv.start });
    }
  }
}

/** INTEGER as a bigint (X.690 §8.3), minimal encoding enforced. */
export function readBigInt(buf: Uint8Array, tlv: Tlv, what = 'INTEGER'): bigint {
  expectTag(tlv, TAG.INTEGER, what);
  checkIntegerEncoding(buf, tlv, what);
  let v = 0n;
  for (let i = tlv.valueStart; i < tlv.end; i++) v = (v << 8n) | BigInt(buf[i]!);
  if (buf[tlv.valueStart]! & 0x80) v -= 1n << BigInt(8 * (tlv.end - tlv.valueStart));
  return v;
}

/** INTEGER (or ENUMERATED with `tag`) that must fit a safe JS number. */
export function readSmallInt(buf: Uint8Array, tlv: Tlv, what = 'INTEGER', tag: number = TAG.INTEGER): number {
  expectTag(tlv, tag, what);
  checkIntegerEncoding(buf, tlv, what);
  const len = tlv.end - tlv.valueStart;
  if (len > 6) fail('DER_LIMIT_EXCEEDED', `${what}: integer too large`, { offset: tlv.start });
  let u = 0;
  for (let i = tlv.valueStart; i < tlv.end; i++) u = u * 256 + buf[i]!;
  const v = buf[tlv.valueStart]! & 0x80 ? u - 256 ** len : u;
  return v;
}

/**
 * The magnitude octets of a non-negative INTEGER without the sign pad (for serials, moduli).
 * Throws when the integer is negative unless `allowNegative`.
 */
export function readUnsignedBytes(
  buf: Uint8Array,
  tlv: Tlv,
  what = 'INTEGER',
  allowNegative = false,
): Uint8Array {
  expectTag(tlv, TAG.INTEGER, what);
  checkIntegerEncoding(buf, tlv, what);
  if (!allowNegative && buf[tlv.valueStart]! & 0x80)
    fail('DER_MALFORMED', `${what}: negative`, { offset: tlv.start });
  const v = contentOf(buf, tlv);
  return v.length > 1 && v[0] === 0 ? v.subarray(1) : v;
}

/** BOOLEAN: DER allows only 0x00 and 0xFF (X.690 §11.1). */
export function readBoolean(buf: Uint8Array, tlv: Tlv, what = 'BOOLEAN', tag: number = TAG.BOOLEAN): boolean {
  expectTag(tlv, tag, what);
  if (tlv.end - tlv.valueStart !== 1)
    fail('DER_MALFORMED', `${what}: BOOLEAN must be one octet`, { offset: tlv.start });
  const b = buf[tlv.valueStart]!;
  if (b === 0xff) return true;
  if (b === 0x00) return false;
  return fail('DER_MALFORMED', `${what}: BOOLEAN must be 0x00 or 0xFF in DER`, { offset: tlv.start });
}

/** NULL: empty content. */
export function readNull(tlv: Tlv, what = 'NULL'): void {
  expectTag(tlv, TAG.NULL, what);
  if (tlv.end !== tlv.valueStart) fail('DER_MALFORMED', `${what}: NULL with content`, { offset: tlv.start });
}

export interface BitString {
  readonly unusedBits: number;
  readonly bytes: Uint8Array;
}

/** BIT STRING (X.690 §8.6, §11.2): unused bits 0..7, zero padding, empty only with 0 unused. */
export function readBitString(
  buf: Uint8Array,
  tlv: Tlv,
  what = 'BIT STRING',
  tag: number = TAG.BIT_STRING,
): BitString {
  expectTag(tlv, tag, what);
  const len = tlv.end - tlv.valueStart;
  if (len === 0) fail('DER_MALFORMED', `${what}: missing unused-bits octet`, { offset: tlv.start });
  const unusedBits = buf[tlv.valueStart]!;
  if (unusedBits > 7) fail('DER_MALFORMED', `${what}: unused bits > 7`, { offset: tlv.start });
  if (len === 1 && unusedBits !== 0)
    fail('DER_MALFORMED', `${what}: empty with unused bits`, { offset: tlv.start });
  if (unusedBits !== 0) {
    const last = buf[tlv.end - 1]!;
    if ((last & ((1 << unusedBits) - 1)) !== 0) {
      fail('DER_MALFORMED', `${what}: padding bits must be zero`, { offset: tlv.start });
    }
  }
  return { unusedBits, bytes: buf.subarray(tlv.valueStart + 1, tlv.end) };
}

/** BIT STRING used as a flag set (KeyUsage): bit 0 is the MSB of the first octet. */
export function bitIsSet(bits: BitString, n: number): boolean {
  const byte = n >> 3;
  if (byte >= bits.bytes.length) return false;
  return (bits.bytes[byte]! & (0x80 >> (n & 7))) !== 0;
}

/** OCTET STRING content (a view). */
export function readOctetString(
  buf: Uint8Array,
  tlv: Tlv,
  what = 'OCTET STRING',
  tag: number = TAG.OCTET_STRING,
): Uint8Array {
  expectTag(tlv, tag, what);
  return contentOf(buf, tlv);
}

const oidCache = new Map<string, string>();

/** OBJECT IDENTIFIER as dotted decimal (X.690 §8.19), minimal sub-identifiers enforced. */
export function readOid(buf: Uint8Array, tlv: Tlv, what = 'OBJECT IDENTIFIER'): string {
  expectTag(tlv, TAG.OID, what);
  // Read in place: a subarray per OID costs more than the memo lookup it feeds.
  return decodeOid(buf, tlv.valueStart, tlv.end, tlv.start);
}

/** Decode OID content octets; results are memoised (the same few OIDs recur in every certificate). */
export function decodeOidBytes(content: Uint8Array, offset = 0): string {
  return decodeOid(content, 0, content.length, offset);
}

/** The OID whose content octets are buf[from..to); `offset` is reported in errors. */
function decodeOid(buf: Uint8Array, from: number, to: number, offset: number): string {
  const length = to - from;
  if (length === 0) fail('DER_MALFORMED', 'empty OBJECT IDENTIFIER', { offset });
  if (length > 128) fail('DER_LIMIT_EXCEEDED', 'OBJECT IDENTIFIER too long', { offset });
  // The memo key is the content as a one-char-per-octet string. A plain loop: wrapping the
  // octets in a Buffer to call toString('latin1') costs more than the lookup saves.
  let key = '';
  for (let i = from; i < to; i++) key += String.fromCharCode(buf[i]!);
  const hit = oidCache.get(key);
  if (hit !== undefined) return hit;
  const arcs: string[] = [];
  let value = 0n;
  let startOfArc = true;
  for (let i = from; i < to; i++) {
    const b = buf[i]!;
    if (startOfArc && b === 0x80) fail('DER_MALFORMED', 'non-minimal OID sub-identifier', { offset });
    startOfArc = false;
    value = (value << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        if (value < 40n) arcs.push('0', value.toString());
        else if (value < 80n) arcs.push('1', (value - 40n).toString());
        else arcs.push('2', (value - 80n).toString());
      } else {
        arcs.push(value.toString());
      }
      value = 0n;
      startOfArc = true;
    }
  }
  if (!startOfArc) fail('DER_TRUNCATED', 'OID sub-identifier runs past the end', { offset });
  const oid = arcs.join('.');
  if (oidCache.size < 4096) oidCache.set(key, oid);
  return oid;
}

/** A string type as JS text. Validates the character repertoire of the restricted types. */
export function readString(buf: Uint8Array, tlv: Tlv, what = 'string'): string {
  if (tlv.tagClass !== 0 || tlv.constructed)
    fail('DER_MALFORMED', `${what}: expected a string type`, { offset: tlv.start });
  const v = contentOf(buf, tlv);
  switch (tlv.tagNumber) {
    case 0x0c: {
      // UTF8String: must be valid UTF-8. ignoreBOM keeps a leading U+FEFF: it is content here.
      // All-ASCII content is valid UTF-8 that reads the same as Latin-1: skip the decoder.
      if (isAscii(v)) return latin1(v);
      try {
        return UTF8_FATAL.decode(v);
      } catch {
        return fail('DER_MALFORMED', `${what}: invalid UTF-8`, { offset: tlv.start });
      }
    }
    case 0x13: // PrintableString (X.680 §41.4)
      for (const b of v) {
        if (!PRINTABLE[b])
          fail('DER_MALFORMED', `${what}: character 0x${b.toString(16)} not allowed in PrintableString`, {
            offset: tlv.start,
          });
      }
      return latin1(v);
    case 0x12: // NumericString
      for (const b of v) {
        if (!((b >= 0x30 && b <= 0x39) || b === 0x20))
          fail('DER_MALFORMED', `${what}: invalid NumericString`, { offset: tlv.start });
      }
      return latin1(v);
    case 0x16: // IA5String: all of ASCII, controls included
      for (const b of v) {
        if (b > 0x7f) fail('DER_MALFORMED', `${what}: non-ASCII in IA5String`, { offset: tlv.start });
      }
      return latin1(v);
    case 0x1a: // VisibleString (X.680 §41, Table 8): printing characters and space, no controls
      for (const b of v) {
        if (b < 0x20 || b > 0x7e)
          fail('DER_MALFORMED', `${what}: character 0x${b.toString(16)} not allowed in VisibleString`, {
            offset: tlv.start,
          });
      }
      return latin1(v);
    case 0x14: // TeletexString: treated as Latin-1, as most implementations do.
      return latin1(v);
    case 0x1e: {
      // BMPString: UCS-2 big-endian.
      if (v.length % 2) fail('DER_MALFORMED', `${what}: odd-length BMPString`, { offset: tlv.start });
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case 0x1c: {
      // UniversalString: UCS-4 big-endian.
      if (v.length % 4) fail('DER_MALFORMED', `${what}: bad UniversalString length`, { offset: tlv.start });
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
        if (cp > 0x10ffff) fail('DER_MALFORMED', `${what}: invalid code point`, { offset: tlv.start });
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return fail('DER_MALFORMED', `${what}: unsupported string tag ${tlv.tagNumber}`, { offset: tlv.start });
  }
}

const PRINTABLE: boolean[] = (() => {
  const t: boolean[] = new Array(256).fill(false);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
    t[c.charCodeAt(0)] = true;
  return t;
})();

/** Stateless (no `stream` option), so one instance serves every call. */
const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isAscii(v: Uint8Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i]! > 0x7f) return false;
  return true;
}

function latin1(v: Uint8Array): string {
  // Names and attribute values are short: a loop beats wrapping them in a Buffer.
  if (v.length > 64) return Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
  let s = '';
  for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!);
  return s;
}

function digits(buf: Uint8Array, from: number, n: number, tlv: Tlv, what: string): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) fail('DER_MALFORMED', `${what}: non-digit in time`, { offset: tlv.start });
    v = v * 10 + c;
  }
  return v;
}

/**
 * UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) in the DER/RFC 5280 profile
 * (§4.1.2.5): seconds present, Zulu, no fractions. Returns milliseconds since the epoch.
 */
export function readTime(buf: Uint8Array, tlv: Tlv, what = 'time'): number {
  const len = tlv.end - tlv.valueStart;
  const p = tlv.valueStart;
  let year: number;
  let q: number;
  if (tlv.tag === TAG.UTC_TIME) {
    if (len !== 13) fail('DER_MALFORMED', `${what}: UTCTime must be YYMMDDHHMMSSZ`, { offset: tlv.start });
    const yy = digits(buf, p, 2, tlv, what);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
    q = p + 2;
  } else if (tlv.tag === TAG.GENERALIZED_TIME) {
    if (len !== 15)
      fail('DER_MALFORMED', `${what}: GeneralizedTime must be YYYYMMDDHHMMSSZ`, { offset: tlv.start });
    year = digits(buf, p, 4, tlv, what);
    q = p + 4;
  } else {
    return fail('DER_MALFORMED', `${what}: expected UTCTime or GeneralizedTime`, { offset: tlv.start });
  }
  if (buf[tlv.end - 1] !== 0x5a) fail('DER_MALFORMED', `${what}: time must end in Z`, { offset: tlv.start });
  const month = digits(buf, q, 2, tlv, what);
  const day = digits(buf, q + 2, 2, tlv, what);
  const hour = digits(buf, q + 4, 2, tlv, what);
  const minute = digits(buf, q + 6, 2, tlv, what);
  const second = digits(buf, q + 8, 2, tlv, what);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    fail('DER_MALFORMED', `${what}: time field out of range`, { offset: tlv.start });
  }
  if (day > daysInMonth(year, month)) fail('DER_MALFORMED', `${what}: no such day`, { offset: tlv.start });
  // Date.UTC reads years 0..99 as 1900..1999, and GeneralizedTime can say 0000..0099: those
  // few take the slower setUTCFullYear path. Every other year skips the Date object.
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

/** Days in `month` (1..12) of the proleptic Gregorian `year`, as JavaScript's Date counts them. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Walk a whole DER tree without recursion, checking every element's encoding, with depth
 * and node-count limits. Universal constructed strings are rejected (DER forbids them).
 * Content of primitive OCTET/BIT STRINGs is not descended into.
 */
export function walkDer(buf: Uint8Array, limits: DerLimits = {}): { nodes: number; depth: number } {
  const maxDepth = limits.maxDepth ?? DER_LIMITS.maxDepth;
  const maxNodes = limits.maxNodes ?? DER_LIMITS.maxNodes;
  const root = parseDer(buf, limits);
  const stack: { end: number; pos: number }[] = [];
  let nodes = 1;
  let depthSeen = 1;
  if (root.constructed) stack.push({ end: root.end, pos: root.valueStart });
  checkConstructedUniversal(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.pos >= top.end) {
      stack.pop();
      continue;
    }
    const t = readTlv(buf, top.pos, top.end);
    top.pos = t.end;
    if (++nodes > maxNodes)
      fail('DER_LIMIT_EXCEEDED', `more than ${maxNodes} DER elements`, { limit: maxNodes });
    checkConstructedUniversal(t);
    // The stack holds exactly this element's ancestors, so its depth (root = 1) is one more.
    const depth = stack.length + 1;
    if (depth > maxDepth)
      fail('DER_LIMIT_EXCEEDED', `DER nesting deeper than ${maxDepth}`, { limit: maxDepth, offset: t.start });
    if (depth > depthSeen) depthSeen = depth;
    if (t.constructed) stack.push({ end: t.end, pos: t.valueStart });
  }
  return { nodes, depth: depthSeen };
}

function checkConstructedUniversal(t: Tlv): void {
  if (t.tagClass === 0 && t.constructed && t.tagNumber !== 0x10 && t.tagNumber !== 0x11 && t.tagNumber < 31) {
    // Constructed encodings of strings and other primitives are BER, not DER (X.690 §10.2).
    fail('DER_MALFORMED', `universal tag ${t.tagNumber} must be primitive in DER`, { offset: t.start });
  }
}
