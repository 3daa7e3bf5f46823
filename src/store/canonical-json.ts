/**
 * Canonical JSON for hashing audit records: object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings as ECMAScript's JSON.stringify writes them. For JSON data
 * this is the JSON Canonicalization Scheme (RFC 8785 §3.2), so an auditor can recompute a
 * record's hash with any JCS implementation.
 *
 * Stricter than JSON.stringify where silence would lose data: bigints, byte arrays, Maps,
 * class instances and cycles are refused (TypeError) instead of becoming `{}` or `"[object]"`.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */

/** Deeper than this is refused: audit data is small and flat, and recursion must be bounded. */
export const CANONICAL_JSON_MAX_DEPTH = 32;

/** Serialise `value` canonically (RFC 8785 for JSON values); throws TypeError for non-JSON data. */
export function canonicalJson(value: unknown): string {
  const out = write(value, 0, '$');
  if (out === undefined) throw new TypeError('canonical JSON: the top-level value is not JSON data');
  return out;
}

function write(value: unknown, depth: number, path: string): string | undefined {
  if (depth > CANONICAL_JSON_MAX_DEPTH)
    throw new TypeError(`canonical JSON: ${path} nests deeper than ${CANONICAL_JSON_MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      // JSON has no NaN or Infinity; JSON.stringify writes null, and so do we (stable on re-read).
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      // Like JSON.stringify: dropped from objects, null in arrays (the caller decides).
      return undefined;
    case 'bigint':
      throw new TypeError(`canonical JSON: ${path} is a bigint (write it as a string)`);
    default:
      break;
  }
  if (value === null) return 'null';
  const object = value as Record<string, unknown> & { toJSON?: (key: string) => unknown };
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer)
    throw new TypeError(`canonical JSON: ${path} is binary (write it as hex or base64url)`);
  if (typeof object.toJSON === 'function') return write(object.toJSON(''), depth + 1, path);
  if (Array.isArray(object)) {
    const items = object.map((item, i) => write(item, depth + 1, `${path}[${i}]`) ?? 'null');
    return `[${items.join(',')}]`;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null)
    throw new TypeError(`canonical JSON: ${path} is a ${proto?.constructor?.name ?? 'non-plain'} object`);
  const members: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const text = write(object[key], depth + 1, `${path}.${key}`);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}
