/**
 * `provenance serve --demo`: a demo manufacturer in `DIR/demo/maker` (a root and one product
 * line, both with unencrypted keys: it is a demonstration, and says so) and
 * `DIR/demo/policy.yaml` trusting it, so a newcomer can personalise a software token with
 * `provenance maker token … --parent DIR/demo/maker/line` and enroll it at once.
 *
 * @example
 * const demo = await ensureDemo('provenance-data', { files, clock });
 * demo.policy   // provenance-data/demo/policy.yaml
 */
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { openMaker } from '../maker/directory.js';
import { createIntermediate, initRoot, unlockMaker } from '../maker/hierarchy.js';
import type { FileAccess } from '../token/software/file-access.js';

/** Where the demo lives inside the data directory. */
export interface DemoPaths {
  readonly dir: string;
  readonly root: string;
  /** The product line CA: `maker token --parent` takes this. */
  readonly line: string;
  readonly policy: string;
  /** True when this call created the demo (first start). */
  readonly created: boolean;
}

/** The demo maker's names. */
export const DEMO_MAKER = { root: 'Provenance Demo Maker', line: 'Provenance Demo Tokens' } as const;

/** The demo policy (paths relative to DIR/demo). */
export const DEMO_POLICY_YAML = `# Demo policy written by \`provenance serve --demo\`: it trusts the demo maker (by key) and
# allows keys made inside tokens of its product line. A demonstration, not a policy to deploy.
version: 1
trust:
  - id: demo-maker
    certificates: [./maker/maker-root/cert.pem]
allow:
  - id: demo-line
    description: keys made inside tokens personalised under the demo product line
    entry: ./maker/line/cert.pem
    level: 1
require:
  freshness: nonce          # the token must sign the service's challenge
  generatedOnDevice: true
  nonExportable: true
`;

/**
 * Create the demo maker and policy under `DIR/demo` unless they exist; reuse them otherwise.
 *
 * @example
 * const { line, policy } = await ensureDemo(dataDir, { files, clock });
 */
export async function ensureDemo(
  dataDir: string,
  io: { files: FileAccess; clock: Clock },
): Promise<DemoPaths> {
  const dir = join(dataDir, 'demo');
  const paths = {
    dir,
    root: join(dir, 'maker', 'maker-root'),
    line: join(dir, 'maker', 'line'),
    policy: join(dir, 'policy.yaml'),
  };
  let created = false;
  const makerIo = { files: io.files, clock: io.clock };
  if (!(await io.files.exists(join(paths.root, 'maker.json')))) {
    // Unencrypted on purpose: the demo must run unattended and its keys protect nothing.
    await initRoot(paths.root, { name: DEMO_MAKER.root, alg: 'p256', passphrase: null }, makerIo);
    created = true;
  }
  if (!(await io.files.exists(join(paths.line, 'maker.json')))) {
    const parent = await unlockMaker(await openMaker(paths.root, io.files), null, makerIo);
    await createIntermediate(paths.line, { name: DEMO_MAKER.line, parent, passphrase: null }, makerIo);
    created = true;
  }
  if (!(await io.files.exists(paths.policy))) {
    await io.files.writeFileAtomic(paths.policy, DEMO_POLICY_YAML, { mode: 0o644 });
    created = true;
  }
  return { ...paths, created };
}
