/**
 * The vocabulary of `npm run conformance:vectors`: what a vector file is expected to do
 * (`Expectation`, written by hand in expectations.ts), what it did through the public API
 * (`Actual`, produced by the family runners), and how the two are compared and summed up.
 */
import { isProvenanceError } from '../../src/core/errors.js';

/** The vector families of ../shared/vectors this command runs (MANIFEST.md §1–§8). */
export const CATEGORIES = [
  'yubikey-piv',
  'tpm',
  'webauthn',
  'android-key',
  'apple',
  'cloud-hsm',
  'fido-mds',
  'roca',
] as const;

/** One vector family. */
export type Category = (typeof CATEGORIES)[number];

/**
 * What a vector file is for:
 * - `accept`: evidence the public API must accept at the pinned time;
 * - `reject`: evidence it must refuse, with exactly `code`;
 * - `parse`: a support file (root, intermediate, CRL, expected JSON, meta.json, key file)
 *   that the project's strict parser for its kind must read without error.
 */
export type Outcome = 'accept' | 'reject' | 'parse';

/** The hand-written expectation for one vector file (or one documented combination of files). */
export interface Expectation {
  readonly outcome: Outcome;
  /** The error code a `reject` must carry. */
  readonly code?: string;
  /** The pinned verification instant (ms since the epoch), for recorded evidence. */
  readonly at?: number;
  /** The challenge the evidence is bound to (base64url), when the format takes one. */
  readonly challenge?: string;
  /**
   * Why the vector is refused on purpose (required for `reject`): a genuine vector the policy
   * refuses (e.g. a SHA-1 signature), or a negative test by construction.
   */
  readonly reason?: string;
  /**
   * For a `reject`: a phrase the refusal's message must contain, when one code covers several
   * reasons (so a refusal for another reason does not count as expected).
   */
  readonly messageIncludes?: string;
  /** A note shown with the result (what the source says, how the case is assembled). */
  readonly note?: string;
}

/** What running one entry through the public API did. */
export interface Actual {
  /** `error`: a non-ProvenanceError escaped (a bug: always unexpected). */
  readonly outcome: Outcome | 'error';
  readonly code?: string;
  readonly message?: string;
}

/** One entry's result. */
export interface EntryResult {
  readonly category: Category;
  /** The vector file (path under vectors/), or `a ⊕ b` for a documented combination. */
  readonly file: string;
  readonly expected: Expectation | null;
  readonly actual: Actual;
  readonly asExpected: boolean;
}

/** The per-category summary that `--json` prints. */
export interface CategorySummary {
  readonly total: number;
  readonly asExpected: number;
  readonly unexpected: string[];
  readonly onPurpose: { file: string; reason: string }[];
}

/** Turn a thrown value into an Actual: ProvenanceError → reject with its code, else error. */
export function actualFromError(e: unknown): Actual {
  if (isProvenanceError(e)) return { outcome: 'reject', code: e.code, message: e.message };
  return { outcome: 'error', code: 'UNCAUGHT', message: e instanceof Error ? e.message : String(e) };
}

/** Run `fn`; its return is the Actual, a throw is mapped by `actualFromError`. */
export function attempt(fn: () => Actual): Actual {
  try {
    return fn();
  } catch (e) {
    return actualFromError(e);
  }
}

/** Does `actual` meet `expected`? A reject must carry the expected code. */
export function meets(expected: Expectation | null, actual: Actual): boolean {
  if (expected === null) return false;
  if (actual.outcome !== expected.outcome) return false;
  if (expected.outcome === 'reject')
    return (
      actual.code === expected.code &&
      (expected.messageIncludes === undefined || (actual.message ?? '').includes(expected.messageIncludes))
    );
  return true;
}

/** Sum the results per category, in CATEGORIES order (every category present). */
export function summarize(results: readonly EntryResult[]): Record<Category, CategorySummary> {
  const out = {} as Record<Category, CategorySummary>;
  for (const c of CATEGORIES) out[c] = { total: 0, asExpected: 0, unexpected: [], onPurpose: [] };
  for (const r of results) {
    const s = out[r.category];
    (s as { total: number }).total++;
    if (r.asExpected) (s as { asExpected: number }).asExpected++;
    else s.unexpected.push(r.file);
    if (r.asExpected && r.expected?.outcome === 'reject')
      s.onPurpose.push({ file: r.file, reason: r.expected.reason ?? r.expected.code ?? 'reject' });
  }
  return out;
}
