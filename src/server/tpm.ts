/**
 * TPM credential activation, the service side (issue #5; standards.md §2.6; TPM 2.0 Part 1
 * §24). Two steps, both authenticated by the enrollment code:
 *
 * 1. `startActivation`: validate the EK certificate chain to the anchors the live policy scopes
 *    to format 'tpm' (validatePath, default profile), check that the EK public used is the
 *    certificate's key, check the AK's TPMT_PUBLIC attributes and compute its Name here, make
 *    a 32-byte secret and wrap it with MakeCredential for (EK, AK Name). Only the SHA-256 of the
 *    secret is stored, with an expiry and a wrong-try counter.
 * 2. `completeActivation`: the client returns the secret TPM2_ActivateCredential released;
 *    compare in constant time, consume the activation in one atomic statement (single use),
 *    record the binding (AK Name and public area, EK certificate and chain, EK SPKI SHA-256)
 *    and audit it. After `maxAttempts` wrong secrets the activation is dead.
 *
 * `boundKeysForCode` then hands the bindings made under a code to the verifier
 * (`expectations.boundKeys`), which matches a TPM2_Certify statement's signer against them.
 *
 * @example
 * const started = await startActivation(ctx, code, { ekCertificate, akPublic });
 * const { akId } = await completeActivation(ctx, code, started.id, { secret });
 */
