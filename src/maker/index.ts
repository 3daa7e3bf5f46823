/**
 * The manufacturer hierarchy (`provenance/maker`): roots, intermediate CAs, batch attestation
 * keys, and token personalisation.
 *
 * @example
 * import { initRoot, openMaker, unlockMaker, personaliseToken } from 'provenance/maker';
 */
export * from './directory.js';
export * from './hierarchy.js';
export * from './key-file.js';
export * from './names.js';
export * from './personalise.js';
