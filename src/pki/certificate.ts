/**
 * X.509 v3 certificate model (RFC 5280 §4.1), parsed by walking DER directly.
 *
 * ```asn1
 * Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm AlgorithmIdentifier,
 *                            signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, serialNumber INTEGER,
 *   signature AlgorithmIdentifier, issuer Name, validity Validity, subject Name,
 *   subjectPublicKeyInfo SubjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT OPTIONAL,
 *   subjectUniqueID [2] IMPLICIT OPTIONAL, extensions [3] EXPLICIT Extensions OPTIONAL }
 * ```
 *
 * Parsing is strict (DER, no trailing bytes) and costs a few microseconds; the extensions a
 * path validator needs on every certificate (basicConstraints, keyUsage, key identifiers) are
 * decoded eagerly, the rest on demand by the code that understands them.
 *
 * @example
 * const cert = parseCertificate(der);
 * cert.subject.text      // 'CN=Gemalto Smartcards,O=Gemalto NV'
 * cert.spkiSha256        // hex SHA-256 of the SubjectPublicKeyInfo: the identity we trust
 */

import { sha256Hex, toHex } from '../core/bytes.js';
import {
  bitIsSet,
  children,
  contentOf,
  encodingOf,
  expectTag,
  parseDer,
  readBitString,
  readBoolean,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  readTime,
  readTlv,
  readUnsignedBytes,
  TAG,
  type Tlv,
} from '../core/der.js';
import { type ErrorCode, fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { NAME_ATTRIBUTE_SHORT, OID } from '../core/oids.js';

/** Upper bound on one certificate's encoding. Real attestation certificates are < 8 KiB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;
/** Upper bound on extensions in one certificate. */
export const MAX_EXTENSIONS = 64;

export interface AlgorithmIdentifier {
  readonly oid: string;
  /** Full TLV encoding of the parameters, or null when absent. */
  readonly params: Uint8Array | null;
  /** Full encoding of the AlgorithmIdentifier SEQUENCE (for byte comparison). */
  readonly der: Uint8Array;
}

export interface AttributeTypeAndValue {
  readonly type: string;
  /**
   * The universal tag number of the value's string type (12 UTF8String, 19 PrintableString,
   * ...), or -1 for a value of another type, whose `value` is then '#' + the hex of its
   * encoding (RFC 4514 §2.4).
   */
  readonly valueTag: number;
  readonly value: string;
}

export interface Name {
  /** Full DER encoding of the Name (RDNSequence). Name chaining compares these bytes. */
  readonly der: Uint8Array;
  readonly rdns: readonly (readonly AttributeTypeAndValue[])[];
  /** Display form, most significant RDN last (RFC 4514 order reversed for reading: CN first). */
  readonly text: string;
}

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING content: for standard extensions a DER element. */
  readonly value: Uint8Array;
}

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLen: number | null;
}

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;
export type KeyUsageName = keyof typeof KEY_USAGE;

export class Certificate {
  /** The whole certificate encoding. */
  readonly der: Uint8Array;
  /** The TBSCertificate encoding: the bytes the issuer signed. */
  readonly tbs: Uint8Array;
  readonly version: 1 | 2 | 3;
  /** Serial number magnitude (big-endian, no sign pad). */
  readonly serial: Uint8Array;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly issuer: Name;
  readonly subject: Name;
  /** Validity bounds, ms since epoch (inclusive, RFC 5280 §4.1.2.5). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** Full SubjectPublicKeyInfo encoding. */
  readonly spki: Uint8Array;
  readonly publicKeyAlgorithm: AlgorithmIdentifier;
  /** The subjectPublicKey BIT STRING content (without the unused-bits octet). */
  readonly publicKey: Uint8Array;
  readonly extensions: readonly Extension[];
  readonly basicConstraints: BasicConstraints | null;
  /** KeyUsage as a bit mask (bit n = 1 << n), or null when the extension is absent. */
  readonly keyUsage: number | null;
  readonly subjectKeyId: Uint8Array | null;
  readonly authorityKeyId: Uint8Array | null;
  /** The signatureValue BIT STRING content. */
  readonly signature: Uint8Array;
  /**
   * Encoding rules this certificate breaks that are tolerated by the parser but not by the
   * path validator unless a named quirk allows them (e.g. 'generalized-time-before-2050').
   */
  readonly deviations: readonly string[];
  private spkiHash: string | undefined;
  private certHash: string | undefined;

