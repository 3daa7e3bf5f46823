/**
 * `provenance maker …`: build a manufacturer hierarchy and personalise software tokens.
 * Thin over src/maker. CA key passphrases come from PROVENANCE_PASSPHRASE or the terminal
 * prompt (asked twice for a new key); `--no-passphrase` writes an unencrypted key, loudly.
 */
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { fail } from '../core/errors.js';
import { MAKER_ALGORITHMS, type MakerAlgorithm, type MakerCa, openMaker } from '../maker/directory.js';
import {
  createBatch,
  createIntermediate,
  initRoot,
  type MakerAuthority,
  type MakerIo,
  unlockMaker,
} from '../maker/hierarchy.js';
import { personaliseToken } from '../maker/personalise.js';
import { parseCertificate } from '../pki/certificate.js';
import { nodeFileAccess } from '../token/software/file-access.js';
import { askNewPassphrase, type CliContext } from './context.js';
import { resolvePin, shortFingerprint } from './token.js';

interface NewKeyOptions {
  name: string;
  alg: MakerAlgorithm;
  passphrase: boolean;
  validityYears?: string;
  pathLen?: string;
  force?: boolean;
}

/** A whole number option, or USAGE naming it. */
function intOption(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,3}$/.test(value)) fail('USAGE', `${option} must be a whole number, not "${value}"`);
  return Number(value);
}

/** The passphrase for a new CA key: env, else the prompt (twice), else USAGE; null with --no-passphrase. */
function newPassphrase(ctx: CliContext, dir: string, encrypt: boolean): Promise<string | null> {
  const keyPath = join(dir, 'key.pem');
  return askNewPassphrase(ctx, {
    envVar: 'PROVENANCE_PASSPHRASE',
    what: keyPath,
    encrypt,
    unencryptedWarning: `*** ${keyPath} will NOT be encrypted: anyone who can read it can sign as this CA ***`,
  });
}

