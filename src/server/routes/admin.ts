/**
 * The admin API, authenticated by an admin token with scopes (`Authorization: Bearer …`):
 * enrollment codes, enrollments, revocation, the audit log, the policy and its dry run,
 * admin tokens. Every state change is audited in the same transaction as the change.
 */

import { randomUUID } from 'node:crypto';
import { dirname, isAbsolute } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { renderSubject } from '../../ca/issue.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { encodePem } from '../../core/pem.js';
import type { CrlReason } from '../../pki/crl.js';
import { encodeName } from '../../pki/name.js';
import { policySummary } from '../../policy/describe.js';
import type {
  AuditRecord,
  EnrollmentCodeRecord,
  EnrollmentFilter,
  EnrollmentRecord,
  EnrollmentStatus,
  Scope,
} from '../../store/types.js';
import { normaliseSerial } from '../../store/values.js';
import type { ServiceState } from '../app.js';
import { BEARER_CHALLENGE } from '../auth.js';
import { dryRunPolicy, parseDraftPolicy } from '../dry-run.js';
import { reevaluate } from '../reevaluate.js';
import {
  auditSchema,
  createCodeSchema,
  createTokenSchema,
  dryRunSchema,
  getEnrollmentSchema,
  listCodesSchema,
  listEnrollmentsSchema,
  policySchema,
  reevaluateSchema,
  revokeSchema,
} from '../schemas.js';
import { newAdminToken, newEnrollmentCode } from '../secrets.js';

