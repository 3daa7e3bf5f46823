/**
 * `provenance mds import|show|lookup`: verify a FIDO Metadata Service v3 BLOB (file or https
 * URL) to a pinned root and keep its parsed index in a directory for later lookups.
 *
 * The production root (GlobalSign Root CA - R3) is pinned by its SHA-256; its certificate is
 * given with --root (Provenance ships no copy). Any other root (the FIDO conformance MDS3ROOT,
 * a test root) works too and is named on stderr, so an operator sees which root they trusted.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { fail, ProvenanceError } from '../core/errors.js';
import { parseCertificateBundle } from '../pki/bundle.js';
import type { Certificate } from '../pki/certificate.js';
import {
  type FetchLike,
  fetchMdsBlob,
  importMdsBlob,
  isProductionMdsRoot,
  loadMdsIndex,
  MDS_MAX_BLOB_BYTES,
  MDS_PRODUCTION_ROOT_SHA256,
  type MdsEntry,
  type MdsIndex,
  readMdsIndexHeader,
  saveMdsIndex,
} from '../trust/mds/index.js';
import { type CliContext, warn } from './context.js';
import { parseTimeOption, readInputFile } from './files.js';

/** Where the index lives when no directory is given. */
export const DEFAULT_MDS_DIR = 'mds';

/** A CLI context that may carry a fetch (tests inject one; the binary uses globalThis.fetch). */
type MdsCliContext = CliContext & { readonly fetch?: FetchLike };

interface ImportOptions {
  root: string[];
  crl: string[];
  at?: string;
  out: string;
  allowStale?: string;
  timeout: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Register the `mds` command group.
 *
 * @example
 * registerMds(program, ctx);   // provenance mds import blob.jwt --root globalsign-r3.pem --out mds
 */
export function registerMds(program: Command, ctx: CliContext): void {
  const group = program
    .command('mds')
    .description('FIDO Metadata Service v3: import a BLOB, show it, look up models');
  group
    .command('import')
    .description('verify an MDS3 BLOB (file or https URL) to a pinned root and store its index')
    .argument('<source>', 'BLOB file (JWT) or https URL')
    .option(
      '--root <pem>',
      'pinned root certificate (PEM or DER); repeatable. Production: GlobalSign Root CA - R3',
      collect,
      [],
    )
    .option(
      '--crl <file>',
      'CRL of the signing chain (PEM or DER); repeatable; then every chain certificate needs one',
      collect,
      [],
    )
    .option('--at <iso>', 'verification time (default: now)')
    .option('--out <dir>', 'directory for the index', DEFAULT_MDS_DIR)
    .option('--allow-stale <reason>', 'accept a BLOB past its nextUpdate, recording this reason')
    .option('--timeout <ms>', 'timeout for a URL source, ms', '30000')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `\nThe production root is pinned by SHA-256 ${MDS_PRODUCTION_ROOT_SHA256};\n` +
        'a BLOB whose no is lower than the stored one is refused (MDS_ROLLBACK).\n\n' +
        'Examples:\n  provenance mds import blob.jwt --root root-r3.pem --out mds\n' +
        '  provenance mds import https://mds3.fidoalliance.org/ --root root-r3.pem\n',
    )
    .action(async (source: string, options: ImportOptions) => {
      await runImport(ctx as MdsCliContext, source, options);
    });
  group
    .command('show')
    .description('summarise the imported BLOB: no, nextUpdate, entries, statuses')
    .argument('[dir]', 'index directory', DEFAULT_MDS_DIR)
    .option('--json', 'print the summary as JSON')
    .action((dir: string, options: { json?: boolean }) => {
      const index = loadMdsIndex(dir);
      const summary = showSummary(index, ctx.clock());
      if (options.json) ctx.out(`${JSON.stringify(summary, null, 2)}\n`);
      else ctx.out(renderSummary(summary));
    });
  group
    .command('lookup')
    .description('look up a model by AAGUID (or attestation key identifier, or AAID)')
    .argument('<id>', 'AAGUID, 40-hex key identifier or AAID')
    .argument('[dir]', 'index directory', DEFAULT_MDS_DIR)
    .option('--json', 'print the entry as JSON')
    .action((id: string, dir: string, options: { json?: boolean }) => {
      const index = loadMdsIndex(dir);
      const entry = index.byAaguid(id) ?? index.byKeyIdentifier(id) ?? index.byAaid(id);
      if (!entry) fail('NOT_FOUND', `no MDS entry for ${id} in BLOB no ${index.blob.no}`, { id });
      const view = entryView(index, entry);
      if (options.json) ctx.out(`${JSON.stringify(view, null, 2)}\n`);
      else ctx.out(renderEntry(view));
    });
}

