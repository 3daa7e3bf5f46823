/**
 * Raw TPM2_Certify evidence files (docs/tpm.md "Raw TPM blobs"): what tpm2-tools writes
 * (attest.out = TPMS_ATTEST, sig.out = TPMT_SIGNATURE, key.pub = TPM2B_PUBLIC) with the AK
 * certificate and its chain, as
 *
 * - a PEM bundle: exactly one `TPMS ATTEST`, one `TPMT SIGNATURE`, one `TPM2B PUBLIC` or
 *   `TPMT PUBLIC` block, and `CERTIFICATE` blocks in any order;
 * - a JSON file: `{"tpmCertify": {"attest", "signature", "public"} (base64), "certificates": [PEM…]}`.
 *
 * Decoding only splits the pieces; the `tpm` format parses and checks them strictly.
 *
 * @example
 * const input = tpmCertifyEvidenceFromPem(readFileSync('bundle.pem')); // null if no TPM blocks
 */
import { fail } from '../../core/errors.js';
import { decodePem, isPem, type PemBlock } from '../../core/pem.js';
import { type Certificate, parseCertificate } from '../../pki/certificate.js';
import type { EvidenceInput } from '../types.js';
import { TPM_LIMITS, unwrapTpm2bPublic } from './structures.js';

/** PEM labels of the TPM2_Certify pieces in a Provenance evidence bundle. */
export const TPM_PEM_LABELS = {
  attest: 'TPMS ATTEST',
  signature: 'TPMT SIGNATURE',
  tpm2bPublic: 'TPM2B PUBLIC',
  tpmtPublic: 'TPMT PUBLIC',
} as const;

const TPM_LABELS: ReadonlySet<string> = new Set(Object.values(TPM_PEM_LABELS));
const CERT_LABELS: ReadonlySet<string> = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

/** Most certificates in one bundle (AK certificate and chain). */
const MAX_CERTIFICATES = 16;
/** Largest TPM piece accepted before parsing (a TPM2B_PUBLIC adds its u16 size). */
const MAX_PIECE_BYTES = TPM_LIMITS.structure + 2;

type TpmCertifyInput = Extract<EvidenceInput, { kind: 'tpm-certify' }>;

function checkPiece(what: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) fail('INPUT_UNRECOGNIZED', `the ${what} is empty`);
  if (bytes.length > MAX_PIECE_BYTES)
    fail('INPUT_TOO_LARGE', `the ${what} exceeds ${MAX_PIECE_BYTES} bytes`, { limit: MAX_PIECE_BYTES });
  return bytes;
}

function checkCertificateCount(n: number): void {
  if (n > MAX_CERTIFICATES)
    fail('DER_LIMIT_EXCEEDED', `more than ${MAX_CERTIFICATES} certificates in the TPM evidence`, {
      limit: MAX_CERTIFICATES,
    });
}

/**
 * The EvidenceInput of a PEM bundle holding TPM2_Certify blocks, or null when it holds none
 * (then it is some other PEM evidence). A TPM block missing or repeated, or a block of another
 * kind, is INPUT_UNRECOGNIZED naming what is wrong.
 */
export function tpmCertifyEvidenceFromPem(bytes: Uint8Array): TpmCertifyInput | null {
  if (!isPem(bytes)) return null;
  const blocks = decodePem(Buffer.from(bytes).toString('latin1'), MAX_CERTIFICATES + 4);
  if (!blocks.some((b) => TPM_LABELS.has(b.label))) return null;
  const byLabel = (label: string): PemBlock[] => blocks.filter((b) => b.label === label);
  const attest = byLabel(TPM_PEM_LABELS.attest);
  const signature = byLabel(TPM_PEM_LABELS.signature);
  const publics = [...byLabel(TPM_PEM_LABELS.tpm2bPublic), ...byLabel(TPM_PEM_LABELS.tpmtPublic)];
  const problems: string[] = [];
  const need = (found: readonly PemBlock[], what: string) => {
    if (found.length === 0) problems.push(`no ${what} block`);
    else if (found.length > 1) problems.push(`${found.length} ${what} blocks`);
  };
  need(attest, `"${TPM_PEM_LABELS.attest}"`);
  need(signature, `"${TPM_PEM_LABELS.signature}"`);
  need(publics, `"${TPM_PEM_LABELS.tpm2bPublic}" or "${TPM_PEM_LABELS.tpmtPublic}"`);
  const other = blocks.find((b) => !TPM_LABELS.has(b.label) && !CERT_LABELS.has(b.label));
  if (other) problems.push(`an unexpected "${other.label}" block`);
  if (problems.length > 0)
    fail(
      'INPUT_UNRECOGNIZED',
      `TPM2_Certify evidence needs exactly one of each TPM block: ${problems.join(', ')} (docs/tpm.md)`,
      { problems },
    );
  const certs = blocks.filter((b) => CERT_LABELS.has(b.label));
  checkCertificateCount(certs.length);
  const pub = publics[0]!;
  const publicArea =
    pub.label === TPM_PEM_LABELS.tpm2bPublic
      ? unwrapTpm2bPublic(checkPiece('TPM2B_PUBLIC', pub.der))
      : checkPiece('TPMT_PUBLIC', pub.der);
  return {
    kind: 'tpm-certify',
    attest: checkPiece('TPMS_ATTEST', attest[0]!.der),
    signature: checkPiece('TPMT_SIGNATURE', signature[0]!.der),
    publicArea,
    certificates: certs.map((b) => parseCertificate(b.der)),
  };
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function base64Member(o: Record<string, unknown>, name: string): Uint8Array {
  const v = o[name];
  // Strict base64 (RFC 4648 §4): Buffer.from would silently skip invalid characters.
  if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
    fail('INPUT_UNRECOGNIZED', `tpmCertify.${name} must be a base64 string`);
  return checkPiece(`tpmCertify.${name}`, new Uint8Array(Buffer.from(v, 'base64')));
}

/**
 * A TPMT_PUBLIC, or a TPM2B_PUBLIC when its leading u16 equals the remaining length: a
 * TPMT_PUBLIC starts with its type (0x0001 RSA, 0x0023 ECC), never with its own length.
 */
function publicAreaOf(bytes: Uint8Array): Uint8Array {
  const wrapped = bytes.length >= 2 && ((bytes[0]! << 8) | bytes[1]!) === bytes.length - 2;
  return wrapped ? unwrapTpm2bPublic(bytes) : bytes;
}

/** The EvidenceInput for a parsed `{"tpmCertify": …, "certificates": […]}` JSON value, or null for other shapes. */
export function tpmCertifyEvidenceFromJson(json: unknown): TpmCertifyInput | null {
  const top = obj(json);
  const parts = top ? obj(top['tpmCertify']) : null;
  if (!top || !parts) return null;
  const list = top['certificates'] ?? [];
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string'))
    fail('INPUT_UNRECOGNIZED', 'certificates must be a list of PEM strings');
  const certificates: Certificate[] = [];
  for (const text of list as string[]) {
    for (const b of decodePem(text, MAX_CERTIFICATES + 1)) {
      if (!CERT_LABELS.has(b.label))
        fail('INPUT_UNRECOGNIZED', `unexpected PEM block "${b.label}" in certificates`);
      certificates.push(parseCertificate(b.der));
      checkCertificateCount(certificates.length);
    }
  }
  return {
    kind: 'tpm-certify',
    attest: base64Member(parts, 'attest'),
    signature: base64Member(parts, 'signature'),
    publicArea: publicAreaOf(base64Member(parts, 'public')),
    certificates,
  };
}
