/**
 * The `tcg-attest-tpm-certify` CSR attestation statement (2.23.133.20.1;
 * draft-ietf-lamps-csr-attestation, TCG arc; standards §7.1):
 *
 *   Tcg-csr-tpm-certify ::= SEQUENCE {
 *     tpmSAttest  OCTET STRING,           -- TPMS_ATTEST from TPM2_Certify
 *     signature   OCTET STRING,           -- TPMT_SIGNATURE by the AK
 *     tpmTPublic  OCTET STRING OPTIONAL } -- TPMT_PUBLIC of the certified key
 *
 * @example
 * const stmt = encodeTpmCertifyStatement({ tpmSAttest, signature, tpmTPublic });
 * decodeTpmCertifyStatement(stmt).tpmTPublic;   // Uint8Array | null
 */
import { children, expectTag, parseDer, readOctetString, TAG } from '../../core/der.js';
import { der } from '../../core/der-writer.js';
import { fail, isProvenanceError, ProvenanceError } from '../../core/errors.js';
import { TPM_LIMITS } from './structures.js';

/** The decoded statement; the TPM structures inside are still raw bytes (parse with structures.ts). */
export interface TpmCertifyStatement {
  readonly tpmSAttest: Uint8Array;
  readonly signature: Uint8Array;
  /** Absent in the statement ⇒ null (then the verifier cannot check attributes or Name: the format requires it). */
  readonly tpmTPublic: Uint8Array | null;
}

/** Encode the statement value (the `stmt` of an AttestationStatement). */
export function encodeTpmCertifyStatement(s: TpmCertifyStatement): Uint8Array {
  return der.seq(
    der.octets(s.tpmSAttest),
    der.octets(s.signature),
    ...(s.tpmTPublic === null ? [] : [der.octets(s.tpmTPublic)]),
  );
}

/** Decode the statement strictly; ATTESTATION_MALFORMED for any DER or size fault. */
export function decodeTpmCertifyStatement(stmt: Uint8Array): TpmCertifyStatement {
  try {
    // Three bounded TPM structures fit in well under 3 × 4 KiB.
    const seq = expectTag(
      parseDer(stmt, { maxBytes: 3 * TPM_LIMITS.structure + 64 }),
      TAG.SEQUENCE,
      'Tcg-csr-tpm-certify',
    );
    const parts = children(stmt, seq, [2, 3]);
    const field = (i: number, what: string): Uint8Array => {
      const v = readOctetString(stmt, parts[i]!, what);
      if (v.length === 0) fail('ATTESTATION_MALFORMED', `tcg-attest-tpm-certify: ${what} is empty`);
      if (v.length > TPM_LIMITS.structure)
        fail(
          'ATTESTATION_MALFORMED',
          `tcg-attest-tpm-certify: ${what} is ${v.length} bytes (limit ${TPM_LIMITS.structure})`,
        );
      return v.slice();
    };
    return {
      tpmSAttest: field(0, 'tpmSAttest'),
      signature: field(1, 'signature'),
      tpmTPublic: parts.length === 3 ? field(2, 'tpmTPublic') : null,
    };
  } catch (err) {
    if (isProvenanceError(err) && (err.code.startsWith('DER_') || err.code === 'INPUT_TOO_LARGE')) {
      throw new ProvenanceError(
        'ATTESTATION_MALFORMED',
        `tcg-attest-tpm-certify statement: ${err.message}`,
        err.details,
        { cause: err },
      );
    }
    throw err;
  }
}
