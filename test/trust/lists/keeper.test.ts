import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileListStatePersistence, TokenListKeeper } from '../../../src/trust/lists/keeper.js';
import { isListProblem, type VerifiedTokenList } from '../../../src/trust/lists/types.js';
import { NOW } from '../../verify/fixtures.js';
import { publisher, sign } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'provenance-keeper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pub = publisher();
const spki = new Uint8Array(pub.publicKey.export({ type: 'spki', format: 'der' }));
const config = { id: 'sector', location: '/lists/sector.jws', publisherKeys: [{ spki }], graceMs: 0 };

function keeper(serve: () => string | null, file: string): TokenListKeeper {
  return new TokenListKeeper({
    clock: () => NOW,
    persistence: fileListStatePersistence(file),
    readFile: async () => {
      const text = serve();
      if (text === null) throw new Error('ENOENT');
      return new TextEncoder().encode(text);
    },
  });
}

describe('TokenListKeeper', () => {
  it('a restart works offline from the persisted last good list', async () => {
    const file = join(dir, 'offline.json');
    const jws = await sign(pub, { sequence: 4 });
    await keeper(() => jws, file).refresh([config]);
    const restarted = keeper(() => null, file);
    const lists = await restarted.refresh([config]);
    const list = lists.get('sector')!;
    expect(isListProblem(list)).toBe(false);
    expect((list as VerifiedTokenList).sequence).toBe(4);
    expect(restarted.current()).toBe(lists);
  });

  it('sequence never goes backwards across restarts', async () => {
    const file = join(dir, 'rollback.json');
    await keeper(() => null, file).refresh([config]); // nothing yet: LIST_UNAVAILABLE, nothing stored
    const v5 = await sign(pub, { sequence: 5 });
    const v4 = await sign(pub, { sequence: 4 });
    await keeper(() => v5, file).refresh([config]);
    const lists = await keeper(() => v4, file).refresh([config]);
    expect(lists.get('sector')).toMatchObject({ problem: true, code: 'LIST_ROLLBACK' });
  });

  it('without persisted state or a source the list is unavailable (the policy fails closed)', async () => {
    const lists = await keeper(() => null, join(dir, 'none.json')).refresh([config]);
    expect(lists.get('sector')).toMatchObject({ problem: true, code: 'LIST_UNAVAILABLE' });
  });
});
