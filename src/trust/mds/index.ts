/**
 * FIDO Metadata Service v3: verify and import a BLOB, index its entries, expose their anchors
 * and statuses (see docs/mds.md).
 *
 * @example
 * const index = indexMdsBlob(importMdsBlob(jwt, { roots: [globalSignR3], time: Date.now() }));
 * const entry = index.byAaguid(aaguid);
 * if (!entry || entry.status.deny) reject();
 */
export {
  type ImportMdsOptions,
  importMdsBlob,
  isProductionMdsRoot,
  MDS_MAX_BLOB_BYTES,
  MDS_PRODUCTION_ROOT_SHA256,
} from './blob.js';
export {
  attestationKeyIdentifier,
  checkMdsEntry,
  type MdsEntryDecision,
  type MdsEntryQuery,
} from './decision.js';
export { indexMdsBlob, MDS_MAX_ENTRIES, normaliseAaguid } from './entries.js';
export {
  type FetchLike,
  type FetchMdsOptions,
  type FetchResponseLike,
  fetchMdsBlob,
  MDS_FETCH_TIMEOUT_MS,
} from './fetch.js';
export { loadMdsIndex, MDS_FILES, readMdsIndexHeader, saveMdsIndex } from './index-file.js';
export { MDS_JWS_ALGORITHMS, type MdsJwsAlgorithm } from './jws.js';
export { MDS_DENY_STATUSES, MDS_LEVEL_RANKS, summariseStatus } from './status.js';
export * from './types.js';