  constructor(fields: CertificateFields) {
    this.der = fields.der;
    this.tbs = fields.tbs;
    this.version = fields.version;
    this.serial = fields.serial;
    this.signatureAlgorithm = fields.signatureAlgorithm;
    this.issuer = fields.issuer;
    this.subject = fields.subject;
    this.notBefore = fields.notBefore;
    this.notAfter = fields.notAfter;
    this.spki = fields.spki;
    this.publicKeyAlgorithm = fields.publicKeyAlgorithm;
    this.publicKey = fields.publicKey;
    this.extensions = fields.extensions;
    this.basicConstraints = fields.basicConstraints;
    this.keyUsage = fields.keyUsage;
    this.subjectKeyId = fields.subjectKeyId;
    this.authorityKeyId = fields.authorityKeyId;
    this.signature = fields.signature;
    this.deviations = fields.deviations;
  }

  /** Hex SHA-256 of the SubjectPublicKeyInfo: how Provenance names a key it trusts. */
  get spkiSha256(): string {
    this.spkiHash ??= sha256Hex(this.spki);
    return this.spkiHash;
  }

  /** Hex SHA-256 of the whole certificate. */
  get fingerprintSha256(): string {
    this.certHash ??= sha256Hex(this.der);
    return this.certHash;
  }

  get serialHex(): string {
    return toHex(this.serial);
  }

  /** True when keyUsage is absent (no restriction) or has the named bit. */
  allowsKeyUsage(usage: KeyUsageName): boolean {
    return this.keyUsage === null || (this.keyUsage & (1 << KEY_USAGE[usage])) !== 0;
  }

  extension(oid: string): Extension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  /** Subject and issuer names are byte-identical (a self-issued certificate, RFC 5280 §6.1). */
  get selfIssued(): boolean {
    const a = this.subject.der;
    const b = this.issuer.der;
    return a.length === b.length && Buffer.compare(a, b) === 0;
  }
}

export type CertificateFields = Pick<
  Certificate,
  | 'der'
  | 'tbs'
  | 'version'
  | 'serial'
  | 'signatureAlgorithm'
  | 'issuer'
  | 'subject'
  | 'notBefore'
  | 'notAfter'
  | 'spki'
  | 'publicKeyAlgorithm'
  | 'publicKey'
  | 'extensions'
  | 'basicConstraints'
  | 'keyUsage'
  | 'subjectKeyId'
  | 'authorityKeyId'
  | 'signature'
  | 'deviations'
>;

