/**
 * Apple App Attest attestation objects (standards.md §5.2; Apple "Validating apps that connect
 * to your server"; docs/apple.md):
 *
 *   { fmt: "apple-appattest", attStmt: { x5c: [credCert, intermediate], receipt: bytes }, authData }
 *
 * Checks, each with its own code (the certificate path is the verifier's shared stage):
 * 1. clientDataHash = SHA-256(challenge); nonce = SHA-256(authData ‖ clientDataHash) equals the
 *    credCert extension 1.2.840.113635.100.8.2, `SEQUENCE { [1] EXPLICIT OCTET STRING (32) }`
 *    (step 2-3; NONCE_MISMATCH). Without a challenge nothing ties authData to the certificate,
 *    so a missing challenge is NONCE_MISSING, not a warning.
 * 2. credCert's key is a P-256 key; keyId = SHA-256(uncompressed point) equals the credentialId
 *    (steps 4, 8) and the COSE key in authData is the same key (KEY_MISMATCH).
 * 3. rpIdHash = SHA-256(App ID "<TeamID>.<BundleID>") (step 5; RPID_MISMATCH).
 * 4. counter = 0 (step 6; ATTESTATION_INVALID).
 * 5. AAGUID "appattest" ‖ 7×00 (production) or "appattestdevelop" (development) (step 7;
 *    AAGUID_MISMATCH); development is refused unless the relying party allows it.
 *
 * @example
 * const r = verifyAppAttest({ attestationObject, appId: 'TEAMID.com.example.app' }, challenge);
 * r.environment; // 'production'
 */
import { bytesEqual, sha256 } from '../../core/bytes.js';
import { children, expectTag, parseDer, TAG } from '../../core/der.js';
import { fail, isProvenanceError, ProvenanceError } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import { describeKey } from '../../pki/keys.js';
import { isCborMap } from '../webauthn/cbor.js';
import { parseAttestationObject, parseAuthenticatorData } from '../webauthn/containers.js';
import { readX5c } from '../webauthn/helpers.js';
import type { AuthenticatorData } from '../webauthn/types.js';

/** Apple OIDs used by App Attest. */
export const APP_ATTEST_OID = {
  /** The nonce extension of the credential certificate (also Apple anonymous WebAuthn, §8.8). */
  nonce: '1.2.840.113635.100.8.2',
} as const;

/** The fmt of an App Attest attestation object. */
export const APP_ATTEST_FMT = 'apple-appattest';

/** AAGUIDs (16 bytes) of the two App Attest environments. */
export const APP_ATTEST_AAGUID = {
  production: Uint8Array.from([...Buffer.from('appattest', 'latin1'), 0, 0, 0, 0, 0, 0, 0]),
  development: Uint8Array.from(Buffer.from('appattestdevelop', 'latin1')),
} as const;

/** Bounds: x5c is credCert + one intermediate; the receipt (CMS) is ~5 KiB. */
export const APP_ATTEST_LIMITS = { maxCertificates: 4, maxReceiptBytes: 32 * 1024 } as const;

/** What the relying party supplies. */
export interface AppAttestInput {
  readonly attestationObject: Uint8Array;
  /** `<TeamID>.<BundleID>`. */
  readonly appId: string;
  /** Accept the development environment (AAGUID "appattestdevelop"). Default false. */
  readonly allowDevelopment?: boolean;
}

/** A verified App Attest attestation (before path validation). */
export interface AppAttestResult {
  readonly environment: 'production' | 'development';
  readonly appId: string;
  /** SHA-256 of the uncompressed public key point (= credentialId), as DCAppAttestService returns it. */
  readonly keyId: Uint8Array;
  /** credCert's SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** credCert first, then the rest of x5c. */
  readonly certificates: readonly Certificate[];
  /** The fraud-metric receipt (CMS), opaque: kept for the relying party. */
  readonly receipt: Uint8Array;
  readonly authData: AuthenticatorData;
  /** The nonce the certificate carries (= SHA-256(authData ‖ clientDataHash)). */
  readonly nonce: Uint8Array;
}

/** Decode the nonce extension value: SEQUENCE { [1] EXPLICIT OCTET STRING (SIZE(32)) }. */
export function decodeAppAttestNonce(value: Uint8Array): Uint8Array {
  try {
    const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'App Attest nonce');
    const [tagged] = children(value, seq, [1, 1]);
    if (tagged!.tag !== 0xa1) fail('EXTENSION_MALFORMED', 'App Attest nonce: expected [1] EXPLICIT');
    const [octets] = children(value, tagged!, [1, 1]);
    const o = expectTag(octets!, TAG.OCTET_STRING, 'App Attest nonce');
    if (o.end - o.valueStart !== 32) fail('EXTENSION_MALFORMED', 'App Attest nonce is not 32 bytes');
    return value.slice(o.valueStart, o.end);
  } catch (err) {
    if (isProvenanceError(err) && err.code.startsWith('DER_')) {
      throw new ProvenanceError('EXTENSION_MALFORMED', `App Attest nonce: ${err.message}`, err.details, {
        cause: err,
      });
    }
    throw err;
  }
}

