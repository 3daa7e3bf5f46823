/**
 * Time is injected, never read from a global: a Clock returns "now" in milliseconds.
 *
 * @example
 * const clock = fixedClock(Date.parse('2024-01-01T00:00:00Z'));
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

export function fixedClock(ms: number): Clock {
  return () => ms;
}
