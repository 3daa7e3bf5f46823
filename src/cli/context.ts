/**
 * What a CLI command may touch, injected so tests can run commands in-process:
 * output streams, environment, clock and the interactive prompt.
 */
import type { Clock } from '../core/clock.js';
import { fail } from '../core/errors.js';

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

/**
 * The passphrase for a new private key: the environment variable, else the prompt (asked
 * twice), else USAGE naming both ways out. Null when `encrypt` is false (--no-passphrase),
 * after the loud warning `unencryptedWarning` when given.
 */
export async function askNewPassphrase(
  ctx: CliContext,
  o: { envVar: string; what: string; encrypt: boolean; unencryptedWarning?: string },
): Promise<string | null> {
  if (!o.encrypt) {
    if (o.unencryptedWarning !== undefined) warn(ctx, o.unencryptedWarning);
    return null;
  }
  const env = ctx.env[o.envVar];
  if (env !== undefined && env !== '') return env;
  if (!ctx.prompt)
    return fail('USAGE', `no passphrase for ${o.what}: set ${o.envVar}, or use --no-passphrase`);
  const first = await ctx.prompt(`New passphrase for ${o.what}: `, { secret: true });
  const second = await ctx.prompt('Repeat the passphrase: ', { secret: true });
  if (first !== second) fail('USAGE', 'the two passphrases differ');
  return first;
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
