/**
 * Run the CLI in-process with a captured context: fast, and the same code path as the binary.
 */
import type { CliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; clock?: () => number; ctx?: Partial<CliContext> } = {},
): Promise<CliRun> {
  let out = '';
  let err = '';
  const ctx: CliContext = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    env: { ...options.env },
    clock: options.clock ?? Date.now,
    ...options.ctx,
  };
  const code = await main(['node', 'provenance', ...args], ctx);
  return { code, out, err };
}
