/**
 * The manufacturer hierarchy: a root, any number of intermediate CAs (product line, device
 * class), batch attestation keys, each in its own maker directory (see directory.ts).
 *
 * Certificate profiles (RFC 5280 §4.2.1.9 basicConstraints, §4.2.1.3 keyUsage):
 * - root: CA, no pathLen (the maker decides its depth later), keyCertSign + cRLSign, 20 years;
 * - intermediate: CA, pathLen = parent's − 1 when the parent has one, keyCertSign + cRLSign,
 *   validity inside the parent's; refused under a pathLen-0 parent (it cannot issue a CA);
 * - batch: CA, pathLen 0, keyCertSign only: it signs certificates of provenance and nothing
 *   else; the subject names the batch (CN=name, serialNumber=batch id), never a unit.
 *
 * @example
 * const io = { files: nodeFileAccess(), clock: systemClock };
 * const root = await initRoot('makers/gemalto', { name: 'Gemalto NV', passphrase }, io);
 * const ca = await createIntermediate('makers/smartcards',
 *   { name: 'Gemalto Smartcards', parent: await unlockMaker(root, passphrase, io), passphrase }, io);
 */

import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { bytesEqual, sha256Hex } from '../core/bytes.js';
import type { Clock } from '../core/clock.js';
import { fail } from '../core/errors.js';
import { buildCertificate } from '../pki/builder.js';
import type { Certificate, KeyUsageName } from '../pki/certificate.js';
import { encodeName } from '../pki/name.js';
import { type Signer, signerFromKeyObject } from '../pki/signer.js';
import type { FileAccess } from '../token/software/file-access.js';
import { generateKeyPair, spkiOf } from '../token/software/key-algorithms.js';
import {
  MAKER_ALGORITHMS,
  MAKER_RECORD_FORMAT,
  type MakerAlgorithm,
  type MakerCa,
  type MakerKind,
  type MakerRecord,
  openMaker,
  readMakerKeyPem,
  writeMakerDirectory,
} from './directory.js';
import { decryptMakerKey, encryptMakerKey } from './key-file.js';
import { batchSubject, intermediateSubject, rootSubject } from './names.js';

/** Injected effects of the maker tooling. */
export interface MakerIo {
  readonly files: FileAccess;
  readonly clock: Clock;
}

/** An unlocked maker CA: its directory and a Signer for its key. */
export interface MakerAuthority {
  readonly ca: MakerCa;
  readonly signer: Signer;
  /**
   * The CA's private key. Maker tooling only: it is needed to install a batch key into
   * tokens. Nothing outside src/maker and the token's personalisation receives it.
   */
  readonly privateKey: KeyObject;
}

/** Default validity in years per kind; children are clamped to their parent's validity. */
export const DEFAULT_VALIDITY_YEARS: Readonly<Record<MakerKind | 'token', number>> = {
  root: 20,
  ca: 15,
  batch: 10,
  token: 15,
};

/** What every new CA takes. */
export interface NewCaOptions {
  readonly name: string;
  readonly alg?: MakerAlgorithm;
  /** Passphrase for the new key.pem, or null to write it unencrypted (the CLI warns loudly). */
  readonly passphrase: string | null;
  readonly validityYears?: number;
  /** Replace an existing key.pem (default: refuse with USAGE). */
  readonly force?: boolean;
  /**
   * pathLenConstraint for a root or an intermediate: how many CA levels may follow. Default:
   * none for a root, parent's − 1 for an intermediate (an explicit value must not exceed it).
   * Token attestation keys are CAs too, so a CA that issues them needs pathLen >= 1 or none.
   */
  readonly pathLen?: number;
}

/**
 * Unlock a maker CA: decrypt key.pem and check it is the certificate's key.
 * Wrong or missing passphrase: MAKER_KEY_LOCKED.
 */
export async function unlockMaker(
  ca: MakerCa,
  passphrase: string | null,
  io: MakerIo,
): Promise<MakerAuthority> {
  const pem = await readMakerKeyPem(ca, io.files);
  const privateKey = decryptMakerKey(pem, passphrase, `${ca.dir}/key.pem`);
  if (!bytesEqual(spkiOf(privateKey), ca.certificate.spki))
    fail('MAKER_DIR_INVALID', `${ca.dir}: key.pem is not the key of cert.pem`, { dir: ca.dir });
  return { ca, signer: signerFromKeyObject(privateKey), privateKey };
}

/**
 * Create the manufacturer root in `dir` (self-signed).
 *
 * @example
 * await initRoot('makers/gemalto', { name: 'Gemalto NV', alg: 'p384', passphrase }, io);
 */
