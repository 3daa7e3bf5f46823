/**
 * A maker directory holds one CA of the manufacturer hierarchy:
 *
 * - `cert.pem`   the CA certificate;
 * - `chain.pem`  that certificate, then its issuers up to the root (children bundle it);
 * - `key.pem`    the private key, PKCS#8, encrypted with a passphrase (see key-file.ts);
 * - `maker.json` what it is: `{ format, version, kind: root | ca | batch, name, maker, alg,
 *                spkiSha256, parentSpkiSha256, batchId?, created }`.
 *
 * Opening a directory checks that the files agree (same key everywhere, the chain links by
 * name and signature up to a self-signed root), so a half-written or mixed-up directory is
 * refused with MAKER_DIR_INVALID before anything is signed with it.
 *
 * @example
 * const ca = await openMaker('makers/gemalto-smartcards', files);
 * ca.record.kind            // 'ca'
 * ca.certificate.spkiSha256 // what an allow list names
 */
import { join } from 'node:path';
import { z } from 'zod';
import { bytesEqual } from '../core/bytes.js';
import { fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { decodePem, encodePem } from '../core/pem.js';
import { type Certificate, parseCertificate } from '../pki/certificate.js';
import { verifySignature } from '../pki/signature.js';
import type { FileAccess } from '../token/software/file-access.js';
import { isEncryptedMakerKey } from './key-file.js';

/** Which CA of the hierarchy a directory holds. */
export type MakerKind = 'root' | 'ca' | 'batch';
/** Algorithms of maker keys (chosen per command with --alg). */
export type MakerAlgorithm = 'p256' | 'p384' | 'rsa3072' | 'ed25519';
/** Every MakerAlgorithm, for option parsing. */
export const MAKER_ALGORITHMS: readonly MakerAlgorithm[] = ['p256', 'p384', 'rsa3072', 'ed25519'];

/** The `format` field of maker.json. */
export const MAKER_RECORD_FORMAT = 'provenance-maker';
/** Files of a maker directory. */
export const MAKER_FILES = {
  certificate: 'cert.pem',
  chain: 'chain.pem',
  key: 'key.pem',
  record: 'maker.json',
};
/** A chain from a CA to the root has at most this many certificates. */
export const MAX_MAKER_CHAIN = 8;
const MAX_FILE_BYTES = 256 * 1024;

const recordSchema = z.strictObject({
  format: z.literal(MAKER_RECORD_FORMAT),
  version: z.literal(1),
  kind: z.enum(['root', 'ca', 'batch']),
  name: z.string().min(1).max(128),
  maker: z.string().min(1).max(128),
  alg: z.enum(MAKER_ALGORITHMS as [MakerAlgorithm, ...MakerAlgorithm[]]),
  spkiSha256: z.string().regex(/^[0-9a-f]{64}$/),
  parentSpkiSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  batchId: z.string().min(1).max(64).optional(),
  created: z.iso.datetime(),
});

/** `maker.json`. */
export type MakerRecord = z.infer<typeof recordSchema>;

/** A maker directory, opened and checked (public parts only: the key stays on disk). */
export interface MakerCa {
  readonly dir: string;
  readonly record: MakerRecord;
  readonly certificate: Certificate;
  /** The CA certificate first, then its issuers up to the root. */
  readonly chain: readonly Certificate[];
  /** True when key.pem is encrypted (a passphrase is needed to sign). */
  readonly keyEncrypted: boolean;
}

function invalid(dir: string, message: string, cause?: unknown): never {
  throw new ProvenanceError(
    'MAKER_DIR_INVALID',
    `${dir}: ${message}`,
    { dir },
    cause === undefined ? {} : { cause },
  );
}

async function readText(files: FileAccess, dir: string, name: string): Promise<string> {
  const bytes = await files.readFile(join(dir, name), MAX_FILE_BYTES);
  if (bytes === null) return invalid(dir, `${name} is missing: not a maker directory`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    return invalid(dir, `${name} is not UTF-8 text`, err);
  }
}

function readCertificates(dir: string, name: string, text: string): Certificate[] {
  try {
    const blocks = decodePem(text, MAX_MAKER_CHAIN);
    if (blocks.length === 0 || blocks.some((b) => b.label !== 'CERTIFICATE'))
      invalid(dir, `${name} must hold PEM certificates only`);
    return blocks.map((b) => parseCertificate(b.der));
  } catch (err) {
    if (isProvenanceError(err, 'MAKER_DIR_INVALID')) throw err;
    return invalid(dir, `${name} does not parse: ${(err as Error).message}`, err);
  }
}

/**
 * Open a maker directory and check it. Throws MAKER_DIR_INVALID when a file is missing,
 * malformed, or disagrees with the others.
 *
 * @example
 * const root = await openMaker('makers/gemalto', files);
 */
export async function openMaker(dir: string, files: FileAccess): Promise<MakerCa> {
  let json: unknown;
  const recordText = await readText(files, dir, MAKER_FILES.record);
  try {
    json = JSON.parse(recordText);
  } catch (err) {
    invalid(dir, `${MAKER_FILES.record} is not JSON`, err);
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    invalid(dir, `${MAKER_FILES.record}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message}`);
  }
  const record = parsed.data;
  const [certificate, ...extra] = readCertificates(
    dir,
    MAKER_FILES.certificate,
    await readText(files, dir, MAKER_FILES.certificate),
  );
  if (!certificate || extra.length > 0)
    invalid(dir, `${MAKER_FILES.certificate} must hold exactly one certificate`);
  const chain = readCertificates(dir, MAKER_FILES.chain, await readText(files, dir, MAKER_FILES.chain));
  const keyEncrypted = isEncryptedMakerKey(
    await readText(files, dir, MAKER_FILES.key),
    join(dir, MAKER_FILES.key),
  );

  if (certificate.fingerprintSha256 !== chain[0]!.fingerprintSha256)
    invalid(dir, `${MAKER_FILES.chain} does not start with ${MAKER_FILES.certificate}`);
  if (record.spkiSha256 !== certificate.spkiSha256)
    invalid(dir, `${MAKER_FILES.record} names a different key than ${MAKER_FILES.certificate}`);
  checkChain(dir, chain);
  const parentSpki = chain[1]?.spkiSha256 ?? null;
  if (record.kind === 'root' ? chain.length !== 1 : chain.length < 2)
    invalid(
      dir,
      `a ${record.kind} has ${chain.length === 1 ? 'no issuer' : 'issuers'} in ${MAKER_FILES.chain}`,
    );
  if (record.parentSpkiSha256 !== parentSpki)
    invalid(dir, `${MAKER_FILES.record} names a different parent than ${MAKER_FILES.chain}`);
  if (record.kind === 'batch' && record.batchId === undefined) invalid(dir, 'a batch has no batchId');
  if (!certificate.basicConstraints?.ca || !certificate.allowsKeyUsage('keyCertSign'))
    invalid(dir, 'the certificate is not a CA that may sign certificates');
  return { dir, record, certificate, chain, keyEncrypted };
}

/**
 * Each certificate is issued by the next one (names match and the signature verifies), and
 * the last is a self-signed root. This is consistency, not trust: a verifier validates the path.
 */
function checkChain(dir: string, chain: readonly Certificate[]): void {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1] ?? cert;
    if (!bytesEqual(cert.issuer.der, issuer.subject.der))
      invalid(
        dir,
        `${MAKER_FILES.chain}: certificate ${i} is not issued by certificate ${i + 1 === chain.length ? i : i + 1}`,
      );
    let ok: boolean;
    try {
      ok = verifySignature(cert.signatureAlgorithm, cert.tbs, cert.signature, issuer.spki);
    } catch (err) {
      invalid(dir, `${MAKER_FILES.chain}: certificate ${i} has an unusable signature`, err);
    }
    if (!ok) invalid(dir, `${MAKER_FILES.chain}: the signature on certificate ${i} does not verify`);
  }
}

