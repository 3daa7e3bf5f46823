/**
 * Byte helpers: hex, base64url, equality, hashing. Pure functions over Uint8Array.
 *
 * @example
 * toHex(sha256(spki)) // '9f86d0…'
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { fail } from './errors.js';

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** Strict hex: even length, [0-9a-f] only (either case). Optional colons are not accepted. */
export function fromHex(hex: string, what = 'hex value'): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) fail('USAGE', `${what} is not valid hex`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

/** Strict base64url (no padding, no '+/'). */
export function fromBase64Url(text: string, what = 'base64url value'): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1)
    fail('USAGE', `${what} is not valid base64url`);
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Byte equality; constant time when the lengths match. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
