/**
 * The `provenance` command line. Each command group lives in its own file and registers itself
 * on the program; this file wires them and turns errors into exit codes:
 * 0 success/accept, 1 reject, 2 usage error or unreadable input.
 */
import { Command, CommanderError } from 'commander';
import { systemClock } from '../core/clock.js';
import { isProvenanceError } from '../core/errors.js';
import { registerCommands } from './commands.js';

export { CliExit, EXIT };

import { type CliContext, CliExit, EXIT } from './context.js';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command();
  program
    .name('provenance')
    .description('Attested remote key provisioning: verify where a key lives before you certify it.')
    .version('0.1.0')
    .option('--debug', 'print stack traces for errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.out(s), writeErr: (s) => ctx.err(s) })
    .showHelpAfterError('(run with --help for usage)');
  registerCommands(program, ctx, main);
  return program;
}

/** Run the CLI with `argv` (as process.argv: node, script, args...). Resolves to the exit code. */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  const program = buildProgram(ctx);
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliExit) return err.exitCode;
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isProvenanceError(err)) {
      ctx.err(`error: ${err.code}: ${err.message}\n`);
      if (debug) ctx.err(`${err.stack ?? ''}\n${JSON.stringify(err.details)}\n`);
      return EXIT.usage;
    }
    ctx.err(`error: INTERNAL: ${(err as Error)?.message ?? String(err)}\n`);
    if (debug) ctx.err(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT.usage;
  }
}

export function processContext(): CliContext {
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
    clock: systemClock,
    ...(process.stdin.isTTY ? { prompt: ttyPrompt, confirmTouch: ttyConfirm } : {}),
  };
}

async function ttyPrompt(question: string, options: { secret: boolean }): Promise<string> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (options.secret) {
    // Mute echo: readline writes through _writeToOutput.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stderr.write(question);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    if (options.secret) process.stderr.write('\n');
    rl.close();
  }
}

async function ttyConfirm(message: string): Promise<boolean> {
  const answer = await ttyPrompt(`${message} Touch the token: press Enter to confirm, or type "no": `, {
    secret: false,
  });
  return answer.trim().toLowerCase() !== 'no';
}
