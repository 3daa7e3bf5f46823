/**
 * Conformance of the certificate parser over the real certificates in ../shared/vectors
 * (YubiKey, TPM, Android, Apple, FIDO, cloud HSM): every one parses, and what it reads agrees
 * with Node's X509Certificate (OpenSSL) and, for names, with @peculiar/asn1-x509 as an
 * independent oracle. Certificates that carry `deviations` are listed and pinned.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name as AsnName } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { children, parseDer, TAG } from '../../src/core/der.js';
import { decodePem, isPem } from '../../src/core/pem.js';
import {
  type Certificate,
  MAX_CERTIFICATE_BYTES,
  type Name,
  parseCertificate,
} from '../../src/pki/certificate.js';
import { outcome } from '../helpers/fuzz.js';

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
const present = existsSync(VECTORS);
const inCi = process.env['CI'] === 'true';
if (!present) {
  console.warn(`certificate conformance: ${VECTORS} is absent (the shared vectors are not checked out)`);
}

/** Files whose PEM blocks labelled CERTIFICATE (or whose DER) are certificates. */
const CERTIFICATE_FILE = /\.(pem|crt|cer|der)$/i;

/** Certificates Node 20 (OpenSSL 3.0) cannot decode the key of: ML-DSA (FIPS 204) only. */
const NODE_UNSUPPORTED_KEYS = new Set([
  '2.16.840.1.101.3.4.3.17',
  '2.16.840.1.101.3.4.3.18',
  '2.16.840.1.101.3.4.3.19',
]);

/**
 * The certificates known to carry deviations, by file and block index. A change here means
 * the parser's tolerance changed: update it deliberately.
 */
const EXPECTED_DEVIATIONS: Record<string, readonly string[]> = {
  // notAfter 2049 written as GeneralizedTime (RFC 5280 §4.1.2.5 wants UTCTime through 2049).
  'tpm/keylime-tpm_cert_store/Alibaba_Cloud_vTPM_EK.pem#0': ['generalized-time-before-2050'],
};

