/**
 * Types shared by the WebAuthn containers and the attestation statement verifiers
 * (W3C WebAuthn Level 3 §6.1, §6.5, §8). A statement verifier is a plug-in of the `webauthn`
 * format: it checks one `fmt` and returns a StatementResult; the format turns that into a
 * FormatResult for the shared pipeline (path, revocation, policy).
 */
import type { Certificate } from '../../pki/certificate.js';
import type { KeyCache } from '../../pki/keys.js';
import type { Claims, FormatPathOptions, QuirkReport } from '../types.js';
import type { CborValue } from './cbor.js';

/** authenticatorData flags (WebAuthn §6.1 "flags"). */
export interface AuthenticatorFlags {
  /** Bit 0: user present. */
  readonly up: boolean;
  /** Bit 2: user verified. */
  readonly uv: boolean;
  /** Bit 3: backup eligible (a multi-device, syncable credential). */
  readonly be: boolean;
  /** Bit 4: backed up. */
  readonly bs: boolean;
  /** Bit 6: attested credential data included. */
  readonly at: boolean;
  /** Bit 7: extension data included. */
  readonly ed: boolean;
}

/** A COSE_Key (RFC 9052 §7, RFC 9053) converted to a SubjectPublicKeyInfo. */
export interface CoseKey {
  /** kty (1): 1 OKP, 2 EC2, 3 RSA. */
  readonly kty: number;
  /** alg (3): the COSE algorithm the key is for (e.g. -7 ES256, -257 RS256, -8 EdDSA). */
  readonly alg: number;
  /** crv (-1) for EC2/OKP keys. */
  readonly crv?: number;
  /** DER SubjectPublicKeyInfo of the same key. */
  readonly spki: Uint8Array;
  /** 'ec-p256' | 'ec-p384' | 'ec-p521' | 'ed25519' | 'rsa'. */
  readonly keyAlgorithm: string;
  /** Bits: curve size or RSA modulus size. */
  readonly keySize: number;
  /** EC2 only: the raw coordinates (fido-u2f rebuilds the U2F public key from them). */
  readonly x?: Uint8Array;
  readonly y?: Uint8Array;
  /** The COSE_Key's CBOR encoding as it appeared in authenticator data. */
  readonly encoded: Uint8Array;
}

/** attestedCredentialData (WebAuthn §6.5.1). */
export interface AttestedCredentialData {
  /** 16 bytes. */
  readonly aaguid: Uint8Array;
  /** ≤ 1023 bytes. */
  readonly credentialId: Uint8Array;
  readonly publicKey: CoseKey;
}

/** Parsed authenticatorData (WebAuthn §6.1). */
export interface AuthenticatorData {
  /** The bytes as signed. */
  readonly raw: Uint8Array;
  readonly rpIdHash: Uint8Array;
  readonly flags: AuthenticatorFlags;
  readonly signCount: number;
  /** Present when flags.at. */
  readonly attested: AttestedCredentialData | null;
  /** The extensions CBOR map's bytes, when flags.ed. */
  readonly extensions: Uint8Array | null;
}

/** The attestation object (WebAuthn §6.5.4): fmt, attStmt, authData. */
export interface AttestationObject {
  readonly fmt: string;
  readonly attStmt: CborValue;
  /** Raw authenticatorData bytes (parsed later, by `parseAuthenticatorData`). */
  readonly authData: Uint8Array;
}

/** WebAuthn attestation types (§6.5.3). */
export type WebauthnAttestationType = 'basic' | 'self' | 'attca' | 'anonca' | 'none';

/** What a statement verifier gets besides the statement. */
export interface StatementContext {
  /** The verifier's KeyCache: verify every signature with cached KeyObjects (hot path). */
  readonly keyCache?: KeyCache;
  /**
   * Formats that need RS1 (COSE -65535, RSASSA-PKCS1-v1_5 with SHA-1; Windows TPMs) may accept
   * it only when this is true, and must then report the quirk `webauthn-rs1`.
   */
  readonly allowSha1?: boolean;
  /** The verification instant (ms): the clock, or the pinned time for recorded evidence. */
  readonly time?: number;
  /** Recursion guard for `compound`: statement verifiers never nest compound. */
  readonly nested?: boolean;
}

/** What a statement verifier returns (throws ProvenanceError on any failure). */
export interface StatementResult {
  readonly attestationType: WebauthnAttestationType;
  /**
   * x5c as given, leaf (the attestation certificate) first; empty for self and none. The
   * format hands it to path validation.
   */
  readonly trustPath: readonly Certificate[];
  /**
   * Set when the leaf certificate's own key is the credential key (android-key, apple):
   * it is then path position 0 itself.
   */
  readonly leafIsCredential?: boolean;
  /** Claims only the statement knows (securityLevel, firmware, generatedOnDevice, …). */
  readonly claims?: Partial<Claims>;
  /**
   * False when the attestation key does not vouch for authenticatorData's flags: fido-u2f
   * (the browser builds authData; the U2F signature covers rpIdHash, clientDataHash,
   * credentialId and key only), android-key (the app builds authData outside the TEE),
   * android-safetynet (Google vouches for the device, not the authenticator). Claims are then
   * not derived from UP/UV/BE; only the statement's own claims stand. Default true.
   */
  readonly flagsAttested?: boolean;
  /** Accepted named deviations (e.g. `webauthn-rs1`), position 0 = credential key. */
  readonly quirks?: readonly QuirkReport[];
  /** Path options this statement's chains need (e.g. TPM critical SAN handled by the format). */
  readonly pathOptions?: FormatPathOptions;
}

/** One attestation statement format (WebAuthn §8, IANA registry of RFC 8809). */
export interface StatementVerifier {
  /** The `fmt` identifier, e.g. 'packed'. */
  readonly fmt: string;
  verify(
    stmt: CborValue,
    authData: AuthenticatorData,
    clientDataHash: Uint8Array,
    ctx: StatementContext,
  ): StatementResult;
}
