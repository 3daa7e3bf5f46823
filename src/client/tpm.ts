/**
 * The TPM side of enrollment (issue #5): prove the attestation key (AK) lives in the same TPM
 * as an endorsement key (EK) the service trusts, then enroll as usual. Credential activation
 * (standards §2.6): the client posts the EK certificate and the AK public area; the service
 * runs TPM2_MakeCredential for the AK's Name; only that TPM can recover the secret with
 * TPM2_ActivateCredential; the client sends it back and the service binds the AK to the
 * enrollment code. The key's CSR then carries a TPM2_Certify by that AK over the challenge.
 *
 * @example
 * const tpm = createTpmAttester({ tcti: 'swtpm:host=127.0.0.1,port=2321', stateDir });
 * const result = await enrollTpmKey({ client, tpmClient: createTpmClient({ server }), token: tpm, code, label: 'signing' });
 */
import { z } from 'zod';
import { fail } from '../core/errors.js';
import type { TpmAttester } from '../token/tpm/attester.js';
import type { ClientOptions } from './api.js';
import { type EnrolledKey, type EnrollKeyOptions, enrollKey } from './enroll.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  endpoint,
  exchange,
  type FetchLike,
  fetchWithCa,
  jsonBody,
  parseServerUrl,
  type Transport,
} from './http.js';

/** The answer of `POST /api/v1/tpm/activations`: a credential only the right TPM can open. */
export interface TpmActivationChallenge {
  readonly id: string;
  /** TPM2B_ID_OBJECT. */
  readonly credentialBlob: Uint8Array;
  /** TPM2B_ENCRYPTED_SECRET. */
  readonly encryptedSecret: Uint8Array;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** The answer of `POST /api/v1/tpm/activations/{id}/complete`: the AK is bound to the code. */
export interface TpmActivated {
  readonly akId: string;
  /** u16 nameAlg || digest. */
  readonly akName: Uint8Array;
}

/** The two TPM activation calls. */
export interface TpmProvisioningClient {
  startActivation(
    code: string,
    request: {
      ekCertificate: Uint8Array;
      ekChain?: readonly Uint8Array[];
      akPublic: Uint8Array;
      /** EK TPMT_PUBLIC: lets the service wrap for a non-default EK template. */
      ekPublic?: Uint8Array;
    },
  ): Promise<TpmActivationChallenge>;
  completeActivation(code: string, id: string, secret: Uint8Array): Promise<TpmActivated>;
}

const b64 = z
  .string()
  .min(1)
  .max(64 * 1024);
const startSchema = z.object({
  id: z.string().min(1).max(128),
  credentialBlob: b64,
  encryptedSecret: b64,
  expiresAt: z.string().min(1).max(64),
});
const completeSchema = z.object({ akId: z.string().min(1).max(128), akName: b64 });

/**
 * A client for the TPM activation routes, with the same transport rules as `createClient`
 * (https or loopback http, optional private CA, timeout, bounded answers).
 *
 * @example
 * const tpmClient = createTpmClient({ server: 'https://pki.example.com' });
 */
export function createTpmClient(options: ClientOptions): TpmProvisioningClient {
  const base = parseServerUrl(options.server, options.allowInsecureHttp ? { allowInsecureHttp: true } : {});
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const platformFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const transport: Transport = {
    fetch:
      options.caCert !== undefined
        ? fetchWithCa(options.caCert, platformFetch, maxResponseBytes)
        : platformFetch,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes,
  };
  const call = async <T>(path: string, code: string, json: unknown, schema: z.ZodType<T>): Promise<T> => {
    const where = `POST ${path}`;
    const res = await exchange(transport, {
      method: 'POST',
      url: endpoint(base, path),
      authorization: enrollAuth(code),
      json,
    });
    const parsed = schema.safeParse(jsonBody(res, where));
    if (!parsed.success)
      fail('SERVER_RESPONSE_INVALID', `${where}: the answer does not have the expected shape`, {
        issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      });
    return parsed.data;
  };
  return {
    async startActivation(code, r) {
      const body = await call(
        '/api/v1/tpm/activations',
        code,
        {
          ekCertificate: toB64(r.ekCertificate),
          ...(r.ekChain && r.ekChain.length > 0 ? { ekChain: r.ekChain.map(toB64) } : {}),
          akPublic: toB64(r.akPublic),
          ...(r.ekPublic ? { ekPublic: toB64(r.ekPublic) } : {}),
        },
        startSchema,
      );
      return {
        id: body.id,
        credentialBlob: fromB64(body.credentialBlob, 'credentialBlob'),
        encryptedSecret: fromB64(body.encryptedSecret, 'encryptedSecret'),
        expiresAt: body.expiresAt,
      };
    },
    async completeActivation(code, id, secret) {
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(id))
        fail('SERVER_RESPONSE_INVALID', 'the activation id is not a plain identifier');
      const body = await call(
        `/api/v1/tpm/activations/${id}/complete`,
        code,
        { secret: toB64(secret) },
        completeSchema,
      );
      return { akId: body.akId, akName: fromB64(body.akName, 'akName') };
    },
  };
}

