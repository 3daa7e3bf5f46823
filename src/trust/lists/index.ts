/**
 * Signed token lists (`provenance/trust/lists`): the document, JWS signing and verification
 * against pinned publisher keys, the publisher's draft edits, loading and keeping lists fresh.
 *
 * @example
 * import { verifyTokenList } from 'provenance/trust/lists';
 * const list = await verifyTokenList(jws, { publisherKeys: [key], now: Date.now() });
 */
export * from './draft.js';
export * from './duration.js';
export * from './jws.js';
export * from './keeper.js';
export * from './keys.js';
export * from './loader.js';
export * from './schema.js';
export * from './store-persistence.js';
export * from './types.js';
