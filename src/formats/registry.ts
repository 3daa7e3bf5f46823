/**
 * The evidence formats Provenance knows, in detection order. A verifier takes a list (this
 * one by default) so an integrator can narrow it; formats never import each other.
 */
import { androidKeyFormat } from './android-key/index.js';
import { appleFormat } from './apple/index.js';
import { cloudHsmFormat } from './cloud-hsm/index.js';
import { provenanceFormat } from './provenance/index.js';
import { tpmFormat } from './tpm/index.js';
import type { AttestationFormat } from './types.js';
import { webauthnFormat } from './webauthn/index.js';
import { yubikeyPivFormat } from './yubikey-piv/index.js';

export const DEFAULT_FORMATS: readonly AttestationFormat[] = [
  provenanceFormat,
  yubikeyPivFormat,
  tpmFormat,
  cloudHsmFormat,
  androidKeyFormat,
  appleFormat,
  webauthnFormat,
];

/** The first format that recognises the input, or undefined. */
export function detectFormat(
  formats: readonly AttestationFormat[],
  input: Parameters<AttestationFormat['detect']>[0],
): AttestationFormat | undefined {
  return formats.find((f) => f.detect(input));
}
