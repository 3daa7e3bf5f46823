/**
 * Test fixtures for the maker hierarchy and the software token: temporary directories, a
 * fixed clock, and a hierarchy made with the repository's own code
 * (root → intermediate → per-token or batch attestation).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/core/clock.js';
import type { MakerCa } from '../../src/maker/directory.js';
import {
  createBatch,
  createIntermediate,
  initRoot,
  type MakerAuthority,
  type MakerIo,
  unlockMaker,
} from '../../src/maker/hierarchy.js';
import { nodeFileAccess } from '../../src/token/software/file-access.js';

export const PASSPHRASE = 'correct horse battery staple';
/** A fixed "now": 2026-03-01T12:00:00Z. */
export const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
/** scrypt cost for test tokens: N = 2^10 (the production floor is 2^15). */
export const TEST_KDF = { log2N: 10, r: 8, p: 1 } as const;
export const TEST_KDF_FLOOR = 10;

/** A clock the test can move. */
export function movableClock(start = NOW): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = start;
  const clock = (() => now) as Clock & { set(ms: number): void; advance(ms: number): void };
  clock.set = (ms) => {
    now = ms;
  };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

export function makerIo(clock: Clock = () => NOW): MakerIo {
  return { files: nodeFileAccess(), clock };
}

/** A fresh temporary directory; `cleanup()` removes every one made. */
export function tempDirs(): { make(prefix?: string): Promise<string>; cleanup(): Promise<void> } {
  const made: string[] = [];
  return {
    async make(prefix = 'provenance-test-') {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    async cleanup() {
      await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

export interface Hierarchy {
  readonly root: MakerCa;
  readonly ca: MakerCa;
  readonly batch: MakerCa;
  readonly rootAuthority: MakerAuthority;
  readonly caAuthority: MakerAuthority;
  readonly batchAuthority: MakerAuthority;
}

/** Gemalto NV → Gemalto Smartcards → (batch), all P-256, under `base`. */
export async function makeHierarchy(base: string, io: MakerIo = makerIo()): Promise<Hierarchy> {
  const root = await initRoot(join(base, 'root'), { name: 'Gemalto NV', passphrase: PASSPHRASE }, io);
  const rootAuthority = await unlockMaker(root, PASSPHRASE, io);
  const ca = await createIntermediate(
    join(base, 'smartcards'),
    { name: 'Gemalto Smartcards', parent: rootAuthority, passphrase: PASSPHRASE },
    io,
  );
  const caAuthority = await unlockMaker(ca, PASSPHRASE, io);
  const batch = await createBatch(
    join(base, 'batch'),
    { name: 'Gemalto .NET Card batch', batchId: 'B2026-03', parent: caAuthority, passphrase: PASSPHRASE },
    io,
  );
  const batchAuthority = await unlockMaker(batch, PASSPHRASE, io);
  return { root, ca, batch, rootAuthority, caAuthority, batchAuthority };
}
