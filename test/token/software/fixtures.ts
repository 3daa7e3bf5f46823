/**
 * Software-token fixtures: personalised tokens on a test hierarchy, with the low test KDF
 * cost, a PIN source that counts its calls, and a scriptable touch.
 */
import { join } from 'node:path';
import type { Clock } from '../../../src/core/clock.js';
import { personaliseToken } from '../../../src/maker/personalise.js';
import type { FileAccess } from '../../../src/token/software/file-access.js';
import { nodeFileAccess } from '../../../src/token/software/file-access.js';
import {
  type PinRequest,
  SoftwareToken,
  type SoftwareTokenOptions,
} from '../../../src/token/software/token.js';
import { type Hierarchy, makerIo, TEST_KDF, TEST_KDF_FLOOR } from '../../maker/fixtures.js';

export const PIN = '246810';

/** A PIN source that answers `pins` in turn (the last one repeats) and records each request. */
export function pinSource(...pins: string[]): ((r: PinRequest) => string) & { requests: PinRequest[] } {
  const requests: PinRequest[] = [];
  const fn = ((r: PinRequest) => {
    requests.push(r);
    return pins[Math.min(requests.length - 1, pins.length - 1)]!;
  }) as ((r: PinRequest) => string) & { requests: PinRequest[] };
  fn.requests = requests;
  return fn;
}

/** A touch callback that answers `answer` and counts how often it was asked. */
export function touch(answer = true): ((message: string) => Promise<boolean>) & { asked: string[] } {
  const asked: string[] = [];
  const fn = (async (message: string) => {
    asked.push(message);
    return answer;
  }) as ((message: string) => Promise<boolean>) & { asked: string[] };
  fn.asked = asked;
  return fn;
}

export function tokenOptions(
  overrides: Partial<SoftwareTokenOptions> & { clock?: Clock; files?: FileAccess } = {},
): SoftwareTokenOptions {
  return {
    files: nodeFileAccess(),
    clock: makerIo().clock,
    pin: pinSource(PIN),
    minKdfLog2N: TEST_KDF_FLOOR,
    ...overrides,
  };
}

/** Personalise a per-token attested token under the hierarchy's intermediate CA. */
export async function perTokenToken(
  h: Hierarchy,
  dir: string,
  name = 'token.json',
  serial = '0001',
): Promise<string> {
  const path = join(dir, name);
  await personaliseToken(
    path,
    {
      parent: h.caAuthority,
      model: 'Gemalto .NET Card',
      serial,
      firmware: '2.1.0',
      pin: PIN,
      kdfCost: TEST_KDF,
      minKdfLog2N: TEST_KDF_FLOOR,
    },
    makerIo(),
  );
  return path;
}

/** Personalise a batch-attested token with the hierarchy's batch key. */
export async function batchToken(
  h: Hierarchy,
  dir: string,
  name = 'batch-token.json',
  serial = '0002',
): Promise<string> {
  const path = join(dir, name);
  await personaliseToken(
    path,
    {
      batch: h.batchAuthority,
      model: 'Gemalto .NET Card',
      serial,
      firmware: '2.1.0',
      pin: PIN,
      kdfCost: TEST_KDF,
      minKdfLog2N: TEST_KDF_FLOOR,
    },
    makerIo(),
  );
  return path;
}

export async function openToken(
  path: string,
  overrides: Partial<SoftwareTokenOptions> = {},
): Promise<SoftwareToken> {
  return SoftwareToken.open(path, tokenOptions(overrides));
}
