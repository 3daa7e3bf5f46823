/**
 * The TPM 2.0 token driver (`provenance/token/tpm`): an Attester over tpm2-tools, with the
 * credential-activation steps the service's TPM enrollment needs.
 *
 * @example
 * import { createTpmAttester } from 'provenance/token/tpm';
 * const tpm = createTpmAttester({ tcti: 'device:/dev/tpmrm0', stateDir: '.provenance-tpm' });
 */
export * from './attester.js';
export * from './commands.js';
export * from './runner.js';
