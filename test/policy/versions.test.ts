import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  isVersionRange,
  parseVersion,
  parseVersionRange,
  versionInRange,
} from '../../src/policy/versions.js';

describe('firmware version ranges', () => {
  it('compares dotted versions numerically, not as text', () => {
    expect(compareVersions([4, 10], [4, 9])).toBe(1);
    expect(compareVersions([4, 3], [4, 3, 0])).toBe(0);
    expect(compareVersions([4, 3, 4], [4, 3, 5])).toBe(-1);
  });

  it('parses purely numeric versions only (a leading v is fine)', () => {
    expect(parseVersion('5.4.3')).toEqual([5, 4, 3]);
    expect(parseVersion('v4.3')).toEqual([4, 3]);
    expect(parseVersion('5.4.3-beta')).toBeNull();
    expect(parseVersion('')).toBeNull();
    expect(parseVersion('1.2.3.4.5.6.7.8.9')).toBeNull();
  });

  it('selects the YubiKey 4 firmware affected by ROCA with ">=4.2.6 <4.3.5"', () => {
    const range = parseVersionRange('>=4.2.6 <4.3.5');
    expect(['4.2.5', '4.2.6', '4.3.4', '4.3.5', '5.1.2'].map((v) => versionInRange(v, range))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
  });

  it('supports every comparator, and a bare version means equality', () => {
    const at = (r: string, v: string) => versionInRange(v, parseVersionRange(r));
    expect([
      at('>4.3', '4.3.1'),
      at('>4.3', '4.3'),
      at('<=4.3', '4.3.0'),
      at('=4.3', '4.3.0'),
      at('4.3', '4.3.1'),
    ]).toEqual([true, false, true, true, false]);
    expect(at('==5', '5.0')).toBe(true);
  });

  it('normalises the spelling of a range', () => {
    expect(parseVersionRange('  >=4.2.6   <v4.3.5 ').text).toBe('>=4.2.6 <4.3.5');
    expect(parseVersionRange('==5.1').text).toBe('5.1');
  });

  it('rejects what is not a range', () => {
    for (const bad of ['', '~4.3', '^1.0', '>= 4.3', '4.x', 'latest', '>=1 <2 >3 <4 =5', '1'.repeat(300)]) {
      expect(isVersionRange(bad), bad).toBe(false);
    }
    expect(() => parseVersionRange('~4')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('never matches a version that does not parse', () => {
    expect(versionInRange('abc', parseVersionRange('>=0'))).toBe(false);
  });
});
