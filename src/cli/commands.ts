/**
 * The list of command groups. Each group file exports `register…(program, ctx)`.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerMakerCommands } from './maker.js';
import { registerPolicy } from './policy.js';
import { registerTokenCommands } from './token.js';
import { registerVerify } from './verify.js';

export function registerCommands(program: Command, ctx: CliContext): void {
  registerVerify(program, ctx);
  registerMakerCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerPolicy(program, ctx);
}
