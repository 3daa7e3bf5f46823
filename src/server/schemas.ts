/**
 * JSON Schemas of every route: bodies, params, queries and responses. Fastify validates
 * requests with them (strict: unknown fields are errors, no type coercion) and serialises
 * responses with them; @fastify/swagger turns them into the OpenAPI 3 document at /docs/json.
 *
 * Query parameters are strings with patterns (no coercion), so "limit=ten" is BODY_INVALID
 * naming `limit`, not silently dropped.
 */
import { REVOCATION_REASONS } from '../ca/crl.js';
import { ALL_SCOPES } from '../store/types.js';

/** Shared schemas, registered once with `app.addSchema` and referenced as `Name#`. */
export const SHARED_SCHEMAS = [
  {
    $id: 'Problem',
    type: 'object',
    description: 'RFC 9457 problem document (application/problem+json).',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', description: 'urn:provenance:error:<code>' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', description: 'The stable error code (docs/errors.md).' },
      instance: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['pointer', 'detail'],
          properties: {
            pointer: { type: 'string', description: "JSON Pointer (RFC 6901) prefixed '#'" },
            detail: { type: 'string' },
            in: { type: 'string', enum: ['query', 'params', 'headers'] },
          },
        },
      },
      verdict: { $ref: 'Verdict#' },
      enrollmentId: { type: 'string' },
    },
    additionalProperties: true,
  },
  {
    $id: 'Verdict',
    type: 'object',
    description: 'The verifier’s decision with every check it ran (docs/architecture.md, Verdict).',
    properties: {
      accepted: { type: 'boolean' },
      code: { type: 'string' },
      message: { type: 'string' },
      format: { type: ['string', 'null'] },
      matchedRule: { type: ['string', 'null'] },
      level: { type: ['integer', 'null'] },
      policyDigest: { type: 'string' },
      evaluatedAt: { type: 'string' },
    },
    additionalProperties: true,
  },
] as const;

const problemRef = { $ref: 'Problem#' } as const;
const verdictRef = { $ref: 'Verdict#' } as const;
const iso = { type: 'string', format: 'date-time' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableIso = { type: ['string', 'null'], format: 'date-time' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const cursor = { type: 'string', minLength: 1, maxLength: 512 } as const;
/** 1..100, as text (queries are not coerced). */
const pageLimit = { type: 'string', pattern: '^([1-9]|[1-9][0-9]|100)$', description: '1 to 100' } as const;
const serialHex = {
  type: 'string',
  pattern: '^([0-9a-fA-F]{2}){1,40}$',
  description: 'the serial in hex (as the certificate lists it)',
} as const;

/** Problem responses for the statuses a route can answer with. */
function problems(...statuses: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statuses) out[String(s)] = problemRef;
  return out;
}

const ENROLL_SECURITY = [{ enrollmentCode: [] }];
const ADMIN_SECURITY = [{ adminToken: [] }];
const ENROLL_ERRORS = problems(400, 401, 409, 413, 429, 500, 503);
const ADMIN_ERRORS = problems(400, 401, 403, 413, 429, 500, 503);

export const challengeSchema = {
  tags: ['enrollment'],
  summary: 'Get a single-use challenge (nonce) for an enrollment',
  security: ENROLL_SECURITY,
  response: {
    201: {
      type: 'object',
      required: ['id', 'nonce', 'expiresAt'],
      properties: {
        id: uuid,
        nonce: { type: 'string', description: 'base64url of 32 random bytes' },
        expiresAt: iso,
      },
    },
    ...ENROLL_ERRORS,
  },
} as const;

export const enrollmentSchema = {
  tags: ['enrollment'],
  summary: 'Submit a CSR carrying the attestation; get the certificate or the reasons',
  security: ENROLL_SECURITY,
  body: {
    type: 'object',
    required: ['challengeId', 'csr'],
    additionalProperties: false,
    properties: {
      challengeId: uuid,
      csr: {
        type: 'string',
        minLength: 1,
        maxLength: 262144,
        description: 'PEM "CERTIFICATE REQUEST" carrying the attestation and the challenge nonce',
      },
    },
  },
  response: {
    201: {
      type: 'object',
      required: ['enrollmentId', 'serial', 'certificate', 'chain', 'verdict'],
      properties: {
        enrollmentId: uuid,
        serial: { type: 'string' },
        certificate: { type: 'string', description: 'PEM certificate' },
        chain: { type: 'array', items: { type: 'string' }, description: 'PEM: issuing CA, then root' },
        verdict: verdictRef,
      },
    },
    ...problems(400, 401, 403, 409, 413, 422, 429, 500, 503),
  },
} as const;

export const caCertificatesSchema = {
  tags: ['public'],
  summary: 'The issuing CA chain (issuing CA, then root) as PEM',
  response: {
    200: {
      description: 'PEM certificates',
      content: { 'application/pem-certificate-chain': { schema: { type: 'string' } } },
    },
    ...problems(429, 500),
  },
} as const;

export const crlSchema = {
  tags: ['public'],
  summary: 'The current CRL (RFC 5280 §5), DER',
  response: {
    200: {
      description: 'DER CertificateList',
      content: { 'application/pkix-crl': { schema: { type: 'string', format: 'binary' } } },
    },
    ...problems(429, 500, 503),
  },
} as const;

export const healthSchema = {
  tags: ['operations'],
  summary: 'Liveness: the process is up',
  response: {
    200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
  },
} as const;

const checks = {
  type: 'object',
  properties: { store: { type: 'string' }, ca: { type: 'string' }, policy: { type: 'string' } },
} as const;

export const readySchema = {
  tags: ['operations'],
  summary: 'Readiness: the store answers, the CA and a policy are loaded',
  response: {
    200: {
      type: 'object',
      required: ['status', 'checks'],
      properties: { status: { type: 'string' }, checks },
    },
    503: {
      type: 'object',
      additionalProperties: true,
      properties: { ...SHARED_SCHEMAS[0].properties, checks },
    },
  },
} as const;

export const metricsSchema = {
  tags: ['operations'],
  summary: 'Prometheus metrics (text exposition format 0.0.4)',
  response: {
    200: { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } },
  },
} as const;

