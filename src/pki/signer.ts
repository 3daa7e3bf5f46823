/**
 * A Signer holds a private key (or talks to something that does) and signs DER structures:
 * certificates, CSRs. Private key bytes never leave it.
 *
 * @example
 * const signer = signerFromKeyObject(privateKey);
 * const { algorithm, signature } = signer.sign(tbs);
 */
import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { der } from '../core/der-writer.js';
import { fail } from '../core/errors.js';
import { OID } from '../core/oids.js';

export interface SignatureOutput {
  /** AlgorithmIdentifier DER naming the signature algorithm. */
  readonly algorithm: Uint8Array;
  /** Signature bytes as they go in the BIT STRING (ECDSA: DER Ecdsa-Sig-Value). */
  readonly signature: Uint8Array;
}

export interface Signer {
  /** DER SubjectPublicKeyInfo of the signing key. */
  readonly spki: Uint8Array;
  /** The AlgorithmIdentifier this signer will use (DER), known before signing (it goes in TBS). */
  readonly algorithm: Uint8Array;
  sign(data: Uint8Array): SignatureOutput;
}

/**
 * Signature algorithm for a key: ECDSA with the curve's matching hash (P-256/SHA-256,
 * P-384/SHA-384, P-521/SHA-512), RSA PKCS#1 v1.5 with SHA-256, Ed25519/Ed448 pure.
 */
export function signerFromKeyObject(privateKey: KeyObject): Signer {
  const publicKey = createPublicKey(privateKey);
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const type = privateKey.asymmetricKeyType;
  let hash: string | null;
  let algorithm: Uint8Array;
  if (type === 'ec') {
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') {
      hash = 'sha256';
      algorithm = der.seq(der.oid(OID.ecdsaWithSHA256));
    } else if (curve === 'secp384r1' || curve === 'P-384') {
      hash = 'sha384';
      algorithm = der.seq(der.oid(OID.ecdsaWithSHA384));
    } else if (curve === 'secp521r1' || curve === 'P-521') {
      hash = 'sha512';
      algorithm = der.seq(der.oid(OID.ecdsaWithSHA512));
    } else {
      return fail('ALGORITHM_UNSUPPORTED', `cannot sign with curve ${curve}`);
    }
  } else if (type === 'rsa') {
    hash = 'sha256';
    algorithm = der.seq(der.oid(OID.sha256WithRSA), der.null());
  } else if (type === 'ed25519') {
    hash = null;
    algorithm = der.seq(der.oid(OID.ed25519));
  } else if (type === 'ed448') {
    hash = null;
    algorithm = der.seq(der.oid(OID.ed448));
  } else {
    return fail('ALGORITHM_UNSUPPORTED', `cannot sign with a ${type} key`);
  }
  return {
    spki,
    algorithm,
    sign(data: Uint8Array): SignatureOutput {
      return { algorithm, signature: new Uint8Array(sign(hash, data, privateKey)) };
    },
  };
}
