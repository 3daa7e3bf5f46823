import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.js';
import {
  bitIsSet,
  children,
  parseDer,
  readBigInt,
  readBitString,
  readBoolean,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  readTime,
  readTlv,
  TAG,
  walkDer,
} from '../../src/core/der.js';
import { compareBytes, concat, der, encodeOid, tlv, tlvHighTag } from '../../src/core/der-writer.js';
import { outcome } from '../helpers/fuzz.js';

const h = (hex: string): Uint8Array => fromHex(hex.replace(/\s+/g, ''));
const hex = (bytes: Uint8Array): string => toHex(bytes);

describe('der.int: minimal two’s complement (X.690 §8.3.2)', () => {
  const cases: [bigint | number, string][] = [
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [255, '020200ff'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [32767, '02027fff'],
    [32768, '0203008000'],
    [-32768, '02028000'],
    [-32769, '0203ff7fff'],
    [1n << 64n, '0209010000000000000000'],
    [-(1n << 64n), '0209ff0000000000000000'],
    [(1n << 64n) - 1n, '020900ffffffffffffffff'],
  ];
  it.each(cases)('encodes %s as %s', (value, expected) => {
    expect(hex(der.int(value))).toBe(expected);
  });

  it.each(cases)('reads %s back from its encoding', (value) => {
    const enc = der.int(value);
    expect(readBigInt(enc, parseDer(enc))).toBe(BigInt(value));
  });

  it('round-trips a 4096-bit integer and its negation', () => {
    const big = (1n << 4095n) + 12345n;
    for (const v of [big, -big]) {
      const enc = der.int(v);
      expect(readBigInt(enc, parseDer(enc))).toBe(v);
    }
  });

  it('encodes numbers and bigints alike', () => {
    expect(der.int(1000)).toEqual(der.int(1000n));
  });
});

describe('der.uintBytes: INTEGER from an unsigned magnitude', () => {
  it('adds a sign pad when the top bit is set', () => {
    expect(hex(der.uintBytes(h('80')))).toBe('02020080');
    expect(hex(der.uintBytes(h('7f')))).toBe('02017f');
  });

  it('drops redundant leading zeros and encodes zero as one octet', () => {
    expect(hex(der.uintBytes(h('00 00 01')))).toBe('020101');
    expect(hex(der.uintBytes(h('00 00 ff')))).toBe('020200ff');
    expect(hex(der.uintBytes(h('00 00')))).toBe('020100');
    expect(hex(der.uintBytes(new Uint8Array(0)))).toBe('020100');
  });
});

describe('der: simple types', () => {
  it('encodes ENUMERATED with its own tag', () => {
    const e = der.enumerated(2);
    expect(hex(e)).toBe('0a0102');
    expect(readSmallInt(e, parseDer(e), 'e', TAG.ENUMERATED)).toBe(2);
  });

  it('encodes BOOLEAN as 0xFF / 0x00 (§11.1) and NULL as empty', () => {
    expect(hex(der.bool(true))).toBe('0101ff');
    expect(hex(der.bool(false))).toBe('010100');
    expect(readBoolean(der.bool(true), parseDer(der.bool(true)))).toBe(true);
    expect(hex(der.null())).toBe('0500');
  });

  it('encodes OCTET STRING and BIT STRING', () => {
    expect(hex(der.octets(h('01 02')))).toBe('04020102');
    const bits = der.bitString(h('ab cd'));
    expect(hex(bits)).toBe('030300abcd');
    expect(hex(readBitString(bits, parseDer(bits)).bytes)).toBe('abcd');
    expect(hex(der.bitString(h('a0'), 5))).toBe('030205a0');
  });

  it('encodes the string types the reader accepts', () => {
    for (const [enc, text] of [
      [der.utf8('Zürich 🔑'), 'Zürich 🔑'],
      [der.printable("Gemalto NV (A-1) '+,./:=?"), "Gemalto NV (A-1) '+,./:=?"],
      [der.ia5('ca@example.com'), 'ca@example.com'],
    ] as const) {
      expect(readString(enc, parseDer(enc))).toBe(text);
    }
    expect(der.utf8('a')[0]).toBe(0x0c);
    expect(der.printable('a')[0]).toBe(0x13);
    expect(der.ia5('a')[0]).toBe(0x16);
  });

  it('refuses text outside PrintableString and IA5String', () => {
    expect(outcome(() => der.printable('a@b'))).toBe('USAGE');
    expect(outcome(() => der.printable('_'))).toBe('USAGE');
    expect(outcome(() => der.ia5('é'))).toBe('USAGE');
  });
});

describe('der.oid and encodeOid (X.690 §8.19)', () => {
  it('encodes the first two arcs together and big arcs in base 128', () => {
    expect(hex(der.oid('1.2.840.113549.1.1.11'))).toBe('06092a864886f70d01010b');
    expect(hex(der.oid('2.5.29.19'))).toBe('0603551d13');
    expect(hex(encodeOid('2.999'))).toBe('8837');
    expect(hex(encodeOid('0.0'))).toBe('00');
  });

  it('round-trips a UUID OID with a 128-bit arc', () => {
    const oid = '2.25.156565264789172030773416815740666489065.4.1';
    const enc = der.oid(oid);
    expect(readOid(enc, parseDer(enc))).toBe(oid);
  });

  it.each(['', '1', '3.1', '1.40', '0.40', 'a.b', '1..2', '1.2.', '-1.2', '1.2.3x'])(
    'refuses "%s"',
    (bad) => {
      expect(outcome(() => encodeOid(bad))).toBe('USAGE');
    },
  );

  it('accepts any second arc under 2', () => {
    expect(hex(encodeOid('2.40'))).toBe('78');
    expect(hex(encodeOid('1.39'))).toBe('4f');
  });
});

describe('der.namedBits: KeyUsage-style BIT STRING (X.690 §11.2.2)', () => {
  const cases: [number[], string][] = [
    [[], '030100'],
    [[0], '03020780'],
    [[5], '03020204'],
    [[5, 6], '03020106'],
    [[0, 5, 6], '03020186'],
    [[7], '03020001'],
    [[8], '0303070080'],
    [[0, 8], '0303078080'],
  ];
  it.each(cases)('encodes bits %j as %s', (bits, expected) => {
    expect(hex(der.namedBits(bits))).toBe(expected);
  });

  it.each(cases)('drops trailing zero bits so the last set bit ends the string (%j)', (bits) => {
    const enc = der.namedBits(bits);
    const parsed = readBitString(enc, parseDer(enc));
    const set = Array.from({ length: 16 }, (_, n) => n).filter((n) => bitIsSet(parsed, n));
    expect(set).toEqual([...bits].sort((a, b) => a - b));
    if (bits.length > 0) expect(parsed.bytes.length * 8 - parsed.unusedBits).toBe(Math.max(...bits) + 1);
  });

  it('ignores duplicates and order', () => {
    expect(der.namedBits([6, 5, 5])).toEqual(der.namedBits([5, 6]));
  });
});

describe('der.time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
  const text = (enc: Uint8Array) => Buffer.from(enc.subarray(2)).toString('latin1');

  it('uses UTCTime for 1950..2049', () => {
    expect(der.time(Date.UTC(1950, 0, 1))[0]).toBe(TAG.UTC_TIME);
    expect(text(der.time(Date.UTC(1950, 0, 1)))).toBe('500101000000Z');
    expect(text(der.time(Date.UTC(2049, 11, 31, 23, 59, 59)))).toBe('491231235959Z');
    expect(text(der.time(Date.UTC(2000, 1, 29, 8, 5, 3)))).toBe('000229080503Z');
  });

  it('uses GeneralizedTime from 2050 and before 1950', () => {
    const y2050 = der.time(Date.UTC(2050, 0, 1));
    expect(y2050[0]).toBe(TAG.GENERALIZED_TIME);
    expect(text(y2050)).toBe('20500101000000Z');
    expect(text(der.time(Date.UTC(9999, 11, 31, 23, 59, 59)))).toBe('99991231235959Z');
    const y1949 = der.time(Date.UTC(1949, 11, 31, 23, 59, 59));
    expect(y1949[0]).toBe(TAG.GENERALIZED_TIME);
    expect(text(y1949)).toBe('19491231235959Z');
  });

  it.each([
    Date.UTC(1950, 0, 1),
    Date.UTC(2024, 1, 29, 12, 30, 45),
    Date.UTC(2049, 11, 31, 23, 59, 59),
    Date.UTC(2050, 0, 1),
    Date.UTC(2100, 2, 1),
    Date.UTC(1949, 11, 31, 23, 59, 59),
  ])('round-trips %i through readTime', (ms) => {
    const enc = der.time(ms);
    expect(readTime(enc, parseDer(enc))).toBe(ms);
  });

  it('refuses times GeneralizedTime cannot hold instead of writing garbage', () => {
    const yearMinus1 = new Date(0);
    yearMinus1.setUTCFullYear(-1);
    expect(outcome(() => der.time(new Date('not a date')))).toBe('USAGE');
    expect(outcome(() => der.time(Number.NaN))).toBe('USAGE');
    expect(outcome(() => der.time(Date.UTC(10000, 0, 1)))).toBe('USAGE');
    expect(outcome(() => der.time(yearMinus1))).toBe('USAGE');
  });

  it('writes years before 1000 with four digits', () => {
    const year50 = new Date(0);
    year50.setUTCFullYear(50, 0, 1);
    expect(text(der.time(year50))).toBe('00500101000000Z');
  });

  it('takes a Date as well as milliseconds and drops sub-second precision', () => {
    const ms = Date.UTC(2030, 5, 15, 1, 2, 3);
    expect(der.time(new Date(ms + 999))).toEqual(der.time(ms));
  });
});

