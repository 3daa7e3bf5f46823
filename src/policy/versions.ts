/**
 * Firmware version ranges for policies: dotted numeric versions compared component by
 * component as numbers ("4.10" > "4.9"), with semver-like comparators.
 *
 * A range is one or more comparators separated by spaces, all of which must hold:
 * `>=4.3.5`, `>=4.2.6 <4.3.5`, `=5.4.3`, `5.4.3` (same as `=`). Missing components count as 0
 * (`4.3` = `4.3.0`). A leading `v` is accepted. Pre-release or build suffixes are not: a
 * version that is not purely numeric is "unknown", and policies treat unknown as not matching
 * a requirement (fail closed).
 *
 * @example
 * const range = parseVersionRange('>=4.2.6 <4.3.5');   // YubiKey 4 firmware with ROCA
 * versionInRange('4.3.1', range)                       // true
 */
import { fail } from '../core/errors.js';

/** A comparator's operator; a bare version means '='. */
export type VersionOperator = '>=' | '>' | '<=' | '<' | '=';

/** One comparator of a range, e.g. `>=4.3.5`. */
export interface VersionComparator {
  readonly op: VersionOperator;
  readonly version: readonly number[];
}

/** A parsed range; `text` is its normalised spelling (comparators joined by one space). */
export interface VersionRange {
  readonly text: string;
  readonly comparators: readonly VersionComparator[];
}

const MAX_RANGE_LENGTH = 200;
const MAX_COMPONENTS = 8;
const COMPARATOR = /^(>=|<=|==|>|<|=)?v?(\d{1,9}(?:\.\d{1,9}){0,7})$/;
const VERSION = /^v?(\d{1,9}(?:\.\d{1,9}){0,7})$/;

/** Parse a dotted numeric version ("5.4.3", "v4.3"); null when it is not one. */
export function parseVersion(text: string): number[] | null {
  const m = VERSION.exec(text.trim());
  if (!m) return null;
  const parts = m[1]!.split('.').map(Number);
  return parts.length <= MAX_COMPONENTS ? parts : null;
}

/** True when `text` is a valid range (for schema validation). */
export function isVersionRange(text: string): boolean {
  return tryParseRange(text) !== null;
}

/** Parse a range; throws USAGE naming the text when it is not one. */
export function parseVersionRange(text: string): VersionRange {
  return (
    tryParseRange(text) ??
    fail('USAGE', `"${text}" is not a version range (e.g. ">=4.3.5" or ">=4.2.6 <4.3.5")`)
  );
}

function tryParseRange(text: string): VersionRange | null {
  if (typeof text !== 'string' || text.length > MAX_RANGE_LENGTH) return null;
  const tokens = text
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  if (tokens.length === 0 || tokens.length > 4) return null;
  const comparators: VersionComparator[] = [];
  for (const token of tokens) {
    const m = COMPARATOR.exec(token);
    if (!m) return null;
    const op = (m[1] === undefined || m[1] === '==' ? '=' : m[1]) as VersionOperator;
    comparators.push({ op, version: m[2]!.split('.').map(Number) });
  }
  const spelled = comparators.map((c) => `${c.op === '=' ? '' : c.op}${c.version.join('.')}`);
  return { text: spelled.join(' '), comparators };
}

/** Numeric comparison of dotted versions; missing components are 0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** True when `version` (text or parsed) satisfies every comparator of `range`; false when unparseable. */
export function versionInRange(version: string | readonly number[], range: VersionRange): boolean {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  if (v === null) return false;
  return range.comparators.every(({ op, version: bound }) => satisfies(compareVersions(v, bound), op));
}

function satisfies(c: number, op: VersionOperator): boolean {
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    default:
      return c === 0;
  }
}
