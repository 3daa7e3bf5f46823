/**
 * The TPM 2.0 key derivation functions KDFa (SP 800-108 counter mode with HMAC) and KDFe
 * (SP 800-56A concatenation KDF), exactly as TPM 2.0 Library Part 1 §11.4.10 defines them,
 * for credential activation (Part 1 §24, standards.md §2.6).
 */
import { createHash, createHmac } from 'node:crypto';
import { fail } from '../../core/errors.js';

/** TPM_ALG_ID values of the hashes a TPM name algorithm may be (Part 2 §6.3). */
export const TPM_ALG_SHA1 = 0x0004;
/** TPM_ALG_SHA256. */
export const TPM_ALG_SHA256 = 0x000b;
/** TPM_ALG_SHA384. */
export const TPM_ALG_SHA384 = 0x000c;
/** TPM_ALG_SHA512. */
export const TPM_ALG_SHA512 = 0x000d;

/** A TPM hash algorithm as Node's crypto names it, with its digest size in bytes. */
export interface TpmHash {
  readonly alg: number;
  readonly node: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  readonly size: number;
}

const HASHES: ReadonlyMap<number, TpmHash> = new Map([
  [TPM_ALG_SHA1, { alg: TPM_ALG_SHA1, node: 'sha1', size: 20 }],
  [TPM_ALG_SHA256, { alg: TPM_ALG_SHA256, node: 'sha256', size: 32 }],
  [TPM_ALG_SHA384, { alg: TPM_ALG_SHA384, node: 'sha384', size: 48 }],
  [TPM_ALG_SHA512, { alg: TPM_ALG_SHA512, node: 'sha512', size: 64 }],
]);

/** The hash for a TPM_ALG_ID; anything else (SM3, NULL, unknown) is ALGORITHM_UNSUPPORTED. */
export function tpmHash(alg: number): TpmHash {
  const hash = HASHES.get(alg);
  if (hash === undefined)
    fail(
      'ALGORITHM_UNSUPPORTED',
      `TPM hash algorithm 0x${alg.toString(16).padStart(4, '0')} is not supported`,
      {
        alg,
      },
    );
  return hash;
}

/** Largest output either KDF produces here (bounded work; credential activation needs ≤ 64 bytes). */
export const KDF_MAX_BITS = 8 * 1024;

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits <= 0 || bits > KDF_MAX_BITS)
    fail('USAGE', `KDF output size must be 1..${KDF_MAX_BITS} bits, not ${bits}`, { bits });
}

/** The label as hashed: its ASCII bytes plus the terminating NUL (Part 1 §11.4.10.2). */
function labelBytes(label: string): Buffer {
  if (!/^[\x01-\x7f]*$/.test(label)) fail('USAGE', 'a KDF label must be ASCII without NUL');
  return Buffer.concat([Buffer.from(label, 'ascii'), Buffer.alloc(1)]);
}

function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Keep ceil(bits/8) bytes and clear the high bits of the first byte beyond `bits` (Part 1 §11.4.10.2). */
function truncate(out: Buffer, bits: number): Uint8Array {
  const result = new Uint8Array(out.subarray(0, Math.ceil(bits / 8)));
  if (bits % 8 !== 0) result[0] = (result[0] ?? 0) & ((1 << (bits % 8)) - 1);
  return result;
}

/**
 * KDFa(H, key, label, contextU, contextV, bits): HMAC_H(key, BE32(i) || label || 00 ||
 * contextU || contextV || BE32(bits)) for i = 1, 2, … (TPM 2.0 Part 1 §11.4.10.2).
 *
 * @example
 * const symKey = kdfa(TPM_ALG_SHA256, seed, 'STORAGE', akName, new Uint8Array(0), 128);
 */
export function kdfa(
  hashAlg: number,
  key: Uint8Array,
  label: string,
  contextU: Uint8Array,
  contextV: Uint8Array,
  bits: number,
): Uint8Array {
  const hash = tpmHash(hashAlg);
  checkBits(bits);
  const fixed = Buffer.concat([labelBytes(label), contextU, contextV, be32(bits)]);
  const blocks: Buffer[] = [];
  for (let i = 1, have = 0; have < Math.ceil(bits / 8); i++) {
    const block = createHmac(hash.node, key).update(be32(i)).update(fixed).digest();
    blocks.push(block);
    have += block.length;
  }
  return truncate(Buffer.concat(blocks), bits);
}

/**
 * KDFe(H, Z, use, partyUInfo, partyVInfo, bits): H(BE32(i) || Z || use || 00 || partyUInfo ||
 * partyVInfo) for i = 1, 2, … — no trailing bit count, unlike KDFa (Part 1 §11.4.10.3).
 *
 * @example
 * const seed = kdfe(TPM_ALG_SHA256, z, 'IDENTITY', ephemeralX, ekX, 256);
 */
export function kdfe(
  hashAlg: number,
  z: Uint8Array,
  use: string,
  partyUInfo: Uint8Array,
  partyVInfo: Uint8Array,
  bits: number,
): Uint8Array {
  const hash = tpmHash(hashAlg);
  checkBits(bits);
  const fixed = Buffer.concat([z, labelBytes(use), partyUInfo, partyVInfo]);
  const blocks: Buffer[] = [];
  for (let i = 1, have = 0; have < Math.ceil(bits / 8); i++) {
    const block = createHash(hash.node).update(be32(i)).update(fixed).digest();
    blocks.push(block);
    have += block.length;
  }
  return truncate(Buffer.concat(blocks), bits);
}
