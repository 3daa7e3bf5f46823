/**
 * The issuing CA's directory (`DIR/ca` of the service's data directory):
 *
 * - `root.pem`      the root certificate (self-signed; ours, or the external root after `ca install`);
 * - `ca.pem`        the issuing CA certificate;
 * - `chain.pem`     the issuing CA certificate, then its issuers up to and including the root;
 * - `ca-key.pem`    the issuing key, PKCS#8, encrypted with PROVENANCE_CA_PASSPHRASE when one
 *                   is set, else unencrypted with mode 0600 (the service must start unattended);
 * - `root-key.pem`  the root key, likewise (self-signed mode only; nothing in the service
 *                   reads it, so an operator should move it offline);
 * - `ca.json`       what it is: `{ format, version, name, alg, root: self-signed | external,
 *                   spkiSha256, rootSpkiSha256, created, installed }`;
 * - `ca.csr`        with `ca init --csr` only: the request for the external root. Until
 *                   `ca install` only `ca-key.pem` and `ca.csr` exist.
 *
 * Opening checks that the files agree (one key, a chain that links by name and signature to a
 * self-signed root, the record naming the same keys), so a tampered, half-written or mixed-up
 * directory is refused with CA_INVALID before anything is signed with it. Writes put the keys
 * first and `ca.json` last: an interrupted `init` leaves a directory that does not open.
 *
 * @example
 * const ca = await initCa('data/ca', { name: 'Example Bank Issuing CA', alg: 'p256', passphrase, clock });
 * for (const w of ca.warnings) console.warn(w);
 * const again = await openCa('data/ca', { passphrase });
 */
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { bytesEqual, sha256Hex } from '../core/bytes.js';
import { type Clock, systemClock } from '../core/clock.js';
import { fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { decodePem, encodePem } from '../core/pem.js';
import { encryptMakerKey } from '../maker/key-file.js';
import { escapeDnValue } from '../maker/names.js';
import { anchorFromCertificate } from '../pki/anchor.js';
import {
  buildCertificate,
  deriveSubjectKeyId,
  encodeBasicConstraints,
  encodeKeyUsage,
} from '../pki/builder.js';
import { type Certificate, nameAttribute, parseCertificate } from '../pki/certificate.js';
import { buildCsr, parseCsr, verifyCsrSignature } from '../pki/csr.js';
import { describeKey, KeyCache } from '../pki/keys.js';
import { encodeName } from '../pki/name.js';
import { validatePath } from '../pki/path.js';
import { verifySignature } from '../pki/signature.js';
import { type FileAccess, nodeFileAccess } from '../token/software/file-access.js';
import { generateKeyPair } from '../token/software/key-algorithms.js';
import { FileKeyProvider, isEncryptedCaKey, readKeyPem } from './key-provider.js';
import type { IssuingCa } from './types.js';

/** Key algorithms of the issuing CA (and of its root). */
export type CaAlgorithm = 'p256' | 'p384' | 'rsa3072';
/** Every CaAlgorithm, for option parsing. */
export const CA_ALGORITHMS: readonly CaAlgorithm[] = ['p256', 'p384', 'rsa3072'];

/** File names inside a CA directory. */
export const CA_FILES = {
  root: 'root.pem',
  certificate: 'ca.pem',
  chain: 'chain.pem',
  key: 'ca-key.pem',
  rootKey: 'root-key.pem',
  record: 'ca.json',
  csr: 'ca.csr',
} as const;

/** Default validity in years: the root, and the issuing CA (clamped inside the root's). */
export const CA_VALIDITY_YEARS = { root: 20, issuing: 10 } as const;
/** The `format` of ca.json. */
export const CA_RECORD_FORMAT = 'provenance-ca';
/** A chain from the issuing CA to its root has at most this many certificates. */
export const MAX_CA_CHAIN = 8;
/** Issuing CA certificates that expire within this many days draw a warning when opened. */
export const CA_EXPIRY_WARNING_DAYS = 30;
const MAX_FILE_BYTES = 256 * 1024;

const recordSchema = z.strictObject({
  format: z.literal(CA_RECORD_FORMAT),
  version: z.literal(1),
  name: z.string().min(1).max(64),
  alg: z.enum(CA_ALGORITHMS as [CaAlgorithm, ...CaAlgorithm[]]),
  root: z.enum(['self-signed', 'external']),
  spkiSha256: z.string().regex(/^[0-9a-f]{64}$/),
  rootSpkiSha256: z.string().regex(/^[0-9a-f]{64}$/),
  created: z.iso.datetime(),
  installed: z.iso.datetime().nullable(),
});

/** `ca.json`. */
export type CaRecord = z.infer<typeof recordSchema>;

/** What a CA directory holds right now. */
export type CaState =
  /** Nothing of a CA: `initCa` may write here. */
  | 'absent'
  /** `ca init --csr` ran: the key and ca.csr wait for `ca install`. */
  | 'awaiting-certificate'
  /** ca.json is there: `openCa` checks the rest. */
  | 'ready'
  /** Some files but no ca.json and no request: an interrupted `init`. */
  | 'incomplete';

/** The public parts of a checked CA directory (the key stays on disk). */
export interface CaInfo {
  readonly dir: string;
  readonly record: CaRecord;
  /** The issuing CA certificate. */
  readonly certificate: Certificate;
  /** The issuing CA certificate first, then its issuers up to and including the root. */
  readonly chain: readonly Certificate[];
  readonly root: Certificate;
  /** True when ca-key.pem is encrypted (a passphrase is needed to sign). */
  readonly keyEncrypted: boolean;
}

/** An opened, unlocked issuing CA. */
export interface OpenedCa extends IssuingCa, CaInfo {
  readonly key: FileKeyProvider;
  readonly keyCache: KeyCache;
  /** Things the operator must hear about (an unencrypted key, an expiring certificate). */
  readonly warnings: readonly string[];
}

/** Options shared by the functions that write a CA. */
export interface NewCaOptions {
  /** The issuing CA's name (its CN); the root is "<name> Root". 1 to 59 characters. */
  readonly name: string;
  readonly alg?: CaAlgorithm;
  /** Passphrase for the key files, or null to write them unencrypted (mode 0600, with a warning). */
  readonly passphrase: string | null;
  readonly clock: Clock;
  readonly files?: FileAccess;
}

/**
 * Which state a directory is in (see CaState). Never throws for a missing directory.
 *
 * @example
 * if ((await caDirectoryState('data/ca')) === 'absent') await initCa('data/ca', options);
 */
export async function caDirectoryState(dir: string, files: FileAccess = nodeFileAccess()): Promise<CaState> {
  const has = async (name: string) => files.exists(join(dir, name));
  if (await has(CA_FILES.record)) return 'ready';
  if ((await has(CA_FILES.csr)) && (await has(CA_FILES.key))) return 'awaiting-certificate';
  for (const name of Object.values(CA_FILES)) if (await has(name)) return 'incomplete';
  return 'absent';
}

/**
 * Create a self-signed root and an issuing CA in `dir` (RFC 5280 §4.2.1.9, §4.2.1.3): the root
 * "<name> Root" (cA, pathLen 1: exactly one CA may follow it, keyCertSign + cRLSign, 20 years)
 * and the issuing CA "<name>" (cA, pathLen 0: it issues end-entity certificates only,
 * keyCertSign + cRLSign, `validityYears` (10) inside the root's). USAGE when `dir` already
 * holds a CA, or for a bad name, algorithm or passphrase.
 *
 * @example
 * const ca = await initCa('data/ca', { name: 'Example Bank Issuing CA', alg: 'p256',
 *   passphrase: process.env.PROVENANCE_CA_PASSPHRASE ?? null, clock: Date.now });
 */
export async function initCa(
  dir: string,
  options: NewCaOptions & { readonly validityYears?: number },
): Promise<OpenedCa> {
  const files = options.files ?? nodeFileAccess();
  const name = checkName(options.name);
  const alg = checkAlgorithm(options.alg);
  const issuingYears = checkYears(options.validityYears ?? CA_VALIDITY_YEARS.issuing);
  const rootYears = Math.max(CA_VALIDITY_YEARS.root, issuingYears);
  await refuseExisting(dir, files);

  const now = Math.floor(options.clock() / 1000) * 1000;
  const [rootKey, caKey] = await Promise.all([generateKeyPair(alg), generateKeyPair(alg)]);
  const rootSigner = FileKeyProvider.fromKeyObject(rootKey.privateKey, join(dir, CA_FILES.rootKey));
  const rootName = encodeName(`CN=${escapeDnValue(`${name} Root`)}`);
  const rootKeyId = deriveSubjectKeyId(rootKey.spki);
  const rootNotAfter = addYears(now, rootYears);
  const rootDer = buildCertificate({
    issuer: { name: rootName, signer: rootSigner },
    subject: rootName,
    spki: rootKey.spki,
    notBefore: now,
    notAfter: rootNotAfter,
    basicConstraints: { ca: true, pathLen: 1 },
    keyUsage: ['keyCertSign', 'cRLSign'],
    subjectKeyId: rootKeyId,
    authorityKeyId: false, // RFC 5280 §4.2.1.1: MAY be omitted in a self-signed certificate
  });
  const caDer = buildCertificate({
    issuer: { name: rootName, signer: rootSigner, subjectKeyId: rootKeyId },
    subject: encodeName(`CN=${escapeDnValue(name)}`),
    spki: caKey.spki,
    notBefore: now,
    notAfter: Math.min(addYears(now, issuingYears), rootNotAfter),
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
    subjectKeyId: 'derive',
  });

  const rootKeyPem = encryptKey(rootKey.privateKey, options.passphrase);
  const caKeyPem = encryptKey(caKey.privateKey, options.passphrase);
  const record: CaRecord = {
    format: CA_RECORD_FORMAT,
    version: 1,
    name,
    alg,
    root: 'self-signed',
    spkiSha256: parseCertificate(caDer).spkiSha256,
    rootSpkiSha256: parseCertificate(rootDer).spkiSha256,
    created: new Date(options.clock()).toISOString(),
    installed: null,
  };
  await files.mkdir(dir);
  await files.writeFileAtomic(join(dir, CA_FILES.rootKey), rootKeyPem, { mode: 0o600 });
  await files.writeFileAtomic(join(dir, CA_FILES.key), caKeyPem, { mode: 0o600 });
  await writeCertificates(dir, files, [caDer, rootDer], record);
  // Read back through the checks every later start applies; the key is the one just made.
  const info = await readCa(dir, { files });
  return unlocked(info, FileKeyProvider.fromKeyObject(caKey.privateKey, join(dir, CA_FILES.key)), options);
}

/**
 * `ca init --csr`: make the issuing key and a PKCS#10 request (`ca.csr`) for an external root
 * to sign: subject CN=<name>, requesting basicConstraints cA pathLen 0 and keyUsage
 * keyCertSign + cRLSign (both critical). Nothing else is written until `installCaCertificate`.
 *
 * @example
 * const { csrPem } = await initCaCsr('data/ca', { name: 'Example Bank Issuing CA', passphrase, clock });
 */
export async function initCaCsr(
  dir: string,
  options: NewCaOptions,
): Promise<{ readonly csrPem: string; readonly spkiSha256: string; readonly warnings: readonly string[] }> {
  const files = options.files ?? nodeFileAccess();
  const name = checkName(options.name);
  const alg = checkAlgorithm(options.alg);
  await refuseExisting(dir, files);
  const key = await generateKeyPair(alg);
  const csr = buildCsr({
    subject: encodeName(`CN=${escapeDnValue(name)}`),
    signer: FileKeyProvider.fromKeyObject(key.privateKey, join(dir, CA_FILES.key)),
    extensions: [
      { oid: OID.basicConstraints, critical: true, value: encodeBasicConstraints({ ca: true, pathLen: 0 }) },
      { oid: OID.keyUsage, critical: true, value: encodeKeyUsage(['keyCertSign', 'cRLSign']) },
    ],
  });
  const csrPem = encodePem('CERTIFICATE REQUEST', csr);
  await files.mkdir(dir);
  await files.writeFileAtomic(join(dir, CA_FILES.key), encryptKey(key.privateKey, options.passphrase), {
    mode: 0o600,
  });
  await files.writeFileAtomic(join(dir, CA_FILES.csr), csrPem);
  return {
    csrPem,
    spkiSha256: sha256Hex(key.spki),
    warnings: options.passphrase === null ? [unencryptedWarning(dir, [CA_FILES.key])] : [],
  };
}

/** Options of `installCaCertificate`. */
export interface InstallOptions {
  /** The validation time source. Default: the system clock. */
  readonly clock: Clock;
  readonly files?: FileAccess;
  /** When the key is encrypted and this is given, the key itself is also checked against the certificate. */
  readonly passphrase?: string | null;
}

/**
 * Install the certificate an external root issued for `ca.csr`. `certPem` holds the issuing
 * CA certificate (optionally followed by its chain); `chainPem` the intermediates and the
 * root. Checks, each CA_INVALID: the certificate's key is the request's (and the key file's),
 * it is a CA with keyCertSign and cRLSign and a subjectKeyIdentifier, and it validates
 * (RFC 5280 §6, `validatePath`) to a self-signed root given in the chain, now. Then writes
 * ca.pem, chain.pem, root.pem and ca.json.
 *
 * @example
 * await installCaCertificate('data/ca', readFileSync('issued.pem', 'utf8'), readFileSync('root.pem', 'utf8'), { clock });
 */
export async function installCaCertificate(
  dir: string,
  certPem: string,
  chainPem?: string,
  options: InstallOptions = { clock: systemClock },
): Promise<CaInfo> {
  const files = options.files ?? nodeFileAccess();
  const state = await caDirectoryState(dir, files);
  if (state !== 'awaiting-certificate')
    fail(
      'USAGE',
      state === 'ready'
        ? `${dir} already has its CA certificate`
        : `${dir} holds no certificate request: run \`provenance ca init ${dir} --csr\` first`,
      { dir, state },
    );
  const csr = parseCsr(
    decodeSingle(dir, CA_FILES.csr, await readText(files, dir, CA_FILES.csr), 'CERTIFICATE REQUEST'),
  );
  verifyCsrSignature(csr);

  const [certificate, ...bundled] = certificatesFrom(dir, 'the certificate file', certPem);
  if (!certificate) return invalid(dir, 'the certificate file holds no certificate');
  const extra = chainPem === undefined ? [] : certificatesFrom(dir, 'the chain file', chainPem);
  if (!bytesEqual(certificate.spki, csr.spki))
    invalid(dir, `the certificate is for another key than ${CA_FILES.csr}'s`);
  const keyPem = await readKeyPem(join(dir, CA_FILES.key), files);
  if (!isEncryptedCaKey(keyPem, join(dir, CA_FILES.key)) || typeof options.passphrase === 'string') {
    const key = FileKeyProvider.fromPem(keyPem, options.passphrase ?? null, join(dir, CA_FILES.key));
    if (!bytesEqual(key.spki, certificate.spki))
      invalid(dir, `the certificate is not for the key in ${CA_FILES.key}`);
  }
  checkIssuingCertificate(dir, certificate);
  if (selfSigned(certificate))
    invalid(dir, 'the certificate is self-signed: the issuing CA must be issued by a root');

  const pool = [...bundled, ...extra];
  const roots = pool.filter(selfSigned);
  if (roots.length === 0)
    invalid(dir, 'no root certificate was given: pass the root (and any intermediates) as the chain');
  let path: Certificate[];
  try {
    path = validatePath(certificate, {
      anchors: roots.map((r, i) => anchorFromCertificate(r, { id: `root-${i}`, formats: 'any' })),
      intermediates: pool.filter((c) => !selfSigned(c)),
      time: options.clock(),
    }).certificates;
  } catch (err) {
    if (isProvenanceError(err))
      invalid(dir, `the certificate does not validate to the root given: ${err.code}: ${err.message}`, err);
    throw err;
  }
  const root = path[path.length - 1]!;
  if (path.length < 2 || !selfSigned(root) || path.length > MAX_CA_CHAIN)
    invalid(dir, 'the validated path does not end at a self-signed root');

  const record: CaRecord = {
    format: CA_RECORD_FORMAT,
    version: 1,
    name:
      nameAttribute(certificate.subject, OID.commonName)?.slice(0, 64) ||
      certificate.subject.text.slice(0, 64) ||
      'CA',
    alg: algorithmOf(dir, certificate.spki),
    root: 'external',
    spkiSha256: certificate.spkiSha256,
    rootSpkiSha256: root.spkiSha256,
    created: new Date(options.clock()).toISOString(),
    installed: new Date(options.clock()).toISOString(),
  };
  await writeCertificates(
    dir,
    files,
    path.map((c) => c.der),
    record,
  );
  return readCa(dir, { files });
}

/**
 * Read and check a CA directory's public parts (no passphrase needed). CA_INVALID when a file
 * is missing, malformed or disagrees with the others; the message says what to do.
 *
 * @example
 * const info = await readCa('data/ca');
 * info.certificate.notAfter
 */
export async function readCa(dir: string, options: { readonly files?: FileAccess } = {}): Promise<CaInfo> {
  const files = options.files ?? nodeFileAccess();
  const state = await caDirectoryState(dir, files);
  if (state === 'absent') invalid(dir, 'no issuing CA here: run `provenance ca init`');
  if (state === 'awaiting-certificate')
    invalid(
      dir,
      `the CA waits for its certificate: have ${CA_FILES.csr} signed, then run \`provenance ca install\``,
    );
  if (state === 'incomplete')
    invalid(
      dir,
      `${CA_FILES.record} is missing: an earlier \`ca init\` was interrupted; remove ${dir} and run it again`,
    );

  let json: unknown;
  try {
    json = JSON.parse(await readText(files, dir, CA_FILES.record));
  } catch (err) {
    if (isProvenanceError(err)) throw err;
    invalid(dir, `${CA_FILES.record} is not JSON`, err);
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    invalid(dir, `${CA_FILES.record}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message}`);
  }
  const record = parsed.data;

  const certificates = certificatesFrom(
    dir,
    CA_FILES.certificate,
    await readText(files, dir, CA_FILES.certificate),
  );
  if (certificates.length !== 1) invalid(dir, `${CA_FILES.certificate} must hold exactly one certificate`);
  const certificate = certificates[0]!;
  const roots = certificatesFrom(dir, CA_FILES.root, await readText(files, dir, CA_FILES.root));
  if (roots.length !== 1) invalid(dir, `${CA_FILES.root} must hold exactly one certificate`);
  const root = roots[0]!;
  const chain = certificatesFrom(dir, CA_FILES.chain, await readText(files, dir, CA_FILES.chain));
  const keyEncrypted = isEncryptedCaKey(
    await readKeyPem(join(dir, CA_FILES.key), files),
    join(dir, CA_FILES.key),
  );

  if (chain.length < 2 || chain.length > MAX_CA_CHAIN)
    invalid(
      dir,
      `${CA_FILES.chain} must hold the issuing CA and its issuers up to the root (2 to ${MAX_CA_CHAIN})`,
    );
  if (chain[0]!.fingerprintSha256 !== certificate.fingerprintSha256)
    invalid(dir, `${CA_FILES.chain} does not start with ${CA_FILES.certificate}`);
  if (chain[chain.length - 1]!.fingerprintSha256 !== root.fingerprintSha256)
    invalid(dir, `${CA_FILES.chain} does not end with ${CA_FILES.root}`);
  checkChainLinks(dir, chain);
  if (record.spkiSha256 !== certificate.spkiSha256)
    invalid(dir, `${CA_FILES.record} names another key than ${CA_FILES.certificate}`);
  if (record.rootSpkiSha256 !== root.spkiSha256)
    invalid(dir, `${CA_FILES.record} names another root key than ${CA_FILES.root}`);
  checkIssuingCertificate(dir, certificate);
  return { dir, record, certificate, chain, root, keyEncrypted };
}

/**
 * Open the issuing CA: check the directory (readCa), unlock ca-key.pem and check it is the
 * certificate's key. CA_INVALID for missing or inconsistent files, CA_KEY_LOCKED for a
 * missing or wrong passphrase. With `clock`, warns about an expired or expiring certificate.
 *
 * @example
 * const ca = await openCa('data/ca', { passphrase: process.env.PROVENANCE_CA_PASSPHRASE ?? null });
 * issueCertificate({ ca, profile, subject, spki, provenance, now });
 */
export async function openCa(
  dir: string,
  options: { readonly passphrase: string | null; readonly files?: FileAccess; readonly clock?: Clock },
): Promise<OpenedCa> {
  const files = options.files ?? nodeFileAccess();
  const info = await readCa(dir, { files });
  const keyPath = join(dir, CA_FILES.key);
  const key = FileKeyProvider.fromPem(await readKeyPem(keyPath, files), options.passphrase, keyPath);
  return unlocked(info, key, options);
}

function unlocked(
  info: CaInfo,
  key: FileKeyProvider,
  options: { readonly passphrase: string | null; readonly clock?: Clock },
): OpenedCa {
  if (!bytesEqual(key.spki, info.certificate.spki))
    invalid(info.dir, `${CA_FILES.key} is not the key of ${CA_FILES.certificate}`);
  const warnings: string[] = [];
  if (!info.keyEncrypted)
    warnings.push(
      unencryptedWarning(
        info.dir,
        info.record.root === 'self-signed' ? [CA_FILES.key, CA_FILES.rootKey] : [CA_FILES.key],
      ),
    );
  if (options.clock) {
    const now = options.clock();
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    if (now > info.certificate.notAfter)
      warnings.push(
        `the issuing CA certificate expired on ${day(info.certificate.notAfter)}: nothing can be issued`,
      );
    else if (info.certificate.notAfter - now < CA_EXPIRY_WARNING_DAYS * 86_400_000)
      warnings.push(`the issuing CA certificate expires on ${day(info.certificate.notAfter)}`);
  }
  // One decoded CA public key per opened CA, for the check after every signature.
  return { ...info, key, keyCache: new KeyCache(4), warnings };
}

/** The issuing certificate can issue and sign CRLs, and names its key (RFC 5280 §4.2.1.9, §4.2.1.3, §4.2.1.2). */
function checkIssuingCertificate(dir: string, cert: Certificate): void {
  if (!cert.basicConstraints?.ca) invalid(dir, 'the issuing certificate is not a CA (basicConstraints cA)');
  if (cert.keyUsage === null || !cert.allowsKeyUsage('keyCertSign') || !cert.allowsKeyUsage('cRLSign'))
    invalid(
      dir,
      'the issuing certificate lacks keyUsage keyCertSign and cRLSign (it signs certificates and CRLs)',
    );
  if (!cert.subjectKeyId) invalid(dir, 'the issuing certificate has no subjectKeyIdentifier');
}

/**
 * Each certificate is issued by the next (names match byte for byte, the signature verifies)
 * and the last is self-signed. Consistency of our own files, not trust: relying parties
 * validate the path.
 */
function checkChainLinks(dir: string, chain: readonly Certificate[]): void {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1] ?? cert;
    if (!bytesEqual(cert.issuer.der, issuer.subject.der))
      invalid(dir, `${CA_FILES.chain}: certificate ${i} is not issued by the certificate after it`);
    let ok = false;
    try {
      ok = verifySignature(cert.signatureAlgorithm, cert.tbs, cert.signature, issuer.spki);
    } catch (err) {
      invalid(dir, `${CA_FILES.chain}: certificate ${i} has an unusable signature`, err);
    }
    if (!ok) invalid(dir, `${CA_FILES.chain}: the signature on certificate ${i} does not verify`);
  }
}

