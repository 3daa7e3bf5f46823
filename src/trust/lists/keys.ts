/**
 * Pinned publisher keys: PEM public keys (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo)
 * or certificates whose key is taken; only P-256 and Ed25519 keys are accepted.
 *
 * @example
 * const keys = readPublisherKeys(['sector/publisher.pem'], (p) => readFileSync(p));
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { fail, isProvenanceError, ProvenanceError } from '../../core/errors.js';
import { decodePem } from '../../core/pem.js';
import { parseCertificate } from '../../pki/certificate.js';
import { jwsAlgorithmFor } from './jws.js';

/** Upper bound on a publisher key file. */
export const MAX_PUBLISHER_KEY_FILE_BYTES = 64 * 1024;

/** Parse the PEM text of one or more publisher keys; USAGE for anything else. */
export function parsePublisherKeys(text: string, where: string): KeyObject[] {
  if (text.length > MAX_PUBLISHER_KEY_FILE_BYTES)
    fail('INPUT_TOO_LARGE', `${where} is larger than ${MAX_PUBLISHER_KEY_FILE_BYTES} bytes`);
  try {
    const blocks = decodePem(text);
    if (blocks.length === 0) fail('USAGE', `${where} holds no PEM block`);
    return blocks.map((b) => {
      let key: KeyObject;
      if (b.label === 'PUBLIC KEY')
        key = createPublicKey({ key: Buffer.from(b.der), format: 'der', type: 'spki' });
      else if (b.label === 'CERTIFICATE')
        key = createPublicKey({
          key: Buffer.from(parseCertificate(b.der).spki),
          format: 'der',
          type: 'spki',
        });
      else
        return fail(
          'USAGE',
          `${where} holds a "${b.label}" block: a publisher key is a PUBLIC KEY or CERTIFICATE`,
        );
      jwsAlgorithmFor(key);
      return key;
    });
  } catch (err) {
    if (isProvenanceError(err))
      throw new ProvenanceError(err.code, `${where}: ${err.message}`, { path: where }, { cause: err });
    throw new ProvenanceError(
      'USAGE',
      `${where} is not a usable public key`,
      { path: where },
      { cause: err },
    );
  }
}

/** Read publisher key files with the injected reader. */
export function readPublisherKeys(
  paths: readonly string[],
  readFile: (path: string) => Uint8Array,
): KeyObject[] {
  return paths.flatMap((p) => parsePublisherKeys(new TextDecoder().decode(readFile(p)), p));
}