/** Unlock a maker directory's key: env, else the prompt, else MAKER_KEY_LOCKED. */
async function unlock(ctx: CliContext, ca: MakerCa, io: MakerIo): Promise<MakerAuthority> {
  if (!ca.keyEncrypted) return unlockMaker(ca, null, io);
  const keyPath = join(ca.dir, 'key.pem');
  let passphrase = ctx.env['PROVENANCE_PASSPHRASE'];
  if ((passphrase === undefined || passphrase === '') && ctx.prompt)
    passphrase = await ctx.prompt(`Passphrase for ${keyPath}: `, { secret: true });
  if (passphrase === undefined || passphrase === '')
    fail('MAKER_KEY_LOCKED', `${keyPath} is encrypted: set PROVENANCE_PASSPHRASE`, { path: keyPath });
  return unlockMaker(ca, passphrase, io);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The few lines every maker command prints: what was written where, the key to allow-list. */
function summary(ctx: CliContext, what: string, ca: MakerCa): void {
  const cert = ca.certificate;
  const bc = cert.basicConstraints;
  const depth =
    bc?.pathLen === null || bc?.pathLen === undefined ? 'no path length limit' : `pathLen ${bc.pathLen}`;
  ctx.out(`${what} "${ca.record.name}" written to ${ca.dir}\n`);
  ctx.out(`  subject   ${cert.subject.text}\n`);
  ctx.out(
    `  key       ${ca.record.alg}, ${ca.keyEncrypted ? 'encrypted' : 'NOT encrypted'} in key.pem; ${depth}\n`,
  );
  ctx.out(`  valid     ${day(cert.notBefore)} to ${day(cert.notAfter)}\n`);
  ctx.out(`  allow as  sha256:${cert.spkiSha256}\n`);
}

function commonOptions(cmd: Command, withPathLen: boolean): Command {
  cmd
    .requiredOption('--name <name>', 'display name, e.g. "Gemalto NV"')
    .addOption(new Option('--alg <alg>', 'key algorithm').choices(MAKER_ALGORITHMS).default('p256'))
    .option('--no-passphrase', 'write the key unencrypted (not for real use)')
    .option('--validity-years <n>', 'validity in years (clamped to the parent)')
    .option('--force', 'replace an existing key in the directory');
  if (withPathLen) cmd.option('--path-len <n>', 'how many CA levels may follow this one');
  return cmd;
}

/**
 * Register `maker init|ca|batch|token`.
 *
 * @example
 * registerMakerCommands(program, ctx);   // provenance maker init makers/gemalto --name "Gemalto NV"
 */
export function registerMakerCommands(program: Command, ctx: CliContext): void {
  const io = (): MakerIo => ({ files: nodeFileAccess(), clock: ctx.clock });
  const maker = program
    .command('maker')
    .description('manufacturer tooling: root, intermediate CAs, batch keys, token personalisation');

  commonOptions(
    maker
      .command('init')
      .description('create the manufacturer root CA')
      .argument('<dir>', 'directory for the root'),
    true,
  ).action(async (dir: string, o: NewKeyOptions) => {
    const passphrase = await newPassphrase(ctx, dir, o.passphrase);
    const years = intOption(o.validityYears, '--validity-years');
    const pathLen = intOption(o.pathLen, '--path-len');
    const ca = await initRoot(
      dir,
      {
        name: o.name,
        alg: o.alg,
        passphrase,
        ...(years === undefined ? {} : { validityYears: years }),
        ...(pathLen === undefined ? {} : { pathLen }),
        force: o.force === true,
      },
      io(),
    );
    summary(ctx, 'root CA', ca);
  });

  commonOptions(
    maker
      .command('ca')
      .description('create an intermediate CA (product line, device class) under a parent')
      .argument('<dir>', 'directory for the new CA')
      .requiredOption('--parent <dir>', 'the issuing CA directory'),
    true,
  ).action(async (dir: string, o: NewKeyOptions & { parent: string }) => {
    const parent = await unlock(ctx, await openMaker(o.parent, nodeFileAccess()), io());
    const passphrase = await newPassphrase(ctx, dir, o.passphrase);
    const years = intOption(o.validityYears, '--validity-years');
    const pathLen = intOption(o.pathLen, '--path-len');
    const ca = await createIntermediate(
      dir,
      {
        name: o.name,
        alg: o.alg,
        parent,
        passphrase,
        ...(years === undefined ? {} : { validityYears: years }),
        ...(pathLen === undefined ? {} : { pathLen }),
        force: o.force === true,
      },
      io(),
    );
    summary(ctx, 'intermediate CA', ca);
  });

  commonOptions(
    maker
      .command('batch')
      .description('create a batch attestation key, shared by many tokens (the attestation names the batch)')
      .argument('<dir>', 'directory for the batch key')
      .requiredOption('--parent <dir>', 'the issuing CA directory')
      .option('--batch-id <id>', 'the batch identifier in the subject (default: random)'),
    false,
  ).action(async (dir: string, o: NewKeyOptions & { parent: string; batchId?: string }) => {
    const parent = await unlock(ctx, await openMaker(o.parent, nodeFileAccess()), io());
    const passphrase = await newPassphrase(ctx, dir, o.passphrase);
    const years = intOption(o.validityYears, '--validity-years');
    const ca = await createBatch(
      dir,
      {
        name: o.name,
        alg: o.alg,
        parent,
        passphrase,
        ...(o.batchId === undefined ? {} : { batchId: o.batchId }),
        ...(years === undefined ? {} : { validityYears: years }),
        force: o.force === true,
      },
      io(),
    );
    summary(ctx, `batch ${ca.record.batchId}`, ca);
  });

  maker
    .command('token')
    .description('personalise a software token: per-token attestation by --parent, or the --batch key')
    .argument('<token-file>', 'the token file to write')
    .option('--parent <dir>', 'CA that certifies the per-token attestation key')
    .option('--batch <dir>', 'install this batch attestation key instead')
    .requiredOption('--model <model>', 'token model, e.g. "Gemalto .NET Card"')
    .requiredOption('--serial <serial>', 'token serial number')
    .option('--firmware <version>', 'firmware version', '1.0.0')
    .option('--pin <pin>', 'the new token PIN (default: $PROVENANCE_PIN, else 123456 with a warning)')
    .addOption(
      new Option('--alg <alg>', 'per-token attestation key algorithm')
        .choices(MAKER_ALGORITHMS)
        .default('p256'),
    )
    .option('--validity-years <n>', 'validity of the per-token certificate (clamped to the parent)')
    .option('--force', 'replace an existing token file')
    .action(
      async (
        file: string,
        o: {
          parent?: string;
          batch?: string;
          model: string;
          serial: string;
          firmware: string;
          pin?: string;
          alg: MakerAlgorithm;
          validityYears?: string;
          force?: boolean;
        },
      ) => {
        if (o.parent === undefined && o.batch === undefined)
          fail('USAGE', 'maker token needs --parent (per-token attestation) or --batch (batch attestation)');
        const files = nodeFileAccess();
        const years = intOption(o.validityYears, '--validity-years');
        // In batch mode the parent is only checked against the batch: its key is not needed.
        const batch =
          o.batch === undefined ? undefined : await unlock(ctx, await openMaker(o.batch, files), io());
        let parent: MakerAuthority | undefined;
        if (o.parent !== undefined) {
          const parentCa = await openMaker(o.parent, files);
          if (batch) {
            if (parentCa.certificate.spkiSha256 !== batch.ca.record.parentSpkiSha256)
              fail('USAGE', `${o.batch} was not issued by ${o.parent}`);
          } else {
            parent = await unlock(ctx, parentCa, io());
          }
        }
        const pin = resolvePin(o.pin, ctx);
        const token = await personaliseToken(
          file,
          {
            ...(parent ? { parent } : {}),
            ...(batch ? { batch } : {}),
            model: o.model,
            serial: o.serial,
            firmware: o.firmware,
            pin,
            alg: o.alg,
            ...(years === undefined ? {} : { validityYears: years }),
            force: o.force === true,
          },
          io(),
        );
        const info = await token.info();
        const attestation = token.attestationChain();
        const cert = parseCertificate(attestation[0]!);
        ctx.out(`token ${info.model} ${info.serial} (firmware ${info.firmware}) written to ${file}\n`);
        ctx.out(
          `  attestation ${info.attestation}: ${cert.subject.text} (${shortFingerprint(cert.spkiSha256)}), chain of ${attestation.length}\n`,
        );
        ctx.out(
          `  PIN tries ${info.pinRetriesLeft}; next: provenance token keygen ${file} --label <label>\n`,
        );
      },
    );
}