/**
 * Parse one DER certificate, strictly. Throws ProvenanceError CERT_MALFORMED (or a DER_* code
 * for encoding faults) with the offending offset in `details`.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  if (der.length > MAX_CERTIFICATE_BYTES) {
    fail('INPUT_TOO_LARGE', `certificate of ${der.length} bytes exceeds ${MAX_CERTIFICATE_BYTES}`, {
      size: der.length,
    });
  }
  try {
    return parseCertificateUnchecked(der);
  } catch (err) {
    if (isProvenanceError(err) && err.code === 'DER_MALFORMED') {
      throw new ProvenanceError('CERT_MALFORMED', `malformed certificate: ${err.message}`, err.details, {
        cause: err,
      });
    }
    throw err;
  }
}

function parseCertificateUnchecked(der: Uint8Array): Certificate {
  const root = expectTag(parseDer(der, { maxBytes: MAX_CERTIFICATE_BYTES }), TAG.SEQUENCE, 'Certificate');
  const [tbsTlv, sigAlgTlv, sigTlv] = children(der, root, 3) as [Tlv, Tlv, Tlv];
  expectTag(tbsTlv, TAG.SEQUENCE, 'TBSCertificate');
  const signatureAlgorithm = parseAlgorithmIdentifier(der, sigAlgTlv);
  const sigBits = readBitString(der, sigTlv, 'signatureValue');
  if (sigBits.unusedBits !== 0) fail('CERT_MALFORMED', 'signatureValue has unused bits');

  const f = children(der, tbsTlv, [6, 10]);
  let i = 0;
  let version: 1 | 2 | 3 = 1;
  if (f[0]!.tag === 0xa0) {
    const inner = children(der, f[0]!, 1)[0]!;
    const v = readSmallInt(der, inner, 'version');
    // RFC 5280 §4.1.2.1: v1 is the DEFAULT, so DER forbids encoding it explicitly.
    if (v !== 1 && v !== 2)
      fail('CERT_MALFORMED', `unsupported certificate version ${v + 1}`, { offset: inner.start });
    version = (v + 1) as 2 | 3;
    i = 1;
  }
  const serialTlv = f[i++];
  const tbsSigTlv = f[i++];
  const issuerTlv = f[i++];
  const validityTlv = f[i++];
  const subjectTlv = f[i++];
  const spkiTlv = f[i++];
  if (!serialTlv || !tbsSigTlv || !issuerTlv || !validityTlv || !subjectTlv || !spkiTlv) {
    return fail('CERT_MALFORMED', 'TBSCertificate is missing fields');
  }
  // RFC 5280 §4.1.2.2: serials are positive and at most 20 octets; real devices violate the
  // length (and sometimes the sign) so we accept up to 64 octets and flag nothing here: the
  // bytes are kept exactly as encoded for comparison.
  if (serialTlv.end - serialTlv.valueStart > 64)
    fail('CERT_MALFORMED', 'serial number longer than 64 octets');
  const serial = readUnsignedBytes(der, serialTlv, 'serialNumber', true);
  const tbsSig = parseAlgorithmIdentifier(der, tbsSigTlv);
  // RFC 5280 §4.1.1.2: the outer signatureAlgorithm MUST equal TBSCertificate.signature.
  if (Buffer.compare(tbsSig.der, signatureAlgorithm.der) !== 0) {
    fail('CERT_MALFORMED', 'signatureAlgorithm differs from TBSCertificate.signature');
  }
  const issuer = parseName(der, issuerTlv);
  const [nbTlv, naTlv] = children(der, expectTag(validityTlv, TAG.SEQUENCE, 'Validity'), 2) as [Tlv, Tlv];
  const notBefore = readTime(der, nbTlv, 'notBefore');
  const notAfter = readTime(der, naTlv, 'notAfter');
  const deviations: string[] = [];
  if (usesLateTimeChoice(nbTlv, notBefore) || usesLateTimeChoice(naTlv, notAfter)) {
    deviations.push('generalized-time-before-2050');
  }
  const subject = parseName(der, subjectTlv);
  const { algorithm: publicKeyAlgorithm, publicKey } = parseSpkiTlv(der, spkiTlv);

  let extensions: Extension[] = [];
  let seenUnique = 0;
  for (; i < f.length; i++) {
    const t = f[i]!;
    // UniqueIdentifier ::= BIT STRING under [1]/[2] IMPLICIT: primitive in DER (X.690 §10.2).
    if (t.tag === 0x81 && seenUnique < 1 && extensions.length === 0) {
      if (version < 2) fail('CERT_MALFORMED', 'issuerUniqueID in a v1 certificate');
      readBitString(der, t, 'issuerUniqueID', 0x81);
      seenUnique = 1;
    } else if (t.tag === 0x82 && seenUnique < 2 && extensions.length === 0) {
      if (version < 2) fail('CERT_MALFORMED', 'subjectUniqueID in a v1 certificate');
      readBitString(der, t, 'subjectUniqueID', 0x82);
      seenUnique = 2;
    } else if (t.tag === 0xa3 && extensions.length === 0) {
      if (version !== 3) fail('CERT_MALFORMED', 'extensions in a certificate that is not v3');
      extensions = parseExtensions(der, children(der, t, 1)[0]!);
      if (extensions.length === 0) fail('CERT_MALFORMED', 'empty extensions field');
    } else {
      fail('CERT_MALFORMED', `unexpected field in TBSCertificate (tag 0x${t.tag.toString(16)})`, {
        offset: t.start,
      });
    }
  }

  let basicConstraints: BasicConstraints | null = null;
  let keyUsage: number | null = null;
  let subjectKeyId: Uint8Array | null = null;
  let authorityKeyId: Uint8Array | null = null;
  for (const ext of extensions) {
    switch (ext.oid) {
      case OID.basicConstraints:
        basicConstraints = decodeExtension(ext, parseBasicConstraints);
        break;
      case OID.keyUsage:
        keyUsage = decodeExtension(ext, parseKeyUsage);
        break;
      case OID.subjectKeyIdentifier:
        subjectKeyId = decodeExtension(ext, (v) => readOctetString(v, parseDer(v), 'subjectKeyIdentifier'));
        break;
      case OID.authorityKeyIdentifier:
        authorityKeyId = decodeExtension(ext, parseAuthorityKeyId);
        break;
      default:
        break;
    }
  }

  return new Certificate({
    der,
    tbs: encodingOf(der, tbsTlv),
    version,
    serial,
    signatureAlgorithm,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: encodingOf(der, spkiTlv),
    publicKeyAlgorithm,
    publicKey,
    extensions,
    basicConstraints,
    keyUsage,
    subjectKeyId,
    authorityKeyId,
    signature: sigBits.bytes,
    deviations,
  });
}

/**
 * RFC 5280 §4.1.2.5: dates from 1950 through 2049 MUST be UTCTime; some vendor CAs use
 * GeneralizedTime. Before 1950 UTCTime cannot express the date, so GeneralizedTime is right.
 */
