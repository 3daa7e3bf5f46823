/**
 * WebAuthn containers: the attestation object (WebAuthn §6.5.4), authenticator data (§6.1,
 * §6.5.1), and collected client data (§5.8.1). Strict and bounded: exact lengths, no trailing
 * bytes, credentialId ≤ 1023 bytes (§5.8.3 credential ID), CBOR as `cbor.ts` allows.
 *
 * @example
 * const att = parseAttestationObject(bytes);
 * const authData = parseAuthenticatorData(att.authData);
 */
import { fail } from '../../core/errors.js';
import { type CborMap, type CborValue, decodeCbor, decodeCborPrefix } from './cbor.js';
import { coseKeyToSpki } from './cose.js';
import type { AttestationObject, AuthenticatorData } from './types.js';

/** Bounds of the WebAuthn containers. */
export const WEBAUTHN_LIMITS = {
  /** WebAuthn §5.8.3 / CTAP: credential IDs are at most 1023 bytes. */
  maxCredentialIdBytes: 1023,
  /** Largest attestation object accepted (TPM statements with chains are ~6 KiB). */
  maxAttestationObjectBytes: 64 * 1024,
  /** Largest clientDataJSON accepted. */
  maxClientDataBytes: 16 * 1024,
} as const;

/** Parse an attestation object `{fmt, attStmt, authData}`; any other key or type is refused. */
export function parseAttestationObject(bytes: Uint8Array): AttestationObject {
  if (bytes.length > WEBAUTHN_LIMITS.maxAttestationObjectBytes)
    fail('INPUT_TOO_LARGE', `attestation object of ${bytes.length} bytes`, {
      limit: WEBAUTHN_LIMITS.maxAttestationObjectBytes,
    });
  const v = decodeCbor(bytes);
  if (!(v instanceof Map)) return fail('WEBAUTHN_MALFORMED', 'the attestation object is not a CBOR map');
  return attestationObjectFromMap(v);
}

/** The three members of a decoded attestation object map, checked. */
export function attestationObjectFromMap(v: CborMap): AttestationObject {
  if (v.size !== 3)
    fail(
      'WEBAUTHN_MALFORMED',
      `the attestation object has ${v.size} members, expected fmt, attStmt, authData`,
    );
  const fmt = v.get('fmt');
  const attStmt = v.get('attStmt');
  const authData = v.get('authData');
  if (typeof fmt !== 'string' || fmt.length === 0 || fmt.length > 32)
    fail('WEBAUTHN_MALFORMED', 'attestation object "fmt" must be a short text string');
  if (attStmt === undefined) return fail('WEBAUTHN_MALFORMED', 'attestation object without "attStmt"');
  if (!(authData instanceof Uint8Array))
    return fail('WEBAUTHN_MALFORMED', 'attestation object "authData" must be bytes');
  return { fmt, attStmt, authData };
}

/**
 * Parse authenticator data (WebAuthn §6.1): rpIdHash(32) ‖ flags(1) ‖ signCount(4) ‖
 * [attestedCredentialData] ‖ [extensions]. The COSE key's length is known only by decoding
 * it; extensions must be exactly one CBOR map; nothing may follow.
 */
export function parseAuthenticatorData(raw: Uint8Array): AuthenticatorData {
  if (raw.length < 37)
    fail('WEBAUTHN_MALFORMED', `authenticator data of ${raw.length} bytes is shorter than 37`);
  const f = raw[32]!;
  const flags = {
    up: (f & 0x01) !== 0,
    uv: (f & 0x04) !== 0,
    be: (f & 0x08) !== 0,
    bs: (f & 0x10) !== 0,
    at: (f & 0x40) !== 0,
    ed: (f & 0x80) !== 0,
  };
  // §6.1: BS (backed up) can only be set for a backup-eligible credential.
  if (flags.bs && !flags.be) fail('WEBAUTHN_MALFORMED', 'authenticator data flags: BS set without BE');
  const signCount = ((raw[33]! << 24) >>> 0) + ((raw[34]! << 16) | (raw[35]! << 8) | raw[36]!);
  let pos = 37;
  let attested: AuthenticatorData['attested'] = null;
  if (flags.at) {
    if (raw.length < pos + 18) fail('WEBAUTHN_MALFORMED', 'attested credential data truncated');
    const aaguid = raw.subarray(pos, pos + 16);
    const idLength = (raw[pos + 16]! << 8) | raw[pos + 17]!;
    pos += 18;
    if (idLength > WEBAUTHN_LIMITS.maxCredentialIdBytes)
      fail('WEBAUTHN_MALFORMED', `credential ID of ${idLength} bytes exceeds 1023`, { length: idLength });
    if (raw.length < pos + idLength) fail('WEBAUTHN_MALFORMED', 'credential ID truncated');
    const credentialId = raw.subarray(pos, pos + idLength);
    pos += idLength;
    if (pos >= raw.length) fail('WEBAUTHN_MALFORMED', 'credential public key missing');
    const { value, end } = decodeCborPrefix(raw, pos, { maxDepth: 2, maxItems: 32 });
    const publicKey = coseKeyToSpki(value, raw.subarray(pos, end));
    pos = end;
    attested = { aaguid, credentialId, publicKey };
  }
  let extensions: Uint8Array | null = null;
  if (flags.ed) {
    if (pos >= raw.length) fail('WEBAUTHN_MALFORMED', 'ED flag set but no extensions follow');
    const { value, end } = decodeCborPrefix(raw, pos, { maxDepth: 4, maxItems: 256 });
    if (!(value instanceof Map)) fail('WEBAUTHN_MALFORMED', 'authenticator extensions are not a CBOR map');
    extensions = raw.subarray(pos, end);
    pos = end;
  }
  if (pos !== raw.length)
    fail('WEBAUTHN_MALFORMED', `${raw.length - pos} bytes follow the authenticator data`, {
      trailing: raw.length - pos,
    });
  return { raw, rpIdHash: raw.subarray(0, 32), flags, signCount, attested, extensions };
}