async function runImport(ctx: MdsCliContext, source: string, options: ImportOptions): Promise<void> {
  if (options.root.length === 0)
    fail(
      'USAGE',
      `--root is required: the production root is GlobalSign Root CA - R3 (SHA-256 ${MDS_PRODUCTION_ROOT_SHA256})`,
    );
  const roots: Certificate[] = options.root.flatMap((file) => readCertificates(file));
  for (const root of roots)
    if (!isProductionMdsRoot(root))
      warn(
        ctx,
        `trusting MDS root "${root.subject.text}" (SHA-256 ${root.fingerprintSha256}), not the production root`,
      );
  const crls = options.crl.map((file) => readInputFile(file, 'CRL'));
  const time = options.at ? parseTimeOption(options.at) : ctx.clock();
  const jwt = /^https?:\/\//i.test(source)
    ? await fetchMdsBlob(source, {
        fetch: ctx.fetch ?? defaultFetch(),
        timeoutMs: parseTimeout(options.timeout),
      })
    : readBlobFile(source);
  const previous = readMdsIndexHeader(options.out);
  const blob = importMdsBlob(jwt, {
    roots,
    crls,
    time,
    ...(previous ? { lastNo: previous.no } : {}),
    ...(options.allowStale !== undefined ? { allowStale: options.allowStale } : {}),
  });
  // MDS §3.2: a new BLOB has a greater no. The same no with other content is not a re-import.
  if (previous && previous.no === blob.no && previous.digest !== blob.digest)
    fail('MDS_ROLLBACK', `BLOB no ${blob.no} differs from the BLOB no ${blob.no} imported before`, {
      no: blob.no,
    });
  saveMdsIndex(options.out, blob, jwt, ctx.clock());
  if (blob.staleAllowed !== null)
    warn(
      ctx,
      `BLOB no ${blob.no} is past its nextUpdate ${blob.nextUpdate}; accepted because: ${blob.staleAllowed}`,
    );
  const result = {
    imported: true,
    no: blob.no,
    nextUpdate: blob.nextUpdate,
    entries: blob.entries.length,
    algorithm: blob.algorithm,
    signer: blob.signer.subject,
    root: blob.root,
    staleAllowed: blob.staleAllowed,
    dir: options.out,
  };
  if (options.json) ctx.out(`${JSON.stringify(result, null, 2)}\n`);
  else
    ctx.out(
      `imported MDS BLOB no ${blob.no} (nextUpdate ${blob.nextUpdate}): ${blob.entries.length} entries, ` +
        `${blob.algorithm} by "${blob.signer.subject}" under "${blob.root.subject}"; stored in ${options.out}\n`,
    );
}

/** Read a BLOB file, refusing one past the size limit before reading it into memory. */
function readBlobFile(path: string): string {
  let size: number | undefined;
  try {
    size = statSync(path).size;
  } catch {
    // readInputFile reports the missing or unreadable file with IO_ERROR.
  }
  if (size !== undefined && size > MDS_MAX_BLOB_BYTES)
    fail('INPUT_TOO_LARGE', `${path} holds ${size} bytes, more than ${MDS_MAX_BLOB_BYTES}`, {
      size,
      limit: MDS_MAX_BLOB_BYTES,
    });
  return Buffer.from(readInputFile(path, 'MDS BLOB')).toString('utf8');
}

function readCertificates(file: string): Certificate[] {
  try {
    return parseCertificateBundle(readInputFile(file, 'root certificate'));
  } catch (err) {
    if (err instanceof ProvenanceError && err.code !== 'IO_ERROR')
      throw new ProvenanceError(err.code, `${file}: ${err.message}`, err.details);
    throw err;
  }
}

function parseTimeout(text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0 || ms > 600_000) fail('USAGE', '--timeout must be 1 to 600000 ms');
  return ms;
}

function defaultFetch(): FetchLike {
  return (url, init) => globalThis.fetch(url, init);
}

