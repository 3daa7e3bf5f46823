/**
 * PKI: the certificate model, keys and signatures, building certificates and CSRs, path
 * building and validation (RFC 5280 §6) with named quirks, and weak-key checks. Imports only
 * `core`.
 *
 * @example
 * import { parseCertificate, validatePath } from 'provenance/pki';
 * const path = validatePath(parseCertificate(der), { anchors, intermediates, time: Date.now() });
 */
export * from './anchor.js';
export * from './builder.js';
export * from './bundle.js';
export * from './certificate.js';
export * from './csr.js';
export * from './general-names.js';
export * from './keys.js';
export * from './name.js';
export * from './name-constraints.js';
export * from './name-match.js';
export * from './path.js';
export * from './path-profile.js';
export * from './policy-tree.js';
export * from './roca.js';
export * from './signature.js';
export * from './signer.js';
export * from './weak-keys.js';