const codeItem = {
  type: 'object',
  required: ['id', 'customer', 'subject', 'profile', 'createdAt', 'expiresAt', 'usedAt', 'createdBy'],
  properties: {
    id: uuid,
    customer: { type: 'string' },
    subject: { type: 'string' },
    profile: { type: 'string' },
    createdAt: iso,
    expiresAt: iso,
    usedAt: nullableIso,
    createdBy: { type: 'string' },
  },
} as const;

export const createCodeSchema = {
  tags: ['admin'],
  summary: 'Create a single-use enrollment code (shown once)',
  security: ADMIN_SECURITY,
  body: {
    type: 'object',
    required: ['customer', 'subject'],
    additionalProperties: false,
    properties: {
      customer: { type: 'string', minLength: 1, maxLength: 256 },
      subject: {
        type: 'string',
        minLength: 1,
        maxLength: 1024,
        description: 'RFC 4514 subject of the certificate, e.g. "CN=Alice Example"',
      },
      profile: { type: 'string', minLength: 1, maxLength: 64 },
      ttl: { type: 'integer', minimum: 60, description: 'seconds (default from the configuration)' },
    },
  },
  response: {
    201: {
      type: 'object',
      required: ['id', 'code', 'customer', 'subject', 'profile', 'expiresAt'],
      properties: {
        id: uuid,
        code: { type: 'string', description: 'the enrollment code: shown this once, stored hashed' },
        customer: { type: 'string' },
        subject: { type: 'string' },
        profile: { type: 'string' },
        expiresAt: iso,
      },
    },
    ...ADMIN_ERRORS,
  },
} as const;

export const listCodesSchema = {
  tags: ['admin'],
  summary: 'List enrollment codes (never the codes themselves)',
  security: ADMIN_SECURITY,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { customer: { type: 'string', minLength: 1, maxLength: 256 }, limit: pageLimit, cursor },
  },
  response: {
    200: {
      type: 'object',
      required: ['items', 'next'],
      properties: { items: { type: 'array', items: codeItem }, next: nullableString },
    },
    ...ADMIN_ERRORS,
  },
} as const;

const enrollmentItemProperties = {
  id: uuid,
  codeId: { type: 'string' },
  challengeId: { type: 'string' },
  customer: { type: 'string' },
  status: { type: 'string', enum: ['issued', 'rejected'] },
  code: { type: 'string', description: 'ACCEPTED or the rejection code' },
  format: nullableString,
  matchedRule: nullableString,
  policyDigest: { type: 'string' },
  keySpkiSha256: nullableString,
  certificateSerial: nullableString,
  createdAt: iso,
} as const;

const enrollmentItem = {
  type: 'object',
  required: Object.keys(enrollmentItemProperties),
  properties: enrollmentItemProperties,
} as const;

