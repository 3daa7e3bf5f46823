/**
 * App Attest assertions (standards.md §5.2 "Assertions"; Apple "Validating apps that connect to
 * your server", assertion steps 1-6): after attestation, the app signs each request with the
 * attested key. An assertion is CBOR `{ signature: bytes, authenticatorData: bytes }` where
 * authenticatorData is rpIdHash(32) ‖ flags(1) ‖ counter(4) and the signature is ES256 over
 * nonce = SHA-256(authenticatorData ‖ SHA-256(clientData)).
 *
 * This is a library check for the relying party's request path, not an evidence format: it
 * proves possession of a key already attested (keep `AppAttestResult.spki` and the counter).
 *
 * @example
 * const { counter } = verifyAppAttestAssertion({ assertion, clientData: body, publicKey: stored.spki,
 *   appId: 'TEAMID.com.example.app', previousCounter: stored.counter });
 */
import { bytesEqual, sha256 } from '../../core/bytes.js';
import { der } from '../../core/der-writer.js';
import { fail } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import type { AlgorithmIdentifier } from '../../pki/certificate.js';
import { describeKey, type KeyCache } from '../../pki/keys.js';
import { verifySignature } from '../../pki/signature.js';
import { decodeCbor, isCborMap } from '../webauthn/cbor.js';

/** Largest assertion accepted (a DER ECDSA signature and 37 bytes of authenticator data fit in 128). */
export const APP_ATTEST_ASSERTION_MAX_BYTES = 1024;

export interface AppAttestAssertionInput {
  /** The CBOR assertion the app sent. */
  readonly assertion: Uint8Array;
  /** The client data the app signed (the request payload, or the challenge). */
  readonly clientData: Uint8Array;
  /** The attested key's SubjectPublicKeyInfo, as stored after attestation. */
  readonly publicKey: Uint8Array;
  readonly appId: string;
  /** The counter stored for this key (0 right after attestation). */
  readonly previousCounter: number;
  readonly keyCache?: KeyCache;
}

const ES256: AlgorithmIdentifier = {
  oid: OID.ecdsaWithSHA256,
  params: null,
  der: der.seq(der.oid(OID.ecdsaWithSHA256)),
};

/** Verify an assertion; returns the new counter to store. Throws ProvenanceError. */
export function verifyAppAttestAssertion(input: AppAttestAssertionInput): { counter: number } {
  if (input.assertion.length > APP_ATTEST_ASSERTION_MAX_BYTES) {
    fail('INPUT_TOO_LARGE', `App Attest assertion of ${input.assertion.length} bytes`);
  }
  const v = decodeCbor(input.assertion, { maxDepth: 2, maxItems: 8 });
  if (!isCborMap(v) || v.size !== 2) {
    fail('ATTESTATION_MALFORMED', 'App Attest assertion must be a map of signature and authenticatorData');
  }
  const signature = v.get('signature');
  const authData = v.get('authenticatorData');
  if (!(signature instanceof Uint8Array) || !(authData instanceof Uint8Array)) {
    return fail(
      'ATTESTATION_MALFORMED',
      'App Attest assertion signature and authenticatorData must be bytes',
    );
  }
  // Assertion authenticator data is exactly rpIdHash ‖ flags ‖ counter (no credential data).
  if (authData.length !== 37) {
    fail(
      'ATTESTATION_MALFORMED',
      `App Attest assertion authenticator data of ${authData.length} bytes, expected 37`,
    );
  }
  if (describeKey(input.publicKey).keyAlgorithm !== 'ec-p256') {
    fail('KEY_MISMATCH', 'the stored App Attest key is not a P-256 key');
  }
  // Steps 1-3: nonce = SHA-256(authenticatorData ‖ SHA-256(clientData)), signed with ES256.
  const nonce = sha256(Buffer.concat([authData, sha256(input.clientData)]));
  const ok = verifySignature(ES256, nonce, signature, input.publicKey, {
    ...(input.keyCache ? { cache: input.keyCache } : {}),
  });
  if (!ok)
    fail('SIGNATURE_INVALID', 'the App Attest assertion signature does not verify with the stored key');
  // Step 4: the App ID.
  if (!bytesEqual(authData.subarray(0, 32), sha256(Buffer.from(input.appId, 'utf8')))) {
    fail('RPID_MISMATCH', `the assertion is not for App ID ${input.appId}`, { appId: input.appId });
  }
  // Step 5: the counter increases strictly (a replayed or cloned assertion does not).
  const counter = Buffer.from(authData.subarray(33, 37)).readUInt32BE(0);
  if (counter <= input.previousCounter) {
    fail(
      'ATTESTATION_INVALID',
      `App Attest counter ${counter} does not exceed the stored ${input.previousCounter}`,
      {
        counter,
        previousCounter: input.previousCounter,
      },
    );
  }
  return { counter };
}
