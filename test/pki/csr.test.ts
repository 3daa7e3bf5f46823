import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extensions as AsnExtensions } from '@peculiar/asn1-x509';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { ProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import { encodePem } from '../../src/core/pem.js';
import { buildCertificate, deriveSubjectKeyId } from '../../src/pki/builder.js';
import {
  buildCsr,
  CSR_LIMITS,
  type CsrTemplate,
  isCsr,
  parseCsr,
  verifyCsrSignature,
} from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { type Signer, signerFromKeyObject } from '../../src/pki/signer.js';
import { needTool } from '../helpers/tools.js';

const hex = (b: Uint8Array | ArrayBuffer) =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
const code = (c: string, fragment = '') =>
  expect.objectContaining({ code: c, message: expect.stringContaining(fragment) });

const keySigner = signerFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const caSigner = signerFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const caName = encodeName('CN=Example Token Attestation,O=Example Maker');
const NONCE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const STMT = der.seq(der.octets(Uint8Array.of(1, 2, 3)), der.utf8('statement'));

function certificateFor(spki: Uint8Array, cn: string): Uint8Array {
  return buildCertificate({
    issuer: { name: caName, signer: caSigner, subjectKeyId: deriveSubjectKeyId(caSigner.spki) },
    subject: encodeName(`CN=${cn}`),
    spki,
    notBefore: Date.UTC(2025, 0, 1),
    notAfter: Date.UTC(2045, 0, 1),
    keyUsage: ['digitalSignature'],
  });
}
const helperCert = certificateFor(caSigner.spki, 'Helper');

function template(extra: Partial<CsrTemplate> = {}): CsrTemplate {
  return {
    subject: encodeName('CN=Alice,O=Example Bank'),
    signer: keySigner,
    attestation: {
      statements: [{ type: OID.provenanceStatementType, stmt: STMT }],
      certificates: [helperCert],
    },
    nonce: NONCE,
    extensions: [{ oid: OID.keyUsage, critical: true, value: der.namedBits([0]) }],
    ...extra,
  };
}

/** A CSR signed over hand-assembled attributes (and optionally other info fields). */
function handCsr(
  attributes: Uint8Array[],
  opts: { version?: Uint8Array; attrsField?: Uint8Array | null; signer?: Signer } = {},
): Uint8Array {
  const signer = opts.signer ?? keySigner;
  const attrsField =
    opts.attrsField === undefined ? der.implicitConstructed(0, der.setOf(...attributes)) : opts.attrsField;
  const info = der.seq(
    opts.version ?? der.int(0),
    encodeName('CN=Hand'),
    signer.spki,
    ...(attrsField === null ? [] : [attrsField]),
  );
  const { algorithm, signature } = signer.sign(info);
  return der.seq(info, algorithm, der.bitString(signature));
}

const attr = (type: string, ...values: Uint8Array[]) => der.seq(der.oid(type), der.setOf(...values));
const bundleAttr = (...bundleParts: Uint8Array[]) => attr(OID.csrAttestation, der.seq(...bundleParts));
const statement = (...parts: Uint8Array[]) => der.seq(der.oid(OID.provenanceStatementType), ...parts);

describe('buildCsr', () => {
  it('writes a request an independent ASN.1 library reads (PKCS#10, id-aa-attestation bundle)', () => {
    const bytes = buildCsr(template());
    const asn = AsnConvert.parse(bytes, CertificationRequest);
    const info = asn.certificationRequestInfo;
    expect(info.version).toBe(0);
    expect(hex(AsnConvert.serialize(info.subjectPKInfo))).toBe(hex(keySigner.spki));
    const attrs = new Map(info.attributes!.map((a) => [a.type, a.values]));
    expect(attrs.size).toBe(3);
    for (const values of attrs.values()) expect(values).toHaveLength(1);
    // The library misreads arcs above 2^53 (our UUID arc), so find the nonce attribute by elimination.
    const [nonceType] = [...attrs.keys()].filter(
      (t) => t !== OID.csrAttestation && t !== OID.extensionRequest,
    );
    expect(nonceType).toMatch(/^2\.25\./);
    // The current AttestationBundle shape: SEQUENCE { SEQUENCE OF { type, stmt }, certs }.
    const bundle = new Uint8Array(attrs.get(OID.csrAttestation)![0]!);
    expect(hex(bundle)).toBe(hex(der.seq(der.seq(statement(STMT)), der.seq(helperCert))));
    expect(hex(attrs.get(nonceType!)![0]!)).toBe(hex(der.octets(NONCE)));
    const exts = AsnConvert.parse(attrs.get(OID.extensionRequest)![0]!, AsnExtensions);
    expect(exts.map((e) => [e.extnID, e.critical])).toEqual([[OID.keyUsage, true]]);
  });

  it('is accepted by openssl req -verify', (ctx) => {
    needTool(ctx, 'openssl');
    const dir = mkdtempSync(join(tmpdir(), 'provenance-csr-'));
    try {
      writeFileSync(join(dir, 'req.pem'), encodePem('CERTIFICATE REQUEST', buildCsr(template())));
      const run = spawnSync('openssl', ['req', '-in', join(dir, 'req.pem'), '-noout', '-verify'], {
        encoding: 'utf8',
      });
      expect(run.status).toBe(0);
      expect(`${run.stdout}${run.stderr}`).toContain('verify OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes an empty attributes field and no bundle when there is nothing to carry', () => {
    const bytes = buildCsr({ subject: encodeName('CN=Bare'), signer: keySigner });
    const csr = parseCsr(bytes);
    expect([csr.attestation, csr.nonce, csr.extensions, csr.unknownAttributes]).toEqual([null, null, [], []]);
    expect(hex(csr.info).endsWith('a000')).toBe(true);
    const noCerts = parseCsr(
      buildCsr(
        template({ attestation: { statements: [{ type: '1.2.3', stmt: der.null() }], certificates: [] } }),
      ),
    );
    expect(noCerts.attestation).toEqual({
      statements: [{ type: '1.2.3', stmt: der.null() }],
      certificates: [],
    });
  });

  it('lints the template (USAGE naming the field)', () => {
    const usage = (f: string) => code('USAGE', f);
    expect(() => buildCsr(template({ attestation: { statements: [], certificates: [] } }))).toThrow(
      usage('statements is empty'),
    );
    const many = Array.from({ length: CSR_LIMITS.maxCertificates + 1 }, () => helperCert);
    expect(() =>
      buildCsr(
        template({ attestation: { statements: [{ type: '1.2.3', stmt: STMT }], certificates: many } }),
      ),
    ).toThrow(usage('more than 16'));
    expect(() => buildCsr(template({ nonce: new Uint8Array(7) }))).toThrow(
      usage('nonce must be 8..64 bytes'),
    );
    const ku = { oid: OID.keyUsage, critical: true, value: der.namedBits([0]) };
    expect(() => buildCsr(template({ extensions: [ku, ku] }))).toThrow(usage('appears twice'));
    expect(() =>
      buildCsr(
        template({
          attestation: { statements: [{ type: '1.2.3', stmt: Uint8Array.of(0x30, 5) }], certificates: [] },
        }),
      ),
    ).toThrow(usage('statements[0].stmt'));
    expect(() =>
      buildCsr(
        template({
          attestation: {
            statements: [{ type: '1.2.3', stmt: STMT }],
            certificates: [Uint8Array.of(0x30, 0)],
          },
        }),
      ),
    ).toThrow(usage('certificates[0]'));
    expect(() => buildCsr(template({ subject: Uint8Array.of(0x31, 0) }))).toThrow(usage('subject'));
  });
});

describe('parseCsr', () => {
  it('round-trips every field', () => {
    const bytes = buildCsr(template());
    const csr = parseCsr(bytes);
    expect(csr.der).toBe(bytes);
    expect(csr.subject.text).toBe('CN=Alice,O=Example Bank');
    expect(hex(csr.spki)).toBe(hex(keySigner.spki));
    expect(hex(csr.signatureAlgorithm.der)).toBe(hex(keySigner.algorithm));
    expect(csr.attestation!.statements).toEqual([{ type: OID.provenanceStatementType, stmt: STMT }]);
    expect(csr.attestation!.certificates.map((c) => c.subject.text)).toEqual(['CN=Helper']);
    expect(hex(csr.attestation!.certificates[0]!.der)).toBe(hex(helperCert));
    expect(csr.nonce).toEqual(NONCE);
    expect(csr.extensions).toEqual([{ oid: OID.keyUsage, critical: true, value: der.namedBits([0]) }]);
    expect(csr.unknownAttributes).toEqual([]);
    // info is exactly the signed bytes: the first element of the request.
    expect(hex(bytes)).toContain(hex(csr.info));
    expect(hex(der.seq(csr.info, csr.signatureAlgorithm.der, der.bitString(csr.signature)))).toBe(hex(bytes));
  });

  it('accepts the older EvidenceBundle shape with a hint, and reports the hint', () => {
    const csr = parseCsr(
      handCsr([bundleAttr(der.seq(statement(STMT, der.ia5('tpm.example')), statement(der.null())))]),
    );
    expect(csr.attestation!.statements).toEqual([
      { type: OID.provenanceStatementType, stmt: STMT, hint: 'tpm.example' },
      { type: OID.provenanceStatementType, stmt: der.null() },
    ]);
  });

  it('reports attributes it does not interpret without failing', () => {
    const challenge = attr('1.2.840.113549.1.9.7', der.printable('secret'));
    const csr = parseCsr(handCsr([challenge, attr('1.3.6.1.4.1.311.13.2.3', der.ia5('10.0'))]));
    expect([...csr.unknownAttributes].sort()).toEqual(['1.2.840.113549.1.9.7', '1.3.6.1.4.1.311.13.2.3']);
  });

  it('rejects a truncated request and trailing bytes', () => {
    const bytes = buildCsr(template());
    expect(() => parseCsr(bytes.subarray(0, bytes.length - 1))).toThrow(code('DER_TRUNCATED'));
    expect(() => parseCsr(bytes.subarray(0, 40))).toThrow(code('DER_TRUNCATED'));
    expect(() => parseCsr(Uint8Array.of(...bytes, 0))).toThrow(code('DER_TRAILING_DATA'));
    expect(() => parseCsr(new Uint8Array(0))).toThrow(code('DER_TRUNCATED'));
  });

  it('rejects a request larger than 64 KiB', () => {
    expect(() => parseCsr(new Uint8Array(CSR_LIMITS.maxBytes + 1))).toThrow(code('INPUT_TOO_LARGE'));
  });

  it('rejects a duplicate attribute', () => {
    const nonce = attr(OID.provenanceNonceAttribute, der.octets(NONCE));
    const other = attr(OID.provenanceNonceAttribute, der.octets(new Uint8Array(16)));
    expect(() => parseCsr(handCsr([nonce, other]))).toThrow(code('CSR_MALFORMED', 'appears twice'));
    const bundle = bundleAttr(der.seq(statement(STMT)));
    const bundle2 = bundleAttr(der.seq(statement(der.null())));
    expect(() => parseCsr(handCsr([bundle, bundle2]))).toThrow(
      code('CSR_MALFORMED', `${OID.csrAttestation} appears twice`),
    );
  });

  it('rejects an attribute with no value or with several values', () => {
    const two = attr(OID.provenanceNonceAttribute, der.octets(NONCE), der.octets(new Uint8Array(16)));
    expect(() => parseCsr(handCsr([two]))).toThrow(code('CSR_MALFORMED', 'exactly one value, found 2'));
    const none = der.seq(der.oid('1.2.840.113549.1.9.7'), der.setOf());
    expect(() => parseCsr(handCsr([none]))).toThrow(code('CSR_MALFORMED', 'found 0'));
  });

  it('rejects a version other than 0 and a missing attributes field', () => {
    expect(() => parseCsr(handCsr([], { version: der.int(1) }))).toThrow(code('CSR_MALFORMED', 'version 1'));
    expect(() => parseCsr(handCsr([], { attrsField: null }))).toThrow(code('CSR_MALFORMED'));
    expect(() => parseCsr(handCsr([], { attrsField: der.setOf() }))).toThrow(
      code('CSR_MALFORMED', 'attributes [0]'),
    );
  });

  it('rejects a nonce attribute of the wrong type or length', () => {
    expect(() =>
      parseCsr(handCsr([attr(OID.provenanceNonceAttribute, der.octets(new Uint8Array(4)))])),
    ).toThrow(code('CSR_MALFORMED', 'nonce must be 8..64 bytes, not 4'));
    expect(() => parseCsr(handCsr([attr(OID.provenanceNonceAttribute, der.utf8('0123456789'))]))).toThrow(
      code('CSR_MALFORMED', 'nonce'),
    );
  });

  it('rejects a malformed extensionRequest', () => {
    const dup = der.seq(der.oid(OID.keyUsage), der.octets(der.namedBits([0])));
    expect(() => parseCsr(handCsr([attr(OID.extensionRequest, der.seq(dup, dup))]))).toThrow(
      code('CSR_MALFORMED', 'duplicate'),
    );
    const critFalse = der.seq(der.oid(OID.keyUsage), der.bool(false), der.octets(der.namedBits([0])));
    expect(() => parseCsr(handCsr([attr(OID.extensionRequest, der.seq(critFalse))]))).toThrow(
      code('CSR_MALFORMED'),
    );
    expect(() => parseCsr(handCsr([attr(OID.extensionRequest, der.seq())]))).toThrow(
      code('CSR_MALFORMED', 'empty'),
    );
  });

  it('rejects a bundle with too many certificates or statements', () => {
    const certs = Array.from({ length: CSR_LIMITS.maxCertificates + 1 }, () => helperCert);
    expect(() => parseCsr(handCsr([bundleAttr(der.seq(statement(STMT)), der.seq(...certs))]))).toThrow(
      code('ATTESTATION_MALFORMED', 'more than 16 certificates'),
    );
    const statements = Array.from({ length: CSR_LIMITS.maxStatements + 1 }, () => statement(STMT));
    expect(() => parseCsr(handCsr([bundleAttr(der.seq(...statements))]))).toThrow(
      code('ATTESTATION_MALFORMED', 'more than 8 attestation statements'),
    );
    const sixteen = Array.from({ length: CSR_LIMITS.maxCertificates }, () => helperCert);
    expect(
      parseCsr(handCsr([bundleAttr(der.seq(statement(STMT)), der.seq(...sixteen))])).attestation!
        .certificates,
    ).toHaveLength(16);
  });

  it('rejects malformed bundles, naming the part', () => {
    const bad = (fragment: string, ...parts: Uint8Array[]) =>
      expect(() => parseCsr(handCsr([bundleAttr(...parts)]))).toThrow(
        code('ATTESTATION_MALFORMED', fragment),
      );
    bad('no attestation statement', der.seq());
    bad('certs is present but empty', der.seq(statement(STMT)), der.seq());
    bad('unexpected field after stmt', der.seq(statement(STMT, der.utf8('not a hint'))));
    bad(
      'OtherCertificateFormat',
      der.seq(statement(STMT)),
      der.seq(der.implicitConstructed(3, der.seq(der.oid('1.2.3'), der.null()))),
    );
    bad('certs[0]', der.seq(statement(STMT)), der.seq(der.seq(der.int(1))));
    bad('certs[1]', der.seq(statement(STMT)), der.seq(helperCert, der.octets(helperCert)));
    bad('attestations', der.seq(der.seq(der.oid('1.2.3'))));
    // stmt is ANY but must be DER: a constructed OCTET STRING is BER only.
    bad('must be primitive', der.seq(statement(Uint8Array.of(0x24, 0x03, 0x04, 0x01, 0x00))));
    bad('expected 1..2 elements', der.seq(statement(STMT)), der.seq(helperCert), der.null());
    expect(() => parseCsr(handCsr([attr(OID.csrAttestation, der.octets(STMT))]))).toThrow(
      code('ATTESTATION_MALFORMED', 'AttestationBundle'),
    );
  });

  it('never lets anything but a ProvenanceError escape on mutated or random input (property)', () => {
    const valid = buildCsr(template());
    const mutated = fc
      .tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.boolean())
      .map(([pos, byte, cut]) => {
        const b = Uint8Array.from(valid);
        b[pos] = byte;
        return cut ? b.subarray(0, pos + 1) : b;
      });
    const input = fc.oneof(mutated, mutated, fc.uint8Array({ maxLength: 200 }));
    fc.assert(
      fc.property(input, (bytes) => {
        const sniffed = isCsr(bytes);
        try {
          const csr = parseCsr(bytes);
          // Whatever the parser accepts, the sniff recognises (input detection never misroutes it).
          expect(sniffed).toBe(true);
          verifyCsrSignature(csr);
        } catch (err) {
          if (!(err instanceof ProvenanceError)) throw err;
        }
      }),
      { numRuns: 1500, seed: 0x5eed },
    );
  });
});

describe('verifyCsrSignature', () => {
  it('accepts requests signed by the key they carry, for each key type', () => {
    const keys = [
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
      generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
      generateKeyPairSync('ed25519').privateKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    ];
    for (const k of [keySigner, ...keys.map(signerFromKeyObject)]) {
      expect(() => verifyCsrSignature(parseCsr(buildCsr(template({ signer: k }))))).not.toThrow();
    }
  });

  it('rejects a flipped byte in the signature or in the signed info', () => {
    const bytes = buildCsr(template());
    const sigFlipped = Uint8Array.from(bytes);
    sigFlipped[sigFlipped.length - 5]! ^= 0x01;
    expect(() => verifyCsrSignature(parseCsr(sigFlipped))).toThrow(code('CSR_SIGNATURE_INVALID'));
    const subjectFlipped = Uint8Array.from(bytes);
    const at = Buffer.from(bytes).indexOf(Buffer.from('Alice'));
    subjectFlipped[at] = 'B'.charCodeAt(0);
    const csr = parseCsr(subjectFlipped);
    expect(csr.subject.text).toBe('CN=Blice,O=Example Bank');
    expect(() => verifyCsrSignature(csr)).toThrow(code('CSR_SIGNATURE_INVALID'));
  });

  it('rejects a request signed by another key than the one it carries', () => {
    const other = signerFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const impostor: Signer = { spki: keySigner.spki, algorithm: other.algorithm, sign: (d) => other.sign(d) };
    expect(() => verifyCsrSignature(parseCsr(buildCsr(template({ signer: impostor }))))).toThrow(
      code('CSR_SIGNATURE_INVALID'),
    );
  });

  it('rejects an algorithm that does not fit the key as CSR_SIGNATURE_INVALID', () => {
    const rsa = signerFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const mismatched: Signer = { spki: keySigner.spki, algorithm: rsa.algorithm, sign: (d) => rsa.sign(d) };
    expect(() => verifyCsrSignature(parseCsr(buildCsr(template({ signer: mismatched }))))).toThrow(
      code('CSR_SIGNATURE_INVALID'),
    );
  });

  it('refuses SHA-1 signatures by policy, and accepts them when the policy allows', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const base = signerFromKeyObject(privateKey);
    const alg = der.seq(der.oid(OID.ecdsaWithSHA1));
    const sha1: Signer = {
      spki: base.spki,
      algorithm: alg,
      sign: (d) => ({ algorithm: alg, signature: new Uint8Array(sign('sha1', d, privateKey)) }),
    };
    const csr = parseCsr(buildCsr(template({ signer: sha1 })));
    expect(() => verifyCsrSignature(csr)).toThrow(code('ALGORITHM_NOT_ALLOWED'));
    expect(() =>
      verifyCsrSignature(csr, { policy: { allowSha1: true, allowEcdsaNullParams: false } }),
    ).not.toThrow();
  });
});

describe('isCsr', () => {
  it('tells a request from a certificate and from garbage, without throwing', () => {
    const bytes = buildCsr(template());
    expect(isCsr(bytes)).toBe(true);
    expect(isCsr(helperCert)).toBe(false);
    expect(isCsr(bytes.subarray(0, bytes.length - 1))).toBe(false);
    expect(isCsr(Uint8Array.of(...bytes, 0))).toBe(false);
    expect(isCsr(new Uint8Array(0))).toBe(false);
    expect(isCsr(Uint8Array.of(0x30, 0x00))).toBe(false);
    expect(
      isCsr(der.seq(der.seq(der.int(0), der.seq(), der.seq()), der.seq(), der.bitString(new Uint8Array(1)))),
    ).toBe(false);
  });
});
