/**
 * Negative catalogue for the certificate parser: each test breaks one rule of X.690 DER or
 * RFC 5280 §4.1 in an otherwise valid certificate and asserts the stable error code.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.js';
import { walkDer } from '../../src/core/der.js';
import { concat, der, tlv } from '../../src/core/der-writer.js';
import { ProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import { MAX_CERTIFICATE_BYTES, parseCertificate } from '../../src/pki/certificate.js';
import {
  basicConstraints,
  buildCertificate,
  buildTbs,
  type CertificateParts,
  extension,
  keyUsage,
  outcome,
  testName,
  testSigner,
} from '../helpers/fuzz.js';

const h = (hex: string): Uint8Array => fromHex(hex.replace(/\s+/g, ''));
const signer = testSigner();
const build = (parts: CertificateParts = {}) => buildCertificate(signer, parts);
const parse = (bytes: Uint8Array) => outcome(() => parseCertificate(bytes));

/** The code of the error parseCertificate wrapped (CERT_MALFORMED keeps the DER fault as cause). */
function causeCode(bytes: Uint8Array): string | undefined {
  try {
    parseCertificate(bytes);
  } catch (err) {
    if (err instanceof ProvenanceError && err.cause instanceof ProvenanceError) return err.cause.code;
  }
  return undefined;
}

/** The content octets of a complete low-tag TLV. */
function contentOctets(encoded: Uint8Array): Uint8Array {
  return encoded.subarray(encoded[1]! < 0x80 ? 2 : 2 + (encoded[1]! & 0x7f));
}

/** Re-encode a complete low-tag TLV with the given length octets. */
function withLengthOctets(encoded: Uint8Array, lengthOctets: Uint8Array): Uint8Array {
  return concat([encoded.subarray(0, 1), lengthOctets, contentOctets(encoded)]);
}

/** `n` SEQUENCEs nested inside each other. */
function nestedSequences(n: number): Uint8Array {
  let inner: Uint8Array = der.seq();
  for (let i = 1; i < n; i++) inner = der.seq(inner);
  return inner;
}

