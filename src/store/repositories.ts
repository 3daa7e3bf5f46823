/**
 * The repositories of `StoreRepositories` over one Kysely handle: the database itself or an
 * open transaction. The SQL is the same for SQLite and PostgreSQL.
 *
 * The two steps that decide who wins a race, `challenges.consume` and `codes.markUsed`, are
 * each ONE conditional `UPDATE … WHERE <still open> RETURNING`: the database evaluates the
 * condition and the write as one step under the row's write lock, so of any number of
 * concurrent callers exactly one sees a row come back. There is no read-then-write to race.
 *
 * The statements of an enrollment (code lookup, challenge create/get/count/consume, code
 * marking, enrollment and certificate inserts, the audit append) are written with the `sql`
 * tag, the same SQL text for both dialects: Kysely's query builder costs about 15 µs to build
 * and compile each statement, the tag about 2 µs, and an enrollment runs a dozen of them.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import { auditRecordFromRow, auditRecordHash } from './audit-chain.js';
import { canonicalJson } from './canonical-json.js';
import { decodeCursor, pageSize, toPage } from './cursor.js';
import { guard, type StoreLogger } from './db-errors.js';
import type {
  AdminTokensTable,
  AuditTable,
  CertificatesTable,
  ChallengesTable,
  Database,
  EnrollmentCodesTable,
  EnrollmentsTable,
  TrustListsTable,
} from './schema.js';
import { createTpmRepository } from './tpm-bindings.js';
import {
  type AdminTokenRecord,
  ALL_SCOPES,
  type AuditRecord,
  type CertificateRecord,
  type CertificateStatus,
  type ChallengeRecord,
  type EnrollmentCodeRecord,
  type EnrollmentRecord,
  type EnrollmentStatus,
  type Scope,
  type StoreRepositories,
  type TrustListRecord,
} from './types.js';
import {
  int,
  jsonText,
  normaliseSerial,
  nullableText,
  text,
  toBuffer,
  toBytes,
  toNullableNumber,
  toNumber,
} from './values.js';

/** Most rows `enrollments.recent` returns (policy dry runs): bounded work per request. */
export const MAX_RECENT_ENROLLMENTS = 10_000;

/** Rows read per page while walking the audit log. */
export const AUDIT_PAGE_ROWS = 1000;

/** What the repositories need from the store around them. */
export interface RepositoryContext {
  /** The database or the open transaction the statements run on. */
  readonly db: Kysely<Database>;
  /**
   * Run `fn` atomically: in a new transaction at the top level, directly when `db` is already
   * a transaction (the audit append's three statements must not be split).
   */
  readonly atomically: <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;
  readonly logger?: StoreLogger | undefined;
}