interface Summary {
  no: number;
  nextUpdate: string;
  stale: boolean;
  importedAt: string;
  algorithm: string;
  signer: string;
  root: { subject: string; spkiSha256: string };
  entries: number;
  denied: number;
  statuses: Record<string, number>;
}

function showSummary(index: MdsIndex & { importedAt: string }, now: number): Summary {
  const statuses: Record<string, number> = {};
  for (const e of index.blob.entries) {
    const key = e.status.current ?? 'NONE';
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  return {
    no: index.blob.no,
    nextUpdate: index.blob.nextUpdate,
    stale: now >= Date.parse(`${index.blob.nextUpdate}T00:00:00Z`),
    importedAt: index.importedAt,
    algorithm: index.blob.algorithm,
    signer: index.blob.signer.subject,
    root: index.blob.root,
    entries: index.blob.entries.length,
    denied: index.blob.entries.filter((e) => e.status.deny).length,
    statuses: Object.fromEntries(Object.entries(statuses).sort(([a], [b]) => a.localeCompare(b))),
  };
}

function renderSummary(s: Summary): string {
  const lines = [
    `MDS BLOB no ${s.no}, nextUpdate ${s.nextUpdate}${s.stale ? ' (STALE: import a newer BLOB)' : ''}`,
    `imported ${s.importedAt}; ${s.algorithm} by "${s.signer}"`,
    `root "${s.root.subject}" (SPKI SHA-256 ${s.root.spkiSha256})`,
    `${s.entries} entries, ${s.denied} denied by their status`,
    'statuses (latest report per entry):',
    ...Object.entries(s.statuses).map(([status, n]) => `  ${status.padEnd(30)} ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

interface EntryView {
  aaguid: string | null;
  aaid: string | null;
  attestationCertificateKeyIdentifiers: readonly string[];
  description: string | null;
  protocolFamily: string | null;
  status: MdsEntry['status'];
  timeOfLastStatusChange: string | null;
  anchors: { id: string; subject: string; spkiSha256: string; notAfter: string | null }[];
  unparsedRoots: number;
  blob: { no: number; nextUpdate: string };
}

function entryView(index: MdsIndex, entry: MdsEntry): EntryView {
  const anchors = index.anchors(entry);
  return {
    aaguid: entry.aaguid,
    aaid: entry.aaid,
    attestationCertificateKeyIdentifiers: entry.attestationCertificateKeyIdentifiers,
    description: entry.description,
    protocolFamily: entry.protocolFamily,
    status: entry.status,
    timeOfLastStatusChange: entry.timeOfLastStatusChange,
    anchors: anchors.map((a) => ({
      id: a.id,
      subject: a.subject.text,
      spkiSha256: a.spkiSha256,
      notAfter: a.certificate ? new Date(a.certificate.notAfter).toISOString() : null,
    })),
    unparsedRoots: entry.attestationRootCertificates.length - anchors.length,
    blob: { no: index.blob.no, nextUpdate: index.blob.nextUpdate },
  };
}

function renderEntry(v: EntryView): string {
  const s = v.status;
  const lines = [
    `${v.description ?? '(no description)'}${v.protocolFamily ? ` [${v.protocolFamily}]` : ''}`,
    ...(v.aaguid ? [`aaguid: ${v.aaguid}`] : []),
    ...(v.aaid ? [`aaid: ${v.aaid}`] : []),
    ...v.attestationCertificateKeyIdentifiers.map((k) => `key identifier: ${k}`),
    `status: ${s.current ?? 'none'}${s.effectiveDate ? ` since ${s.effectiveDate}` : ''}` +
      (s.deny ? ` -> DENY (${s.denyReason})` : ''),
    `level: ${s.level ?? 'not certified'}${s.fipsLevel ? `, FIPS 140 level ${s.fipsLevel}` : ''}`,
    ...(s.compromisedKeys.length > 0
      ? [`compromised attestation keys: ${s.compromisedKeys.join(', ')}`]
      : []),
    `anchors (${v.anchors.length}, formats: webauthn):`,
    ...v.anchors.map((a) => `  ${a.id}  ${a.subject}  SPKI SHA-256 ${a.spkiSha256}`),
    ...(v.unparsedRoots > 0
      ? [`  (${v.unparsedRoots} root certificate(s) did not parse and are not trusted)`]
      : []),
    `from MDS BLOB no ${v.blob.no} (nextUpdate ${v.blob.nextUpdate})`,
  ];
  return `${lines.join('\n')}\n`;
}
