/**
 * The service's bearer secrets: enrollment codes (`Authorization: Enroll <code>`) and admin
 * tokens (`Authorization: Bearer pvat_…`). Both are random, shown once, and stored only as
 * SHA-256: a database leak gives no usable credential. A presented secret is looked up by its
 * hash and then compared in constant time (the lookup itself is an index probe on a hash the
 * caller cannot steer, so it leaks nothing useful about stored values).
 *
 * @example
 * const { code, hash } = newEnrollmentCode();   // give `code` to the customer, store `hash`
 */
import { randomBytes } from 'node:crypto';
import { bytesEqual, sha256, toBase64Url } from '../core/bytes.js';

/** 24 random bytes: 192 bits, above the 128 the issue asks for; 32 base64url characters. */
export const ENROLLMENT_CODE_BYTES = 24;
/** Admin tokens: the prefix makes them recognisable to secret scanners, then 32 random bytes. */
export const ADMIN_TOKEN_PREFIX = 'pvat_';
export const ADMIN_TOKEN_BYTES = 32;

const CODE_PATTERN = /^[A-Za-z0-9_-]{32}$/;
const TOKEN_PATTERN = /^pvat_[A-Za-z0-9_-]{43}$/;

/** A new secret and the hash to store. */
export interface NewSecret {
  /** Shown once, never stored. */
  readonly secret: string;
  /** SHA-256 of the secret's UTF-8 text. */
  readonly hash: Uint8Array;
}

/**
 * A new enrollment code (base64url of 24 random bytes).
 *
 * @example
 * const { secret, hash } = newEnrollmentCode();
 */
export function newEnrollmentCode(random: (n: number) => Uint8Array = randomBytes): NewSecret {
  const secret = toBase64Url(random(ENROLLMENT_CODE_BYTES));
  return { secret, hash: hashSecret(secret) };
}

/**
 * A new admin token: `pvat_` + base64url of 32 random bytes.
 *
 * @example
 * const { secret, hash } = newAdminToken();
 */
export function newAdminToken(random: (n: number) => Uint8Array = randomBytes): NewSecret {
  const secret = `${ADMIN_TOKEN_PREFIX}${toBase64Url(random(ADMIN_TOKEN_BYTES))}`;
  return { secret, hash: hashSecret(secret) };
}

/** SHA-256 of a secret's UTF-8 text: what the store keeps and looks up. */
export function hashSecret(secret: string): Uint8Array {
  return sha256(new TextEncoder().encode(secret));
}

/** Constant-time equality of two stored hashes. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b);
}

/** True when the text has the shape of an enrollment code (checked before any lookup). */
export function isEnrollmentCodeShape(text: string): boolean {
  return CODE_PATTERN.test(text);
}

/** True when the text has the shape of an admin token. */
export function isAdminTokenShape(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

/** An Authorization header split into scheme (lower case) and credentials (RFC 9110 §11.4). */
export interface Credentials {
  readonly scheme: string;
  readonly value: string;
}

/** Split `Authorization: <scheme> <credentials>`; null when absent or not of that form. */
export function parseAuthorization(header: string | undefined): Credentials | null {
  if (header === undefined) return null;
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +(\S+) *$/.exec(header);
  if (!m) return null;
  return { scheme: m[1]!.toLowerCase(), value: m[2]! };
}
