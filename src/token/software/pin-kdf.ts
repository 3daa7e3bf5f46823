/**
 * The PIN-derived keys of the software token: scrypt (RFC 7914) over the PIN with a random
 * salt gives 64 bytes, split into an AES-256-GCM key for the encrypted state and a key that
 * only computes the PIN check value. The check value tells "wrong PIN" apart from "header
 * tampered" (GCM alone cannot: both fail the tag) and costs an attacker exactly as much
 * as trying a decryption, so it leaks nothing a stolen file does not already offer.
 *
 * @example
 * const kdf = newKdfParams();
 * const { encryptionKey, pinCheck } = await derivePinKeys('123456', kdf);
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { fail } from '../../core/errors.js';

/** scrypt parameters as a token file records them (the file carries its own cost). */
export interface KdfParams {
  readonly name: 'scrypt';
  /** log2 of the CPU/memory cost N. */
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Uint8Array;
}

/**
 * Production cost: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s on a laptop core). Every file
 * the CLI makes uses at least this, and the CLI refuses to open a file below it.
 */
export const DEFAULT_KDF_COST = { log2N: 15, r: 8, p: 1 } as const;

/** The lowest log2N a token accepts unless the caller lowers the floor (tests only). */
export const KDF_FLOOR_LOG2N = DEFAULT_KDF_COST.log2N;

/** Upper bounds: a tampered header must not make us allocate gigabytes or spin for minutes. */
const MAX_LOG2N = 20;
const MAX_R = 16;
const MAX_P = 4;
/** A test-only floor may go this low, never lower. */
const ABSOLUTE_MIN_LOG2N = 10;

const PIN_CHECK_LABEL = 'provenance software token: PIN check v1';

/** Fresh parameters with a random 16-byte salt. */
export function newKdfParams(cost: { log2N: number; r: number; p: number } = DEFAULT_KDF_COST): KdfParams {
  checkKdfCost(cost, ABSOLUTE_MIN_LOG2N);
  return { name: 'scrypt', log2N: cost.log2N, r: cost.r, p: cost.p, salt: new Uint8Array(randomBytes(16)) };
}

/**
 * Refuse costs outside [floor, ceiling]. Throws TOKEN_FILE_INVALID: the parameters come from
 * the file (or a caller's option, which is a programming error caught by the same check).
 */
export function checkKdfCost(cost: { log2N: number; r: number; p: number }, floorLog2N: number): void {
  const floor = Math.max(floorLog2N, ABSOLUTE_MIN_LOG2N);
  const ok =
    Number.isInteger(cost.log2N) &&
    Number.isInteger(cost.r) &&
    Number.isInteger(cost.p) &&
    cost.log2N >= floor &&
    cost.log2N <= MAX_LOG2N &&
    cost.r >= 1 &&
    cost.r <= MAX_R &&
    cost.p >= 1 &&
    cost.p <= MAX_P;
  if (!ok) {
    fail(
      'TOKEN_FILE_INVALID',
      `scrypt parameters N=2^${cost.log2N}, r=${cost.r}, p=${cost.p} are outside the accepted range (N from 2^${floor} to 2^${MAX_LOG2N}, r <= ${MAX_R}, p <= ${MAX_P})`,
      { log2N: cost.log2N, r: cost.r, p: cost.p, floorLog2N: floor },
    );
  }
}

/** What the PIN unlocks. `encryptionKey` never leaves the token module. */
export interface PinKeys {
  readonly encryptionKey: Buffer;
  readonly pinCheck: Uint8Array;
}

/** Normalise a PIN: NFC, so the same PIN typed on two keyboards gives the same key. */
export function normalisePin(pin: string): string {
  return pin.normalize('NFC');
}

/** Run scrypt over the PIN (asynchronously, off the event loop's thread). */
export async function derivePinKeys(pin: string, kdf: KdfParams): Promise<PinKeys> {
  const N = 2 ** kdf.log2N;
  // scrypt needs 128·N·r bytes (plus p·128·r); allow twice that so Node's default cap doesn't bite.
  const maxmem = 2 * 128 * N * kdf.r + 1024 * 1024;
  const out = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      Buffer.from(normalisePin(pin), 'utf8'),
      kdf.salt,
      64,
      { N, r: kdf.r, p: kdf.p, maxmem },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
  const encryptionKey = Buffer.from(out.subarray(0, 32));
  const pinCheck = new Uint8Array(createHmac('sha256', out.subarray(32)).update(PIN_CHECK_LABEL).digest());
  out.fill(0);
  return { encryptionKey, pinCheck };
}

/** Constant-time comparison of a derived PIN check value with the file's. */
export function pinCheckMatches(derived: Uint8Array, stored: Uint8Array): boolean {
  return derived.length === stored.length && timingSafeEqual(derived, stored);
}
