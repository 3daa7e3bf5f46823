/**
 * The enrollment flow on the customer's side: make the key on the token (when the label is
 * new), fetch a challenge, have the token sign a CSR carrying its attestation bound to the
 * challenge nonce, submit it, and check what came back before anyone writes it to disk.
 *
 * The CSR's subject is a placeholder: the service takes the certificate's subject from the
 * enrollment code and its profile, never from the CSR (see the design, "Issued certificates").
 *
 * @example
 * const result = await enrollKey({ client, token, code, label: 'signing' });
 * writeFileSync('signing.pem', result.certificatePem);
 */
import { bytesEqual } from '../core/bytes.js';
import type { Clock } from '../core/clock.js';
import { fail, ProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { decodePem, encodePem } from '../core/pem.js';
import { type Certificate, decodeExtension, parseCertificate } from '../pki/certificate.js';
import { parseCertificatePolicies } from '../pki/policy-tree.js';
import { verifySignature } from '../pki/signature.js';
import type { Attester, KeyAlgorithm, KeyInfo, PinPolicy, TouchPolicy } from '../token/attester.js';
import type { Verdict } from '../verify/verifier.js';
import type { ProvisioningClient } from './api.js';

/** The subject the CSR carries: ignored by the service, which uses the enrollment code's. */
export const PLACEHOLDER_SUBJECT = 'CN=set by the service from the enrollment code';

/** Algorithm of a key the flow creates when none is asked for. */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'p256';

/** The label used when none is given: `enrollment-YYYY-MM-DD` (UTC). */
export function defaultLabel(clock: Clock): string {
  return `enrollment-${new Date(clock()).toISOString().slice(0, 10)}`;
}

/** What `enrollKey` needs. */
export interface EnrollKeyOptions {
  readonly client: ProvisioningClient;
  readonly token: Attester;
  /** The enrollment code from the institution. */
  readonly code: string;
  /** The key to certify; made on the token when no key has this label. */
  readonly label: string;
  /** Algorithm for a new key (default p256). For an existing key it must match, else USAGE. */
  readonly algorithm?: KeyAlgorithm;
  /** PIN policy for a new key (default once). */
  readonly pinPolicy?: PinPolicy;
  /** Touch policy for a new key (default never). */
  readonly touchPolicy?: TouchPolicy;
  /** Progress messages (one short line each), e.g. for a CLI. */
  readonly onProgress?: (message: string) => void;
}

/** A certificate received, checked against the key and the chain. */
export interface EnrolledKey {
  readonly key: KeyInfo;
  /** True when the flow made the key. */
  readonly keyCreated: boolean;
  readonly enrollmentId: string;
  readonly certificate: Certificate;
  readonly certificatePem: string;
  /** Issuing CA first, as PEM text (one block each). */
  readonly chainPem: readonly string[];
  readonly verdict: Verdict;
  /** The assurance level named by the certificate's policy OID (`arc.3.N`), or null. */
  readonly level: number | null;
}

/**
 * Run one enrollment. Server rejections throw the server's ProvenanceError (verdict in
 * `details.verdict`); an answer that does not certify this key under the returned chain throws
 * SERVER_RESPONSE_INVALID, so nothing wrong is ever saved.
 *
 * @example
 * try { await enrollKey({ client, token, code, label: 'signing' }); }
 * catch (err) { if (isProvenanceError(err, 'POLICY_NO_MATCH')) console.error(enrollmentHint(err)); }
 */
export async function enrollKey(options: EnrollKeyOptions): Promise<EnrolledKey> {
  const { client, token, code, label } = options;
  const progress = options.onProgress ?? (() => undefined);
  const existing = (await token.listKeys()).find((k) => k.label === label);
  if (existing && options.algorithm !== undefined && options.algorithm !== existing.algorithm)
    fail(
      'USAGE',
      `the token's key "${label}" is ${existing.algorithm}, not ${options.algorithm}: choose another --label for a new key`,
      { label },
    );
  // The challenge first: it proves the code is good before anything is made on the token.
  const challenge = await client.challenge(code);
  progress(`got challenge ${challenge.id} (expires ${challenge.expiresAt})`);
  let key: KeyInfo;
  if (existing) {
    key = existing;
    progress(`using the existing ${key.algorithm} key "${label}"`);
  } else {
    key = await token.generateKey({
      label,
      algorithm: options.algorithm ?? DEFAULT_KEY_ALGORITHM,
      pinPolicy: options.pinPolicy ?? 'once',
      touchPolicy: options.touchPolicy ?? 'never',
    });
    progress(`made a new ${key.algorithm} key "${label}" on the token`);
  }
  const csr = await token.signCsr({ label, subject: PLACEHOLDER_SUBJECT, nonce: challenge.nonce });
  progress('the token signed the request with its attestation bound to the challenge');
  const result = await client.enroll(code, challenge.id, encodePem('CERTIFICATE REQUEST', csr));

  const certificate = singleCertificate(result.certificate, 'certificate');
  const chain = result.chain.map((pem, i) => singleCertificate(pem, `chain[${i}]`));
  checkIssued(certificate, chain, key);
  return {
    key,
    keyCreated: existing === undefined,
    enrollmentId: result.enrollmentId,
    certificate,
    certificatePem: encodePem('CERTIFICATE', certificate.der),
    chainPem: chain.map((c) => encodePem('CERTIFICATE', c.der)),
    verdict: result.verdict,
    level: assuranceLevel(certificate),
  };
}

/** The level N of the first certificate policy `${PROVENANCE_ARC}.3.N`, or null. */
export function assuranceLevel(certificate: Certificate): number | null {
  const ext = certificate.extensions.find((e) => e.oid === OID.certificatePolicies);
  if (!ext) return null;
  const prefix = `${OID.provenanceAssuranceArc}.`;
  for (const oid of decodeExtension(ext, parseCertificatePolicies)) {
    if (!oid.startsWith(prefix)) continue;
    const n = oid.slice(prefix.length);
    if (/^\d{1,6}$/.test(n)) return Number(n);
  }
  return null;
}

function singleCertificate(pem: string, what: string): Certificate {
  let blocks: ReturnType<typeof decodePem>;
  try {
    blocks = decodePem(pem);
  } catch (err) {
    throw new ProvenanceError('SERVER_RESPONSE_INVALID', `the ${what} is not valid PEM`, {}, { cause: err });
  }
  if (blocks.length !== 1 || blocks[0]!.label !== 'CERTIFICATE')
    fail('SERVER_RESPONSE_INVALID', `the ${what} must be exactly one PEM CERTIFICATE block`);
  try {
    return parseCertificate(blocks[0]!.der);
  } catch (err) {
    throw new ProvenanceError(
      'SERVER_RESPONSE_INVALID',
      `the ${what} does not parse: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

/**
 * The answer must certify *our* key (the SPKI we asked for) and be signed by the issuing CA it
 * came with; otherwise a confused or hostile server could hand us someone else's certificate.
 */
function checkIssued(certificate: Certificate, chain: readonly Certificate[], key: KeyInfo): void {
  if (!bytesEqual(certificate.spki, key.spki))
    fail('SERVER_RESPONSE_INVALID', 'the service returned a certificate for a different key', {
      expected: Buffer.from(key.spki).toString('base64'),
    });
  const issuer = chain[0];
  if (!issuer) {
    fail('SERVER_RESPONSE_INVALID', 'the service returned no CA chain');
  }
  let ok = false;
  try {
    ok = verifySignature(certificate.signatureAlgorithm, certificate.tbs, certificate.signature, issuer.spki);
  } catch (err) {
    throw new ProvenanceError(
      'SERVER_RESPONSE_INVALID',
      `the certificate's signature cannot be checked: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  if (!ok || !bytesEqual(certificate.issuer.der, issuer.subject.der))
    fail('SERVER_RESPONSE_INVALID', 'the certificate is not issued by the first certificate of the chain');
}
