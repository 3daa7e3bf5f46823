/**
 * The issuing CA: a key provider (an encrypted file now; PKCS#11 HSMs later), its certificate
 * and chain, certificate profiles, and issuance with the provenance of the key recorded in
 * the certificate.
 */
import type { Certificate } from '../pki/certificate.js';
import type { KeyCache } from '../pki/keys.js';
import type { Signer } from '../pki/signer.js';

/** Where the CA's private key lives. Private key bytes never leave a provider. */
export interface KeyProvider extends Signer {
  /** 'file' (encrypted PKCS#8), later 'pkcs11'. */
  readonly kind: string;
}

/** An issuing CA ready to sign: its certificate, its chain and its key provider (see openCa). */
export interface IssuingCa {
  readonly certificate: Certificate;
  /** The issuing CA certificate first, then up to (and including) the root. */
  readonly chain: readonly Certificate[];
  readonly key: KeyProvider;
  /** Decoded public keys for the check of each certificate after signing (openCa provides one). */
  readonly keyCache?: KeyCache;
}

/** One certificate profile from the service configuration. */
export interface CertificateProfile {
  readonly id: string;
  /** Validity of issued certificates, in days (clamped to the CA's own validity). */
  readonly validityDays: number;
  readonly keyUsage: readonly ('digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'keyAgreement')[];
  /** 'clientAuth' | 'emailProtection' | 'codeSigning' | 'documentSigning' or dotted OIDs. */
  readonly extendedKeyUsage: readonly string[];
  /**
   * Subject template: '{subject}' is the enrollment code's subject; other fixed RDNs may be
   * appended, e.g. '{subject},O=Example Bank'. Never filled from the CSR.
   */
  readonly subjectTemplate: string;
  /** Extra certificate-policy OIDs besides the assurance-level one. */
  readonly certificatePolicies: readonly string[];
  /** Put the device serial in the provenance summary (inventory use); off by default (privacy). */
  readonly includeDeviceSerial: boolean;
  /** CRL distribution point URL to write into certificates, if the service knows its public URL. */
  readonly crlUrl?: string;
}

/** Why this key was accepted: written into the certificate's provenance summary. */
export interface IssuanceProvenance {
  /** The allow rule that matched (or 'trusted-anchor' when the policy had none). */
  readonly ruleId: string;
  /** Assurance level of the rule: becomes certificate policy `${arc}.3.${level}`. Default 1. */
  readonly level: number;
  readonly format: string;
  /** Hex SHA-256 of the anchor's SPKI. */
  readonly anchorSpkiSha256: string;
  readonly policyDigest: string;
  /** Only used when the profile asks for it. */
  readonly deviceSerial?: string;
}

/** What issueCertificate needs for one certificate. */
export interface IssueRequest {
  readonly ca: IssuingCa;
  readonly profile: CertificateProfile;
  /** RFC 4514 subject from the enrollment code. */
  readonly subject: string;
  /** The CSR's (= the attested) SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  readonly provenance: IssuanceProvenance;
  readonly now: number;
  /** 16 random bytes by default (128-bit serial, positive). */
  readonly serial?: Uint8Array;
}

/** A signed, self-checked certificate. */
export interface IssuedCertificate {
  readonly der: Uint8Array;
  /** Lower-case hex, no sign pad. */
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly subject: string;
}

/** One revoked certificate, as the store keeps it (`reason`: a CRLReason name, see REVOCATION_REASONS). */
export interface RevokedEntry {
  readonly serial: string;
  readonly revokedAt: number;
  readonly reason: string;
}
