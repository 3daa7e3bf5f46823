/**
 * Trust anchors: a key we trust (by SPKI SHA-256), optionally with the certificate it came from,
 * scoped to the evidence formats it may vouch for (an anchor for vendor A never validates B).
 *
 * @example
 * const anchor = anchorFromCertificate(parseCertificate(der), { id: 'gemalto', formats: ['provenance'] });
 */
import type { Certificate, Name } from './certificate.js';

export interface TrustAnchor {
  /** Stable id from the policy or the catalogue (e.g. 'gemalto', 'yubico-piv-root'). */
  readonly id: string;
  /** DER SubjectPublicKeyInfo of the anchor key. */
  readonly spki: Uint8Array;
  /** Hex SHA-256 of `spki`: the anchor's identity. */
  readonly spkiSha256: string;
  /** The anchor's name: certificates chain to it by issuer name as well as by signature. */
  readonly subject: Name;
  /** The certificate the anchor was configured from, when there is one. */
  readonly certificate: Certificate | null;
  /** Evidence formats this anchor may vouch for; 'any' only when the operator says so. */
  readonly formats: readonly string[] | 'any';
}

export function anchorFromCertificate(
  certificate: Certificate,
  options: { id: string; formats: readonly string[] | 'any' },
): TrustAnchor {
  return {
    id: options.id,
    spki: certificate.spki,
    spkiSha256: certificate.spkiSha256,
    subject: certificate.subject,
    certificate,
    formats: options.formats,
  };
}

/** The anchors that may vouch for `format`. */
export function anchorsForFormat(anchors: readonly TrustAnchor[], format: string): TrustAnchor[] {
  return anchors.filter((a) => a.formats === 'any' || a.formats.includes(format));
}
