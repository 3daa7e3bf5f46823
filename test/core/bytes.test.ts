import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesEqual,
  fromBase64Url,
  fromHex,
  sha256,
  sha256Hex,
  toBase64Url,
  toHex,
} from '../../src/core/bytes.js';
import { fuzzParameters, outcome } from '../helpers/fuzz.js';

describe('hex', () => {
  it('encodes lower-case hex of a view, honouring its offset', () => {
    const whole = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01);
    expect(toHex(whole)).toBe('deadbeef01');
    expect(toHex(whole.subarray(1, 3))).toBe('adbe');
    expect(toHex(new Uint8Array(0))).toBe('');
  });

  it('decodes either case', () => {
    expect([...fromHex('DEadBe')]).toEqual([0xde, 0xad, 0xbe]);
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });

  it.each(['abc', 'zz', '0x01', 'de:ad', 'de ad', '-1'])('rejects "%s" naming the value', (bad) => {
    expect(outcome(() => fromHex(bad, 'serial'))).toBe('USAGE');
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(fromHex(toHex(b))).toEqual(b);
      }),
      fuzzParameters(200),
    );
  });
});

describe('base64url (RFC 4648 §5, no padding)', () => {
  it('encodes without padding using - and _', () => {
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(toBase64Url(Uint8Array.of(1, 2, 3, 4, 5, 6).subarray(2, 4))).toBe('AwQ');
  });

  it.each(['+/8', '-_8=', 'A', 'AAAAA', 'a b', 'é'])('rejects "%s"', (bad) => {
    expect(outcome(() => fromBase64Url(bad))).toBe('USAGE');
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(fromBase64Url(toBase64Url(b))).toEqual(b);
      }),
      fuzzParameters(200),
    );
  });
});

describe('sha256', () => {
  it('matches the FIPS 180-2 "abc" vector', () => {
    const abc = new TextEncoder().encode('abc');
    const expected = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex(abc)).toBe(expected);
    expect(toHex(sha256(abc))).toBe(expected);
  });

  it('hashes only the view it is given', () => {
    const buf = new TextEncoder().encode('xxabcxx');
    expect(sha256Hex(buf.subarray(2, 5))).toBe(sha256Hex(new TextEncoder().encode('abc')));
  });
});

describe('bytesEqual', () => {
  it('compares content, and lengths without throwing', () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it('compares views by their content', () => {
    const a = Uint8Array.of(9, 1, 2, 9);
    expect(bytesEqual(a.subarray(1, 3), Uint8Array.of(1, 2))).toBe(true);
  });
});
