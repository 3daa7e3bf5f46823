/**
 * Public and operational endpoints: the CA chain, the CRL, liveness, readiness, metrics.
 */
import type { FastifyInstance } from 'fastify';
import { isProvenanceError } from '../../core/errors.js';
import { encodePem } from '../../core/pem.js';
import type { ServiceState } from '../app.js';
import { METRICS_CONTENT_TYPE } from '../metrics.js';
import { PROBLEM_CONTENT_TYPE, problem } from '../problem.js';
import { caCertificatesSchema, crlSchema, healthSchema, metricsSchema, readySchema } from '../schemas.js';

/** How long /readyz waits for the store. */
const READY_TIMEOUT_MS = 2000;

/** Register /api/v1/ca/certificates, /api/v1/crl, /healthz, /readyz, /metrics. */
export function registerOperationsRoutes(app: FastifyInstance, state: ServiceState): void {
  app.get('/api/v1/ca/certificates', { schema: caCertificatesSchema }, async (_request, reply) => {
    const pem = state.ca.issuing.chain.map((c) => encodePem('CERTIFICATE', c.der)).join('');
    return reply.type('application/pem-certificate-chain').send(pem);
  });

  app.get('/api/v1/crl', { schema: crlSchema }, async (_request, reply) => {
    const der = await state.crl.current();
    return reply
      .type('application/pkix-crl')
      .header('cache-control', 'public, max-age=300')
      .send(Buffer.from(der.buffer, der.byteOffset, der.length));
  });

  app.get('/healthz', { schema: healthSchema }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: readySchema }, async (_request, reply) => {
    const checks = { store: 'ok', ca: 'ok', policy: 'ok' };
    let failed: 'STORE_UNAVAILABLE' | 'CA_INVALID' | 'TRUST_NO_ANCHORS' | null = null;
    try {
      await withTimeout(state.store.ping(), READY_TIMEOUT_MS);
    } catch (err) {
      checks.store = isProvenanceError(err) ? err.code : 'unreachable';
      failed = 'STORE_UNAVAILABLE';
    }
    if (state.ca.issuing.chain.length === 0) {
      checks.ca = 'not loaded';
      failed ??= 'CA_INVALID';
    }
    if (state.policies.get() === null) {
      checks.policy = 'not loaded';
      failed ??= 'TRUST_NO_ANCHORS';
    }
    if (failed === null) return { status: 'ready', checks };
    return reply
      .code(503)
      .type(PROBLEM_CONTENT_TYPE)
      .send({ ...problem(failed, 'the service is not ready', { instance: '/readyz' }), status: 503, checks });
  });

  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) =>
    reply.type(METRICS_CONTENT_TYPE).send(state.metrics.render()),
  );
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
