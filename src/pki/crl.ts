/**
 * X.509 v2 certificate revocation lists (RFC 5280 §5): a strict, bounded parser and the check
 * of a CRL against its issuer. Both the provisioning service (its own CRL) and the verifier
 * (revocation of attestation chains) use them.
 *
 * ```asn1
 * CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier,
 *                                signatureValue BIT STRING }
 * TBSCertList ::= SEQUENCE {
 *   version Version OPTIONAL,                 -- if present, MUST be v2
 *   signature AlgorithmIdentifier, issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
 *   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate CertificateSerialNumber,
 *     revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *   crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 * ```
 *
 * Fail closed (RFC 5280 §5.2, §5.3): a critical CRL or entry extension this code does not
 * process makes the CRL unusable (CRL_INVALID). That includes issuingDistributionPoint and
 * deltaCRLIndicator (a partitioned or delta CRL is not a complete list) and certificateIssuer
 * (indirect CRLs). Strict DER throughout: an empty revokedCertificates list must be absent
 * (RFC 5280 §5.1.2.6), a v1 CRL has no extensions (§5.1.2.1).
 *
 * @example
 * const crl = parseCrl(der);
 * verifyCrl(crl, issuerCertificate, { time: Date.now() });
 * crl.isRevoked(leaf.serialHex)   // { serial, revocationDate, reason } or undefined
 */
