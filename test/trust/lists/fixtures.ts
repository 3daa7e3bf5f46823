/**
 * Token lists for tests: a publisher key, a list over a native hierarchy, signing helpers.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { signTokenList } from '../../../src/trust/lists/jws.js';
import type { TokenList, TokenListEntry } from '../../../src/trust/lists/types.js';
import { NOW } from '../../verify/fixtures.js';

export const DAY = 24 * 3600 * 1000;

export interface Publisher {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function publisher(type: 'p256' | 'ed25519' = 'p256'): Publisher {
  const pair =
    type === 'p256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}

export function entry(id: string, spkiSha256: string, over: Partial<TokenListEntry> = {}): TokenListEntry {
  return {
    id,
    maker: 'Gemalto NV',
    product: 'Gemalto .NET Card',
    anchors: [{ spkiSha256 }],
    level: 2,
    status: 'approved',
    since: '2026-01-01',
    ...over,
  };
}

export function list(over: Partial<TokenList> = {}): TokenList {
  return {
    publisher: 'Smartcard Sector Body',
    sequence: 1,
    issuedAt: new Date(NOW - DAY).toISOString(),
    nextUpdate: new Date(NOW + 30 * DAY).toISOString(),
    entries: [],
    revoked: [],
    ...over,
  };
}

export function sign(p: Publisher, over: Partial<TokenList> = {}): Promise<string> {
  return signTokenList(list(over), p.privateKey);
}
