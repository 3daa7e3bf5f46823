/**
 * `npm run conformance:vectors [-- options]`: run every vector file of ../shared/vectors for the
 * hardware families (yubikey-piv, tpm, webauthn, android-key, apple, cloud-hsm, fido-mds, roca)
 * through the public API at its pinned time, compare with the hand-written expectations
 * (scripts/conformance-vectors/expectations.ts) and print, per category, accepted / rejected /
 * parsed / as expected, then every vector rejected on purpose with the reason, then every
 * unexpected result.
 *
 * Options:
 *   --json         print exactly one JSON object on stdout:
 *                  { "<category>": { total, asExpected, unexpected: [file…], onPurpose: [{file, reason}] } }
 *   --dir DIR      the vectors directory (default: ../shared/vectors next to the repository)
 *   --only LIST    comma-separated categories to run (default: all)
 *   --verbose      print every entry with its actual outcome
 *   --no-fail      exit 0 even when something is unexpected
 *
 * Exit code: 0 when every entry is as expected (or --no-fail), 1 when something is unexpected,
 * 2 for a usage error or a missing vectors directory.
 *
 * @example
 * npm run conformance:vectors
 * npm run conformance:vectors -- --json --only tpm,roca
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fail, isProvenanceError } from '../src/core/errors.js';
import { runAndroidKey } from './conformance-vectors/android-key.js';
import { runApple } from './conformance-vectors/apple.js';
import { runCloudHsm } from './conformance-vectors/cloud-hsm.js';
import { EXPECTATIONS, type ExpectationRule, expectationFor } from './conformance-vectors/expectations.js';
import { runFidoMds } from './conformance-vectors/fido-mds.js';
import {
  type Actual,
  CATEGORIES,
  type Category,
  type CategorySummary,
  type EntryResult,
  type Expectation,
  meets,
  summarize,
} from './conformance-vectors/model.js';
import { runRoca } from './conformance-vectors/roca.js';
import { runTpm } from './conformance-vectors/tpm.js';
import { Vectors } from './conformance-vectors/vectors.js';
import { runWebauthn } from './conformance-vectors/webauthn.js';
import { runYubikey, YUBIKEY_COMBINATIONS } from './conformance-vectors/yubikey-piv.js';

type Runner = (v: Vectors, entry: string, exp: Expectation | null) => Actual;

const RUNNERS: Readonly<Record<Category, Runner>> = {
  'yubikey-piv': runYubikey,
  tpm: runTpm,
  webauthn: runWebauthn,
  'android-key': runAndroidKey,
  apple: runApple,
  'cloud-hsm': runCloudHsm,
  'fido-mds': runFidoMds,
  roca: (v, f) => runRoca(v, f),
};

/** Entries that are combinations of files, not files (documented negative pairings). */
const COMBINATIONS: Readonly<Partial<Record<Category, readonly string[]>>> = {
  'yubikey-piv': YUBIKEY_COMBINATIONS,
};

/** What `runConformance` takes. */
export interface ConformanceOptions {
  /** The vectors directory (holds manifest.json). */
  readonly dir: string;
  /** Categories to run (default: all). */
  readonly only?: readonly Category[];
  /** The expectations (default: the table in expectations.ts). */
  readonly expectations?: readonly ExpectationRule[];
}

/** Everything one run found. */
export interface ConformanceReport {
  readonly results: readonly EntryResult[];
  readonly summary: Record<Category, CategorySummary>;
  readonly elapsedMs: number;
}

/**
 * Run every entry (manifest files plus documented combinations) of the chosen categories.
 *
 * @example
 * const r = runConformance({ dir: '../shared/vectors', only: ['roca'] });
 * r.summary.roca.unexpected;   // []
 */
export function runConformance(options: ConformanceOptions): ConformanceReport {
  const t0 = performance.now();
  const v = new Vectors(options.dir);
  const only = new Set<Category>(options.only ?? CATEGORIES);
  const rules = options.expectations ?? EXPECTATIONS;
  const entries: { category: Category; file: string }[] = [];
  const manifest = v.manifest();
  for (const f of manifest) if (only.has(f.category)) entries.push({ category: f.category, file: f.dest });
  // A combination runs when the manifest lists every file it names.
  const listed = new Set(manifest.map((f) => f.dest));
  for (const c of CATEGORIES)
    if (only.has(c))
      for (const file of COMBINATIONS[c] ?? [])
        if (file.split(' ⊕ ').every((part) => listed.has(part))) entries.push({ category: c, file });

  const results: EntryResult[] = entries.map(({ category, file }) => {
    const expected = expectationFor(file, rules);
    // A combination names several files; a manifest file must exist.
    const actual: Actual =
      file.includes(' ⊕ ') || v.exists(file)
        ? RUNNERS[category](v, file, expected)
        : { outcome: 'error', code: 'IO_ERROR', message: 'listed in manifest.json but missing' };
    return { category, file, expected, actual, asExpected: meets(expected, actual) };
  });
  const summary = summarize(results);
  if (options.only)
    for (const c of CATEGORIES) if (!only.has(c)) delete (summary as Partial<typeof summary>)[c];
  return { results, summary, elapsedMs: performance.now() - t0 };
}

