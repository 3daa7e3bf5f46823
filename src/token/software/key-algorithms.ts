/**
 * The key algorithms the software token (and the maker tooling) generate, and how each is
 * recognised again from a KeyObject.
 *
 * @example
 * const { privateKey, spki } = await generateKeyPair('p256');
 */
import { createPublicKey, type KeyObject, generateKeyPair as nodeGenerateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { fail } from '../../core/errors.js';
import type { KeyAlgorithm } from '../attester.js';

/** Every algorithm a token key may use (the Attester's KeyAlgorithm). */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['p256', 'p384', 'ed25519', 'rsa2048', 'rsa3072'];

/** True when `value` names a KeyAlgorithm. */
export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value);
}

const generate = promisify(nodeGenerateKeyPair);

/** A fresh key pair: the private KeyObject and the public key's DER SubjectPublicKeyInfo. */
export interface GeneratedKeyPair {
  readonly privateKey: KeyObject;
  readonly spki: Uint8Array;
}

/**
 * Generate a key pair (asynchronously: RSA-3072 takes a while and must not block the loop).
 * RSA keys use e = 65537.
 */
export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<GeneratedKeyPair> {
  let privateKey: KeyObject;
  switch (algorithm) {
    case 'p256':
      ({ privateKey } = await generate('ec', { namedCurve: 'P-256' }));
      break;
    case 'p384':
      ({ privateKey } = await generate('ec', { namedCurve: 'P-384' }));
      break;
    case 'ed25519':
      ({ privateKey } = await generate('ed25519', {}));
      break;
    case 'rsa2048':
      ({ privateKey } = await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 }));
      break;
    case 'rsa3072':
      ({ privateKey } = await generate('rsa', { modulusLength: 3072, publicExponent: 0x10001 }));
      break;
    default:
      return fail('ALGORITHM_UNSUPPORTED', `unknown key algorithm ${String(algorithm)}`);
  }
  return { privateKey, spki: spkiOf(privateKey) };
}

/** DER SubjectPublicKeyInfo of a private (or public) KeyObject. */
export function spkiOf(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return new Uint8Array(pub.export({ type: 'spki', format: 'der' }));
}

/** The KeyAlgorithm of a KeyObject, or null when it is none of ours. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | null {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (type === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'p256';
    if (details?.namedCurve === 'secp384r1') return 'p384';
    return null;
  }
  if (type === 'ed25519') return 'ed25519';
  if (type === 'rsa') {
    if (details?.modulusLength === 2048) return 'rsa2048';
    if (details?.modulusLength === 3072) return 'rsa3072';
  }
  return null;
}
