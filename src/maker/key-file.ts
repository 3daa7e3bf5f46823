/**
 * A maker CA's private key file (`DIR/key.pem`): PKCS#8, encrypted with a passphrase
 * (`-----BEGIN ENCRYPTED PRIVATE KEY-----`, PBES2 with AES-256-CBC as Node/OpenSSL write it,
 * RFC 8018 §6.2), or, when the operator insists, unencrypted.
 *
 * @example
 * const pem = encryptMakerKey(privateKey, 'correct horse battery staple');
 * const key = decryptMakerKey(pem, 'correct horse battery staple', 'ca/key.pem');
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { fail, ProvenanceError } from '../core/errors.js';

/** A new passphrase is at least this long. */
export const MIN_PASSPHRASE_LENGTH = 8;

const ENCRYPTED_LABEL = '-----BEGIN ENCRYPTED PRIVATE KEY-----';
const PLAIN_LABEL = '-----BEGIN PRIVATE KEY-----';

/** PEM text of the key: encrypted PKCS#8 with the passphrase, or plain PKCS#8 for null. */
export function encryptMakerKey(key: KeyObject, passphrase: string | null): string {
  if (passphrase === null) return key.export({ type: 'pkcs8', format: 'pem' }).toString();
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH)
    fail('USAGE', `a passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  return key
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: passphrase.normalize('NFC') })
    .toString();
}

/** True when the PEM holds an encrypted PKCS#8 key. MAKER_DIR_INVALID for anything but PKCS#8. */
export function isEncryptedMakerKey(pem: string, where: string): boolean {
  const text = pem.trimStart();
  if (text.startsWith(ENCRYPTED_LABEL)) return true;
  if (text.startsWith(PLAIN_LABEL)) return false;
  return fail('MAKER_DIR_INVALID', `${where} is not a PKCS#8 private key in PEM`, { path: where });
}

/**
 * Decrypt the key. A wrong or missing passphrase throws MAKER_KEY_LOCKED (with CBC padding a
 * wrong passphrase occasionally "decrypts" to garbage that does not parse: same answer).
 */
export function decryptMakerKey(pem: string, passphrase: string | null, where: string): KeyObject {
  const encrypted = isEncryptedMakerKey(pem, where);
  if (encrypted && passphrase === null)
    fail('MAKER_KEY_LOCKED', `${where} is encrypted: a passphrase is needed (PROVENANCE_PASSPHRASE)`, {
      path: where,
    });
  try {
    return encrypted
      ? createPrivateKey({ key: pem, format: 'pem', passphrase: passphrase!.normalize('NFC') })
      : createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    if (encrypted)
      throw new ProvenanceError(
        'MAKER_KEY_LOCKED',
        `cannot decrypt ${where}: wrong passphrase`,
        { path: where },
        { cause: err },
      );
    throw new ProvenanceError(
      'MAKER_DIR_INVALID',
      `${where} does not decode`,
      { path: where },
      { cause: err },
    );
  }
}
