/**
 * `compound` attestation (WebAuthn L3 §8.9): an array of at least two `{fmt, attStmt}`
 * sub-statements (none of them compound), each verified with its own procedure against the
 * same authData and clientDataHash. Provenance requires every one to pass; the first one with
 * a trust path supplies the chain the shared stage validates, and every sub-statement is
 * listed in the `compound` claim.
 *
 * @example
 * const compound = createCompoundStatement((fmt) => registry.get(fmt));
 */
import { fail } from '../../../core/errors.js';
import type { CborValue } from '../cbor.js';
import type { AuthenticatorData, StatementContext, StatementResult, StatementVerifier } from '../types.js';

/** Most sub-statements in one compound statement. */
export const MAX_COMPOUND_STATEMENTS = 8;

/** A compound verifier that resolves sub-statement formats through `lookup`. */
export function createCompoundStatement(
  lookup: (fmt: string) => StatementVerifier | undefined,
): StatementVerifier {
  return {
    fmt: 'compound',
    verify(
      stmt: CborValue,
      authData: AuthenticatorData,
      clientDataHash: Uint8Array,
      ctx: StatementContext,
    ): StatementResult {
      if (ctx.nested) fail('ATTESTATION_MALFORMED', 'compound statements do not nest');
      if (!Array.isArray(stmt) || stmt.length < 2)
        fail('ATTESTATION_MALFORMED', 'compound attStmt must be an array of at least two statements');
      if (stmt.length > MAX_COMPOUND_STATEMENTS)
        fail(
          'ATTESTATION_MALFORMED',
          `compound attStmt holds more than ${MAX_COMPOUND_STATEMENTS} statements`,
        );
      const results = stmt.map((item, i) => {
        if (!(item instanceof Map) || item.size !== 2)
          fail('ATTESTATION_MALFORMED', `compound statement ${i} must be a map {fmt, attStmt}`);
        const fmt = item.get('fmt');
        const sub = item.get('attStmt');
        if (typeof fmt !== 'string' || sub === undefined)
          return fail('ATTESTATION_MALFORMED', `compound statement ${i} must be a map {fmt, attStmt}`);
        if (fmt === 'compound') fail('ATTESTATION_MALFORMED', 'compound statements do not nest');
        const verifier = lookup(fmt);
        if (!verifier)
          return fail('ATTESTATION_MISSING', `compound statement ${i}: unsupported fmt "${fmt}"`);
        return { fmt, result: verifier.verify(sub, authData, clientDataHash, { ...ctx, nested: true }) };
      });
      const chosen = results.find((r) => r.result.trustPath.length > 0) ?? results[0]!;
      return {
        ...chosen.result,
        claims: {
          ...chosen.result.claims,
          compound: results.map((r) => ({ fmt: r.fmt, attestationType: r.result.attestationType })),
        },
      };
    },
  };
}
