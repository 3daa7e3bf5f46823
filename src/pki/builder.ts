/**
 * Fast X.509 v3 certificate builder (RFC 5280 §4.1): DER written directly with the core
 * writer, no ASN.1 object model, so building costs microseconds and the signature dominates.
 *
 * ```asn1
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, serialNumber INTEGER,
 *   signature AlgorithmIdentifier, issuer Name, validity Validity, subject Name,
 *   subjectPublicKeyInfo SubjectPublicKeyInfo, extensions [3] EXPLICIT Extensions OPTIONAL }
 * Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
 *   extnValue OCTET STRING }
 * ```
 *
 * Before signing, the template is linted (Boulder's habit: lint what is about to be issued);
 * every problem is a USAGE error naming the field. DEFAULT values are never encoded
 * (X.690 §11.5): no `critical FALSE`, no `cA FALSE`.
 *
 * Key identifiers: 'derive' uses RFC 7093 §2 method 1, the leftmost 160 bits of the SHA-256 of
 * the subjectPublicKey BIT STRING value. It has the length of RFC 5280 §4.2.1.2 method 1 (SHA-1)
 * without depending on SHA-1. A verifier never relies on how an identifier was made.
 *
 * @example
 * const cert = buildCertificate({
 *   issuer: { name: rootName, signer: rootSigner, subjectKeyId: deriveSubjectKeyId(rootSigner.spki) },
 *   subject: encodeName('CN=Token 0042,O=Example'),
 *   spki: tokenSpki,
 *   notBefore: Date.UTC(2025, 0, 1), notAfter: Date.UTC(2045, 0, 1),
 *   basicConstraints: { ca: true, pathLen: 0 },
 *   keyUsage: ['keyCertSign'],
 * });
 */
