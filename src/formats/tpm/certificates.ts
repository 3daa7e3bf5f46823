/**
 * TPM AK and EK certificate profiles (standards §2.4, §2.7): the TCG EK Credential Profile for
 * TPM 2.0 and the AK ("AIK") certificate profile WebAuthn §8.3.1 also requires. The TPM identity
 * lives in a subjectAltName directoryName (tpmManufacturer 2.23.133.2.1, tpmModel .2.2,
 * tpmVersion .2.3); the subject is usually empty, so the SAN is critical. Generic path
 * validation accepts a critical SAN; this module checks that its content is the TPM
 * directoryName and nothing else (the format declares 2.5.29.17 understood only because it
 * does this check).
 *
 * @example
 * const device = checkAkCertificate(akCert);   // { manufacturerId: 'id:53544D20', manufacturer: 'STMicroelectronics', ... }
 * inspectTpmCertificate(gceAkCert, 'ak').violations;   // ['ak-subject-not-empty', ...]: report, do not throw
 */
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { type Certificate, decodeExtension, parseExtKeyUsage } from '../../pki/certificate.js';
import { type GeneralName, parseGeneralNames } from '../../pki/general-names.js';

/** TCG vendor IDs (TPM_PT_MANUFACTURER as 8 hex digits) → vendor name (standards §2.4 table). */
export const TPM_VENDORS: Readonly<Record<string, string>> = {
  '414D4400': 'AMD',
  '41544D4C': 'Atmel',
  '4252434D': 'Broadcom',
  '524F4343': 'Fuzhou Rockchip',
  '474F4F47': 'Google',
  '48504500': 'HPE',
  '49424D00': 'IBM',
  '49465800': 'Infineon',
  '494E5443': 'Intel',
  '4C454E00': 'Lenovo',
  '4D534654': 'Microsoft',
  '4E534D20': 'National Semiconductor',
  '4E545A00': 'Nationz',
  '4E544300': 'Nuvoton',
  '51434F4D': 'Qualcomm',
  '534D5343': 'SMSC',
  '53544D20': 'STMicroelectronics',
  '534D534E': 'Samsung',
  '534E5300': 'Sinosun',
  '54584E00': 'Texas Instruments',
  '57454300': 'Winbond',
  // swtpm/libtpms reports IBM's PCI vendor id (standards §2.4 "swtpm quirk").
  '00001014': 'IBM (swtpm)',
};

/** The TPM identity from a TPM certificate's SAN directoryName. Display data unless an anchor vouches for it. */
export interface TpmDeviceInfo {
  /** As written: 'id:' + 8 hex digits (e.g. 'id:49465800'). */
  readonly manufacturerId: string;
  /** Vendor name from TPM_VENDORS, or null for an unknown id. */
  readonly manufacturer: string | null;
  readonly model: string;
  readonly version: string;
}

/** Which TCG profile a certificate is checked against. */
export type TpmCertificateKind = 'ak' | 'ek';

/** Profile check result: the device identity when the SAN yields one, and every violation found. */
export interface TpmProfileReport {
  readonly device: TpmDeviceInfo | null;
  /** Stable ids, e.g. 'ak-eku-missing', 'san-not-critical'; empty when the profile holds. */
  readonly violations: readonly string[];
}

/** Longest model/version string accepted (TCG: short vendor strings). */
const MAX_ATTRIBUTE_LENGTH = 128;

/** OID of HardwareModuleName (RFC 4108), which older EK profiles allowed next to the directoryName. */
const HARDWARE_MODULE_NAME = '1.3.6.1.5.5.7.8.4';

const TPM_ATTRIBUTE_TYPES: ReadonlySet<string> = new Set([
  OID.tcgTpmManufacturer,
  OID.tcgTpmModel,
  OID.tcgTpmVersion,
]);

/**
 * Decode the TPM directoryName of a SAN. Accepts the attributes as three single-valued RDNs
 * (EK Credential Profile) or one multi-valued RDN (seen in Windows AIK certificates); each
 * attribute exactly once, nothing else (TPM_CERT_PROFILE otherwise).
 */
export function parseTpmDirectoryName(name: GeneralName): TpmDeviceInfo {
  if (name.type !== 'directoryName')
    fail('TPM_CERT_PROFILE', `SAN entry is a ${name.type}, not a directoryName`);
  const values = new Map<string, string>();
  for (const rdn of name.name.rdns) {
    for (const atv of rdn) {
      if (!TPM_ATTRIBUTE_TYPES.has(atv.type))
        fail('TPM_CERT_PROFILE', `TPM SAN directoryName has a foreign attribute ${atv.type}`, {
          oid: atv.type,
        });
      if (values.has(atv.type)) fail('TPM_CERT_PROFILE', `TPM SAN attribute ${atv.type} appears twice`);
      // EK Credential Profile §3.1.2: UTF8String (PrintableString seen in older certificates).
      if (atv.valueTag !== 12 && atv.valueTag !== 19)
        fail('TPM_CERT_PROFILE', `TPM SAN attribute ${atv.type} is not a string`, { valueTag: atv.valueTag });
      if (atv.value.length === 0 || atv.value.length > MAX_ATTRIBUTE_LENGTH)
        fail('TPM_CERT_PROFILE', `TPM SAN attribute ${atv.type} has a length of ${atv.value.length}`);
      values.set(atv.type, atv.value);
    }
  }
  const manufacturerId = values.get(OID.tcgTpmManufacturer);
  const model = values.get(OID.tcgTpmModel);
  const version = values.get(OID.tcgTpmVersion);
  if (manufacturerId === undefined || model === undefined || version === undefined)
    fail('TPM_CERT_PROFILE', 'TPM SAN directoryName lacks tpmManufacturer, tpmModel or tpmVersion');
  const m = /^id:([0-9A-Fa-f]{8})$/.exec(manufacturerId);
  if (!m) fail('TPM_CERT_PROFILE', `tpmManufacturer "${manufacturerId}" is not "id:" + 8 hex digits`);
  return { manufacturerId, manufacturer: TPM_VENDORS[m[1]!.toUpperCase()] ?? null, model, version };
}

