/**
 * Known weaknesses of a public key, found from the public key alone, as a CA checks before it
 * certifies one (Let's Encrypt Boulder `goodkey`): ROCA, small prime factors, primes close
 * enough for Fermat's method, and a weak RSA public exponent.
 *
 * @example
 * const weaknesses = findKeyWeaknesses(spki);
 * if (weaknesses.length > 0) reject(weaknesses[0].message);
 */
import { describeKey } from './keys.js';
import { hasRocaFingerprint } from './roca.js';

/** What is wrong with a key. `id` is stable (policies and audit logs use it); `message` is for people. */
export interface KeyWeakness {
  readonly id: KeyWeaknessId;
  readonly message: string;
  /** Facts behind the finding (a small factor, the Fermat round), for the verdict's detail. */
  readonly detail?: Record<string, unknown>;
}

/** Stable ids of the weaknesses `findKeyWeaknesses` reports. */
export type KeyWeaknessId =
  | 'roca'
  | 'rsa-small-factor'
  | 'rsa-fermat'
  | 'rsa-small-exponent'
  | 'rsa-even-exponent'
  | 'rsa-small-modulus';

/** Tuning for the weak-key checks. */
export interface WeakKeyOptions {
  /** Rounds of Fermat's method (Boulder uses 100): finds p, q with |p − q| ≲ 2·√(2·rounds)·N^¼. */
  readonly fermatRounds?: number;
}

/** Boulder's default for `FermatRounds`. */
export const DEFAULT_FERMAT_ROUNDS = 100;

/** Trial division bound: the primorial of every prime below it is gcd-ed with the modulus. */
const SMALL_PRIME_BOUND = 10_000;
/** Below this an RSA modulus is trivially factorable (and the other checks say little). */
const MIN_SANE_MODULUS_BITS = 512;
/** FIPS 186-5 §5.4 / NIST SP 800-89 §5.3.3 and Boulder goodkey: e must be odd and at least 65537. */
const MIN_EXPONENT = 65537n;

const SMALL_PRIMES: readonly number[] = sieve(SMALL_PRIME_BOUND);
const SMALL_PRIMORIAL: bigint = SMALL_PRIMES.reduce((m, p) => m * BigInt(p), 1n);

/**
 * Every known weakness of the key in `spki` (DER SubjectPublicKeyInfo). Non-RSA keys have none
 * found here (curve and size policy is `checkKey`'s job). Throws KEY_MALFORMED when the key
 * does not decode (via `describeKey`; that includes RSA keys with an even exponent).
 *
 * @example
 * findKeyWeaknesses(spki).map((w) => w.id)   // [] or e.g. ['roca'], ['rsa-fermat']
 */
export function findKeyWeaknesses(spki: Uint8Array, options: WeakKeyOptions = {}): KeyWeakness[] {
  const key = describeKey(spki);
  if (key.rsaModulus === undefined || key.rsaExponent === undefined) return [];
  return findRsaWeaknesses(key.rsaModulus, key.rsaExponent, options);
}

/** The same checks on a bare RSA modulus and exponent (for keys that are not in an SPKI). */
export function findRsaWeaknesses(n: bigint, e: bigint, options: WeakKeyOptions = {}): KeyWeakness[] {
  const out: KeyWeakness[] = [];
  const bits = n.toString(2).length;

  // Boulder goodkey: "key exponent should be odd" / "must be at least 65537".
  if ((e & 1n) === 0n) {
    out.push({
      id: 'rsa-even-exponent',
      message: `RSA public exponent ${e} is even`,
      detail: { exponent: `${e}` },
    });
  } else if (e < MIN_EXPONENT) {
    out.push({
      id: 'rsa-small-exponent',
      message: `RSA public exponent ${e} is below ${MIN_EXPONENT}`,
      detail: { exponent: `${e}` },
    });
  }
  if (bits < MIN_SANE_MODULUS_BITS) {
    out.push({
      id: 'rsa-small-modulus',
      message: `RSA modulus of ${bits} bits is trivially factorable`,
      detail: { bits },
    });
  }

  // ROCA (CVE-2017-15361), docs/standards §10.2 (B): the discrete-log fingerprint.
  if (hasRocaFingerprint(n)) {
    out.push({
      id: 'roca',
      message: 'RSA modulus has the ROCA fingerprint (CVE-2017-15361, Infineon RSALib): it can be factored',
    });
  }

  // Boulder goodkey checkSmallPrimes: a modulus with a small prime factor is factored by trial
  // division. One gcd with the primorial replaces ~1 200 divisions.
  const g = gcd(SMALL_PRIMORIAL % n, n);
  if (g !== 1n) {
    const factor = SMALL_PRIMES.find((p) => n % BigInt(p) === 0n)!;
    out.push({
      id: 'rsa-small-factor',
      message: `RSA modulus is divisible by the small prime ${factor}`,
      detail: { factor },
    });
  } else {
    // Boulder goodkey checkPrimeFactorsTooClose: Fermat's method, a bounded number of rounds.
    const rounds = options.fermatRounds ?? DEFAULT_FERMAT_ROUNDS;
    const found = fermatFactor(n, rounds);
    if (found) {
      out.push({
        id: 'rsa-fermat',
        message: `RSA modulus factors by Fermat's method in ${found.round + 1} round(s): its primes are too close`,
        detail: { round: found.round, rounds },
      });
    }
  }
  return out;
}

/**
 * Fermat's factorisation: a = ⌈√N⌉, a+1, …; if a² − N is a square b², then N = (a−b)(a+b).
 * Returns the round it succeeded in, or null after `rounds` rounds. `a² − N` is updated by
 * adding 2a + 1, and most non-squares are rejected by quadratic residues before any root.
 */
function fermatFactor(n: bigint, rounds: number): { round: number; p: bigint; q: bigint } | null {
  if ((n & 1n) === 0n || n < 9n) return null;
  let a = isqrt(n);
  if (a * a < n) a++;
  let b2 = a * a - n;
  for (let round = 0; round < rounds; round++) {
    if (mayBeSquare(b2)) {
      const b = isqrt(b2);
      if (b * b === b2) {
        const p = a - b;
        if (p > 1n) return { round, p, q: a + b };
      }
    }
    b2 += 2n * a + 1n;
    a++;
  }
  return null;
}

/** Squares modulo 64, 63, 65 and 11: a non-square is caught by one of them ~99% of the time. */
const SQUARE_FILTERS: readonly { m: bigint; residues: ReadonlySet<number> }[] = [64, 63, 65, 11].map((m) => {
  const residues = new Set<number>();
  for (let x = 0; x < m; x++) residues.add((x * x) % m);
  return { m: BigInt(m), residues };
});

function mayBeSquare(x: bigint): boolean {
  return SQUARE_FILTERS.every(({ m, residues }) => residues.has(Number(x % m)));
}

/** ⌊√x⌋ by Newton's method from a power-of-two overestimate; BigInt only. */
function isqrt(x: bigint): bigint {
  if (x < 2n) return x;
  let r = 1n << BigInt(Math.ceil(x.toString(2).length / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function sieve(limit: number): number[] {
  const composite = new Uint8Array(limit);
  const primes: number[] = [];
  for (let i = 2; i < limit; i++) {
    if (composite[i]) continue;
    primes.push(i);
    for (let j = i * i; j < limit; j += i) composite[j] = 1;
  }
  return primes;
}
