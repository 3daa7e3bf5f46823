/**
 * Object identifiers used across Provenance, with the spec that defines each.
 */

/** The project's arc: a UUID OID (X.667), see docs/architecture.md. */
export const PROVENANCE_ARC = '2.25.156565264789172030773416815740666489065';

export const OID = {
  // --- Provenance's own arc ---
  /** ProvenanceKeyAttestation extension in a certificate of provenance. */
  provenanceKeyAttestation: `${PROVENANCE_ARC}.1.1`,
  /** CSR attestation statement type for the native format. */
  provenanceStatementType: `${PROVENANCE_ARC}.2.1`,
  /** CSR attribute carrying the server nonce. */
  provenanceNonceAttribute: `${PROVENANCE_ARC}.2.2`,
  /** CSR attestation statement type for YubiKey PIV evidence (stmt: the slot, OCTET STRING (SIZE(1))). */
  yubikeyPivStatementType: `${PROVENANCE_ARC}.2.3`,
  /** CSR attestation statement type for a cloud HSM (Marvell) blob (stmt: OCTET STRING of the blob). */
  cloudHsmStatementType: `${PROVENANCE_ARC}.2.5`,
  /** Certificate-policy arc for assurance levels: `${PROVENANCE_ARC}.3.N`. */
  provenanceAssuranceArc: `${PROVENANCE_ARC}.3`,
  /** Issued-certificate provenance summary extension. */
  provenanceSummary: `${PROVENANCE_ARC}.4.1`,

  // --- draft-ietf-lamps-csr-attestation ---
  /** id-aa-attestation: PKCS#10 attribute carrying attestation statements. */
  csrAttestation: '1.2.840.113549.1.9.16.2.59',
  /** PKCS#9 extensionRequest. */
  extensionRequest: '1.2.840.113549.1.9.14',

  // --- TCG (TPM 2.0 Library; TCG EK Credential Profile; draft-ietf-lamps-csr-attestation §A) ---
  /** tcg-attest-tpm-certify: CSR attestation statement carrying TPM2_Certify output. */
  tcgAttestTpmCertify: '2.23.133.20.1',
  /** TPM manufacturer / model / version attributes of the TPM SAN directoryName. */
  tcgTpmManufacturer: '2.23.133.2.1',
  tcgTpmModel: '2.23.133.2.2',
  tcgTpmVersion: '2.23.133.2.3',
  /** EKU tcg-kp-EKCertificate. */
  tcgKpEkCertificate: '2.23.133.8.1',
  /** EKU tcg-kp-AIKCertificate. */
  tcgKpAikCertificate: '2.23.133.8.3',

  // --- algorithms (RFC 3279, RFC 4055, RFC 5480, RFC 5758, RFC 8410) ---
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  md5WithRSA: '1.2.840.113549.1.1.4',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA1: '1.2.840.10045.4.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  mgf1: '1.2.840.113549.1.1.8',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // named curves (RFC 5480 §2.1.1.1)
  p192: '1.2.840.10045.3.1.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  secp256k1: '1.3.132.0.10',

  // --- certificate extensions (RFC 5280 §4.2) ---
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  cRLReason: '2.5.29.21',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  anyPolicy: '2.5.29.32.0',
  anyExtendedKeyUsage: '2.5.29.37.0',

  // --- attribute types for names (X.520) ---
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  streetAddress: '2.5.4.9',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  title: '2.5.4.12',
  givenName: '2.5.4.42',
  domainComponent: '0.9.2342.19200300.100.1.25',
  emailAddress: '1.2.840.113549.1.9.1',
  userId: '0.9.2342.19200300.100.1.1',
} as const;

/** Short names for DN attribute types (RFC 4514 §3 plus common extras), for display. */
export const NAME_ATTRIBUTE_SHORT: Readonly<Record<string, string>> = {
  [OID.commonName]: 'CN',
  [OID.surname]: 'SN',
  [OID.serialNumber]: 'serialNumber',
  [OID.countryName]: 'C',
  [OID.localityName]: 'L',
  [OID.stateOrProvinceName]: 'ST',
  [OID.streetAddress]: 'STREET',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  [OID.title]: 'title',
  [OID.givenName]: 'GN',
  [OID.domainComponent]: 'DC',
  [OID.emailAddress]: 'emailAddress',
  [OID.userId]: 'UID',
};
