/**
 * Fixed-window rate limits, in memory, per service instance: N requests per key per window.
 * A fixed window lets up to 2N through across a window boundary; that is acceptable for
 * throttling guessing and floods, and it needs one counter per key. The table is bounded:
 * when full, expired windows are dropped, and a still-full table refuses new keys (fail
 * closed under a flood of distinct keys rather than grow without limit).
 *
 * @example
 * const limiter = new FixedWindowLimiter({ limit: 20, windowMs: 60_000, clock });
 * const hit = limiter.hit(`code:${code.id}`);
 * if (!hit.allowed) fail('RATE_LIMITED', 'slow down', { retryAfterSeconds: hit.retryAfterSeconds });
 */
import type { Clock } from '../core/clock.js';
import { fail } from '../core/errors.js';

/** The outcome of one request against a limit. */
export interface RateLimitHit {
  readonly allowed: boolean;
  /** Requests left in this window. */
  readonly remaining: number;
  /** Whole seconds until the window resets (at least 1). */
  readonly retryAfterSeconds: number;
}

/** Options of a limiter. */
export interface RateLimitOptions {
  readonly limit: number;
  readonly windowMs: number;
  readonly clock: Clock;
  /** Most keys tracked at once (default 100 000). */
  readonly maxKeys?: number;
}

/** N requests per key per fixed window. */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly maxKeys: number;

  constructor(private readonly options: RateLimitOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1)
      throw new TypeError('FixedWindowLimiter: options.limit must be a positive integer');
    if (!(options.windowMs > 0)) throw new TypeError('FixedWindowLimiter: options.windowMs must be positive');
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Count one request for `key`. */
  hit(key: string): RateLimitHit {
    const now = this.options.clock();
    const { limit, windowMs } = this.options;
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= windowMs) {
      if (w === undefined && this.windows.size >= this.maxKeys) this.sweep(now);
      if (w === undefined && this.windows.size >= this.maxKeys)
        return { allowed: false, remaining: 0, retryAfterSeconds: Math.ceil(windowMs / 1000) };
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const retryAfterSeconds = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    return { allowed: w.count <= limit, remaining: Math.max(0, limit - w.count), retryAfterSeconds };
  }

  /** Count one request and throw RATE_LIMITED (with Retry-After) when over the limit. */
  enforce(key: string, what: string): void {
    const hit = this.hit(key);
    if (!hit.allowed)
      fail('RATE_LIMITED', `too many requests ${what}: retry after ${hit.retryAfterSeconds} s`, {
        retryAfterSeconds: hit.retryAfterSeconds,
      });
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.options.windowMs) this.windows.delete(key);
  }
}
