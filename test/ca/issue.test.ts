/**
 * Issuance: what the issued certificate holds (checked by our parser, by Node's
 * X509Certificate, by @peculiar/asn1-x509 as an independent decoder, and by `openssl verify`),
 * the subject from the request only, the policy OID per level, the summary, validity clamping,
 * serial uniqueness over 10 000 issuances, and the throughput figure for docs/ca.md.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate as AsnCertificate,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
} from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedCa } from '../../src/ca/directory.js';
import { BACKDATE_MS, issueCertificate, planIssuance, randomSerial } from '../../src/ca/issue.js';
import { EXTENDED_KEY_USAGES } from '../../src/ca/profiles.js';
import { assuranceLevelOf, provenanceSummaryOf } from '../../src/ca/summary.js';
import { OID, PROVENANCE_ARC } from '../../src/core/oids.js';
import { encodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { buildCsr, parseCsr } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { parseCertificatePolicies } from '../../src/pki/policy-tree.js';
import { signerFromKeyObject } from '../../src/pki/signer.js';
import { needTool } from '../helpers/tools.js';
import { DAY, leafKey, makeCa, NOW, profile, provenance, request, tempDirs } from './fixtures.js';

const dirs = tempDirs();
let ca: OpenedCa;
let dir: string;

beforeAll(async () => {
  dir = await dirs.make();
  ca = await makeCa(dir);
});
afterAll(() => dirs.cleanup());

describe('issueCertificate', () => {
  it('issues a v3 certificate with the design extensions, read alike by three decoders', () => {
    const key = leafKey();
    const issued = issueCertificate(request(ca, { spki: key.spki }));
    const cert = parseCertificate(issued.der);
    expect(cert.version).toBe(3);
    expect(cert.issuer.der).toEqual(ca.certificate.subject.der);
    expect(cert.spki).toEqual(key.spki);
    expect(issued.serial).toBe(cert.serialHex);
    expect(issued.serial).toMatch(/^[0-9a-f]{32}$/);
    expect(cert.basicConstraints).toEqual({ ca: false, pathLen: null });
    expect(cert.extension(OID.basicConstraints)).toMatchObject({
      critical: true,
      value: Uint8Array.of(0x30, 0),
    });
    expect(cert.extension(OID.keyUsage)?.critical).toBe(true);
    expect(cert.allowsKeyUsage('digitalSignature')).toBe(true);
    expect(cert.allowsKeyUsage('keyEncipherment')).toBe(false);
    expect(cert.authorityKeyId).toEqual(ca.certificate.subjectKeyId);
    expect(cert.subjectKeyId).not.toBeNull();
    expect(cert.extension(OID.provenanceSummary)?.critical).toBe(false);

    // Node (OpenSSL) reads it and checks it was signed by the CA.
    const x509 = new X509Certificate(issued.der);
    expect(x509.verify(new X509Certificate(ca.certificate.der).publicKey)).toBe(true);
    expect(x509.checkIssued(new X509Certificate(ca.certificate.der))).toBe(true);
    expect(x509.ca).toBe(false);
    expect(x509.subject).toBe('O=Example Bank Customers\nCN=Alice Example');

    // @peculiar/asn1-x509, an independent decoder, agrees on each extension.
    const asn = AsnConvert.parse(issued.der, AsnCertificate);
    const ext = (oid: string) => asn.tbsCertificate.extensions?.find((e) => e.extnID === oid);
    const bc = AsnConvert.parse(ext(OID.basicConstraints)!.extnValue, BasicConstraints);
    expect(bc.cA).toBe(false);
    expect(bc.pathLenConstraint).toBeUndefined();
    const eku = AsnConvert.parse(ext(OID.extKeyUsage)!.extnValue, ExtendedKeyUsage);
    expect([...eku]).toEqual([EXTENDED_KEY_USAGES.clientAuth]);
    const aki = AsnConvert.parse(ext(OID.authorityKeyIdentifier)!.extnValue, AuthorityKeyIdentifier);
    expect(new Uint8Array(aki.keyIdentifier!.buffer)).toEqual(ca.certificate.subjectKeyId);
    // (asn1js prints arcs beyond 2^53 in hex, so the policy OID itself is compared below with ours.)
    expect(AsnConvert.parse(ext(OID.certificatePolicies)!.extnValue, CertificatePolicies)).toHaveLength(1);
    expect(parseCertificatePolicies(cert.extension(OID.certificatePolicies)!.value)).toEqual([
      `${PROVENANCE_ARC}.3.2`,
    ]);
    const dps = AsnConvert.parse(ext(OID.crlDistributionPoints)!.extnValue, CRLDistributionPoints);
    expect(dps[0]?.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier).toBe(
      'https://pki.example.com/api/v1/crl',
    );
  });

  it('is accepted by `openssl verify` up to the root, for a client-auth purpose', (ctx) => {
    needTool(ctx, 'openssl');
    const issued = issueCertificate(request(ca));
    const leaf = join(dir, 'leaf.pem');
    writeFileSync(leaf, encodePem('CERTIFICATE', issued.der));
    const result = spawnSync(
      'openssl',
      [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-attime',
        String(NOW / 1000),
        '-CAfile',
        join(dir, 'ca', 'root.pem'),
        '-untrusted',
        join(dir, 'ca', 'ca.pem'),
        leaf,
      ],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`${leaf}: OK`);
  });

  it('takes the subject from the request (the enrollment code), never from the CSR', () => {
    const key = leafKey();
    const csr = parseCsr(
      buildCsr({
        subject: encodeName('CN=Mallory,O=Example Bank'),
        signer: signerFromKeyObject(key.privateKey),
      }),
    );
    const issued = issueCertificate(
      request(ca, {
        spki: csr.spki,
        subject: 'CN=Alice Example',
        profile: profile({ subjectTemplate: '{subject},OU=Remote tokens,O=Example Bank' }),
      }),
    );
    const cert = parseCertificate(issued.der);
    expect(cert.subject.text).toBe('CN=Alice Example,OU=Remote tokens,O=Example Bank');
    expect(issued.subject).toBe(cert.subject.text);
    expect(cert.subject.text).not.toContain('Mallory');
  });

  it('names the assurance level of the accepting rule as the first certificate policy', () => {
    for (const level of [0, 1, 3, 255]) {
      const cert = parseCertificate(
        issueCertificate(
          request(ca, {
            provenance: provenance({ level }),
            profile: profile({ certificatePolicies: ['1.3.6.1.4.1.99999.1.7'] }),
          }),
        ).der,
      );
      expect(assuranceLevelOf(cert)).toBe(level);
      expect(parseCertificatePolicies(cert.extension(OID.certificatePolicies)!.value)).toEqual([
        `${PROVENANCE_ARC}.3.${level}`,
        '1.3.6.1.4.1.99999.1.7',
      ]);
    }
  });

  it('writes the provenance summary, with the device serial only when the profile keeps an inventory', () => {
    const without = provenanceSummaryOf(parseCertificate(issueCertificate(request(ca)).der));
    expect(without).toEqual({
      version: 1,
      ruleId: 'gemalto-cards',
      format: 'provenance',
      anchorSpkiSha256: 'ab'.repeat(32),
      policyDigest: 'cd'.repeat(32),
    });
    const withSerial = provenanceSummaryOf(
      parseCertificate(
        issueCertificate(request(ca, { profile: profile({ includeDeviceSerial: true }) })).der,
      ),
    );
    expect(withSerial?.deviceSerial).toBe('TOKEN-0042');
    // Asked for, but the verdict had no serial: nothing is invented.
    const none = provenanceSummaryOf(
      parseCertificate(
        issueCertificate(
          request(ca, {
            profile: profile({ includeDeviceSerial: true }),
            provenance: provenance({ deviceSerial: undefined as unknown as string }),
          }),
        ).der,
      ),
    );
    expect(none?.deviceSerial).toBeUndefined();
  });

  it('omits the CRL distribution point when the profile has no URL, and the EKU when it lists none', () => {
    const { crlUrl: _omit, ...base } = profile();
    const cert = parseCertificate(
      issueCertificate(request(ca, { profile: { ...base, extendedKeyUsage: [] } })).der,
    );
    expect(cert.extension(OID.crlDistributionPoints)).toBeUndefined();
    expect(cert.extension(OID.extKeyUsage)).toBeUndefined();
  });

  it('backdates five minutes and lasts validityDays, whole seconds', () => {
    const now = NOW + 1234;
    const issued = issueCertificate(request(ca, { now, profile: profile({ validityDays: 30 }) }));
    expect(issued.notBefore).toBe(Math.floor((now - BACKDATE_MS) / 1000) * 1000);
    expect(issued.notAfter).toBe(Math.floor((now + 30 * DAY) / 1000) * 1000);
  });

  it("clamps the validity into the CA's: never before its notBefore, never after its notAfter", () => {
    const fresh = issueCertificate(request(ca, { now: ca.certificate.notBefore + 1000 }));
    expect(fresh.notBefore).toBe(ca.certificate.notBefore);
    const late = ca.certificate.notAfter - 10 * DAY;
    const issued = issueCertificate(request(ca, { now: late, profile: profile({ validityDays: 365 }) }));
    expect(issued.notAfter).toBe(ca.certificate.notAfter);
  });

  it('issues for P-384, Ed25519 and RSA keys with key usages that fit them', () => {
    const cases = [
      ['p384', ['digitalSignature', 'keyAgreement']],
      ['ed25519', ['digitalSignature', 'nonRepudiation']],
      ['rsa2048', ['digitalSignature', 'keyEncipherment']],
    ] as const;
    for (const [kind, keyUsage] of cases) {
      const key = leafKey(kind);
      const cert = parseCertificate(
        issueCertificate(request(ca, { spki: key.spki, profile: profile({ keyUsage }) })).der,
      );
      for (const usage of keyUsage) expect(cert.allowsKeyUsage(usage)).toBe(true);
      expect(cert.spki).toEqual(key.spki);
    }
  });

  it('draws 128-bit positive serials: 16 bytes, first byte non-zero', () => {
    for (let i = 0; i < 1000; i++) {
      const s = randomSerial();
      expect(s.length).toBe(16);
      expect(s[0]).not.toBe(0);
    }
    expect(planIssuance(request(ca)).serial).toHaveLength(16);
  });

  it('never repeats a serial over 10 000 issuances (and reports the issuance rate)', () => {
    const req = request(ca);
    const serials = new Set<string>();
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) serials.add(issueCertificate(req).serial);
    const seconds = (performance.now() - started) / 1000;
    expect(serials.size).toBe(10_000);
    console.log(
      `issuance throughput, P-256 issuing key: ${Math.round(10_000 / seconds)} certificates/s (${((seconds * 1e6) / 10_000).toFixed(0)} µs each, lint and self-check included)`,
    );
  });
});
