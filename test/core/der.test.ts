import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.js';
import {
  bitIsSet,
  children,
  contentOf,
  contextTag,
  DER_LIMITS,
  decodeOidBytes,
  encodingOf,
  expectTag,
  parseDer,
  readBigInt,
  readBitString,
  readBoolean,
  readNull,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  readTime,
  readTlv,
  readUnsignedBytes,
  TAG,
  type Tlv,
  walkDer,
} from '../../src/core/der.js';
import { der, encodeOid, tlv } from '../../src/core/der-writer.js';
import { ProvenanceError } from '../../src/core/errors.js';
import { outcome } from '../helpers/fuzz.js';

/** Hex with optional spaces, for readable encodings. */
const h = (hex: string): Uint8Array => fromHex(hex.replace(/\s+/g, ''));

/** Parse `hex` as one element and hand both to `read`. */
function withElement<T>(hex: string | Uint8Array, read: (buf: Uint8Array, tlv: Tlv) => T): T {
  const buf = typeof hex === 'string' ? h(hex) : hex;
  return read(buf, parseDer(buf));
}

/** `n` SEQUENCEs nested inside each other, the innermost empty. */
function nestedSequences(n: number): Uint8Array {
  let inner: Uint8Array = der.seq();
  for (let i = 1; i < n; i++) inner = der.seq(inner);
  return inner;
}

describe('readTlv: identifier and length octets (X.690 §8.1)', () => {
  it('reads a universal primitive element and its offsets', () => {
    const t = readTlv(h('02 01 05'), 0);
    expect(t).toEqual({
      tag: 0x02,
      tagClass: 0,
      constructed: false,
      tagNumber: 2,
      start: 0,
      valueStart: 2,
      end: 3,
    });
  });

  it('reads a context-specific constructed element', () => {
    const t = readTlv(h('a3 03 02 01 01'), 0);
    expect([t.tagClass, t.constructed, t.tagNumber, t.end]).toEqual([2, true, 3, 5]);
  });

  it('reads elements at an offset, with absolute positions', () => {
    const buf = h('05 00 04 02 aa bb');
    const t = readTlv(buf, 2);
    expect([t.start, t.valueStart, t.end]).toEqual([2, 4, 6]);
  });

  it('reads a high tag number such as Android [701] (§8.1.2.4)', () => {
    const t = readTlv(h('bf 85 3d 02 05 00'), 0);
    expect([t.tag, t.tagClass, t.constructed, t.tagNumber, t.valueStart]).toEqual([0xbf, 2, true, 701, 4]);
  });

  it('reads the smallest high tag number, 31', () => {
    expect(readTlv(h('9f 1f 00'), 0).tagNumber).toBe(31);
  });

  it('rejects the high-tag form for a number below 31', () => {
    expect(outcome(() => readTlv(h('9f 1e 00'), 0))).toBe('DER_MALFORMED');
  });

  it('rejects a high tag number with a leading 0x80 octet (not minimal)', () => {
    expect(outcome(() => readTlv(h('9f 80 1f 00'), 0))).toBe('DER_MALFORMED');
  });

  it('rejects a tag number beyond 21 bits instead of looping', () => {
    expect(outcome(() => readTlv(h('9f ff ff ff ff ff 7f 00'), 0))).toBe('DER_MALFORMED');
  });

  it('reports a high tag number that runs past the input as truncated', () => {
    expect(outcome(() => readTlv(h('9f 85'), 0))).toBe('DER_TRUNCATED');
  });

  it('reports a missing element and missing length octets as truncated', () => {
    expect(outcome(() => readTlv(new Uint8Array(0), 0))).toBe('DER_TRUNCATED');
    expect(outcome(() => readTlv(h('30'), 0))).toBe('DER_TRUNCATED');
  });

  it('accepts minimal long-form lengths (128 and 256 octets)', () => {
    const a = new Uint8Array(3 + 128);
    a.set([0x04, 0x81, 0x80]);
    expect(readTlv(a, 0).end).toBe(131);
    const b = new Uint8Array(4 + 256);
    b.set([0x04, 0x82, 0x01, 0x00]);
    expect(readTlv(b, 0).end).toBe(260);
  });

  it('rejects the long form for a length below 128 (§10.1)', () => {
    expect(outcome(() => readTlv(h('04 81 01 00'), 0))).toBe('DER_MALFORMED');
  });

  it('rejects length octets with a leading zero (§10.1)', () => {
    const buf = new Uint8Array(4 + 0x90);
    buf.set([0x04, 0x82, 0x00, 0x90]);
    expect(outcome(() => readTlv(buf, 0))).toBe('DER_MALFORMED');
  });

  it('rejects the indefinite length form (§10.1)', () => {
    expect(outcome(() => readTlv(h('30 80 05 00 00 00'), 0))).toBe('DER_MALFORMED');
  });

  it('rejects more than four length octets as a limit, before reading them', () => {
    expect(outcome(() => readTlv(h('04 85 01 00 00 00 00'), 0))).toBe('DER_LIMIT_EXCEEDED');
  });

  it('reports a 2^31-byte length claim as truncated, with the claimed length', () => {
    const err = catchError(() => readTlv(h('30 84 80 00 00 00 05 00'), 0));
    expect(err.code).toBe('DER_TRUNCATED');
    expect(err.details).toMatchObject({ length: 2 ** 31, available: 2 });
  });

  it('reports length octets that run past the input as truncated', () => {
    expect(outcome(() => readTlv(h('04 83 01'), 0))).toBe('DER_TRUNCATED');
  });

  it('stops at `limit` even when the buffer goes on', () => {
    const buf = h('04 03 aa bb cc');
    expect(outcome(() => readTlv(buf, 0, 4))).toBe('DER_TRUNCATED');
    expect(readTlv(buf, 0, 99).end).toBe(5);
  });

  it('rejects universal tag 0, the end-of-contents marker of indefinite lengths (§8.1.5)', () => {
    expect(outcome(() => readTlv(h('00 00'), 0))).toBe('DER_MALFORMED');
    expect(outcome(() => readTlv(h('20 00'), 0))).toBe('DER_MALFORMED');
    expect(outcome(() => walkDer(h('30 04 05 00 00 00')))).toBe('DER_MALFORMED');
    expect(readTlv(h('80 00'), 0).tagClass).toBe(2);
  });

  it('rejects a primitive SEQUENCE or SET', () => {
    expect(outcome(() => readTlv(h('10 00'), 0))).toBe('DER_MALFORMED');
    expect(outcome(() => readTlv(h('11 00'), 0))).toBe('DER_MALFORMED');
  });
});

