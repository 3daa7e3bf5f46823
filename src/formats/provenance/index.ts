/**
 * The native format (`provenance`): a certificate of provenance — an X.509 certificate for the
 * new key, issued by the token's attestation key, carrying the ProvenanceKeyAttestation
 * extension — either alone with its chain (PEM bundle) or inside a CSR's attestation bundle.
 *
 * What this module checks (the rest is the shared pipeline: path, policy):
 * 1. Exactly one certificate of provenance in the evidence; its extension decodes strictly.
 * 2. Nonce: when the verifier expects one, the extension carries it (`NONCE_MISSING`) and it is
 *    equal, compared in constant time (`NONCE_MISMATCH`). A CSR's nonce attribute, when
 *    present, must equal the extension's (a relayed CSR cannot swap challenges).
 * 3. For a CSR: its signature verifies under its own key (proof of possession,
 *    `CSR_SIGNATURE_INVALID`) and that key is byte-for-byte the attested key (`KEY_MISMATCH`:
 *    key substitution).
 * The certificate of provenance is the leaf of the path: its issuer (the per-token or batch
 * attestation certificate) must be a CA with keyCertSign, which path validation enforces.
 *
 * @example
 * const result = provenanceFormat.verify(input, { expectedNonce });
 */
import { bytesEqual } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { type Certificate, decodeExtension, parseCertificate } from '../../pki/certificate.js';
import { verifyCsrSignature } from '../../pki/csr.js';
import { describeKey } from '../../pki/keys.js';
import type { AttestationFormat, Claims, EvidenceInput, FormatContext, FormatResult } from '../types.js';
import { decodeProvenanceKeyAttestation, type ProvenanceKeyAttestation } from './extension.js';

export const PROVENANCE_FORMAT_ID = 'provenance' as const;

/** Most certificates a native bundle may carry (certificate of provenance + chain). */
const MAX_BUNDLE_CERTIFICATES = 16;

function hasProvenanceExtension(cert: Certificate): boolean {
  return cert.extensions.some((e) => e.oid === OID.provenanceKeyAttestation);
}

/** The certificates of provenance carried by the input (CSR statements or bundle members). */
function candidates(input: EvidenceInput): { cop: Certificate[]; helpers: Certificate[] } {
  if (input.kind === 'csr') {
    const statements =
      input.csr.attestation?.statements.filter((s) => s.type === OID.provenanceStatementType) ?? [];
    const cop = statements.map((s) => parseCertificate(s.stmt));
    return { cop, helpers: [...(input.csr.attestation?.certificates ?? []), ...input.certificates] };
  }
  const cop = input.certificates.filter(hasProvenanceExtension);
  return { cop, helpers: input.certificates.filter((c) => !hasProvenanceExtension(c)) };
}

function claimsFrom(att: ProvenanceKeyAttestation, spki: Uint8Array): Claims {
  const key = describeKey(spki);
  const claims: Claims = {
    keyAlgorithm: key.keyAlgorithm,
    keySize: key.keySize,
    generatedOnDevice: att.keyOrigin === 'generated',
    nonExportable: !att.exportable,
    userPresence: att.userPresence,
    userVerification: att.userVerification,
  };
  if (att.token) {
    claims.model = att.token.model;
    if (att.token.serial !== undefined) claims.serial = att.token.serial;
    if (att.token.firmware !== undefined) claims.firmware = att.token.firmware;
  }
  return claims;
}

export const provenanceFormat: AttestationFormat = {
  id: PROVENANCE_FORMAT_ID,
  // Our own format has no legacy to excuse: its chains must follow RFC 5280 §4 as well as §6.
  pathOptions: { profile: 'strict' },

  detect(input: EvidenceInput): boolean {
    if (input.kind === 'csr') {
      return input.csr.attestation?.statements.some((s) => s.type === OID.provenanceStatementType) ?? false;
    }
    return input.certificates.some(hasProvenanceExtension);
  },

  verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
    const { cop: found, helpers } = candidates(input);
    if (found.length === 0) fail('ATTESTATION_MISSING', 'no certificate of provenance in the evidence');
    if (found.length > 1) {
      fail('ATTESTATION_MALFORMED', `${found.length} certificates of provenance in one evidence: ambiguous`, {
        count: found.length,
      });
    }
    if (helpers.length + 1 > MAX_BUNDLE_CERTIFICATES) {
      fail('DER_LIMIT_EXCEEDED', `more than ${MAX_BUNDLE_CERTIFICATES} certificates in the evidence`);
    }
    const cop = found[0]!;
    const ext = cop.extension(OID.provenanceKeyAttestation)!;
    const att = decodeExtension(ext, decodeProvenanceKeyAttestation);

    // Nonce binding: the verifier's challenge must be inside the signed attestation.
    if (ctx.expectedNonce !== undefined) {
      if (att.nonce === null) fail('NONCE_MISSING', 'the certificate of provenance carries no nonce');
      if (!bytesEqual(att.nonce, ctx.expectedNonce)) {
        fail('NONCE_MISMATCH', 'the attestation nonce differs from the expected challenge');
      }
    }

    let csrVerified = false;
    if (input.kind === 'csr') {
      const csr = input.csr;
      // Key substitution: the CSR must be for exactly the attested key (byte-exact SPKI).
      if (!bytesEqual(csr.spki, cop.spki)) {
        fail('KEY_MISMATCH', 'the CSR key is not the attested key', {
          csrKey: 'differs from the certificate of provenance',
        });
      }
      // Proof of possession (RFC 2986 §3): the CSR is signed by that key.
      verifyCsrSignature(csr);
      if (csr.nonce !== null && (att.nonce === null || !bytesEqual(csr.nonce, att.nonce))) {
        fail('NONCE_MISMATCH', 'the CSR nonce attribute differs from the nonce in the attestation');
      }
      csrVerified = true;
    }

    return {
      format: PROVENANCE_FORMAT_ID,
      attestedKey: cop.spki,
      signerChain: [cop, ...helpers],
      attestationCertificate: cop,
      claims: claimsFrom(att, cop.spki),
      freshness: att.nonce === null ? null : { nonce: att.nonce },
      freshnessKind:
        ctx.expectedNonce !== undefined && att.nonce !== null ? 'nonce' : csrVerified ? 'possession' : 'none',
      quirks: [],
      csrVerified,
    };
  },
};
