/**
 * `apple` anonymous attestation (WebAuthn §8.8): `{x5c: [credCert, *caCert]}`. The nonce
 * SHA-256(authData ‖ clientDataHash) is in credCert's extension 1.2.840.113635.100.8.2
 * (SEQUENCE { [1] EXPLICIT OCTET STRING }), and credCert's key is the credential key.
 *
 * @example
 * const r = appleStatement.verify(attStmt, authData, clientDataHash, { keyCache });
 */
import { bytesEqual, sha256 } from '../../../core/bytes.js';
import { children, contextTag, expectTag, parseDer, readOctetString, TAG } from '../../../core/der.js';
import { fail } from '../../../core/errors.js';
import { asCode } from '../../../pki/certificate.js';
import type { CborValue } from '../cbor.js';
import { stmtMap } from '../containers.js';
import { FIDO_OID, readX5c, requireAttested, signedData } from '../helpers.js';
import type { AuthenticatorData, StatementResult, StatementVerifier } from '../types.js';

/** The nonce in Apple's attestation extension (SEQUENCE { [1] EXPLICIT OCTET STRING }). */
export function appleNonce(value: Uint8Array): Uint8Array {
  return asCode('ATTESTATION_MALFORMED', 'Apple nonce extension', () => {
    const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'Apple nonce extension');
    const [tagged] = children(value, seq, 1);
    expectTag(tagged!, contextTag(1, true), 'Apple nonce [1]');
    const [octets] = children(value, tagged!, 1);
    return readOctetString(value, octets!, 'Apple nonce');
  });
}

/** The apple statement verifier. */
export const appleStatement: StatementVerifier = {
  fmt: 'apple',
  verify(stmt: CborValue, authData: AuthenticatorData, clientDataHash: Uint8Array): StatementResult {
    const m = stmtMap(stmt, 'apple');
    // Apple's authenticators also send alg (-7), which §8.8 does not define: it is checked for
    // shape and otherwise ignored (the credential key, not alg, is what the certificate binds).
    for (const k of m.keys())
      if (k !== 'x5c' && k !== 'alg')
        fail('ATTESTATION_MALFORMED', `apple attStmt has an unknown member ${JSON.stringify(k)}`);
    if (m.has('alg') && typeof m.get('alg') !== 'number')
      fail('ATTESTATION_MALFORMED', 'apple alg must be an integer');
    const certs = readX5c(m.get('x5c'), 'apple');
    const credCert = certs[0]!;
    const attested = requireAttested(authData, 'apple');
    // §8.8 steps 2–4: the extension's nonce is SHA-256(authData ‖ clientDataHash).
    const ext = credCert.extension(FIDO_OID.appleNonce);
    if (!ext) fail('ATTESTATION_INVALID', 'the Apple credential certificate has no nonce extension');
    if (!bytesEqual(appleNonce(ext.value), sha256(signedData(authData, clientDataHash))))
      fail('NONCE_MISMATCH', 'the Apple attestation nonce is not SHA-256(authData ‖ clientDataHash)');
    // §8.8 step 5: the credential public key is credCert's subject public key.
    if (!bytesEqual(credCert.spki, attested.publicKey.spki))
      fail('KEY_MISMATCH', "the credential key differs from the Apple credential certificate's key");
    return { attestationType: 'anonca', trustPath: certs, leafIsCredential: true };
  },
};
