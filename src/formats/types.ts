/**
 * The contract every evidence format implements (docs/architecture.md, "Core types").
 * A format decodes its evidence and checks what only it can check (its own signature, the
 * key binding, the nonce binding); path validation, revocation and policy are shared stages.
 */
import type { Certificate } from '../pki/certificate.js';
import type { ParsedCsr } from '../pki/csr.js';
import type { KeyCache } from '../pki/keys.js';
import type { PathProfile, PathQuirk, PathQuirkReport } from '../pki/path.js';
import type { AttestationObject as WebauthnAttestationObject } from './webauthn/types.js';

export type FormatId =
  | 'provenance'
  | 'yubikey-piv'
  | 'tpm'
  | 'android-key'
  | 'apple'
  | 'webauthn'
  | 'cloud-hsm';

/** A named, scoped deviation that was accepted, reported in the verdict (position 0 = attested key). */
export type QuirkReport = PathQuirkReport;

/** Normalised claims about the attested key (docs/architecture.md). */
export interface Claims {
  generatedOnDevice?: boolean;
  nonExportable?: boolean;
  userPresence?: 'never' | 'cached' | 'always';
  userVerification?: 'never' | 'once' | 'always';
  securityLevel?: 'software' | 'tee' | 'secure-element';
  /** Display data unless an anchor vouches for it. */
  model?: string;
  serial?: string;
  firmware?: string;
  /** 'ec-p256', 'ec-p384', 'ec-p521', 'rsa', 'ed25519', ... */
  keyAlgorithm: string;
  /** Bits: RSA modulus size or curve size. */
  keySize?: number;
  keyPurposes?: string[];
  [vendorSpecific: string]: unknown;
}

/** Raw evidence as handed to the verifier, after container detection. */
export type EvidenceInput =
  | { readonly kind: 'certificates'; readonly certificates: readonly Certificate[] }
  | { readonly kind: 'csr'; readonly csr: ParsedCsr; readonly certificates: readonly Certificate[] }
  /** A cloud HSM key attestation blob (gzip, raw or base64) with the certificates delivered with it (docs/cloud-hsm.md). */
  | {
      readonly kind: 'cloud-hsm';
      readonly attestation: Uint8Array;
      readonly certificates: readonly Certificate[];
    }
  /** An Apple App Attest attestation object (CBOR) and the App ID it must be for (docs/apple.md). */
  | {
      readonly kind: 'apple-appattest';
      readonly attestationObject: Uint8Array;
      /** `<TeamID>.<BundleID>`. */
      readonly appId: string;
      /** Accept the App Attest development environment (AAGUID "appattestdevelop"); default false. */
      readonly allowDevelopment?: boolean;
      /** Always empty: the chain travels inside the object (x5c). Kept so every kind has the field. */
      readonly certificates: readonly Certificate[];
    }
  /** A WebAuthn attestation object; the clientDataHash comes with it (python-fido2 parts) or from the expectations (docs/webauthn.md). */
  | {
      readonly kind: 'webauthn-attestation';
      readonly attestation: WebauthnAttestationObject;
      readonly clientDataHash: Uint8Array | null;
      /** Always empty: the chain travels inside the statement (x5c). */
      readonly certificates: readonly Certificate[];
    }
  /**
   * TPM2_Certify output as tpm2-tools writes it (attest.out, sig.out, key.pub) with the AK
   * certificate and its chain, in a PEM bundle or JSON file (docs/tpm.md "Raw TPM blobs").
   */
  | {
      readonly kind: 'tpm-certify';
      /** TPMS_ATTEST, as signed. */
      readonly attest: Uint8Array;
      /** The AK's TPMT_SIGNATURE over `attest`. */
      readonly signature: Uint8Array;
      /** The certified key's TPMT_PUBLIC (a TPM2B_PUBLIC's size already stripped). */
      readonly publicArea: Uint8Array;
      readonly certificates: readonly Certificate[];
    }
  /** A WebAuthn RegistrationResponseJSON: attestation object and clientDataJSON (WebAuthn §7.1). */
  | {
      readonly kind: 'webauthn-registration';
      readonly attestation: WebauthnAttestationObject;
      readonly clientDataJSON: Uint8Array;
      /** Always empty: the chain travels inside the statement (x5c). */
      readonly certificates: readonly Certificate[];
    };

/** What the relying party expects of an App Attest attestation (docs/apple.md). */
export interface AppAttestExpectations {
  /** `<TeamID>.<BundleID>`: rpIdHash must be its SHA-256. */
  readonly appId: string;
  /** Accept the development environment (default false). */
  readonly allowDevelopment?: boolean;
}

/** What the relying party expects of a WebAuthn registration (WebAuthn §7.1 steps 7–15). */
export interface WebauthnExpectations {
  /** Allowed origins (exact match of clientData.origin). */
  readonly origin?: string | readonly string[];
  /** Allowed RP IDs: rpIdHash must be SHA-256 of one of them. */
  readonly rpId?: string | readonly string[];
  /**
   * Top-level origins the relying party lets embed its registration in a cross-origin iframe
   * (WebAuthn L3 §7.1 step 14). Absent: a cross-origin registration is refused.
   */
  readonly topOrigin?: string | readonly string[];
  /** The challenge bytes; defaults to the generic expected nonce. */
  readonly challenge?: Uint8Array;
  /** SHA-256 of clientDataJSON, for a bare attestation object whose client data is elsewhere. */
  readonly clientDataHash?: Uint8Array;
}

