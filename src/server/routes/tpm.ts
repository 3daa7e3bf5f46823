/**
 * The TPM credential-activation API, authenticated by an enrollment code like the other client
 * routes (`Authorization: Enroll <code>`; see ../tpm.ts and docs/tpm-activation.md):
 *
 * - `POST /api/v1/tpm/activations` `{ ekCertificate, ekChain?, akPublic, ekPublic? }` (base64)
 *   → 201 `{ id, akName, credentialBlob, encryptedSecret, expiresAt }`
 * - `POST /api/v1/tpm/activations/{id}/complete` `{ secret }` (base64) → 201 `{ akId, akName }`
 */
import type { FastifyInstance } from 'fastify';
import { fail } from '../../core/errors.js';
import type { ServiceState } from '../app.js';
import { completeActivation, startActivation, type TpmActivationSettings } from '../tpm.js';

const problemRef = { $ref: 'Problem#' } as const;
const problems = (...statuses: number[]): Record<string, unknown> =>
  Object.fromEntries(statuses.map((s) => [String(s), problemRef]));
/** Standard base64 (RFC 4648 §4), padded. */
const base64 = (maxLength: number, description: string) =>
  ({
    type: 'string',
    minLength: 4,
    maxLength,
    pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
    description,
  }) as const;
const ENROLL_SECURITY = [{ enrollmentCode: [] }];

/** Schema of POST /api/v1/tpm/activations. */
export const tpmActivationSchema = {
  tags: ['enrollment'],
  summary: 'Start a TPM credential activation: the service wraps a secret for (EK, AK Name)',
  security: ENROLL_SECURITY,
  body: {
    type: 'object',
    required: ['ekCertificate', 'akPublic'],
    additionalProperties: false,
    properties: {
      ekCertificate: base64(16384, 'base64 DER EK certificate'),
      ekChain: {
        type: 'array',
        maxItems: 8,
        items: base64(16384, 'base64 DER certificate'),
        description: 'intermediate certificates of the EK certificate, any order',
      },
      akPublic: base64(2048, 'base64 AK TPMT_PUBLIC or TPM2B_PUBLIC (tpm2_createak -u, tss format)'),
      ekPublic: base64(2048, 'optional base64 EK TPMT_PUBLIC or TPM2B_PUBLIC (non-default EK templates)'),
    },
  },
  response: {
    201: {
      type: 'object',
      required: ['id', 'akName', 'credentialBlob', 'encryptedSecret', 'expiresAt'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        akName: { type: 'string', description: 'base64 AK Name the service computed' },
        credentialBlob: { type: 'string', description: 'base64 TPM2B_ID_OBJECT' },
        encryptedSecret: { type: 'string', description: 'base64 TPM2B_ENCRYPTED_SECRET' },
        expiresAt: { type: 'string', format: 'date-time' },
      },
    },
    ...problems(400, 401, 409, 413, 422, 429, 500, 503),
  },
} as const;

/** Schema of POST /api/v1/tpm/activations/{id}/complete. */
export const tpmActivationCompleteSchema = {
  tags: ['enrollment'],
  summary: 'Complete a TPM credential activation with the secret TPM2_ActivateCredential released',
  security: ENROLL_SECURITY,
  params: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', format: 'uuid' } },
  },
  body: {
    type: 'object',
    required: ['secret'],
    additionalProperties: false,
    properties: { secret: base64(128, 'base64 of the recovered credential secret') },
  },
  response: {
    201: {
      type: 'object',
      required: ['akId', 'akName'],
      properties: {
        akId: { type: 'string', format: 'uuid' },
        akName: { type: 'string', description: 'base64 AK Name now bound to the EK' },
      },
    },
    ...problems(400, 401, 409, 413, 422, 429, 500, 503),
  },
} as const;

function decode(value: string, field: string): Uint8Array {
  const bytes = Buffer.from(value, 'base64');
  // The schema pattern admits only canonical base64; re-encoding catches anything else.
  if (bytes.toString('base64') !== value) fail('BODY_INVALID', `${field} is not canonical base64`, { field });
  return new Uint8Array(bytes);
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Register the TPM activation routes. */
export function registerTpmRoutes(
  app: FastifyInstance,
  state: ServiceState,
  settings?: Partial<TpmActivationSettings>,
): void {
  const auth = { kind: 'enroll' } as const;
  const ctx = {
    store: state.store,
    policies: state.policies,
    clock: state.clock,
    ...(settings === undefined ? {} : { settings }),
  };

  app.post<{ Body: { ekCertificate: string; ekChain?: string[]; akPublic: string; ekPublic?: string } }>(
    '/api/v1/tpm/activations',
    { schema: tpmActivationSchema, config: { auth } },
    async (request, reply) => {
      const body = request.body;
      const started = await startActivation(ctx, request.enrollmentCode!, {
        ekCertificate: decode(body.ekCertificate, 'ekCertificate'),
        akPublic: decode(body.akPublic, 'akPublic'),
        ...(body.ekChain === undefined
          ? {}
          : { ekChain: body.ekChain.map((c, i) => decode(c, `ekChain[${i}]`)) }),
        ...(body.ekPublic === undefined ? {} : { ekPublic: decode(body.ekPublic, 'ekPublic') }),
      });
      return reply.code(201).send({
        id: started.id,
        akName: b64(started.akName),
        credentialBlob: b64(started.credentialBlob),
        encryptedSecret: b64(started.encryptedSecret),
        expiresAt: new Date(started.expiresAt).toISOString(),
      });
    },
  );

  app.post<{ Params: { id: string }; Body: { secret: string } }>(
    '/api/v1/tpm/activations/:id/complete',
    { schema: tpmActivationCompleteSchema, config: { auth } },
    async (request, reply) => {
      const done = await completeActivation(ctx, request.enrollmentCode!, request.params.id, {
        secret: decode(request.body.secret, 'secret'),
      });
      request.log.info({ akId: done.akId }, 'TPM attestation key bound');
      return reply.code(201).send({ akId: done.akId, akName: b64(done.akName) });
    },
  );
}
