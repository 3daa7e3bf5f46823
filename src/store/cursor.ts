/**
 * Opaque pagination cursors: base64url of the JSON array of the last row's sort key. Keyset
 * pagination (WHERE key < last) keeps pages stable while rows are added, unlike OFFSET.
 *
 * A cursor is not a secret and not a capability: the filter is applied again on every page,
 * so a forged cursor can only skip rows the caller may read anyway. Malformed ones are a
 * client error (BODY_INVALID naming the `cursor` parameter).
 *
 * @example
 * const next = encodeCursor([record.createdAt, record.id]);
 * const [createdAt, id] = decodeCursor(next, ['number', 'string']);
 */
import { ProvenanceError } from '../core/errors.js';

/** Longest cursor accepted (a sort key is a number and an id: far shorter). */
export const MAX_CURSOR_LENGTH = 512;

/** Largest page any list returns. */
export const MAX_PAGE_SIZE = 100;

/** Page size when the caller gives none. */
export const DEFAULT_PAGE_SIZE = 50;

type KeyKind = 'number' | 'string';
type KeyOf<K extends readonly KeyKind[]> = { [I in keyof K]: K[I] extends 'number' ? number : string };

/** Encode a sort key as an opaque cursor. */
export function encodeCursor(key: readonly (number | string)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decode a cursor made by `encodeCursor` with the same key shape; BODY_INVALID otherwise. */
export function decodeCursor<const K extends readonly KeyKind[]>(cursor: string, shape: K): KeyOf<K> {
  const invalid = (why: string): ProvenanceError =>
    new ProvenanceError('BODY_INVALID', `cursor is not valid: ${why}`, { parameter: 'cursor' });
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw invalid('not a cursor this service returned');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor this service returned');
  }
  if (!Array.isArray(key) || key.length !== shape.length) throw invalid('wrong shape');
  for (const [i, kind] of shape.entries()) {
    const part = key[i];
    const ok =
      kind === 'number' ? Number.isSafeInteger(part) : typeof part === 'string' && part.length <= 200;
    if (!ok) throw invalid('wrong shape');
  }
  return key as KeyOf<K>;
}

/** Clamp a requested page size to 1…MAX_PAGE_SIZE (DEFAULT_PAGE_SIZE when absent). */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

/** Split `limit + 1` fetched rows into a page and the cursor of its last row. */
export function toPage<R, T>(
  rows: readonly R[],
  limit: number,
  map: (row: R) => T,
  key: (item: T) => readonly (number | string)[],
): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit).map(map);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null };
}