describe('tags, lengths and wrappers', () => {
  it('chooses the shortest length form (X.690 §10.1)', () => {
    expect(hex(tlv(0x04, new Uint8Array(127)).subarray(0, 2))).toBe('047f');
    expect(hex(tlv(0x04, new Uint8Array(128)).subarray(0, 3))).toBe('048180');
    expect(hex(tlv(0x04, new Uint8Array(255)).subarray(0, 3))).toBe('0481ff');
    expect(hex(tlv(0x04, new Uint8Array(256)).subarray(0, 4))).toBe('04820100');
    expect(hex(tlv(0x04, new Uint8Array(65536)).subarray(0, 5))).toBe('0483010000');
    for (const n of [0, 127, 128, 255, 256, 65535, 65536]) {
      const enc = tlv(0x04, new Uint8Array(n));
      expect(parseDer(enc).end - parseDer(enc).valueStart).toBe(n);
    }
  });

  it('concatenates several content parts', () => {
    expect(hex(tlv(0x30, der.null(), der.bool(true)))).toBe('30050500 0101ff'.replace(' ', ''));
    expect(hex(concat([h('01'), new Uint8Array(0), h('02 03')]))).toBe('010203');
  });

  it('wraps EXPLICIT and IMPLICIT context tags', () => {
    expect(hex(der.explicit(0, der.int(2)))).toBe('a003020102');
    expect(hex(der.implicitPrimitive(0, h('aa bb')))).toBe('8002aabb');
    const seq = der.seq(der.null());
    const tagged = der.implicitConstructed(5, seq);
    expect(hex(tagged)).toBe('a5020500');
    expect(seq[0]).toBe(0x30);
    expect(der.raw(seq)).toBe(seq);
  });

  it('encodes high tag numbers minimally and the reader agrees (§8.1.2.4)', () => {
    expect(hex(tlvHighTag(2, true, 701, der.null()))).toBe('bf853d020500');
    expect(hex(tlvHighTag(2, false, 31, h('01')))).toBe('9f1f0101');
    expect(hex(tlvHighTag(2, false, 128, h('01')))).toBe('9f81000101');
    expect(hex(tlvHighTag(2, true, 5, der.null()))).toBe('a5020500');
    for (const n of [31, 127, 128, 701, 16383, 16384, 0x1fffff]) {
      const enc = tlvHighTag(3, false, n, new Uint8Array(200));
      const t = readTlv(enc, 0);
      expect([t.tagClass, t.tagNumber, t.end - t.valueStart, t.end]).toEqual([3, n, 200, enc.length]);
    }
  });
});

