/**
 * The anchor catalogue (known production roots, by key) and the operator's trust folder.
 *
 * @example
 * import { lookupCatalog, TrustFolder, nodeTrustFolderFs } from './trust/catalog/index.js';
 */
export { CATALOG, type CatalogEntry } from './entries.js';
export { type CatalogMatch, catalogEntry, formatsBeyondCatalog, lookupCatalog } from './lookup.js';
export { catalogWarnings, readCatalogAnchor } from './policy.js';
export {
  type AddAnchorOptions,
  type AddAnchorResult,
  ANCHOR_ID,
  dryRunTrustFolderFs,
  type InstalledAnchor,
  nodeTrustFolderFs,
  readOnlyTrustFolderFs,
  TRUST_FOLDER_LIMITS,
  TRUST_INDEX_FILE,
  TrustFolder,
  type TrustFolderFs,
  trustDirForDataDir,
} from './store.js';
