/**
 * Small in-test stand-ins for the Store and the issuing CA, so the service's tests run
 * without a database or the real CA module: an in-memory store with serialised transactions
 * that roll back on a throw (and row counts for "no rows written" checks), and a CA built
 * with the project's own certificate builder and Node's crypto.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import pino from 'pino';
import type { IssuedCertificate, IssueRequest, IssuingCa } from '../../src/ca/types.js';
import { toHex } from '../../src/core/bytes.js';
import { der } from '../../src/core/der-writer.js';
import { fail } from '../../src/core/errors.js';
import { buildCertificate, deriveSubjectKeyId } from '../../src/pki/builder.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { encodeName } from '../../src/pki/name.js';
import { signerFromKeyObject } from '../../src/pki/signer.js';
import type { Policy } from '../../src/policy/model.js';
import { buildApp } from '../../src/server/app.js';
import { parseServiceConfig, type ServiceConfig } from '../../src/server/config.js';
import { hashSecret, newAdminToken } from '../../src/server/secrets.js';
import type { CrlRequest, ServiceCa } from '../../src/server/service-ca.js';
import {
  type AdminTokenRecord,
  ALL_SCOPES,
  type AuditRecord,
  type CertificateRecord,
  type ChallengeRecord,
  type EnrollmentCodeRecord,
  type EnrollmentRecord,
  type Page,
  type Scope,
  type Store,
  type StoreRepositories,
  type TrustListRecord,
} from '../../src/store/types.js';

const DAY = 86400_000;

interface Tables {
  adminTokens: Map<string, AdminTokenRecord>;
  codes: Map<string, EnrollmentCodeRecord>;
  challenges: Map<string, ChallengeRecord>;
  enrollments: Map<string, EnrollmentRecord>;
  certificates: Map<string, CertificateRecord>;
  audit: AuditRecord[];
  counters: Map<string, number>;
}

function cloneTables(t: Tables): Tables {
  return {
    adminTokens: new Map(t.adminTokens),
    codes: new Map(t.codes),
    challenges: new Map(t.challenges),
    enrollments: new Map(t.enrollments),
    certificates: new Map(t.certificates),
    audit: [...t.audit],
    counters: new Map(t.counters),
  };
}

function page<T>(items: T[], limit = 50, cursor?: string): Page<T> {
  const start = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isInteger(start) || start < 0) fail('BODY_INVALID', 'bad cursor');
  const slice = items.slice(start, start + limit);
  return { items: slice, next: start + limit < items.length ? String(start + limit) : null };
}

/** An in-memory Store: transactions are serialised and roll back on a throw. */
export class MemoryStore implements Store {
  readonly kind = 'sqlite' as const;
  private t: Tables = {
    adminTokens: new Map(),
    codes: new Map(),
    challenges: new Map(),
    enrollments: new Map(),
    certificates: new Map(),
    audit: [],
    counters: new Map(),
  };
  private lock: Promise<unknown> = Promise.resolve();
  /** Make ping() fail (readiness tests). */
  down = false;

  /** Row counts per table. */
  rows(): Record<string, number> {
    return {
      adminTokens: this.t.adminTokens.size,
      codes: this.t.codes.size,
      challenges: this.t.challenges.size,
      consumedChallenges: [...this.t.challenges.values()].filter((c) => c.consumedAt !== null).length,
      usedCodes: [...this.t.codes.values()].filter((c) => c.usedAt !== null).length,
      enrollments: this.t.enrollments.size,
      certificates: this.t.certificates.size,
      audit: this.t.audit.length,
    };
  }

  auditEvents(): AuditRecord[] {
    return [...this.t.audit];
  }

  readonly adminTokens: StoreRepositories['adminTokens'] = {
    create: async (r) => {
      this.t.adminTokens.set(r.id, r);
    },
    findByHash: async (h) =>
      [...this.t.adminTokens.values()].find((r) => toHex(r.tokenHash) === toHex(h)) ?? null,
    list: async () => [...this.t.adminTokens.values()],
  };

  readonly codes: StoreRepositories['codes'] = {
    create: async (r) => {
      this.t.codes.set(r.id, r);
    },
    findByHash: async (h) => [...this.t.codes.values()].find((r) => toHex(r.codeHash) === toHex(h)) ?? null,
    get: async (id) => this.t.codes.get(id) ?? null,
    markUsed: async (id, at) => {
      const r = this.t.codes.get(id);
      if (!r || r.usedAt !== null || r.expiresAt <= at) return false;
      this.t.codes.set(id, { ...r, usedAt: at });
      return true;
    },
    list: async (f) =>
      page(
        [...this.t.codes.values()].filter((c) => f.customer === undefined || c.customer === f.customer),
        f.limit,
        f.cursor,
      ),
  };