function catchError(fn: () => unknown): ProvenanceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProvenanceError) return err;
    throw err;
  }
  throw new Error('expected a ProvenanceError');
}

describe('parseDer', () => {
  it('accepts a buffer holding exactly one element', () => {
    expect(parseDer(h('30 03 02 01 01')).end).toBe(5);
  });

  it('rejects bytes after the element with their offset', () => {
    const err = catchError(() => parseDer(h('02 01 01 00')));
    expect(err.code).toBe('DER_TRAILING_DATA');
    expect(err.details).toMatchObject({ offset: 3 });
  });

  it('rejects an empty buffer as truncated', () => {
    expect(outcome(() => parseDer(new Uint8Array(0)))).toBe('DER_TRUNCATED');
  });

  it('refuses input over the default 1 MiB limit before parsing it', () => {
    const big = new Uint8Array(DER_LIMITS.maxBytes + 1);
    expect(outcome(() => parseDer(big))).toBe('INPUT_TOO_LARGE');
  });

  it('applies a caller limit', () => {
    expect(outcome(() => parseDer(h('04 02 aa bb'), { maxBytes: 3 }))).toBe('INPUT_TOO_LARGE');
    expect(parseDer(h('04 02 aa bb'), { maxBytes: 4 }).end).toBe(4);
  });
});

