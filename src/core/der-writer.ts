/**
 * DER encoder: small functions that each return one complete TLV as a Uint8Array.
 * Used to build certificates, CSRs and extensions without an ASN.1 object model
 * (issuing throughput matters: see docs/architecture.md).
 *
 * @example
 * const ext = der.seq(der.oid('2.5.29.19'), der.bool(true), der.octets(der.seq(der.bool(true))));
 */
import { fail } from './errors.js';

function header(tag: number, length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(tag, length);
  const lenBytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) lenBytes.unshift(l & 0xff);
  return Uint8Array.of(tag, 0x80 | lenBytes.length, ...lenBytes);
}

/** Concatenate byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A TLV with the given tag octet (low tag numbers) and content. */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = content.length === 1 ? content[0]! : concat(content);
  const h = header(tag, body.length);
  const out = new Uint8Array(h.length + body.length);
  out.set(h, 0);
  out.set(body, h.length);
  return out;
}

/** A TLV with a high tag number (>= 31), e.g. Android's [701]. */
export function tlvHighTag(
  tagClass: number,
  constructed: boolean,
  tagNumber: number,
  content: Uint8Array,
): Uint8Array {
  if (tagNumber < 31) return tlv((tagClass << 6) | (constructed ? 0x20 : 0) | tagNumber, content);
  const num: number[] = [];
  for (let n = tagNumber; n > 0; n = Math.floor(n / 128)) num.unshift((n & 0x7f) | (num.length ? 0x80 : 0));
  const id = Uint8Array.of((tagClass << 6) | (constructed ? 0x20 : 0) | 0x1f, ...num);
  const len = header(0, content.length).subarray(1);
  return concat([id, len, content]);
}

export const der = {
  seq: (...items: Uint8Array[]): Uint8Array => tlv(0x30, ...items),

  /** SET OF: DER sorts the encodings (X.690 §11.6). */
  setOf: (...items: Uint8Array[]): Uint8Array => tlv(0x31, ...[...items].sort(compareBytes)),

  int(value: bigint | number): Uint8Array {
    const v = BigInt(value);
    let n = 1;
    while (v < -(1n << BigInt(8 * n - 1)) || v >= 1n << BigInt(8 * n - 1)) n++;
    const twos = v < 0n ? (1n << BigInt(8 * n)) + v : v;
    return tlv(0x02, Buffer.from(twos.toString(16).padStart(2 * n, '0'), 'hex'));
  },

  /** INTEGER from unsigned big-endian magnitude bytes (serials, moduli): adds the sign pad. */
  uintBytes(magnitude: Uint8Array): Uint8Array {
    let i = 0;
    while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
    const m = magnitude.subarray(i);
    if (m.length === 0) return tlv(0x02, Uint8Array.of(0));
    return m[0]! & 0x80 ? tlv(0x02, Uint8Array.of(0), m) : tlv(0x02, m);
  },

  enumerated: (value: number): Uint8Array => {
    const i = der.int(value);
    i[0] = 0x0a;
    return i;
  },

  bool: (value: boolean): Uint8Array => Uint8Array.of(0x01, 0x01, value ? 0xff : 0x00),

  null: (): Uint8Array => Uint8Array.of(0x05, 0x00),

  oid(dotted: string): Uint8Array {
    let encoded = oidTlvCache.get(dotted);
    if (encoded === undefined) {
      encoded = tlv(0x06, encodeOid(dotted));
      if (oidTlvCache.size < 1024) oidTlvCache.set(dotted, encoded);
    }
    // A copy: callers own what they get back.
    return encoded.slice();
  },

  octets: (value: Uint8Array): Uint8Array => tlv(0x04, value),

  bitString: (value: Uint8Array, unusedBits = 0): Uint8Array => tlv(0x03, Uint8Array.of(unusedBits), value),

  /** A named-bit BIT STRING (KeyUsage): bit n is the n-th flag; trailing zero bits dropped (X.690 §11.2.2). */
  namedBits(bits: readonly number[]): Uint8Array {
    if (bits.length === 0) return tlv(0x03, Uint8Array.of(0));
    const max = Math.max(...bits);
    const bytes = new Uint8Array((max >> 3) + 1);
    for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
    const unused = 7 - (max & 7);
    return tlv(0x03, Uint8Array.of(unused), bytes);
  },

  utf8: (s: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(s)),

  printable(s: string): Uint8Array {
    if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) fail('USAGE', `"${s}" is not a PrintableString`);
    return tlv(0x13, Buffer.from(s, 'latin1'));
  },

  ia5(s: string): Uint8Array {
    if (!/^[\x00-\x7f]*$/.test(s)) fail('USAGE', `"${s}" is not an IA5String`);
    return tlv(0x16, Buffer.from(s, 'latin1'));
  },

  /** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. Seconds precision. */
  time(date: Date | number): Uint8Array {
    const d = new Date(typeof date === 'number' ? date : date.getTime());
    const y = d.getUTCFullYear();
    // GeneralizedTime has exactly four year digits (RFC 5280 §4.1.2.5.2); NaN is no time at all.
    if (!(y >= 0 && y <= 9999)) fail('USAGE', `cannot encode ${d.toString()} as UTCTime or GeneralizedTime`);
    const p2 = (n: number) => n.toString().padStart(2, '0');
    const rest = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
    if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p2(y % 100)}${rest}`, 'latin1'));
    return tlv(0x18, Buffer.from(`${y.toString().padStart(4, '0')}${rest}`, 'latin1'));
  },

  /** [n] EXPLICIT: wraps a complete TLV. */
  explicit: (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner),

  /** [n] IMPLICIT over a primitive type: the content octets with a context tag. */
  implicitPrimitive: (n: number, content: Uint8Array): Uint8Array => tlv(0x80 | n, content),

  /** [n] IMPLICIT over a constructed type (SEQUENCE): re-tags an encoded SEQUENCE/SET. */
  implicitConstructed(n: number, encoded: Uint8Array): Uint8Array {
    const out = Uint8Array.from(encoded);
    out[0] = 0xa0 | n;
    return out;
  },

  /** Already-encoded DER, passed through (for readability at call sites). */
  raw: (encoded: Uint8Array): Uint8Array => encoded,
};

/**
 * Encoded OIDs by dotted text: the same few dozen recur in every certificate, and the project
 * arc's 39-digit UUID arc costs microseconds of BigInt work each time.
 */
const oidTlvCache = new Map<string, Uint8Array>();

/** Content octets of an OBJECT IDENTIFIER (X.690 §8.19). */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) fail('USAGE', `invalid OID "${dotted}"`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! >= 40n))
    fail('USAGE', `invalid OID "${dotted}"`);
  const out: number[] = [];
  const push = (v: bigint) => {
    const tmp: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) tmp.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...tmp);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return Uint8Array.from(out);
}

/** Lexicographic byte comparison (DER SET OF ordering). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
