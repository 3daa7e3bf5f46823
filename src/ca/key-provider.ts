/**
 * The file key provider: the issuing CA's private key in a PKCS#8 PEM file, encrypted with a
 * passphrase (PBES2, AES-256-CBC: src/maker/key-file.ts writes and reads both the CA's and the
 * maker's keys) or, when the operator chose so, unencrypted with mode 0600.
 *
 * The KeyObject lives in a private field: it is never enumerable, never serialised, and
 * nothing outside the provider can reach it. PKCS#11 providers will implement the same
 * KeyProvider interface.
 *
 * @example
 * const key = await FileKeyProvider.load('data/ca/ca-key.pem', process.env.PROVENANCE_CA_PASSPHRASE ?? null, files);
 * const { algorithm, signature } = key.sign(tbs);
 */
import type { KeyObject } from 'node:crypto';
import { isProvenanceError, ProvenanceError } from '../core/errors.js';
import { decryptMakerKey, isEncryptedMakerKey } from '../maker/key-file.js';
import type { SignatureOutput, Signer } from '../pki/signer.js';
import { signerFromKeyObject } from '../pki/signer.js';
import type { FileAccess } from '../token/software/file-access.js';
import type { KeyProvider } from './types.js';

/** Largest key file read (an RSA-4096 encrypted PKCS#8 PEM is about 3.4 KiB). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** A CA key held in a (normally encrypted) PKCS#8 file. */
export class FileKeyProvider implements KeyProvider {
  readonly kind = 'file';
  /** DER SubjectPublicKeyInfo of the key. */
  readonly spki: Uint8Array;
  /** The signature AlgorithmIdentifier this key signs with (ECDSA with the curve's hash, RSA PKCS#1 v1.5 SHA-256). */
  readonly algorithm: Uint8Array;
  /** Where the key came from (for messages). */
  readonly path: string;
  readonly #signer: Signer;

  private constructor(privateKey: KeyObject, path: string) {
    this.#signer = signerFromKeyObject(privateKey);
    this.spki = this.#signer.spki;
    this.algorithm = this.#signer.algorithm;
    this.path = path;
  }

  /** Wrap a private key already in memory (tests; `initCa` right after generating it). */
  static fromKeyObject(privateKey: KeyObject, path: string): FileKeyProvider {
    return new FileKeyProvider(privateKey, path);
  }

  /**
   * Unlock PEM text. CA_KEY_LOCKED when it is encrypted and the passphrase is missing or wrong;
   * CA_INVALID when it is not a PKCS#8 key.
   */
  static fromPem(pem: string, passphrase: string | null, path: string): FileKeyProvider {
    return new FileKeyProvider(decryptCaKey(pem, passphrase, path), path);
  }

  /** Read and unlock a key file (CA_INVALID when it is missing). */
  static async load(path: string, passphrase: string | null, files: FileAccess): Promise<FileKeyProvider> {
    return FileKeyProvider.fromPem(await readKeyPem(path, files), passphrase, path);
  }

  sign(data: Uint8Array): SignatureOutput {
    return this.#signer.sign(data);
  }

  /** Never print key material: a provider shows as its kind and path. */
  toJSON(): { kind: string; path: string } {
    return { kind: this.kind, path: this.path };
  }
}

/** The PEM text of a key file; CA_INVALID when it is missing or not text. */
export async function readKeyPem(path: string, files: FileAccess): Promise<string> {
  const bytes = await files.readFile(path, MAX_KEY_FILE_BYTES);
  if (bytes === null) throw new ProvenanceError('CA_INVALID', `${path} is missing`, { path });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ProvenanceError('CA_INVALID', `${path} is not PEM text`, { path }, { cause: err });
  }
}

/** True when the key PEM is encrypted. CA_INVALID for anything but PKCS#8 PEM. */
export function isEncryptedCaKey(pem: string, path: string): boolean {
  return asCaError(() => isEncryptedMakerKey(pem, path));
}

/**
 * Decrypt a CA key PEM: the maker's key-file code, with the CA's error codes (a service
 * operator should read CA_KEY_LOCKED and PROVENANCE_CA_PASSPHRASE, not the maker's words).
 */
export function decryptCaKey(pem: string, passphrase: string | null, path: string): KeyObject {
  if (passphrase === null && isEncryptedCaKey(pem, path))
    throw new ProvenanceError(
      'CA_KEY_LOCKED',
      `${path} is encrypted: set PROVENANCE_CA_PASSPHRASE to its passphrase`,
      { path },
    );
  return asCaError(() => decryptMakerKey(pem, passphrase, path));
}

function asCaError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isProvenanceError(err, 'MAKER_KEY_LOCKED'))
      throw new ProvenanceError('CA_KEY_LOCKED', err.message, err.details, { cause: err });
    if (isProvenanceError(err, 'MAKER_DIR_INVALID'))
      throw new ProvenanceError('CA_INVALID', err.message, err.details, { cause: err });
    throw err;
  }
}
