/**
 * Apple (MANIFEST.md §5): each App Attest attestation object through
 * `createVerifier(...).verify({ kind: 'apple-appattest', … })` under a policy that trusts the
 * Apple App Attestation Root CA for `apple`, with its App ID and challenge, at its pinned time
 * (development objects with `allowDevelopment`). App Attest *assertions* are not key
 * attestation and have no format; they are checked with the project's strict CBOR decoder and
 * signature verifier against the attested key (Apple, "Validating apps that connect to your
 * server", assertion steps 1–5). Roots parse.
 */
import { createHash } from 'node:crypto';
import { bytesEqual } from '../../src/core/bytes.js';
import { fail } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { APPLE_ANCHOR_IDS } from '../../src/formats/apple/index.js';
import { cborBytes, decodeCbor, isCborMap } from '../../src/formats/webauthn/cbor.js';
import type { AlgorithmIdentifier } from '../../src/pki/certificate.js';
import { verifySignature } from '../../src/pki/signature.js';
import { policyFromOptions } from '../../src/policy/from-options.js';
import { createVerifier } from '../../src/verify/verifier.js';
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

const P = 'apple/';
const b64 = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s ?? ''), 'base64'));
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** ecdsa-with-SHA256 (RFC 5758 §3.2): SEQUENCE { OID 1.2.840.10045.4.3.2 }, no parameters. */
const ECDSA_SHA256: AlgorithmIdentifier = {
  oid: '1.2.840.10045.4.3.2',
  params: null,
  der: Uint8Array.from([0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
};

/** SubjectPublicKeyInfo of an uncompressed P-256 point (RFC 5480 §2). */
function p256Spki(point: Uint8Array): Uint8Array {
  if (point.length !== 65 || point[0] !== 4) fail('KEY_MALFORMED', 'not an uncompressed P-256 point');
  const prefix = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
  return new Uint8Array(Buffer.concat([prefix, point]));
}

interface Attestation {
  readonly object: Uint8Array;
  readonly appId: string;
  readonly challenge: Uint8Array;
}

/** The attestation in an Apple vector file, by source. */
function attestationOf(v: Vectors, file: string): Attestation {
  const j = v.json<Record<string, Record<string, unknown> & unknown>>(file);
  if (file.endsWith('app-attest_kayak_2020.json'))
    return {
      object: b64(j['attestationObject_b64']),
      appId: String(j['appId']),
      challenge: new Uint8Array(Buffer.from(String(j['challenge_utf8']), 'utf8')),
    };
  if (file.endsWith('bas-d-appattest/attestation.json')) {
    const a = j['attestation'] as Record<string, unknown>;
    return {
      object: b64(a['attestationObject']),
      appId: String(j['appId']),
      challenge: b64(a['clientData']),
    };
  }
  // node-app-attest: the App ID is its test constant (teamId V8H6LQ9448, bundle io.uebelacker.AppAttestExample).
  return {
    object: b64(j['attestation']),
    appId: 'V8H6LQ9448.io.uebelacker.AppAttestExample',
    challenge: b64(j['challenge']),
  };
}

function verifyAttestation(v: Vectors, file: string, exp: Expectation | null): Actual {
  const a = attestationOf(v, file);
  const policy = policyFromOptions({
    trust: [
      {
        certificate: v.cert(`${P}webauthn4j/Apple_App_Attestation_Root_CA.pem`),
        id: APPLE_ANCHOR_IDS.appAttestationRoot,
        formats: ['apple'],
      },
    ],
    source: 'conformance:vectors apple',
  });
  const verdict = createVerifier({ policy }).verify(
    {
      kind: 'apple-appattest',
      attestationObject: a.object,
      appId: a.appId,
      allowDevelopment: true,
      certificates: [],
    },
    { nonce: a.challenge, ...(exp?.at === undefined ? {} : { at: exp.at }) },
  );
  return verdict.accepted
    ? { outcome: 'accept', message: `${verdict.claims?.['environment']} App Attest key for ${a.appId}` }
    : { outcome: 'reject', code: verdict.code, message: verdict.message };
}

/** An App Attest assertion: CBOR {signature, authenticatorData}; sig over SHA-256(authData ‖ clientDataHash). */
function verifyAssertion(
  assertion: Uint8Array,
  clientDataHash: Uint8Array,
  spki: Uint8Array,
  appId: string,
): Actual {
  const map = decodeCbor(assertion);
  if (!isCborMap(map)) return fail('ATTESTATION_MALFORMED', 'the assertion is not a CBOR map');
  const signature = cborBytes(map.get('signature'), 'assertion signature');
  const authData = cborBytes(map.get('authenticatorData'), 'assertion authenticatorData');
  if (authData.length < 37) fail('ATTESTATION_MALFORMED', 'authenticatorData is shorter than 37 bytes');
  // Step 4: the RP ID hash is SHA-256 of the App ID.
  if (!bytesEqual(authData.subarray(0, 32), sha256(new TextEncoder().encode(appId))))
    fail('RPID_MISMATCH', 'rpIdHash is not SHA-256 of the App ID');
  const nonce = sha256(authData, clientDataHash);
  if (!verifySignature(ECDSA_SHA256, nonce, signature, spki))
    fail('SIGNATURE_INVALID', 'the assertion signature does not verify');
  const counter = new DataView(authData.buffer, authData.byteOffset + 33, 4).getUint32(0);
  return { outcome: 'accept', message: `assertion by the attested key, counter ${counter}` };
}

function assertionOf(v: Vectors, file: string): Actual {
  const j = v.json<Record<string, unknown>>(file);
  const appId = String(j['appId']);
  if (file.endsWith('bas-d-appattest/assertion.json')) {
    const a = j['assertion'] as Record<string, unknown>;
    const spki = p256Spki(new Uint8Array(Buffer.from(String(j['publicKey_hex']), 'hex')));
    return verifyAssertion(b64(a['assertion']), sha256(b64(a['clientData'])), spki, appId);
  }
  const spki = decodePem(String(j['publicKey_pem']))[0]?.der ?? fail('KEY_MALFORMED', 'no public key');
  const payload = new TextEncoder().encode(String(j['clientData_payload_utf8']));
  return verifyAssertion(b64(j['assertion_b64']), sha256(payload), spki, appId);
}

/** Run one apple entry. */
export function runApple(v: Vectors, file: string, exp: Expectation | null): Actual {
  return attempt(() => {
    if (file.endsWith('/assertion.json')) return assertionOf(v, file);
    if (file.endsWith('.json')) return verifyAttestation(v, file, exp);
    return { outcome: 'parse', message: `${v.certs(file).length} certificate(s)` };
  });
}