import { createHash, randomBytes } from 'node:crypto';
import { expectTag, parseDer, TAG } from '../core/der.js';
import { der } from '../core/der-writer.js';
import { fail, isProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { KEY_USAGE, type KeyUsageName, parseName, parseSpki } from './certificate.js';
import type { Signer } from './signer.js';

/** An extension to add as given: `value` is the extnValue content (normally a DER element). */
export interface ExtensionSpec {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** What to put in a certificate; see `buildCertificate`. */
export interface CertificateTemplate {
  readonly issuer: {
    /** Issuer Name DER (the issuing certificate's subject, byte for byte). */
    readonly name: Uint8Array;
    readonly signer: Signer;
    /** The issuing certificate's subjectKeyIdentifier, copied into authorityKeyIdentifier. */
    readonly subjectKeyId?: Uint8Array;
  };
  /** Subject Name DER (see `encodeName`). */
  readonly subject: Uint8Array;
  /** Subject SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** Serial magnitude, big-endian. Default: 16 random bytes, positive, first byte non-zero. */
  readonly serial?: Uint8Array;
  /** Validity bounds in ms since the epoch; encoded with seconds precision (fractions dropped). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** basicConstraints; marked critical when `ca` (RFC 5280 §4.2.1.9). */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  /** keyUsage, marked critical (RFC 5280 §4.2.1.3 SHOULD). */
  readonly keyUsage?: readonly KeyUsageName[];
  /** extKeyUsage KeyPurposeId OIDs, non-critical. */
  readonly extKeyUsage?: readonly string[];
  /** Default 'derive' (RFC 7093 §2 method 1); `false` omits the extension. */
  readonly subjectKeyId?: Uint8Array | 'derive' | false;
  /** Default: true when the issuer has a key id. `true` without one is a USAGE error. */
  readonly authorityKeyId?: boolean;
  /** Further extensions, e.g. the ProvenanceKeyAttestation extension. */
  readonly extensions?: readonly ExtensionSpec[];
}

/** RFC 5280 §4.1.2.2: serial numbers are at most 20 octets (of INTEGER content). */
const MAX_SERIAL_OCTETS = 20;
/** Representable times: GeneralizedTime has four year digits (RFC 5280 §4.1.2.5.2). */
const MIN_TIME = -62_167_219_200_000; // 0000-01-01T00:00:00Z
const MAX_TIME = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/**
 * Build and sign an X.509 v3 certificate; returns its DER. Throws USAGE when the template
 * is inconsistent (the message names the field).
 *
 * @example
 * const der = buildCertificate({ issuer: { name, signer }, subject: name, spki: signer.spki,
 *   notBefore, notAfter, basicConstraints: { ca: true }, keyUsage: ['keyCertSign', 'cRLSign'] });
 */
export function buildCertificate(t: CertificateTemplate): Uint8Array {
  const signer = t.issuer.signer;
  const tbs = der.seq(
    der.explicit(0, der.int(2)), // v3 (RFC 5280 §4.1.2.1)
    encodeSerial(t.serial),
    signer.algorithm,
    checkName(t.issuer.name, 'issuer.name'),
    encodeValidity(t.notBefore, t.notAfter),
    checkName(t.subject, 'subject'),
    checkSpki(t.spki, 'spki'),
    ...encodeExtensionsField(t),
  );
  const { algorithm, signature } = signer.sign(tbs);
  // RFC 5280 §4.1.1.2: signatureAlgorithm MUST equal TBSCertificate.signature.
  if (Buffer.compare(algorithm, signer.algorithm) !== 0) {
    fail('INTERNAL', 'the signer used an algorithm other than the one it announced');
  }
  return der.seq(tbs, algorithm, der.bitString(signature));
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function buildExtension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  // X.690 §11.5: a DEFAULT value is not encoded, so critical appears only when TRUE.
  return critical
    ? der.seq(der.oid(oid), der.bool(true), der.octets(value))
    : der.seq(der.oid(oid), der.octets(value));
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
export function encodeBasicConstraints(bc: { readonly ca: boolean; readonly pathLen?: number }): Uint8Array {
  if (bc.pathLen !== undefined) {
    // RFC 5280 §4.2.1.9: pathLenConstraint is meaningful only when cA is asserted.
    if (!bc.ca) fail('USAGE', 'basicConstraints.pathLen is set but basicConstraints.ca is false');
    if (!Number.isSafeInteger(bc.pathLen) || bc.pathLen < 0) {
      fail('USAGE', `basicConstraints.pathLen must be a non-negative integer, not ${bc.pathLen}`);
    }
  }
  const parts: Uint8Array[] = [];
  if (bc.ca) parts.push(der.bool(true));
  if (bc.pathLen !== undefined) parts.push(der.int(bc.pathLen));
  return der.seq(...parts);
}

/** KeyUsage ::= BIT STRING { digitalSignature (0), ..., decipherOnly (8) } (RFC 5280 §4.2.1.3) */
export function encodeKeyUsage(usages: readonly KeyUsageName[]): Uint8Array {
  // RFC 5280 §4.2.1.3: "at least one of the bits in the KeyUsage type MUST be set to 1".
  if (usages.length === 0) fail('USAGE', 'keyUsage is empty: omit it or name at least one usage');
  const bits = new Set<number>();
  for (const u of usages) {
    const bit = Object.hasOwn(KEY_USAGE, u) ? KEY_USAGE[u] : undefined;
    if (bit === undefined) fail('USAGE', `keyUsage: unknown usage "${u}"`);
    if (bits.has(bit)) fail('USAGE', `keyUsage: "${u}" is listed twice`);
    bits.add(bit);
  }
  return der.namedBits([...bits]);
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (RFC 5280 §4.2.1.12) */
export function encodeExtKeyUsage(oids: readonly string[]): Uint8Array {
  if (oids.length === 0) fail('USAGE', 'extKeyUsage is empty: omit it or name at least one purpose');
  if (new Set(oids).size !== oids.length) fail('USAGE', 'extKeyUsage lists a purpose twice');
  return der.seq(...oids.map((o) => der.oid(o)));
}

/** SubjectKeyIdentifier ::= KeyIdentifier (OCTET STRING) (RFC 5280 §4.2.1.2) */
export function encodeSubjectKeyId(keyId: Uint8Array): Uint8Array {
  checkKeyId(keyId, 'subjectKeyId');
  return der.octets(keyId);
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT KeyIdentifier OPTIONAL, ... } (RFC 5280 §4.2.1.1) */
export function encodeAuthorityKeyId(keyId: Uint8Array): Uint8Array {
  checkKeyId(keyId, 'issuer.subjectKeyId');
  return der.seq(der.implicitPrimitive(0, keyId));
}

/**
 * Key identifier for a SubjectPublicKeyInfo: RFC 7093 §2 method 1, the leftmost 160 bits of
 * SHA-256 over the subjectPublicKey BIT STRING value (without tag, length and unused-bits octet).
 *
 * @example
 * const rootKeyId = deriveSubjectKeyId(rootSigner.spki);
 */
export function deriveSubjectKeyId(spki: Uint8Array): Uint8Array {
  const { publicKey } = usageOnMalformed('spki', () => parseSpki(spki));
  return new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, 20));
}

function checkKeyId(keyId: Uint8Array, field: string): void {
  // Key identifiers are opaque but must exist; 64 octets is far above any real method.
  if (keyId.length === 0 || keyId.length > 64)
    fail('USAGE', `${field} must be 1..64 bytes, not ${keyId.length}`);
}

function encodeSerial(serial: Uint8Array | undefined): Uint8Array {
  if (serial === undefined) {
    // 128 random bits (CA/B Forum BRs ask for >= 64): top bit cleared keeps it positive without
    // a sign pad, a non-zero first byte keeps the length fixed at 16 octets.
    const s = new Uint8Array(randomBytes(16));
    s[0] = s[0]! & 0x7f || 0x01;
    return der.uintBytes(s);
  }
  const encoded = der.uintBytes(serial);
  // RFC 5280 §4.1.2.2: "a positive integer", "MUST NOT use serialNumber values longer than 20 octets".
  // (uintBytes adds the sign pad, so the length checked is the INTEGER content length.)
  if (encoded.length - 2 > MAX_SERIAL_OCTETS) {
    fail('USAGE', `serial encodes to more than ${MAX_SERIAL_OCTETS} octets (RFC 5280 §4.1.2.2)`);
  }
  if (encoded.length === 3 && encoded[2] === 0) fail('USAGE', 'serial must be positive, not zero');
  return encoded;
}

function encodeValidity(notBefore: number, notAfter: number): Uint8Array {
  for (const [field, v] of [
    ['notBefore', notBefore],
    ['notAfter', notAfter],
  ] as const) {
    if (!Number.isFinite(v) || v < MIN_TIME || v > MAX_TIME) {
      fail('USAGE', `${field} must be a time between the years 0000 and 9999, not ${v}`);
    }
  }
  if (notAfter < notBefore) {
    fail(
      'USAGE',
      `notAfter (${new Date(notAfter).toISOString()}) is before notBefore (${new Date(notBefore).toISOString()})`,
    );
  }
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (the writer chooses).
  return der.seq(der.time(notBefore), der.time(notAfter));
}

function encodeExtensionsField(t: CertificateTemplate): Uint8Array[] {
  const exts: { oid: string; encoded: Uint8Array }[] = [];
  const add = (oid: string, critical: boolean, value: Uint8Array) =>
    exts.push({ oid, encoded: buildExtension(oid, critical, value) });

  const bc = t.basicConstraints;
  if (bc) add(OID.basicConstraints, bc.ca, encodeBasicConstraints(bc));
  if (t.keyUsage) {
    // RFC 5280 §4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic
    // constraints extension MUST also be asserted."
    if (t.keyUsage.includes('keyCertSign') && !bc?.ca) {
      fail('USAGE', 'keyUsage has keyCertSign but basicConstraints.ca is not true');
    }
    add(OID.keyUsage, true, encodeKeyUsage(t.keyUsage));
  }
  if (t.extKeyUsage) add(OID.extKeyUsage, false, encodeExtKeyUsage(t.extKeyUsage));

  const ski = t.subjectKeyId ?? 'derive';
  if (ski !== false) {
    add(
      OID.subjectKeyIdentifier,
      false,
      encodeSubjectKeyId(ski === 'derive' ? deriveSubjectKeyId(t.spki) : ski),
    );
  }
  const issuerKeyId = t.issuer.subjectKeyId;
  if (t.authorityKeyId === true && issuerKeyId === undefined) {
    fail('USAGE', 'authorityKeyId is true but issuer.subjectKeyId is not given');
  }
  // RFC 5280 §4.2.1.1: MUST be included except in self-signed certificates, where it MAY be.
  if (t.authorityKeyId !== false && issuerKeyId !== undefined) {
    add(OID.authorityKeyIdentifier, false, encodeAuthorityKeyId(issuerKeyId));
  }

  for (const e of t.extensions ?? []) add(e.oid, e.critical, e.value);

  if (exts.length === 0) return [];
  // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
  const seen = new Set<string>();
  for (const e of exts) {
    if (seen.has(e.oid)) fail('USAGE', `extension ${e.oid} appears twice in the template`);
    seen.add(e.oid);
  }
  return [der.explicit(3, der.seq(...exts.map((e) => e.encoded)))];
}

/** The Name must be one DER SEQUENCE the certificate parser accepts. */
function checkName(name: Uint8Array, field: string): Uint8Array {
  usageOnMalformed(field, () => parseName(name, expectTag(parseDer(name), TAG.SEQUENCE, field)));
  return name;
}

function checkSpki(spki: Uint8Array, field: string): Uint8Array {
  usageOnMalformed(field, () => {
    const { publicKey } = parseSpki(spki);
    if (publicKey.length === 0) fail('KEY_MALFORMED', 'empty subjectPublicKey');
  });
  return spki;
}

/** Template bytes that do not parse are the caller's mistake: report them as USAGE naming the field. */
function usageOnMalformed<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isProvenanceError(err) && err.code !== 'USAGE') {
      fail('USAGE', `${field} is not valid DER of its type: ${err.message}`, { field, cause: err.code });
    }
    throw err;
  }
}