describe('children', () => {
  const buf = h('30 09 02 01 01 05 00 04 02 aa bb');

  it('lists the children of a constructed element', () => {
    const kids = children(buf, parseDer(buf));
    expect(kids.map((k) => k.tag)).toEqual([0x02, 0x05, 0x04]);
  });

  it('checks an exact count and a range', () => {
    expect(children(buf, parseDer(buf), 3)).toHaveLength(3);
    expect(children(buf, parseDer(buf), [2, 4])).toHaveLength(3);
    expect(outcome(() => children(buf, parseDer(buf), 2))).toBe('DER_MALFORMED');
    expect(outcome(() => children(buf, parseDer(buf), [4, 6]))).toBe('DER_MALFORMED');
  });

  it('rejects a primitive parent', () => {
    const p = h('04 02 30 00');
    expect(outcome(() => children(p, parseDer(p)))).toBe('DER_MALFORMED');
  });

  it('rejects a child that runs past its parent although the buffer goes on', () => {
    const p = h('30 03 04 03 aa bb cc');
    const parent = readTlv(p, 0);
    expect(outcome(() => children(p, parent))).toBe('DER_TRUNCATED');
  });

  it(`stops at ${DER_LIMITS.maxChildren} children`, () => {
    const n = DER_LIMITS.maxChildren + 1;
    const nulls = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) nulls[2 * i] = 0x05;
    const seq = der.seq(nulls);
    expect(outcome(() => children(seq, parseDer(seq)))).toBe('DER_LIMIT_EXCEEDED');
    const ok = der.seq(nulls.subarray(2));
    expect(children(ok, parseDer(ok))).toHaveLength(DER_LIMITS.maxChildren);
  });
});

describe('expectTag, contentOf, encodingOf, contextTag', () => {
  it('returns the element when the tag matches and names the field when not', () => {
    const buf = h('02 01 01');
    const t = parseDer(buf);
    expect(expectTag(t, TAG.INTEGER, 'x')).toBe(t);
    const err = catchError(() => expectTag(t, TAG.SEQUENCE, 'serialNumber'));
    expect(err.code).toBe('DER_MALFORMED');
    expect(err.message).toContain('serialNumber');
  });

  it('does not let a high-tag element pass for a low tag with the same first octet', () => {
    const buf = h('9f 1f 00');
    expect(outcome(() => expectTag(parseDer(buf), 0x9f, 'x'))).toBe('DER_MALFORMED');
  });

  it('returns views into the buffer, not copies', () => {
    const buf = h('30 04 04 02 aa bb');
    const inner = children(buf, parseDer(buf))[0]!;
    const content = contentOf(buf, inner);
    const encoding = encodingOf(buf, inner);
    expect([...content]).toEqual([0xaa, 0xbb]);
    expect([...encoding]).toEqual([0x04, 0x02, 0xaa, 0xbb]);
    expect(content.buffer).toBe(buf.buffer);
    expect(encoding.byteOffset).toBe(buf.byteOffset + 2);
  });

  it('builds context tags', () => {
    expect(contextTag(0, true)).toBe(0xa0);
    expect(contextTag(3, true)).toBe(0xa3);
    expect(contextTag(2, false)).toBe(0x82);
  });

  it('names each universal tag with its X.680 number', () => {
    expect(TAG).toMatchObject({ BOOLEAN: 1, INTEGER: 2, OID: 6, UTF8_STRING: 12, SEQUENCE: 0x30, SET: 0x31 });
    expect([TAG.UTC_TIME, TAG.GENERALIZED_TIME, TAG.BMP_STRING]).toEqual([23, 24, 30]);
  });
});

