/**
 * The enrollment API, authenticated by an enrollment code (`Authorization: Enroll <code>`):
 * `POST /api/v1/challenges` and `POST /api/v1/enrollments` (see ../enrollment.ts).
 */
import type { FastifyInstance } from 'fastify';
import { toBase64Url } from '../../core/bytes.js';
import { encodePem } from '../../core/pem.js';
import type { ServiceState } from '../app.js';
import { createChallenge, enroll } from '../enrollment.js';
import { challengeSchema, enrollmentSchema } from '../schemas.js';

/** Register the enrollment routes. */
export function registerEnrollmentRoutes(app: FastifyInstance, state: ServiceState): void {
  const auth = { kind: 'enroll' } as const;

  app.post('/api/v1/challenges', { schema: challengeSchema, config: { auth } }, async (request, reply) => {
    const challenge = await createChallenge(state.enrollment, request.enrollmentCode!);
    return reply.code(201).send({
      id: challenge.id,
      nonce: toBase64Url(challenge.nonce),
      expiresAt: new Date(challenge.expiresAt).toISOString(),
    });
  });

  app.post<{ Body: { challengeId: string; csr: string } }>(
    '/api/v1/enrollments',
    { schema: enrollmentSchema, config: { auth } },
    async (request, reply) => {
      const result = await enroll(state.enrollment, request.enrollmentCode!, request.body);
      request.log.info(
        { enrollmentId: result.enrollmentId, serial: result.certificate.serial },
        'certificate issued',
      );
      return reply.code(201).send({
        enrollmentId: result.enrollmentId,
        serial: result.certificate.serial,
        certificate: encodePem('CERTIFICATE', result.certificate.der),
        chain: state.ca.issuing.chain.map((c) => encodePem('CERTIFICATE', c.der)),
        verdict: result.verdict,
      });
    },
  );
}