  readonly challenges: StoreRepositories['challenges'] = {
    create: async (r) => {
      this.t.challenges.set(r.id, r);
    },
    get: async (id) => this.t.challenges.get(id) ?? null,
    consume: async (id, codeId, at) => {
      const r = this.t.challenges.get(id);
      if (!r || r.codeId !== codeId || r.consumedAt !== null || r.expiresAt <= at) return null;
      const consumed = { ...r, consumedAt: at };
      this.t.challenges.set(id, consumed);
      return consumed;
    },
    countOpen: async (codeId, at) =>
      [...this.t.challenges.values()].filter(
        (c) => c.codeId === codeId && c.consumedAt === null && c.expiresAt > at,
      ).length,
  };

  readonly enrollments: StoreRepositories['enrollments'] = {
    insert: async (r) => {
      this.t.enrollments.set(r.id, r);
    },
    get: async (id) => this.t.enrollments.get(id) ?? null,
    list: async (f) =>
      page(
        [...this.t.enrollments.values()]
          .filter(
            (e) =>
              (f.customer === undefined || e.customer === f.customer) &&
              (f.status === undefined || e.status === f.status) &&
              (f.format === undefined || e.format === f.format) &&
              (f.code === undefined || e.codeId === f.code) &&
              (f.since === undefined || e.createdAt >= f.since) &&
              (f.until === undefined || e.createdAt < f.until),
          )
          .reverse(),
        f.limit,
        f.cursor,
      ),
    recent: async (limit) => [...this.t.enrollments.values()].reverse().slice(0, limit),
    count: async () => this.t.enrollments.size,
  };

  readonly certificates: StoreRepositories['certificates'] = {
    insert: async (r) => {
      if (this.t.certificates.has(r.serial)) fail('STORE_CONFLICT', `serial ${r.serial} exists`);
      this.t.certificates.set(r.serial, r);
    },
    get: async (serial) => this.t.certificates.get(serial) ?? null,
    revoke: async (serial, at, reason) => {
      const r = this.t.certificates.get(serial);
      if (!r || r.status === 'revoked') return false;
      this.t.certificates.set(serial, { ...r, status: 'revoked', revokedAt: at, revocationReason: reason });
      return true;
    },
    revoked: async () => [...this.t.certificates.values()].filter((c) => c.status === 'revoked'),
    count: async () => this.t.certificates.size,
  };

  readonly audit: StoreRepositories['audit'] = {
    append: async (e) => {
      const prevHash = this.t.audit.at(-1)?.hash ?? '0'.repeat(64);
      const seq = this.t.audit.length + 1;
      const hash = createHash('sha256')
        .update(prevHash + JSON.stringify({ ...e, seq }))
        .digest('hex');
      const record: AuditRecord = { ...e, seq, hash, prevHash };
      this.t.audit.push(record);
      return record;
    },
    list: async (f) =>
      page(
        this.t.audit.filter(
          (a) => (f.event === undefined || a.event === f.event) && (f.since === undefined || a.at >= f.since),
        ),
        f.limit,
        f.cursor,
      ),
  };