describe('der.setOf: DER ordering of SET OF (X.690 §11.6)', () => {
  it('sorts the encodings as octet strings', () => {
    const a = der.int(1);
    const b = der.int(256);
    const c = der.utf8('a');
    const set = der.setOf(c, b, a);
    const kids = children(set, parseDer(set)).map((t) => hex(set.subarray(t.start, t.end)));
    expect(kids).toEqual([hex(a), hex(b), hex(c)]);
  });

  it('puts a prefix before its extensions', () => {
    expect(compareBytes(h('01'), h('01 00'))).toBeLessThan(0);
    expect(compareBytes(h('02'), h('01 ff'))).toBeGreaterThan(0);
    expect(compareBytes(h('01 02'), h('01 02'))).toBe(0);
  });

  it('does not reorder the caller’s array', () => {
    const items = [der.int(2), der.int(1)];
    der.setOf(...items);
    expect(hex(items[0]!)).toBe('020102');
  });
});

describe('writer output is DER the reader accepts', () => {
  it('walks a certificate-shaped structure', () => {
    const name = der.seq(der.setOf(der.seq(der.oid('2.5.4.3'), der.utf8('Test'))));
    const tbs = der.seq(
      der.explicit(0, der.int(2)),
      der.int(1),
      der.seq(der.oid('1.2.840.10045.4.3.2')),
      name,
      der.seq(der.time(Date.UTC(2024, 0, 1)), der.time(Date.UTC(2050, 0, 1))),
      name,
      der.seq(der.seq(der.oid('1.3.101.112')), der.bitString(new Uint8Array(32))),
      der.explicit(3, der.seq(der.seq(der.oid('2.5.29.15'), der.bool(true), der.octets(der.namedBits([0]))))),
    );
    expect(walkDer(tbs)).toMatchObject({ nodes: 29 });
    expect(readOctetString(der.octets(h('00')), parseDer(der.octets(h('00'))))).toHaveLength(1);
  });
});
