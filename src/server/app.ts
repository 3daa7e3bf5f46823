/**
 * The Fastify application of the provisioning service: the enrollment API, the admin API,
 * the public CA and CRL endpoints, health, metrics and the OpenAPI document, over injected
 * store, CA, policy, clock and logger (nothing global, so tests run many apps side by side).
 *
 * Request pipeline: per-address rate limit (API routes) → authentication (Enroll code or
 * Bearer token with a scope) → per-code rate limit → body limit and JSON parsing → schema
 * validation (strict: unknown fields are errors) → handler. Every failure on the way is one
 * RFC 9457 problem document from one error handler (problem.ts).
 *
 * @example
 * const app = buildApp({ store, ca, policy, config, clock: systemClock, logger: pino() });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Clock } from '../core/clock.js';
import type { KeyCache } from '../pki/keys.js';
import type { Policy } from '../policy/model.js';
import type { AdminTokenRecord, EnrollmentCodeRecord, Scope, Store } from '../store/types.js';
import type { RevocationCache } from '../trust/revocation/cache.js';
import { authenticateAdmin, authenticateEnrollmentCode } from './auth.js';
import type { ServiceConfig } from './config.js';
import { CrlPublisher } from './crl.js';
import type { EnrollmentContext } from './enrollment.js';
import { ServiceMetrics } from './metrics.js';
import { PolicyHolder } from './policy-holder.js';
import { PROBLEM_CONTENT_TYPE, problem, problemFor } from './problem.js';
import { FixedWindowLimiter } from './rate-limit.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerEnrollmentRoutes } from './routes/enrollment.js';
import { registerOperationsRoutes } from './routes/operations.js';
import { registerTpmRoutes } from './routes/tpm.js';
import { SHARED_SCHEMAS } from './schemas.js';
import type { ServiceCa } from './service-ca.js';

/** What a route requires of the caller. */
export type AuthRequirement = { readonly kind: 'enroll' } | { readonly kind: 'admin'; readonly scope: Scope };

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's state, for serve.ts (policy reloads, shutdown) and tests. */
    provenance: ServiceState;
  }
  interface FastifyRequest {
    /** The authenticated enrollment code (enrollment routes). */
    enrollmentCode: EnrollmentCodeRecord | null;
    /** The authenticated admin token (admin routes). */
    adminToken: AdminTokenRecord | null;
  }
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
}

/** Everything the routes share. */
export interface ServiceState {
  readonly store: Store;
  readonly ca: ServiceCa;
  readonly policies: PolicyHolder;
  readonly config: ServiceConfig;
  readonly clock: Clock;
  readonly metrics: ServiceMetrics;
  readonly crl: CrlPublisher;
  readonly enrollment: EnrollmentContext;
  readonly limiters: { readonly address: FixedWindowLimiter; readonly code: FixedWindowLimiter };
}

/** Options of `buildApp`. */
export interface AppOptions {
  readonly store: Store;
  readonly ca: ServiceCa;
  /** The live policy holder, or a policy to start one with (null: none, enrollments fail closed). */
  readonly policy: PolicyHolder | Policy | null;
  readonly config: ServiceConfig;
  readonly clock: Clock;
  readonly logger: FastifyBaseLogger;
  /** Decoded public keys shared by the verifiers (when `policy` is not a holder already). */
  readonly keyCache?: KeyCache;
  /** TLS key and certificate (PEM), when the service terminates TLS itself. */
  readonly https?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array } | null;
  readonly metrics?: ServiceMetrics;
  /**
   * Fetched CRLs and status lists: enrollments fetch what a validated path lacks. Give the same
   * cache to the PolicyHolder (as `revocation`) when `policy` is a holder already.
   */
  readonly revocation?: RevocationCache;
}

const MINUTE = 60_000;