  private lists = new Map<string, TrustListRecord>();
  /** Forward-only, like the real store's upsert (not rolled back by transactions: none writes it). */
  readonly trustLists: StoreRepositories['trustLists'] = {
    get: async (id) => this.lists.get(id) ?? null,
    all: async () => [...this.lists.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
    save: async (r) => {
      const kept = this.lists.get(r.id);
      if (
        kept !== undefined &&
        !(kept.sequence < r.sequence || (kept.sequence === r.sequence && kept.jws === r.jws))
      )
        return false;
      this.lists.set(r.id, { ...r });
      return true;
    },
  };

  async nextCounter(name: string): Promise<number> {
    const v = (this.t.counters.get(name) ?? 0) + 1;
    this.t.counters.set(name, v);
    return v;
  }

  async transaction<T>(fn: (tx: StoreRepositories) => Promise<T>): Promise<T> {
    const run = this.lock.then(async () => {
      const snapshot = cloneTables(this.t);
      try {
        return await fn(this);
      } catch (err) {
        this.t = snapshot;
        throw err;
      }
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  async verifyAudit() {
    return { ok: true, records: this.t.audit.length, firstBad: null, problem: null };
  }

  async ping(): Promise<void> {
    if (this.down) fail('STORE_UNAVAILABLE', 'the test store is down');
  }

  async close(): Promise<void> {}
}

/** A CA built with the project's builder: a root and an issuing CA (P-256). */
export class FakeCa implements ServiceCa {
  readonly issuing: IssuingCa;
  readonly crls: CrlRequest[] = [];
  readonly issued: IssueRequest[] = [];
  /** Make issue() throw this code. */
  failWith: 'ISSUANCE_LINT_FAILED' | null = null;

  constructor(now: number) {
    const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const rootSigner = signerFromKeyObject(rootKey);
    const caSigner = signerFromKeyObject(caKey);
    const rootName = encodeName('CN=Test Root,O=Example Bank');
    const caName = encodeName('CN=Test Issuing CA,O=Example Bank');
    const root = parseCertificate(
      buildCertificate({
        issuer: { name: rootName, signer: rootSigner },
        subject: rootName,
        spki: rootSigner.spki,
        notBefore: now - DAY,
        notAfter: now + 3650 * DAY,
        basicConstraints: { ca: true },
        keyUsage: ['keyCertSign', 'cRLSign'],
        authorityKeyId: false,
      }),
    );
    const ca = parseCertificate(
      buildCertificate({
        issuer: { name: rootName, signer: rootSigner, subjectKeyId: deriveSubjectKeyId(rootSigner.spki) },
        subject: caName,
        spki: caSigner.spki,
        notBefore: now - DAY,
        notAfter: now + 1825 * DAY,
        basicConstraints: { ca: true, pathLen: 0 },
        keyUsage: ['keyCertSign', 'cRLSign'],
      }),
    );
    this.issuing = { certificate: ca, chain: [ca, root], key: { ...caSigner, kind: 'file' } };
  }

  async issue(request: Omit<IssueRequest, 'ca'>): Promise<IssuedCertificate> {
    if (this.failWith) fail(this.failWith, 'the fake CA refuses');
    this.issued.push({ ...request, ca: this.issuing });
    const serial = new Uint8Array(randomBytes(16));
    serial[0] = (serial[0]! & 0x7f) | 0x40;
    const subject = request.profile.subjectTemplate.replace('{subject}', request.subject);
    const notBefore = Math.floor((request.now - 300_000) / 1000) * 1000;
    const notAfter = Math.floor((request.now + request.profile.validityDays * DAY) / 1000) * 1000;
    const ca = this.issuing.certificate;
    const d = buildCertificate({
      issuer: { name: ca.subject.der, signer: this.issuing.key, subjectKeyId: ca.subjectKeyId! },
      subject: encodeName(subject),
      spki: request.spki,
      serial,
      notBefore,
      notAfter,
      basicConstraints: { ca: false },
      keyUsage: ['digitalSignature'],
    });
    return { der: d, serial: toHex(serial), notBefore, notAfter, subject };
  }

  async crl(request: CrlRequest): Promise<Uint8Array> {
    this.crls.push(request);
    // Not a real CRL: the CA module's tests cover that. Enough to see what was asked.
    return der.seq(der.int(request.crlNumber), ...request.revoked.map((r) => der.utf8(r.serial)));
  }
}

export const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

/** A clock the test moves. */
export function testClock(start = NOW): (() => number) & { advance(ms: number): void } {
  let now = start;
  const clock = (() => now) as (() => number) & { advance(ms: number): void };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

/** The default configuration (as first start writes it), with optional YAML overrides. */
export function testConfig(yaml = '', baseDir = '/srv/provenance'): ServiceConfig {
  return parseServiceConfig(yaml, { source: 'config.yaml', baseDir });
}

/** An admin token in the store with the given scopes; returns the secret. */
export async function addAdminToken(
  store: Store,
  scopes: readonly Scope[] = ALL_SCOPES,
  name = 'test',
): Promise<string> {
  const { secret, hash } = newAdminToken();
  await store.adminTokens.create({
    id: `tok-${name}-${toHex(randomBytes(4))}`,
    name,
    tokenHash: hash,
    scopes,
    createdAt: NOW,
    revokedAt: null,
  });
  return secret;
}

/** A test app over a memory store and the fake CA. */
export function testApp(
  options: { policy?: Policy | null; config?: ServiceConfig; clock?: ReturnType<typeof testClock> } = {},
) {
  const clock = options.clock ?? testClock();
  const store = new MemoryStore();
  const ca = new FakeCa(clock());
  const config = options.config ?? testConfig();
  const app = buildApp({
    store,
    ca,
    policy: options.policy ?? null,
    config,
    clock,
    logger: pino({ level: 'silent' }),
  });
  return { app, store, ca, clock, config };
}

export { hashSecret };