/** Build every repository over `ctx.db`. */
export function createRepositories(ctx: RepositoryContext): StoreRepositories {
  const { db, logger } = ctx;
  const run = <T>(operation: string, fn: () => Promise<T>, conflict?: string): Promise<T> =>
    guard(operation, fn, conflict === undefined ? { logger } : { logger, conflict });

  return {
    adminTokens: {
      create: (record) =>
        run(
          'create admin token',
          async () => {
            await db
              .insertInto('admin_tokens')
              .values({
                id: text(record.id, 'id'),
                name: text(record.name, 'name'),
                token_hash: toBuffer(record.tokenHash),
                scopes: JSON.stringify(checkScopes(record.scopes)),
                created_at: int(record.createdAt, 'createdAt'),
                revoked_at: record.revokedAt === null ? null : int(record.revokedAt, 'revokedAt'),
              })
              .execute();
          },
          'an admin token with this id or secret already exists',
        ),
      findByHash: (tokenHash) =>
        run('find admin token', async () => {
          const row = await db
            .selectFrom('admin_tokens')
            .selectAll()
            .where('token_hash', '=', toBuffer(tokenHash))
            .executeTakeFirst();
          return row === undefined ? null : adminTokenFromRow(row);
        }),
      list: () =>
        run('list admin tokens', async () => {
          const rows = await db
            .selectFrom('admin_tokens')
            .selectAll()
            .orderBy('created_at')
            .orderBy('id')
            .execute();
          return rows.map(adminTokenFromRow);
        }),
    },

    codes: {
      create: (record) =>
        run(
          'create enrollment code',
          async () => {
            await db
              .insertInto('enrollment_codes')
              .values({
                id: text(record.id, 'id'),
                code_hash: toBuffer(record.codeHash),
                customer: text(record.customer, 'customer'),
                subject: text(record.subject, 'subject'),
                profile: text(record.profile, 'profile'),
                created_at: int(record.createdAt, 'createdAt'),
                expires_at: int(record.expiresAt, 'expiresAt'),
                used_at: record.usedAt === null ? null : int(record.usedAt, 'usedAt'),
                created_by: text(record.createdBy, 'createdBy'),
              })
              .execute();
          },
          'an enrollment code with this id or secret already exists',
        ),
      findByHash: (codeHash) =>
        run('find enrollment code', async () => {
          const { rows } = await sql<Selectable<EnrollmentCodesTable>>`
            select * from enrollment_codes where code_hash = ${toBuffer(codeHash)}`.execute(db);
          const row = rows[0];
          return row === undefined ? null : codeFromRow(row);
        }),
      get: (id) =>
        run('get enrollment code', async () => {
          const row = await db
            .selectFrom('enrollment_codes')
            .selectAll()
            .where('id', '=', id)
            .executeTakeFirst();
          return row === undefined ? null : codeFromRow(row);
        }),
      markUsed: (id, at) =>
        run('mark enrollment code used', async () => {
          // One statement: only the caller whose UPDATE finds used_at still NULL (and the code
          // unexpired) gets a row back. Under PostgreSQL READ COMMITTED a concurrent UPDATE
          // waits for the row lock, then re-evaluates the WHERE on the committed row (and finds
          // used_at set); SQLite runs one writer at a time.
          const { rows } = await sql<{ id: string }>`
            update enrollment_codes set used_at = ${int(at, 'at')}
            where id = ${id} and used_at is null and expires_at > ${at}
            returning id`.execute(db);
          return rows.length > 0;
        }),
      list: (filter) =>
        run('list enrollment codes', async () => {
          const limit = pageSize(filter.limit);
          let query = db.selectFrom('enrollment_codes').selectAll();
          if (filter.customer !== undefined) query = query.where('customer', '=', filter.customer);
          if (filter.cursor !== undefined) {
            const [createdAt, id] = decodeCursor(filter.cursor, ['number', 'string']);
            query = query.where((eb) =>
              eb.or([
                eb('created_at', '<', createdAt),
                eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)]),
              ]),
            );
          }
          const rows = await query
            .orderBy('created_at', 'desc')
            .orderBy('id', 'desc')
            .limit(limit + 1)
            .execute();
          return toPage(rows, limit, codeFromRow, (c) => [c.createdAt, c.id]);
        }),
    },

    challenges: {
      create: (record) =>
        run(
          'create challenge',
          async () => {
            const values = [
              text(record.id, 'id'),
              text(record.codeId, 'codeId'),
              toBuffer(record.nonce),
              int(record.createdAt, 'createdAt'),
              int(record.expiresAt, 'expiresAt'),
              record.consumedAt === null ? null : int(record.consumedAt, 'consumedAt'),
            ];
            await sql`
              insert into challenges (id, code_id, nonce, created_at, expires_at, consumed_at)
              values (${sql.join(values)})`.execute(db);
          },
          'a challenge with this id already exists',
        ),
      get: (id) =>
        run('get challenge', async () => {
          const { rows } = await sql<Selectable<ChallengesTable>>`
            select * from challenges where id = ${id}`.execute(db);
          const row = rows[0];
          return row === undefined ? null : challengeFromRow(row);
        }),
      consume: (id, codeId, at) =>
        run('consume challenge', async () => {
          // One statement (see the file comment): the nonce is single-use even when a hundred
          // requests race with the same challenge id.
          const { rows } = await sql<Selectable<ChallengesTable>>`
            update challenges set consumed_at = ${int(at, 'at')}
            where id = ${id} and code_id = ${codeId} and consumed_at is null and expires_at > ${at}
            returning *`.execute(db);
          const row = rows[0];
          return row === undefined ? null : challengeFromRow(row);
        }),
      countOpen: (codeId, at) =>
        run('count open challenges', async () => {
          const { rows } = await sql<{ n: number | string }>`
            select count(*) as n from challenges
            where code_id = ${codeId} and consumed_at is null and expires_at > ${int(at, 'at')}`.execute(db);
          return toNumber(rows[0]?.n ?? 0);
        }),
    },

    enrollments: {
      insert: (record) =>
        run(
          'insert enrollment',
          async () => {
            const values = [
              text(record.id, 'id'),
              text(record.codeId, 'codeId'),
              text(record.challengeId, 'challengeId'),
              text(record.customer, 'customer'),
              checkStatus(record.status),
              text(record.code, 'code'),
              nullableText(record.format, 'format'),
              nullableText(record.matchedRule, 'matchedRule'),
              text(record.policyDigest, 'policyDigest'),
              jsonText(record.verdict, 'verdict'),
              jsonText(record.policyInput, 'policyInput'),
              record.evidence === null ? null : toBuffer(record.evidence),
              nullableText(record.keySpkiSha256, 'keySpkiSha256'),
              record.certificateSerial === null ? null : checkSerial(record.certificateSerial),
              int(record.createdAt, 'createdAt'),
            ];
            await sql`
              insert into enrollments (id, code_id, challenge_id, customer, status, code, format,
                matched_rule, policy_digest, verdict, policy_input, evidence, key_spki_sha256,
                certificate_serial, created_at)
              values (${sql.join(values)})`.execute(db);
          },
          'an enrollment with this id, challenge or certificate already exists',
        ),
      get: (id) =>
        run('get enrollment', async () => {
          const row = await db.selectFrom('enrollments').selectAll().where('id', '=', id).executeTakeFirst();
          return row === undefined ? null : enrollmentFromRow(row);
        }),
      list: (filter) =>
        run('list enrollments', async () => {
          const limit = pageSize(filter.limit);
          let query = db.selectFrom('enrollments').selectAll();
          if (filter.customer !== undefined) query = query.where('customer', '=', filter.customer);
          if (filter.status !== undefined) query = query.where('status', '=', filter.status);
          if (filter.format !== undefined) query = query.where('format', '=', filter.format);
          if (filter.code !== undefined) query = query.where('code', '=', filter.code);
          if (filter.since !== undefined) query = query.where('created_at', '>=', int(filter.since, 'since'));
          if (filter.until !== undefined) query = query.where('created_at', '<', int(filter.until, 'until'));
          if (filter.cursor !== undefined) {
            const [createdAt, id] = decodeCursor(filter.cursor, ['number', 'string']);
            query = query.where((eb) =>
              eb.or([
                eb('created_at', '<', createdAt),
                eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)]),
              ]),
            );
          }
          const rows = await query
            .orderBy('created_at', 'desc')
            .orderBy('id', 'desc')
            .limit(limit + 1)
            .execute();
          return toPage(rows, limit, enrollmentFromRow, (e) => [e.createdAt, e.id]);
        }),
      recent: (limit) =>
        run('list recent enrollments', async () => {
          const n = Math.min(MAX_RECENT_ENROLLMENTS, Math.max(0, Math.floor(limit)));
          if (n === 0 || !Number.isFinite(n)) return [];
          const rows = await db
            .selectFrom('enrollments')
            .selectAll()
            .orderBy('created_at', 'desc')
            .orderBy('id', 'desc')
            .limit(n)
            .execute();
          return rows.map(enrollmentFromRow);
        }),
      count: () =>
        run('count enrollments', async () => {
          const row = await db
            .selectFrom('enrollments')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .executeTakeFirstOrThrow();
          return toNumber(row.n);
        }),
    },

    certificates: {
      insert: (record) =>
        run(
          'insert certificate',
          async () => {
            const values = [
              checkSerial(record.serial),
              text(record.enrollmentId, 'enrollmentId'),
              text(record.subject, 'subject'),
              text(record.profile, 'profile'),
              int(record.notBefore, 'notBefore'),
              int(record.notAfter, 'notAfter'),
              toBuffer(record.der),
              text(record.spkiSha256, 'spkiSha256'),
              checkCertificateStatus(record.status),
              record.revokedAt === null ? null : int(record.revokedAt, 'revokedAt'),
              nullableText(record.revocationReason, 'revocationReason'),
            ];
            await sql`
              insert into certificates (serial, enrollment_id, subject, profile, not_before,
                not_after, der, spki_sha256, status, revoked_at, revocation_reason)
              values (${sql.join(values)})`.execute(db);
          },
          `a certificate with serial ${record.serial} (or for this enrollment) already exists`,
        ),
      get: (serial) =>
        run('get certificate', async () => {
          const normal = normaliseSerial(serial);
          if (normal === null) return null;
          const row = await db
            .selectFrom('certificates')
            .selectAll()
            .where('serial', '=', normal)
            .executeTakeFirst();
          return row === undefined ? null : certificateFromRow(row);
        }),
      revoke: (serial, at, reason) =>
        run('revoke certificate', async () => {
          const normal = normaliseSerial(serial);
          if (normal === null) return false;
          // One statement: true only for the call that moved it from good to revoked (a
          // repeated revocation keeps the first time and reason, as a CRL entry must).
          const row = await db
            .updateTable('certificates')
            .set({ status: 'revoked', revoked_at: int(at, 'at'), revocation_reason: text(reason, 'reason') })
            .where('serial', '=', normal)
            .where('status', '=', 'good')
            .returning('serial')
            .executeTakeFirst();
          return row !== undefined;
        }),
      revoked: () =>
        run('list revoked certificates', async () => {
          const rows = await db
            .selectFrom('certificates')
            .selectAll()
            .where('status', '=', 'revoked')
            .orderBy('revoked_at')
            .orderBy('serial')
            .execute();
          return rows.map(certificateFromRow);
        }),
      count: () =>
        run('count certificates', async () => {
          const row = await db
            .selectFrom('certificates')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .executeTakeFirstOrThrow();
          return toNumber(row.n);
        }),
    },

    audit: {
      append: async (event) => {
        // Validate and canonicalise before touching the database: a bad event is a caller bug
        // (TypeError) and must not take the head's lock.
        const at = int(event.at, 'at');
        const fields = {
          event: text(event.event, 'event'),
          actor: text(event.actor, 'actor'),
          subject: text(event.subject, 'subject'),
        };
        if (fields.event === '') throw new TypeError('store: audit event name is empty');
        const dataJson = canonicalJson(event.data);
        if (!dataJson.startsWith('{')) throw new TypeError('store: audit data must be a JSON object');
        const data = JSON.parse(dataJson) as Record<string, unknown>;
        return run('append audit event', () =>
          ctx.atomically(async (tx): Promise<AuditRecord> => {
            // Moving the head first takes its row lock (PostgreSQL) / the write lock (SQLite)
            // for the rest of the transaction: concurrent appenders, in this process or in
            // another service instance, queue here, so each sees the previous one's hash and
            // no two records get the same seq or the same prevHash (no forks, no gaps).
            const { rows } = await sql<{ seq: number | string; hash: string }>`
              update audit_head set seq = seq + 1 where id = 1 returning seq, hash`.execute(tx);
            const head = rows[0];
            if (head === undefined) throw new Error('store: the audit head row is missing');
            const seq = toNumber(head.seq);
            const prevHash = head.hash;
            const hash = auditRecordHash(prevHash, { seq, at, ...fields, data });
            await sql`
              insert into audit (seq, at, event, actor, subject, data, prev_hash, hash)
              values (${seq}, ${at}, ${fields.event}, ${fields.actor}, ${fields.subject}, ${dataJson},
                ${prevHash}, ${hash})`.execute(tx);
            await sql`update audit_head set hash = ${hash} where id = 1`.execute(tx);
            return { seq, at, ...fields, data, prevHash, hash };
          }),
        );
      },
      list: (filter) =>
        run('list audit events', async () => {
          const limit = pageSize(filter.limit);
          let query = db.selectFrom('audit').selectAll();
          if (filter.event !== undefined) query = query.where('event', '=', filter.event);
          if (filter.since !== undefined) query = query.where('at', '>=', int(filter.since, 'since'));
          if (filter.cursor !== undefined) {
            const [seq] = decodeCursor(filter.cursor, ['number']);
            query = query.where('seq', '<', seq);
          }
          const rows = await query
            .orderBy('seq', 'desc')
            .limit(limit + 1)
            .execute();
          return toPage(
            rows,
            limit,
            (row) => auditRecordFromRow(auditRowFromDb(row)),
            (r) => [r.seq],
          );
        }),
    },

    trustLists: {
      get: (id) =>
        run('get trust list', async () => {
          const { rows } = await sql<Selectable<TrustListsTable>>`
            select * from trust_lists where id = ${id}`.execute(db);
          const row = rows[0];
          return row === undefined ? null : trustListFromRow(row);
        }),
      all: () =>
        run('list trust lists', async () => {
          const { rows } = await sql<Selectable<TrustListsTable>>`
            select * from trust_lists order by id`.execute(db);
          return rows.map(trustListFromRow);
        }),
      save: (record) =>
        run('save trust list', async () => {
          const values = [
            text(record.id, 'id'),
            int(record.sequence, 'sequence'),
            text(record.jws, 'jws'),
            nullableText(record.etag, 'etag'),
            int(record.fetchedAt, 'fetchedAt'),
          ];
          // One statement (see the file comment): the conflict branch updates only when the
          // stored row is older, or the same list (etag/fetchedAt refresh), and the database
          // decides under the row's write lock, so of two instances racing with sequences 4
          // and 5 the 5 stays whatever the order (docs/token-list.md: sequence never goes
          // backwards). An equal sequence with another JWS is a rollback too: kept out.
          const { rows } = await sql<{ id: string }>`
            insert into trust_lists (id, sequence, jws, etag, fetched_at)
            values (${sql.join(values)})
            on conflict (id) do update set sequence = excluded.sequence, jws = excluded.jws,
              etag = excluded.etag, fetched_at = excluded.fetched_at
            where trust_lists.sequence < excluded.sequence
              or (trust_lists.sequence = excluded.sequence and trust_lists.jws = excluded.jws)
            returning id`.execute(db);
          return rows.length > 0;
        }),
    },

    tpm: createTpmRepository(db, logger),
    nextCounter: (name) =>
      run('next counter value', async () => {
        // One upsert: the first call creates the counter at 1, later ones add 1 under the
        // row's write lock, so concurrent callers get distinct consecutive values.
        const row = await db
          .insertInto('counters')
          .values({ name: text(name, 'name'), value: 1 })
          .onConflict((oc) =>
            oc.column('name').doUpdateSet((eb) => ({ value: eb('counters.value', '+', 1) })),
          )
          .returning('value')
          .executeTakeFirstOrThrow();
        return toNumber(row.value);
      }),
  };
}

