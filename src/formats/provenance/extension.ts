/**
 * The ProvenanceKeyAttestation extension (OID.provenanceKeyAttestation, non-critical): the
 * claims a token makes about a key in its certificate of provenance (docs/architecture.md,
 * "The native format").
 *
 * ```asn1
 * ProvenanceKeyAttestation ::= SEQUENCE {
 *   version          INTEGER { v1(1) },
 *   nonce            [0] IMPLICIT OCTET STRING (SIZE (8..64)) OPTIONAL,  -- the verifier's challenge
 *   keyOrigin        [1] IMPLICIT ENUMERATED { generated(0), imported(1) },
 *   exportable       [2] IMPLICIT BOOLEAN,
 *   userPresence     [3] IMPLICIT ENUMERATED { never(0), cached(1), always(2) },
 *   userVerification [4] IMPLICIT ENUMERATED { never(0), once(1), always(2) },
 *   token            [5] IMPLICIT TokenInfo OPTIONAL
 * }
 * TokenInfo ::= SEQUENCE { model UTF8String, serial [0] IMPLICIT UTF8String OPTIONAL,
 *                          firmware [1] IMPLICIT UTF8String OPTIONAL }
 * ```
 *
 * Decoding is strict: every field in order with its exact tag, nothing unknown, DER
 * integers/booleans, bounded lengths, no trailing bytes. Any fault is ATTESTATION_MALFORMED
 * naming the field: a token that encodes its claims loosely is not one to trust.
 *
 * @example
 * const ext = cert.extension(OID.provenanceKeyAttestation);
 * const claims = decodeProvenanceKeyAttestation(ext.value);   // { keyOrigin: 'generated', ... }
 */
import {
  children,
  contentOf,
  expectTag,
  parseDer,
  readBoolean,
  readOctetString,
  readSmallInt,
  TAG,
  type Tlv,
} from '../../core/der.js';
import { der } from '../../core/der-writer.js';
import { type ErrorCode, fail, isProvenanceError, ProvenanceError } from '../../core/errors.js';

/** The decoded extension; `null` for absent optional fields. */
export interface ProvenanceKeyAttestation {
  readonly version: 1;
  /** The verifier's challenge, 8..64 bytes, or null when the token was not given one. */
  readonly nonce: Uint8Array | null;
  readonly keyOrigin: 'generated' | 'imported';
  readonly exportable: boolean;
  /** Touch (or other presence test) before each use. */
  readonly userPresence: 'never' | 'cached' | 'always';
  /** PIN or biometrics before use. */
  readonly userVerification: 'never' | 'once' | 'always';
  /** Display data about the token; trusted only as far as the anchor vouches for it. */
  readonly token: { readonly model: string; readonly serial?: string; readonly firmware?: string } | null;
}

/** Bounds of the nonce (SIZE (8..64)). */
export const PROVENANCE_NONCE_BYTES = { min: 8, max: 64 } as const;
/** Bounds, in characters, of the TokenInfo strings. */
export const PROVENANCE_TOKEN_LIMITS = { model: 128, serial: 64, firmware: 32 } as const;
/** Largest extnValue accepted: the fields at their bounds need about 1.1 KiB. */
export const MAX_PROVENANCE_EXTENSION_BYTES = 2048;

const KEY_ORIGIN = ['generated', 'imported'] as const;
const USER_PRESENCE = ['never', 'cached', 'always'] as const;
const USER_VERIFICATION = ['never', 'once', 'always'] as const;

/** Context tags: [n] IMPLICIT over primitive types, [5] over the TokenInfo SEQUENCE. */
const T = {
  nonce: 0x80,
  keyOrigin: 0x81,
  exportable: 0x82,
  userPresence: 0x83,
  userVerification: 0x84,
  token: 0xa5,
  tokenSerial: 0x80,
  tokenFirmware: 0x81,
} as const;

/**
 * Encode the extension value (the extnValue content: the SEQUENCE DER). Throws USAGE when a
 * field is out of range, so a token cannot emit what a verifier would refuse.
 *
 * @example
 * const value = encodeProvenanceKeyAttestation({ version: 1, nonce, keyOrigin: 'generated',
 *   exportable: false, userPresence: 'always', userVerification: 'once', token: { model: 'PT-1' } });
 * buildCertificate({ ..., extensions: [{ oid: OID.provenanceKeyAttestation, critical: false, value }] });
 */
