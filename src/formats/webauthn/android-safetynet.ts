/**
 * `android-safetynet` attestation (WebAuthn §8.5; standards §3.3): the statement's `response` is
 * a SafetyNet Attestation API JWS (compact serialisation, RFC 7515 §7.1) signed by a
 * certificate for `attest.android.com`, whose payload nonce binds the registration:
 * `nonce == base64(SHA-256(authData ‖ clientDataHash))`.
 *
 * Deprecated: WebAuthn L3 deprecates the format and Google shut the SafetyNet Attestation API
 * down (January 2025). A statement that verifies is still reported with the named finding
 * `webauthn-android-safetynet-deprecated`, so a policy can refuse it.
 *
 * The JWS is verified with Node crypto (RS256/ES256 only: what SafetyNet produced; `none` and
 * HMAC algorithms can never verify a certificate-backed signature). The x5c chain (leaf
 * first) is the trust path: the format validates it to the GlobalSign root at the verdict time.
 *
 * @example
 * const sn = createAndroidSafetynetStatement({ clock: fixedClock(at) });
 * sn.verify(attStmt, authData, clientDataHash, { keyCache });
 */
import { constants, createHash, verify } from 'node:crypto';
import { bytesEqual } from '../../core/bytes.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { type Certificate, decodeExtension, nameAttribute, parseCertificate } from '../../pki/certificate.js';
import { parseGeneralNames } from '../../pki/general-names.js';
import { publicKeyObject } from '../../pki/keys.js';
import type { QuirkReport } from '../types.js';
import { type CborValue, cborBytes } from './cbor.js';
import { stmtMap } from './containers.js';
import { MAX_X5C, requireAttested, signedData } from './helpers.js';
import type { AuthenticatorData, StatementContext, StatementResult, StatementVerifier } from './types.js';

/** The hostname the SafetyNet signing certificate must be for (SafetyNet docs, "Verify the compatibility check response"). */
export const SAFETYNET_HOSTNAME = 'attest.android.com';

/** The finding every accepted SafetyNet statement carries. */
export const SAFETYNET_DEPRECATED_QUIRK = 'webauthn-android-safetynet-deprecated';

/** Bounds on the JWS (a real response is under 10 KiB). */
export const SAFETYNET_LIMITS = { maxResponseBytes: 64 * 1024, maxVerBytes: 64 } as const;

/** Options of `createAndroidSafetynetStatement`. */
export interface SafetynetOptions {
  /** "Now" when the context carries no `time`. Default: the system clock. */
  readonly clock?: Clock;
  /** Oldest acceptable response, ms before now (default 60 s, as SimpleWebAuthn/go-webauthn). */
  readonly maxAgeMs?: number;
  /** Allowed clock skew for a timestamp in the future (default 10 s). */
  readonly futureSkewMs?: number;
  /** Require ctsProfileMatch (default true: the device passed Android compatibility testing). */
  readonly requireCtsProfileMatch?: boolean;
}

/**
 * A StatementContext that may carry the verification instant (ms): recorded evidence is
 * checked at its pinned time, and the response timestamp must be compared to that same time.
 */
export interface SafetynetStatementContext extends StatementContext {
  readonly time?: number;
}

const B64URL = /^[A-Za-z0-9_-]*$/;
const B64STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function malformed(message: string, details: Record<string, unknown> = {}): never {
  return fail('ATTESTATION_MALFORMED', `android-safetynet: ${message}`, details);
}

function b64url(part: string, what: string): Uint8Array {
  // RFC 7515 §2: base64url without padding.
  if (!B64URL.test(part) || part.length % 4 === 1) malformed(`${what} is not base64url`);
  const bytes = new Uint8Array(Buffer.from(part, 'base64url'));
  // Canonical only (RFC 4648 §3.5): no non-zero trailing bits, so one JWS has one spelling.
  if (Buffer.from(bytes).toString('base64url') !== part) malformed(`${what} is not canonical base64url`);
  return bytes;
}

function jsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return malformed(`${what} is not UTF-8 JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return malformed(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** True when `cert` is for attest.android.com: SAN dNSName, or the CN when there is no SAN dNSName (RFC 6125 §6.4.4). */
function isForHostname(cert: Certificate): boolean {
  const ext = cert.extension(OID.subjectAltName);
  if (ext) {
    const names = decodeExtension(ext, parseGeneralNames);
    const dns = names.flatMap((n) => (n.type === 'dNSName' ? [n.value] : []));
    if (dns.length > 0) return dns.some((d) => d.toLowerCase() === SAFETYNET_HOSTNAME);
  }
  return nameAttribute(cert.subject, OID.commonName)?.toLowerCase() === SAFETYNET_HOSTNAME;
}

/** Verify the JWS signature (RFC 7515 §5.2) over `header.payload` with the leaf key. */
function verifyJws(
  alg: unknown,
  input: Uint8Array,
  sig: Uint8Array,
  leaf: Certificate,
  ctx: StatementContext,
): boolean {
  const key = ctx.keyCache ? ctx.keyCache.get(leaf.spki) : publicKeyObject(leaf.spki);
  try {
    // RFC 7518 §3.3 RS256; §3.4 ES256 (signature is r ‖ s, IEEE P1363).
    if (alg === 'RS256' && key.asymmetricKeyType === 'rsa')
      return verify('sha256', input, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    if (alg === 'ES256' && key.asymmetricKeyType === 'ec')
      return verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
  return fail(
    'ALGORITHM_UNSUPPORTED',
    `android-safetynet: JWS alg ${String(alg)} does not fit the ${key.asymmetricKeyType} leaf key`,
    {
      alg: String(alg),
    },
  );
}

/** Build the `android-safetynet` statement verifier (WebAuthn §8.5). */
export function createAndroidSafetynetStatement(options: SafetynetOptions = {}): StatementVerifier {
  const clock = options.clock ?? systemClock;
  const maxAge = options.maxAgeMs ?? 60_000;
  const skew = options.futureSkewMs ?? 10_000;
  const requireCts = options.requireCtsProfileMatch ?? true;
  return {
    fmt: 'android-safetynet',
    verify(
      stmt: CborValue,
      authData: AuthenticatorData,
      clientDataHash: Uint8Array,
      ctx: SafetynetStatementContext,
    ): StatementResult {
      const m = stmtMap(stmt, 'android-safetynet');
      for (const k of m.keys())
        if (k !== 'ver' && k !== 'response') malformed(`attStmt has an unknown member ${JSON.stringify(k)}`);
      const ver = m.get('ver');
      // §8.5: ver is the Google Play Services version: non-empty text.
      if (typeof ver !== 'string' || ver.length === 0 || ver.length > SAFETYNET_LIMITS.maxVerBytes)
        malformed('ver must be a non-empty text string');
      const response = cborBytes(m.get('response'), 'android-safetynet response');
      if (response.length > SAFETYNET_LIMITS.maxResponseBytes)
        fail('INPUT_TOO_LARGE', `android-safetynet response of ${response.length} bytes`, {
          limit: SAFETYNET_LIMITS.maxResponseBytes,
        });
      requireAttested(authData, 'android-safetynet');

      // RFC 7515 §7.1 compact serialisation: exactly three base64url parts.
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(response);
      } catch {
        return malformed('response is not UTF-8');
      }
      const parts = text.split('.');
      if (parts.length !== 3) malformed(`response has ${parts.length} JWS parts, expected 3`);
      const [h, p, s] = parts as [string, string, string];
      const header = jsonObject(b64url(h, 'JWS header'), 'JWS header');
      const payload = jsonObject(b64url(p, 'JWS payload'), 'JWS payload');
      const signature = b64url(s, 'JWS signature');
      // RFC 7515 §4.1.11: a "crit" header we do not understand must make the JWS invalid.
      if (header['crit'] !== undefined)
        fail('ATTESTATION_INVALID', 'android-safetynet: JWS has crit header parameters');
      const x5c = header['x5c'];
      if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_X5C)
        malformed('JWS header x5c must be 1 to 8 certificates');
      const chain = x5c.map((c, i) => {
        // RFC 7515 §4.1.6: x5c entries are standard base64 (not base64url) DER.
        if (typeof c !== 'string' || !B64STD.test(c)) return malformed(`JWS x5c[${i}] is not base64`);
        const bytes = new Uint8Array(Buffer.from(c, 'base64'));
        if (Buffer.from(bytes).toString('base64') !== c) malformed(`JWS x5c[${i}] is not canonical base64`);
        return parseCertificate(bytes);
      });
      const leaf = chain[0]!;
      if (!verifyJws(header['alg'], new TextEncoder().encode(`${h}.${p}`), signature, leaf, ctx))
        fail('SIGNATURE_INVALID', 'android-safetynet: the JWS signature does not verify');
      // SafetyNet docs: the signing certificate must be issued to attest.android.com.
      let forHost: boolean;
      try {
        forHost = isForHostname(leaf);
      } catch (err) {
        if (isProvenanceError(err)) forHost = false;
        else throw err;
      }
      if (!forHost)
        fail(
          'ATTESTATION_INVALID',
          `android-safetynet: the JWS signing certificate is not for ${SAFETYNET_HOSTNAME}`,
          {
            subject: leaf.subject.text,
          },
        );

      // The nonce binds this registration: base64(SHA-256(authData ‖ clientDataHash)) (§8.5 step 3).
      const expected = createHash('sha256').update(signedData(authData, clientDataHash)).digest();
      const nonce = payload['nonce'];
      if (typeof nonce !== 'string' || !B64STD.test(nonce))
        fail('NONCE_MISMATCH', 'android-safetynet: payload nonce is missing or not base64');
      if (!bytesEqual(new Uint8Array(Buffer.from(nonce, 'base64')), new Uint8Array(expected)))
        fail(
          'NONCE_MISMATCH',
          'android-safetynet: payload nonce is not base64(SHA-256(authData ‖ clientDataHash))',
        );

      // Freshness: timestampMs close to the verification time (SafetyNet docs: check it is recent).
      const ts = payload['timestampMs'];
      if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0)
        malformed('payload timestampMs must be a non-negative integer');
      const now = ctx.time ?? clock();
      if (ts > now + skew)
        fail('ATTESTATION_INVALID', 'android-safetynet: the response timestamp is in the future', {
          timestampMs: ts,
          now,
        });
      if (now - ts > maxAge)
        fail('ATTESTATION_INVALID', 'android-safetynet: the response is too old', {
          timestampMs: ts,
          now,
          maxAgeMs: maxAge,
        });
      // ctsProfileMatch: the device image passed Android compatibility testing.
      const cts = payload['ctsProfileMatch'];
      if (typeof cts !== 'boolean') malformed('payload ctsProfileMatch must be a boolean');
      if (requireCts && !cts)
        fail(
          'ATTESTATION_INVALID',
          'android-safetynet: ctsProfileMatch is false (device failed compatibility)',
        );
      const basic = payload['basicIntegrity'];

      const quirks: QuirkReport[] = [
        {
          id: SAFETYNET_DEPRECATED_QUIRK,
          position: 1,
          detail:
            'android-safetynet is deprecated (WebAuthn L3) and the SafetyNet Attestation API is shut down',
        },
      ];
      return {
        attestationType: 'basic',
        // SafetyNet vouches for the device's integrity, not for the key or the flags.
        flagsAttested: false,
        trustPath: chain,
        claims: {
          safetynetCtsProfileMatch: cts,
          ...(typeof basic === 'boolean' ? { safetynetBasicIntegrity: basic } : {}),
          ...(typeof payload['evaluationType'] === 'string'
            ? { safetynetEvaluationType: payload['evaluationType'] }
            : {}),
          ...(typeof payload['apkPackageName'] === 'string'
            ? { apkPackageName: payload['apkPackageName'] }
            : {}),
          safetynetTimestampMs: ts,
          safetynetVersion: ver,
        },
        quirks,
      };
    },
  };
}

/** The default `android-safetynet` verifier (system clock unless the context carries `time`). */
export const androidSafetynetStatement: StatementVerifier = createAndroidSafetynetStatement();
