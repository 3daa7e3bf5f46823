/**
 * The list of command groups. Each group file exports `register…(program, ctx)`.
 */
import type { Command } from 'commander';
import { registerAdmin } from './admin.js';
import { registerAudit } from './audit.js';
import { registerCaCommands } from './ca.js';
import type { CliContext } from './context.js';
import { registerDemo } from './demo.js';
import { registerEnroll } from './enroll.js';
import { registerList } from './list.js';
import { registerMakerCommands } from './maker.js';
import { registerMds } from './mds.js';
import { registerPolicy } from './policy.js';
import { registerReevaluate } from './reevaluate.js';
import { registerServe } from './serve.js';
import { registerTokenCommands } from './token.js';
import { registerTrust } from './trust.js';
import { registerVerify } from './verify.js';

/** `run` executes a whole command line in-process (the demo narrates real commands with it). */
export function registerCommands(
  program: Command,
  ctx: CliContext,
  run: (argv: string[], ctx: CliContext) => Promise<number>,
): void {
  registerVerify(program, ctx);
  registerMakerCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerPolicy(program, ctx);
  registerCaCommands(program, ctx);
  registerDemo(program, ctx, run);
  registerEnroll(program, ctx);
  registerAdmin(program, ctx);
  registerServe(program, ctx);
  registerAudit(program, ctx);
  registerList(program, ctx);
  registerMds(program, ctx);
  registerReevaluate(program, ctx);
  registerTrust(program, ctx);
}