const DEFAULT_PAGE = 50;
const DEFAULT_DRY_RUN = 100;
const DEFAULT_REEVALUATE = 10_000;

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** Register the admin routes. */
export function registerAdminRoutes(app: FastifyInstance, state: ServiceState): void {
  const { store, clock } = state;
  const admin = (scope: Scope) => ({ auth: { kind: 'admin', scope } as const });
  const actor = (id: string) => `admin:${id}`;

  app.post<{ Body: { customer: string; subject: string; profile?: string; ttl?: number } }>(
    '/api/v1/admin/enrollment-codes',
    { schema: createCodeSchema, config: admin('codes:write') },
    async (request, reply) => {
      const body = request.body;
      const profile = resolveProfile(state, body.profile);
      const ttl = body.ttl ?? state.config.enrollment.codeTtlSeconds;
      if (ttl > state.config.enrollment.maxCodeTtlSeconds)
        invalidField('#/ttl', `must be at most ${state.config.enrollment.maxCodeTtlSeconds} seconds`);
      checkSubject(body.subject, profile.subjectTemplate);
      const customer = body.customer.trim();
      if (customer === '') invalidField('#/customer', 'must not be blank');
      const now = clock();
      const { secret, hash } = newEnrollmentCode();
      const record: EnrollmentCodeRecord = {
        id: randomUUID(),
        codeHash: hash,
        customer,
        subject: body.subject,
        profile: profile.id,
        createdAt: now,
        expiresAt: now + ttl * 1000,
        usedAt: null,
        createdBy: request.adminToken!.id,
      };
      await store.transaction(async (tx) => {
        await tx.codes.create(record);
        await tx.audit.append({
          event: 'code.created',
          actor: actor(request.adminToken!.id),
          subject: `code:${record.id}`,
          data: { customer, profile: profile.id, expiresAt: iso(record.expiresAt) },
          at: now,
        });
      });
      return reply.code(201).send({
        id: record.id,
        code: secret,
        customer,
        subject: record.subject,
        profile: profile.id,
        expiresAt: iso(record.expiresAt),
      });
    },
  );

  app.get<{ Querystring: { customer?: string; limit?: string; cursor?: string } }>(
    '/api/v1/admin/enrollment-codes',
    { schema: listCodesSchema, config: admin('codes:read') },
    async (request) => {
      const q = request.query;
      const page = await store.codes.list({
        limit: q.limit === undefined ? DEFAULT_PAGE : Number(q.limit),
        ...(q.customer === undefined ? {} : { customer: q.customer }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      });
      return {
        items: page.items.map((c) => ({
          id: c.id,
          customer: c.customer,
          subject: c.subject,
          profile: c.profile,
          createdAt: iso(c.createdAt),
          expiresAt: iso(c.expiresAt),
          usedAt: isoOrNull(c.usedAt),
          createdBy: c.createdBy,
        })),
        next: page.next,
      };
    },
  );

  app.get<{
    Querystring: {
      customer?: string;
      status?: EnrollmentStatus;
      format?: string;
      code?: string;
      since?: string;
      until?: string;
      limit?: string;
      cursor?: string;
    };
  }>(
    '/api/v1/admin/enrollments',
    { schema: listEnrollmentsSchema, config: admin('enrollments:read') },
    async (request) => {
      const q = request.query;
      const filter: EnrollmentFilter = {
        limit: q.limit === undefined ? DEFAULT_PAGE : Number(q.limit),
        ...(q.customer === undefined ? {} : { customer: q.customer }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.format === undefined ? {} : { format: q.format }),
        ...(q.code === undefined ? {} : { code: q.code }),
        ...(q.since === undefined ? {} : { since: Date.parse(q.since) }),
        ...(q.until === undefined ? {} : { until: Date.parse(q.until) }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      };
      const page = await store.enrollments.list(filter);
      return { items: page.items.map(enrollmentItem), next: page.next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/admin/enrollments/:id',
    { schema: getEnrollmentSchema, config: admin('enrollments:read') },
    async (request) => {
      const record = await store.enrollments.get(request.params.id);
      if (record === null) fail('NOT_FOUND', `no enrollment ${request.params.id}`);
      const cert =
        record.certificateSerial === null ? null : await store.certificates.get(record.certificateSerial);
      return {
        ...enrollmentItem(record),
        verdict: record.verdict,
        policyInput: record.policyInput ?? null,
        evidence: record.evidence === null ? null : encodePem('CERTIFICATE REQUEST', record.evidence),
        certificate:
          cert === null
            ? null
            : {
                serial: cert.serial,
                pem: encodePem('CERTIFICATE', cert.der),
                status: cert.status,
                notBefore: iso(cert.notBefore),
                notAfter: iso(cert.notAfter),
                revokedAt: isoOrNull(cert.revokedAt),
                revocationReason: cert.revocationReason,
              },
      };
    },
  );

  app.post<{ Params: { serial: string }; Body: { reason: string } }>(
    '/api/v1/admin/certificates/:serial/revoke',
    { schema: revokeSchema, config: admin('certificates:revoke') },
    async (request) => {
      // Stored serials are lower-case hex without a sign pad (src/store/types.ts).
      const serial = normaliseSerial(request.params.serial) ?? request.params.serial.toLowerCase();
      const reason = request.body.reason;
      const cert = await store.certificates.get(serial);
      if (cert === null) fail('NOT_FOUND', `no certificate with serial ${serial}`);
      if (cert.status === 'revoked') {
        // Revocation is final and idempotent: answer with the revocation on record.
        return {
          serial,
          status: 'revoked',
          revokedAt: iso(cert.revokedAt ?? 0),
          reason: cert.revocationReason ?? 'unspecified',
        };
      }
      const now = clock();
      const revoked = await store.transaction(async (tx) => {
        if (!(await tx.certificates.revoke(serial, now, reason))) return false;
        await tx.audit.append({
          event: 'certificate.revoked',
          actor: actor(request.adminToken!.id),
          subject: `certificate:${serial}`,
          data: { reason, enrollmentId: cert.enrollmentId },
          at: now,
        });
        return true;
      });
      if (!revoked) {
        // Revoked meanwhile by another request: report what the store holds.
        const current = await store.certificates.get(serial);
        return {
          serial,
          status: 'revoked',
          revokedAt: iso(current?.revokedAt ?? now),
          reason: current?.revocationReason ?? reason,
        };
      }
      state.crl.invalidate();
      request.log.info({ serial, reason }, 'certificate revoked');
      return { serial, status: 'revoked', revokedAt: iso(now), reason };
    },
  );

  app.get<{ Querystring: { event?: string; since?: string; limit?: string; cursor?: string } }>(
    '/api/v1/admin/audit',
    { schema: auditSchema, config: admin('audit:read') },
    async (request) => {
      const q = request.query;
      const page = await store.audit.list({
        limit: q.limit === undefined ? DEFAULT_PAGE : Number(q.limit),
        ...(q.event === undefined ? {} : { event: q.event }),
        ...(q.since === undefined ? {} : { since: Date.parse(q.since) }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      });
      return { items: page.items.map(auditItem), next: page.next };
    },
  );

  app.get('/api/v1/admin/policy', { schema: policySchema, config: admin('policy:read') }, async () => {
    const live = state.policies.get();
    if (live === null) fail('NOT_FOUND', 'no policy is loaded');
    return { source: live.policy.source, digest: live.policy.digest, summary: policySummary(live.policy) };
  });

  app.post<{ Body: { policy: string; limit?: number } }>(
    '/api/v1/admin/policy/dry-run',
    { schema: dryRunSchema, config: admin('policy:dry-run') },
    async (request) => {
      const live = state.policies.get();
      const source = live?.policy.source;
      const baseDir = source !== undefined && isAbsolute(source) ? dirname(source) : state.config.dir;
      const limit = request.body.limit ?? DEFAULT_DRY_RUN;
      const lists = state.policies.tokenLists();
      const report = await dryRunPolicy({
        store,
        text: request.body.policy,
        baseDir,
        limit,
        // The service's current lists, so a draft naming them is judged as the live one would be.
        context: { at: clock(), ...(lists === undefined ? {} : { lists }) },
      });
      await store.audit.append({
        event: 'policy.dry-run',
        actor: actor(request.adminToken!.id),
        subject: `policy:${report.digest}`,
        data: { limit, evaluated: report.evaluated, skipped: report.skipped, changed: report.changed.length },
        at: clock(),
      });
      return report;
    },
  );

  app.post<{ Body: { revoke?: boolean; reason?: CrlReason; policy?: string; limit?: number } }>(
    '/api/v1/admin/reevaluate',
    { schema: reevaluateSchema, config: admin('enrollments:read') },
    async (request) => {
      const body = request.body;
      const token = request.adminToken!;
      const revoke = body.revoke === true;
      // Bulk revocation is a revocation: it needs the revoke scope on top of reading enrollments.
      if (revoke && !token.scopes.includes('certificates:revoke'))
        fail('AUTH_SCOPE', 'revoke: true needs the scope "certificates:revoke"', {
          wwwAuthenticate: `${BEARER_CHALLENGE}, error="insufficient_scope", scope="certificates:revoke"`,
          scope: 'certificates:revoke',
        });
      // Revoking under a policy that is not enforced would let the same model enroll again:
      // revocation runs under the live policy only; a draft is for looking.
      if (revoke && body.policy !== undefined)
        invalidField(
          '#/revoke',
          'revocation runs under the live policy only: load the draft, then re-evaluate',
        );
      const live = state.policies.get();
      let policy = live?.policy;
      if (body.policy !== undefined) {
        const source = live?.policy.source;
        const baseDir = source !== undefined && isAbsolute(source) ? dirname(source) : state.config.dir;
        policy = parseDraftPolicy(body.policy, baseDir);
      }
      if (policy === undefined) fail('NOT_FOUND', 'no policy is loaded');
      const lists = state.policies.tokenLists();
      try {
        const report = await reevaluate({
          store,
          policy,
          clock,
          actor: actor(token.id),
          limit: body.limit ?? DEFAULT_REEVALUATE,
          revoke,
          ...(body.reason === undefined ? {} : { reason: body.reason }),
          // The service's current token lists (kept fresh by its TokenListKeeper).
          ...(lists === undefined ? {} : { lists }),
        });
        if (report.revoked.length > 0)
          request.log.info({ revoked: report.revoked.length, reason: report.reason }, 'certificates revoked');
        return report;
      } finally {
        // Also after a failure half-way: the revocations made before it are committed.
        if (revoke) state.crl.invalidate();
      }
    },
  );

  app.post<{ Body: { name: string; scopes: Scope[] } }>(
    '/api/v1/admin/tokens',
    { schema: createTokenSchema, config: admin('tokens:write') },
    async (request, reply) => {
      const creator = request.adminToken!;
      // No escalation: a token can only hand out scopes it holds itself.
      const missing = request.body.scopes.filter((s) => !creator.scopes.includes(s));
      if (missing.length > 0)
        fail('AUTH_SCOPE', `this token cannot grant scopes it does not hold: ${missing.join(', ')}`, {
          scope: missing[0],
        });
      const name = request.body.name.trim();
      if (name === '') invalidField('#/name', 'must not be blank');
      const now = clock();
      const { secret, hash } = newAdminToken();
      const id = randomUUID();
      await store.transaction(async (tx) => {
        await tx.adminTokens.create({
          id,
          name,
          tokenHash: hash,
          scopes: request.body.scopes,
          createdAt: now,
          revokedAt: null,
        });
        await tx.audit.append({
          event: 'token.created',
          actor: actor(creator.id),
          subject: `token:${id}`,
          data: { name, scopes: request.body.scopes },
          at: now,
        });
      });
      return reply.code(201).send({ id, token: secret, name, scopes: request.body.scopes });
    },
  );
}

/** The profile a new code names: the given one, else `default`, else the only one. */
function resolveProfile(state: ServiceState, id: string | undefined) {
  const profiles = state.config.profiles;
  const chosen =
    id !== undefined
      ? profiles.get(id)
      : (profiles.get('default') ?? (profiles.size === 1 ? [...profiles.values()][0] : undefined));
  if (chosen === undefined)
    fail(
      'PROFILE_UNKNOWN',
      id === undefined
        ? `name a profile: ${[...profiles.keys()].join(', ')}`
        : `no profile "${id}" is configured (known: ${[...profiles.keys()].join(', ')})`,
    );
  return chosen;
}

/** The subject, alone and inside the profile's template, must be a valid RFC 4514 name. */
function checkSubject(subject: string, template: string): void {
  try {
    encodeName(subject);
    // Exactly what issuance will build (no String.replace: it expands $& and friends).
    renderSubject({ subjectTemplate: template }, subject);
  } catch (err) {
    if (!isProvenanceError(err)) throw err;
    invalidField('#/subject', err.message);
  }
}

function invalidField(pointer: string, detail: string): never {
  return fail('BODY_INVALID', `${pointer.slice(1)}: ${detail}`, { errors: [{ pointer, detail }] });
}

function enrollmentItem(r: EnrollmentRecord) {
  return {
    id: r.id,
    codeId: r.codeId,
    challengeId: r.challengeId,
    customer: r.customer,
    status: r.status,
    code: r.code,
    format: r.format,
    matchedRule: r.matchedRule,
    policyDigest: r.policyDigest,
    keySpkiSha256: r.keySpkiSha256,
    certificateSerial: r.certificateSerial,
    createdAt: iso(r.createdAt),
  };
}

function auditItem(r: AuditRecord) {
  return {
    seq: r.seq,
    event: r.event,
    actor: r.actor,
    subject: r.subject,
    data: r.data,
    at: iso(r.at),
    hash: r.hash,
    prevHash: r.prevHash,
  };
}
