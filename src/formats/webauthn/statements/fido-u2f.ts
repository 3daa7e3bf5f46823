/**
 * `fido-u2f` attestation (WebAuthn §8.6): `{x5c: [attestnCert], sig}`; the signature is over
 * the U2F registration data 0x00 ‖ rpIdHash ‖ clientDataHash ‖ credentialId ‖ publicKeyU2F.
 *
 * @example
 * const r = fidoU2fStatement.verify(attStmt, authData, clientDataHash, { keyCache });
 */
import { fail } from '../../../core/errors.js';
import { describeKey } from '../../../pki/keys.js';
import { type CborValue, cborBytes } from '../cbor.js';
import { stmtMap } from '../containers.js';
import { COSE_ALG, verifyCose } from '../cose.js';
import { readX5c, requireAttested } from '../helpers.js';
import type { AuthenticatorData, StatementContext, StatementResult, StatementVerifier } from '../types.js';

/** The fido-u2f statement verifier. */
export const fidoU2fStatement: StatementVerifier = {
  fmt: 'fido-u2f',
  verify(
    stmt: CborValue,
    authData: AuthenticatorData,
    clientDataHash: Uint8Array,
    ctx: StatementContext,
  ): StatementResult {
    const m = stmtMap(stmt, 'fido-u2f');
    for (const k of m.keys())
      if (k !== 'x5c' && k !== 'sig')
        fail('ATTESTATION_MALFORMED', `fido-u2f attStmt has an unknown member ${JSON.stringify(k)}`);
    const sig = cborBytes(m.get('sig'), 'fido-u2f sig');
    // §8.6 step 2: exactly one certificate, with an EC P-256 key.
    const certs = readX5c(m.get('x5c'), 'fido-u2f', 1);
    const cert = certs[0]!;
    if (describeKey(cert.spki).keyAlgorithm !== 'ec-p256')
      fail('ATTESTATION_INVALID', 'the fido-u2f attestation certificate key is not EC P-256');
    const attested = requireAttested(authData, 'fido-u2f');
    const key = attested.publicKey;
    // §8.6 step 4: the credential key must be EC2 P-256 with 32-byte coordinates.
    if (key.kty !== 2 || key.crv !== 1 || key.x?.length !== 32 || key.y?.length !== 32)
      fail('ATTESTATION_INVALID', 'the fido-u2f credential key is not an EC2 P-256 key');
    const id = attested.credentialId;
    const data = new Uint8Array(1 + 32 + 32 + id.length + 65);
    data[0] = 0x00;
    data.set(authData.rpIdHash, 1);
    data.set(clientDataHash, 33);
    data.set(id, 65);
    data[65 + id.length] = 0x04;
    data.set(key.x, 66 + id.length);
    data.set(key.y, 98 + id.length);
    // §8.6 step 6: ECDSA P-256 with SHA-256, DER signature.
    if (!verifyCose(COSE_ALG.ES256, data, sig, cert.spki, { cache: ctx.keyCache }))
      fail('SIGNATURE_INVALID', 'fido-u2f attestation signature does not verify');
    // The browser builds authData for U2F devices: the signature does not cover its flags.
    return { attestationType: 'basic', trustPath: certs, flagsAttested: false };
  },
};
