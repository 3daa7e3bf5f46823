/**
 * The verification pipeline (`provenance/verify`): decode evidence, verify it against a
 * policy, get a Verdict.
 *
 * @example
 * import { createVerifier, decodeEvidence } from 'provenance/verify';
 * const verdict = createVerifier({ policy }).verify(decodeEvidence(bytes), { nonce });
 */
export * from './input.js';
export * from './verifier.js';
