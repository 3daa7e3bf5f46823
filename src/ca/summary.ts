/**
 * The provenance summary extension of issued certificates (`OID.provenanceSummary`,
 * `${PROVENANCE_ARC}.4.1`, non-critical): why the key was accepted, small enough to travel in
 * every certificate, with no device serial unless the profile asks for an inventory.
 *
 * ```asn1
 * ProvenanceSummary ::= SEQUENCE {
 *   version        INTEGER { v1(1) },
 *   ruleId         UTF8String,
 *   format         UTF8String,
 *   anchorSpki     OCTET STRING (SIZE (32)),   -- SHA-256 of the anchor's SPKI
 *   policyDigest   OCTET STRING (SIZE (32)),
 *   deviceSerial   [0] IMPLICIT UTF8String OPTIONAL   -- only when the profile asks
 * }
 * ```
 *
 * @example
 * const value = encodeProvenanceSummary({ ruleId: 'gemalto-cards', format: 'provenance',
 *   anchorSpkiSha256: anchor.spkiSha256, policyDigest: policy.digest });
 * decodeProvenanceSummary(value).ruleId   // 'gemalto-cards'
 */
import { toHex } from '../core/bytes.js';
import {
  children,
  expectTag,
  parseDer,
  readOctetString,
  readSmallInt,
  readString,
  TAG,
  type Tlv,
} from '../core/der.js';
import { der } from '../core/der-writer.js';
import { fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { OID, PROVENANCE_ARC } from '../core/oids.js';
import type { Certificate } from '../pki/certificate.js';
import { parseCertificatePolicies } from '../pki/policy-tree.js';

/** The decoded extension. Hashes are lower-case hex. */
export interface ProvenanceSummary {
  readonly version: 1;
  readonly ruleId: string;
  readonly format: string;
  /** Hex SHA-256 of the trust anchor's SubjectPublicKeyInfo. */
  readonly anchorSpkiSha256: string;
  /** Hex digest of the policy that accepted the key. */
  readonly policyDigest: string;
  /** Present only when the profile keeps an inventory (includeDeviceSerial). */
  readonly deviceSerial?: string;
}

/** Bounds of the text fields (characters): a summary is a few hundred bytes at most. */
export const SUMMARY_LIMITS = { maxText: 128, maxBytes: 1024 } as const;

const HEX_256 = /^[0-9a-f]{64}$/;
/** INTEGER 1, the only version. */
const VERSION_1 = Uint8Array.of(0x02, 0x01, 0x01);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The extnValue (DER ProvenanceSummary) for a summary. Throws USAGE for fields the ASN.1 or
 * the bounds refuse (empty or over-long text, control characters, hashes that are not 32 bytes).
 */
export function encodeProvenanceSummary(summary: Omit<ProvenanceSummary, 'version'>): Uint8Array {
  const parts = [
    VERSION_1,
    der.utf8(checkText(summary.ruleId, 'ruleId')),
    der.utf8(checkText(summary.format, 'format')),
    der.octets(checkHash(summary.anchorSpkiSha256, 'anchorSpkiSha256')),
    der.octets(checkHash(summary.policyDigest, 'policyDigest')),
  ];
  if (summary.deviceSerial !== undefined) {
    parts.push(
      der.implicitPrimitive(0, new TextEncoder().encode(checkText(summary.deviceSerial, 'deviceSerial'))),
    );
  }
  return der.seq(...parts);
}

/**
 * Decode a ProvenanceSummary extnValue strictly (DER, whole buffer, version 1, exact sizes,
 * valid UTF-8). Throws EXTENSION_MALFORMED naming the field.
 *
 * @example
 * const summary = decodeProvenanceSummary(cert.extension(OID.provenanceSummary)!.value);
 */
export function decodeProvenanceSummary(value: Uint8Array): ProvenanceSummary {
  try {
    return decodeUnchecked(value);
  } catch (err) {
    if (isProvenanceError(err) && (err.code.startsWith('DER_') || err.code === 'INPUT_TOO_LARGE')) {
      throw new ProvenanceError(
        'EXTENSION_MALFORMED',
        `ProvenanceSummary: ${err.message}`,
        { ...err.details, oid: OID.provenanceSummary },
        { cause: err },
      );
    }
    throw err;
  }
}

function decodeUnchecked(value: Uint8Array): ProvenanceSummary {
  const seq = expectTag(
    parseDer(value, { maxBytes: SUMMARY_LIMITS.maxBytes }),
    TAG.SEQUENCE,
    'ProvenanceSummary',
  );
  const f = children(value, seq, [5, 6]) as [Tlv, Tlv, Tlv, Tlv, Tlv, Tlv?];
  const version = readSmallInt(value, f[0], 'version');
  if (version !== 1) malformed(`unsupported version ${version}`);
  const ruleId = readUtf8(value, f[1], 'ruleId');
  const format = readUtf8(value, f[2], 'format');
  const anchor = readOctetString(value, f[3], 'anchorSpki');
  if (anchor.length !== 32) malformed(`anchorSpki must be 32 bytes, not ${anchor.length}`);
  const digest = readOctetString(value, f[4], 'policyDigest');
  if (digest.length !== 32) malformed(`policyDigest must be 32 bytes, not ${digest.length}`);
  let deviceSerial: string | undefined;
  if (f[5]) {
    // [0] IMPLICIT UTF8String: primitive in DER (X.690 §10.2).
    if (f[5].tag !== 0x80) malformed(`unexpected field (tag 0x${f[5].tag.toString(16)}) after policyDigest`);
    try {
      deviceSerial = utf8.decode(value.subarray(f[5].valueStart, f[5].end));
    } catch {
      malformed('deviceSerial is not valid UTF-8');
    }
  }
  return {
    version: 1,
    ruleId,
    format,
    anchorSpkiSha256: toHex(anchor),
    policyDigest: toHex(digest),
    ...(deviceSerial === undefined ? {} : { deviceSerial }),
  };
}

/** The summary of an issued certificate, or null when it carries none. EXTENSION_MALFORMED if it is bad. */
export function provenanceSummaryOf(cert: Certificate): ProvenanceSummary | null {
  const ext = cert.extension(OID.provenanceSummary);
  return ext ? decodeProvenanceSummary(ext.value) : null;
}

/** The certificate-policy OID naming an assurance level: `${PROVENANCE_ARC}.3.${level}`. */
export function assurancePolicyOid(level: number): string {
  if (!Number.isInteger(level) || level < 0 || level > 255)
    fail('USAGE', `assurance level must be 0..255, not ${level}`);
  return `${OID.provenanceAssuranceArc}.${level}`;
}

/** The assurance level a certificate's policies name (the first `${PROVENANCE_ARC}.3.N`), or null. */
export function assuranceLevelOf(cert: Certificate): number | null {
  const ext = cert.extension(OID.certificatePolicies);
  if (!ext) return null;
  const prefix = `${PROVENANCE_ARC}.3.`;
  for (const policy of parseCertificatePolicies(ext.value)) {
    if (policy.startsWith(prefix) && /^\d{1,3}$/.test(policy.slice(prefix.length))) {
      return Number(policy.slice(prefix.length));
    }
  }
  return null;
}

function readUtf8(buf: Uint8Array, tlv: Tlv, what: string): string {
  // The ASN.1 says UTF8String: no other string type is acceptable here.
  expectTag(tlv, TAG.UTF8_STRING, what);
  return readString(buf, tlv, what);
}

function malformed(message: string): never {
  return fail('EXTENSION_MALFORMED', `ProvenanceSummary: ${message}`, { oid: OID.provenanceSummary });
}

function checkText(value: string, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || [...value].length > SUMMARY_LIMITS.maxText)
    fail('USAGE', `${field} must be 1 to ${SUMMARY_LIMITS.maxText} characters`);
  if (/[\x00-\x1f\x7f]/.test(value)) fail('USAGE', `${field} contains a control character`);
  return value;
}

function checkHash(hex: string, field: string): Uint8Array {
  if (typeof hex !== 'string' || !HEX_256.test(hex))
    fail('USAGE', `${field} must be 64 lower-case hex digits (SHA-256)`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
