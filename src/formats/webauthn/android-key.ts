/**
 * `android-key` attestation (WebAuthn §8.4; standards §3.3 `android-key`, §4): the credential
 * key is an Android Keystore key whose own certificate (credCert, x5c[0]) carries the
 * KeyDescription extension, chained to a Google attestation root.
 *
 * The authenticator data is produced outside the TEE (standards §3.4): only what the
 * KeyDescription says is hardware-backed. So origin and purpose are read from the
 * hardware-enforced list when the key claims a TEE or StrongBox, and from the union of both
 * lists only for a software key (which the claims then call 'software').
 *
 * @example
 * const r = androidKeyStatement.verify(attStmt, authData, clientDataHash, { keyCache });
 * r.claims?.securityLevel;   // 'tee' | 'secure-element' | 'software'
 */
import { bytesEqual } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import type { KeyCache } from '../../pki/keys.js';
import { publicKeyObject } from '../../pki/keys.js';
import {
  type AndroidKeyDescription,
  type AuthorizationList,
  KEY_DESCRIPTION_OID,
  originName,
  parseKeyDescription,
  purposeName,
} from '../android-key/key-description.js';
import type { Claims, QuirkReport } from '../types.js';
import { type CborValue, cborBytes, cborInt } from './cbor.js';
import { stmtMap } from './containers.js';
import { coseAlgName, verifyCose } from './cose.js';
import { readX5c, requireAttested, signedData } from './helpers.js';
import type { AuthenticatorData, StatementContext, StatementResult, StatementVerifier } from './types.js';

const KNOWN_MEMBERS = new Set(['alg', 'sig', 'x5c']);

/** KeyOrigin GENERATED (AOSP KeyMint Tag::ORIGIN). */
const ORIGIN_GENERATED = 0;
/** KeyPurpose SIGN. */
const PURPOSE_SIGN = 2;

