/**
 * A small strict CBOR decoder (RFC 8949) for WebAuthn attestation objects and COSE keys.
 *
 * Only what CTAP2 canonical CBOR (CTAP 2.1 §8 "Message Encoding") can contain is accepted:
 * unsigned/negative integers within the safe-integer range, byte and text strings, arrays, maps,
 * false/true/null. Refused (CBOR_MALFORMED): indefinite lengths, non-shortest integer or length
 * encodings, tags, floats, undefined and other simple values, duplicate map keys, invalid UTF-8,
 * nesting deeper than `maxDepth`, more than `maxItems` items, and bytes after the top-level item.
 * Map key order is not enforced: real authenticators and platforms emit non-canonical orders
 * (Windows Hello's TPM statement), so a duplicate check is what protects against ambiguity.
 *
 * @example
 * const { value, end } = decodeCborPrefix(authData, 55); // a COSE key inside authenticator data
 * const attObj = decodeCbor(bytes) as CborMap;
 */
import { fail } from '../../core/errors.js';

/** A decoded CBOR map: keys are integers or text strings (all CTAP2 uses). */
export type CborMap = Map<number | string, CborValue>;

/** A decoded CBOR data item. */
export type CborValue = number | string | boolean | null | Uint8Array | CborValue[] | CborMap;

/** Bounds for one decode. */
export interface CborLimits {
  /** Deepest nesting of arrays and maps (CTAP2 limits messages to depth 4; statements nest x5c). */
  readonly maxDepth?: number;
  /** Most data items in total (guards against tiny inputs claiming huge counts). */
  readonly maxItems?: number;
}

/** Default bounds: depth 8, 4096 items. */
export const CBOR_LIMITS = { maxDepth: 8, maxItems: 4096 } as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos: number;
  items = 0;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly maxDepth: number,
    readonly maxItems: number,
  ) {
    this.pos = start;
  }

  need(n: number): void {
    if (n > this.buf.length - this.pos)
      fail('CBOR_MALFORMED', `CBOR truncated: ${n} bytes needed at offset ${this.pos}`, { offset: this.pos });
  }

  /** The argument of a head (RFC 8949 §3), shortest form enforced (§4.2.1 preferred serialisation). */
  argument(info: number): number {
    if (info < 24) return info;
    const at = this.pos - 1;
    const b = this.buf;
    let v: number;
    if (info === 24) {
      this.need(1);
      v = b[this.pos++]!;
      if (v < 24) fail('CBOR_MALFORMED', 'non-shortest CBOR integer or length', { offset: at });
      return v;
    }
    if (info === 25) {
      this.need(2);
      v = (b[this.pos]! << 8) | b[this.pos + 1]!;
      this.pos += 2;
      if (v < 0x100) fail('CBOR_MALFORMED', 'non-shortest CBOR integer or length', { offset: at });
      return v;
    }
    if (info === 26) {
      this.need(4);
      v =
        ((b[this.pos]! << 24) >>> 0) +
        ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
      this.pos += 4;
      if (v < 0x10000) fail('CBOR_MALFORMED', 'non-shortest CBOR integer or length', { offset: at });
      return v;
    }
    if (info === 27) {
      this.need(8);
      const hi =
        ((b[this.pos]! << 24) >>> 0) +
        ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
      const lo =
        ((b[this.pos + 4]! << 24) >>> 0) +
        ((b[this.pos + 5]! << 16) | (b[this.pos + 6]! << 8) | b[this.pos + 7]!);
      this.pos += 8;
      if (hi === 0) fail('CBOR_MALFORMED', 'non-shortest CBOR integer or length', { offset: at });
      // Beyond 2^53 nothing in WebAuthn needs exact values: refuse rather than lose precision.
      if (hi >= 0x200000) fail('CBOR_MALFORMED', 'CBOR integer beyond the safe range', { offset: at });
      return hi * 0x100000000 + lo;
    }
    if (info === 31) return fail('CBOR_MALFORMED', 'indefinite-length CBOR is not allowed', { offset: at });
    return fail('CBOR_MALFORMED', `reserved CBOR additional information ${info}`, { offset: at });
  }

  item(depth: number): CborValue {
    if (++this.items > this.maxItems)
      fail('CBOR_MALFORMED', `more than ${this.maxItems} CBOR items`, { limit: this.maxItems });
    this.need(1);
    const head = this.buf[this.pos++]!;
    const major = head >> 5;
    const info = head & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1:
        return -1 - this.argument(info);
      case 2: {
        const n = this.argument(info);
        this.need(n);
        const v = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case 3: {
        const n = this.argument(info);
        this.need(n);
        const start = this.pos;
        this.pos += n;
        try {
          return utf8.decode(this.buf.subarray(start, start + n));
        } catch {
          return fail('CBOR_MALFORMED', 'CBOR text string is not valid UTF-8', { offset: start });
        }
      }
      case 4: {
        const n = this.argument(info);
        if (depth >= this.maxDepth) fail('CBOR_MALFORMED', `CBOR nesting deeper than ${this.maxDepth}`);
        // Each item takes at least one byte: a count above the remaining bytes is a lie.
        this.need(n);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const n = this.argument(info);
        if (depth >= this.maxDepth) fail('CBOR_MALFORMED', `CBOR nesting deeper than ${this.maxDepth}`);
        this.need(2 * n);
        const out: CborMap = new Map();
        for (let i = 0; i < n; i++) {
          const at = this.pos;
          const key = this.item(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'string')
            fail('CBOR_MALFORMED', 'CBOR map key is neither an integer nor a text string', { offset: at });
          // Duplicate keys make a map ambiguous (RFC 8949 §5.6): refuse, whatever the order.
          if (out.has(key))
            fail('CBOR_MALFORMED', `duplicate CBOR map key ${JSON.stringify(key)}`, { offset: at });
          out.set(key, this.item(depth + 1));
        }
        return out;
      }
      case 6:
        return fail('CBOR_MALFORMED', 'CBOR tags are not allowed in WebAuthn structures', {
          offset: this.pos - 1,
        });
      default:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        return fail('CBOR_MALFORMED', `CBOR simple value or float ${info} is not allowed`, {
          offset: this.pos - 1,
        });
    }
  }
}

