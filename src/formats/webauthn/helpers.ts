/**
 * Pieces every attestation statement verifier needs (WebAuthn §8): x5c decoding, the signed
 * data `authData ‖ clientDataHash`, and the FIDO certificate extensions (AAGUID, fw-version)
 * with their double wrapping (standards digest §3.4).
 *
 * @example
 * const x5c = readX5c(stmt.get('x5c'), 'packed');
 * checkAaguidExtension(x5c[0], authData.attested.aaguid);
 */
import { bytesEqual, toHex } from '../../core/bytes.js';
import { parseDer, readOctetString, readSmallInt, TAG } from '../../core/der.js';
import { fail } from '../../core/errors.js';
import { asCode, type Certificate, parseCertificate } from '../../pki/certificate.js';
import type { CborValue } from './cbor.js';
import type { AttestedCredentialData, AuthenticatorData } from './types.js';

/** FIDO certificate extension OIDs (FIDO Authenticator Metadata / WebAuthn §8.2.1). */
export const FIDO_OID = {
  /** id-fido-gen-ce-aaguid. */
  aaguid: '1.3.6.1.4.1.45724.1.1.4',
  /** id-fido-gen-ce-fw-version. */
  fwVersion: '1.3.6.1.4.1.45724.1.1.5',
  /** id-fido-gen-ce-sernum (enterprise attestation only). */
  serial: '1.3.6.1.4.1.45724.1.1.2',
  /** id-fido-u2f-ce-transports. */
  transports: '1.3.6.1.4.1.45724.2.1.1',
  /** Apple anonymous attestation nonce. */
  appleNonce: '1.2.840.113635.100.8.2',
} as const;

/** Most certificates an x5c may hold. */
export const MAX_X5C = 8;

/** Decode x5c: a non-empty array of DER certificates, at most `max`. */
export function readX5c(v: CborValue | undefined, fmt: string, max: number = MAX_X5C): Certificate[] {
  if (!Array.isArray(v) || v.length === 0)
    return fail('ATTESTATION_MALFORMED', `${fmt} x5c must be a non-empty array of certificates`);
  if (v.length > max) fail('ATTESTATION_MALFORMED', `${fmt} x5c holds more than ${max} certificates`);
  return v.map((c, i) => {
    if (!(c instanceof Uint8Array))
      return fail('ATTESTATION_MALFORMED', `${fmt} x5c[${i}] is not a byte string`);
    return parseCertificate(c);
  });
}

/** attToBeSigned = authenticatorData ‖ clientDataHash (WebAuthn §6.5.5 step "signed data"). */
export function signedData(authData: AuthenticatorData, clientDataHash: Uint8Array): Uint8Array {
  const out = new Uint8Array(authData.raw.length + clientDataHash.length);
  out.set(authData.raw, 0);
  out.set(clientDataHash, authData.raw.length);
  return out;
}

/** The attested credential data, or ATTESTATION_MALFORMED: registration requires it (AT set). */
export function requireAttested(authData: AuthenticatorData, fmt: string): AttestedCredentialData {
  if (!authData.attested)
    return fail(
      'ATTESTATION_MALFORMED',
      `${fmt}: the authenticator data has no attested credential data (AT)`,
    );
  return authData.attested;
}

/**
 * The AAGUID in `id-fido-gen-ce-aaguid`, or null when absent. WebAuthn §8.2.1: non-critical,
 * extnValue = OCTET STRING wrapping an OCTET STRING of 16 bytes (the certificate parser removes
 * the outer one; the inner one is decoded here).
 */
export function aaguidExtension(cert: Certificate): Uint8Array | null {
  const ext = cert.extension(FIDO_OID.aaguid);
  if (!ext) return null;
  if (ext.critical)
    fail('ATTESTATION_INVALID', 'the AAGUID extension must not be critical (WebAuthn §8.2.1)');
  return asCode('ATTESTATION_MALFORMED', 'AAGUID extension', () => {
    const inner = readOctetString(ext.value, parseDer(ext.value), 'AAGUID');
    if (inner.length !== 16)
      fail('ATTESTATION_MALFORMED', `AAGUID extension of ${inner.length} bytes, expected 16`);
    return inner;
  });
}

/** When the certificate carries the AAGUID extension it must equal authData's AAGUID (§8.2.1). */
export function checkAaguidExtension(cert: Certificate, aaguid: Uint8Array): void {
  const ext = aaguidExtension(cert);
  if (ext && !bytesEqual(ext, aaguid))
    fail(
      'AAGUID_MISMATCH',
      'the attestation certificate AAGUID extension differs from the authenticator data AAGUID',
      {
        certificate: formatAaguid(ext),
        authData: formatAaguid(aaguid),
      },
    );
}

/** id-fido-gen-ce-fw-version: an INTEGER inside the extnValue OCTET STRING, or null. */
export function firmwareVersion(cert: Certificate): number | null {
  const ext = cert.extension(FIDO_OID.fwVersion);
  if (!ext) return null;
  return asCode('ATTESTATION_MALFORMED', 'fw-version extension', () => {
    const v = readSmallInt(ext.value, parseDer(ext.value), 'fw-version', TAG.INTEGER);
    if (v < 0) fail('ATTESTATION_MALFORMED', 'fw-version must be non-negative');
    return v;
  });
}

/** An AAGUID as a lower-case UUID string with dashes (the MDS spelling). */
export function formatAaguid(aaguid: Uint8Array): string {
  const h = toHex(aaguid);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** True when every AAGUID byte is zero (U2F, or a platform that zeroed it for `none`). */
export function isZeroAaguid(aaguid: Uint8Array): boolean {
  for (const b of aaguid) if (b !== 0) return false;
  return true;
}
