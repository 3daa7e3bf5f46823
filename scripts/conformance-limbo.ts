/**
 * `npm run conformance:limbo [-- options]`: run the x509-limbo testcases through validatePath
 * and print pass/fail/skip per relevance group (testcase-groups.tsv), then the A-core-chain
 * cases that did not pass, with the reason.
 *
 * Options:
 *   --full              also run limbo-full.json.gz (bettertls name constraints and path building)
 *   --out FILE          write x509-limbo's result format {version, harness, results}
 *   --profile P         'strict' (default) or 'default'
 *   --dir DIR           limbo directory (default: ../shared/limbo next to the repository)
 *   --timeout-ms N      per-case time bound (default 10000); a case over it counts as a hang
 *   --verbose           print every non-passing case, not only A-core-chain ones
 *
 * Every case runs in a worker thread watched by the main thread, so a case that hangs is cut
 * off at the bound, reported, and the run continues with the next case.
 * Exit code 0 when the A-core-chain bar holds (no FAILURE-expected case accepted, no hang,
 * at least 150 pass), else 1.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { KeyCache } from '../src/pki/keys.js';
import type { PathProfile } from '../src/pki/path.js';
import {
  type LimboOutcome,
  loadGroups,
  loadLimboFile,
  runLimboCase,
  summarize,
  toLimboResult,
} from './limbo-harness.js';

/** The issue's bar on the A-core-chain group (pyca/cryptography's figure). */
const CORE_GROUP = 'A-core-chain';
const CORE_MIN_PASS = 150;

interface WorkerInput {
  readonly file: string;
  /** Run only these testcase ids (all when absent). */
  readonly ids?: readonly string[];
  readonly start: number;
  readonly profile: PathProfile;
  readonly now: number;
}

type WorkerMessage =
  | { type: 'count'; count: number }
  | { type: 'start'; index: number; id: string; expected: 'SUCCESS' | 'FAILURE' }
  | { type: 'done'; outcome: LimboOutcome };

function workerMain(input: WorkerInput): void {
  const all = loadLimboFile(input.file);
  const wanted = input.ids ? new Set(input.ids) : null;
  const cases = wanted ? all.filter((tc) => wanted.has(tc.id)) : all;
  parentPort!.postMessage({ type: 'count', count: cases.length } satisfies WorkerMessage);
  const cache = new KeyCache();
  for (let i = input.start; i < cases.length; i++) {
    parentPort!.postMessage({
      type: 'start',
      index: i,
      id: cases[i]!.id,
      expected: cases[i]!.expected_result,
    } satisfies WorkerMessage);
    const outcome = runLimboCase(cases[i]!, { now: input.now, profile: input.profile, cache });
    parentPort!.postMessage({ type: 'done', outcome } satisfies WorkerMessage);
  }
}

/** Run every case of `file` in a worker; restart after a case that exceeds `timeoutMs`. */
async function runFile(
  file: string,
  ids: readonly string[] | undefined,
  profile: PathProfile,
  now: number,
  timeoutMs: number,
): Promise<LimboOutcome[]> {
  const outcomes: LimboOutcome[] = [];
  let start = 0;
  let count = Number.POSITIVE_INFINITY;
  while (start < count) {
    const hung = await new Promise<{ index: number; id: string; expected: 'SUCCESS' | 'FAILURE' } | null>(
      (resolveRun, reject) => {
        const worker = new Worker(fileURLToPath(import.meta.url), {
          workerData: { file, ...(ids ? { ids } : {}), start, profile, now } satisfies WorkerInput,
        });
        let timer: NodeJS.Timeout | undefined;
        let current: { index: number; id: string; expected: 'SUCCESS' | 'FAILURE' } | null = null;
        worker.on('message', (m: WorkerMessage) => {
          if (m.type === 'count') count = m.count;
          else if (m.type === 'start') {
            current = { index: m.index, id: m.id, expected: m.expected };
            timer = setTimeout(() => {
              void worker.terminate();
              resolveRun(current);
            }, timeoutMs);
          } else {
            clearTimeout(timer);
            outcomes.push(m.outcome);
          }
        });
        worker.on('error', reject);
        worker.on('exit', () => {
          clearTimeout(timer);
          resolveRun(null);
        });
      },
    );
    if (hung === null) break;
    outcomes.push({
      id: hung.id,
      expected: hung.expected,
      actual: 'FAILURE',
      context: `HANG: no result within ${timeoutMs} ms`,
      code: 'HANG',
      elapsedMs: timeoutMs,
    });
    start = hung.index + 1;
  }
  return outcomes;
}

