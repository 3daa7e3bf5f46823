/**
 * `packed` attestation (WebAuthn §8.2): `{alg, sig, x5c}` (basic / AttCA) or `{alg, sig}`
 * (self). With x5c the attestation certificate must meet §8.2.1; without it the credential
 * key signs its own registration, which proves nothing about the authenticator.
 *
 * @example
 * const r = packedStatement.verify(attStmt, authData, clientDataHash, { keyCache });
 */
import { fail } from '../../../core/errors.js';
import { OID } from '../../../core/oids.js';
import { type Certificate, nameAttribute } from '../../../pki/certificate.js';
import { type CborValue, cborBytes, cborInt } from '../cbor.js';
import { stmtMap } from '../containers.js';
import { coseAlgName, verifyCose } from '../cose.js';
import {
  checkAaguidExtension,
  FIDO_OID,
  firmwareVersion,
  readX5c,
  requireAttested,
  signedData,
} from '../helpers.js';
import type { AuthenticatorData, StatementContext, StatementResult, StatementVerifier } from '../types.js';

const KNOWN_MEMBERS = new Set(['alg', 'sig', 'x5c']);

/**
 * WebAuthn §8.2.1 packed attestation certificate requirements: X.509 v3; subject C, O,
 * OU = "Authenticator Attestation", CN; basicConstraints CA = false. Throws ATTESTATION_INVALID.
 */
export function checkPackedCertificate(cert: Certificate): void {
  const bad = (what: string): never =>
    fail('ATTESTATION_INVALID', `packed attestation certificate: ${what} (WebAuthn §8.2.1)`, {
      subject: cert.subject.text,
    });
  if (cert.version !== 3) bad('not X.509 v3');
  for (const [oid, label] of [
    [OID.countryName, 'C'],
    [OID.organizationName, 'O'],
    [OID.commonName, 'CN'],
  ] as const) {
    if (!nameAttribute(cert.subject, oid)) bad(`subject has no ${label}`);
  }
  if (nameAttribute(cert.subject, OID.organizationalUnitName) !== 'Authenticator Attestation')
    bad('subject OU is not "Authenticator Attestation"');
  if (cert.basicConstraints?.ca) bad('basicConstraints CA is true');
}

/** The packed statement verifier. */
export const packedStatement: StatementVerifier = {
  fmt: 'packed',
  verify(
    stmt: CborValue,
    authData: AuthenticatorData,
    clientDataHash: Uint8Array,
    ctx: StatementContext,
  ): StatementResult {
    const m = stmtMap(stmt, 'packed');
    for (const k of m.keys()) {
      if (k === 'ecdaaKeyId')
        fail('ALGORITHM_UNSUPPORTED', 'packed ECDAA attestation is not supported (removed in WebAuthn L2)');
      if (typeof k !== 'string' || !KNOWN_MEMBERS.has(k))
        fail('ATTESTATION_MALFORMED', `packed attStmt has an unknown member ${JSON.stringify(k)}`);
    }
    const alg = cborInt(m.get('alg'), 'packed alg');
    const sig = cborBytes(m.get('sig'), 'packed sig');
    const attested = requireAttested(authData, 'packed');
    const data = signedData(authData, clientDataHash);
    const x5c = m.get('x5c');
    if (x5c !== undefined) {
      const certs = readX5c(x5c, 'packed');
      const leaf = certs[0]!;
      // §8.2 step 2: sig over authData ‖ clientDataHash with the attestation certificate's key.
      if (!verifyCose(alg, data, sig, leaf.spki, { cache: ctx.keyCache }))
        fail('SIGNATURE_INVALID', `packed attestation signature (${coseAlgName(alg)}) does not verify`);
      checkPackedCertificate(leaf);
      // §8.2.1: a present AAGUID extension must equal authData's AAGUID.
      checkAaguidExtension(leaf, attested.aaguid);
      const fw = firmwareVersion(leaf);
      const enterprise = leaf.extension(FIDO_OID.serial) !== undefined;
      return {
        attestationType: 'basic',
        trustPath: certs,
        claims: {
          ...(fw === null ? {} : { firmware: String(fw) }),
          ...(enterprise ? { enterpriseAttestation: true } : {}),
        },
      };
    }
    // §8.2 step 3 (self attestation): alg must be the credential key's alg; the credential key signs.
    if (alg !== attested.publicKey.alg)
      fail(
        'ATTESTATION_INVALID',
        `packed self attestation alg ${coseAlgName(alg)} differs from the credential key's ${coseAlgName(attested.publicKey.alg)}`,
      );
    if (!verifyCose(alg, data, sig, attested.publicKey.spki, { cache: ctx.keyCache }))
      fail('SIGNATURE_INVALID', 'packed self attestation signature does not verify');
    return { attestationType: 'self', trustPath: [] };
  },
};