function describeActual(a: Actual): string {
  return a.outcome === 'reject' || a.outcome === 'error'
    ? `${a.outcome} ${a.code}${a.message ? `: ${a.message}` : ''}`
    : `${a.outcome}${a.message ? ` (${a.message})` : ''}`;
}

function describeExpected(e: Expectation | null): string {
  if (e === null) return 'no expectation in the table';
  return e.outcome === 'reject' ? `reject ${e.code}` : e.outcome;
}

/** The human report. */
export function formatReport(r: ConformanceReport, verbose = false): string {
  const lines: string[] = [];
  const cats = CATEGORIES.filter((c) => r.summary[c] !== undefined);
  lines.push(
    `Vector conformance: ${r.results.length} entries in ${cats.length} categories, ${(r.elapsedMs / 1000).toFixed(1)} s`,
    '',
    `${'category'.padEnd(13)}${'total'.padStart(7)}${'accepted'.padStart(10)}${'rejected'.padStart(10)}${'parsed'.padStart(8)}${'errors'.padStart(8)}${'expected'.padStart(10)}${'unexpected'.padStart(12)}`,
  );
  for (const c of cats) {
    const rs = r.results.filter((x) => x.category === c);
    const n = (o: Actual['outcome']) => String(rs.filter((x) => x.actual.outcome === o).length);
    const s = r.summary[c];
    lines.push(
      `${c.padEnd(13)}${String(s.total).padStart(7)}${n('accept').padStart(10)}${n('reject').padStart(10)}${n('parse').padStart(8)}${n('error').padStart(8)}${String(s.asExpected).padStart(10)}${String(s.unexpected.length).padStart(12)}`,
    );
  }
  const onPurpose = cats.flatMap((c) => r.summary[c].onPurpose.map((p) => ({ c, ...p })));
  if (onPurpose.length > 0) {
    lines.push('', 'Rejected on purpose:');
    for (const p of onPurpose) {
      const code = r.results.find((x) => x.file === p.file)?.actual.code;
      lines.push(`  [${p.c}] ${p.file}: ${code}: ${p.reason}`);
    }
  }
  const unexpected = r.results.filter((x) => !x.asExpected);
  if (unexpected.length > 0) {
    lines.push('', 'Unexpected:');
    for (const x of unexpected)
      lines.push(
        `  [${x.category}] ${x.file}: expected ${describeExpected(x.expected)}, got ${describeActual(x.actual)}`,
      );
  }
  if (verbose) {
    lines.push('', 'All entries:');
    for (const x of r.results)
      lines.push(
        `  ${x.asExpected ? 'ok  ' : 'FAIL'} [${x.category}] ${x.file}: ${describeActual(x.actual)}`,
      );
  }
  lines.push(
    '',
    unexpected.length === 0 ? 'All entries as expected.' : `${unexpected.length} unexpected.`,
    '',
  );
  return lines.join('\n');
}

/** Parsed command line. */
export interface ConformanceArgs {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly noFail: boolean;
  readonly dir?: string;
  readonly only?: Category[];
}

/** Parse the options; USAGE for anything unknown. */
export function parseConformanceArgs(argv: readonly string[]): ConformanceArgs {
  let json = false;
  let verbose = false;
  let noFail = false;
  let dir: string | undefined;
  let only: Category[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => argv[++i] ?? fail('USAGE', `${a} needs a value`);
    if (a === '--json') json = true;
    else if (a === '--verbose') verbose = true;
    else if (a === '--no-fail') noFail = true;
    else if (a === '--dir') dir = value();
    else if (a === '--only') {
      only = value()
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((s) =>
          (CATEGORIES as readonly string[]).includes(s)
            ? (s as Category)
            : fail('USAGE', `unknown category "${s}" (one of ${CATEGORIES.join(', ')})`),
        );
    } else
      fail('USAGE', `unknown option "${a}" (options: --json, --dir DIR, --only LIST, --verbose, --no-fail)`);
  }
  return { json, verbose, noFail, ...(dir === undefined ? {} : { dir }), ...(only ? { only } : {}) };
}

/** ../shared/vectors next to the repository root (found from this file, in src or dist). */
export function defaultVectorsDir(from: string = fileURLToPath(import.meta.url)): string {
  let d = dirname(from);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'scripts')))
      return join(d, '..', 'shared', 'vectors');
    d = dirname(d);
  }
  return resolve('..', 'shared', 'vectors');
}

/** Run from the command line; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): Promise<number> {
  try {
    const args = parseConformanceArgs(argv);
    const dir = resolve(args.dir ?? defaultVectorsDir());
    if (!existsSync(join(dir, 'manifest.json'))) {
      err.write(`conformance:vectors: no manifest.json in ${dir} (use --dir)\n`);
      return 2;
    }
    const report = runConformance({ dir, ...(args.only ? { only: args.only } : {}) });
    out.write(args.json ? `${JSON.stringify(report.summary)}\n` : formatReport(report, args.verbose));
    const unexpected = report.results.some((x) => !x.asExpected);
    return unexpected && !args.noFail ? 1 : 0;
  } catch (e) {
    err.write(`conformance:vectors: ${isProvenanceError(e) ? `${e.code}: ${e.message}` : String(e)}\n`);
    return isProvenanceError(e) && e.code === 'USAGE' ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