function usesLateTimeChoice(t: Tlv, ms: number): boolean {
  if (t.tag !== TAG.GENERALIZED_TIME) return false;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1950 && year < 2050;
}

/** Decode an extension value, converting DER faults into EXTENSION_MALFORMED naming the OID. */
export function decodeExtension<T>(ext: Extension, decode: (value: Uint8Array) => T): T {
  try {
    return decode(ext.value);
  } catch (err) {
    if (isProvenanceError(err) && (err.code.startsWith('DER_') || err.code === 'EXTENSION_MALFORMED')) {
      throw new ProvenanceError(
        'EXTENSION_MALFORMED',
        `extension ${ext.oid}: ${err.message}`,
        { ...err.details, oid: ext.oid },
        { cause: err },
      );
    }
    throw err;
  }
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL } */
export function parseAlgorithmIdentifier(buf: Uint8Array, tlv: Tlv): AlgorithmIdentifier {
  expectTag(tlv, TAG.SEQUENCE, 'AlgorithmIdentifier');
  const parts = children(buf, tlv, [1, 2]);
  const oid = readOid(buf, parts[0]!, 'algorithm');
  const params = parts[1] ? encodingOf(buf, parts[1]) : null;
  return { oid, params, der: encodingOf(buf, tlv) };
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING } */
export function parseSpkiTlv(
  buf: Uint8Array,
  tlv: Tlv,
): { algorithm: AlgorithmIdentifier; publicKey: Uint8Array } {
  expectTag(tlv, TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  const [algTlv, keyTlv] = children(buf, tlv, 2) as [Tlv, Tlv];
  const algorithm = parseAlgorithmIdentifier(buf, algTlv);
  const bits = readBitString(buf, keyTlv, 'subjectPublicKey');
  if (bits.unusedBits !== 0) fail('KEY_MALFORMED', 'subjectPublicKey has unused bits');
  return { algorithm, publicKey: bits.bytes };
}

/** Parse a standalone SubjectPublicKeyInfo encoding (strict, whole buffer). */
export function parseSpki(der: Uint8Array): { algorithm: AlgorithmIdentifier; publicKey: Uint8Array } {
  return parseSpkiTlv(der, parseDer(der));
}

/** Name ::= RDNSequence; RDNSequence ::= SEQUENCE OF SET SIZE (1..MAX) OF AttributeTypeAndValue */
export function parseName(buf: Uint8Array, tlv: Tlv): Name {
  expectTag(tlv, TAG.SEQUENCE, 'Name');
  const rdns: AttributeTypeAndValue[][] = [];
  for (const setTlv of children(buf, tlv)) {
    expectTag(setTlv, TAG.SET, 'RelativeDistinguishedName');
    const atvs: AttributeTypeAndValue[] = [];
    const members = children(buf, setTlv);
    if (members.length === 0)
      fail('CERT_MALFORMED', 'empty RelativeDistinguishedName', { offset: setTlv.start });
    for (const atvTlv of members) {
      expectTag(atvTlv, TAG.SEQUENCE, 'AttributeTypeAndValue');
      const [typeTlv, valueTlv] = children(buf, atvTlv, 2) as [Tlv, Tlv];
      const type = readOid(buf, typeTlv, 'attribute type');
      if (valueTlv.tagClass === 0 && !valueTlv.constructed && isStringTag(valueTlv.tagNumber)) {
        atvs.push({
          type,
          valueTag: valueTlv.tagNumber,
          value: readString(buf, valueTlv, `attribute ${type}`),
        });
      } else {
        // Non-string attribute values are shown as '#' + hex of the encoding (RFC 4514 §2.4).
        atvs.push({ type, valueTag: -1, value: `#${toHex(encodingOf(buf, valueTlv))}` });
      }
    }
    rdns.push(atvs);
  }
  return { der: encodingOf(buf, tlv), rdns, text: formatName(rdns) };
}

function isStringTag(n: number): boolean {
  return (
    n === 0x0c ||
    n === 0x13 ||
    n === 0x12 ||
    n === 0x16 ||
    n === 0x14 ||
    n === 0x1a ||
    n === 0x1e ||
    n === 0x1c
  );
}

/** Display a name, most specific first (CN=..., O=...), escaping as RFC 4514 §2.4 does. */
export function formatName(rdns: readonly (readonly AttributeTypeAndValue[])[]): string {
  // Plain loops: this runs for every name of every parsed certificate.
  let out = '';
  for (let r = rdns.length - 1; r >= 0; r--) {
    const rdn = rdns[r]!;
    if (r !== rdns.length - 1) out += ',';
    for (let k = 0; k < rdn.length; k++) {
      const a = rdn[k]!;
      if (k !== 0) out += '+';
      // A text value starting with "#" is escaped; only non-string values print as #hex.
      out += `${NAME_ATTRIBUTE_SHORT[a.type] ?? a.type}=${a.valueTag < 0 ? a.value : escapeRdnValue(a.value)}`;
    }
  }
  return out;
}

/** True when `v` holds nothing escapeRdnValue would change (the common case). */
function needsNoEscape(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  const first = v.charCodeAt(0);
  if (first === 0x20 || first === 0x23 || v.charCodeAt(n - 1) === 0x20) return false; // ' ', '#'
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    // Controls and \ , + " < > ; =
    if (
      c < 0x20 ||
      c === 0x5c ||
      c === 0x2c ||
      c === 0x2b ||
      c === 0x22 ||
      c === 0x3c ||
      c === 0x3e ||
      c === 0x3b ||
      c === 0x3d
    )
      return false;
  }
  return true;
}

