/**
 * System tools some tests cross-check against (openssl, later swtpm, tpm2-tools). A test that
 * needs one is skipped, visibly and with the reason, when it is absent, and fails in CI
 * (CI=true), where .ci/run installs it: a skipped test must never look like a pass.
 */
import { spawnSync } from 'node:child_process';

const seen = new Map<string, boolean>();

/** True when `tool` runs (`tool version` or the given probe arguments exit 0). */
export function hasTool(tool: string, probe: readonly string[] = ['version']): boolean {
  let present = seen.get(tool);
  if (present === undefined) {
    present = spawnSync(tool, probe, { stdio: 'ignore' }).status === 0;
    seen.set(tool, present);
  }
  return present;
}

/** Call at the top of a test: skips it (with the reason) when `tool` is absent; throws in CI. */
export function needTool(
  ctx: { skip: (note?: string) => void },
  tool: string,
  probe?: readonly string[],
): void {
  if (hasTool(tool, probe)) return;
  const reason = `${tool} not found on this machine`;
  if (process.env['CI'] === 'true') throw new Error(`${reason}: CI must install it (.ci/run)`);
  console.log(`skipping: ${reason}`);
  ctx.skip(reason);
}