export async function initRoot(dir: string, options: NewCaOptions, io: MakerIo): Promise<MakerCa> {
  const name = checkName(options.name);
  const alg = checkAlgorithm(options.alg);
  const years = checkYears(options.validityYears ?? DEFAULT_VALIDITY_YEARS.root);
  const { privateKey, spki } = await generateKeyPair(alg);
  const signer = signerFromKeyObject(privateKey);
  const subject = encodeName(rootSubject(name));
  const { notBefore, notAfter } = validityWindow(io.clock(), years, null);
  const pathLen = options.pathLen === undefined ? null : checkPathLen(options.pathLen, null);
  const der = buildCertificate({
    issuer: { name: subject, signer },
    subject,
    spki,
    notBefore,
    notAfter,
    basicConstraints: pathLen === null ? { ca: true } : { ca: true, pathLen },
    keyUsage: ['keyCertSign', 'cRLSign'],
    subjectKeyId: 'derive',
    authorityKeyId: false,
  });
  return finish(dir, options, io, privateKey, [der], {
    kind: 'root',
    name,
    maker: name,
    alg,
    parentSpkiSha256: null,
  });
}

/**
 * Create an intermediate CA in `dir`, issued by `parent`.
 *
 * @example
 * await createIntermediate('makers/smartcards', { name: 'Gemalto Smartcards', parent, passphrase }, io);
 */
export async function createIntermediate(
  dir: string,
  options: NewCaOptions & { readonly parent: MakerAuthority },
  io: MakerIo,
): Promise<MakerCa> {
  const name = checkName(options.name);
  const parent = options.parent;
  const inherited = childPathLen(parent.ca, 'an intermediate CA');
  const pathLen = options.pathLen === undefined ? inherited : checkPathLen(options.pathLen, inherited);
  return issueChild(dir, options, io, {
    kind: 'ca',
    name,
    subject: intermediateSubject(name, parent.ca.record.maker),
    basicConstraints: pathLen === null ? { ca: true } : { ca: true, pathLen },
    keyUsage: ['keyCertSign', 'cRLSign'],
    years: options.validityYears ?? DEFAULT_VALIDITY_YEARS.ca,
  });
}

/**
 * Create a batch attestation key in `dir`, issued by `parent`: shared by many tokens, so its
 * certificate names the batch, not a unit.
 *
 * @example
 * await createBatch('makers/batch-2025-01', { name: 'Gemalto .NET Card batch', parent, passphrase }, io);
 */
