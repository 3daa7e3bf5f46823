import { describe, expect, it } from 'vitest';
import { der, tlv } from '../../../src/core/der-writer.js';
import { OID } from '../../../src/core/oids.js';
import {
  checkEkCertificate,
  inspectTpmCertificate,
  parseTpmDirectoryName,
} from '../../../src/formats/tpm/certificates.js';
import { parseGeneralNames } from '../../../src/pki/general-names.js';
import { ecKey, issue } from '../../helpers/pki.js';
import { tpmDirectoryName, tpmPki } from './helpers.js';

const ca = issue({ subject: 'CA', key: ecKey(), ca: {} });
const atv = (oid: string, v: string) => der.seq(der.oid(oid), der.utf8(v));
const hardwareModuleName = tlv(
  0xa0,
  der.oid('1.3.6.1.5.5.7.8.4'),
  der.explicit(0, der.seq(der.oid('1.3.6.1.4.1.1'), der.octets(Uint8Array.of(1, 2)))),
);

function ek(sanNames: Uint8Array[], extra: { keyUsage?: 'keyAgreement' | 'digitalSignature' } = {}) {
  return issue({
    subject: der.seq(),
    key: ecKey(),
    issuer: ca,
    notCa: true,
    keyUsage: [extra.keyUsage ?? 'keyAgreement'],
    extKeyUsage: [OID.tcgKpEkCertificate],
    extensions: [{ oid: OID.subjectAltName, critical: true, value: der.seq(...sanNames) }],
  }).cert;
}

describe('TPM certificate profiles', () => {
  it('reads the three TPM attributes as single-valued RDNs or one multi-valued RDN', () => {
    const single = parseGeneralNames(der.seq(tpmDirectoryName('id:53544D20', 'ST33', 'id:00470004')))[0]!;
    const multi = parseGeneralNames(
      der.seq(
        tlv(
          0xa4,
          der.seq(
            der.setOf(
              atv(OID.tcgTpmManufacturer, 'id:53544D20'),
              atv(OID.tcgTpmModel, 'ST33'),
              atv(OID.tcgTpmVersion, 'id:00470004'),
            ),
          ),
        ),
      ),
    )[0]!;
    const want = {
      manufacturerId: 'id:53544D20',
      manufacturer: 'STMicroelectronics',
      model: 'ST33',
      version: 'id:00470004',
    };
    expect(parseTpmDirectoryName(single)).toEqual(want);
    expect(parseTpmDirectoryName(multi)).toEqual(want);
  });

  it('keeps an unknown vendor id as written, with no vendor name', () => {
    const n = parseGeneralNames(der.seq(tpmDirectoryName('id:12345678')))[0]!;
    expect(parseTpmDirectoryName(n).manufacturer).toBeNull();
  });

  it('refuses foreign or repeated attributes and a missing one', () => {
    const bad = [
      der.seq(der.setOf(atv(OID.tcgTpmManufacturer, 'id:49465800')), der.setOf(atv(OID.tcgTpmModel, 'x'))),
      der.seq(
        der.setOf(atv(OID.tcgTpmManufacturer, 'id:49465800')),
        der.setOf(atv(OID.tcgTpmModel, 'x')),
        der.setOf(atv(OID.tcgTpmVersion, 'y')),
        der.setOf(atv(OID.commonName, 'z')),
      ),
      der.seq(
        der.setOf(atv(OID.tcgTpmManufacturer, 'id:49465800')),
        der.setOf(atv(OID.tcgTpmManufacturer, 'id:49465800')),
        der.setOf(atv(OID.tcgTpmModel, 'x')),
        der.setOf(atv(OID.tcgTpmVersion, 'y')),
      ),
    ];
    for (const name of bad) {
      const n = parseGeneralNames(der.seq(tlv(0xa4, name)))[0]!;
      expect(() => parseTpmDirectoryName(n)).toThrow(expect.objectContaining({ code: 'TPM_CERT_PROFILE' }));
    }
  });

  it('EK profile: HardwareModuleName allowed next to the TPM name, a DNS name or a signing key usage not', () => {
    expect(checkEkCertificate(ek([tpmDirectoryName(), hardwareModuleName])).manufacturer).toBe('Infineon');
    expect(
      inspectTpmCertificate(ek([tpmDirectoryName(), tlv(0x82, new TextEncoder().encode('a.example'))]), 'ek')
        .violations,
    ).toEqual(['san-foreign-name']);
    expect(
      inspectTpmCertificate(ek([tpmDirectoryName()], { keyUsage: 'digitalSignature' }), 'ek').violations,
    ).toEqual(['ek-key-usage-wrong']);
    // The same HardwareModuleName in an AK certificate is a foreign name (WebAuthn §8.3.1: SHOULD NOT).
    expect(inspectTpmCertificate(ek([tpmDirectoryName(), hardwareModuleName]), 'ak').violations).toContain(
      'san-foreign-name',
    );
  });

  it('AK profile: a generated AK certificate passes; its faults are all listed', () => {
    expect(inspectTpmCertificate(tpmPki().akCert.cert, 'ak').violations).toEqual([]);
    const bad = tpmPki({ ak: { subject: 'AK', sanCritical: false, extKeyUsage: [OID.tcgKpEkCertificate] } });
    expect(inspectTpmCertificate(bad.akCert.cert, 'ak').violations).toEqual([
      'ak-subject-not-empty',
      'ak-eku-missing',
    ]);
    const noSanCritical = tpmPki({ ak: { sanCritical: false } });
    expect(inspectTpmCertificate(noSanCritical.akCert.cert, 'ak').violations).toEqual(['san-not-critical']);
  });
});
