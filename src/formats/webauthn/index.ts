/**
 * The `webauthn` format: a WebAuthn registration (RegistrationResponseJSON) or a bare
 * attestation object, verified as the relying party does in WebAuthn §7.1 — client data type,
 * challenge, origin, rpIdHash, user presence — then by the attestation statement verifier for
 * its `fmt` (§8). The statement's x5c is the chain the shared stage validates to an anchor
 * scoped to 'webauthn' (the policy's, or the FIDO MDS entry's for this AAGUID).
 *
 * Self and none attestation verify here but carry `noProvenance`: the verdict rejects them
 * (ATTESTATION_SELF / ATTESTATION_NONE) because they say nothing about the authenticator.
 *
 * @example
 * const verifier = createVerifier({ policy, formats: [webauthnFormat], mds });
 * const verdict = verifier.verify(decodeEvidence(registrationJson), {
 *   webauthn: { challenge, origin: 'https://example.com', rpId: 'example.com' },
 * });
 */
import { bytesEqual, sha256 } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import type { AttestationFormat, Claims, EvidenceInput, FormatContext, FormatResult } from '../types.js';
import { decodeBase64Lenient, parseAuthenticatorData, parseClientData } from './containers.js';
import { coseAlgName } from './cose.js';
import { formatAaguid, isZeroAaguid, requireAttested } from './helpers.js';
import { createCompoundStatement } from './statements/compound.js';
import { DEFAULT_STATEMENTS } from './statements.js';
import type { AuthenticatorData, StatementResult, StatementVerifier } from './types.js';

export const WEBAUTHN_FORMAT_ID = 'webauthn' as const;

/** Options of `createWebauthnFormat`. */
export interface WebauthnFormatOptions {
  /** Statement verifiers by fmt; DEFAULT_STATEMENTS by default (compound is always added). */
  readonly statements?: readonly StatementVerifier[];
  /** Accept COSE RS1 (SHA-1) where a statement format needs it (TPM); reported as a quirk. */
  readonly allowSha1?: boolean;
}

/** The registration checks that ran, for findings and tests. */
export interface RegistrationCheck {
  readonly clientDataHash: Uint8Array;
  /** The challenge bytes from clientData, when there is client data. */
  readonly challenge: Uint8Array | null;
  readonly challengeChecked: boolean;
}

function list(v: string | readonly string[] | undefined): readonly string[] | undefined {
  return v === undefined ? undefined : typeof v === 'string' ? [v] : v;
}

/**
 * WebAuthn §7.1 steps 7–12 on clientDataJSON: type, challenge, origin; and the hash the
 * statement signs. Challenge comparison is on the decoded bytes (base64url spellings vary).
 */
export function checkClientData(clientDataJSON: Uint8Array, ctx: FormatContext): RegistrationCheck {
  const cd = parseClientData(clientDataJSON);
  // §7.1 step 11: type must be webauthn.create (a login assertion is not a registration).
  if (cd.type !== 'webauthn.create')
    fail('WEBAUTHN_TYPE', `client data type is "${cd.type}", expected "webauthn.create"`, { type: cd.type });
  const challenge = decodeBase64Lenient(cd.challenge, 'clientData challenge');
  const expected = ctx.webauthn?.challenge ?? ctx.expectedNonce;
  // §7.1 step 12: the challenge is the one this relying party issued.
  if (expected !== undefined && !bytesEqual(challenge, expected))
    fail('NONCE_MISMATCH', 'the client data challenge differs from the expected challenge');
  // §7.1 step 13: the origin is one the relying party expects.
  const origins = list(ctx.webauthn?.origin);
  if (origins !== undefined && !origins.includes(cd.origin))
    fail('ORIGIN_MISMATCH', `client data origin "${cd.origin}" is not allowed`, {
      origin: cd.origin,
      allowed: origins,
    });
  // §7.1 step 14 (L3): a registration made in a cross-origin iframe needs the relying party's
  // consent to that top-level origin; without it, the page the user saw was someone else's.
  if (cd.crossOrigin === true || cd.topOrigin !== undefined) {
    const tops = list(ctx.webauthn?.topOrigin);
    if (tops === undefined || cd.topOrigin === undefined || !tops.includes(cd.topOrigin))
      fail(
        'ORIGIN_MISMATCH',
        `the registration was made in a cross-origin iframe (top origin ${cd.topOrigin ?? 'not given'}) that the relying party did not allow`,
        { topOrigin: cd.topOrigin ?? null, allowed: tops ?? [] },
      );
  }
  // Token binding (WebAuthn L2 §5.8.1 TokenBindingStatus): only "present" and "supported" exist.
  if (cd.tokenBindingStatus !== undefined && !['present', 'supported'].includes(cd.tokenBindingStatus))
    fail('WEBAUTHN_MALFORMED', `unexpected token binding status "${cd.tokenBindingStatus}"`);
  return { clientDataHash: sha256(clientDataJSON), challenge, challengeChecked: expected !== undefined };
}

