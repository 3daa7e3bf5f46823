/**
 * `provenance trust add|list|remove|catalog`: install vendor roots into the operator's trust
 * folder, recognised by key against the anchor catalogue (docs/trust-catalog.md).
 *
 * A catalogue entry is never trusted by itself: `trust add` only names and scopes a certificate
 * the operator brings. Policies then say `catalog: <id>` to use an installed anchor.
 */
import type { Command } from 'commander';
import { fail } from '../core/errors.js';
import type { FormatId } from '../formats/types.js';
import { parseCertificateBundle } from '../pki/bundle.js';
import { POLICY_FORMATS } from '../policy/schema.js';
import {
  CATALOG,
  dryRunTrustFolderFs,
  type InstalledAnchor,
  nodeTrustFolderFs,
  TrustFolder,
} from '../trust/catalog/index.js';
import { type CliContext, warn } from './context.js';
import { readInputFile } from './files.js';

/** Where the trust folder is when --dir is not given: `./trust`, beside a policy in the working directory. */
export const DEFAULT_TRUST_DIR = 'trust';

/** The trust folder: --dir, else $PROVENANCE_TRUST_DIR, else ./trust. */
function folderFor(ctx: CliContext, dir: string | undefined): TrustFolder {
  const chosen = dir ?? ctx.env.PROVENANCE_TRUST_DIR ?? DEFAULT_TRUST_DIR;
  return new TrustFolder(chosen, nodeTrustFolderFs);
}

/** --formats a,b: each one of the known format ids. */
function parseFormats(text: string): FormatId[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) fail('USAGE', '--formats lists no format');
  for (const f of list) {
    if (!(POLICY_FORMATS as readonly string[]).includes(f))
      fail('USAGE', `--formats: unknown format "${f}" (known: ${POLICY_FORMATS.join(', ')})`);
  }
  return list as FormatId[];
}

/**
 * Register the `trust` command group.
 *
 * @example
 * registerTrust(program, ctx);   // provenance trust add yubico-piv-root.pem
 */
export function registerTrust(program: Command, ctx: CliContext): void {
  const group = program
    .command('trust')
    .description('install and list trust anchors (vendor roots recognised by the anchor catalogue)');
  group
    .command('add')
    .description('install certificates as trust anchors; catalogued roots are recognised by key')
    .argument('<files...>', 'certificate files (PEM or DER)')
    .option('--dir <dir>', `trust folder (default: $PROVENANCE_TRUST_DIR or ./${DEFAULT_TRUST_DIR})`)
    .option('--id <id>', 'anchor id for a certificate the catalogue does not know')
    .option('--formats <list>', `formats it may vouch for, comma-separated (${POLICY_FORMATS.join(', ')})`)
    .option(
      '--intermediate-anchor',
      'accept a certificate that is not a self-signed CA (keylime stores vendor intermediates as anchors)',
    )
    .option('--json', 'print the installed anchors as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  provenance trust add yubico-piv-root-ca-serial-263751.pem\n' +
        '  provenance trust add my-root.pem --id acme-root --formats provenance\n',
    )
    .action(
      (
        files: string[],
        o: { dir?: string; id?: string; formats?: string; intermediateAnchor?: boolean; json?: boolean },
      ) => {
        const folder = folderFor(ctx, o.dir);
        const formats = o.formats === undefined ? undefined : parseFormats(o.formats);
        const certs = files.flatMap((file) =>
          parseCertificateBundle(readInputFile(file, 'certificate file')).map((cert) => ({ file, cert })),
        );
        if (o.id !== undefined && certs.length !== 1)
          fail('USAGE', `--id names one anchor, but the files hold ${certs.length} certificates`);
        const options = {
          ...(o.id === undefined ? {} : { id: o.id }),
          ...(formats === undefined ? {} : { formats }),
          intermediateAnchor: o.intermediateAnchor === true,
          now: ctx.clock(),
        };
        // All or nothing: every certificate is first added to an in-memory copy of the folder,
        // so a refusal (duplicate, never-trust, not a root) leaves the folder unchanged.
        const rehearsal = new TrustFolder(folder.dir, dryRunTrustFolderFs(nodeTrustFolderFs));
        for (const { cert } of certs) rehearsal.add(cert, options);
        const added: InstalledAnchor[] = [];
        for (const { cert } of certs) {
          const result = folder.add(cert, options);
          for (const w of result.warnings) warn(ctx, w);
          added.push(result.anchor);
          if (!o.json) {
            const a = result.anchor;
            const what =
              result.match === null
                ? `${a.subject} (${a.id}): not in the catalogue`
                : `${result.match.entry.name} (${a.id})`;
            ctx.out(
              `added ${what}: formats ${a.formats.join(', ')}${a.intermediate ? ' [intermediate anchor]' : ''}\n`,
            );
          }
        }
        if (o.json) ctx.out(`${JSON.stringify({ dir: folder.dir, added }, null, 2)}\n`);
      },
    );
  group
    .command('list')
    .description('show installed anchors: id, vendor, formats, SPKI hash, expiry, catalogue match')
    .option('--dir <dir>', `trust folder (default: $PROVENANCE_TRUST_DIR or ./${DEFAULT_TRUST_DIR})`)
    .option('--json', 'print the list as JSON')
    .action((o: { dir?: string; json?: boolean }) => {
      const folder = folderFor(ctx, o.dir);
      // readAll checks every file against the index: a swapped PEM fails closed here too.
      const anchors = folder.readAll().map((x) => x.anchor);
      if (o.json) {
        ctx.out(`${JSON.stringify({ dir: folder.dir, anchors }, null, 2)}\n`);
        return;
      }
      if (anchors.length === 0) {
        ctx.out(`no anchors installed in ${folder.dir}\n`);
        return;
      }
      const now = ctx.clock();
      for (const a of anchors) {
        const expired = Date.parse(a.notAfter) < now ? ' EXPIRED' : '';
        ctx.out(
          `${a.id}  ${a.vendor ?? '-'}  formats ${a.formats.join(',')}  sha256:${a.spkiSha256}  ` +
            `until ${a.notAfter.slice(0, 10)}${expired}  ${a.catalog === null ? 'not catalogued' : `catalogue ${a.catalog}`}` +
            `${a.intermediate ? '  intermediate' : ''}\n`,
        );
      }
    });
  group
    .command('remove')
    .description('uninstall an anchor by id')
    .argument('<id>', 'anchor id')
    .option('--dir <dir>', `trust folder (default: $PROVENANCE_TRUST_DIR or ./${DEFAULT_TRUST_DIR})`)
    .action((id: string, o: { dir?: string }) => {
      const removed = folderFor(ctx, o.dir).remove(id);
      ctx.out(`removed ${removed.id} (sha256:${removed.spkiSha256})\n`);
    });
  group
    .command('catalog')
    .description('print the catalogue of known production anchors (none is trusted until installed)')
    .option('--json', 'print the catalogue as JSON')
    .action((o: { json?: boolean }) => {
      if (o.json) {
        ctx.out(`${JSON.stringify({ entries: CATALOG }, null, 2)}\n`);
        return;
      }
      for (const e of CATALOG) {
        const never = e.trust === 'never' ? '  NEVER TRUST' : '';
        const role = e.role === 'intermediate' ? '  (intermediate)' : '';
        ctx.out(`${e.id}  ${e.vendor}: ${e.name}  formats ${e.formats.join(',')}${role}${never}\n`);
        ctx.out(`    sha256:${e.spkiSha256}  ${e.source}\n`);
      }
    });
}