async function writeCertificates(
  dir: string,
  files: FileAccess,
  chain: readonly Uint8Array[],
  record: CaRecord,
): Promise<void> {
  const pem = chain.map((c) => encodePem('CERTIFICATE', c));
  await files.writeFileAtomic(join(dir, CA_FILES.root), pem[pem.length - 1]!);
  await files.writeFileAtomic(join(dir, CA_FILES.certificate), pem[0]!);
  await files.writeFileAtomic(join(dir, CA_FILES.chain), pem.join(''));
  // Last: the directory opens only once everything else is in place.
  await files.writeFileAtomic(join(dir, CA_FILES.record), `${JSON.stringify(record, null, 2)}\n`);
}

async function refuseExisting(dir: string, files: FileAccess): Promise<void> {
  const state = await caDirectoryState(dir, files);
  if (state !== 'absent')
    fail(
      'USAGE',
      `${dir} already holds ${state === 'ready' ? 'an issuing CA' : 'CA files'}: refusing to overwrite a CA key`,
      {
        dir,
        state,
      },
    );
}

function encryptKey(key: KeyObject, passphrase: string | null): string {
  return encryptMakerKey(key, passphrase);
}

function unencryptedWarning(dir: string, names: readonly string[]): string {
  return `*** ${names.map((n) => join(dir, n)).join(' and ')} ${names.length > 1 ? 'are' : 'is'} NOT encrypted (mode 0600): anyone who can read ${names.length > 1 ? 'them' : 'it'} can issue certificates. Set PROVENANCE_CA_PASSPHRASE to encrypt CA keys. ***`;
}

