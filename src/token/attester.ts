/**
 * The interface every token driver implements: the software reference token now, TPM
 * (tpm2-tools) and YubiKey (ykman) later. Private keys never cross this interface.
 */

export type KeyAlgorithm = 'p256' | 'p384' | 'ed25519' | 'rsa2048' | 'rsa3072';
export type PinPolicy = 'never' | 'once' | 'always';
export type TouchPolicy = 'never' | 'cached' | 'always';

export interface TokenInfo {
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  /** 'per-token' attestation key certified for this unit, or a shared 'batch' key. */
  readonly attestation: 'per-token' | 'batch' | 'none';
  readonly pinRetriesLeft: number;
  readonly locked: boolean;
}

export interface KeyInfo {
  readonly label: string;
  readonly algorithm: KeyAlgorithm;
  readonly pinPolicy: PinPolicy;
  readonly touchPolicy: TouchPolicy;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly createdAt: string;
}

export interface GenerateKeyOptions {
  readonly label: string;
  readonly algorithm: KeyAlgorithm;
  readonly pinPolicy: PinPolicy;
  readonly touchPolicy: TouchPolicy;
}

export interface CsrOptions {
  readonly label: string;
  /** Subject as RFC 4514 text, e.g. 'CN=Alice,O=Example'. */
  readonly subject: string;
  /** The verifier's challenge: bound into the attestation and carried as a CSR attribute. */
  readonly nonce: Uint8Array;
}

export interface Attester {
  info(): Promise<TokenInfo>;
  listKeys(): Promise<KeyInfo[]>;
  generateKey(options: GenerateKeyOptions): Promise<KeyInfo>;
  /** Evidence for the key: for the software token a PEM bundle (certificate of provenance, then chain). */
  attest(label: string, nonce: Uint8Array): Promise<Uint8Array[]>;
  /** PKCS#10 DER signed by the key, carrying the attestation and the nonce. */
  signCsr(options: CsrOptions): Promise<Uint8Array>;
  sign(label: string, data: Uint8Array): Promise<Uint8Array>;
}
