/**
 * Evidence decoding: bytes (PEM bundle, DER certificate, DER or PEM CSR, WebAuthn JSON or
 * CBOR, App Attest JSON, Cloud KMS JSON or Marvell PEM, TPM2_Certify blobs as PEM or JSON)
 * → EvidenceInput. JSON and CBOR are parsed once and offered to each format's decoder in
 * turn. Strict and bounded: size limit, certificate count limit, known PEM labels only.
 *
 * @example
 * const input = decodeEvidence(fs.readFileSync('attestation.pem'));
 */
import { fail } from '../core/errors.js';
import { decodePem, isPem } from '../core/pem.js';
import { appAttestEvidenceFromJson } from '../formats/apple/input.js';
import { cloudHsmEvidenceFromJson, decodeCloudHsmEvidence } from '../formats/cloud-hsm/input.js';
import { tpmCertifyEvidenceFromJson, tpmCertifyEvidenceFromPem } from '../formats/tpm/input.js';
import type { EvidenceInput } from '../formats/types.js';
import { parseAttestationObject } from '../formats/webauthn/containers.js';
import { webauthnEvidenceFromAttestation, webauthnEvidenceFromJson } from '../formats/webauthn/input.js';
import { type Certificate, parseCertificate } from '../pki/certificate.js';
import { isCsr, type ParsedCsr, parseCsr } from '../pki/csr.js';

export const EVIDENCE_LIMITS = {
  /** Largest evidence accepted, in bytes. */
  maxBytes: 256 * 1024,
  /** Most certificates in one evidence bundle. */
  maxCertificates: 16,
} as const;

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** Decode evidence bytes. Throws ProvenanceError (input codes) when nothing usable is found. */
export function decodeEvidence(bytes: Uint8Array): EvidenceInput {
  if (bytes.length > EVIDENCE_LIMITS.maxBytes) {
    fail('INPUT_TOO_LARGE', `evidence of ${bytes.length} bytes exceeds ${EVIDENCE_LIMITS.maxBytes}`, {
      size: bytes.length,
      limit: EVIDENCE_LIMITS.maxBytes,
    });
  }
  if (bytes.length === 0) fail('INPUT_UNRECOGNIZED', 'the evidence is empty');
  const first = firstNonSpace(bytes);
  // JSON, parsed once: Cloud KMS attestation, App Attest file, WebAuthn registration or parts.
  if (first === 0x7b) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      return fail('INPUT_UNRECOGNIZED', 'the evidence starts like JSON but does not parse');
    }
    const fromJson =
      cloudHsmEvidenceFromJson(json) ??
      appAttestEvidenceFromJson(json) ??
      tpmCertifyEvidenceFromJson(json) ??
      webauthnEvidenceFromJson(json);
    if (fromJson) return fromJson;
    return fail(
      'INPUT_UNRECOGNIZED',
      'JSON evidence of no known shape (docs: webauthn.md, apple.md, cloud-hsm.md, tpm.md)',
    );
  }
  // CBOR map of three: a WebAuthn attestation object, parsed once (docs/webauthn.md).
  if (bytes[0] === 0xa3) {
    const attestation = parseAttestationObject(bytes);
    const input = webauthnEvidenceFromAttestation(attestation);
    if (input) return input;
    // App Attest objects need the App ID the relying party expects: say how to give it.
    return fail(
      'USAGE',
      `a "${attestation.fmt}" attestation object needs the App ID: wrap it in the JSON file of docs/apple.md`,
    );
  }
  // A PEM bundle with a MARVELL ATTESTATION block (Cloud HSM).
  const marvell = decodeCloudHsmEvidence(bytes);
  if (marvell) return marvell;
  // A PEM bundle with TPMS ATTEST / TPMT SIGNATURE / TPM2B PUBLIC blocks (tpm2-tools output).
  const tpmBlobs = tpmCertifyEvidenceFromPem(bytes);
  if (tpmBlobs) return tpmBlobs;
  if (isPem(bytes)) {
    const blocks = decodePem(Buffer.from(bytes).toString('latin1'), EVIDENCE_LIMITS.maxCertificates + 1);
    const certificates: Certificate[] = [];
    let csr: ParsedCsr | null = null;
    for (const block of blocks) {
      if (CERT_LABELS.has(block.label)) certificates.push(parseCertificate(block.der));
      else if (CSR_LABELS.has(block.label)) {
        if (csr) fail('INPUT_UNRECOGNIZED', 'more than one certification request in the evidence');
        csr = parseCsr(block.der);
      } else {
        fail(
          'INPUT_UNRECOGNIZED',
          `PEM block "${block.label}" is not evidence (expected CERTIFICATE or CERTIFICATE REQUEST)`,
          {
            label: block.label,
          },
        );
      }
    }
    checkCount(certificates.length);
    if (csr) return { kind: 'csr', csr, certificates };
    if (certificates.length === 0)
      fail('INPUT_UNRECOGNIZED', 'no certificate or certification request in the PEM input');
    return { kind: 'certificates', certificates };
  }
  if (bytes[0] !== 0x30) fail('INPUT_UNRECOGNIZED', 'the evidence is neither PEM nor a DER SEQUENCE');
  if (isCsr(bytes)) return { kind: 'csr', csr: parseCsr(bytes), certificates: [] };
  return { kind: 'certificates', certificates: [parseCertificate(bytes)] };
}

function checkCount(n: number): void {
  if (n > EVIDENCE_LIMITS.maxCertificates) {
    fail('DER_LIMIT_EXCEEDED', `more than ${EVIDENCE_LIMITS.maxCertificates} certificates in the evidence`, {
      limit: EVIDENCE_LIMITS.maxCertificates,
    });
  }
}

/** The first byte that is not JSON whitespace or a UTF-8 byte order mark, or -1. */
function firstNonSpace(bytes: Uint8Array): number {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return -1;
}