export const listEnrollmentsSchema = {
  tags: ['admin'],
  summary: 'List enrollments, newest first, with filters',
  security: ADMIN_SECURITY,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      customer: { type: 'string', minLength: 1, maxLength: 256 },
      status: { type: 'string', enum: ['issued', 'rejected'] },
      format: { type: 'string', minLength: 1, maxLength: 64 },
      code: { type: 'string', minLength: 1, maxLength: 64, description: 'enrollment code id' },
      since: iso,
      until: iso,
      limit: pageLimit,
      cursor,
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['items', 'next'],
      properties: { items: { type: 'array', items: enrollmentItem }, next: nullableString },
    },
    ...ADMIN_ERRORS,
  },
} as const;

export const getEnrollmentSchema = {
  tags: ['admin'],
  summary: 'One enrollment: verdict (path, claims), policy input, evidence, certificate',
  security: ADMIN_SECURITY,
  params: {
    type: 'object',
    required: ['id'],
    additionalProperties: false,
    properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
  },
  response: {
    200: {
      type: 'object',
      required: [
        ...Object.keys(enrollmentItemProperties),
        'verdict',
        'policyInput',
        'evidence',
        'certificate',
      ],
      properties: {
        ...enrollmentItemProperties,
        verdict: verdictRef,
        policyInput: { type: ['object', 'null'], additionalProperties: true },
        evidence: { ...nullableString, description: 'the CSR (PEM), kept only by inventory profiles' },
        certificate: {
          type: ['object', 'null'],
          properties: {
            serial: { type: 'string' },
            pem: { type: 'string' },
            status: { type: 'string', enum: ['good', 'revoked'] },
            notBefore: iso,
            notAfter: iso,
            revokedAt: nullableIso,
            revocationReason: nullableString,
          },
        },
      },
    },
    ...problems(400, 401, 403, 404, 429, 500, 503),
  },
} as const;

export { REVOCATION_REASONS };

export const revokeSchema = {
  tags: ['admin'],
  summary: 'Revoke an issued certificate (the CRL is regenerated)',
  security: ADMIN_SECURITY,
  params: {
    type: 'object',
    required: ['serial'],
    additionalProperties: false,
    properties: { serial: serialHex },
  },
  body: {
    type: 'object',
    required: ['reason'],
    additionalProperties: false,
    properties: { reason: { type: 'string', enum: REVOCATION_REASONS } },
  },
  response: {
    200: {
      type: 'object',
      required: ['serial', 'status', 'revokedAt', 'reason'],
      properties: {
        serial: { type: 'string' },
        status: { type: 'string', enum: ['revoked'] },
        revokedAt: iso,
        reason: { type: 'string' },
      },
    },
    ...problems(400, 401, 403, 404, 413, 429, 500, 503),
  },
} as const;

export const auditSchema = {
  tags: ['admin'],
  summary: 'The hash-chained audit log, newest first',
  security: ADMIN_SECURITY,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      event: { type: 'string', minLength: 1, maxLength: 64 },
      since: iso,
      limit: pageLimit,
      cursor,
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['items', 'next'],
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['seq', 'event', 'actor', 'subject', 'data', 'at', 'hash', 'prevHash'],
            properties: {
              seq: { type: 'integer' },
              event: { type: 'string' },
              actor: { type: 'string' },
              subject: { type: 'string' },
              data: { type: 'object', additionalProperties: true },
              at: iso,
              hash: { type: 'string' },
              prevHash: { type: 'string' },
            },
          },
        },
        next: nullableString,
      },
    },
    ...ADMIN_ERRORS,
  },
} as const;

export const policySchema = {
  tags: ['admin'],
  summary: 'The live policy: source, digest and summary',
  security: ADMIN_SECURITY,
  response: {
    200: {
      type: 'object',
      required: ['source', 'digest', 'summary'],
      properties: {
        source: { type: 'string' },
        digest: { type: 'string' },
        summary: { type: 'object', additionalProperties: true },
      },
    },
    ...problems(401, 403, 404, 429, 500, 503),
  },
} as const;

/** Most stored enrollments one dry run may re-evaluate. */
export const MAX_DRY_RUN = 1000;

