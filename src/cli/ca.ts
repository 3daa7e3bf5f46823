/**
 * `provenance ca init|install|show`: the provisioning service's issuing CA. Thin over src/ca.
 * The key passphrase comes from PROVENANCE_CA_PASSPHRASE or the terminal prompt (asked twice);
 * `--no-passphrase` writes unencrypted keys (mode 0600) with a loud warning.
 */

import type { Command } from 'commander';
import { Option } from 'commander';
import {
  CA_ALGORITHMS,
  CA_FILES,
  type CaAlgorithm,
  type CaInfo,
  initCa,
  initCaCsr,
  installCaCertificate,
  readCa,
} from '../ca/directory.js';
import { askNewPassphrase, type CliContext, warn } from './context.js';
import { readInputFile } from './files.js';

/** The environment variable holding the CA key passphrase (the service reads the same one). */
export const CA_PASSPHRASE_ENV = 'PROVENANCE_CA_PASSPHRASE';

/** The passphrase for new CA keys: env, else the prompt (twice), else USAGE; null with --no-passphrase. */
function newPassphrase(ctx: CliContext, encrypt: boolean): Promise<string | null> {
  return askNewPassphrase(ctx, { envVar: CA_PASSPHRASE_ENV, what: 'the CA keys', encrypt });
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function readText(path: string, what: string): string {
  return new TextDecoder().decode(readInputFile(path, what));
}

/** What `ca init` and `ca install` print, and all of `ca show`. */
function describe(ctx: CliContext, info: CaInfo): void {
  const cert = info.certificate;
  ctx.out(`issuing CA "${info.record.name}" in ${info.dir}\n`);
  ctx.out(`  subject   ${cert.subject.text}\n`);
  ctx.out(`  issuer    ${cert.issuer.text}${info.record.root === 'external' ? ' (external root)' : ''}\n`);
  ctx.out(
    `  key       ${info.record.alg}, ${info.keyEncrypted ? 'encrypted' : 'NOT encrypted'} in ${CA_FILES.key}\n`,
  );
  ctx.out(`  valid     ${day(cert.notBefore)} to ${day(cert.notAfter)}\n`);
  ctx.out(`  key hash  sha256:${cert.spkiSha256}\n`);
  ctx.out(
    `  root      ${info.root.subject.text}, sha256:${info.root.spkiSha256}, until ${day(info.root.notAfter)}\n`,
  );
  ctx.out(`  chain     ${info.chain.length} certificates in ${CA_FILES.chain}\n`);
}

/**
 * Register `ca init|install|show`.
 *
 * @example
 * registerCaCommands(program, ctx);   // provenance ca init data/ca --name "Example Bank Issuing CA"
 */
export function registerCaCommands(program: Command, ctx: CliContext): void {
  const ca = program.command('ca').description("the provisioning service's issuing CA");

  ca.command('init')
    .description('create a root and an issuing CA (or, with --csr, a key and a request for an external root)')
    .argument('<dir>', 'the CA directory (the service uses DATA/ca)')
    .requiredOption('--name <name>', 'the issuing CA name, e.g. "Example Bank Issuing CA"')
    .addOption(new Option('--alg <alg>', 'key algorithm').choices(CA_ALGORITHMS).default('p256'))
    .option('--csr', 'write a key and ca.csr for an external root instead of a self-signed root')
    .option('--no-passphrase', 'write the keys unencrypted (mode 0600; not for real use)')
    .action(
      async (dir: string, o: { name: string; alg: CaAlgorithm; csr?: boolean; passphrase: boolean }) => {
        const passphrase = await newPassphrase(ctx, o.passphrase);
        if (o.csr) {
          const { warnings, spkiSha256 } = await initCaCsr(dir, {
            name: o.name,
            alg: o.alg,
            passphrase,
            clock: ctx.clock,
          });
          for (const w of warnings) warn(ctx, w);
          ctx.out(`issuing CA key and request written to ${dir}\n`);
          ctx.out(`  key hash  sha256:${spkiSha256}\n`);
          ctx.out(
            `  request   ${dir}/${CA_FILES.csr}: have your root sign it (CA, pathLen 0, keyCertSign, cRLSign)\n`,
          );
          ctx.out(
            `  then      provenance ca install ${dir} <certificate.pem> --chain <root-and-intermediates.pem>\n`,
          );
          return;
        }
        const created = await initCa(dir, { name: o.name, alg: o.alg, passphrase, clock: ctx.clock });
        for (const w of created.warnings) warn(ctx, w);
        describe(ctx, created);
        if (created.record.root === 'self-signed')
          ctx.out(`  note      ${CA_FILES.rootKey} is not needed to issue: keep it offline\n`);
      },
    );

  ca.command('install')
    .description('install the certificate an external root issued for ca.csr')
    .argument('<dir>', 'the CA directory')
    .argument('<cert>', 'the issuing CA certificate (PEM; may be followed by its chain)')
    .option('--chain <pem>', 'the intermediates and the root (PEM)')
    .action(async (dir: string, certPath: string, o: { chain?: string }) => {
      const env = ctx.env[CA_PASSPHRASE_ENV];
      const info = await installCaCertificate(
        dir,
        readText(certPath, 'certificate'),
        o.chain === undefined ? undefined : readText(o.chain, 'chain'),
        { clock: ctx.clock, ...(env !== undefined && env !== '' ? { passphrase: env } : {}) },
      );
      describe(ctx, info);
    });

  ca.command('show')
    .description('check a CA directory and print what it holds (no passphrase needed)')
    .argument('<dir>', 'the CA directory')
    .action(async (dir: string) => {
      const info = await readCa(dir);
      describe(ctx, info);
      const now = ctx.clock();
      if (now > info.certificate.notAfter)
        warn(ctx, `the issuing CA certificate expired on ${day(info.certificate.notAfter)}`);
      if (!info.keyEncrypted) warn(ctx, `${dir}/${CA_FILES.key} is NOT encrypted`);
    });
}
