/**
 * Apple Managed Device Attestation (MDA) leaf certificates (standards.md §5.1; docs/apple.md):
 * a certificate chained to the Apple Enterprise Attestation Root CA whose extensions in the arc
 * 1.2.840.113635.100.8 state the device's serial number, UDID, OS / sepOS / LLB versions,
 * the freshness code (nonce) and, on macOS, SIP / secure boot / kext status.
 *
 * Values come in two encodings (§5.1 "Encoding"): raw bytes in extnValue (what step-ca reads)
 * or a DER primitive (INTEGER or a string type) covering the whole value. Each value is decoded
 * tolerantly and the form seen is recorded; the freshness code is 32 raw bytes (or an OCTET
 * STRING of 32 bytes) compared constant-time with SHA-256(challenge).
 *
 * @example
 * const mda = decodeMdaCertificate(leaf);
 * mda.values.serialNumber?.text; // 'C02XL0AAJGH5'
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';

/** The MDA OIDs (arc 1.2.840.113635.100.8; standards.md §5.1 table). */
export const MDA_OID = {
  serialNumber: '1.2.840.113635.100.8.9.1',
  udid: '1.2.840.113635.100.8.9.2',
  softwareUpdateDeviceId: '1.2.840.113635.100.8.9.4',
  osVersion: '1.2.840.113635.100.8.10.1',
  sepOsVersion: '1.2.840.113635.100.8.10.2',
  llbVersion: '1.2.840.113635.100.8.10.3',
  freshnessCode: '1.2.840.113635.100.8.11.1',
  sipStatus: '1.2.840.113635.100.8.13.1',
  secureBootStatus: '1.2.840.113635.100.8.13.2',
  thirdPartyKextsAllowed: '1.2.840.113635.100.8.13.3',
} as const;

/** The claim name of each MDA OID. */
export type MdaField = keyof typeof MDA_OID;

const FIELD_BY_OID = new Map<string, MdaField>(Object.entries(MDA_OID).map(([k, v]) => [v, k as MdaField]));

/** Largest MDA extension value accepted (versions and identifiers are short). */
export const MDA_MAX_VALUE_BYTES = 256;

/** One decoded MDA value and the encoding it came in. */
export interface MdaValue {
  /** 'der-string' / 'der-integer': a DER primitive covered the value; 'raw': bytes as they are. */
  readonly form: 'der-string' | 'der-integer' | 'raw';
  /** Text for strings and integers (decimal), and for raw values that are printable UTF-8. */
  readonly text?: string;
  readonly bytes: Uint8Array;
}

/** What an MDA certificate says. */
export interface MdaAttestation {
  readonly values: Partial<Record<MdaField, MdaValue>>;
  /** The 32-byte freshness code when present. */
  readonly freshnessCode: Uint8Array | null;
}

/** True when the certificate carries at least one MDA device-property extension. */
export function hasMdaExtension(cert: Certificate): boolean {
  return cert.extensions.some((e) => FIELD_BY_OID.has(e.oid));
}

const STRING_TAGS = new Set([0x0c, 0x13, 0x16, 0x1a]); // UTF8String, PrintableString, IA5String, VisibleString
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A single-byte or short-form-length DER primitive spanning exactly `v`, or null. */
function derPrimitive(v: Uint8Array): { tag: number; content: Uint8Array } | null {
  if (v.length < 2) return null;
  const tag = v[0]!;
  let len = v[1]!;
  let hdr = 2;
  if (len === 0x81) {
    if (v.length < 3 || v[2]! < 0x80) return null;
    len = v[2]!;
    hdr = 3;
  } else if (len > 0x7f) return null;
  if (hdr + len !== v.length) return null;
  return { tag, content: v.subarray(hdr) };
}

function printable(text: string): boolean {
  return text.length > 0 && !/[\u0000-\u001f\u007f]/.test(text);
}

/** Decode one MDA value tolerantly (§5.1 "Parse tolerantly"). */
export function decodeMdaValue(value: Uint8Array): MdaValue {
  if (value.length > MDA_MAX_VALUE_BYTES) {
    fail(
      'EXTENSION_MALFORMED',
      `MDA extension value of ${value.length} bytes (limit ${MDA_MAX_VALUE_BYTES})`,
    );
  }
  const p = derPrimitive(value);
  if (p && STRING_TAGS.has(p.tag)) {
    try {
      return { form: 'der-string', text: utf8.decode(p.content), bytes: value.slice() };
    } catch {
      // not UTF-8 inside a string tag: fall through to raw
    }
  }
  if (p && p.tag === 0x02 && p.content.length > 0 && p.content.length <= 8) {
    // Minimal two's complement (X.690 §8.3.2), non-negative: versions and flags.
    const c = p.content;
    const minimal = c.length === 1 || !((c[0] === 0 && c[1]! < 0x80) || (c[0] === 0xff && c[1]! >= 0x80));
    if (minimal && c[0]! < 0x80) {
      let n = 0n;
      for (const b of c) n = (n << 8n) | BigInt(b);
      return { form: 'der-integer', text: n.toString(), bytes: value.slice() };
    }
  }
  let text: string | undefined;
  try {
    const t = utf8.decode(value);
    if (printable(t)) text = t;
  } catch {
    text = undefined;
  }
  return { form: 'raw', ...(text === undefined ? {} : { text }), bytes: value.slice() };
}

/** Decode every MDA extension of a leaf. EXTENSION_MALFORMED for an unusable freshness code. */
export function decodeMdaCertificate(cert: Certificate): MdaAttestation {
  const values: Partial<Record<MdaField, MdaValue>> = {};
  let freshnessCode: Uint8Array | null = null;
  for (const e of cert.extensions) {
    const field = FIELD_BY_OID.get(e.oid);
    if (!field) continue;
    if (field === 'freshnessCode') {
      // Raw 32 bytes (step-ca compares extnValue itself) or an OCTET STRING of 32 bytes.
      const p = derPrimitive(e.value);
      if (e.value.length === 32) freshnessCode = e.value.slice();
      else if (p && p.tag === 0x04 && p.content.length === 32) freshnessCode = p.content.slice();
      else fail('EXTENSION_MALFORMED', `MDA freshness code of ${e.value.length} bytes is not a 32-byte hash`);
      values.freshnessCode = { form: e.value.length === 32 ? 'raw' : 'der-string', bytes: freshnessCode };
      continue;
    }
    values[field] = decodeMdaValue(e.value);
  }
  return { values, freshnessCode };
}

/**
 * Check the freshness code against the challenge: it must equal SHA-256(challenge) (§5.1 step 3,
 * step-ca's rule), compared constant-time. A device may return a cached attestation whose code
 * belongs to an older challenge: that is a mismatch all the same (§5.3), never accepted silently.
 */
export function checkMdaFreshness(mda: MdaAttestation, challenge: Uint8Array): void {
  if (mda.freshnessCode === null) {
    fail('NONCE_MISSING', 'the MDA certificate has no freshness code (1.2.840.113635.100.8.11.1)');
  }
  const expected = sha256(challenge);
  if (!timingSafeEqual(Buffer.from(mda.freshnessCode), Buffer.from(expected))) {
    fail(
      'NONCE_MISMATCH',
      'the MDA freshness code is not SHA-256 of the challenge (a device may have returned a cached attestation: ask again)',
    );
  }
}