function escapeRdnValue(v: string): string {
  if (needsNoEscape(v)) return v;
  return v
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ')
    .replace(/[\x00-\x1f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The value of the first attribute of `type` (e.g. OID.commonName), or undefined. */
export function nameAttribute(name: Name, type: string): string | undefined {
  for (const rdn of name.rdns) for (const a of rdn) if (a.type === type) return a.value;
  return undefined;
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function parseExtensions(buf: Uint8Array, tlv: Tlv): Extension[] {
  expectTag(tlv, TAG.SEQUENCE, 'Extensions');
  const list = children(buf, tlv);
  if (list.length > MAX_EXTENSIONS) fail('DER_LIMIT_EXCEEDED', `more than ${MAX_EXTENSIONS} extensions`);
  const out: Extension[] = [];
  const seen = new Set<string>();
  for (const extTlv of list) {
    expectTag(extTlv, TAG.SEQUENCE, 'Extension');
    const parts = children(buf, extTlv, [2, 3]);
    const oid = readOid(buf, parts[0]!, 'extnID');
    let critical = false;
    let valueTlv = parts[1]!;
    if (parts.length === 3) {
      critical = readBoolean(buf, parts[1]!, 'critical');
      // DER: a DEFAULT value must not be encoded (X.690 §11.5).
      if (!critical)
        fail('CERT_MALFORMED', `extension ${oid}: critical FALSE must be omitted in DER`, {
          offset: parts[1]!.start,
        });
      valueTlv = parts[2]!;
    }
    const value = readOctetString(buf, valueTlv, 'extnValue');
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(oid)) fail('EXTENSION_MALFORMED', `duplicate extension ${oid}`, { oid });
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  return out;
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
export function parseBasicConstraints(value: Uint8Array): BasicConstraints {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'BasicConstraints');
  const parts = children(value, seq, [0, 2]);
  let ca = false;
  let pathLen: number | null = null;
  let k = 0;
  if (parts[k]?.tag === TAG.BOOLEAN) {
    ca = readBoolean(value, parts[k]!, 'cA');
    if (!ca) fail('EXTENSION_MALFORMED', 'basicConstraints: cA FALSE must be omitted in DER');
    k++;
  }
  if (parts[k]) {
    pathLen = readSmallInt(value, parts[k]!, 'pathLenConstraint');
    if (pathLen < 0) fail('EXTENSION_MALFORMED', 'basicConstraints: negative pathLenConstraint');
    k++;
  }
  if (k !== parts.length) fail('EXTENSION_MALFORMED', 'basicConstraints: unexpected content');
  return { ca, pathLen };
}

/** KeyUsage ::= BIT STRING (named bits; DER drops trailing zero bits, X.690 §11.2.2). */
export function parseKeyUsage(value: Uint8Array): number {
  const bits = readBitString(value, parseDer(value), 'KeyUsage');
  if (bits.bytes.length > 2) fail('EXTENSION_MALFORMED', 'KeyUsage longer than 9 bits');
  let mask = 0;
  for (let n = 0; n < 9; n++) if (bitIsSet(bits, n)) mask |= 1 << n;
  if (mask === 0) fail('EXTENSION_MALFORMED', 'KeyUsage with no bit set');
  return mask;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL, authorityCertIssuer [1] OPTIONAL, authorityCertSerialNumber [2] OPTIONAL } */
export function parseAuthorityKeyId(value: Uint8Array): Uint8Array | null {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'AuthorityKeyIdentifier');
  const parts = children(value, seq, [0, 3]);
  let last = -1;
  let keyId: Uint8Array | null = null;
  for (const p of parts) {
    if (p.tagClass !== 2 || p.tagNumber <= last || p.tagNumber > 2)
      fail('EXTENSION_MALFORMED', 'AuthorityKeyIdentifier: bad field');
    last = p.tagNumber;
    if (p.tagNumber === 0) {
      if (p.constructed)
        fail('EXTENSION_MALFORMED', 'AuthorityKeyIdentifier: keyIdentifier must be primitive');
      keyId = contentOf(value, p);
    }
  }
  return keyId;
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
export function parseExtKeyUsage(value: Uint8Array): string[] {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'ExtKeyUsage');
  const list = children(value, seq).map((t) => readOid(value, t, 'KeyPurposeId'));
  if (list.length === 0) fail('EXTENSION_MALFORMED', 'empty ExtKeyUsage');
  return list;
}

/** Read the next element of a buffer at `pos` (re-export for format parsers). */
export { readTlv };

/** Rethrow a DER_* error under a more specific code (e.g. CSR_MALFORMED), keeping details. */
export function asCode<T>(code: ErrorCode, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isProvenanceError(err) && err.code === 'DER_MALFORMED') {
      throw new ProvenanceError(code, `${what}: ${err.message}`, err.details, { cause: err });
    }
    throw err;
  }
}