async function readText(files: FileAccess, dir: string, name: string): Promise<string> {
  const bytes = await files.readFile(join(dir, name), MAX_FILE_BYTES);
  if (bytes === null) return invalid(dir, `${name} is missing`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    return invalid(dir, `${name} is not UTF-8 text`, err);
  }
}

function certificatesFrom(dir: string, what: string, text: string): Certificate[] {
  try {
    const blocks = decodePem(text, MAX_CA_CHAIN);
    if (blocks.some((b) => b.label !== 'CERTIFICATE'))
      invalid(dir, `${what} must hold PEM certificates only`);
    return blocks.map((b) => parseCertificate(b.der));
  } catch (err) {
    if (isProvenanceError(err, 'CA_INVALID')) throw err;
    return invalid(dir, `${what} does not parse: ${(err as Error).message}`, err);
  }
}

function decodeSingle(dir: string, name: string, text: string, label: string): Uint8Array {
  let blocks: ReturnType<typeof decodePem>;
  try {
    blocks = decodePem(text, 1);
  } catch (err) {
    return invalid(dir, `${name} does not parse: ${(err as Error).message}`, err);
  }
  if (blocks.length !== 1 || blocks[0]!.label !== label) invalid(dir, `${name} must hold one ${label}`);
  return blocks[0]!.der;
}

