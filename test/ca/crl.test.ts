/**
 * The issuing CA's CRL: what buildCrl writes (RFC 5280 §5), read back by our strict parser, by
 * @peculiar/asn1-x509 and by `openssl crl -verify`, for P-256 and RSA-3072 CA keys.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList as AsnCertificateList } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCrl, REVOCATION_REASONS } from '../../src/ca/crl.js';
import type { OpenedCa } from '../../src/ca/directory.js';
import { issueCertificate } from '../../src/ca/issue.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCrl, verifyCrl } from '../../src/pki/crl.js';
import { needTool } from '../helpers/tools.js';
import { DAY, makeCa, NOW, request, tempDirs } from './fixtures.js';

const dirs = tempDirs();
let dir: string;
let ca: OpenedCa;

beforeAll(async () => {
  dir = await dirs.make();
  ca = await makeCa(dir);
});
afterAll(() => dirs.cleanup());

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return isProvenanceError(err) ? err.code : String(err);
  }
}

describe('buildCrl', () => {
  it('writes a v2 CRL with AKI and cRLNumber that parses and verifies against the CA', () => {
    const serials = [0, 1, 2].map(() => issueCertificate(request(ca)).serial);
    const der = buildCrl({
      ca,
      revoked: [
        { serial: serials[0]!, revokedAt: NOW - DAY, reason: 'keyCompromise' },
        { serial: serials[1]!, revokedAt: NOW - 2 * DAY, reason: 'unspecified' },
        { serial: serials[2]!, revokedAt: NOW - 3 * DAY, reason: 'cessationOfOperation' },
      ],
      thisUpdate: NOW,
      nextUpdate: NOW + 7 * DAY,
      crlNumber: 42,
    });
    const crl = parseCrl(der);
    verifyCrl(crl, ca.certificate, { time: NOW + DAY });
    expect(crl.version).toBe(2);
    expect(crl.issuer.der).toEqual(ca.certificate.subject.der);
    expect(crl.thisUpdate).toBe(NOW);
    expect(crl.nextUpdate).toBe(NOW + 7 * DAY);
    expect(crl.crlNumber).toBe(42n);
    expect(crl.authorityKeyId).toEqual(ca.certificate.subjectKeyId);
    expect(crl.extensions.every((e) => !e.critical)).toBe(true);
    expect(crl.revoked.map((r) => [r.serialHex, r.revocationDate, r.reason])).toEqual([
      [serials[0], NOW - DAY, 'keyCompromise'],
      // RFC 5280 §5.3.1: unspecified is expressed by leaving reasonCode out.
      [serials[1], NOW - 2 * DAY, null],
      [serials[2], NOW - 3 * DAY, 'cessationOfOperation'],
    ]);
    expect(crl.isRevoked(serials[0]!)?.reason).toBe('keyCompromise');
    expect(crl.isRevoked('01')).toBeUndefined();

    const asn = AsnConvert.parse(der, AsnCertificateList);
    expect(asn.tbsCertList.version).toBe(1);
    expect(asn.tbsCertList.revokedCertificates).toHaveLength(3);
    expect(asn.tbsCertList.crlExtensions?.map((e) => e.extnID)).toEqual([
      OID.authorityKeyIdentifier,
      OID.cRLNumber,
    ]);
  });

  it('leaves revokedCertificates out when nothing is revoked (RFC 5280 §5.1.2.6)', () => {
    const der = buildCrl({ ca, revoked: [], thisUpdate: NOW, nextUpdate: NOW + DAY, crlNumber: 1 });
    const crl = parseCrl(der);
    expect(crl.revoked).toEqual([]);
    expect(AsnConvert.parse(der, AsnCertificateList).tbsCertList.revokedCertificates).toBeUndefined();
    verifyCrl(crl, ca.certificate, { time: NOW });
  });

  it('encodes CRL numbers beyond 2^53 exactly', () => {
    const n = (1n << 100n) + 7n;
    expect(
      parseCrl(buildCrl({ ca, revoked: [], thisUpdate: NOW, nextUpdate: NOW + DAY, crlNumber: n })).crlNumber,
    ).toBe(n);
  });

  it('refuses unknown reasons, repeated or malformed serials, a reversed window and a bad CRL number (USAGE)', () => {
    const base = { ca, thisUpdate: NOW, nextUpdate: NOW + DAY, crlNumber: 1 };
    const entry = { serial: 'ab', revokedAt: NOW, reason: 'keyCompromise' };
    expect(code(() => buildCrl({ ...base, revoked: [{ ...entry, reason: 'stolen' }] }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [{ ...entry, reason: 'removeFromCRL' }] }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [{ ...entry, reason: 'certificateHold' }] }))).toBe(
      'USAGE',
    );
    expect(code(() => buildCrl({ ...base, revoked: [entry, entry] }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [{ ...entry, serial: 'AB' }] }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [{ ...entry, serial: '00' }] }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [{ ...entry, serial: 'a'.repeat(41) }] }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [], nextUpdate: NOW - 1000 }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [], crlNumber: -1 }))).toBe('USAGE');
    expect(code(() => buildCrl({ ...base, revoked: [], crlNumber: 1n << 160n }))).toBe('USAGE');
  });

  it('accepts every reason it offers, round trip', () => {
    const revoked = REVOCATION_REASONS.map((reason, i) => ({
      serial: (i + 1).toString(16),
      revokedAt: NOW,
      reason,
    }));
    const crl = parseCrl(buildCrl({ ca, revoked, thisUpdate: NOW, nextUpdate: NOW + DAY, crlNumber: 2 }));
    expect(crl.revoked.map((r) => r.reason ?? 'unspecified')).toEqual([...REVOCATION_REASONS]);
  });

  it('is accepted by `openssl crl -verify`, with an RSA-3072 CA too', async (ctx) => {
    needTool(ctx, 'openssl');
    const rsaDir = await dirs.make();
    const rsaCa = await makeCa(rsaDir, { alg: 'rsa3072' });
    for (const [caDir, authority] of [
      [dir, ca],
      [rsaDir, rsaCa],
    ] as const) {
      const leaf = parseCertificate(issueCertificate(request(authority)).der);
      const path = join(caDir, 'crl.der');
      writeFileSync(
        path,
        buildCrl({
          ca: authority,
          revoked: [{ serial: leaf.serialHex, revokedAt: NOW, reason: 'superseded' }],
          thisUpdate: NOW,
          nextUpdate: NOW + DAY,
          crlNumber: 3,
        }),
      );
      const result = spawnSync(
        'openssl',
        [
          'crl',
          '-inform',
          'DER',
          '-in',
          path,
          '-CAfile',
          join(caDir, 'ca', 'ca.pem'),
          '-noout',
          '-verify',
          '-text',
        ],
        { encoding: 'utf8' },
      );
      expect(result.stderr.trim()).toBe('verify OK');
      expect(result.stdout).toContain(`Serial Number: ${leaf.serialHex.toUpperCase()}`);
      expect(result.stdout).toContain('Superseded');
      expect(result.stdout).toMatch(/X509v3 CRL Number: \n\s+3/);
    }
  });
});
