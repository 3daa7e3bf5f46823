/** Core building blocks: errors, strict DER, PEM, bytes, clock, OIDs. Imports nothing of ours. */
export * from './bytes.js';
export * from './clock.js';
export * from './der.js';
export * from './der-writer.js';
export * from './errors.js';
export * from './oids.js';
export * from './pem.js';