import { toHex } from '../core/bytes.js';
import {
  children,
  encodingOf,
  expectTag,
  parseDer,
  readBigInt,
  readBitString,
  readSmallInt,
  readTime,
  readTlv,
  readUnsignedBytes,
  TAG,
  type Tlv,
} from '../core/der.js';
import { fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';
import {
  type AlgorithmIdentifier,
  type Certificate,
  decodeExtension,
  type Extension,
  type Name,
  parseAlgorithmIdentifier,
  parseAuthorityKeyId,
  parseExtensions,
  parseName,
} from './certificate.js';
import { type VerifyOptions, verifySignature } from './signature.js';

/** CRL extension and entry extension OIDs (RFC 5280 §5.2, §5.3). */
export const CRL_OID = {
  cRLNumber: OID.cRLNumber,
  /** RFC 5280 §5.2.4, critical: this is a delta CRL. */
  deltaCRLIndicator: '2.5.29.27',
  /** RFC 5280 §5.2.5, critical: the CRL's scope is limited. */
  issuingDistributionPoint: '2.5.29.28',
  reasonCode: OID.cRLReason,
  /** RFC 5280 §5.3.2, non-critical. */
  invalidityDate: '2.5.29.24',
  /** RFC 5280 §5.3.3, critical: indirect CRLs. */
  certificateIssuer: '2.5.29.29',
} as const;

/** CRLReason (RFC 5280 §5.3.1) names by code; 7 is unused. */
export const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

/** A CRLReason name. */
export type CrlReason = keyof typeof CRL_REASONS;

/** Bounds of the parser. A CRL of a million entries is about 40 MB: callers pass what they expect. */
export const CRL_LIMITS = {
  /** Largest encoding parsed by default. */
  maxBytes: 16 * 1024 * 1024,
  /** Most revoked entries by default. */
  maxEntries: 250_000,
} as const;

/** Options of `parseCrl`. */
export interface ParseCrlOptions {
  readonly maxBytes?: number;
  readonly maxEntries?: number;
}

/** One revoked certificate. */
export interface RevokedCertificate {
  /** Serial magnitude (big-endian, no sign pad). */
  readonly serial: Uint8Array;
  /** Lower-case hex of `serial`. */
  readonly serialHex: string;
  readonly revocationDate: number;
  /** The reasonCode entry extension, or null when absent (RFC 5280 §5.3.1: absent means unspecified). */
  readonly reason: CrlReason | null;
  /** The invalidityDate entry extension, or null. */
  readonly invalidityDate: number | null;
}

/** A parsed CRL; its signature is checked by `verifyCrl`. */
export interface CertificateList {
  readonly der: Uint8Array;
  /** The TBSCertList encoding: the bytes the issuer signed. */
  readonly tbs: Uint8Array;
  readonly version: 1 | 2;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly issuer: Name;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  readonly revoked: readonly RevokedCertificate[];
  readonly extensions: readonly Extension[];
  /** cRLNumber (RFC 5280 §5.2.3), or null. */
  readonly crlNumber: bigint | null;
  /** authorityKeyIdentifier keyIdentifier (RFC 5280 §5.2.1), or null. */
  readonly authorityKeyId: Uint8Array | null;
  readonly signature: Uint8Array;
  /** The entry for a serial (lower-case hex, no sign pad), or undefined. */
  isRevoked(serialHex: string): RevokedCertificate | undefined;
}

const REASON_BY_CODE = new Map<number, CrlReason>(
  Object.entries(CRL_REASONS).map(([name, code]) => [code, name as CrlReason]),
);

/**
 * Parse a DER CRL strictly. CRL_MALFORMED for structural faults (DER_* for encoding faults
 * such as truncation or trailing bytes, INPUT_TOO_LARGE or DER_LIMIT_EXCEEDED beyond the
 * limits), CRL_INVALID for a critical extension it does not process.
 *
 * @example
 * const crl = parseCrl(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function parseCrl(der: Uint8Array, options: ParseCrlOptions = {}): CertificateList {
  const maxBytes = options.maxBytes ?? CRL_LIMITS.maxBytes;
  if (der.length > maxBytes)
    fail('INPUT_TOO_LARGE', `CRL of ${der.length} bytes exceeds ${maxBytes}`, {
      size: der.length,
      limit: maxBytes,
    });
  try {
    return parseUnchecked(der, maxBytes, options.maxEntries ?? CRL_LIMITS.maxEntries);
  } catch (err) {
    if (
      isProvenanceError(err) &&
      (err.code === 'DER_MALFORMED' || err.code === 'EXTENSION_MALFORMED' || err.code === 'CERT_MALFORMED')
    ) {
      throw new ProvenanceError('CRL_MALFORMED', `malformed CRL: ${err.message}`, err.details, {
        cause: err,
      });
    }
    throw err;
  }
}

function parseUnchecked(der: Uint8Array, maxBytes: number, maxEntries: number): CertificateList {
  const root = expectTag(parseDer(der, { maxBytes }), TAG.SEQUENCE, 'CertificateList');
  const [tbsTlv, sigAlgTlv, sigTlv] = children(der, root, 3) as [Tlv, Tlv, Tlv];
  expectTag(tbsTlv, TAG.SEQUENCE, 'TBSCertList');
  const signatureAlgorithm = parseAlgorithmIdentifier(der, sigAlgTlv);
  const sigBits = readBitString(der, sigTlv, 'signatureValue');
  if (sigBits.unusedBits !== 0) malformed('signatureValue has unused bits');

  // The TBSCertList is walked element by element: revokedCertificates may be large.
  const fields = siblings(der, tbsTlv, 8);
  let i = 0;
  let version: 1 | 2 = 1;
  if (fields[0]?.tag === TAG.INTEGER) {
    // RFC 5280 §5.1.2.1: "if present, MUST be v2" (v1 is expressed by omission).
    if (readSmallInt(der, fields[0], 'version') !== 1) malformed('version must be v2 when present');
    version = 2;
    i = 1;
  }
  const tbsSigTlv = fields[i++];
  const issuerTlv = fields[i++];
  const thisUpdateTlv = fields[i++];
  if (!tbsSigTlv || !issuerTlv || !thisUpdateTlv) return malformed('TBSCertList is missing fields');
  const tbsSig = parseAlgorithmIdentifier(der, tbsSigTlv);
  // RFC 5280 §5.1.1.2: signatureAlgorithm MUST equal TBSCertList.signature.
  if (Buffer.compare(tbsSig.der, signatureAlgorithm.der) !== 0)
    malformed('signatureAlgorithm differs from TBSCertList.signature');
  const issuer = parseName(der, issuerTlv);
  // RFC 5280 §5.1.2.3: "The issuer field MUST contain a non-empty X.500 distinguished name".
  if (issuer.rdns.length === 0) malformed('the issuer name is empty');
  const thisUpdate = readTime(der, thisUpdateTlv, 'thisUpdate');
  let nextUpdate: number | null = null;
  if (fields[i] && (fields[i]!.tag === TAG.UTC_TIME || fields[i]!.tag === TAG.GENERALIZED_TIME)) {
    nextUpdate = readTime(der, fields[i]!, 'nextUpdate');
    if (nextUpdate < thisUpdate) malformed('nextUpdate is before thisUpdate');
    i++;
  }
  let revoked: RevokedCertificate[] = [];
  if (fields[i]?.tag === TAG.SEQUENCE) {
    revoked = parseRevoked(der, fields[i]!, version, maxEntries);
    i++;
  }
  let extensions: Extension[] = [];
  if (fields[i]?.tag === 0xa0) {
    if (version !== 2) malformed('crlExtensions in a v1 CRL');
    extensions = parseExtensions(der, children(der, fields[i]!, 1)[0]!);
    if (extensions.length === 0) malformed('empty crlExtensions');
    i++;
  }
  if (i !== fields.length)
    malformed(`unexpected field in TBSCertList (tag 0x${fields[i]!.tag.toString(16)})`, fields[i]!.start);

  let crlNumber: bigint | null = null;
  let authorityKeyId: Uint8Array | null = null;
  for (const ext of extensions) {
    switch (ext.oid) {
      case CRL_OID.cRLNumber:
        // CRLNumber ::= INTEGER (0..MAX), at most 20 octets (RFC 5280 §5.2.3).
        crlNumber = decodeExtension(ext, (v) => {
          const t = parseDer(v);
          if (t.end - t.valueStart > 20) malformed('cRLNumber longer than 20 octets');
          const n = readBigInt(v, t, 'cRLNumber');
          if (n < 0n) malformed('negative cRLNumber');
          return n;
        });
        break;
      case OID.authorityKeyIdentifier:
        authorityKeyId = decodeExtension(ext, parseAuthorityKeyId);
        break;
      default:
        // RFC 5280 §5.2: an unprocessed critical CRL extension makes the CRL unusable.
        if (ext.critical)
          fail('CRL_INVALID', `the CRL has a critical extension ${ext.oid} that is not processed`, {
            oid: ext.oid,
          });
    }
  }

  const bySerial = new Map<string, RevokedCertificate>();
  for (const entry of revoked) if (!bySerial.has(entry.serialHex)) bySerial.set(entry.serialHex, entry);
  return {
    der,
    tbs: encodingOf(der, tbsTlv),
    version,
    signatureAlgorithm,
    issuer,
    thisUpdate,
    nextUpdate,
    revoked,
    extensions,
    crlNumber,
    authorityKeyId,
    signature: sigBits.bytes,
    isRevoked: (serialHex) => bySerial.get(serialHex.toLowerCase()),
  };
}

function parseRevoked(der: Uint8Array, list: Tlv, version: 1 | 2, maxEntries: number): RevokedCertificate[] {
  const out: RevokedCertificate[] = [];
  for (const entryTlv of siblings(der, list, maxEntries)) {
    expectTag(entryTlv, TAG.SEQUENCE, 'revokedCertificate');
    const parts = children(der, entryTlv, [2, 3]);
    // RFC 5280 §5.1.2.6 refers to §4.1.2.2: serials are positive, at most 20 octets; as in
    // certificate.ts real issuers exceed the length, so up to 64 octets are read.
    if (parts[0]!.end - parts[0]!.valueStart > 64) malformed('serial number longer than 64 octets');
    const serial = readUnsignedBytes(der, parts[0]!, 'userCertificate', true);
    const revocationDate = readTime(der, parts[1]!, 'revocationDate');
    let reason: CrlReason | null = null;
    let invalidityDate: number | null = null;
    if (parts[2]) {
      if (version !== 2) malformed('crlEntryExtensions in a v1 CRL');
      const exts = parseExtensions(der, parts[2]);
      if (exts.length === 0) malformed('empty crlEntryExtensions');
      for (const ext of exts) {
        if (ext.oid === CRL_OID.reasonCode) {
          reason = decodeExtension(ext, (v) => {
            const code = readSmallInt(v, parseDer(v), 'CRLReason', TAG.ENUMERATED);
            const name = REASON_BY_CODE.get(code);
            if (name === undefined) malformed(`unknown CRLReason ${code}`);
            return name;
          });
        } else if (ext.oid === CRL_OID.invalidityDate) {
          // InvalidityDate ::= GeneralizedTime (RFC 5280 §5.3.2).
          invalidityDate = decodeExtension(ext, (v) => {
            const t = parseDer(v);
            if (t.tag !== TAG.GENERALIZED_TIME) malformed('invalidityDate must be GeneralizedTime');
            return readTime(v, t, 'invalidityDate');
          });
        } else if (ext.critical) {
          // RFC 5280 §5.3: certificateIssuer (indirect CRLs) and anything unknown, when critical.
          fail('CRL_INVALID', `a CRL entry has a critical extension ${ext.oid} that is not processed`, {
            oid: ext.oid,
          });
        }
      }
    }
    out.push({ serial, serialHex: toHex(serial), revocationDate, reason, invalidityDate });
  }
  // RFC 5280 §5.1.2.6: "When there are no revoked certificates, the revoked certificates list MUST be absent."
  if (out.length === 0) malformed('revokedCertificates is present but empty');
  return out;
}

/** Children of a constructed element, read one at a time with our own bound (not DER_LIMITS.maxChildren). */
function siblings(buf: Uint8Array, parent: Tlv, max: number): Tlv[] {
  if (!parent.constructed) malformed('expected a constructed element', parent.start);
  const out: Tlv[] = [];
  for (let pos = parent.valueStart; pos < parent.end; ) {
    if (out.length >= max)
      fail('DER_LIMIT_EXCEEDED', `more than ${max} elements in one CRL field`, {
        offset: parent.start,
        limit: max,
      });
    const t = readTlv(buf, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  return out;
}

/** Options of `verifyCrl`. */
export interface VerifyCrlOptions extends VerifyOptions {
  /** When given, the CRL must be current: thisUpdate ≤ time ≤ nextUpdate (RFC 5280 §6.3.3 (a)). */
  readonly time?: number;
}

/**
 * Check a CRL against the certificate of its issuer (RFC 5280 §6.3.3 (f), (g) and (j)): the
 * issuer name matches byte for byte, the keyUsage (when present) has cRLSign, the
 * authorityKeyIdentifier (when both carry one) matches, the signature verifies, and, with
 * `time`, the CRL is current. CRL_INVALID or SIGNATURE_INVALID; returns nothing.
 *
 * @example
 * verifyCrl(parseCrl(der), caCertificate, { time: clock() });
 */
export function verifyCrl(crl: CertificateList, issuer: Certificate, options: VerifyCrlOptions = {}): void {
  if (Buffer.compare(crl.issuer.der, issuer.subject.der) !== 0)
    fail('CRL_INVALID', `the CRL is issued by "${crl.issuer.text}", not "${issuer.subject.text}"`);
  // RFC 5280 §4.2.1.3: cRLSign "MUST" be asserted to verify signatures on CRLs.
  if (!issuer.allowsKeyUsage('cRLSign'))
    fail('CRL_INVALID', `"${issuer.subject.text}" may not sign CRLs (no cRLSign)`);
  if (
    crl.authorityKeyId &&
    issuer.subjectKeyId &&
    Buffer.compare(crl.authorityKeyId, issuer.subjectKeyId) !== 0
  )
    fail('CRL_INVALID', "the CRL's authorityKeyIdentifier names another key than the issuer's");
  const { time, ...verifyOptions } = options;
  if (!verifySignature(crl.signatureAlgorithm, crl.tbs, crl.signature, issuer.spki, verifyOptions))
    fail('SIGNATURE_INVALID', `the CRL signature does not verify under "${issuer.subject.text}"`);
  if (time !== undefined) {
    if (time < crl.thisUpdate)
      fail('CRL_INVALID', `the CRL is not valid before ${new Date(crl.thisUpdate).toISOString()}`);
    // A CRL without nextUpdate cannot say it is current: fail closed.
    if (crl.nextUpdate === null || time > crl.nextUpdate)
      fail(
        'CRL_INVALID',
        `the CRL is out of date (nextUpdate ${crl.nextUpdate === null ? 'absent' : new Date(crl.nextUpdate).toISOString()})`,
      );
  }
}

function malformed(message: string, offset?: number): never {
  return fail('CRL_MALFORMED', message, offset === undefined ? {} : { offset });
}