/** The uncompressed point (0x04 ‖ X ‖ Y) of a P-256 SPKI, or KEY_MISMATCH for any other key. */
function p256Point(spki: Uint8Array): Uint8Array {
  const d = describeKey(spki);
  if (d.keyAlgorithm !== 'ec-p256')
    fail('KEY_MISMATCH', `the App Attest key is ${d.keyAlgorithm}, not P-256`);
  // A canonical P-256 SPKI ends with the 65-byte point (RFC 5480 §2.2).
  const point = spki.slice(spki.length - 65);
  if (point[0] !== 0x04) fail('KEY_MISMATCH', 'the App Attest key is not an uncompressed P-256 point');
  return point;
}

/** Verify an App Attest attestation object against the challenge the server issued. */
export function verifyAppAttest(input: AppAttestInput, challenge: Uint8Array | undefined): AppAttestResult {
  const att = parseAttestationObject(input.attestationObject);
  if (att.fmt !== APP_ATTEST_FMT) {
    fail('ATTESTATION_MALFORMED', `attestation object fmt "${att.fmt}" is not ${APP_ATTEST_FMT}`);
  }
  const stmt = att.attStmt;
  if (!isCborMap(stmt) || stmt.size !== 2 || !stmt.has('x5c') || !stmt.has('receipt')) {
    fail('ATTESTATION_MALFORMED', 'apple-appattest attStmt must be a map of exactly x5c and receipt');
  }
  const certificates = readX5c(stmt.get('x5c'), APP_ATTEST_FMT, APP_ATTEST_LIMITS.maxCertificates);
  const receipt = stmt.get('receipt');
  if (!(receipt instanceof Uint8Array) || receipt.length > APP_ATTEST_LIMITS.maxReceiptBytes) {
    fail(
      'ATTESTATION_MALFORMED',
      `apple-appattest receipt must be a byte string of at most ${APP_ATTEST_LIMITS.maxReceiptBytes} bytes`,
    );
  }
  const authData = parseAuthenticatorData(att.authData);
  const attested = authData.attested;
  if (attested === null)
    fail('ATTESTATION_MALFORMED', 'App Attest authenticator data has no attested credential');
  const credCert = certificates[0]!;

  // Steps 2-3: the certificate's nonce binds authData and the server's challenge.
  if (challenge === undefined) {
    fail(
      'NONCE_MISSING',
      'App Attest needs the challenge the server issued: without it authData is not bound to the certificate',
    );
  }
  const ext = credCert.extension(APP_ATTEST_OID.nonce);
  if (!ext) fail('ATTESTATION_MALFORMED', 'the App Attest credential certificate has no nonce extension');
  const certNonce = decodeAppAttestNonce(ext.value);
  const clientDataHash = sha256(challenge);
  const nonce = sha256(Buffer.concat([authData.raw, clientDataHash]));
  if (!bytesEqual(nonce, certNonce)) {
    fail('NONCE_MISMATCH', 'SHA-256(authData ‖ SHA-256(challenge)) differs from the certificate nonce');
  }

  // Steps 4 and 8: keyId = SHA-256(point) = credentialId; the authData key is the certificate key.
  const keyId = sha256(p256Point(credCert.spki));
  if (!bytesEqual(attested.credentialId, keyId)) {
    fail('KEY_MISMATCH', 'the credential ID is not SHA-256 of the certificate public key (keyId)');
  }
  if (!bytesEqual(attested.publicKey.spki, credCert.spki)) {
    fail('KEY_MISMATCH', 'the authenticator data public key is not the certificate public key');
  }

  // Step 5: the App ID the relying party expects.
  if (!/^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$/.test(input.appId)) {
    fail('USAGE', `"${input.appId}" is not an App ID (<TeamID>.<BundleID>)`);
  }
  if (!bytesEqual(authData.rpIdHash, sha256(Buffer.from(input.appId, 'utf8')))) {
    fail('RPID_MISMATCH', `the attestation is not for App ID ${input.appId}`, { appId: input.appId });
  }
  // Step 6: a fresh key's counter is 0.
  if (authData.signCount !== 0) {
    fail('ATTESTATION_INVALID', `App Attest counter is ${authData.signCount}, expected 0`);
  }
  // Step 7: the environment.
  let environment: AppAttestResult['environment'];
  if (bytesEqual(attested.aaguid, APP_ATTEST_AAGUID.production)) environment = 'production';
  else if (bytesEqual(attested.aaguid, APP_ATTEST_AAGUID.development)) environment = 'development';
  else return fail('AAGUID_MISMATCH', 'the AAGUID is neither App Attest production nor development');
  if (environment === 'development' && input.allowDevelopment !== true) {
    fail('AAGUID_MISMATCH', 'the attestation comes from the App Attest development environment', {
      environment,
    });
  }
  return {
    environment,
    appId: input.appId,
    keyId,
    spki: credCert.spki,
    certificates,
    receipt: (receipt as Uint8Array).slice(),
    authData,
    nonce,
  };
}
