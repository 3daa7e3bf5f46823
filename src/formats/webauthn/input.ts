/**
 * WebAuthn evidence (already parsed by `decodeEvidence`, src/verify/input.ts) into an EvidenceInput: a CBOR attestation object (first
 * byte 0xa3, a three-member map), or JSON — a RegistrationResponseJSON (WebAuthn §5.1,
 * `response.attestationObject` / `response.clientDataJSON`, base64url or standard base64),
 * its `response` member alone, a test-vector fixture wrapping one (`{ response, … }`), or
 * python-fido2 style parts `{fmt, attStmt, authData_hex, clientDataHash_hex}` with bytes as
 * `{"hex": …}`.
 *
 * @example
 * const input = webauthnEvidenceFromJson(JSON.parse(text)); // null for App Attest objects
 */
import { fail } from '../../core/errors.js';
import type { EvidenceInput } from '../types.js';
import type { CborMap, CborValue } from './cbor.js';
import { attestationObjectFromMap, decodeBase64Lenient, parseAttestationObject } from './containers.js';
import type { AttestationObject } from './types.js';

/** Attestation object formats that belong to other evidence formats (App Attest). */
const FOREIGN_FMTS = new Set(['apple-appattest']);

/** The EvidenceInput for an already parsed attestation object; null for another format's (App Attest). */
export function webauthnEvidenceFromAttestation(attestation: AttestationObject): EvidenceInput | null {
  if (FOREIGN_FMTS.has(attestation.fmt)) return null;
  return { kind: 'webauthn-attestation', attestation, clientDataHash: null, certificates: [] };
}

/** Strict hex for evidence: WEBAUTHN_MALFORMED (not USAGE) when it is not. */
function hexBytes(hex: string, what: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
    fail('WEBAUTHN_MALFORMED', `${what} is not valid hex`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The EvidenceInput for an already parsed JSON value (see the module comment for shapes). */
export function webauthnEvidenceFromJson(json: unknown): EvidenceInput | null {
  const o = obj(json);
  if (!o) return fail('INPUT_UNRECOGNIZED', 'WebAuthn JSON evidence must be an object');
  // python-fido2 "parts": no client data, the hash is given.
  if (typeof o['fmt'] === 'string' && typeof o['authData_hex'] === 'string') {
    const fmt = o['fmt'];
    if (FOREIGN_FMTS.has(fmt)) return null;
    const cdh = o['clientDataHash_hex'];
    const clientDataHash = typeof cdh === 'string' ? hexBytes(cdh, 'clientDataHash_hex') : null;
    const attStmt = jsonToCbor(o['attStmt'], 0);
    const attestation = attestationObjectFromMap(
      new Map<string, CborValue>([
        ['fmt', fmt],
        ['attStmt', attStmt],
        ['authData', hexBytes(o['authData_hex'], 'authData_hex')],
      ]),
    );
    return { kind: 'webauthn-attestation', attestation, clientDataHash, certificates: [] };
  }
  const outer = obj(o['response']);
  const response = outer && obj(outer['response']) ? obj(outer['response'])! : (outer ?? o);
  const ao = response['attestationObject'];
  const cd = response['clientDataJSON'];
  if (typeof ao !== 'string')
    return fail(
      'INPUT_UNRECOGNIZED',
      'WebAuthn JSON without response.attestationObject (a registration response is needed)',
    );
  const attestation = parseAttestationObject(decodeBase64Lenient(ao, 'attestationObject'));
  if (FOREIGN_FMTS.has(attestation.fmt)) return null;
  if (typeof cd !== 'string')
    return { kind: 'webauthn-attestation', attestation, clientDataHash: null, certificates: [] };
  return {
    kind: 'webauthn-registration',
    attestation,
    clientDataJSON: decodeBase64Lenient(cd, 'clientDataJSON'),
    certificates: [],
  };
}

/** JSON → CBOR value for "parts": `{hex}` objects are bytes, objects are maps. Bounded depth. */
function jsonToCbor(v: unknown, depth: number): CborValue {
  if (depth > 8) fail('WEBAUTHN_MALFORMED', 'attStmt JSON nests too deeply');
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail('WEBAUTHN_MALFORMED', 'attStmt JSON numbers must be integers');
    return v;
  }
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) return v.map((e) => jsonToCbor(e, depth + 1));
  const o = obj(v);
  if (!o) return fail('WEBAUTHN_MALFORMED', 'attStmt JSON value of an unexpected type');
  const keys = Object.keys(o);
  if (keys.length === 1 && typeof o['hex'] === 'string') return hexBytes(o['hex'], 'attStmt bytes');
  const m: CborMap = new Map();
  for (const k of keys) m.set(k, jsonToCbor(o[k], depth + 1));
  return m;
}
