/**
 * Cloud HSM evidence files (docs/cloud-hsm.md "Evidence files"):
 *
 * - Cloud KMS JSON: a `KeyOperationAttestation` `{ format, content, certChains: { caviumCerts,
 *   googleCardCerts, googlePartitionCerts } }` (content: base64 of the gzip'd blob; chains: PEM
 *   strings), or a CryptoKeyVersion that holds one in `attestation` (what
 *   `gcloud kms keys versions describe --format json` prints).
 * - PEM: one `MARVELL ATTESTATION` block (the blob, gzip'd or raw) and the CERTIFICATE blocks.
 *
 * @example
 * const input = decodeCloudHsmEvidence(readFileSync('key-version.json')); // null if not cloud HSM
 */
import { fail } from '../../core/errors.js';
import { decodePem, isPem } from '../../core/pem.js';
import { type Certificate, parseCertificate } from '../../pki/certificate.js';
import type { EvidenceInput } from '../types.js';

/** The PEM label of a Marvell attestation blob in a Provenance evidence bundle. */
export const MARVELL_PEM_LABEL = 'MARVELL ATTESTATION';

/** Cloud KMS attestation formats this verifier reads (KeyOperationAttestation.AttestationFormat). */
export const CLOUD_KMS_FORMATS: readonly string[] = ['CAVIUM_V1_COMPRESSED', 'CAVIUM_V2_COMPRESSED'];

const CHAIN_MEMBERS = ['caviumCerts', 'googleCardCerts', 'googlePartitionCerts'] as const;

/** Most certificates in one bundle. */
const MAX_CERTIFICATES = 16;

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function certificatesFromPemText(text: string): Certificate[] {
  return decodePem(text, MAX_CERTIFICATES + 1).map((b) => {
    if (b.label !== 'CERTIFICATE')
      fail('INPUT_UNRECOGNIZED', `unexpected PEM block "${b.label}" in a certificate chain`);
    return parseCertificate(b.der);
  });
}

/** The EvidenceInput for a parsed Cloud KMS JSON value, or null when it is not one. */
export function cloudHsmEvidenceFromJson(json: unknown): EvidenceInput | null {
  const top = obj(json);
  if (!top) return null;
  const att = obj(top['attestation']) ?? top;
  const chains = obj(att['certChains']);
  if (typeof att['content'] !== 'string' || !chains) return null;
  if (typeof att['format'] === 'string' && !CLOUD_KMS_FORMATS.includes(att['format'])) {
    fail('ATTESTATION_MALFORMED', `Cloud KMS attestation format ${att['format']} is not supported`, {
      format: att['format'],
    });
  }
  const certificates: Certificate[] = [];
  for (const member of CHAIN_MEMBERS) {
    const list = chains[member];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((p) => typeof p !== 'string'))
      fail('ATTESTATION_MALFORMED', `certChains.${member} must be a list of PEM strings`);
    for (const pem of list as string[]) certificates.push(...certificatesFromPemText(pem));
    if (certificates.length > MAX_CERTIFICATES)
      fail('DER_LIMIT_EXCEEDED', `more than ${MAX_CERTIFICATES} certificates in the Cloud KMS chains`);
  }
  // The blob stays base64 text: decodeAttestationBytes (blob.ts) checks and decodes it.
  return { kind: 'cloud-hsm', attestation: new TextEncoder().encode(att['content']), certificates };
}

/** Decode Cloud KMS JSON or a PEM bundle with a MARVELL ATTESTATION block; null for anything else. */
export function decodeCloudHsmEvidence(bytes: Uint8Array): EvidenceInput | null {
  const text = Buffer.from(bytes).toString('latin1');
  // JSON first: Cloud KMS JSON carries PEM armour inside its strings.
  if (text.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      return null; // not ours to judge: the next decoder reports malformed JSON
    }
    return cloudHsmEvidenceFromJson(json);
  }
  if (isPem(bytes)) {
    if (!text.includes(`-----BEGIN ${MARVELL_PEM_LABEL}-----`)) return null;
    const blocks = decodePem(text, MAX_CERTIFICATES + 2);
    const blobs = blocks.filter((b) => b.label === MARVELL_PEM_LABEL);
    if (blobs.length !== 1)
      fail('INPUT_UNRECOGNIZED', `${blobs.length} ${MARVELL_PEM_LABEL} blocks: expected one`);
    const certificates = blocks
      .filter((b) => b.label !== MARVELL_PEM_LABEL)
      .map((b) => {
        if (b.label !== 'CERTIFICATE')
          fail('INPUT_UNRECOGNIZED', `unexpected PEM block "${b.label}" next to a ${MARVELL_PEM_LABEL}`);
        return parseCertificate(b.der);
      });
    return { kind: 'cloud-hsm', attestation: blobs[0]!.der, certificates };
  }
  return null;
}
