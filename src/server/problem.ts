/**
 * RFC 9457 problem documents: every error the API returns is one, from one error handler.
 *
 * - A ProvenanceError keeps its code and the status of `ERROR_CODES`;
 * - a schema validation failure is BODY_INVALID with one `errors[]` entry per offending item,
 *   each naming it by JSON Pointer (RFC 6901, as RFC 9457 §3 suggests) into the part it is in;
 * - Fastify's own input errors (bad JSON, body too large, wrong media type) get our codes;
 * - anything else is INTERNAL, with nothing about the failure in the body (logged instead).
 *
 * @example
 * reply.code(409).type(PROBLEM_CONTENT_TYPE).send(problemFor(new ProvenanceError('CHALLENGE_INVALID', '…'), '/api/v1/enrollments'));
 */
import { ERROR_CODES, type ErrorCode, isProvenanceError } from '../core/errors.js';

/** The media type of problem documents (RFC 9457 §3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One offending item of a request. */
export interface ProblemItem {
  /** JSON Pointer into the request part, prefixed '#': '#/csr', '#/limit'. */
  readonly pointer: string;
  readonly detail: string;
  /** Which part of the request, when it is not the body: 'query', 'params', 'headers'. */
  readonly in?: 'query' | 'params' | 'headers';
}

/** An RFC 9457 problem document with Provenance's members. */
export interface Problem {
  /** `urn:provenance:error:<code>`. */
  readonly type: string;
  /** The code's one-line summary (the same for every occurrence, RFC 9457 §3.1.3). */
  readonly title: string;
  readonly status: number;
  /** What happened this time. */
  readonly detail: string;
  readonly code: ErrorCode;
  /** The request path. */
  readonly instance?: string;
  readonly errors?: readonly ProblemItem[];
  readonly verdict?: unknown;
  /** Extension members (e.g. enrollmentId for a recorded rejection). */
  readonly [extension: string]: unknown;
}

/**
 * A problem document for `code`.
 *
 * @example
 * problem('NOT_FOUND', 'no enrollment 42', { instance: '/api/v1/admin/enrollments/42' })
 */
export function problem(
  code: ErrorCode,
  detail: string,
  extra: { instance?: string; errors?: readonly ProblemItem[]; [k: string]: unknown } = {},
): Problem {
  const info = ERROR_CODES[code];
  return {
    type: `urn:provenance:error:${code}`,
    title: info.summary,
    status: info.status,
    detail,
    code,
    ...extra,
  };
}

/** Fastify's validation error shape (ajv errors plus the request part). */
interface ValidationFailure {
  readonly validation: readonly {
    readonly instancePath?: string;
    readonly keyword?: string;
    readonly message?: string;
    readonly params?: Record<string, unknown>;
  }[];
  readonly validationContext?: string;
}

function isValidationFailure(err: unknown): err is ValidationFailure {
  return Array.isArray((err as { validation?: unknown } | null)?.validation);
}

/** The offending items of a schema validation failure, as RFC 6901 pointers. */
export function validationItems(err: ValidationFailure): ProblemItem[] {
  const part = err.validationContext;
  const where =
    part === 'querystring' ? 'query' : part === 'params' ? 'params' : part === 'headers' ? 'headers' : null;
  return err.validation.map((v) => {
    let pointer = v.instancePath ?? '';
    // ajv reports a missing or an extra property at its parent: name the property itself.
    const property = v.params?.['missingProperty'] ?? v.params?.['additionalProperty'];
    if (typeof property === 'string') pointer += `/${escapePointer(property)}`;
    const detail =
      v.keyword === 'additionalProperties'
        ? 'is not a known field'
        : v.keyword === 'required'
          ? 'is required'
          : (v.message ?? 'is invalid');
    return { pointer: `#${pointer}`, detail, ...(where === null ? {} : { in: where }) };
  });
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** What the error handler answers for any thrown value. */
export interface ProblemAnswer {
  readonly problem: Problem;
  /** True when the failure is ours (log it); false for client errors. */
  readonly internal: boolean;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;
}

/**
 * Map anything thrown while handling a request to a problem document. Unknown failures
 * become INTERNAL without their message: internals never reach the client.
 */
export function problemFor(err: unknown, instance: string): ProblemAnswer {
  if (isProvenanceError(err)) {
    const headers: Record<string, string> = {};
    const retry = err.details['retryAfterSeconds'];
    if (typeof retry === 'number') headers['retry-after'] = String(retry);
    const challenge = err.details['wwwAuthenticate'];
    if (typeof challenge === 'string') headers['www-authenticate'] = challenge;
    const extra: Record<string, unknown> = { instance };
    const items = err.details['errors'];
    if (Array.isArray(items)) extra['errors'] = items;
    const verdict = err.details['verdict'];
    if (verdict !== undefined) extra['verdict'] = verdict;
    const enrollmentId = err.details['enrollmentId'];
    if (typeof enrollmentId === 'string') extra['enrollmentId'] = enrollmentId;
    const line = err.details['line'];
    if (typeof line === 'number') {
      extra['line'] = line;
      extra['column'] = err.details['column'];
    }
    // A server-side failure (store, CA) may name files or hosts: the body keeps to the summary.
    const internal = ERROR_CODES[err.code].status >= 500;
    return {
      problem: problem(err.code, internal ? `${ERROR_CODES[err.code].summary} (logged)` : err.message, extra),
      internal,
      headers,
    };
  }
  if (isValidationFailure(err)) {
    const items = validationItems(err);
    const first = items[0];
    const detail = first
      ? `${first.in ? `${first.in} ` : ''}${first.pointer.slice(1) || '/'} ${first.detail}`
      : 'the request does not match the API schema';
    return {
      problem: problem('BODY_INVALID', `the request does not match the API schema: ${detail}`, {
        instance,
        errors: items,
      }),
      internal: false,
      headers: {},
    };
  }
  const fastifyCode = (err as { code?: unknown } | null)?.code;
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      problem: problem('INPUT_TOO_LARGE', 'the request body exceeds the configured limit', { instance }),
      internal: false,
      headers: {},
    };
  }
  if (typeof status === 'number' && status === 404) {
    return { problem: problem('NOT_FOUND', 'no such resource', { instance }), internal: false, headers: {} };
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own input errors: unparsable JSON, an empty JSON body, an unsupported media
    // type, a bad Content-Length. Their messages describe the input, never our internals.
    const message = err instanceof Error ? err.message : 'the request body cannot be read';
    return {
      problem: problem('BODY_INVALID', `the request body cannot be read: ${message}`, { instance }),
      internal: false,
      headers: {},
    };
  }
  return {
    problem: problem('INTERNAL', 'an unexpected internal failure: it has been logged', { instance }),
    internal: true,
    headers: {},
  };
}