/** An audit row from the database in the chain walker's shape. */
export function auditRowFromDb(row: Selectable<AuditTable>): {
  seq: number;
  at: number;
  event: string;
  actor: string;
  subject: string;
  data: string;
  prevHash: string;
  hash: string;
} {
  return {
    seq: toNumber(row.seq),
    at: toNumber(row.at),
    event: row.event,
    actor: row.actor,
    subject: row.subject,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function checkScopes(scopes: readonly Scope[]): Scope[] {
  for (const scope of scopes) {
    if (!ALL_SCOPES.includes(scope))
      throw new TypeError(`store: unknown admin scope ${JSON.stringify(scope)}`);
  }
  return [...new Set(scopes)];
}

function checkStatus(status: EnrollmentStatus): EnrollmentStatus {
  if (status !== 'issued' && status !== 'rejected')
    throw new TypeError(`store: unknown enrollment status ${status}`);
  return status;
}

function checkCertificateStatus(status: CertificateStatus): CertificateStatus {
  if (status !== 'good' && status !== 'revoked')
    throw new TypeError(`store: unknown certificate status ${status}`);
  return status;
}

/** A serial to store must already be in the one spelling (see normaliseSerial). */
function checkSerial(serial: string): string {
  if (normaliseSerial(serial) !== serial || serial.length > 40)
    throw new TypeError(
      `store: serial ${JSON.stringify(serial)} is not lower-case hex of at most 20 octets without sign pad`,
    );
  return serial;
}

function adminTokenFromRow(row: Selectable<AdminTokensTable>): AdminTokenRecord {
  return {
    id: row.id,
    name: row.name,
    tokenHash: toBytes(row.token_hash),
    scopes: JSON.parse(row.scopes) as Scope[],
    createdAt: toNumber(row.created_at),
    revokedAt: toNullableNumber(row.revoked_at),
  };
}

function codeFromRow(row: Selectable<EnrollmentCodesTable>): EnrollmentCodeRecord {
  return {
    id: row.id,
    codeHash: toBytes(row.code_hash),
    customer: row.customer,
    subject: row.subject,
    profile: row.profile,
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
    usedAt: toNullableNumber(row.used_at),
    createdBy: row.created_by,
  };
}

function challengeFromRow(row: Selectable<ChallengesTable>): ChallengeRecord {
  return {
    id: row.id,
    codeId: row.code_id,
    nonce: toBytes(row.nonce),
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
    consumedAt: toNullableNumber(row.consumed_at),
  };
}

function enrollmentFromRow(row: Selectable<EnrollmentsTable>): EnrollmentRecord {
  return {
    id: row.id,
    codeId: row.code_id,
    challengeId: row.challenge_id,
    customer: row.customer,
    status: row.status as EnrollmentStatus,
    code: row.code,
    format: row.format,
    matchedRule: row.matched_rule,
    policyDigest: row.policy_digest,
    verdict: JSON.parse(row.verdict) as unknown,
    policyInput: JSON.parse(row.policy_input) as unknown,
    evidence: row.evidence === null ? null : toBytes(row.evidence),
    keySpkiSha256: row.key_spki_sha256,
    certificateSerial: row.certificate_serial,
    createdAt: toNumber(row.created_at),
  };
}

function trustListFromRow(row: Selectable<TrustListsTable>): TrustListRecord {
  return {
    id: row.id,
    sequence: toNumber(row.sequence),
    jws: row.jws,
    etag: row.etag,
    fetchedAt: toNumber(row.fetched_at),
  };
}

function certificateFromRow(row: Selectable<CertificatesTable>): CertificateRecord {
  return {
    serial: row.serial,
    enrollmentId: row.enrollment_id,
    subject: row.subject,
    profile: row.profile,
    notBefore: toNumber(row.not_before),
    notAfter: toNumber(row.not_after),
    der: toBytes(row.der),
    spkiSha256: row.spki_sha256,
    status: row.status as CertificateStatus,
    revokedAt: toNullableNumber(row.revoked_at),
    revocationReason: row.revocation_reason,
  };
}