/**
 * Build the service's Fastify app (not listening yet).
 *
 * @example
 * const app = buildApp({ store, ca, policy: loadPolicyFile('policy.yaml'), config, clock, logger });
 * const res = await app.inject({ method: 'GET', url: '/readyz' });
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { store, ca, config, clock } = options;
  const policies =
    options.policy instanceof PolicyHolder
      ? options.policy
      : new PolicyHolder({
          clock,
          policy: options.policy,
          ...(options.keyCache ? { keyCache: options.keyCache } : {}),
          ...(options.revocation ? { revocation: options.revocation } : {}),
        });
  const metrics = options.metrics ?? new ServiceMetrics();
  const state: ServiceState = {
    store,
    ca,
    policies,
    config,
    clock,
    metrics,
    crl: new CrlPublisher({ store, ca, clock }),
    enrollment: {
      store,
      ca,
      policies,
      profiles: config.profiles,
      settings: config.enrollment,
      clock,
      metrics,
      ...(options.revocation ? { revocation: options.revocation } : {}),
    },
    limiters: {
      address: new FixedWindowLimiter({ limit: config.limits.perAddressPerMinute, windowMs: MINUTE, clock }),
      code: new FixedWindowLimiter({ limit: config.limits.perCodePerMinute, windowMs: MINUTE, clock }),
    },
  };

  const app = Fastify({
    loggerInstance: options.logger,
    // One compact line per failed request is logged by the error handler; the default
    // per-request lines would dominate the log under load.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyBytes,
    // A client gets 30 s to send its whole request (slow-loris); answers take milliseconds.
    requestTimeout: 30_000,
    // Behind a reverse proxy the client address comes from X-Forwarded-For, from trusted proxies only.
    trustProxy: typeof config.trustProxy === 'boolean' ? config.trustProxy : [...config.trustProxy],
    // Close idle keep-alive connections on shutdown; in-flight requests still finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: {
      // Strict request validation: unknown fields are errors (not silently removed), types
      // are not coerced ("12" is not a number), and the first error is reported.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key } } : {}),
  }) as unknown as FastifyInstance;

  app.decorate('provenance', state);
  app.decorateRequest('enrollmentCode', null);
  app.decorateRequest('adminToken', null);
  for (const schema of SHARED_SCHEMAS) app.addSchema(structuredClone(schema) as Record<string, unknown>);

  app.setErrorHandler((err, request, reply) => {
    const answer = problemFor(err, instanceOf(request));
    if (answer.internal) request.log.error({ err, url: request.url }, 'request failed');
    else request.log.debug({ code: answer.problem.code, url: request.url }, 'request refused');
    void reply
      .code(answer.problem.status)
      .headers(answer.headers)
      .type(PROBLEM_CONTENT_TYPE)
      .send(answer.problem);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(
        problem('NOT_FOUND', `no route ${request.method} ${instanceOf(request)}`, {
          instance: instanceOf(request),
        }),
      );
  });

  app.addHook('onRequest', async (request) => {
    // Per-address limit on the API; health, metrics and docs stay reachable for operators.
    if (request.url.startsWith('/api/'))
      state.limiters.address.enforce(`address:${request.ip}`, 'from this address');
    const auth = request.routeOptions.config.auth;
    if (auth === undefined) return;
    if (auth.kind === 'enroll') {
      const code = await authenticateEnrollmentCode(store, request.headers.authorization, clock());
      state.limiters.code.enforce(`code:${code.id}`, 'with this enrollment code');
      request.enrollmentCode = code;
    } else {
      request.adminToken = await authenticateAdmin(store, request.headers.authorization, auth.scope);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.request(request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
  app.addHook('onReady', async () => {
    await auditPolicy(state, policies.get()?.policy ?? null);
    policies.onChange((live) => {
      auditPolicy(state, live?.policy ?? null).catch((err: unknown) =>
        app.log.error({ err }, 'could not audit policy.loaded'),
      );
    });
  });

  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Provenance provisioning service',
        version: '1',
        description:
          'Provision keys into customers’ tokens remotely; accept only keys whose provenance the policy allows. ' +
          'Every error is an RFC 9457 problem document carrying a stable code (docs/errors.md).',
      },
      servers: [{ url: config.publicUrl }],
      tags: [
        {
          name: 'enrollment',
          description: 'Authenticated by an enrollment code: Authorization: Enroll <code>',
        },
        {
          name: 'admin',
          description: 'Authenticated by an admin token with scopes: Authorization: Bearer <token>',
        },
        { name: 'public', description: 'The CA certificates and the CRL' },
        { name: 'operations', description: 'Health, readiness and metrics' },
      ],
      components: {
        securitySchemes: {
          enrollmentCode: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'Enroll <code> (the one-time enrollment code)',
          },
          adminToken: { type: 'http', scheme: 'bearer', description: 'pvat_… admin token' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  void app.register(async (routes) => {
    registerEnrollmentRoutes(routes, state);
    registerAdminRoutes(routes, state);
    registerOperationsRoutes(routes, state);
    registerTpmRoutes(routes, state);
  });
  return app;
}

/** The request path without the query: the problem's `instance`. */
function instanceOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? request.url : request.url.slice(0, q);
}

async function auditPolicy(state: ServiceState, policy: Policy | null): Promise<void> {
  await state.store.audit.append({
    event: 'policy.loaded',
    actor: 'system',
    subject: policy === null ? 'policy:none' : `policy:${policy.digest}`,
    data:
      policy === null
        ? { loaded: false }
        : { loaded: true, source: policy.source, digest: policy.digest, anchors: policy.anchors.length },
    at: state.clock(),
  });
}
