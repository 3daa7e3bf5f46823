import { checkPrimeSync, generateKeyPairSync, generatePrimeSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { findKeyWeaknesses, findRsaWeaknesses } from '../../src/pki/weak-keys.js';

/** SubjectPublicKeyInfo for an RSA key (RFC 8017 A.1.1, RFC 3279 §2.3.1). */
function rsaSpki(n: bigint, e: bigint): Uint8Array {
  return der.seq(
    der.seq(der.oid(OID.rsaEncryption), der.null()),
    der.bitString(der.seq(der.int(n), der.int(e))),
  );
}

function prime(bits: number): bigint {
  return generatePrimeSync(bits, { bigint: true });
}

function nextPrime(from: bigint): bigint {
  let p = from | 1n;
  while (!checkPrimeSync(p)) p += 2n;
  return p;
}

/** The primorial of 2..167 and a prime of Infineon RSALib's shape k·M + 65537^a mod M (§10.1). */
const M = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97]
  .concat([101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167])
  .reduce((a, p) => a * BigInt(p), 1n);

function rocaPrime(bits: number): bigint {
  for (;;) {
    const a = BigInt(`0x${randomBytes(8).toString('hex')}`);
    let r = 1n;
    for (let x = 65537n % M, k = a; k > 0n; k >>= 1n, x = (x * x) % M) if (k & 1n) r = (r * x) % M;
    const k = (BigInt(`0x${randomBytes(bits / 8).toString('hex')}`) >> 221n) | (1n << BigInt(bits - 222));
    const p = k * M + r;
    if (checkPrimeSync(p)) return p;
  }
}

const ids = (spki: Uint8Array) => findKeyWeaknesses(spki).map((w) => w.id);

describe('findKeyWeaknesses', () => {
  it('finds nothing wrong with a fresh RSA-2048 key from Node', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(ids(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })))).toEqual([]);
  });

  it('finds nothing to say about EC and Ed25519 keys (curve policy is checkKey’s job)', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const ed = generateKeyPairSync('ed25519').publicKey;
    expect(ids(new Uint8Array(ec.export({ type: 'spki', format: 'der' })))).toEqual([]);
    expect(ids(new Uint8Array(ed.export({ type: 'spki', format: 'der' })))).toEqual([]);
  });

  it('flags a modulus of two close primes as factorable by Fermat’s method', () => {
    const p = prime(1024);
    const q = nextPrime(p + 2n);
    const [weakness] = findKeyWeaknesses(rsaSpki(p * q, 65537n));
    expect(weakness).toMatchObject({ id: 'rsa-fermat', detail: { round: 0 } });
  });

  it('finds close primes that need several Fermat rounds, and only within the round budget', () => {
    // a − √N ≈ (p − q)² / (8√N): a gap of 2^520 between 1024-bit primes needs ~2^(1040−3−1024) rounds.
    const p = prime(1024);
    const q = nextPrime(p + (1n << 520n));
    const n = p * q;
    const found = findRsaWeaknesses(n, 65537n, { fermatRounds: 100_000 });
    expect(found.map((w) => w.id)).toEqual(['rsa-fermat']);
    const round = found[0]!.detail!['round'] as number;
    expect(round).toBeGreaterThan(0);
    expect(findRsaWeaknesses(n, 65537n, { fermatRounds: round }).map((w) => w.id)).toEqual([]);
  });

  it('does not flag primes of the same size that are far apart', () => {
    const n = prime(1024) * prime(1024);
    expect(ids(rsaSpki(n, 65537n))).toEqual([]);
  });

  it('flags a modulus with a small prime factor and names the factor', () => {
    const n = 7919n * prime(2036);
    expect(findKeyWeaknesses(rsaSpki(n, 65537n))).toEqual([
      expect.objectContaining({ id: 'rsa-small-factor', detail: { factor: 7919 } }),
    ]);
  });

  it('flags a public exponent below 65537', () => {
    const n = prime(1024) * prime(1024);
    expect(ids(rsaSpki(n, 3n))).toEqual(['rsa-small-exponent']);
    expect(ids(rsaSpki(n, 65535n))).toEqual(['rsa-small-exponent']);
    expect(ids(rsaSpki(n, 65539n))).toEqual([]);
  });

  it('flags an even exponent given as numbers; in an SPKI it is already a malformed key', () => {
    const n = prime(1024) * prime(1024);
    expect(findRsaWeaknesses(n, 65538n).map((w) => w.id)).toEqual(['rsa-even-exponent']);
    expect(() => findKeyWeaknesses(rsaSpki(n, 65538n))).toThrow(
      expect.objectContaining({ code: 'KEY_MALFORMED' }),
    );
  });

  it('flags a real ROCA-structured key (primes k·M + 65537^a mod M)', () => {
    const n = rocaPrime(1024) * rocaPrime(1024);
    expect(ids(rsaSpki(n, 65537n))).toContain('roca');
  });

  it('flags a toy-sized modulus', () => {
    const n = prime(128) * prime(128);
    expect(ids(rsaSpki(n, 65537n))).toContain('rsa-small-modulus');
  });

  it('throws KEY_MALFORMED for bytes that are not a public key', () => {
    expect(() => findKeyWeaknesses(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))).toThrow(
      expect.objectContaining({ code: 'KEY_MALFORMED' }),
    );
  });

  it('checks an RSA-4096 key in a few milliseconds', () => {
    const n = prime(2048) * prime(2048);
    const start = performance.now();
    for (let i = 0; i < 10; i++) findRsaWeaknesses(n, 65537n);
    const ms = (performance.now() - start) / 10;
    console.info(`findRsaWeaknesses on RSA-4096: ${ms.toFixed(2)} ms`);
    expect(ms).toBeLessThan(50);
  });
});