import { createHash, createPublicKey, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { toHex } from '../core/bytes.js';
import type { Clock } from '../core/clock.js';
import { fail } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { checkEkCertificate } from '../formats/tpm/certificates.js';
import {
  defaultProtectorForKey,
  type EkProtector,
  makeCredential,
  protectorFromPublicArea,
  readTpmPublicArea,
  tpmObjectName,
} from '../formats/tpm/credential.js';
import { TPM_ALG, type TpmtPublic } from '../formats/tpm/structures.js';
import type { EvidenceInput } from '../formats/types.js';
import { anchorsForFormat } from '../pki/anchor.js';
import { type Certificate, parseCertificate } from '../pki/certificate.js';
import { checkKey } from '../pki/keys.js';
import { validatePath } from '../pki/path.js';
import type { EnrollmentCodeRecord, Store } from '../store/types.js';
import type { PolicyHolder } from './policy-holder.js';

/** The evidence format whose anchors vouch for EK certificates. */
export const TPM_FORMAT = 'tpm';
/** Bytes of the credential secret (go-attestation uses 32; ≤ the EK's digest size). */
export const ACTIVATION_SECRET_BYTES = 32;
/** Most chain certificates a client may send with its EK certificate. */
export const MAX_EK_CHAIN = 8;
/**
 * Most AKs one enrollment code may bind: the verifier tries each bound key's signature
 * (the TPM format accepts at most 8 per verification).
 */
export const MAX_BINDINGS_PER_CODE = 8;

/** Tunables of the activation protocol. */
export interface TpmActivationSettings {
  /** How long a wrapped secret may be answered (default 300 s). */
  readonly ttlSeconds: number;
  /** Wrong secrets before an activation is dead (default 3). */
  readonly maxAttempts: number;
  /** Open (unanswered, unexpired) activations one code may hold (default 10). */
  readonly maxOpenPerCode: number;
}

/** The defaults of `TpmActivationSettings`. */
export const TPM_ACTIVATION_DEFAULTS: TpmActivationSettings = {
  ttlSeconds: 300,
  maxAttempts: 3,
  maxOpenPerCode: 10,
};

/** What the protocol needs. */
export interface TpmActivationContext {
  readonly store: Store;
  readonly policies: PolicyHolder;
  readonly clock: Clock;
  readonly settings?: Partial<TpmActivationSettings>;
  /** Randomness for the secret (tests inject it); default crypto.randomBytes. */
  readonly random?: (n: number) => Uint8Array;
}

/** Body of POST /api/v1/tpm/activations, decoded. */
export interface ActivationRequest {
  /** EK certificate, DER. */
  readonly ekCertificate: Uint8Array;
  /** Chain certificates (intermediates), DER, any order. */
  readonly ekChain?: readonly Uint8Array[];
  /** AK TPMT_PUBLIC or TPM2B_PUBLIC. */
  readonly akPublic: Uint8Array;
  /** Optional EK TPMT_PUBLIC / TPM2B_PUBLIC: its template parameters then replace the defaults. */
  readonly ekPublic?: Uint8Array;
}

/** Answer of `startActivation`. */
export interface StartedActivation {
  readonly id: string;
  /** TPM2B_ID_OBJECT. */
  readonly credentialBlob: Uint8Array;
  /** TPM2B_ENCRYPTED_SECRET. */
  readonly encryptedSecret: Uint8Array;
  /** The AK Name the service computed (what TPM2_ActivateCredential will check). */
  readonly akName: Uint8Array;
  readonly expiresAt: number;
}

/** Answer of `completeActivation`. */
export interface CompletedActivation {
  readonly akId: string;
  readonly akName: Uint8Array;
  readonly boundAt: number;
}

/**
 * A binding as the verifier takes it (the shape of `BoundKey` in formats/types.ts):
 * the AK public area and Name, the EK certificate first, the instant it was bound.
 */
export interface TpmBoundKey {
  readonly id: string;
  readonly via: 'credential-activation';
  readonly name: Uint8Array;
  readonly publicArea: Uint8Array;
  readonly certificates: readonly Certificate[];
  readonly boundAt: string;
}

function settingsOf(ctx: TpmActivationContext): TpmActivationSettings {
  return { ...TPM_ACTIVATION_DEFAULTS, ...ctx.settings };
}

/**
 * AK attribute policy (standards.md §2.6, §2.10): restricted, sign, fixedTPM, fixedParent,
 * sensitiveDataOrigin set; decrypt clear. TPM_AK_NOT_RESTRICTED naming what is wrong.
 */
export function checkAkPublicArea(area: TpmtPublic): void {
  // The AK's Name is what activation binds: a SHA-1 Name is only as strong as SHA-1.
  if (area.nameAlg === TPM_ALG.SHA1)
    fail('ALGORITHM_NOT_ALLOWED', 'the AK has a SHA-1 Name (nameAlg): create it with -g sha256');
  const a = area.objectAttributes;
  const missing = (['restricted', 'sign', 'fixedTPM', 'fixedParent', 'sensitiveDataOrigin'] as const).filter(
    (bit) => !a[bit],
  );
  const forbidden = a.decrypt ? ['decrypt'] : [];
  if (missing.length > 0 || forbidden.length > 0)
    fail(
      'TPM_AK_NOT_RESTRICTED',
      `the AK is not a restricted signing key resident in the TPM (${[
        ...missing.map((m) => `${m} missing`),
        ...forbidden.map((f) => `${f} set`),
      ].join(', ')})`,
      { missing, forbidden, objectAttributes: a.raw },
    );
  // Key strength by the service's key policy (RSA ≥ 2048, NIST curves), on the key it carries.
  checkKey(area.spki);
}

/**
 * Step 1: validate the EK certificate chain and the AK, wrap a fresh secret for (EK, AK Name),
 * store its hash. Fails closed: no policy or no 'tpm' anchor is TRUST_NO_ANCHORS.
 */
export async function startActivation(
  ctx: TpmActivationContext,
  code: EnrollmentCodeRecord,
  request: ActivationRequest,
): Promise<StartedActivation> {
  const tpm = ctx.store.tpm;
  if (tpm === undefined) return fail('STORE_UNAVAILABLE', 'this store does not support TPM activations');
  const now = ctx.clock();
  const live = ctx.policies.get();
  if (live === null)
    fail('TRUST_NO_ANCHORS', 'the service has no policy loaded: no EK can be trusted (failing closed)');
  if ((request.ekChain?.length ?? 0) > MAX_EK_CHAIN)
    fail('INPUT_TOO_LARGE', `at most ${MAX_EK_CHAIN} EK chain certificates are accepted`);

  const settings = settingsOf(ctx);
  // Bounded rows per code: a client cannot pile up pending activations (each holds a secret hash).
  if ((await tpm.countOpenActivations(code.id, now, settings.maxAttempts)) >= settings.maxOpenPerCode)
    fail(
      'CHALLENGE_LIMIT',
      `this enrollment code already has ${settings.maxOpenPerCode} open TPM activations`,
      {
        limit: settings.maxOpenPerCode,
      },
    );
  if ((await tpm.bindingsForCode(code.id)).length >= MAX_BINDINGS_PER_CODE)
    fail(
      'CHALLENGE_LIMIT',
      `this enrollment code has already bound ${MAX_BINDINGS_PER_CODE} attestation keys`,
      {
        limit: MAX_BINDINGS_PER_CODE,
      },
    );

  const ekCert = parseCertificate(request.ekCertificate);
  const chain = (request.ekChain ?? []).map((der) => parseCertificate(der));
  // TCG EK Credential Profile (standards.md §2.4): end entity, TPM SAN directoryName (critical
  // when the subject is empty), keyEncipherment/keyAgreement, EKU when present. TPM_CERT_PROFILE.
  checkEkCertificate(ekCert);
  // standards.md §2.10: the EK is trusted only through its certificate chain, to anchors the
  // operator scoped to 'tpm' (a YubiKey or Android root never vouches for an EK).
  const path = validatePath(ekCert, {
    anchors: anchorsForFormat(live.policy.anchors, TPM_FORMAT),
    intermediates: chain,
    time: now,
    profile: 'default',
    // The critical TPM SAN was checked just above (RFC 5280 §4.2: criticality is understood).
    understoodCriticalExtensions: [OID.subjectAltName],
  });

  // The EK public key is the certificate's; a presented EK public area must carry that key.
  const certKey = createPublicKey({ key: Buffer.from(ekCert.spki), format: 'der', type: 'spki' });
  let protector: EkProtector;
  if (request.ekPublic !== undefined) {
    const ekArea = readTpmPublicArea(request.ekPublic);
    if (!Buffer.from(ekCert.spki).equals(ekArea.spki))
      fail('KEY_MISMATCH', 'the EK public area does not carry the EK certificate key', { reason: 'ek-key' });
    protector = protectorFromPublicArea(ekArea);
  } else {
    // Default EK templates of the TCG EK Credential Profile (standards.md §2.4).
    protector = defaultProtectorForKey(certKey);
  }

  const ak = readTpmPublicArea(request.akPublic);
  checkAkPublicArea(ak);
  // The Name is computed here, never taken from the client (standards.md §2.6).
  const akName = tpmObjectName(ak);

  const secret = (ctx.random ?? ((n: number) => randomBytes(n)))(ACTIVATION_SECRET_BYTES);
  const credential = makeCredential({ ek: protector, akName, secret });
  const id = randomUUID();
  const expiresAt = now + settings.ttlSeconds * 1000;
  await tpm.createActivation({
    id,
    codeId: code.id,
    secretHash: sha256(secret),
    akName,
    akPublic: ak.bytes,
    // EK certificate first, then the chain certificates the validated path used (not the anchor's).
    ekCertificates: [
      ekCert.der,
      ...path.certificates
        .slice(1)
        .filter((c) => c.spkiSha256 !== path.anchor.spkiSha256)
        .map((c) => c.der),
    ],
    ekSpkiSha256: ekCert.spkiSha256,
    createdAt: now,
    expiresAt,
    failedAttempts: 0,
    consumedAt: null,
  });
  secret.fill(0);
  return { id, ...credential, akName, expiresAt };
}

/**
 * Step 2: check the released secret (constant time), consume the activation atomically,
 * record and audit the binding. CHALLENGE_INVALID when unknown, another code's, used, expired
 * or dead; ATTESTATION_INVALID (reason 'activation-secret') for a wrong secret.
 */
export async function completeActivation(
  ctx: TpmActivationContext,
  code: EnrollmentCodeRecord,
  id: string,
  body: { readonly secret: Uint8Array },
): Promise<CompletedActivation> {
  const tpm = ctx.store.tpm;
  if (tpm === undefined) return fail('STORE_UNAVAILABLE', 'this store does not support TPM activations');
  const settings = settingsOf(ctx);
  const now = ctx.clock();
  const gone = (): never =>
    fail(
      'CHALLENGE_INVALID',
      'the TPM activation is unknown, used, expired, out of tries or belongs to another code: start a new one',
      { reason: 'activation' },
    );
  const activation = await tpm.getActivation(id);
  if (
    activation === null ||
    activation.codeId !== code.id ||
    activation.consumedAt !== null ||
    activation.expiresAt <= now ||
    activation.failedAttempts >= settings.maxAttempts
  )
    return gone();

  const presented = sha256(body.secret);
  if (!timingSafeEqual(presented, activation.secretHash)) {
    const attempts = await tpm.failActivation(id, code.id, now, settings.maxAttempts);
    if (attempts === null) return gone();
    const left = settings.maxAttempts - attempts;
    return fail(
      'ATTESTATION_INVALID',
      left > 0
        ? `the secret does not match the credential: ${left} ${left === 1 ? 'try' : 'tries'} left`
        : 'the secret does not match the credential: no tries left, the activation is dead',
      { reason: 'activation-secret', triesLeft: left },
    );
  }

  const akId = randomUUID();
  const boundAt = ctx.clock();
  await ctx.store.transaction(async (tx) => {
    if (tx.tpm === undefined) fail('STORE_UNAVAILABLE', 'this store does not support TPM activations');
    // Single use: exactly one request consumes it, and only with the right secret (one statement).
    const consumed = await tx.tpm.consumeActivation(id, code.id, presented, boundAt, settings.maxAttempts);
    if (consumed === null) gone();
    // The per-code limit again, inside the transaction: open activations started before the
    // limit was reached must not push the code past it (the rollback keeps this one unused).
    if ((await tx.tpm.bindingsForCode(code.id)).length >= MAX_BINDINGS_PER_CODE)
      fail(
        'CHALLENGE_LIMIT',
        `this enrollment code has already bound ${MAX_BINDINGS_PER_CODE} attestation keys`,
        {
          limit: MAX_BINDINGS_PER_CODE,
        },
      );
    await tx.tpm.insertBinding({
      id: akId,
      codeId: code.id,
      activationId: id,
      akName: activation.akName,
      akPublic: activation.akPublic,
      ekCertificates: activation.ekCertificates,
      ekSpkiSha256: activation.ekSpkiSha256,
      boundAt,
    });
    await tx.audit.append({
      event: 'tpm.ak.bound',
      actor: `code:${code.id}`,
      subject: `tpm-ak:${akId}`,
      data: {
        customer: code.customer,
        activationId: id,
        akName: toHex(activation.akName),
        ekSpkiSha256: activation.ekSpkiSha256,
        ekCertificateSha256:
          activation.ekCertificates[0] === undefined ? null : toHex(sha256(activation.ekCertificates[0])),
      },
      at: boundAt,
    });
  });
  return { akId, akName: activation.akName, boundAt };
}

/**
 * The bindings made under `codeId`, as the verifier's `expectations.boundKeys`. The verifier
 * matches a TPM2_Certify statement's signer against each: TPMS_ATTEST names the signer by its
 * *qualified* name, so the lookup is by enrollment code and the verifier tries each AK.
 */
export async function boundKeysForCode(store: Store, codeId: string): Promise<TpmBoundKey[]> {
  if (store.tpm === undefined) return [];
  const bindings = (await store.tpm.bindingsForCode(codeId)).slice(-MAX_BINDINGS_PER_CODE);
  return bindings.map((b) => ({
    id: b.id,
    via: 'credential-activation' as const,
    name: b.akName,
    publicArea: b.akPublic,
    certificates: b.ekCertificates.map((der) => parseCertificate(der)),
    boundAt: new Date(b.boundAt).toISOString(),
  }));
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * The bound keys to hand the verifier for `evidence`: the code's bindings when the CSR carries
 * a tcg-attest-tpm-certify statement (TCG CSR profile, 2.23.133.20.1), else undefined, so other
 * formats never see them and enrollments without TPM evidence cost no query.
 */
export async function boundKeysForEvidence(
  store: Store,
  codeId: string,
  evidence: EvidenceInput,
): Promise<TpmBoundKey[] | undefined> {
  if (evidence.kind !== 'csr') return undefined;
  const statements = evidence.csr.attestation?.statements ?? [];
  if (!statements.some((st) => st.type === OID.tcgAttestTpmCertify)) return undefined;
  return boundKeysForCode(store, codeId);
}
