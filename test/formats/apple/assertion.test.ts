/**
 * App Attest assertions: the three real assertions from ../shared/vectors/apple (MANIFEST.md §5,
 * read in place) verify with their attested keys; a wrong payload (SIGNATURE_INVALID), another
 * App ID (RPID_MISMATCH), a counter that does not increase (ATTESTATION_INVALID) and malformed
 * CBOR are refused; fuzzed assertions only throw ProvenanceError. Skips the real vectors with a
 * printed reason when they are absent, except in CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePem } from '../../../src/core/pem.js';
import { verifyAppAttestAssertion } from '../../../src/formats/apple/index.js';
import { fuzzParameters, mutatedBytes, outcome } from '../../helpers/fuzz.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const APPLE = join(VECTORS, 'apple');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping App Attest assertion vectors: ${reason}`);
  }
}

const json = (...p: string[]) => JSON.parse(readFileSync(join(APPLE, ...p), 'utf8'));
/** A P-256 SPKI from an uncompressed point (RFC 5480 §2). */
const p256Spki = (point: Buffer) =>
  new Uint8Array(
    Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), point]),
  );

interface Case {
  name: string;
  assertion: Uint8Array;
  clientData: Uint8Array;
  publicKey: Uint8Array;
  appId: string;
}

function cases(): Case[] {
  const node = json('node-app-attest', 'assertion.json');
  const basd = json('bas-d-appattest', 'assertion.json');
  const kayak = json('webauthn4j', 'app-attest_kayak_2020.json');
  const kayakKey = (() => {
    // The kayak key is the attested credCert key: take it from the attestation's COSE-free x5c[0] SPKI.
    const obj = Buffer.from(kayak.attestationObject_b64, 'base64');
    const i = obj.indexOf(Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'));
    return new Uint8Array(obj.subarray(i, i + 91));
  })();
  return [
    {
      name: 'node-app-attest',
      assertion: new Uint8Array(Buffer.from(node.assertion_b64, 'base64')),
      clientData: new Uint8Array(Buffer.from(node.clientData_payload_utf8, 'utf8')),
      publicKey: new Uint8Array(decodePem(node.publicKey_pem)[0]!.der),
      appId: node.appId,
    },
    {
      name: 'bas-d',
      assertion: new Uint8Array(Buffer.from(basd.assertion.assertion, 'base64url')),
      clientData: new Uint8Array(Buffer.from(basd.assertion.clientData, 'base64url')),
      publicKey: p256Spki(Buffer.from(basd.publicKey_hex, 'hex')),
      appId: basd.appId,
    },
    {
      name: 'webauthn4j kayak',
      assertion: new Uint8Array(Buffer.from(kayak.assertion_b64, 'base64')),
      clientData: new Uint8Array(Buffer.from(kayak.challenge_utf8, 'utf8')),
      publicKey: kayakKey,
      appId: kayak.appId,
    },
  ];
}

describe.runIf(available)('App Attest assertions (real)', () => {
  for (const c of available ? cases() : []) {
    it(`${c.name}: verifies, and its negatives fail with their codes`, () => {
      const base = { ...c, previousCounter: 0 };
      const { counter } = verifyAppAttestAssertion(base);
      expect(counter).toBeGreaterThan(0);
      expect(outcome(() => verifyAppAttestAssertion({ ...base, clientData: Uint8Array.of(1) }))).toBe(
        'SIGNATURE_INVALID',
      );
      expect(
        outcome(() => verifyAppAttestAssertion({ ...base, appId: 'ABCDE12345.com.example.other' })),
      ).toBe('RPID_MISMATCH');
      expect(outcome(() => verifyAppAttestAssertion({ ...base, previousCounter: counter }))).toBe(
        'ATTESTATION_INVALID',
      );
    });
  }

  it('fuzz: mutated assertions only ever throw ProvenanceError', () => {
    const c = cases()[0]!;
    fc.assert(
      fc.property(mutatedBytes([c.assertion], false), (m) => {
        outcome(() => verifyAppAttestAssertion({ ...c, assertion: m.bytes, previousCounter: 0 }));
      }),
      fuzzParameters(300),
    );
  });
});

it('malformed assertions: ATTESTATION_MALFORMED or CBOR_MALFORMED', () => {
  const key = p256Spki(Buffer.concat([Buffer.of(4), Buffer.alloc(64, 1)]));
  const base = { clientData: Uint8Array.of(), publicKey: key, appId: 'ABCDE12345.a', previousCounter: 0 };
  expect(outcome(() => verifyAppAttestAssertion({ ...base, assertion: Uint8Array.of(0xa0) }))).toBe(
    'ATTESTATION_MALFORMED',
  );
  expect(outcome(() => verifyAppAttestAssertion({ ...base, assertion: Uint8Array.of(0xff) }))).toBe(
    'CBOR_MALFORMED',
  );
});
