/**
 * PKCS#10 certification requests (RFC 2986) carrying attestation evidence
 * (draft-ietf-lamps-csr-attestation, standards digest §7.1) and the server's nonce.
 *
 * ```asn1
 * CertificationRequest ::= SEQUENCE { certificationRequestInfo CertificationRequestInfo,
 *   signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }
 * CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name,
 *   subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }
 * Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE (1..MAX) OF ANY }
 *
 * -- id-aa-attestation (1.2.840.113549.1.9.16.2.59), one value:
 * AttestationBundle ::= SEQUENCE {
 *   attestations SEQUENCE SIZE (1..MAX) OF AttestationStatement,
 *   certs        SEQUENCE SIZE (1..MAX) OF LimitedCertChoices OPTIONAL }
 * AttestationStatement ::= SEQUENCE { type OBJECT IDENTIFIER, stmt ANY DEFINED BY type }
 * -- Drafts <= -21 called these EvidenceBundle / EvidenceStatement, the same encoding except
 * -- for an optional trailing `hint IA5String` in each statement: accepted on input, never written.
 * ```
 *
 * Provenance interprets three attributes: id-aa-attestation, its own nonce attribute
 * (OID.provenanceNonceAttribute, one OCTET STRING) and PKCS#9 extensionRequest. Others are
 * reported in `unknownAttributes`, not fatal. Every attribute must hold exactly one value and
 * appear once.
 *
 * Tolerated on purpose: the DER order of the attributes SET OF (X.690 §11.6) is not checked.
 * The signature covers the bytes as sent, duplicates are rejected, and several CSR encoders do
 * not sort; nothing depends on the order.
 *
 * @example
 * const der = buildCsr({ subject: encodeName('CN=Alice'), signer, nonce,
 *   attestation: { statements: [{ type: OID.provenanceStatementType, stmt }], certificates: chain } });
 * const csr = parseCsr(der);
 * verifyCsrSignature(csr);            // proof of possession of csr.spki
 */