/**
 * An attestation key the service bound to a TPM by credential activation (TPM2_MakeCredential /
 * TPM2_ActivateCredential against the EK certificate; docs/tpm.md). The AK has no certificate:
 * this record is what vouches for it, and the EK certificate chain is what path validation checks.
 */
export interface BoundKey {
  /** Stable id of the binding (shown in the verdict path). */
  readonly id: string;
  readonly via: 'credential-activation';
  /** TPM Name of the AK: u16 nameAlg ‖ H(TPMT_PUBLIC). */
  readonly name: Uint8Array;
  /** The AK's TPMT_PUBLIC (without the TPM2B size). */
  readonly publicArea: Uint8Array;
  /** EK certificate first, then any chain certificates. */
  readonly certificates: readonly Certificate[];
  /** ISO 8601 instant the activation completed. */
  readonly boundAt: string;
}

export interface FormatContext {
  /** The challenge the relying party issued, if any. */
  readonly expectedNonce?: Uint8Array;
  /** Attestation keys bound by credential activation for this enrollment (TPM formats). */
  readonly boundKeys?: readonly BoundKey[];
  /** The verifier's decoded-key cache: formats verify signatures with cached KeyObjects. */
  readonly keyCache?: KeyCache;
  /** The verification instant (ms): the clock, or the pinned `at` for recorded evidence. */
  readonly time?: number;
  /** The policy accepts SHA-1 signatures inside evidence (`signatures.allowSha1`); refused otherwise. */
  readonly allowSha1?: boolean;
  /**
   * Apple App Attest: the App ID the relying party expects, and whether it accepts the
   * development environment. When given, it overrides what an evidence file says (a file that
   * came from a client must not choose its own App ID).
   */
  readonly appAttest?: AppAttestExpectations;
  /** WebAuthn registration expectations (origin, RP ID, challenge). */
  readonly webauthn?: WebauthnExpectations;
}

export interface FormatResult {
  readonly format: FormatId;
  /** SubjectPublicKeyInfo (DER) of the key the evidence speaks about. */
  readonly attestedKey: Uint8Array;
  /**
   * The certificate whose key vouches for the attested key, first; then every other
   * certificate the evidence carried (unordered helpers for path building).
   */
  readonly signerChain: readonly Certificate[];
  readonly claims: Claims;
  /** The nonce bound into the evidence, or null when it carries none. */
  readonly freshness: { readonly nonce: Uint8Array } | null;
  /** How freshness was established: 'nonce' (evidence), 'possession' (CSR signature only), 'none'. */
  readonly freshnessKind: 'nonce' | 'possession' | 'none';
  /** The attestation statement itself when it is a certificate (shown as path position 0's signer). */
  readonly attestationCertificate?: Certificate;
  readonly quirks: readonly QuirkReport[];
  /** When the evidence is a CSR: its key was checked equal to attestedKey and its signature verified. */
  readonly csrVerified: boolean;
  /**
   * Set when the format verified the evidence but it proves nothing about where the key lives
   * (WebAuthn self or none attestation): the verdict rejects with this code.
   */
  readonly noProvenance?: { readonly code: 'ATTESTATION_SELF' | 'ATTESTATION_NONE'; readonly reason: string };
  /** Path options for this evidence on top of the format's (a WebAuthn statement's chain needs). */
  readonly pathOptions?: FormatPathOptions;
  /**
   * The path must end at one of these anchor keys (hex SPKI SHA-256): the format's anchors are
   * narrowed to them before path validation (an Apple sub-kind under its own root only).
   */
  readonly anchorKeys?: readonly string[];
  /** What needs `anchorKeys`, for the rejection when no anchor holds one (e.g. "App Attest"). */
  readonly anchorKeysFor?: string;
  /**
   * The attestation key when it is vouched for by a binding instead of a certificate: the path
   * then reads attested key → this key → signerChain[0] (the EK certificate) → … → anchor.
   */
  /**
   * Further certification paths that must validate too, each to an anchor of this format with
   * another key than the main path's (a cloud HSM's owner chain next to its manufacturer chain).
   */
  readonly additionalPaths?: readonly {
    readonly label: string;
    readonly leaf: Certificate;
    readonly intermediates: readonly Certificate[];
    /** Hex SPKI SHA-256 of the anchors this path must end at (e.g. the HSM owner's root key). */
    readonly anchorKeys?: readonly string[];
  }[];
  readonly boundSigner?: {
    readonly spki: Uint8Array;
    readonly label: string;
    readonly via: 'credential-activation';
    readonly bindingId: string;
  };
}

/** How the shared path validator treats this format's chains. */
export interface FormatPathOptions {
  /** 'strict' adds the RFC 5280 §4 rules a conforming CA must follow; vendor PKIs often need 'default'. */
  readonly profile?: PathProfile;
  /** Named, scoped deviations this format's real-world chains need. */
  readonly quirks?: readonly PathQuirk[];
  /** Critical extensions this format processes itself (e.g. the TPM SAN). */
  readonly understoodCriticalExtensions?: readonly string[];
}

export interface AttestationFormat {
  readonly id: FormatId;
  readonly pathOptions?: FormatPathOptions;
  detect(input: EvidenceInput): boolean;
  /** Throws ProvenanceError on any failure. */
  verify(input: EvidenceInput, ctx: FormatContext): FormatResult;
}
