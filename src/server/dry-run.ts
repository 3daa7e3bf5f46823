/**
 * Policy dry run: evaluate a draft policy over the stored policy inputs of the last N
 * enrollments and list the decisions that would change. Files the draft names are resolved
 * relative to the live policy's folder and must stay inside it: an administrator with the
 * dry-run scope cannot make the service read arbitrary files.
 *
 * @example
 * const report = await dryRunPolicy({ store, text: draftYaml, baseDir: '/etc/provenance', limit: 100 });
 * report.changed   // [{ enrollmentId, before: { code, rule }, after: { code, rule } }]
 */
import { readFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { evaluatePolicy } from '../policy/evaluate.js';
import type { PolicyContext } from '../policy/lists.js';
import { parsePolicy } from '../policy/load.js';
import type { Policy } from '../policy/model.js';
import type { PolicyDecision, PolicyInput } from '../policy/types.js';
import type { EnrollmentRecord, StoreRepositories } from '../store/types.js';
import { revivePolicyInput } from './minimise.js';

/** One decision and the rule behind it. */
export interface DecisionSummary {
  readonly code: string;
  readonly rule: string | null;
}

/** What a dry run found. */
export interface DryRunReport {
  /** The draft's digest. */
  readonly digest: string;
  /** Enrollments re-evaluated. */
  readonly evaluated: number;
  /** Enrollments without a stored policy input (rejected before the policy stage). */
  readonly skipped: number;
  readonly changed: readonly {
    readonly enrollmentId: string;
    readonly before: DecisionSummary;
    readonly after: DecisionSummary;
  }[];
}

/** Options of a dry run. */
export interface DryRunOptions {
  readonly store: Pick<StoreRepositories, 'enrollments'>;
  /** The draft policy, YAML. */
  readonly text: string;
  /** The live policy's folder: the draft's files resolve here, and must stay inside. */
  readonly baseDir: string;
  readonly limit: number;
  /** File access (default: fs.readFileSync). */
  readonly readFile?: (path: string) => Uint8Array;
  /** The service's current token lists and the instant to judge them at (a draft naming lists needs them). */
  readonly context?: PolicyContext;
}

/** Evaluate the draft over the last `limit` enrollments. POLICY_INVALID names the line. */
export async function dryRunPolicy(options: DryRunOptions): Promise<DryRunReport> {
  const draft = parseDraftPolicy(options.text, options.baseDir, options.readFile);
  const records = await options.store.enrollments.recent(options.limit);
  let evaluated = 0;
  let skipped = 0;
  const changed: DryRunReport['changed'][number][] = [];
  for (const r of records) {
    const outcome = reevaluateEnrollment(draft, r, (p, input) => evaluatePolicy(p, input, options.context));
    if (outcome === null) {
      skipped++;
      continue;
    }
    evaluated++;
    const { before, after } = outcome;
    if (before.code !== after.code || before.rule !== after.rule)
      changed.push({ enrollmentId: r.id, before, after });
  }
  return { digest: draft.digest, evaluated, skipped, changed };
}

/**
 * Parse a draft policy whose files resolve in `baseDir` and must stay inside it (an
 * administrator sending YAML must not make the service read arbitrary files).
 * POLICY_INVALID names the line.
 */
export function parseDraftPolicy(
  text: string,
  baseDir: string,
  readFile?: (path: string) => Uint8Array,
): Policy {
  const base = resolve(baseDir);
  const read = readFile ?? ((p: string) => new Uint8Array(readFileSync(p)));
  return parsePolicy(text, {
    source: 'draft',
    baseDir: base,
    readFile: (path) => {
      const rel = relative(base, resolve(path));
      if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || resolve(base, rel) !== resolve(path))
        // A plain Error: the policy loader wraps it as POLICY_INVALID naming the line and this message.
        throw new Error(`only files inside the live policy's folder may be named (${base})`);
      return read(path);
    },
  });
}

/**
 * The decision on record for an enrollment and the one `policy` makes now over its stored
 * policy input (`evaluate`: evaluatePolicy, or one bound to more context); null when the enrollment has none (rejected before the policy stage).
 * Shared by the dry run and re-evaluation after a compromise (reevaluate.ts).
 */
export function reevaluateEnrollment(
  policy: Policy,
  record: Pick<EnrollmentRecord, 'policyInput' | 'code' | 'matchedRule'>,
  evaluate: (policy: Policy, input: PolicyInput) => PolicyDecision = evaluatePolicy,
): {
  readonly before: DecisionSummary;
  readonly after: DecisionSummary;
  readonly decision: PolicyDecision;
} | null {
  const input = revivePolicyInput(record.policyInput);
  if (input === null) return null;
  const decision = evaluate(policy, input);
  return {
    before: { code: record.code, rule: record.matchedRule },
    after: { code: decision.code, rule: decision.matchedRule ?? null },
    decision,
  };
}
