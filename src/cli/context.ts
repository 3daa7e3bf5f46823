/**
 * What a CLI command may touch, injected so tests can run commands in-process:
 * output streams, environment, clock and the interactive prompt.
 */
import type { Clock } from '../core/clock.js';

export interface CliContext {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  /** Ask a question on the terminal (hidden input for secrets). Undefined when not interactive. */
  readonly prompt?: (question: string, options: { secret: boolean }) => Promise<string>;
  /** Confirm a touch (user presence) for the software token. */
  readonly confirmTouch?: (message: string) => Promise<boolean>;
}

/** Print a warning in the CLI's one style. */
export function warn(ctx: CliContext, message: string): void {
  ctx.err(`warning: ${message}\n`);
}

/** Exit codes: 0 success or accept, 1 reject, 2 usage error or unreadable input. */
export const EXIT = { ok: 0, reject: 1, usage: 2 } as const;

/** Thrown by a command that ends with a non-zero exit code without an error (a reject). */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