describe('INTEGER (X.690 §8.3, minimal encoding)', () => {
  const cases: [string, bigint][] = [
    ['02 01 00', 0n],
    ['02 01 7f', 127n],
    ['02 02 00 80', 128n],
    ['02 02 00 ff', 255n],
    ['02 02 01 00', 256n],
    ['02 01 ff', -1n],
    ['02 01 80', -128n],
    ['02 02 ff 7f', -129n],
    ['02 09 01 00 00 00 00 00 00 00 00', 1n << 64n],
    ['02 09 ff 00 00 00 00 00 00 00 00', -(1n << 64n)],
  ];
  it.each(cases)('reads %s as %s', (hex, value) => {
    expect(withElement(hex, (b, t) => readBigInt(b, t))).toBe(value);
  });

  it('rejects an empty INTEGER', () => {
    expect(outcome(() => withElement('02 00', (b, t) => readBigInt(b, t)))).toBe('DER_MALFORMED');
  });

  it('rejects redundant leading 0x00 and 0xFF octets', () => {
    expect(outcome(() => withElement('02 02 00 7f', (b, t) => readBigInt(b, t)))).toBe('DER_MALFORMED');
    expect(outcome(() => withElement('02 02 ff 80', (b, t) => readBigInt(b, t)))).toBe('DER_MALFORMED');
    expect(outcome(() => withElement('02 02 00 7f', (b, t) => readSmallInt(b, t)))).toBe('DER_MALFORMED');
  });

  it('rejects a non-INTEGER tag', () => {
    expect(outcome(() => withElement('0a 01 01', (b, t) => readBigInt(b, t)))).toBe('DER_MALFORMED');
  });

  it('reads small integers up to six octets and refuses seven', () => {
    expect(withElement('02 01 80', (b, t) => readSmallInt(b, t))).toBe(-128);
    expect(withElement('02 02 01 00', (b, t) => readSmallInt(b, t))).toBe(256);
    expect(withElement('02 06 7f ff ff ff ff ff', (b, t) => readSmallInt(b, t))).toBe(2 ** 47 - 1);
    expect(withElement('02 06 80 00 00 00 00 00', (b, t) => readSmallInt(b, t))).toBe(-(2 ** 47));
    expect(outcome(() => withElement('02 07 01 00 00 00 00 00 00', (b, t) => readSmallInt(b, t)))).toBe(
      'DER_LIMIT_EXCEEDED',
    );
  });

  it('reads an ENUMERATED when given its tag', () => {
    expect(withElement('0a 01 02', (b, t) => readSmallInt(b, t, 'keyOrigin', TAG.ENUMERATED))).toBe(2);
    expect(outcome(() => withElement('0a 01 02', (b, t) => readSmallInt(b, t)))).toBe('DER_MALFORMED');
  });

  it('returns the magnitude without the sign pad', () => {
    expect([...withElement('02 02 00 80', (b, t) => readUnsignedBytes(b, t))]).toEqual([0x80]);
    expect([...withElement('02 01 00', (b, t) => readUnsignedBytes(b, t))]).toEqual([0]);
    expect([...withElement('02 02 01 00', (b, t) => readUnsignedBytes(b, t))]).toEqual([1, 0]);
  });

  it('refuses a negative value unless allowed, then returns the raw octets', () => {
    expect(outcome(() => withElement('02 01 80', (b, t) => readUnsignedBytes(b, t)))).toBe('DER_MALFORMED');
    expect([...withElement('02 01 80', (b, t) => readUnsignedBytes(b, t, 'serial', true))]).toEqual([0x80]);
  });
});

describe('BOOLEAN and NULL (X.690 §11.1, §8.8)', () => {
  it('reads 0xFF as true and 0x00 as false', () => {
    expect(withElement('01 01 ff', (b, t) => readBoolean(b, t))).toBe(true);
    expect(withElement('01 01 00', (b, t) => readBoolean(b, t))).toBe(false);
  });

  it.each(['01 01 01', '01 01 7f', '01 01 fe'])('rejects the BER-only true value %s', (hex) => {
    expect(outcome(() => withElement(hex, (b, t) => readBoolean(b, t)))).toBe('DER_MALFORMED');
  });

  it('rejects a BOOLEAN that is not exactly one octet', () => {
    expect(outcome(() => withElement('01 00', (b, t) => readBoolean(b, t)))).toBe('DER_MALFORMED');
    expect(outcome(() => withElement('01 02 ff ff', (b, t) => readBoolean(b, t)))).toBe('DER_MALFORMED');
  });

  it('reads an IMPLICIT BOOLEAN under its context tag only', () => {
    expect(withElement('82 01 ff', (b, t) => readBoolean(b, t, 'exportable', 0x82))).toBe(true);
    expect(outcome(() => withElement('82 01 ff', (b, t) => readBoolean(b, t)))).toBe('DER_MALFORMED');
  });

  it('reads NULL and rejects NULL with content', () => {
    expect(withElement('05 00', (_b, t) => readNull(t))).toBeUndefined();
    expect(outcome(() => withElement('05 01 00', (_b, t) => readNull(t)))).toBe('DER_MALFORMED');
    expect(outcome(() => withElement('04 00', (_b, t) => readNull(t)))).toBe('DER_MALFORMED');
  });
});