export function encodeProvenanceKeyAttestation(a: ProvenanceKeyAttestation): Uint8Array {
  const w = (message: string): never => fail('USAGE', `ProvenanceKeyAttestation.${message}`);
  if (a.version !== 1) w(`version must be 1, not ${String(a.version)}`);
  const parts: Uint8Array[] = [der.int(1)];
  if (a.nonce !== null) {
    checkNonceLength(a.nonce.length, 'USAGE');
    parts.push(der.implicitPrimitive(0, a.nonce));
  }
  parts.push(retag(der.enumerated(enumIndex(KEY_ORIGIN, a.keyOrigin, 'keyOrigin')), T.keyOrigin));
  if (typeof a.exportable !== 'boolean') w('exportable must be a boolean');
  parts.push(retag(der.bool(a.exportable), T.exportable));
  parts.push(retag(der.enumerated(enumIndex(USER_PRESENCE, a.userPresence, 'userPresence')), T.userPresence));
  parts.push(
    retag(
      der.enumerated(enumIndex(USER_VERIFICATION, a.userVerification, 'userVerification')),
      T.userVerification,
    ),
  );
  if (a.token !== null) {
    const t = a.token;
    const info: Uint8Array[] = [der.utf8(checkText(t.model, 'token.model', 'USAGE'))];
    if (t.serial !== undefined)
      info.push(der.implicitPrimitive(0, utf8(checkText(t.serial, 'token.serial', 'USAGE'))));
    if (t.firmware !== undefined) {
      info.push(der.implicitPrimitive(1, utf8(checkText(t.firmware, 'token.firmware', 'USAGE'))));
    }
    parts.push(der.implicitConstructed(5, der.seq(...info)));
  }
  return der.seq(...parts);
}

/**
 * Decode an extnValue strictly. Throws ATTESTATION_MALFORMED naming the field on any fault.
 *
 * @example
 * const a = decodeProvenanceKeyAttestation(ext.value);
 * if (a.keyOrigin !== 'generated' || a.exportable) reject();
 */
export function decodeProvenanceKeyAttestation(extnValue: Uint8Array): ProvenanceKeyAttestation {
  if (extnValue.length > MAX_PROVENANCE_EXTENSION_BYTES) {
    malformed(`extension of ${extnValue.length} bytes exceeds ${MAX_PROVENANCE_EXTENSION_BYTES}`);
  }
  const buf = extnValue;
  const root = field('', () => expectTag(parseDer(buf), TAG.SEQUENCE, 'SEQUENCE'));
  const items = field('', () => children(buf, root));
  let k = 0;
  /** The next element, which must carry `tag`; `optional` returns null when the tag differs. */
  const next = (name: string, tag: number, optional: boolean): Tlv | null => {
    const t = items[k];
    if (t === undefined || t.tag !== tag) {
      if (optional) return null;
      return malformed(
        t === undefined
          ? `${name} is missing`
          : `${name}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`,
      );
    }
    k++;
    return t;
  };

  const versionTlv = next('version', TAG.INTEGER, false)!;
  const version = field('version', () => readSmallInt(buf, versionTlv, 'version'));
  if (version !== 1) malformed(`version must be 1, found ${version}`);

  let nonce: Uint8Array | null = null;
  const nonceTlv = next('nonce', T.nonce, true);
  if (nonceTlv) {
    nonce = field('nonce', () => readOctetString(buf, nonceTlv, 'nonce', T.nonce)).slice();
    checkNonceLength(nonce.length, 'ATTESTATION_MALFORMED');
  }
  const keyOrigin = decodeEnum(buf, next('keyOrigin', T.keyOrigin, false)!, KEY_ORIGIN, 'keyOrigin');
  const exportableTlv = next('exportable', T.exportable, false)!;
  const exportable = field('exportable', () => readBoolean(buf, exportableTlv, 'exportable', T.exportable));
  const userPresence = decodeEnum(
    buf,
    next('userPresence', T.userPresence, false)!,
    USER_PRESENCE,
    'userPresence',
  );
  const userVerification = decodeEnum(
    buf,
    next('userVerification', T.userVerification, false)!,
    USER_VERIFICATION,
    'userVerification',
  );
  const tokenTlv = next('token', T.token, true);
  const token = tokenTlv ? decodeTokenInfo(buf, tokenTlv) : null;
  // No extension marker in the ASN.1: anything after the last field is an unknown field.
  if (k !== items.length) {
    malformed(
      `unexpected field after ${tokenTlv ? 'token' : 'userVerification'} (tag 0x${items[k]!.tag.toString(16)})`,
    );
  }
  return { version: 1, nonce, keyOrigin, exportable, userPresence, userVerification, token };
}

