/**
 * The list of command groups. Each group file exports `register(program, ctx)`.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerCommands(_program: Command, _ctx: CliContext): void {
  // Command groups register here (one import and one call each).
}