describe('BIT STRING (X.690 §8.6, §11.2)', () => {
  it('reads the unused-bit count and the bit octets', () => {
    const bits = withElement('03 03 03 ab c8', (b, t) => readBitString(b, t));
    expect(bits.unusedBits).toBe(3);
    expect([...bits.bytes]).toEqual([0xab, 0xc8]);
  });

  it('reads an empty BIT STRING', () => {
    expect(withElement('03 01 00', (b, t) => readBitString(b, t)).bytes).toHaveLength(0);
  });

  it('rejects a missing unused-bits octet', () => {
    expect(outcome(() => withElement('03 00', (b, t) => readBitString(b, t)))).toBe('DER_MALFORMED');
  });

  it('rejects more than 7 unused bits', () => {
    expect(outcome(() => withElement('03 02 08 00', (b, t) => readBitString(b, t)))).toBe('DER_MALFORMED');
  });

  it('rejects unused bits in an empty BIT STRING', () => {
    expect(outcome(() => withElement('03 01 01', (b, t) => readBitString(b, t)))).toBe('DER_MALFORMED');
  });

  it('rejects non-zero padding bits (§11.2.1)', () => {
    expect(outcome(() => withElement('03 02 01 81', (b, t) => readBitString(b, t)))).toBe('DER_MALFORMED');
    expect(outcome(() => withElement('03 02 07 c0', (b, t) => readBitString(b, t)))).toBe('DER_MALFORMED');
    expect(withElement('03 02 07 80', (b, t) => readBitString(b, t)).unusedBits).toBe(7);
  });

  it('reads an IMPLICIT BIT STRING under its context tag', () => {
    expect(
      withElement('81 02 00 ff', (b, t) => readBitString(b, t, 'issuerUniqueID', 0x81)).bytes,
    ).toHaveLength(1);
  });

  it('numbers named bits from the most significant bit of the first octet', () => {
    const bits = withElement('03 03 07 86 80', (b, t) => readBitString(b, t));
    const set = Array.from({ length: 16 }, (_, n) => n).filter((n) => bitIsSet(bits, n));
    expect(set).toEqual([0, 5, 6, 8]);
    expect(bitIsSet(bits, 100)).toBe(false);
  });
});

describe('OCTET STRING', () => {
  it('returns the content as a view and checks the tag', () => {
    expect([...withElement('04 02 01 02', (b, t) => readOctetString(b, t))]).toEqual([1, 2]);
    expect([...withElement('80 01 09', (b, t) => readOctetString(b, t, 'nonce', 0x80))]).toEqual([9]);
    expect(outcome(() => withElement('80 01 09', (b, t) => readOctetString(b, t)))).toBe('DER_MALFORMED');
  });
});

describe('OBJECT IDENTIFIER (X.690 §8.19)', () => {
  const oids = [
    '1.2.840.113549.1.1.11',
    '2.5.29.19',
    '0.9.2342.19200300.100.1.25',
    '1.3.6.1.4.1.11129.2.1.17',
    '2.999.1',
    '1.39',
    '2.25.156565264789172030773416815740666489065.1.1',
  ];
  it.each(oids)('reads %s as the writer encodes it', (oid) => {
    expect(withElement(der.oid(oid), (b, t) => readOid(b, t))).toBe(oid);
  });

  it('splits the first sub-identifier into two arcs', () => {
    expect(decodeOidBytes(h('27'))).toBe('0.39');
    expect(decodeOidBytes(h('28'))).toBe('1.0');
    expect(decodeOidBytes(h('50'))).toBe('2.0');
    expect(decodeOidBytes(h('88 37'))).toBe('2.999');
  });

  it('rejects a sub-identifier with a leading 0x80 octet', () => {
    expect(outcome(() => decodeOidBytes(h('80 01')))).toBe('DER_MALFORMED');
    expect(outcome(() => decodeOidBytes(h('2a 80 01')))).toBe('DER_MALFORMED');
  });

  it('rejects a last sub-identifier that never ends', () => {
    expect(outcome(() => decodeOidBytes(h('2a 86')))).toBe('DER_TRUNCATED');
  });

  it('rejects an empty and an over-long OID', () => {
    expect(outcome(() => decodeOidBytes(new Uint8Array(0)))).toBe('DER_MALFORMED');
    const long = new Uint8Array(129).fill(0x01);
    expect(outcome(() => decodeOidBytes(long))).toBe('DER_LIMIT_EXCEEDED');
    expect(decodeOidBytes(long.subarray(1)).split('.')).toHaveLength(129);
  });

  it('rejects a non-OID tag', () => {
    expect(outcome(() => withElement('04 01 2a', (b, t) => readOid(b, t)))).toBe('DER_MALFORMED');
  });

  it('answers from its memo for repeated content in different buffers', () => {
    const a = h('06 03 55 1d 13');
    const b = h('ff ff 06 03 55 1d 13').subarray(2);
    expect(withElement(a, (buf, t) => readOid(buf, t))).toBe('2.5.29.19');
    expect(withElement(b, (buf, t) => readOid(buf, t))).toBe('2.5.29.19');
  });

  it('never memoises a rejected encoding', () => {
    for (let i = 0; i < 2; i++) expect(outcome(() => decodeOidBytes(h('2a 80 01')))).toBe('DER_MALFORMED');
  });

  it('stays correct once the memo is full', () => {
    for (let i = 0; i < 5000; i++) {
      const oid = `1.3.6.1.4.1.99999.${i}`;
      expect(decodeOidBytes(encodeOid(oid))).toBe(oid);
    }
    expect(decodeOidBytes(encodeOid('1.3.6.1.4.1.99999.4999'))).toBe('1.3.6.1.4.1.99999.4999');
  });
});

