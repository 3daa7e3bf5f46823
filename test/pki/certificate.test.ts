import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { parseCertificate, parseName, readTlv } from '../../src/pki/certificate.js';

function selfSigned(extra: Uint8Array[] = []): Uint8Array {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const name = der.seq(der.setOf(der.seq(der.oid(OID.commonName), der.utf8('Test Root'))));
  const alg = der.seq(der.oid(OID.ecdsaWithSHA256));
  const tbs = der.seq(
    der.explicit(0, der.int(2)),
    der.int(12345),
    alg,
    name,
    der.seq(der.time(Date.UTC(2024, 0, 1)), der.time(Date.UTC(2034, 0, 1))),
    name,
    spki,
    der.explicit(
      3,
      der.seq(
        der.seq(der.oid(OID.basicConstraints), der.bool(true), der.octets(der.seq(der.bool(true)))),
        ...extra,
      ),
    ),
  );
  const sig = sign('sha256', tbs, privateKey);
  return der.seq(tbs, alg, der.bitString(new Uint8Array(sig)));
}

describe('parseCertificate', () => {
  it('reads the fields Node reads, from a certificate built at test time', () => {
    const bytes = selfSigned();
    const cert = parseCertificate(bytes);
    const x = new X509Certificate(bytes);
    expect(cert.subject.text).toBe('CN=Test Root');
    expect(cert.serialHex).toBe('3039');
    expect(cert.basicConstraints).toEqual({ ca: true, pathLen: null });
    expect(cert.notAfter).toBe(Date.parse(x.validTo));
    expect(x.verify(x.publicKey)).toBe(true);
  });

  it('rejects trailing bytes after the certificate', () => {
    const bytes = selfSigned();
    const padded = new Uint8Array([...bytes, 0]);
    expect(() => parseCertificate(padded)).toThrow(expect.objectContaining({ code: 'DER_TRAILING_DATA' }));
  });

  it('rejects a duplicated extension', () => {
    const dup = der.seq(der.oid(OID.basicConstraints), der.bool(true), der.octets(der.seq(der.bool(true))));
    expect(() => parseCertificate(selfSigned([dup]))).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
  });
});

describe('formatName', () => {
  it('escapes a text value that starts with "#" and shows only non-string values as #hex', () => {
    const text = der.seq(der.setOf(der.seq(der.oid(OID.commonName), der.utf8('#tag'))));
    const binary = der.seq(der.setOf(der.seq(der.oid(OID.commonName), der.octets(Uint8Array.of(1, 2)))));
    expect(parseName(text, readTlv(text, 0)).text).toBe('CN=\\#tag');
    expect(parseName(binary, readTlv(binary, 0)).text).toBe('CN=#04020102');
  });
});
