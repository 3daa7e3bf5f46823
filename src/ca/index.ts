/**
 * The issuing CA (`provenance/ca`): its directory and key provider, certificate profiles,
 * issuance with the pre-issuance lint, the provenance summary extension, and the CRL.
 *
 * @example
 * import { openCa, parseProfiles, issueCertificate, buildCrl } from 'provenance/ca';
 */
export * from './crl.js';
export * from './directory.js';
export * from './extensions.js';
export * from './issue.js';
export * from './key-provider.js';
export * from './lint.js';
export * from './profiles.js';
export * from './summary.js';
export type * from './types.js';