function decodeTokenInfo(buf: Uint8Array, tlv: Tlv): NonNullable<ProvenanceKeyAttestation['token']> {
  const items = field('token', () => children(buf, tlv, [1, 3]));
  let k = 0;
  const modelTlv = items[k++]!;
  if (modelTlv.tag !== TAG.UTF8_STRING) malformed('token.model must be a UTF8String');
  const model = decodeText(buf, modelTlv, 'token.model');
  let serial: string | undefined;
  let firmware: string | undefined;
  if (items[k]?.tag === T.tokenSerial) serial = decodeText(buf, items[k++]!, 'token.serial');
  if (items[k]?.tag === T.tokenFirmware) firmware = decodeText(buf, items[k++]!, 'token.firmware');
  if (k !== items.length) malformed(`token: unexpected field (tag 0x${items[k]!.tag.toString(16)})`);
  return {
    model,
    ...(serial === undefined ? {} : { serial }),
    ...(firmware === undefined ? {} : { firmware }),
  };
}

function decodeEnum<V extends string>(buf: Uint8Array, tlv: Tlv, values: readonly V[], name: string): V {
  const n = field(name, () => readSmallInt(buf, tlv, name, tlv.tag));
  const v = values[n];
  if (v === undefined || n < 0) return malformed(`${name}: value ${n} is not one of 0..${values.length - 1}`);
  return v;
}

function decodeText(
  buf: Uint8Array,
  tlv: Tlv,
  name: 'token.model' | 'token.serial' | 'token.firmware',
): string {
  if (tlv.constructed) malformed(`${name} must be primitive`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(contentOf(buf, tlv));
  } catch {
    return malformed(`${name} is not valid UTF-8`);
  }
  return checkText(text, name, 'ATTESTATION_MALFORMED');
}

/** Strings are 1..limit characters, without control characters (they end up in logs and consoles). */
function checkText(
  value: string,
  name: 'token.model' | 'token.serial' | 'token.firmware',
  code: ErrorCode,
): string {
  const limit = PROVENANCE_TOKEN_LIMITS[name.slice(6) as keyof typeof PROVENANCE_TOKEN_LIMITS];
  const bad = (why: string): never => fail(code, `ProvenanceKeyAttestation.${name} ${why}`, { field: name });
  if (typeof value !== 'string') bad('must be a string');
  const length = [...value].length;
  if (length === 0) bad('is empty');
  if (length > limit) bad(`is ${length} characters long, the limit is ${limit}`);
  if (/[\x00-\x1f\x7f-\x9f]/.test(value)) bad('contains a control character');
  if (/\p{Cs}/u.test(value)) bad('contains a lone surrogate');
  return value;
}

function checkNonceLength(length: number, code: ErrorCode): void {
  // ASN.1: nonce OCTET STRING (SIZE (8..64)). Too short is guessable; too long is abuse.
  const { min, max } = PROVENANCE_NONCE_BYTES;
  if (length < min || length > max) {
    fail(code, `ProvenanceKeyAttestation.nonce must be ${min}..${max} bytes, not ${length}`, {
      field: 'nonce',
    });
  }
}

function enumIndex<V extends string>(values: readonly V[], v: V, name: string): number {
  const i = values.indexOf(v);
  if (i < 0)
    fail('USAGE', `ProvenanceKeyAttestation.${name} must be one of ${values.join(', ')}, not ${String(v)}`);
  return i;
}

function retag(encoded: Uint8Array, tag: number): Uint8Array {
  const out = Uint8Array.from(encoded);
  out[0] = tag;
  return out;
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function malformed(message: string): never {
  return fail('ATTESTATION_MALFORMED', `ProvenanceKeyAttestation: ${message}`);
}

/** Run a reader for field `name` ('' for the whole structure), turning any ProvenanceError (DER_*, ...) into ATTESTATION_MALFORMED. */
function field<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isProvenanceError(err) && err.code !== 'ATTESTATION_MALFORMED') {
      throw new ProvenanceError(
        'ATTESTATION_MALFORMED',
        `ProvenanceKeyAttestation${name === '' ? '' : `.${name}`}: ${err.message}`,
        { ...err.details, field: name },
        { cause: err },
      );
    }
    throw err;
  }
}