/** Collected client data (WebAuthn §5.8.1), the members the relying party checks. */
export interface ClientData {
  readonly type: string;
  /** base64url as sent (the bytes compare after decoding). */
  readonly challenge: string;
  readonly origin: string;
  readonly crossOrigin?: boolean;
  readonly topOrigin?: string;
  /** tokenBinding.status when present ('present' | 'supported' | other). */
  readonly tokenBindingStatus?: string;
}

/** Parse clientDataJSON strictly enough: UTF-8 JSON object with string type/challenge/origin. */
export function parseClientData(bytes: Uint8Array): ClientData {
  if (bytes.length > WEBAUTHN_LIMITS.maxClientDataBytes)
    fail('INPUT_TOO_LARGE', `clientDataJSON of ${bytes.length} bytes`, {
      limit: WEBAUTHN_LIMITS.maxClientDataBytes,
    });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return fail('WEBAUTHN_MALFORMED', 'clientDataJSON is not UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return fail('WEBAUTHN_MALFORMED', 'clientDataJSON is not a JSON object');
  const o = json as Record<string, unknown>;
  for (const k of ['type', 'challenge', 'origin'])
    if (typeof o[k] !== 'string') fail('WEBAUTHN_MALFORMED', `clientDataJSON member "${k}" must be a string`);
  // tokenBinding (WebAuthn L2 §5.8.1): an object with a status; legacy browsers sent a bare
  // string, which carries no binding and is ignored (as py_webauthn does).
  const tb = o['tokenBinding'];
  let tokenBindingStatus: string | undefined;
  if (typeof tb === 'object' && tb !== null) {
    const status = (tb as Record<string, unknown>)['status'];
    if (typeof status !== 'string')
      fail('WEBAUTHN_MALFORMED', 'clientDataJSON tokenBinding must have a status');
    tokenBindingStatus = status;
  }
  return {
    type: o['type'] as string,
    challenge: o['challenge'] as string,
    origin: o['origin'] as string,
    ...(typeof o['crossOrigin'] === 'boolean' ? { crossOrigin: o['crossOrigin'] } : {}),
    ...(typeof o['topOrigin'] === 'string' ? { topOrigin: o['topOrigin'] } : {}),
    ...(tokenBindingStatus === undefined ? {} : { tokenBindingStatus }),
  };
}

/**
 * Lenient base64 / base64url decoding (the MANIFEST: some sources use standard base64 with
 * `+/` and padding). Anything outside both alphabets is WEBAUTHN_MALFORMED.
 */
export function decodeBase64Lenient(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text))
    fail('WEBAUTHN_MALFORMED', `${what} is neither base64 nor base64url`);
  const clean = text.replace(/=+$/, '');
  if (clean.length % 4 === 1) fail('WEBAUTHN_MALFORMED', `${what} has an impossible base64 length`);
  return new Uint8Array(Buffer.from(clean.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url'));
}

/** An attStmt member as bytes. */
export function stmtMap(stmt: CborValue, fmt: string): CborMap {
  if (!(stmt instanceof Map)) return fail('ATTESTATION_MALFORMED', `${fmt} attStmt is not a CBOR map`);
  return stmt;
}
