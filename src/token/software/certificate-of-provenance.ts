/**
 * The certificate of provenance (docs/architecture.md, "The native format"): an X.509 v3
 * certificate issued by the token's attestation key whose subjectPublicKeyInfo is the attested
 * key, carrying the ProvenanceKeyAttestation extension.
 *
 * Choices, and why:
 * - Subject: the fixed `CN=Attested key`. The key's label is the user's data (it often names
 *   a person or a purpose) and the certificate goes to whoever asks for evidence, so the label
 *   never leaves the token. The verifier learns the key from the SPKI, the token from the chain.
 * - Validity: copied from the issuing attestation certificate (a token has no trustworthy
 *   clock); freshness comes from the nonce.
 * - Not a CA; keyUsage digitalSignature (token keys sign: CSRs, data). Serial: 128 random bits.
 * - Token info: model and firmware always; the serial only for per-token attestation (a batch
 *   key is shared so that a verifier cannot tell units apart: the serial would undo that).
 *
 * @example
 * const der = buildCertificateOfProvenance({ issuerKey, issuerCertificate, key, nonce, token });
 */

import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { fail } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import {
  encodeProvenanceKeyAttestation,
  PROVENANCE_NONCE_BYTES,
  type ProvenanceKeyAttestation,
} from '../../formats/provenance/extension.js';
import { buildCertificate } from '../../pki/builder.js';
import type { Certificate } from '../../pki/certificate.js';
import { encodeName } from '../../pki/name.js';
import { signerFromKeyObject } from '../../pki/signer.js';
import type { KeyInfo } from '../attester.js';
import type { AttestationKind } from './token-file.js';

/** Nonce bounds of the ProvenanceKeyAttestation extension (SIZE (8..64)). */
export const MIN_NONCE_BYTES = PROVENANCE_NONCE_BYTES.min;
/** Longest nonce a certificate of provenance carries. */
export const MAX_NONCE_BYTES = PROVENANCE_NONCE_BYTES.max;

/** The subject of every certificate of provenance (the label stays private; see above). */
export const ATTESTED_KEY_SUBJECT = 'CN=Attested key';

/** Throw USAGE unless the nonce is 8..64 bytes (ARCHITECTURE: `nonce [0] OCTET STRING (SIZE (8..64))`). */
export function checkNonce(nonce: Uint8Array): void {
  if (!(nonce instanceof Uint8Array) || nonce.length < MIN_NONCE_BYTES || nonce.length > MAX_NONCE_BYTES) {
    fail('USAGE', `the nonce must be ${MIN_NONCE_BYTES} to ${MAX_NONCE_BYTES} bytes`, {
      length: nonce instanceof Uint8Array ? nonce.length : null,
    });
  }
}

/** What `buildCertificateOfProvenance` needs: the token's attestation key and the attested key. */
export interface CertificateOfProvenanceInput {
  /** The token's attestation private key (per-token or batch). */
  readonly issuerKey: KeyObject;
  /** Its certificate: the issuer name, key id and validity come from here. */
  readonly issuerCertificate: Certificate;
  readonly attestationKind: AttestationKind;
  /** The attested key as the token's header lists it. */
  readonly key: KeyInfo;
  readonly nonce: Uint8Array;
  readonly token: { readonly model: string; readonly serial: string; readonly firmware: string };
}

/** The claims a software token makes about one of its keys. */
export function attestationFor(input: CertificateOfProvenanceInput): ProvenanceKeyAttestation {
  return {
    version: 1,
    nonce: input.nonce,
    // The software token only ever generates keys; import is not offered.
    keyOrigin: 'generated',
    // No API exports a private key (and the body is encrypted under the PIN).
    exportable: false,
    userPresence: input.key.touchPolicy,
    userVerification: input.key.pinPolicy,
    token:
      input.attestationKind === 'batch'
        ? { model: input.token.model, firmware: input.token.firmware }
        : { model: input.token.model, serial: input.token.serial, firmware: input.token.firmware },
  };
}

/** Build and sign the certificate of provenance; returns its DER. */
export function buildCertificateOfProvenance(input: CertificateOfProvenanceInput): Uint8Array {
  checkNonce(input.nonce);
  const issuer = input.issuerCertificate;
  const serial = new Uint8Array(randomBytes(16));
  serial[0] = serial[0]! & 0x7f || 0x01;
  return buildCertificate({
    issuer: {
      name: issuer.subject.der,
      signer: signerFromKeyObject(input.issuerKey),
      ...(issuer.subjectKeyId ? { subjectKeyId: issuer.subjectKeyId } : {}),
    },
    subject: encodeName(ATTESTED_KEY_SUBJECT),
    spki: input.key.spki,
    serial,
    // Tokens have no trustworthy clock: copy the issuer's validity (ARCHITECTURE.md).
    notBefore: issuer.notBefore,
    notAfter: issuer.notAfter,
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    extensions: [
      {
        oid: OID.provenanceKeyAttestation,
        critical: false,
        value: encodeProvenanceKeyAttestation(attestationFor(input)),
      },
    ],
  });
}