export const dryRunSchema = {
  tags: ['admin'],
  summary: 'Evaluate a draft policy over the last N stored enrollments; list the decisions that change',
  security: ADMIN_SECURITY,
  body: {
    type: 'object',
    required: ['policy'],
    additionalProperties: false,
    properties: {
      policy: {
        type: 'string',
        minLength: 1,
        maxLength: 1048576,
        description: 'the draft policy, YAML text',
      },
      limit: { type: 'integer', minimum: 1, maximum: MAX_DRY_RUN, description: 'default 100' },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['digest', 'evaluated', 'skipped', 'changed'],
      properties: {
        digest: { type: 'string', description: 'the draft policy’s digest' },
        evaluated: { type: 'integer' },
        skipped: {
          type: 'integer',
          description: 'enrollments rejected before the policy stage (no policy input)',
        },
        changed: {
          type: 'array',
          items: {
            type: 'object',
            required: ['enrollmentId', 'before', 'after'],
            properties: {
              enrollmentId: { type: 'string' },
              before: {
                type: 'object',
                properties: { code: { type: 'string' }, rule: nullableString },
              },
              after: {
                type: 'object',
                properties: { code: { type: 'string' }, rule: nullableString },
              },
            },
          },
        },
      },
    },
    ...ADMIN_ERRORS,
  },
} as const;

/** Most issued enrollments one re-evaluation request may examine. */
export const MAX_REEVALUATE = 100_000;

const decisionSummary = {
  type: 'object',
  required: ['code', 'rule'],
  properties: { code: { type: 'string' }, rule: nullableString },
} as const;

export const reevaluateSchema = {
  tags: ['admin'],
  summary:
    'Re-run the policy over issued enrollments whose certificate is good; list (and with revoke, revoke) those it now rejects',
  description:
    'Needs enrollments:read, and certificates:revoke as well when revoke is true. A draft policy ' +
    '(YAML) may be given to see what it would reject, but revocation runs only under the live ' +
    'policy (a draft with revoke: true is BODY_INVALID). Audited: reevaluation.run, and ' +
    'certificate.revoked for each revocation; the CRL is regenerated.',
  security: ADMIN_SECURITY,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      revoke: { type: 'boolean', description: 'revoke every certificate listed (default false)' },
      reason: {
        type: 'string',
        enum: REVOCATION_REASONS,
        description: 'RFC 5280 §5.3.1 reason for the revocations (default keyCompromise)',
      },
      policy: {
        type: 'string',
        minLength: 1,
        maxLength: 1048576,
        description: 'a draft policy, YAML text (default: the live policy)',
      },
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_REEVALUATE,
        description: 'issued enrollments to examine, newest first (default 10000)',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['policyDigest', 'evaluated', 'skipped', 'truncated', 'wouldReject', 'revoked', 'reason'],
      properties: {
        policyDigest: { type: 'string' },
        evaluated: { type: 'integer', description: 'enrollments with a good, unexpired certificate re-run' },
        skipped: {
          type: 'integer',
          description: 'issued enrollments not re-run: certificate revoked or expired, or no policy input',
        },
        truncated: { type: 'boolean', description: 'the limit stopped the walk early' },
        wouldReject: {
          type: 'array',
          items: {
            type: 'object',
            required: [
              'enrollmentId',
              'serial',
              'customer',
              'subject',
              'keySpkiSha256',
              'before',
              'after',
              'why',
              'revoked',
            ],
            properties: {
              enrollmentId: { type: 'string' },
              serial: { type: 'string' },
              customer: { type: 'string' },
              subject: { type: 'string' },
              keySpkiSha256: { type: 'string' },
              before: decisionSummary,
              after: decisionSummary,
              why: { type: 'string', description: 'the first failed check, in words' },
              revoked: { type: 'boolean', description: 'this request revoked it' },
            },
          },
        },
        revoked: { type: 'array', items: { type: 'string' }, description: 'serials revoked now' },
        reason: nullableString,
      },
    },
    ...ADMIN_ERRORS,
  },
} as const;

export const createTokenSchema = {
  tags: ['admin'],
  summary: 'Create an admin token with scopes (shown once)',
  security: ADMIN_SECURITY,
  body: {
    type: 'object',
    required: ['name', 'scopes'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 128 },
      scopes: {
        type: 'array',
        minItems: 1,
        maxItems: 16,
        uniqueItems: true,
        items: { type: 'string', enum: ALL_SCOPES },
      },
    },
  },
  response: {
    201: {
      type: 'object',
      required: ['id', 'token', 'name', 'scopes'],
      properties: {
        id: uuid,
        token: { type: 'string', description: 'shown this once, stored hashed' },
        name: { type: 'string' },
        scopes: { type: 'array', items: { type: 'string' } },
      },
    },
    ...ADMIN_ERRORS,
  },
} as const;
