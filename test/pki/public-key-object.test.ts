/**
 * publicKeyObject imports canonical P-256 SPKIs from their coordinates (JWK) and everything else
 * through OpenSSL's DER decoder: both paths must accept and reject the same keys.
 */
import { createECDH, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../src/core/errors.js';
import { KeyCache, publicKeyObject } from '../../src/pki/keys.js';

function spkiOf(curve: string): Uint8Array {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
}

/** What OpenSSL's DER decoder makes of the SPKI: the re-exported SPKI hex, or 'rejected'. */
function viaDer(spki: Uint8Array): string {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return key.export({ type: 'spki', format: 'der' }).toString('hex');
  } catch {
    return 'rejected';
  }
}

/** The same through publicKeyObject; a rejection must be KEY_MALFORMED. */
function viaPublicKeyObject(spki: Uint8Array): string {
  try {
    return publicKeyObject(spki).export({ type: 'spki', format: 'der' }).toString('hex');
  } catch (err) {
    expect(isProvenanceError(err) && err.code).toBe('KEY_MALFORMED');
    return 'rejected';
  }
}

/** Overwrite the point's X and Y (big-endian, 32 octets each) in a P-256 SPKI. */
function withPoint(spki: Uint8Array, x: bigint, y: bigint): Uint8Array {
  const out = Uint8Array.from(spki);
  out.set(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'), 27);
  out.set(Buffer.from(y.toString(16).padStart(64, '0'), 'hex'), 59);
  return out;
}

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n;
  let a = base % m;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * a) % m;
    a = (a * a) % m;
  }
  return r;
}

describe('publicKeyObject', () => {
  it('yields the key the DER decoder yields for P-256, P-384 and P-521 keys', () => {
    for (const curve of ['P-256', 'P-384', 'P-521']) {
      const spki = spkiOf(curve);
      expect(viaPublicKeyObject(spki)).toBe(Buffer.from(spki).toString('hex'));
      expect(publicKeyObject(spki).asymmetricKeyDetails?.namedCurve).toBe(
        createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).asymmetricKeyDetails
          ?.namedCurve,
      );
    }
  });

  it('accepts and rejects the same P-256 points as the DER decoder (bit flips, edge coordinates)', () => {
    const spki = spkiOf('P-256');
    const cases: Uint8Array[] = [];
    for (let i = 27; i < spki.length; i += 3) {
      const flipped = Uint8Array.from(spki);
      flipped[i] = flipped[i]! ^ (1 << (i % 8));
      cases.push(flipped);
    }
    // (0, sqrt(b)) is on the curve; x = p is the same residue but not a field element (SEC 1 §2.3.4).
    const y0 = modPow(B, (P + 1n) / 4n, P);
    cases.push(withPoint(spki, 0n, y0), withPoint(spki, P, y0), withPoint(spki, 0n, P - y0));
    cases.push(withPoint(spki, 0n, 0n), withPoint(spki, 2n ** 256n - 1n, 2n ** 256n - 1n));
    let rejected = 0;
    for (const c of cases) {
      const expected = viaDer(c);
      expect(viaPublicKeyObject(c)).toBe(expected);
      if (expected === 'rejected') rejected++;
    }
    expect(rejected).toBeGreaterThan(cases.length / 2);
    expect(viaPublicKeyObject(withPoint(spki, 0n, y0))).not.toBe('rejected');
    expect(viaPublicKeyObject(withPoint(spki, P, y0))).toBe('rejected');
  });

  it('leaves non-canonical P-256 encodings to the DER decoder (compressed point, trailing byte)', () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    // RFC 5480 §2.2: the compressed form (02/03 ‖ X) in the same AlgorithmIdentifier.
    const compressed = Uint8Array.from(
      Buffer.concat([
        Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
        ecdh.getPublicKey(null, 'compressed'),
      ]),
    );
    expect(viaPublicKeyObject(compressed)).toBe(viaDer(compressed));
    expect(viaPublicKeyObject(compressed)).not.toBe('rejected');
    const spki = spkiOf('P-256');
    const trailing = Uint8Array.from([...spki, 0]);
    // Whatever OpenSSL makes of it (today it ignores the trailing octet), publicKeyObject agrees.
    expect(viaPublicKeyObject(trailing)).toBe(viaDer(trailing));
  });

  it('caches one KeyObject per distinct key', () => {
    const cache = new KeyCache();
    const spki = spkiOf('P-256');
    expect(cache.get(spki)).toBe(cache.get(Uint8Array.from(spki)));
  });
});