/** WebAuthn §7.1 steps 15–16 on authenticator data: rpIdHash and user presence. */
export function checkAuthenticatorData(authData: AuthenticatorData, ctx: FormatContext): void {
  const rpIds = list(ctx.webauthn?.rpId);
  if (
    rpIds !== undefined &&
    !rpIds.some((id) => bytesEqual(sha256(Buffer.from(id, 'utf8')), authData.rpIdHash))
  )
    fail(
      'RPID_MISMATCH',
      `the authenticator data rpIdHash is not SHA-256 of ${rpIds.map((r) => `"${r}"`).join(' or ')}`,
    );
  if (!authData.flags.up)
    fail('USER_PRESENCE_MISSING', 'the authenticator data does not have the user-present flag');
}

function claimsFor(authData: AuthenticatorData, sr: StatementResult): Claims {
  const att = requireAttested(authData, 'webauthn');
  const { flags } = authData;
  const attested = sr.attestationType !== 'self' && sr.attestationType !== 'none';
  // Flags the attestation signature does not cover are display data, never claims (fail closed:
  // a requirement on them then finds the claim unstated).
  const fromFlags =
    sr.flagsAttested === false
      ? {}
      : {
          userPresence: flags.up ? ('always' as const) : ('never' as const),
          userVerification: flags.uv ? ('once' as const) : ('never' as const),
          // A backup-eligible credential is a syncable passkey: its private key leaves the device.
          nonExportable: !flags.be,
          ...(attested ? { generatedOnDevice: !flags.be } : {}),
        };
  return {
    keyAlgorithm: att.publicKey.keyAlgorithm,
    keySize: att.publicKey.keySize,
    coseAlgorithm: coseAlgName(att.publicKey.alg),
    aaguid: formatAaguid(att.aaguid),
    attestationType: sr.attestationType,
    flags: { up: flags.up, uv: flags.uv, be: flags.be, bs: flags.bs },
    ...(sr.flagsAttested === false ? { flagsAttested: false } : {}),
    signCount: authData.signCount,
    ...fromFlags,
    ...sr.claims,
  };
}