function findRepoRoot(from: string): string {
  let dir = dirname(from);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'pki'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the repository root');
}

function parseArgs(argv: readonly string[]) {
  const opts = {
    full: false,
    out: undefined as string | undefined,
    profile: 'strict' as PathProfile,
    dir: undefined as string | undefined,
    timeoutMs: 10_000,
    verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--full') opts.full = true;
    else if (a === '--out') opts.out = value();
    else if (a === '--profile') {
      const p = value();
      if (p !== 'strict' && p !== 'default') throw new Error('--profile must be strict or default');
      opts.profile = p;
    } else if (a === '--dir') opts.dir = value();
    else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (a === '--verbose') opts.verbose = true;
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const dir = resolve(
    opts.dir ?? join(findRepoRoot(fileURLToPath(import.meta.url)), '..', 'shared', 'limbo'),
  );
  const file = join(dir, opts.full ? 'limbo-full.json.gz' : 'limbo-core.json');
  if (!existsSync(file)) {
    process.stderr.write(`limbo data not found at ${file} (use --dir)\n`);
    return 2;
  }
  const groups = loadGroups(join(dir, 'testcase-groups.tsv'));
  const now = Date.now();
  const t0 = performance.now();
  const outcomes = await runFile(file, undefined, opts.profile, now, opts.timeoutMs);
  if (!opts.full) {
    // The core file lacks the bettertls path-building cases that A-core-chain lists: take
    // exactly the grouped ids it lacks from the full file.
    const full = join(dir, 'limbo-full.json.gz');
    const have = new Set(outcomes.map((o) => o.id));
    const missing = [...groups.keys()].filter((id) => !have.has(id));
    if (missing.length > 0 && existsSync(full)) {
      outcomes.push(...(await runFile(full, missing, opts.profile, now, opts.timeoutMs)));
    }
  }
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);

  const out = process.stdout;
  out.write(`x509-limbo: ${outcomes.length} cases, profile '${opts.profile}', ${seconds} s\n\n`);
  out.write(
    `${'group'.padEnd(40)} ${'total'.padStart(6)} ${'pass'.padStart(6)} ${'fail'.padStart(6)} ${'skip'.padStart(6)}  false-accepts\n`,
  );
  const summary = summarize(outcomes, groups);
  for (const s of summary) {
    out.write(
      `${s.group.padEnd(40)} ${String(s.total).padStart(6)} ${String(s.pass).padStart(6)} ${String(s.fail).padStart(6)} ${String(s.skip).padStart(6)}  ${s.falseAccepts.length}\n`,
    );
  }
  const slowest = [...outcomes].sort((a, b) => b.elapsedMs - a.elapsedMs)[0];
  if (slowest) out.write(`\nslowest case: ${slowest.id} ${slowest.elapsedMs.toFixed(1)} ms\n`);

  const notPassing = outcomes.filter(
    (o) =>
      o.actual !== o.expected &&
      (opts.verbose || groups.get(o.id)?.group === CORE_GROUP || o.code === 'HANG'),
  );
  if (notPassing.length > 0) {
    out.write(`\n${opts.verbose ? 'cases' : `${CORE_GROUP} cases`} not passing:\n`);
    for (const o of notPassing)
      out.write(`  ${o.id}: expected ${o.expected}, got ${o.actual}: ${o.context}\n`);
  }

  if (opts.out) {
    writeFileSync(opts.out, `${JSON.stringify(toLimboResult(outcomes), null, 1)}\n`);
    out.write(`\nwrote ${opts.out}\n`);
  }

  const core = summary.find((s) => s.group === CORE_GROUP);
  const hangs = outcomes.filter((o) => o.code === 'HANG').length;
  const ok =
    core !== undefined && core.falseAccepts.length === 0 && hangs === 0 && core.pass >= CORE_MIN_PASS;
  out.write(
    `\n${CORE_GROUP} bar (no false accept, no hang, >= ${CORE_MIN_PASS} pass): ${ok ? 'MET' : 'NOT MET'}` +
      (core
        ? ` (${core.pass}/${core.total} pass, ${core.falseAccepts.length} false accepts, ${hangs} hangs)`
        : '') +
      '\n',
  );
  return ok ? 0 : 1;
}

if (isMainThread) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
} else {
  workerMain(workerData as WorkerInput);
}
