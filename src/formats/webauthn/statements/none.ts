/**
 * `none` attestation (WebAuthn §8.7): `attStmt` is an empty map; there is nothing to verify
 * and nothing it proves.
 *
 * @example
 * noneStatement.verify(new Map(), authData, clientDataHash, {}); // { attestationType: 'none', trustPath: [] }
 */
import { fail } from '../../../core/errors.js';
import type { CborValue } from '../cbor.js';
import { stmtMap } from '../containers.js';
import { requireAttested } from '../helpers.js';
import type { AuthenticatorData, StatementResult, StatementVerifier } from '../types.js';

/** The none statement verifier. */
export const noneStatement: StatementVerifier = {
  fmt: 'none',
  verify(stmt: CborValue, authData: AuthenticatorData): StatementResult {
    if (stmtMap(stmt, 'none').size !== 0) fail('ATTESTATION_MALFORMED', 'none attStmt must be an empty map');
    requireAttested(authData, 'none');
    return { attestationType: 'none', trustPath: [] };
  },
};