/** What `activateTpm` needs. */
export interface ActivateTpmOptions {
  readonly tpmClient: TpmProvisioningClient;
  readonly token: TpmAttester;
  readonly code: string;
  /** DER certificates between the EK certificate and the manufacturer root, if the TPM lacks them. */
  readonly ekChain?: readonly Uint8Array[];
  readonly onProgress?: (message: string) => void;
}

/**
 * Credential activation: EK certificate + AK public area in, the TPM's recovered secret back.
 * The AK is made (and kept in the TPM state directory) on first use.
 *
 * @example
 * const { akId } = await activateTpm({ tpmClient, token: tpm, code });
 */
export async function activateTpm(o: ActivateTpmOptions): Promise<TpmActivated> {
  const progress = o.onProgress ?? (() => undefined);
  const { ekCertificate, ekPublic } = await o.token.endorsement();
  const { akPublic } = await o.token.attestationKey();
  const challenge = await o.tpmClient.startActivation(o.code, {
    ekCertificate,
    ekPublic,
    akPublic,
    ...(o.ekChain ? { ekChain: o.ekChain } : {}),
  });
  progress(`got a credential for the TPM's attestation key (activation ${challenge.id})`);
  const secret = await o.token.activateCredential(challenge.credentialBlob, challenge.encryptedSecret);
  const done = await o.tpmClient.completeActivation(o.code, challenge.id, secret);
  progress(`the service bound the attestation key ${done.akId} to this enrollment code`);
  return done;
}

/** `enrollKey` options for a TPM, plus the activation client. */
export interface EnrollTpmKeyOptions extends Omit<EnrollKeyOptions, 'token'> {
  readonly token: TpmAttester;
  readonly tpmClient: TpmProvisioningClient;
  readonly ekChain?: readonly Uint8Array[];
  /** Skip credential activation (only to show the service refusing an unbound AK). */
  readonly skipActivation?: boolean;
}

/**
 * Activate the AK, then run the ordinary challenge / CSR enrollment with the TPM key.
 *
 * @example
 * const r = await enrollTpmKey({ client, tpmClient, token: tpm, code, label: 'signing' });
 */
export async function enrollTpmKey(o: EnrollTpmKeyOptions): Promise<EnrolledKey & { akId: string | null }> {
  let akId: string | null = null;
  if (!o.skipActivation) {
    akId = (
      await activateTpm({
        tpmClient: o.tpmClient,
        token: o.token,
        code: o.code,
        ...(o.ekChain ? { ekChain: o.ekChain } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      })
    ).akId;
  }
  const { tpmClient: _c, ekChain: _e, skipActivation: _s, ...rest } = o;
  const result = await enrollKey({ ...rest, pinPolicy: o.pinPolicy ?? 'never' });
  return { ...result, akId };
}

function toB64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}

/** Standard or URL-safe base64 (padding optional), strictly: re-encoding must give it back. */
function fromB64(text: string, what: string): Uint8Array {
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Buffer.from(std, 'base64');
  if (
    !/^[A-Za-z0-9+/]*={0,2}$/.test(std) ||
    bytes.toString('base64').replace(/=+$/, '') !== std.replace(/=+$/, '')
  )
    fail('SERVER_RESPONSE_INVALID', `the ${what} is not base64`);
  return new Uint8Array(bytes);
}

function enrollAuth(code: string): string {
  const trimmed = code.trim();
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(trimmed))
    fail('USAGE', 'the enrollment code must be the base64url text the institution gave you (check the copy)');
  return `Enroll ${trimmed}`;
}
