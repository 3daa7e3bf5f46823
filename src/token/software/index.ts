/**
 * The software reference token (`provenance/token/software`): a file-backed Attester whose
 * state is encrypted under the PIN. See token.ts for the policies and token-file.ts for the
 * file format.
 *
 * @example
 * import { SoftwareToken, nodeFileAccess } from 'provenance/token/software';
 * const token = await SoftwareToken.open('alice.token', { files: nodeFileAccess(), clock: Date.now, pin: () => pin });
 */
export * from './certificate-of-provenance.js';
export * from './file-access.js';
export * from './key-algorithms.js';
export { DEFAULT_KDF_COST, KDF_FLOOR_LOG2N, type KdfParams } from './pin-kdf.js';
export * from './token.js';
export {
  type AttestationKind,
  DEFAULT_MAX_PIN_RETRIES,
  LABEL_PATTERN,
  MAX_TOKEN_FILE_BYTES,
  MAX_TOKEN_KEYS,
  parseTokenFile,
  TOKEN_FILE_FORMAT,
  TOKEN_FILE_VERSION,
  type TokenFile,
  type TokenHeader,
} from './token-file.js';