import {
  children,
  encodingOf,
  expectTag,
  parseDer,
  readBitString,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  readTlv,
  TAG,
  type Tlv,
  walkDer,
} from '../core/der.js';
import { der } from '../core/der-writer.js';
import { type ErrorCode, fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { buildExtension, type ExtensionSpec } from './builder.js';
import {
  type AlgorithmIdentifier,
  type Certificate,
  type Extension,
  type Name,
  parseAlgorithmIdentifier,
  parseCertificate,
  parseExtensions,
  parseName,
  parseSpkiTlv,
} from './certificate.js';
import { type VerifyOptions, verifySignature } from './signature.js';
import type { Signer } from './signer.js';

/** Limits of the CSR parser (and of the builder, so it never writes what the parser refuses). */
export const CSR_LIMITS = {
  /** Largest CSR accepted, in bytes. */
  maxBytes: 64 * 1024,
  /** Most attributes in one CSR. */
  maxAttributes: 32,
  /** Most statements in one attestation bundle. */
  maxStatements: 8,
  /** Most certificates in one attestation bundle. */
  maxCertificates: 16,
  /** Nonce attribute length bounds, the same as the native extension's nonce (SIZE (8..64)). */
  minNonceBytes: 8,
  maxNonceBytes: 64,
} as const;

/** One attestation statement: its format OID and the DER of its value. */
export interface AttestationStatement {
  /** OID naming the statement format (e.g. OID.provenanceStatementType, TCG 2.23.133.20.1). */
  readonly type: string;
  /** DER of the `stmt` value (one complete element). */
  readonly stmt: Uint8Array;
  /** The `hint` of the older EvidenceStatement shape, when an input carried one. Never written. */
  readonly hint?: string;
}

/** What to put in a CSR; see `buildCsr`. */
export interface CsrTemplate {
  /** Subject Name DER (see `encodeName`). */
  readonly subject: Uint8Array;
  /** Holds the key being certified: its signature is the proof of possession. */
  readonly signer: Signer;
  /** Written as one id-aa-attestation attribute holding an AttestationBundle. */
  readonly attestation?: {
    readonly statements: readonly AttestationStatement[];
    /** DER certificates that help build the attestation path (unordered, not anchors). */
    readonly certificates: readonly Uint8Array[];
  };
  /** The server's challenge, carried in the OID.provenanceNonceAttribute attribute. */
  readonly nonce?: Uint8Array;
  /** Requested extensions (PKCS#9 extensionRequest). */
  readonly extensions?: readonly ExtensionSpec[];
}

/** A parsed, not yet verified, certification request. */
export interface ParsedCsr {
  /** The whole encoding. */
  readonly der: Uint8Array;
  /** CertificationRequestInfo: the signed bytes. */
  readonly info: Uint8Array;
  readonly subject: Name;
  /** SubjectPublicKeyInfo DER of the key to certify. */
  readonly spki: Uint8Array;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  /** The signature BIT STRING content. */
  readonly signature: Uint8Array;
  readonly attestation: {
    readonly statements: readonly AttestationStatement[];
    readonly certificates: readonly Certificate[];
  } | null;
  /** The nonce attribute's value, or null when absent. */
  readonly nonce: Uint8Array | null;
  /** Requested extensions (empty when there is no extensionRequest). */
  readonly extensions: readonly Extension[];
  /** OIDs of attributes present that Provenance does not interpret (reported, not fatal). */
  readonly unknownAttributes: readonly string[];
}

/**
 * Build and sign a PKCS#10 request. Throws USAGE when the template is inconsistent (the
 * message names the field).
 *
 * @example
 * const der = buildCsr({ subject: encodeName('CN=Alice'), signer: signerFromKeyObject(key), nonce });
 */
export function buildCsr(t: CsrTemplate): Uint8Array {
  const attributes: Uint8Array[] = [];
  if (t.attestation) attributes.push(attribute(OID.csrAttestation, encodeBundle(t.attestation)));
  if (t.nonce !== undefined) {
    checkNonceLength(t.nonce.length, 'USAGE');
    attributes.push(attribute(OID.provenanceNonceAttribute, der.octets(t.nonce)));
  }
  if (t.extensions && t.extensions.length > 0) {
    const seen = new Set<string>();
    for (const e of t.extensions) {
      // RFC 5280 §4.2 forbids two instances of an extension; a CA would refuse the request.
      if (seen.has(e.oid)) fail('USAGE', `extensions: ${e.oid} appears twice`);
      seen.add(e.oid);
    }
    const exts = der.seq(...t.extensions.map((e) => buildExtension(e.oid, e.critical, e.value)));
    attributes.push(attribute(OID.extensionRequest, exts));
  }
  usageIfMalformed('subject', () =>
    parseName(t.subject, expectTag(parseDer(t.subject), TAG.SEQUENCE, 'Name')),
  );
  usageIfMalformed('signer.spki', () => parseSpkiTlv(t.signer.spki, parseDer(t.signer.spki)));
  const info = der.seq(
    der.int(0), // RFC 2986 §4.1: version v1(0)
    t.subject,
    t.signer.spki,
    // attributes [0] IMPLICIT SET OF Attribute: DER sorts SET OF members (X.690 §11.6).
    der.implicitConstructed(0, der.setOf(...attributes)),
  );
  const { algorithm, signature } = t.signer.sign(info);
  const csr = der.seq(info, algorithm, der.bitString(signature));
  if (csr.length > CSR_LIMITS.maxBytes) {
    fail(
      'USAGE',
      `the CSR would be ${csr.length} bytes, more than the ${CSR_LIMITS.maxBytes} a parser accepts`,
    );
  }
  return csr;
}

function attribute(type: string, value: Uint8Array): Uint8Array {
  return der.seq(der.oid(type), der.setOf(value));
}

function encodeBundle(a: NonNullable<CsrTemplate['attestation']>): Uint8Array {
  // AttestationBundle: attestations SIZE (1..MAX); certs SIZE (1..MAX) OPTIONAL, so omitted when empty.
  if (a.statements.length === 0) fail('USAGE', 'attestation.statements is empty');
  if (a.statements.length > CSR_LIMITS.maxStatements) {
    fail('USAGE', `attestation.statements has more than ${CSR_LIMITS.maxStatements} entries`);
  }
  if (a.certificates.length > CSR_LIMITS.maxCertificates) {
    fail('USAGE', `attestation.certificates has more than ${CSR_LIMITS.maxCertificates} entries`);
  }
  const statements = a.statements.map((s, i) => {
    usageIfMalformed(`attestation.statements[${i}].stmt`, () => walkDer(s.stmt));
    return der.seq(der.oid(s.type), s.stmt);
  });
  const parts = [der.seq(...statements)];
  if (a.certificates.length > 0) {
    a.certificates.forEach((c, i) => {
      usageIfMalformed(`attestation.certificates[${i}]`, () => parseCertificate(c));
    });
    parts.push(der.seq(...a.certificates));
  }
  return der.seq(...parts);
}

/**
 * Parse a DER certification request strictly. Throws CSR_MALFORMED for structural faults,
 * DER_* for encoding faults (truncation, trailing bytes, limits), ATTESTATION_MALFORMED for a
 * bad attestation bundle, INPUT_TOO_LARGE beyond 64 KiB. Does not check the signature.
 *
 * @example
 * const csr = parseCsr(der);
 * csr.attestation?.statements[0]?.type   // '2.25.…​.2.1'
 */
export function parseCsr(der: Uint8Array): ParsedCsr {
  if (der.length > CSR_LIMITS.maxBytes) {
    fail('INPUT_TOO_LARGE', `certification request of ${der.length} bytes exceeds ${CSR_LIMITS.maxBytes}`, {
      size: der.length,
      limit: CSR_LIMITS.maxBytes,
    });
  }
  return as('CSR_MALFORMED', 'certification request', () => parseCsrUnchecked(der));
}

function parseCsrUnchecked(buf: Uint8Array): ParsedCsr {
  const root = expectTag(
    parseDer(buf, { maxBytes: CSR_LIMITS.maxBytes }),
    TAG.SEQUENCE,
    'CertificationRequest',
  );
  const [infoTlv, algTlv, sigTlv] = children(buf, root, 3) as [Tlv, Tlv, Tlv];
  expectTag(infoTlv, TAG.SEQUENCE, 'CertificationRequestInfo');
  const signatureAlgorithm = parseAlgorithmIdentifier(buf, algTlv);
  const sig = readBitString(buf, sigTlv, 'signature');
  if (sig.unusedBits !== 0) fail('CSR_MALFORMED', 'signature has unused bits');

  const [versionTlv, subjectTlv, spkiTlv, attrsTlv] = children(buf, infoTlv, 4) as [Tlv, Tlv, Tlv, Tlv];
  // RFC 2986 §4.1: version is 0 for this version of the standard.
  const version = readSmallInt(buf, versionTlv, 'version');
  if (version !== 0)
    fail('CSR_MALFORMED', `unsupported CSR version ${version}`, { offset: versionTlv.start });
  const subject = as('CSR_MALFORMED', 'subject', () => parseName(buf, subjectTlv));
  parseSpkiTlv(buf, spkiTlv);
  // RFC 2986 §4.1: attributes [0] IMPLICIT Attributes, not OPTIONAL in the ASN.1 module.
  expectTag(attrsTlv, 0xa0, 'attributes [0]');

  let attestation: ParsedCsr['attestation'] = null;
  let nonce: Uint8Array | null = null;
  let extensions: Extension[] = [];
  const unknownAttributes: string[] = [];
  const seen = new Set<string>();
  const attrs = children(buf, attrsTlv);
  if (attrs.length > CSR_LIMITS.maxAttributes) {
    fail('DER_LIMIT_EXCEEDED', `more than ${CSR_LIMITS.maxAttributes} attributes`, {
      offset: attrsTlv.start,
    });
  }
  for (const attrTlv of attrs) {
    expectTag(attrTlv, TAG.SEQUENCE, 'Attribute');
    const [typeTlv, valuesTlv] = children(buf, attrTlv, 2) as [Tlv, Tlv];
    const type = readOid(buf, typeTlv, 'attribute type');
    expectTag(valuesTlv, TAG.SET, `attribute ${type} values`);
    // Duplicates are refused: which of two nonces or bundles would count is exactly the
    // ambiguity an attacker wants (draft-ietf-lamps-csr-attestation: "COUNTS MAX 1").
    if (seen.has(type)) fail('CSR_MALFORMED', `attribute ${type} appears twice`, { oid: type });
    seen.add(type);
    const values = children(buf, valuesTlv);
    if (values.length !== 1) {
      fail('CSR_MALFORMED', `attribute ${type} must hold exactly one value, found ${values.length}`, {
        oid: type,
      });
    }
    const value = values[0]!;
    switch (type) {
      case OID.csrAttestation:
        attestation = as('ATTESTATION_MALFORMED', 'attestation bundle', () => parseBundle(buf, value));
        break;
      case OID.provenanceNonceAttribute:
        nonce = readOctetString(buf, value, 'nonce attribute').slice();
        checkNonceLength(nonce.length, 'CSR_MALFORMED');
        break;
      case OID.extensionRequest:
        // PKCS#9 §5.4.2: extensionRequest ::= Extensions. An empty one is not DER of SIZE (1..MAX).
        extensions = as('CSR_MALFORMED', 'extensionRequest', () => parseExtensions(buf, value));
        if (extensions.length === 0) fail('CSR_MALFORMED', 'extensionRequest is empty');
        break;
      default:
        unknownAttributes.push(type);
    }
  }

  return {
    der: buf,
    info: encodingOf(buf, infoTlv),
    subject,
    spki: encodingOf(buf, spkiTlv),
    signatureAlgorithm,
    signature: sig.bytes,
    attestation,
    nonce,
    extensions,
    unknownAttributes,
  };
}

function parseBundle(buf: Uint8Array, tlv: Tlv): NonNullable<ParsedCsr['attestation']> {
  expectTag(tlv, TAG.SEQUENCE, 'AttestationBundle');
  const [listTlv, certsTlv] = children(buf, tlv, [1, 2]) as [Tlv, Tlv | undefined];
  expectTag(listTlv, TAG.SEQUENCE, 'attestations');
  const list = children(buf, listTlv);
  if (list.length === 0) fail('ATTESTATION_MALFORMED', 'the bundle holds no attestation statement');
  if (list.length > CSR_LIMITS.maxStatements) {
    fail('ATTESTATION_MALFORMED', `more than ${CSR_LIMITS.maxStatements} attestation statements`, {
      count: list.length,
    });
  }
  const statements = list.map((s, i) => parseStatement(buf, s, i));

  const certificates: Certificate[] = [];
  if (certsTlv) {
    expectTag(certsTlv, TAG.SEQUENCE, 'certs');
    const certs = children(buf, certsTlv);
    if (certs.length === 0) fail('ATTESTATION_MALFORMED', 'certs is present but empty (SIZE (1..MAX))');
    if (certs.length > CSR_LIMITS.maxCertificates) {
      fail('ATTESTATION_MALFORMED', `more than ${CSR_LIMITS.maxCertificates} certificates in the bundle`, {
        count: certs.length,
      });
    }
    certs.forEach((c, i) => {
      // LimitedCertChoices: certificate (a SEQUENCE) or other [3]. Only X.509 is usable here.
      if (c.tag === 0xa3) {
        fail('ATTESTATION_MALFORMED', `certs[${i}]: OtherCertificateFormat is not supported`, { index: i });
      }
      if (c.tag !== TAG.SEQUENCE) {
        fail(
          'ATTESTATION_MALFORMED',
          `certs[${i}]: expected an X.509 certificate (tag 0x${c.tag.toString(16)})`,
          {
            index: i,
          },
        );
      }
      certificates.push(
        as('ATTESTATION_MALFORMED', `certs[${i}]`, () => parseCertificate(encodingOf(buf, c)), true),
      );
    });
  }
  return { statements, certificates };
}

function parseStatement(buf: Uint8Array, tlv: Tlv, index: number): AttestationStatement {
  expectTag(tlv, TAG.SEQUENCE, `attestations[${index}]`);
  const parts = as('ATTESTATION_MALFORMED', `attestations[${index}]`, () => children(buf, tlv, [2, 3]));
  const type = readOid(buf, parts[0]!, `attestations[${index}].type`);
  const stmtTlv = parts[1]!;
  const stmt = encodingOf(buf, stmtTlv).slice();
  // stmt is ANY: check it is DER all the way down, within depth and count limits.
  walkDer(stmt);
  if (parts[2]) {
    // EvidenceStatement (drafts <= -21): hint IA5String OPTIONAL.
    if (parts[2].tag !== TAG.IA5_STRING) {
      fail('ATTESTATION_MALFORMED', `attestations[${index}]: unexpected field after stmt`, { index });
    }
    const hint = readString(buf, parts[2], `attestations[${index}].hint`);
    return { type, stmt, hint };
  }
  return { type, stmt };
}

/**
 * Verify the CSR's self-signature (RFC 2986 §3: proof of possession of `csr.spki`). Throws
 * CSR_SIGNATURE_INVALID when it does not verify, ALGORITHM_* when the policy refuses the
 * algorithm, KEY_MALFORMED when the key does not decode.
 *
 * @example
 * verifyCsrSignature(parseCsr(der), { cache: keyCache });
 */
export function verifyCsrSignature(csr: ParsedCsr, options?: VerifyOptions): void {
  let ok: boolean;
  try {
    ok = verifySignature(csr.signatureAlgorithm, csr.info, csr.signature, csr.spki, options);
  } catch (err) {
    // verifySignature reports an algorithm that does not fit the key as SIGNATURE_INVALID.
    if (isProvenanceError(err, 'SIGNATURE_INVALID')) {
      throw new ProvenanceError('CSR_SIGNATURE_INVALID', err.message, err.details, { cause: err });
    }
    throw err;
  }
  if (!ok) {
    fail('CSR_SIGNATURE_INVALID', 'the certification request is not signed by the key it carries', {
      algorithm: csr.signatureAlgorithm.oid,
    });
  }
}

/**
 * True when `der` looks like a PKCS#10 request: a SEQUENCE of { SEQUENCE { INTEGER, SEQUENCE,
 * SEQUENCE, [0] }, SEQUENCE, BIT STRING }. Cheap, never throws; `parseCsr` does the real checks.
 *
 * @example
 * if (isCsr(bytes)) return parseCsr(bytes); else return parseCertificate(bytes);
 */
export function isCsr(der: Uint8Array): boolean {
  try {
    if (der.length > CSR_LIMITS.maxBytes) return false;
    const root = readTlv(der, 0);
    if (root.tag !== TAG.SEQUENCE || root.end !== der.length) return false;
    const info = readTlv(der, root.valueStart, root.end);
    if (info.tag !== TAG.SEQUENCE) return false;
    const alg = readTlv(der, info.end, root.end);
    const sig = readTlv(der, alg.end, root.end);
    if (alg.tag !== TAG.SEQUENCE || sig.tag !== TAG.BIT_STRING || sig.end !== root.end) return false;
    // A certificate's TBS starts with [0] (version) or an INTEGER serial followed by an
    // AlgorithmIdentifier; a CSR's info has exactly four fields, the last one [0].
    const version = readTlv(der, info.valueStart, info.end);
    if (version.tag !== TAG.INTEGER) return false;
    const subject = readTlv(der, version.end, info.end);
    const spki = readTlv(der, subject.end, info.end);
    const attrs = readTlv(der, spki.end, info.end);
    return (
      subject.tag === TAG.SEQUENCE &&
      spki.tag === TAG.SEQUENCE &&
      attrs.tag === 0xa0 &&
      attrs.end === info.end
    );
  } catch {
    return false;
  }
}

function checkNonceLength(length: number, code: ErrorCode): void {
  const { minNonceBytes: min, maxNonceBytes: max } = CSR_LIMITS;
  if (length < min || length > max) fail(code, `nonce must be ${min}..${max} bytes, not ${length}`);
}

/**
 * Run `fn`, re-coding faults as `code` with `what` prefixed. By default only DER_MALFORMED and
 * the neighbouring structural codes are re-coded (truncation and limits keep their DER_* code);
 * `all` re-codes every ProvenanceError (used inside the attestation bundle).
 */
function as<T>(code: ErrorCode, what: string, fn: () => T, all = false): T {
  try {
    return fn();
  } catch (err) {
    if (!isProvenanceError(err) || err.code === code) throw err;
    const recode =
      all ||
      (code === 'ATTESTATION_MALFORMED'
        ? err.code !== 'INPUT_TOO_LARGE'
        : err.code === 'DER_MALFORMED' ||
          err.code === 'CERT_MALFORMED' ||
          err.code === 'EXTENSION_MALFORMED');
    if (!recode) throw err;
    throw new ProvenanceError(code, `${what}: ${err.message}`, err.details, { cause: err });
  }
}

/** Template bytes that do not parse are the caller's mistake: USAGE naming the field. */
function usageIfMalformed(field: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err) && err.code !== 'USAGE') {
      fail('USAGE', `${field} is not valid DER of its type: ${err.message}`, { field, cause: err.code });
    }
    throw err;
  }
}