describe('string types and their repertoires (X.680 §41)', () => {
  const str = (tag: number, content: Uint8Array) =>
    withElement(tlv(tag, content), (b, t) => readString(b, t));
  const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

  it('decodes UTF8String and rejects invalid or overlong UTF-8', () => {
    expect(str(0x0c, new TextEncoder().encode('Zürich ✓ 🔑'))).toBe('Zürich ✓ 🔑');
    expect(outcome(() => str(0x0c, h('c3 28')))).toBe('DER_MALFORMED');
    expect(outcome(() => str(0x0c, h('c0 80')))).toBe('DER_MALFORMED');
    expect(outcome(() => str(0x0c, h('ed a0 80')))).toBe('DER_MALFORMED');
  });

  it('keeps a leading U+FEFF in UTF8String instead of dropping it as a byte-order mark', () => {
    expect(str(0x0c, h('ef bb bf 41'))).toBe('\ufeffA');
    expect(str(0x0c, h('41 ef bb bf'))).toBe('A\ufeff');
  });

  it("accepts PrintableString's repertoire only", () => {
    const all = "ABCXYZabcxyz0189 '()+,-./:=?";
    expect(str(0x13, ascii(all))).toBe(all);
    for (const bad of ['*', '@', '&', '_', '!', '"', ';', '<', '\n', '\u00e9']) {
      expect(outcome(() => str(0x13, ascii(bad)))).toBe('DER_MALFORMED');
    }
  });

  it('accepts digits and space in NumericString only', () => {
    expect(str(0x12, ascii('0123 456'))).toBe('0123 456');
    expect(outcome(() => str(0x12, ascii('12a')))).toBe('DER_MALFORMED');
  });

  it('accepts 7-bit text in IA5String and rejects 8-bit octets', () => {
    expect(str(0x16, ascii('user@example.com'))).toBe('user@example.com');
    expect(outcome(() => str(0x16, h('41 80')))).toBe('DER_MALFORMED');
  });

  it('accepts only printing characters and space in VisibleString', () => {
    expect(str(0x1a, ascii(' Policy ~text!'))).toBe(' Policy ~text!');
    for (const bad of [h('0a'), h('00'), h('1f'), h('7f'), h('80')]) {
      expect(outcome(() => str(0x1a, bad))).toBe('DER_MALFORMED');
    }
    expect(str(0x16, h('0a 00 7f'))).toBe('\n\u0000\u007f');
  });

  it('reads TeletexString as Latin-1', () => {
    expect(str(0x14, h('5a fc 72 69 63 68'))).toBe('Zürich');
  });

  it('reads BMPString as UCS-2 and rejects an odd length', () => {
    expect(str(0x1e, h('00 5a 00 fc 22 13'))).toBe('Zü∓');
    expect(outcome(() => str(0x1e, h('00 5a 00')))).toBe('DER_MALFORMED');
  });

  it('reads UniversalString as UCS-4 and rejects bad lengths and code points', () => {
    expect(str(0x1c, h('00 00 00 41 00 01 f5 1d'))).toBe('A🔝');
    expect(outcome(() => str(0x1c, h('00 00 41')))).toBe('DER_MALFORMED');
    expect(outcome(() => str(0x1c, h('00 11 00 00')))).toBe('DER_MALFORMED');
    expect(outcome(() => str(0x1c, h('ff ff ff ff')))).toBe('DER_MALFORMED');
  });

  it('rejects non-string tags, constructed strings and context tags', () => {
    expect(outcome(() => str(0x02, h('01')))).toBe('DER_MALFORMED');
    expect(outcome(() => str(0x2c, der.utf8('a')))).toBe('DER_MALFORMED');
    expect(outcome(() => str(0x8c, ascii('a')))).toBe('DER_MALFORMED');
  });
});

