/**
 * Revocation of attestation chains: CRL files and fetched CRLs, the Android attestation status
 * list, and the verifier stage that decides under each anchor's `revocation` mode.
 *
 * @example
 * import { parseStatusList, statusListSource, checkRevocation } from 'provenance/trust/revocation';
 */

export * from './cache.js';
export * from './check.js';
export * from './crl-source.js';
export * from './distribution-points.js';
export * from './files.js';
export * from './stage.js';
export * from './status-list.js';
export * from './types.js';