describe('certificate negative catalogue', () => {
  it('parses the unbroken certificate these tests start from', () => {
    const cert = parseCertificate(build());
    expect(cert.version).toBe(3);
    expect(cert.basicConstraints).toEqual({ ca: true, pathLen: null });
    expect(cert.keyUsage).toBe((1 << 5) | (1 << 6));
    expect(cert.deviations).toEqual([]);
  });

  describe('encoding faults (X.690)', () => {
    it('rejects every truncation of a certificate with DER_TRUNCATED', () => {
      const bytes = build();
      for (let n = 0; n < bytes.length; n++) expect(parse(bytes.subarray(0, n))).toBe('DER_TRUNCATED');
    });

    it('rejects bytes after the certificate with DER_TRAILING_DATA', () => {
      const bytes = build();
      expect(parse(concat([bytes, h('00')]))).toBe('DER_TRAILING_DATA');
      expect(parse(concat([bytes, bytes]))).toBe('DER_TRAILING_DATA');
    });

    it('rejects an over-long DER element inside the TBSCertificate', () => {
      // The last TBS field claims three octets more than its parent holds.
      expect(parse(build({ extensionsField: h('a3 05 30 00') }))).toBe('DER_TRUNCATED');
    });

    it('rejects a length field claiming 2^31 bytes as truncated, without allocating it', () => {
      expect(parse(h('30 84 80 00 00 00 30 00'))).toBe('DER_TRUNCATED');
      expect(parse(h('30 84 ff ff ff ff 30 00'))).toBe('DER_TRUNCATED');
      const tbs = buildTbs(signer, { serial: h('02 84 80 00 00 00 05') });
      expect(parse(der.seq(tbs, signer.algorithm, der.bitString(h('00'))))).toBe('DER_TRUNCATED');
    });

    it('rejects a length field of more than four octets with DER_LIMIT_EXCEEDED', () => {
      expect(parse(h('30 85 01 00 00 00 00 30 00'))).toBe('DER_LIMIT_EXCEEDED');
    });

    it('rejects the indefinite length form, outside and inside', () => {
      const bytes = build();
      const indefinite = concat([h('30 80'), contentOctets(bytes), h('00 00')]);
      expect(parse(indefinite)).toBe('CERT_MALFORMED');
      expect(causeCode(indefinite)).toBe('DER_MALFORMED');
      const tbs = buildTbs(signer);
      const tbsIndefinite = concat([h('30 80'), contentOctets(tbs), h('00 00')]);
      const outer = der.seq(tbsIndefinite, signer.algorithm, der.bitString(h('00')));
      expect(parse(outer)).toBe('CERT_MALFORMED');
      expect(causeCode(outer)).toBe('DER_MALFORMED');
    });

    it('rejects non-minimal length octets, outside and inside', () => {
      const bytes = build();
      const contentLength = contentOctets(bytes).length;
      const padded = withLengthOctets(bytes, h(`83 00 ${contentLength.toString(16).padStart(4, '0')}`));
      expect(parse(padded)).toBe('CERT_MALFORMED');
      expect(causeCode(padded)).toBe('DER_MALFORMED');
      expect(parse(build({ serial: h('02 81 01 05') }))).toBe('CERT_MALFORMED');
    });

    it('rejects a non-minimal serial INTEGER', () => {
      expect(parse(build({ serial: h('02 02 00 05') }))).toBe('CERT_MALFORMED');
    });

    it('walkDer rejects 10 000 nested SEQUENCEs with DER_LIMIT_EXCEEDED', () => {
      expect(outcome(() => walkDer(nestedSequences(10_000)))).toBe('DER_LIMIT_EXCEEDED');
    });

    it('rejects 10 000 nested SEQUENCEs as a certificate without recursing', () => {
      const deep = nestedSequences(10_000);
      expect(deep.length).toBeLessThan(MAX_CERTIFICATE_BYTES);
      expect(parse(deep)).toBe('CERT_MALFORMED');
    });

    it('rejects nested junk in place of the issuer Name and the validity', () => {
      const junk = nestedSequences(5_000);
      expect(parse(build({ issuer: junk }))).toBe('CERT_MALFORMED');
      expect(parse(build({ validity: junk }))).toBe('CERT_MALFORMED');
      expect(parse(build({ spki: junk }))).toBe('CERT_MALFORMED');
    });

    it('refuses input over the size limit before parsing it', () => {
      expect(parse(new Uint8Array(MAX_CERTIFICATE_BYTES + 1))).toBe('INPUT_TOO_LARGE');
      const big = build({
        extensions: [extension('1.3.6.1.4.1.99999.1', der.octets(new Uint8Array(70_000)))],
      });
      expect(parse(big)).toBe('INPUT_TOO_LARGE');
      expect(parse(new Uint8Array(MAX_CERTIFICATE_BYTES))).not.toBe('INPUT_TOO_LARGE');
    });

    it('rejects a top level that is not a SEQUENCE of three', () => {
      const bytes = build();
      const set = Uint8Array.from(bytes);
      set[0] = 0x31;
      expect(parse(set)).toBe('CERT_MALFORMED');
      const tbs = buildTbs(signer);
      expect(parse(der.seq(tbs, signer.algorithm))).toBe('CERT_MALFORMED');
      expect(parse(der.seq(tbs, signer.algorithm, der.bitString(h('00')), der.null()))).toBe(
        'CERT_MALFORMED',
      );
    });
  });

  describe('version and field order (RFC 5280 §4.1.2.1, §4.1.2.8-9)', () => {
    it('parses a v1 certificate without extensions', () => {
      const cert = parseCertificate(build({ version: null, extensions: null }));
      expect(cert.version).toBe(1);
      expect(cert.extensions).toEqual([]);
    });

    it('rejects a v1 certificate with extensions', () => {
      expect(parse(build({ version: null }))).toBe('CERT_MALFORMED');
    });

    it('rejects a v2 certificate with extensions', () => {
      expect(parse(build({ version: der.explicit(0, der.int(1)) }))).toBe('CERT_MALFORMED');
    });

    it('rejects an explicitly encoded v1 version (a DEFAULT value, X.690 §11.5)', () => {
      expect(parse(build({ version: der.explicit(0, der.int(0)), extensions: null }))).toBe('CERT_MALFORMED');
    });

    it('rejects an unknown version', () => {
      expect(parse(build({ version: der.explicit(0, der.int(3)) }))).toBe('CERT_MALFORMED');
      expect(parse(build({ version: der.explicit(0, der.int(-1)) }))).toBe('CERT_MALFORMED');
    });

    it('rejects an empty extensions field', () => {
      expect(parse(build({ extensions: [] }))).toBe('CERT_MALFORMED');
    });

    it('accepts unique identifiers in v3 but not in v1, and only before extensions', () => {
      const ids = [der.implicitPrimitive(1, h('00 ab')), der.implicitPrimitive(2, h('00 cd'))];
      expect(parseCertificate(build({ uniqueIds: ids })).version).toBe(3);
      expect(parse(build({ version: null, extensions: null, uniqueIds: ids }))).toBe('CERT_MALFORMED');
      expect(parse(build({ uniqueIds: [ids[1]!, ids[0]!] }))).toBe('CERT_MALFORMED');
      const ext = der.explicit(3, der.seq(basicConstraints(true)));
      expect(parse(build({ extensionsField: concat([ext, ids[0]!]) }))).toBe('CERT_MALFORMED');
    });

    it('rejects unique identifiers that are not a primitive DER BIT STRING (X.690 §10.2)', () => {
      const constructed = tlv(0xa1, der.bitString(h('ab')));
      expect(parse(build({ uniqueIds: [constructed] }))).toBe('CERT_MALFORMED');
      expect(parse(build({ uniqueIds: [tlv(0xa2, der.bitString(h('ab')))] }))).toBe('CERT_MALFORMED');
      expect(parse(build({ uniqueIds: [h('81 00')] }))).toBe('CERT_MALFORMED');
      expect(parse(build({ uniqueIds: [h('82 02 08 00')] }))).toBe('CERT_MALFORMED');
      expect(parse(build({ uniqueIds: [h('81 02 01 01')] }))).toBe('CERT_MALFORMED');
    });

    it('rejects a TBSCertificate with missing or surplus fields', () => {
      const tbs = der.seq(der.explicit(0, der.int(2)), der.int(1), signer.algorithm, testName('x'));
      expect(parse(der.seq(tbs, signer.algorithm, der.bitString(h('00'))))).toBe('CERT_MALFORMED');
      const extra = Array.from({ length: 5 }, () => der.explicit(3, der.seq(basicConstraints(true))));
      expect(parse(build({ extensionsField: concat(extra) }))).toBe('CERT_MALFORMED');
    });
  });

  describe('serial, algorithms, names, validity, key', () => {
    it('accepts serials up to 64 octets and negative ones as real devices emit them', () => {
      expect(
        parseCertificate(build({ serial: der.uintBytes(new Uint8Array(64).fill(0x11)) })).serial,
      ).toHaveLength(64);
      expect(parseCertificate(build({ serial: der.int(-5) })).serialHex).toBe('fb');
    });

    it('rejects a serial longer than 64 octets', () => {
      expect(parse(build({ serial: der.uintBytes(new Uint8Array(65).fill(0x11)) }))).toBe('CERT_MALFORMED');
    });

    it('rejects an outer signature algorithm different from the TBS one (§4.1.1.2)', () => {
      const other = der.seq(der.oid(OID.ecdsaWithSHA384));
      expect(parse(build({ outerAlgorithm: other }))).toBe('CERT_MALFORMED');
    });

    it('rejects algorithm identifiers that differ only in parameters', () => {
      const withNull = der.seq(der.oid(OID.ecdsaWithSHA256), der.null());
      expect(parse(build({ outerAlgorithm: withNull }))).toBe('CERT_MALFORMED');
    });

    it('rejects a signature value with unused bits', () => {
      expect(parse(build({ signatureValue: der.bitString(h('ff f0'), 4) }))).toBe('CERT_MALFORMED');
    });

    it('rejects a public key BIT STRING with unused bits', () => {
      const spki = der.seq(der.seq(der.oid(OID.ed25519)), der.bitString(new Uint8Array(32), 1));
      expect(parse(build({ spki }))).toBe('KEY_MALFORMED');
    });

    it('rejects an empty RelativeDistinguishedName', () => {
      expect(parse(build({ subject: der.seq(der.setOf()) }))).toBe('CERT_MALFORMED');
    });

    it('rejects a PrintableString with a character outside its repertoire', () => {
      const bad = der.seq(der.setOf(der.seq(der.oid(OID.commonName), h('13 03 61 40 62'))));
      expect(parse(build({ subject: bad }))).toBe('CERT_MALFORMED');
    });

    it('rejects an impossible date and a time of the wrong type', () => {
      const feb30 = der.seq(
        h('17 0d 32 34 30 32 33 30 30 30 30 30 30 30 5a'),
        der.time(Date.UTC(2030, 0, 1)),
      );
      expect(parse(build({ validity: feb30 }))).toBe('CERT_MALFORMED');
      const printable = der.seq(der.printable('240101000000Z'), der.time(Date.UTC(2030, 0, 1)));
      expect(parse(build({ validity: printable }))).toBe('CERT_MALFORMED');
    });

    it('records GeneralizedTime before 2050 as a deviation instead of rejecting it', () => {
      const gen2030 = concat([h('18 0f'), new TextEncoder().encode('20300101000000Z')]);
      const cert = parseCertificate(build({ validity: der.seq(der.time(Date.UTC(2024, 0, 1)), gen2030) }));
      expect(cert.notAfter).toBe(Date.UTC(2030, 0, 1));
      expect(cert.deviations).toEqual(['generalized-time-before-2050']);
    });
  });

  describe('time choice (RFC 5280 §4.1.2.5)', () => {
    it('does not flag GeneralizedTime before 1950, which UTCTime cannot express', () => {
      const validity = der.seq(der.time(Date.UTC(1949, 11, 31)), der.time(Date.UTC(2050, 0, 1)));
      const cert = parseCertificate(build({ validity }));
      expect(cert.notBefore).toBe(Date.UTC(1949, 11, 31));
      expect(cert.deviations).toEqual([]);
    });
  });

  describe('extensions (RFC 5280 §4.2)', () => {
    it('rejects critical FALSE encoded explicitly (a DEFAULT value, X.690 §11.5)', () => {
      const ext = der.seq(der.oid(OID.keyUsage), der.bool(false), der.octets(der.namedBits([0])));
      expect(parse(build({ extensions: [ext] }))).toBe('CERT_MALFORMED');
    });

    it('rejects a BER-only BOOLEAN in the critical flag', () => {
      const ext = der.seq(der.oid(OID.keyUsage), h('01 01 01'), der.octets(der.namedBits([0])));
      expect(parse(build({ extensions: [ext] }))).toBe('CERT_MALFORMED');
    });

    it('rejects a BER-only BOOLEAN and an encoded FALSE in basicConstraints.cA', () => {
      const bad = extension(OID.basicConstraints, der.seq(h('01 01 01')), true);
      expect(parse(build({ extensions: [bad] }))).toBe('EXTENSION_MALFORMED');
      const falseCa = extension(OID.basicConstraints, der.seq(der.bool(false)), true);
      expect(parse(build({ extensions: [falseCa] }))).toBe('EXTENSION_MALFORMED');
    });

    it('rejects a negative pathLenConstraint', () => {
      expect(parse(build({ extensions: [basicConstraints(true, -1)] }))).toBe('EXTENSION_MALFORMED');
    });

    it('rejects a non-minimal or oversized pathLenConstraint', () => {
      const padded = extension(OID.basicConstraints, der.seq(der.bool(true), h('02 02 00 01')), true);
      expect(parse(build({ extensions: [padded] }))).toBe('EXTENSION_MALFORMED');
      const huge = extension(OID.basicConstraints, der.seq(der.bool(true), der.int(1n << 64n)), true);
      expect(parse(build({ extensions: [huge] }))).toBe('EXTENSION_MALFORMED');
    });

    it('rejects basicConstraints with fields out of order or extra', () => {
      const swapped = extension(OID.basicConstraints, der.seq(der.int(0), der.bool(true)), true);
      expect(parse(build({ extensions: [swapped] }))).toBe('EXTENSION_MALFORMED');
    });

    it('rejects an empty KeyUsage, with or without padding', () => {
      expect(parse(build({ extensions: [extension(OID.keyUsage, h('03 01 00'), true)] }))).toBe(
        'EXTENSION_MALFORMED',
      );
      expect(parse(build({ extensions: [extension(OID.keyUsage, h('03 02 07 00'), true)] }))).toBe(
        'EXTENSION_MALFORMED',
      );
    });

    it('rejects KeyUsage with non-zero padding bits or more than 9 bits', () => {
      expect(parse(build({ extensions: [extension(OID.keyUsage, h('03 02 07 81'), true)] }))).toBe(
        'EXTENSION_MALFORMED',
      );
      expect(parse(build({ extensions: [extension(OID.keyUsage, h('03 04 07 80 00 80'), true)] }))).toBe(
        'EXTENSION_MALFORMED',
      );
      expect(parseCertificate(build({ extensions: [keyUsage([8])] })).keyUsage).toBe(1 << 8);
    });

    it('rejects an extension value with bytes after its DER element', () => {
      const trailing = extension(OID.basicConstraints, concat([der.seq(der.bool(true)), h('00')]), true);
      expect(parse(build({ extensions: [trailing] }))).toBe('EXTENSION_MALFORMED');
    });

    it('rejects key identifiers of the wrong shape', () => {
      const ski = extension(OID.subjectKeyIdentifier, der.seq(der.octets(h('01'))));
      expect(parse(build({ extensions: [ski] }))).toBe('EXTENSION_MALFORMED');
      const constructedKeyId = extension(
        OID.authorityKeyIdentifier,
        der.seq(der.implicitConstructed(0, der.seq())),
      );
      expect(parse(build({ extensions: [constructedKeyId] }))).toBe('EXTENSION_MALFORMED');
      const outOfOrder = extension(
        OID.authorityKeyIdentifier,
        der.seq(der.implicitPrimitive(2, h('01')), der.implicitPrimitive(0, h('01'))),
      );
      expect(parse(build({ extensions: [outOfOrder] }))).toBe('EXTENSION_MALFORMED');
    });

    it('rejects an extension that is not SEQUENCE { OID, [BOOLEAN], OCTET STRING }', () => {
      const noValue = der.seq(der.oid(OID.keyUsage));
      expect(parse(build({ extensions: [noValue] }))).toBe('CERT_MALFORMED');
      const bitValue = der.seq(der.oid(OID.keyUsage), der.bitString(h('80')));
      expect(parse(build({ extensions: [bitValue] }))).toBe('CERT_MALFORMED');
    });

    it('keeps an unknown critical extension for the path validator to refuse', () => {
      const cert = parseCertificate(
        build({ extensions: [extension('1.3.6.1.4.1.99999.7', der.null(), true)] }),
      );
      expect(cert.extensions).toEqual([{ oid: '1.3.6.1.4.1.99999.7', critical: true, value: der.null() }]);
    });
  });
});
