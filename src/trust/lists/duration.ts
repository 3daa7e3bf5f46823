/**
 * Durations in list configuration and options: a whole number and a unit, `90s`, `15m`,
 * `12h`, `30d`.
 *
 * @example
 * parseDuration('30d')   // 2_592_000_000
 */
import { fail } from '../../core/errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** True when `text` is a duration (for schema validation). */
export function isDuration(text: string): boolean {
  return /^\d{1,6}[smhd]$/.test(text);
}

/** Milliseconds of a duration such as `30d`; USAGE naming `what` when it is not one. */
export function parseDuration(text: string, what = 'duration'): number {
  if (!isDuration(text))
    fail('USAGE', `${what} must be a number and a unit (s, m, h, d), e.g. "30d", not "${text}"`);
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS];
}
