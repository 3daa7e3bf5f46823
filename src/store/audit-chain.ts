/**
 * The audit log's hash chain, as pure functions: the hash of one record, and a walker that
 * checks records in seq order and names the first one that is wrong.
 *
 *     hash(n) = hex(SHA-256( hash(n-1) ‖ canonicalJson({ seq, at, event, actor, subject, data }) ))
 *
 * where `hash(n-1)` is the previous record's hash as its 64 lower-case hex characters (ASCII),
 * `hash(0)` is 64 zeros, and canonicalJson is RFC 8785 (sorted keys, no whitespace). An auditor
 * can recompute one link with standard tools:
 *     printf '%s%s' "$prev" "$json" | sha256sum
 *
 * Any edit of a record's content breaks its own hash; a rewritten hash breaks the next link; a
 * deleted or inserted record breaks the numbering or a link; the head row (last seq and hash)
 * catches records removed from or added at the end.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH } from './migrations.js';
import type { AuditRecord } from './types.js';

export { GENESIS_HASH };

/** The fields a record's hash covers (everything but the hashes themselves). */
export interface AuditContent {
  readonly seq: number;
  readonly at: number;
  readonly event: string;
  readonly actor: string;
  readonly subject: string;
  readonly data: Record<string, unknown>;
}

/** The canonical JSON the hash covers. */
export function auditContentJson(content: AuditContent): string {
  const { seq, at, event, actor, subject, data } = content;
  return canonicalJson({ seq, at, event, actor, subject, data });
}

/** hex(SHA-256(prevHash hex ‖ canonical content)). */
export function auditRecordHash(prevHash: string, content: AuditContent): string {
  return createHash('sha256')
    .update(prevHash, 'ascii')
    .update(auditContentJson(content), 'utf8')
    .digest('hex');
}

/** A record as read back from the table: `data` is the stored JSON text, not yet parsed. */
export interface StoredAuditRow {
  readonly seq: number;
  readonly at: number;
  readonly event: string;
  readonly actor: string;
  readonly subject: string;
  readonly data: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** What is wrong with the chain, at which record. */
export interface AuditChainFault {
  readonly seq: number;
  readonly problem: string;
}

/**
 * Checks records fed in ascending seq order (the whole table, page by page), then the head.
 *
 * @example
 * const walker = new AuditChainWalker();
 * for (const row of rows) { const fault = walker.next(row); if (fault) return fault; }
 * return walker.finish(head);
 */
export class AuditChainWalker {
  private lastSeq = 0;
  private lastHash = GENESIS_HASH;

  /** Records checked so far. */
  get records(): number {
    return this.lastSeq;
  }

  /** Hash of the last record checked (64 zeros before the first). */
  get head(): string {
    return this.lastHash;
  }

  /** Check the next record; a fault names the first seq that is wrong. */
  next(row: StoredAuditRow): AuditChainFault | null {
    const expected = this.lastSeq + 1;
    if (row.seq !== expected) {
      return row.seq > expected
        ? {
            seq: expected,
            problem:
              row.seq === expected + 1
                ? `record ${expected} is missing (deleted or renumbered)`
                : `records ${expected} to ${row.seq - 1} are missing (deleted or renumbered)`,
          }
        : { seq: row.seq, problem: `record ${row.seq} appears out of order` };
    }
    if (row.prevHash !== this.lastHash) {
      return {
        seq: row.seq,
        problem:
          row.seq === 1
            ? 'record 1 does not start the chain (its prevHash is not 64 zeros): a record was inserted before it'
            : `record ${row.seq} does not link to record ${row.seq - 1}: one of them was rewritten, inserted or reordered`,
      };
    }
    let data: unknown;
    try {
      data = JSON.parse(row.data);
    } catch {
      return { seq: row.seq, problem: `record ${row.seq} was edited: its data is not JSON` };
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      return { seq: row.seq, problem: `record ${row.seq} was edited: its data is not a JSON object` };
    let hash: string;
    try {
      hash = auditRecordHash(row.prevHash, { ...row, data: data as Record<string, unknown> });
    } catch {
      return { seq: row.seq, problem: `record ${row.seq} was edited: its data cannot be canonicalised` };
    }
    if (hash !== row.hash)
      return { seq: row.seq, problem: `record ${row.seq} was edited: its content does not match its hash` };
    this.lastSeq = row.seq;
    this.lastHash = row.hash;
    return null;
  }

  /**
   * After the last record: the head row must name exactly the last record. Records beyond
   * the head were inserted (every append moves the head in the same transaction); a head
   * beyond the last record means records were deleted from the end.
   */
  finish(head: { seq: number; hash: string }): AuditChainFault | null {
    if (head.seq > this.lastSeq) {
      const first = this.lastSeq + 1;
      return {
        seq: first,
        problem:
          head.seq === first
            ? `record ${first} is missing (deleted from the end of the log)`
            : `records ${first} to ${head.seq} are missing (deleted from the end of the log)`,
      };
    }
    if (head.seq < this.lastSeq)
      return {
        seq: head.seq + 1,
        problem: `record ${head.seq + 1} was inserted after the last record the service wrote`,
      };
    if (head.hash !== this.lastHash)
      return {
        seq: this.lastSeq,
        problem: `record ${this.lastSeq} does not match the log head: it was rewritten after it was appended`,
      };
    return null;
  }
}

/** The record returned to callers from a stored row (data parsed). */
export function auditRecordFromRow(row: StoredAuditRow): AuditRecord {
  return {
    seq: row.seq,
    at: row.at,
    event: row.event,
    actor: row.actor,
    subject: row.subject,
    data: JSON.parse(row.data) as Record<string, unknown>,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
