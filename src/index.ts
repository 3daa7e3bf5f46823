/**
 * Provenance: attested remote key provisioning. The main entry re-exports the verifier, the
 * policy, the native format and the error type; subpath exports give the rest
 * (`provenance/pki`, `provenance/maker`, `provenance/token/software`, ...).
 *
 * @example
 * import { createVerifier, decodeEvidence, loadPolicyFile, ProvenanceError } from 'provenance';
 */
export { ERROR_CODES, type ErrorCode, isProvenanceError, ProvenanceError } from './core/errors.js';
export { androidKeyFormat } from './formats/android-key/index.js';
export { appleFormat, createAppleFormat } from './formats/apple/index.js';
export { cloudHsmFormat } from './formats/cloud-hsm/index.js';
export { provenanceFormat } from './formats/provenance/index.js';
export { DEFAULT_FORMATS } from './formats/registry.js';
export { tpmFormat } from './formats/tpm/index.js';
export type { AttestationFormat, BoundKey, Claims, EvidenceInput, FormatResult } from './formats/types.js';
export { createWebauthnFormat, webauthnFormat } from './formats/webauthn/index.js';
export { yubikeyPivFormat } from './formats/yubikey-piv/index.js';
export * from './policy/index.js';
export * from './verify/index.js';
