/**
 * The attestation statement verifiers the `webauthn` format knows by default, keyed by `fmt`.
 * Plug-ins add one import line and one list entry (docs/webauthn.md).
 */
import { androidKeyStatement } from './android-key.js';
import { androidSafetynetStatement } from './android-safetynet.js';
import { appleStatement } from './statements/apple.js';
import { fidoU2fStatement } from './statements/fido-u2f.js';
import { noneStatement } from './statements/none.js';
import { packedStatement } from './statements/packed.js';
import { tpmStatement } from './tpm.js';
import type { StatementVerifier } from './types.js';

/** Statement verifiers in the default `webauthn` format (compound is added by the format). */
export const DEFAULT_STATEMENTS: readonly StatementVerifier[] = [
  packedStatement,
  fidoU2fStatement,
  noneStatement,
  appleStatement,
  tpmStatement,
  androidKeyStatement,
  androidSafetynetStatement,
];
