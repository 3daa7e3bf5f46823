/**
 * What the service needs from its issuing CA: the CA itself (certificate, chain, key
 * provider), issuance, and CRLs. An interface so the app can be tested with a small fake
 * and so issuance can move behind another provider (an HSM) without touching the routes.
 *
 * @example
 * const issued = await ca.issue({ profile, subject: code.subject, spki: csr.spki, provenance, now });
 */
import type { IssuedCertificate, IssueRequest, IssuingCa, RevokedEntry } from '../ca/types.js';

/** The CRL to build: RFC 5280 §5, v2, with cRLNumber. */
export interface CrlRequest {
  readonly revoked: readonly RevokedEntry[];
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  readonly crlNumber: number;
}

/** The issuing CA as the service uses it. */
export interface ServiceCa {
  readonly issuing: IssuingCa;
  /** Lint, build and sign one certificate (crypto only: nothing is stored). */
  issue(request: Omit<IssueRequest, 'ca'>): Promise<IssuedCertificate>;
  /** Build and sign a CRL (DER). */
  crl(request: CrlRequest): Promise<Uint8Array>;
}
