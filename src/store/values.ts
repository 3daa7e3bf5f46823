/**
 * Conversions between records and column values, and the checks that keep a value storable
 * the same way on both databases.
 */
import { ProvenanceError } from '../core/errors.js';

/** A BIGINT read back (pg returns a decimal string) as a number; TypeError if not a safe integer. */
export function toNumber(value: number | string | bigint): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new TypeError(`store: ${String(value)} is not a safe integer`);
  return n;
}

/** A nullable BIGINT read back. */
export function toNullableNumber(value: number | string | bigint | null): number | null {
  return value === null ? null : toNumber(value);
}

/** A BLOB/BYTEA read back (a Buffer) as a plain Uint8Array view. */
export function toBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** Bytes to bind: both drivers take a Buffer (a view, no copy). */
export function toBuffer(value: Uint8Array): Buffer {
  if (!(value instanceof Uint8Array)) throw new TypeError('store: expected a Uint8Array');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** A time or count to bind: a safe integer, else TypeError (a caller bug). */
export function int(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw new TypeError(`store: ${field} must be an integer, got ${value}`);
  return value;
}

// An unpaired UTF-16 surrogate: the drivers would silently turn it into U+FFFD, so what is
// read back (and hashed, for audit records) would differ from what was written.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A string to bind. NUL cannot be stored in a PostgreSQL text column and lone surrogates do
 * not survive UTF-8: both are refused on every backend (BODY_INVALID naming the field) so the
 * two databases accept exactly the same records.
 */
export function text(value: string, field: string): string {
  if (typeof value !== 'string') throw new TypeError(`store: ${field} must be a string`);
  if (value.includes('\u0000') || LONE_SURROGATE.test(value))
    throw new ProvenanceError('BODY_INVALID', `${field} contains a NUL character or an unpaired surrogate`, {
      field,
    });
  return value;
}

/** A nullable string to bind. */
export function nullableText(value: string | null, field: string): string | null {
  return value === null ? null : text(value, field);
}

/**
 * A JSON column value (plain JSON.stringify; `undefined` is stored as null). No `text` scan:
 * JSON.stringify escapes U+0000 and every lone surrogate (ECMA-262 QuoteJSONString, well-formed
 * since ES2019), so its output can hold neither, and the scan of a whole verdict found nothing.
 */
export function jsonText(value: unknown, field: string): string {
  const json = JSON.stringify(value ?? null);
  if (typeof json !== 'string') throw new TypeError(`store: ${field} is not JSON data`);
  return json;
}

/**
 * A certificate serial in the store's one spelling: lower-case hex without the DER sign pad
 * (leading 00 bytes). Returns null for anything that is not hex, so a lookup by a malformed
 * serial finds nothing rather than failing.
 */
export function normaliseSerial(serial: string): string | null {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(serial) || serial.length > 80) return null;
  const hex = serial.toLowerCase().replace(/^(?:00)+(?=[0-9a-f]{2})/, '');
  return hex;
}