interface VectorFile {
  readonly rel: string;
  readonly certificates: readonly Uint8Array[];
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/**
 * Judged by shape only: Certificate ::= SEQUENCE { TBSCertificate, AlgorithmIdentifier,
 * BIT STRING } whose TBS holds [0]? INTEGER, then five SEQUENCEs (signature, issuer, validity,
 * subject, SPKI). A CRL has the same outer shape but a time where the validity would be.
 */
function looksLikeCertificate(bytes: Uint8Array): boolean {
  if (bytes.length > MAX_CERTIFICATE_BYTES || bytes[0] !== TAG.SEQUENCE) return false;
  try {
    const top = children(bytes, parseDer(bytes));
    if (top.length !== 3 || top[0]!.tag !== TAG.SEQUENCE || top[2]!.tag !== TAG.BIT_STRING) return false;
    const fields = children(bytes, top[0]!);
    const i = fields[0]?.tag === 0xa0 ? 1 : 0;
    return (
      fields[i]?.tag === TAG.INTEGER &&
      fields.slice(i + 1, i + 6).filter((f) => f.tag === TAG.SEQUENCE).length === 5
    );
  } catch {
    return false;
  }
}

function collect(): VectorFile[] {
  const files: VectorFile[] = [];
  for (const path of walk(VECTORS)) {
    const rel = relative(VECTORS, path).split('\\').join('/');
    const bytes = new Uint8Array(readFileSync(path));
    if (CERTIFICATE_FILE.test(path)) {
      const certificates = isPem(bytes)
        ? decodePem(Buffer.from(bytes).toString('latin1'))
            .filter((b) => b.label === 'CERTIFICATE')
            .map((b) => b.der)
        : [bytes];
      if (certificates.length > 0) files.push({ rel, certificates });
    } else if (!isPem(bytes) && looksLikeCertificate(bytes)) {
      files.push({ rel, certificates: [bytes] });
    }
  }
  return files;
}

/** Name as (type, string value) pairs per RDN; values of non-string types are left out. */
function ourAttributes(name: Name): { type: string; value?: string }[][] {
  return name.rdns.map((rdn) =>
    rdn.map((a) =>
      [12, 19, 22, 30].includes(a.valueTag) ? { type: a.type, value: a.value } : { type: a.type },
    ),
  );
}

/** The same pairs from @peculiar/asn1-x509's independent decoding of the Name bytes. */
function oracleAttributes(der: Uint8Array, ours: Name): { type: string; value?: string }[][] {
  const parsed = AsnConvert.parse(der, AsnName);
  return parsed.map((rdn, i) =>
    rdn.map((atv, j) => {
      const v = atv.value;
      const value = v.utf8String ?? v.printableString ?? v.ia5String ?? v.bmpString;
      return [12, 19, 22, 30].includes(ours.rdns[i]?.[j]?.valueTag ?? -1) && value !== undefined
        ? { type: atv.type, value }
        : { type: atv.type };
    }),
  );
}

/** Compare one certificate with Node's reading of the same bytes. */
function compareWithNode(cert: Certificate, der: Uint8Array): void {
  const x = new X509Certificate(der);
  expect(cert.fingerprintSha256).toBe(x.fingerprint256.replaceAll(':', '').toLowerCase());
  expect(cert.serialHex).toBe(x.serialNumber.toLowerCase());
  expect(cert.notBefore).toBe(Date.parse(x.validFrom));
  expect(cert.notAfter).toBe(Date.parse(x.validTo));
  expect(cert.basicConstraints?.ca === true).toBe(x.ca);
  expect(cert.subject.rdns.length === 0).toBe(!x.subject);
  expect(cert.issuer.rdns.length === 0).toBe(!x.issuer);
  let nodeSpki: Buffer | undefined;
  try {
    nodeSpki = x.publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    expect(NODE_UNSUPPORTED_KEYS).toContain(cert.publicKeyAlgorithm.oid);
  }
  if (nodeSpki) expect(Buffer.from(cert.spki).equals(nodeSpki)).toBe(true);
  expect(ourAttributes(cert.subject)).toEqual(oracleAttributes(cert.subject.der, cert.subject));
  expect(ourAttributes(cert.issuer)).toEqual(oracleAttributes(cert.issuer.der, cert.issuer));
}

describe('certificate conformance over ../shared/vectors', () => {
  if (!present) {
    if (inCi) {
      it('finds ../shared/vectors (required when CI=true)', () => {
        throw new Error(`${VECTORS} is absent; the conformance tests cannot run`);
      });
    } else it.skip('parses the real certificates in ../shared/vectors (vectors absent)', () => {});
    return;
  }

  const files = collect();
  const deviations = new Map<string, readonly string[]>();

  it('finds the vector certificates', () => {
    const total = files.reduce((n, f) => n + f.certificates.length, 0);
    console.log(`certificate conformance: ${total} certificates in ${files.length} files`);
    expect(total).toBeGreaterThan(200);
  });

  it.each(files)('parses $rel as Node does', ({ rel, certificates }) => {
    certificates.forEach((der, i) => {
      const cert = parseCertificate(der);
      compareWithNode(cert, der);
      if (cert.deviations.length > 0) deviations.set(`${rel}#${i}`, cert.deviations);
    });
  });

  it('records which certificates carry deviations', () => {
    for (const [where, list] of deviations)
      console.log(`certificate deviation: ${where}: ${list.join(', ')}`);
    expect(Object.fromEntries(deviations)).toEqual(EXPECTED_DEVIATIONS);
  });

  it('rejects the corrupted Infineon EK certificate (outer length 0x20) as Node does', () => {
    const path = join(VECTORS, 'tpm/intel-secl/infineon-ek-cert_CORRUPTED-header_negative.b64');
    const der = new Uint8Array(Buffer.from(readFileSync(path, 'latin1').trim(), 'base64'));
    expect(outcome(() => parseCertificate(der))).toBe('DER_TRAILING_DATA');
    expect(() => new X509Certificate(der)).toThrow();
  });
});