export async function createBatch(
  dir: string,
  options: Omit<NewCaOptions, 'pathLen'> & { readonly parent: MakerAuthority; readonly batchId?: string },
  io: MakerIo,
): Promise<MakerCa> {
  const name = checkName(options.name);
  const parent = options.parent;
  childPathLen(parent.ca, 'a batch attestation key');
  const batchId = options.batchId ?? randomBytes(8).toString('hex').toUpperCase();
  if (!/^[A-Za-z0-9 '()+,\-./:=?]{1,64}$/.test(batchId))
    fail('USAGE', "a batch id is 1 to 64 PrintableString characters (letters, digits, space, '()+,-./:=?)");
  return issueChild(dir, options, io, {
    kind: 'batch',
    name,
    batchId,
    subject: batchSubject(name, batchId, parent.ca.record.maker),
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign'],
    years: options.validityYears ?? DEFAULT_VALIDITY_YEARS.batch,
  });
}

/**
 * The pathLen a CA issued by `parent` gets: parent's − 1, or null (unconstrained) when the
 * parent has none. Refuses (USAGE) a parent that cannot issue CA certificates: not a CA, a
 * batch key, or pathLen 0 (RFC 5280 §4.2.1.9: no non-self-issued CA may follow it).
 */
export function childPathLen(parent: MakerCa, what: string): number | null {
  if (parent.record.kind === 'batch')
    fail('USAGE', `${parent.dir} is a batch attestation key: it cannot issue ${what}`, {
      parent: parent.dir,
    });
  const bc = parent.certificate.basicConstraints;
  if (!bc?.ca) fail('USAGE', `${parent.dir} is not a CA`, { parent: parent.dir });
  if (bc.pathLen === 0)
    fail(
      'USAGE',
      `${parent.dir} has pathLen 0: it cannot issue ${what} (every token attestation key is a CA)`,
      {
        parent: parent.dir,
      },
    );
  return bc.pathLen === null ? null : bc.pathLen - 1;
}

/**
 * notBefore = now (whole seconds), notAfter = now + years, both clamped into the parent's
 * validity (a child must not outlive its issuer). USAGE when the parent has expired.
 */
export function validityWindow(
  now: number,
  years: number,
  parent: Certificate | null,
): { notBefore: number; notAfter: number } {
  let notBefore = Math.floor(now / 1000) * 1000;
  const end = new Date(notBefore);
  end.setUTCFullYear(end.getUTCFullYear() + years);
  let notAfter = end.getTime();
  if (parent) {
    if (now > parent.notAfter)
      fail('USAGE', `the parent certificate expired on ${new Date(parent.notAfter).toISOString()}`);
    notBefore = Math.max(notBefore, parent.notBefore);
    notAfter = Math.min(notAfter, parent.notAfter);
  }
  return { notBefore, notAfter };
}

interface ChildProfile {
  readonly kind: 'ca' | 'batch';
  readonly name: string;
  readonly batchId?: string;
  readonly subject: string;
  readonly basicConstraints: { ca: true; pathLen?: number };
  readonly keyUsage: KeyUsageName[];
  readonly years: number;
}

async function issueChild(
  dir: string,
  options: Omit<NewCaOptions, 'pathLen'> & { readonly parent: MakerAuthority },
  io: MakerIo,
  profile: ChildProfile,
): Promise<MakerCa> {
  const alg = checkAlgorithm(options.alg);
  const parent = options.parent;
  const years = checkYears(profile.years);
  const { notBefore, notAfter } = validityWindow(io.clock(), years, parent.ca.certificate);
  const { privateKey, spki } = await generateKeyPair(alg);
  const der = buildCertificate({
    issuer: {
      name: parent.ca.certificate.subject.der,
      signer: parent.signer,
      ...(parent.ca.certificate.subjectKeyId ? { subjectKeyId: parent.ca.certificate.subjectKeyId } : {}),
    },
    subject: encodeName(profile.subject),
    spki,
    notBefore,
    notAfter,
    basicConstraints: profile.basicConstraints,
    keyUsage: profile.keyUsage,
    subjectKeyId: 'derive',
  });
  return finish(dir, options, io, privateKey, [der, ...parent.ca.chain.map((c) => c.der)], {
    kind: profile.kind,
    name: profile.name,
    maker: parent.ca.record.maker,
    alg,
    parentSpkiSha256: parent.ca.certificate.spkiSha256,
    ...(profile.batchId === undefined ? {} : { batchId: profile.batchId }),
  });
}

async function finish(
  dir: string,
  options: Omit<NewCaOptions, 'pathLen'>,
  io: MakerIo,
  privateKey: KeyObject,
  chain: Uint8Array[],
  fields: Pick<MakerRecord, 'kind' | 'name' | 'maker' | 'alg' | 'parentSpkiSha256'> & { batchId?: string },
): Promise<MakerCa> {
  const keyPem = encryptMakerKey(privateKey, options.passphrase);
  const record: MakerRecord = {
    format: MAKER_RECORD_FORMAT,
    version: 1,
    ...fields,
    spkiSha256: sha256Hex(spkiOf(privateKey)),
    created: new Date(io.clock()).toISOString(),
  };
  await writeMakerDirectory(dir, { record, chain, keyPem }, io.files, options.force === true);
  // Read back through the same checks every later command applies.
  return openMaker(dir, io.files);
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 64 || /[\x00-\x1f\x7f]/.test(name))
    fail('USAGE', '--name must be 1 to 64 printable characters');
  return name;
}

function checkAlgorithm(alg: MakerAlgorithm | undefined): MakerAlgorithm {
  const a = alg ?? 'p256';
  if (!MAKER_ALGORITHMS.includes(a))
    fail('USAGE', `--alg must be one of ${MAKER_ALGORITHMS.join(', ')}, not ${String(alg)}`);
  return a;
}

function checkPathLen(pathLen: number, atMost: number | null): number {
  if (!Number.isInteger(pathLen) || pathLen < 0 || pathLen > 16)
    fail('USAGE', `--path-len must be a whole number from 0 to 16, not ${pathLen}`);
  if (atMost !== null && pathLen > atMost)
    fail('USAGE', `--path-len ${pathLen} exceeds what the parent allows (${atMost})`);
  return pathLen;
}

function checkYears(years: number): number {
  if (!Number.isInteger(years) || years < 1 || years > 100)
    fail('USAGE', `the validity must be a whole number of years from 1 to 100, not ${years}`);
  return years;
}