/** Build a `webauthn` format with the given statement verifiers. */
export function createWebauthnFormat(options: WebauthnFormatOptions = {}): AttestationFormat {
  const registry = new Map<string, StatementVerifier>();
  for (const s of options.statements ?? DEFAULT_STATEMENTS) registry.set(s.fmt, s);
  const compound = createCompoundStatement((fmt) => registry.get(fmt));
  registry.set(compound.fmt, compound);

  return {
    id: WEBAUTHN_FORMAT_ID,
    // Authenticator vendor PKIs are not RFC 5280 §4 strict (U2F roots without extensions).
    pathOptions: {
      profile: 'default',
      quirks: [
        // Attestation certificates of several vendors (Feitian, IBM, UNIPI) encode pre-2050
        // validity dates as GeneralizedTime (RFC 5280 §4.1.2.5 says UTCTime): up to a three-certificate chain.
        { id: 'webauthn-leaf-generalized-time', relax: 'generalized-time-before-2050', position: 0 },
        { id: 'webauthn-ca-generalized-time', relax: 'generalized-time-before-2050', position: 1 },
        { id: 'webauthn-root-generalized-time', relax: 'generalized-time-before-2050', position: 2 },
      ],
    },

    detect(input: EvidenceInput): boolean {
      return input.kind === 'webauthn-attestation' || input.kind === 'webauthn-registration';
    },

    verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
      if (input.kind !== 'webauthn-attestation' && input.kind !== 'webauthn-registration')
        return fail('ATTESTATION_MISSING', 'not WebAuthn evidence');
      let check: RegistrationCheck;
      if (input.kind === 'webauthn-registration') check = checkClientData(input.clientDataJSON, ctx);
      else {
        const hash = input.clientDataHash ?? ctx.webauthn?.clientDataHash;
        if (hash === undefined)
          return fail(
            'WEBAUTHN_MALFORMED',
            'a bare attestation object needs its clientDataHash (or the client data)',
          );
        if (hash.length !== 32) fail('WEBAUTHN_MALFORMED', 'clientDataHash must be 32 bytes (SHA-256)');
        if (
          input.clientDataHash &&
          ctx.webauthn?.clientDataHash &&
          !bytesEqual(input.clientDataHash, ctx.webauthn.clientDataHash)
        )
          fail('NONCE_MISMATCH', 'the clientDataHash differs from the expected one');
        check = { clientDataHash: hash, challenge: null, challengeChecked: false };
      }
      const { fmt, attStmt } = input.attestation;
      const authData = parseAuthenticatorData(input.attestation.authData);
      checkAuthenticatorData(authData, ctx);
      const attested = requireAttested(authData, fmt);
      const verifier = registry.get(fmt);
      if (!verifier)
        return fail('ATTESTATION_MISSING', `WebAuthn attestation format "${fmt}" is not supported`, { fmt });
      const sr = verifier.verify(attStmt, authData, check.clientDataHash, {
        ...(ctx.keyCache ? { keyCache: ctx.keyCache } : {}),
        ...(options.allowSha1 || ctx.allowSha1 === true ? { allowSha1: true } : {}),
        ...(ctx.time === undefined ? {} : { time: ctx.time }),
      });
      const leaf = sr.trustPath[0];
      const noProvenance =
        sr.attestationType === 'self'
          ? ({
              code: 'ATTESTATION_SELF',
              reason: `${fmt} self attestation: signed by the credential key itself`,
            } as const)
          : sr.attestationType === 'none'
            ? ({
                code: 'ATTESTATION_NONE',
                reason: `fmt "${fmt}": the authenticator gave no attestation`,
              } as const)
            : undefined;
      if (!noProvenance && !leaf) fail('ATTESTATION_INVALID', `${fmt} statement returned no trust path`);
      return {
        format: WEBAUTHN_FORMAT_ID,
        attestedKey: attested.publicKey.spki,
        signerChain: sr.trustPath,
        ...(sr.leafIsCredential && leaf ? { attestationCertificate: leaf } : {}),
        claims: claimsFor(authData, sr),
        freshness: check.challenge ? { nonce: check.challenge } : null,
        freshnessKind: check.challengeChecked ? 'nonce' : 'none',
        quirks: sr.quirks ?? [],
        csrVerified: false,
        ...(noProvenance ? { noProvenance } : {}),
        ...(sr.pathOptions ? { pathOptions: sr.pathOptions } : {}),
      };
    },
  };
}

/** The default `webauthn` format (packed, fido-u2f, none, apple, compound + plug-ins). */
export const webauthnFormat: AttestationFormat = createWebauthnFormat();

// The WebAuthn toolkit, for `provenance/formats/webauthn`: containers, COSE, evidence decoding.
export { decodeCbor, decodeCborPrefix, encodeCbor } from './cbor.js';
export { parseAttestationObject, parseAuthenticatorData, parseClientData } from './containers.js';
export { COSE_ALG, coseKeyToSpki, verifyCose } from './cose.js';
export { webauthnEvidenceFromAttestation, webauthnEvidenceFromJson } from './input.js';
export { DEFAULT_STATEMENTS } from './statements.js';
export type { StatementContext, StatementResult, StatementVerifier } from './types.js';
/** True when the AAGUID is all zeroes (identify U2F models by attestation key identifier). */
export { isZeroAaguid };
