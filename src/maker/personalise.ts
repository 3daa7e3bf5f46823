/**
 * Personalise a software token: the maker's last step before a token ships.
 *
 * - Per-token attestation (`parent`): the token makes its attestation key inside itself; the
 *   parent CA certifies it with a per-token certificate (CA:TRUE, pathLen 0, keyUsage
 *   keyCertSign, subject `CN=<model> attestation, serialNumber=<serial>, O=<maker>`, validity
 *   inside the parent's).
 * - Batch attestation (`batch`): the batch key, shared by many tokens, is installed with its
 *   chain; certificates of provenance then name the batch, not the unit (privacy).
 *
 * @example
 * const token = await personaliseToken('alice.token', {
 *   parent: await unlockMaker(await openMaker('makers/smartcards', files), passphrase, io),
 *   model: 'Gemalto .NET Card', serial: '0001', pin: '123456' }, io);
 */
import { randomBytes } from 'node:crypto';
import { fail } from '../core/errors.js';
import { buildCertificate } from '../pki/builder.js';
import { encodeName } from '../pki/name.js';
import type { KeyAlgorithm } from '../token/attester.js';
import { SoftwareToken } from '../token/software/token.js';
import { MAKER_ALGORITHMS, type MakerAlgorithm } from './directory.js';
import {
  childPathLen,
  DEFAULT_VALIDITY_YEARS,
  type MakerAuthority,
  type MakerIo,
  validityWindow,
} from './hierarchy.js';
import { tokenAttestationSubject } from './names.js';

/** What a token is personalised with: per-token (`parent`) or batch (`batch`) attestation. */
export interface PersonaliseOptions {
  /** Per-token mode: the CA that certifies the token's own attestation key. */
  readonly parent?: MakerAuthority;
  /** Batch mode: the batch attestation key to install (if `parent` is given too, it must be the batch's issuer). */
  readonly batch?: MakerAuthority;
  readonly model: string;
  readonly serial: string;
  /** Default '1.0.0'. */
  readonly firmware?: string;
  /** The token's PIN. */
  readonly pin: string;
  /** Algorithm of a per-token attestation key (default p256). */
  readonly alg?: MakerAlgorithm;
  /** Validity of the per-token certificate in years (default 15, clamped to the parent's). */
  readonly validityYears?: number;
  /** Replace an existing token file. */
  readonly force?: boolean;
  /** scrypt cost for the new file; lower only in tests (with `minKdfLog2N`). */
  readonly kdfCost?: { readonly log2N: number; readonly r: number; readonly p: number };
  readonly minKdfLog2N?: number;
}

/**
 * Write a new software token to `file`, attested per token or by a batch key.
 * USAGE when neither or an unsuitable parent/batch is given.
 */
export async function personaliseToken(
  file: string,
  options: PersonaliseOptions,
  io: MakerIo,
): Promise<SoftwareToken> {
  const { parent, batch } = options;
  const firmware = options.firmware ?? '1.0.0';
  const tokenOptions = {
    files: io.files,
    clock: io.clock,
    pin: () => options.pin,
    ...(options.minKdfLog2N === undefined ? {} : { minKdfLog2N: options.minKdfLog2N }),
  };
  const common = {
    model: options.model,
    serial: options.serial,
    firmware,
    newPin: options.pin,
    ...(options.kdfCost === undefined ? {} : { kdfCost: options.kdfCost }),
    ...(options.force === undefined ? {} : { overwrite: options.force }),
  };

  if (batch) {
    if (batch.ca.record.kind !== 'batch') fail('USAGE', `${batch.ca.dir} is not a batch attestation key`);
    if (parent && parent.ca.certificate.spkiSha256 !== batch.ca.record.parentSpkiSha256)
      fail('USAGE', `${batch.ca.dir} was not issued by ${parent.ca.dir}`);
    return SoftwareToken.create(file, tokenOptions, {
      ...common,
      maker: batch.ca.record.maker,
      attestation: { kind: 'batch', privateKey: batch.privateKey, chain: batch.ca.chain.map((c) => c.der) },
    });
  }

  if (!parent) return fail('USAGE', 'personalising a token needs a parent CA or a batch key');
  childPathLen(parent.ca, 'a token attestation certificate');
  const alg = options.alg ?? 'p256';
  if (!MAKER_ALGORITHMS.includes(alg)) fail('USAGE', `--alg must be one of ${MAKER_ALGORITHMS.join(', ')}`);
  const years = options.validityYears ?? DEFAULT_VALIDITY_YEARS.token;
  if (!Number.isInteger(years) || years < 1 || years > 100)
    fail('USAGE', 'the validity must be a whole number of years from 1 to 100');
  const subject = encodeName(tokenAttestationSubject(options.model, options.serial, parent.ca.record.maker));
  const { notBefore, notAfter } = validityWindow(io.clock(), years, parent.ca.certificate);
  const issuerCert = parent.ca.certificate;
  return SoftwareToken.create(file, tokenOptions, {
    ...common,
    maker: parent.ca.record.maker,
    attestation: {
      kind: 'per-token',
      algorithm: alg satisfies KeyAlgorithm,
      certify: (spki) => {
        const serial = new Uint8Array(randomBytes(16));
        serial[0] = serial[0]! & 0x7f || 0x01;
        const der = buildCertificate({
          issuer: {
            name: issuerCert.subject.der,
            signer: parent.signer,
            ...(issuerCert.subjectKeyId ? { subjectKeyId: issuerCert.subjectKeyId } : {}),
          },
          subject,
          spki,
          serial,
          notBefore,
          notAfter,
          // ARCHITECTURE.md: the token attestation certificate is CA:TRUE, pathLen 0, keyCertSign only.
          basicConstraints: { ca: true, pathLen: 0 },
          keyUsage: ['keyCertSign'],
          subjectKeyId: 'derive',
        });
        return [der, ...parent.ca.chain.map((c) => c.der)];
      },
    },
  });
}