/**
 * Check the SAN of a TPM certificate: present, critical when the subject is empty (RFC 5280
 * §4.2.1.6), exactly one TPM directoryName and, for EK certificates only, optionally a
 * HardwareModuleName. Returns the identity; pushes violations.
 */
function inspectSan(cert: Certificate, kind: TpmCertificateKind, violations: string[]): TpmDeviceInfo | null {
  const ext = cert.extension(OID.subjectAltName);
  if (!ext) {
    violations.push('san-missing');
    return null;
  }
  if (cert.subject.rdns.length === 0 && !ext.critical) violations.push('san-not-critical');
  let names: GeneralName[];
  try {
    names = decodeExtension(ext, parseGeneralNames);
  } catch (err) {
    if (!isProvenanceError(err)) throw err;
    violations.push('san-malformed');
    return null;
  }
  let device: TpmDeviceInfo | null = null;
  for (const n of names) {
    if (n.type === 'directoryName' && device === null) {
      try {
        device = parseTpmDirectoryName(n);
      } catch (err) {
        if (!isProvenanceError(err)) throw err;
        violations.push('san-directory-name-invalid');
      }
    } else if (!(kind === 'ek' && n.type === 'otherName' && n.typeId === HARDWARE_MODULE_NAME)) {
      // A critical SAN we accept is one whose whole content we understood: anything else fails.
      violations.push('san-foreign-name');
    }
  }
  if (device === null && !violations.includes('san-directory-name-invalid'))
    violations.push('san-no-tpm-name');
  return device;
}

function extKeyUsages(cert: Certificate, violations: string[]): string[] | null {
  const ext = cert.extension(OID.extKeyUsage);
  if (!ext) return null;
  try {
    return decodeExtension(ext, parseExtKeyUsage);
  } catch (err) {
    if (!isProvenanceError(err)) throw err;
    violations.push('eku-malformed');
    return [];
  }
}

/** Check `cert` against the AK or EK profile without throwing: every violation is listed. */
export function inspectTpmCertificate(cert: Certificate, kind: TpmCertificateKind): TpmProfileReport {
  const violations: string[] = [];
  if (cert.version !== 3) violations.push('not-v3');
  // Both profiles: an end-entity certificate (basicConstraints cA FALSE or absent).
  if (cert.basicConstraints?.ca === true) violations.push(`${kind}-is-ca`);
  const device = inspectSan(cert, kind, violations);
  const ekus = extKeyUsages(cert, violations);
  if (kind === 'ak') {
    // WebAuthn §8.3.1 / TCG: empty subject, EKU tcg-kp-AIKCertificate.
    if (cert.subject.rdns.length !== 0) violations.push('ak-subject-not-empty');
    if (ekus === null || !ekus.includes(OID.tcgKpAikCertificate)) violations.push('ak-eku-missing');
  } else {
    // EK Credential Profile: EKU, when present, is tcg-kp-EKCertificate; keyUsage keyEncipherment
    // (RSA EK) or keyAgreement (ECC EK).
    if (ekus !== null && !ekus.includes(OID.tcgKpEkCertificate)) violations.push('ek-eku-wrong');
    const isEc = cert.publicKeyAlgorithm.oid === OID.ecPublicKey;
    if (cert.keyUsage === null) violations.push('ek-key-usage-missing');
    else if (!cert.allowsKeyUsage(isEc ? 'keyAgreement' : 'keyEncipherment'))
      violations.push('ek-key-usage-wrong');
  }
  return { device, violations };
}

function check(cert: Certificate, kind: TpmCertificateKind): TpmDeviceInfo {
  const { device, violations } = inspectTpmCertificate(cert, kind);
  if (violations.length > 0 || device === null) {
    fail(
      'TPM_CERT_PROFILE',
      `the ${kind.toUpperCase()} certificate violates its TCG profile: ${violations.join(', ')}`,
      {
        violations,
        subject: cert.subject.text,
      },
    );
  }
  return device;
}

/** Check an AK certificate (TCG / WebAuthn §8.3.1); throws TPM_CERT_PROFILE listing every violation. */
export function checkAkCertificate(cert: Certificate): TpmDeviceInfo {
  return check(cert, 'ak');
}

/** Check an EK certificate (TCG EK Credential Profile); throws TPM_CERT_PROFILE listing every violation. */
export function checkEkCertificate(cert: Certificate): TpmDeviceInfo {
  return check(cert, 'ek');
}
