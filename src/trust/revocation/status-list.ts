/**
 * The Android attestation status list (https://android.googleapis.com/attestation/status):
 * JSON `{ "entries": { "<serial hex>": { "status": "REVOKED" | "SUSPENDED", "expires"?,
 * "reason"?, "comment"? } } }` (standards.md §4.4). Every certificate of the chain is checked,
 * not only the leaf; SUSPENDED counts like REVOKED; a serial not listed is good.
 *
 * Keys are lower-case hex without leading zeros, but real lists hold keys that look decimal
 * ("6681152659205225093"): they are hex too (Google's own checkers compare
 * `serial.toString(16)`), so every key is normalised as hex (case folded, leading zeros
 * dropped) and compared with the certificate serial's canonical hex. A key that is not hex
 * makes the whole list invalid (fail closed: a list we cannot read fully says nothing).
 *
 * @example
 * const list = parseStatusList(readFileSync('status.json'));
 * const source = statusListSource(list, 'android-status:status.json');
 * source.check(path, { time: Date.now() });
 */
import { fail } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import type { RevocationContext, RevocationSource, RevocationStatus } from './types.js';

/** Bounds of the parser (the real list is a few kB; the bound keeps a hostile one cheap). */
export const STATUS_LIST_LIMITS = { maxBytes: 8 * 1024 * 1024, maxEntries: 200_000 } as const;

/** One entry of the list. */
export interface StatusListEntry {
  readonly status: 'REVOKED' | 'SUSPENDED';
  readonly reason?: string;
  /** "YYYY-MM-DD" as given; informational only (an entry never silently stops counting). */
  readonly expires?: string;
  readonly comment?: string;
}

/** A parsed status list, keyed by normalised hex serial. */
export interface StatusList {
  readonly entries: ReadonlyMap<string, StatusListEntry>;
}

const STATUSES = new Set(['REVOKED', 'SUSPENDED']);
const REASONS = new Set(['UNSPECIFIED', 'KEY_COMPROMISE', 'CA_COMPROMISE', 'SUPERSEDED', 'SOFTWARE_FLAW']);

/** Canonical form of a serial written in hex: lower case, no leading zeros ("0" for zero). */
export function normaliseSerialHex(text: string): string {
  const lower = text.toLowerCase();
  if (!/^[0-9a-f]{1,256}$/.test(lower)) fail('STATUS_LIST_INVALID', `"${text}" is not a hex serial number`);
  return lower.replace(/^0+(?=.)/, '');
}

/**
 * Parse and validate the status list JSON (bytes or text). STATUS_LIST_INVALID for anything
 * outside the schema, INPUT_TOO_LARGE beyond the size bound.
 *
 * @example
 * parseStatusList('{"entries":{"cc66e9a93713b6e643b26c15879786f7":{"status":"SUSPENDED"}}}')
 */
export function parseStatusList(input: Uint8Array | string, options: { maxBytes?: number } = {}): StatusList {
  const maxBytes = options.maxBytes ?? STATUS_LIST_LIMITS.maxBytes;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes)
    fail('INPUT_TOO_LARGE', `status list of ${size} bytes exceeds ${maxBytes}`, { size, limit: maxBytes });
  let doc: unknown;
  try {
    const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
    doc = JSON.parse(text);
  } catch (err) {
    return fail('STATUS_LIST_INVALID', `the status list is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !isObject(doc['entries']))
    fail('STATUS_LIST_INVALID', 'the status list has no "entries" object');
  const raw = Object.entries(doc['entries'] as Record<string, unknown>);
  if (raw.length > STATUS_LIST_LIMITS.maxEntries)
    fail('STATUS_LIST_INVALID', `the status list has more than ${STATUS_LIST_LIMITS.maxEntries} entries`);
  const entries = new Map<string, StatusListEntry>();
  for (const [key, value] of raw) {
    const serial = normaliseSerialHex(key);
    if (!isObject(value)) fail('STATUS_LIST_INVALID', `entry "${key}" is not an object`);
    const { status, reason, expires, comment } = value;
    if (typeof status !== 'string' || !STATUSES.has(status))
      fail(
        'STATUS_LIST_INVALID',
        `entry "${key}" has status ${JSON.stringify(status)}, not REVOKED or SUSPENDED`,
      );
    if (reason !== undefined && (typeof reason !== 'string' || !REASONS.has(reason)))
      fail('STATUS_LIST_INVALID', `entry "${key}" has an unknown reason ${JSON.stringify(reason)}`);
    if (expires !== undefined && (typeof expires !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(expires)))
      fail('STATUS_LIST_INVALID', `entry "${key}" has an "expires" that is not YYYY-MM-DD`);
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > 1000))
      fail('STATUS_LIST_INVALID', `entry "${key}" has an unusable comment`);
    // Two keys naming the same serial ("0abc" and "abc"): the stronger status wins.
    const previous = entries.get(serial);
    if (previous?.status === 'REVOKED') continue;
    entries.set(serial, {
      status: status as StatusListEntry['status'],
      ...(reason === undefined ? {} : { reason: reason as string }),
      ...(expires === undefined ? {} : { expires: expires as string }),
      ...(comment === undefined ? {} : { comment: comment as string }),
    });
  }
  return { entries };
}

/**
 * A revocation source over a parsed list: every certificate of the path, anchor included,
 * gets 'good', 'revoked' or 'suspended' (standards.md §4.4: check every certificate's serial).
 *
 * @example
 * statusListSource(parseStatusList(json), 'android-status:https://android.googleapis.com/attestation/status')
 */
export function statusListSource(list: StatusList, name: string): RevocationSource {
  return {
    name,
    check(path: readonly Certificate[], _ctx: RevocationContext): RevocationStatus[] {
      return path.map((cert, position) => {
        const serial = normaliseSerialHex(cert.serialHex || '0');
        const entry = list.entries.get(serial);
        if (!entry) return { position, serial, status: 'good', source: name };
        return {
          position,
          serial,
          status: entry.status === 'SUSPENDED' ? 'suspended' : 'revoked',
          source: name,
          ...(entry.reason === undefined ? {} : { reason: entry.reason }),
          ...(entry.comment === undefined ? {} : { detail: entry.comment }),
        };
      });
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