/** What a new maker directory gets. */
export interface MakerFiles {
  readonly record: MakerRecord;
  /** [the new certificate, ...issuers up to the root] (DER). */
  readonly chain: readonly Uint8Array[];
  /** PEM of the private key (encrypted unless the operator chose otherwise). */
  readonly keyPem: string;
}

/**
 * Write a maker directory: key first (0600), then the certificates, then maker.json, which
 * `openMaker` needs, so an interrupted write leaves no directory that opens.
 * Refuses to replace an existing key unless `force` (USAGE).
 */
export async function writeMakerDirectory(
  dir: string,
  content: MakerFiles,
  files: FileAccess,
  force: boolean,
): Promise<void> {
  const keyPath = join(dir, MAKER_FILES.key);
  if (!force && (await files.exists(keyPath)))
    fail('USAGE', `${keyPath} exists: refusing to overwrite a CA key (use --force to replace it)`, {
      path: keyPath,
    });
  await files.mkdir(dir);
  await files.writeFileAtomic(keyPath, content.keyPem, { mode: 0o600 });
  await files.writeFileAtomic(
    join(dir, MAKER_FILES.certificate),
    encodePem('CERTIFICATE', content.chain[0]!),
  );
  await files.writeFileAtomic(
    join(dir, MAKER_FILES.chain),
    content.chain.map((c) => encodePem('CERTIFICATE', c)).join(''),
  );
  await files.writeFileAtomic(join(dir, MAKER_FILES.record), `${JSON.stringify(content.record, null, 2)}\n`);
}

/** Read the key PEM text of a maker directory (for unlocking). */
export async function readMakerKeyPem(ca: MakerCa, files: FileAccess): Promise<string> {
  return readText(files, ca.dir, MAKER_FILES.key);
}