function canonicalSpki(spki: Uint8Array, cache: KeyCache | undefined): Uint8Array {
  const key = cache ? cache.get(spki) : publicKeyObject(spki);
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/**
 * The list origin/purpose are read from: hardware-enforced unless the key is a software key.
 * The level is `securityLevel`, the lower of attestationSecurityLevel and keyMintSecurityLevel
 * (a TEE attestation of a software KeyMint key is a software key).
 */
function enforcedView(kd: AndroidKeyDescription): { origin?: number; purposes: readonly number[] } {
  if (kd.securityLevel !== 'software') {
    const hw = kd.hardwareEnforced;
    return { ...(hw.origin === undefined ? {} : { origin: hw.origin }), purposes: hw.purposes ?? [] };
  }
  const sw = kd.softwareEnforced;
  const hw = kd.hardwareEnforced;
  const origin = hw.origin ?? sw.origin;
  return {
    ...(origin === undefined ? {} : { origin }),
    purposes: [...(hw.purposes ?? []), ...(sw.purposes ?? [])],
  };
}

function hasAllApplications(list: AuthorizationList): boolean {
  return list.allApplications === true;
}

/** Android claims from a KeyDescription (securityLevel as the verdict vocabulary has it). */
export function androidKeyClaims(kd: AndroidKeyDescription): Partial<Claims> {
  const view = enforcedView(kd);
  const rot = kd.hardwareEnforced.rootOfTrust;
  const level = kd.securityLevel;
  return {
    securityLevel: level === 'software' ? 'software' : level === 'strongbox' ? 'secure-element' : 'tee',
    generatedOnDevice: view.origin === ORIGIN_GENERATED,
    // A TEE/StrongBox key never leaves the secure environment (Keystore has no export).
    nonExportable: level !== 'software',
    keyPurposes: view.purposes.map(purposeName),
    androidSecurityLevel: level,
    androidAttestationVersion: kd.attestationVersion,
    ...(view.origin === undefined ? {} : { androidOrigin: originName(view.origin) }),
    ...(rot
      ? {
          androidVerifiedBootState: rot.verifiedBootState,
          androidDeviceLocked: rot.deviceLocked,
        }
      : {}),
    ...(kd.hardwareEnforced.osPatchLevel === undefined
      ? {}
      : { androidOsPatchLevel: kd.hardwareEnforced.osPatchLevel }),
  };
}

/** The `android-key` statement verifier (WebAuthn §8.4). */
export const androidKeyStatement: StatementVerifier = {
  fmt: 'android-key',
  verify(
    stmt: CborValue,
    authData: AuthenticatorData,
    clientDataHash: Uint8Array,
    ctx: StatementContext,
  ): StatementResult {
    const m = stmtMap(stmt, 'android-key');
    for (const k of m.keys())
      if (typeof k !== 'string' || !KNOWN_MEMBERS.has(k))
        fail('ATTESTATION_MALFORMED', `android-key attStmt has an unknown member ${JSON.stringify(k)}`);
    const alg = cborInt(m.get('alg'), 'android-key alg');
    const sig = cborBytes(m.get('sig'), 'android-key sig');
    const x5c = readX5c(m.get('x5c'), 'android-key');
    const attested = requireAttested(authData, 'android-key');
    const credCert = x5c[0]!;

    // §8.4 step 2: sig over authData ‖ clientDataHash with credCert's key under alg.
    if (!verifyCose(alg, signedData(authData, clientDataHash), sig, credCert.spki, { cache: ctx.keyCache }))
      fail('SIGNATURE_INVALID', `android-key attestation signature (${coseAlgName(alg)}) does not verify`);
    // Step 3: credCert's key is the credential key.
    // Identical encodings are the same key; otherwise compare the keys' canonical encodings.
    if (
      !bytesEqual(credCert.spki, attested.publicKey.spki) &&
      !bytesEqual(
        canonicalSpki(credCert.spki, ctx.keyCache),
        canonicalSpki(attested.publicKey.spki, ctx.keyCache),
      )
    )
      fail('KEY_MISMATCH', 'android-key: the attestation certificate key is not the credential public key');

    // Step 4: the KeyDescription binds the key to this registration.
    const ext = credCert.extension(KEY_DESCRIPTION_OID);
    if (!ext) return fail('ATTESTATION_INVALID', 'android-key: credCert has no KeyDescription extension');
    const kd = parseKeyDescription(ext.value);
    if (!bytesEqual(kd.attestationChallenge, clientDataHash))
      fail('NONCE_MISMATCH', 'android-key: KeyDescription attestationChallenge is not clientDataHash');
    // allApplications (tag 600) would make the key usable by every app: not a per-RP credential.
    if (hasAllApplications(kd.softwareEnforced) || hasAllApplications(kd.hardwareEnforced))
      fail('ATTESTATION_INVALID', 'android-key: KeyDescription has allApplications (tag 600)');
    // origin GENERATED and purpose SIGN, from the hardware list for a hardware key (§8.4 step 4).
    const view = enforcedView(kd);
    if (view.origin !== ORIGIN_GENERATED)
      fail(
        'ATTESTATION_INVALID',
        `android-key: key origin is ${view.origin === undefined ? 'absent' : originName(view.origin)}, not generated`,
        { securityLevel: kd.securityLevel },
      );
    if (!view.purposes.includes(PURPOSE_SIGN))
      fail('ATTESTATION_INVALID', 'android-key: key purposes do not include sign', {
        purposes: view.purposes.map(purposeName),
      });

    // Parser deviations (tags out of order, unknown tags) are accepted and reported.
    const quirks: QuirkReport[] = kd.deviations.map((d) => ({
      id: `android-key-description-${d.id}`,
      // The leaf is the credential's own certificate: verdict position 0.
      position: 0,
      detail: d.detail,
    }));
    return {
      attestationType: 'basic',
      // authData is built by the app outside the TEE: only KeyDescription is hardware-backed.
      flagsAttested: false,
      trustPath: x5c,
      leafIsCredential: true,
      claims: androidKeyClaims(kd),
      quirks,
    };
  },
};