function selfSigned(cert: Certificate): boolean {
  if (!cert.selfIssued) return false;
  try {
    return verifySignature(cert.signatureAlgorithm, cert.tbs, cert.signature, cert.spki);
  } catch {
    return false;
  }
}

function algorithmOf(dir: string, spki: Uint8Array): CaAlgorithm {
  const d = describeKey(spki);
  if (d.keyAlgorithm === 'ec-p256') return 'p256';
  if (d.keyAlgorithm === 'ec-p384') return 'p384';
  if (d.keyAlgorithm === 'rsa' && d.keySize === 3072) return 'rsa3072';
  return invalid(dir, `the CA key is ${d.keyAlgorithm}-${d.keySize}, not one of ${CA_ALGORITHMS.join(', ')}`);
}

function invalid(dir: string, message: string, cause?: unknown): never {
  throw new ProvenanceError(
    'CA_INVALID',
    `${dir}: ${message}`,
    { dir },
    cause === undefined ? {} : { cause },
  );
}

function checkName(name: string): string {
  // The root's CN is "<name> Root" and a CN is at most 64 characters (RFC 5280 ub-common-name).
  if (typeof name !== 'string' || name.trim() === '' || [...name].length > 59 || /[\x00-\x1f\x7f]/.test(name))
    fail('USAGE', '--name must be 1 to 59 printable characters');
  return name;
}

function checkAlgorithm(alg: CaAlgorithm | undefined): CaAlgorithm {
  const a = alg ?? 'p256';
  if (!CA_ALGORITHMS.includes(a))
    fail('USAGE', `--alg must be one of ${CA_ALGORITHMS.join(', ')}, not ${String(alg)}`);
  return a;
}

function checkYears(years: number): number {
  if (!Number.isInteger(years) || years < 1 || years > 30)
    fail('USAGE', `the validity must be a whole number of years from 1 to 30, not ${years}`);
  return years;
}

function addYears(ms: number, years: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime();
}