/** Decode exactly one CBOR item filling `bytes` (no trailing bytes). Throws CBOR_MALFORMED. */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits = {}): CborValue {
  const { value, end } = decodeCborPrefix(bytes, 0, limits);
  if (end !== bytes.length)
    fail('CBOR_MALFORMED', `${bytes.length - end} bytes follow the CBOR item`, {
      trailing: bytes.length - end,
    });
  return value;
}

/**
 * Decode one CBOR item starting at `offset` and report where it ends: for structures whose
 * length is only known by decoding them (the COSE key in attested credential data).
 */
export function decodeCborPrefix(
  bytes: Uint8Array,
  offset: number,
  limits: CborLimits = {},
): { value: CborValue; end: number } {
  const r = new Reader(
    bytes,
    offset,
    limits.maxDepth ?? CBOR_LIMITS.maxDepth,
    limits.maxItems ?? CBOR_LIMITS.maxItems,
  );
  const value = r.item(0);
  return { value, end: r.pos };
}

/** True for a decoded CBOR map. */
export function isCborMap(v: CborValue | undefined): v is CborMap {
  return v instanceof Map;
}

/** A byte-string member of a map, or a WEBAUTHN_MALFORMED/ATTESTATION_MALFORMED failure naming it. */
export function cborBytes(
  v: CborValue | undefined,
  what: string,
  code: 'ATTESTATION_MALFORMED' | 'WEBAUTHN_MALFORMED' = 'ATTESTATION_MALFORMED',
): Uint8Array {
  if (!(v instanceof Uint8Array)) return fail(code, `${what} must be a byte string`);
  return v;
}

/** An integer member, or a failure naming it. */
export function cborInt(
  v: CborValue | undefined,
  what: string,
  code: 'ATTESTATION_MALFORMED' | 'WEBAUTHN_MALFORMED' = 'ATTESTATION_MALFORMED',
): number {
  if (typeof v !== 'number') return fail(code, `${what} must be an integer`);
  return v;
}

/** A text member, or a failure naming it. */
export function cborText(
  v: CborValue | undefined,
  what: string,
  code: 'ATTESTATION_MALFORMED' | 'WEBAUTHN_MALFORMED' = 'ATTESTATION_MALFORMED',
): string {
  if (typeof v !== 'string') return fail(code, `${what} must be a text string`);
  return v;
}

/** Minimal CBOR encoder for tests and for the JSON "parts" input: canonical, definite lengths. */
export function encodeCbor(v: CborValue): Uint8Array {
  const out: number[] = [];
  const head = (major: number, n: number): void => {
    if (n < 24) out.push((major << 5) | n);
    else if (n < 0x100) out.push((major << 5) | 24, n);
    else if (n < 0x10000) out.push((major << 5) | 25, n >> 8, n & 0xff);
    else if (n < 0x100000000)
      out.push((major << 5) | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
    else {
      const hi = Math.floor(n / 0x100000000);
      const lo = n >>> 0;
      out.push((major << 5) | 27, hi >>> 24, (hi >> 16) & 0xff, (hi >> 8) & 0xff, hi & 0xff);
      out.push(lo >>> 24, (lo >> 16) & 0xff, (lo >> 8) & 0xff, lo & 0xff);
    }
  };
  const walk = (x: CborValue): void => {
    if (typeof x === 'number') {
      if (!Number.isSafeInteger(x)) fail('CBOR_MALFORMED', 'only safe integers encode');
      if (x >= 0) head(0, x);
      else head(1, -1 - x);
    } else if (typeof x === 'string') {
      const b = Buffer.from(x, 'utf8');
      head(3, b.length);
      for (const c of b) out.push(c);
    } else if (typeof x === 'boolean') out.push(x ? 0xf5 : 0xf4);
    else if (x === null) out.push(0xf6);
    else if (x instanceof Uint8Array) {
      head(2, x.length);
      for (const c of x) out.push(c);
    } else if (Array.isArray(x)) {
      head(4, x.length);
      for (const e of x) walk(e);
    } else {
      head(5, x.size);
      for (const [k, e] of x) {
        walk(k);
        walk(e);
      }
    }
  };
  walk(v);
  return Uint8Array.from(out);
}