describe('UTCTime and GeneralizedTime (X.690 §11.7-11.8, RFC 5280 §4.1.2.5)', () => {
  const time = (tag: number, s: string) =>
    withElement(tlv(tag, new Uint8Array(Buffer.from(s, 'latin1'))), (b, t) => readTime(b, t));
  const utc = (s: string) => time(TAG.UTC_TIME, s);
  const gen = (s: string) => time(TAG.GENERALIZED_TIME, s);

  it('pivots two-digit years at 50: 50..99 are 19xx, 00..49 are 20xx', () => {
    expect(utc('500101000000Z')).toBe(Date.UTC(1950, 0, 1));
    expect(utc('991231235959Z')).toBe(Date.UTC(1999, 11, 31, 23, 59, 59));
    expect(utc('000101000000Z')).toBe(Date.UTC(2000, 0, 1));
    expect(utc('491231235959Z')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
  });

  it('reads four-digit years, including the 9999-12-31 "no expiry" date', () => {
    expect(gen('20500101000000Z')).toBe(Date.UTC(2050, 0, 1));
    expect(gen('99991231235959Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
    expect(gen('19491231235959Z')).toBe(Date.UTC(1949, 11, 31, 23, 59, 59));
  });

  it('reads GeneralizedTime years 0000..0099 as written, not as 1900..1999', () => {
    const year = (y: number, month = 0, day = 1) => {
      const d = new Date(0);
      d.setUTCFullYear(y, month, day);
      return d.getTime();
    };
    expect(gen('00500101000000Z')).toBe(year(50));
    expect(gen('00011231000000Z')).toBe(year(1, 11, 31));
    expect(new Date(gen('00990101000000Z')).getUTCFullYear()).toBe(99);
    // Year 0 is a leap year in the proleptic Gregorian calendar; 1900 is not.
    expect(gen('00000229000000Z')).toBe(year(0, 1, 29));
    expect(outcome(() => gen('00010229000000Z'))).toBe('DER_MALFORMED');
  });

  it('accepts Feb 29 in leap years only (2000 and 2024 yes; 2023 and 2100 no)', () => {
    expect(utc('000229120000Z')).toBe(Date.UTC(2000, 1, 29, 12));
    expect(utc('240229000000Z')).toBe(Date.UTC(2024, 1, 29));
    expect(gen('20240229000000Z')).toBe(Date.UTC(2024, 1, 29));
    expect(outcome(() => utc('230229000000Z'))).toBe('DER_MALFORMED');
    expect(outcome(() => gen('21000229000000Z'))).toBe('DER_MALFORMED');
  });

  it.each([
    ['month 00', '240001000000Z'],
    ['month 13', '241301000000Z'],
    ['day 00', '240100000000Z'],
    ['day 32', '240132000000Z'],
    ['April 31', '240431000000Z'],
    ['hour 24', '240101240000Z'],
    ['minute 60', '240101006000Z'],
    ['second 60', '240101000060Z'],
  ])('rejects %s', (_what, s) => {
    expect(outcome(() => utc(s))).toBe('DER_MALFORMED');
  });

  it.each([
    ['no seconds', TAG.UTC_TIME, '2401010000Z'],
    ['a local offset', TAG.UTC_TIME, '240101000000+0100'],
    ['no Z', TAG.UTC_TIME, '2401010000000'],
    ['a lower-case z', TAG.UTC_TIME, '240101000000z'],
    ['fractional seconds', TAG.GENERALIZED_TIME, '20240101000000.5Z'],
    ['a two-digit year in GeneralizedTime', TAG.GENERALIZED_TIME, '240101000000Z'],
    ['a four-digit year in UTCTime', TAG.UTC_TIME, '20240101000000Z'],
    ['a non-digit', TAG.UTC_TIME, '24010100000AZ'],
    ['a space', TAG.UTC_TIME, '2401010 0000Z'],
    ['a sign', TAG.GENERALIZED_TIME, '-0240101000000Z'],
  ])('rejects %s', (_what, tag, s) => {
    expect(outcome(() => time(tag, s))).toBe('DER_MALFORMED');
  });

  it('rejects a non-time tag', () => {
    expect(outcome(() => time(TAG.PRINTABLE_STRING, '240101000000Z'))).toBe('DER_MALFORMED');
  });
});

describe('walkDer', () => {
  it('visits every element of a tree and counts them', () => {
    const tree = der.seq(der.int(1), der.seq(der.oid('2.5.29.19'), der.bool(true)), der.octets(h('00')));
    expect(walkDer(tree).nodes).toBe(6);
  });

  it('does not descend into OCTET STRING content', () => {
    expect(walkDer(der.seq(der.octets(h('30 80 ff ff')))).nodes).toBe(2);
  });

  it('reports the depth of the deepest element, counting the root as 1', () => {
    expect(walkDer(der.int(1)).depth).toBe(1);
    expect(walkDer(der.seq()).depth).toBe(1);
    expect(walkDer(der.seq(der.int(1))).depth).toBe(2);
    expect(walkDer(der.seq(der.seq())).depth).toBe(2);
    expect(walkDer(der.seq(der.seq(der.int(1)), der.int(2))).depth).toBe(3);
  });

  it('accepts nesting of exactly maxDepth and rejects one level more', () => {
    expect(walkDer(nestedSequences(4), { maxDepth: 4 }).depth).toBe(4);
    expect(outcome(() => walkDer(nestedSequences(5), { maxDepth: 4 }))).toBe('DER_LIMIT_EXCEEDED');
    const leafAt4 = der.seq(der.seq(der.seq(der.int(1))));
    expect(walkDer(leafAt4, { maxDepth: 4 }).depth).toBe(4);
    expect(outcome(() => walkDer(leafAt4, { maxDepth: 3 }))).toBe('DER_LIMIT_EXCEEDED');
    expect(walkDer(nestedSequences(DER_LIMITS.maxDepth)).depth).toBe(DER_LIMITS.maxDepth);
    expect(outcome(() => walkDer(nestedSequences(DER_LIMITS.maxDepth + 1)))).toBe('DER_LIMIT_EXCEEDED');
  });

  it('rejects 10 000 nested SEQUENCEs with a limit error, not a stack overflow', () => {
    const deep = nestedSequences(10_000);
    expect(outcome(() => walkDer(deep))).toBe('DER_LIMIT_EXCEEDED');
  });

  it('applies a caller depth limit', () => {
    expect(outcome(() => walkDer(nestedSequences(8), { maxDepth: 4 }))).toBe('DER_LIMIT_EXCEEDED');
  });

  it('applies the node limit', () => {
    const wide = der.seq(...Array.from({ length: 50 }, () => der.null()));
    expect(outcome(() => walkDer(wide, { maxNodes: 50 }))).toBe('DER_LIMIT_EXCEEDED');
    expect(walkDer(wide, { maxNodes: 51 }).nodes).toBe(51);
  });

  it('applies the size limit', () => {
    expect(outcome(() => walkDer(der.octets(new Uint8Array(100)), { maxBytes: 50 }))).toBe('INPUT_TOO_LARGE');
  });

  it('rejects constructed encodings of primitive universal types (§10.2)', () => {
    expect(outcome(() => walkDer(der.seq(tlv(0x24, der.octets(h('00'))))))).toBe('DER_MALFORMED');
    expect(outcome(() => walkDer(tlv(0x23, der.bitString(h('00')))))).toBe('DER_MALFORMED');
    expect(outcome(() => walkDer(der.seq(tlv(0x2c, der.utf8('a')))))).toBe('DER_MALFORMED');
  });

  it('accepts constructed application, context and private tags', () => {
    expect(walkDer(der.seq(tlv(0x61, der.null()), tlv(0xa5, der.null()), tlv(0xe1))).nodes).toBe(6);
  });

  it('rejects a child that crosses its parent and trailing bytes', () => {
    expect(outcome(() => walkDer(h('30 04 30 03 05 00')))).toBe('DER_TRUNCATED');
    expect(outcome(() => walkDer(h('30 02 05 00 00')))).toBe('DER_TRAILING_DATA');
  });
});
