import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CANONICAL_JSON_MAX_DEPTH, canonicalJson } from '../../src/store/index.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('orders keys by UTF-16 code units, as RFC 8785 §3.2.3 requires', () => {
    // RFC 8785's own example of property sorting (code units, not code points or locale).
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew',
      '1': 'One',
      '\ud83d\ude00': 'Emoji',
      '\u0080': 'Control',
      '\u00f6': 'Latin',
    };
    // The order RFC 8785 §3.2.3 gives for exactly these properties.
    const order = ['Carriage Return', 'One', 'Control', 'Latin', 'Euro Sign', 'Emoji', 'Hebrew'];
    const text = canonicalJson(input);
    const positions = order.map((value) => text.indexOf(`"${value}"`));
    expect(positions.every((p, i) => p > 0 && (i === 0 || p > (positions[i - 1] as number)))).toBe(true);
  });

  it('writes numbers and strings as JSON.stringify does (RFC 8785 §3.2.2)', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1, 2 ** 53, 'é\u2028\u0000"\\'])).toBe(
      JSON.stringify([1e21, 1e-7, 0, 0.1, 2 ** 53, 'é\u2028\u0000"\\']),
    );
  });

  it('drops undefined members, writes null for undefined array items and non-finite numbers', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, Number.NaN, Infinity], c: null })).toBe(
      '{"b":[null,null,null],"c":null}',
    );
  });

  it('uses toJSON (dates become ISO strings)', () => {
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('refuses values JSON would silently mangle: bigint, bytes, Map, class instances', () => {
    class Point {
      x = 1;
    }
    for (const value of [
      { n: 1n },
      { b: new Uint8Array(1) },
      { m: new Map() },
      { p: new Point() },
      undefined,
    ]) {
      expect(() => canonicalJson(value)).toThrow(TypeError);
    }
  });

  it(`refuses nesting deeper than ${CANONICAL_JSON_MAX_DEPTH} levels (and so cycles)`, () => {
    let deep: unknown = 1;
    for (let i = 0; i <= CANONICAL_JSON_MAX_DEPTH; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/deeper/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => canonicalJson(cycle)).toThrow(TypeError);
  });

  it('is stable under a round trip through JSON.parse, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const once = canonicalJson(value);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
        expect(JSON.parse(once)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });
});
