/**
 * Policy evaluation: a pure function of the policy and what the verifier established (the
 * validated path, the claims, how freshness was shown). Every step leaves a finding, so a
 * decision explains itself: which anchor ended the path, each deny check, each requirement,
 * which allow rule matched which path entry (or why none counted).
 *
 * Order and precedence (docs/policy.md, "Semantics"):
 *   1. the path ends at an anchor of this policy that is trusted for the format;
 *   2. deny checks, which always win: listed keys, ROCA, weak keys, firmware ranges;
 *   3. global requirements;
 *   4. allow rules: with none, any path to a trusted anchor is allowed; otherwise a rule
 *      counts when the path contains one of its keys (by SPKI SHA-256) and its own
 *      requirements hold. No rule counting means reject.
 * The decision's code is the first failure in that order.
 *
 * @example
 * const decision = evaluatePolicy(policy, { format: 'provenance', path, claims, freshness: 'nonce', anchorId });
 * if (!decision.accepted) console.log(decision.code, decision.findings.filter((f) => !f.ok));
 */
import { isProvenanceError } from '../core/errors.js';
import { describeKey, type KeyDescription } from '../pki/keys.js';
import { hasRocaFingerprint } from '../pki/roca.js';
import { findRsaWeaknesses } from '../pki/weak-keys.js';
import { checkLists, matchListRule, type PolicyContext } from './lists.js';
import type { AllowRule, Policy } from './model.js';
import { checkRequirements, type RequirementContext, type RequirementResult } from './requirements.js';
import type { Finding, PathEntry, PolicyDecision, PolicyInput } from './types.js';
import { parseVersion, versionInRange } from './versions.js';

/**
 * Decide whether the evidence described by `input` is acceptable under `policy`.
 * Never throws for bad input data: every problem becomes a failed finding.
 *
 * @example
 * evaluatePolicy(policy, input).code   // 'ACCEPTED' | 'POLICY_NO_MATCH' | 'KEY_ROCA_VULNERABLE' | …
 */
export function evaluatePolicy(
  policy: Policy,
  input: PolicyInput,
  context: PolicyContext = {},
): PolicyDecision {
  const findings: Finding[] = [];
  const { path } = input;
  if (path.length === 0) {
    findings.push({
      check: 'policy.path',
      ok: false,
      code: 'PATH_NOT_FOUND',
      message: 'the validated path is empty',
    });
    return decide(findings, path);
  }

  checkAnchor(policy, input, findings);
  const keys = describeKeys(path, findings);
  checkDeny(policy, input, keys, findings);
  // Step 2b: signed token lists (revocations beat allow rules, as deny rules do).
  const lists = checkLists(policy, input, context, findings);

  const attested = keys[0] ?? null;
  const ctx: RequirementContext = {
    claims: input.claims,
    freshness: input.freshness,
    key: attested && 'description' in attested ? attested.description : null,
  };
  for (const r of checkRequirements(policy.require, ctx)) findings.push(requirementFinding(r));

  const allowed = checkAllow(policy, input, ctx, findings, lists);
  return decide(findings, path, allowed);
}

type DescribedKey = { description: KeyDescription } | { error: string };

/** Describe every key in the path once; a key that does not decode fails closed. */
function describeKeys(path: readonly PathEntry[], findings: Finding[]): DescribedKey[] {
  return path.map((entry) => {
    try {
      return { description: describeKey(entry.spki) };
    } catch (err) {
      const code = isProvenanceError(err) ? err.code : 'KEY_MALFORMED';
      const message = err instanceof Error ? err.message : String(err);
      findings.push({
        check: 'policy.key',
        ok: false,
        code,
        message: `${label(entry)}: the public key cannot be checked: ${message}`,
        position: entry.position,
        detail: { spkiSha256: entry.spkiSha256 },
      });
      return { error: message };
    }
  });
}

/** Step 1: the path ends at one of this policy's anchors, trusted for this format (by key, not name). */
function checkAnchor(policy: Policy, input: PolicyInput, findings: Finding[]): void {
  const last = input.path[input.path.length - 1]!;
  if (policy.anchors.length === 0) {
    findings.push({
      check: 'policy.anchor',
      ok: false,
      code: 'TRUST_NO_ANCHORS',
      message: 'the policy trusts no anchor',
    });
    return;
  }
  const byKey = policy.anchors.filter((a) => a.spkiSha256 === last.spkiSha256);
  const anchor = byKey.find((a) => a.id === input.anchorId) ?? byKey[0];
  const position = last.position;
  if (anchor === undefined) {
    findings.push({
      check: 'policy.anchor',
      ok: false,
      code: 'PATH_NOT_FOUND',
      message: `the path ends at ${label(last)} (sha256:${last.spkiSha256}), which this policy does not trust`,
      position,
      detail: { spkiSha256: last.spkiSha256, anchorId: input.anchorId },
    });
    return;
  }
  // Architecture, "Policy": an anchor for vendor A never validates format B.
  const scoped = anchor.formats === 'any' || anchor.formats.includes(input.format);
  const formats = anchor.formats === 'any' ? 'any' : anchor.formats.join(', ');
  findings.push({
    check: 'policy.anchor',
    ok: scoped,
    ...(scoped ? {} : { code: 'PATH_NOT_FOUND' as const }),
    message: scoped
      ? `the path ends at trusted anchor "${anchor.id}" (${anchor.subject.text}) for format ${input.format}`
      : `anchor "${anchor.id}" is not trusted for format ${input.format} (formats: ${formats})`,
    position,
    detail: { anchor: anchor.id, spkiSha256: anchor.spkiSha256, formats: anchor.formats },
  });
}

/** Step 2: deny checks. Each configured check leaves at least one finding. */
function checkDeny(
  policy: Policy,
  input: PolicyInput,
  keys: readonly DescribedKey[],
  findings: Finding[],
): void {
  const { deny } = policy;
  const { path } = input;

  if (deny.entries.length > 0) {
    const denied = new Map(deny.entries.map((e) => [e.spkiSha256, e]));
    let hits = 0;
    for (const entry of path) {
      const hit = denied.get(entry.spkiSha256);
      if (!hit) continue;
      hits++;
      findings.push({
        check: 'deny.entries',
        ok: false,
        code: 'POLICY_DENIED',
        message: `${label(entry)} is on the deny list: ${hit.reason}`,
        position: entry.position,
        detail: { spkiSha256: entry.spkiSha256, reason: hit.reason },
      });
    }
    if (hits === 0) {
      findings.push({
        check: 'deny.entries',
        ok: true,
        message: `no key in the path is on the deny list (${deny.entries.length} entries)`,
      });
    }
  }

  const rsa = path
    .map((entry, i) => ({ entry, key: keys[i]! }))
    .filter(
      (x): x is { entry: PathEntry; key: { description: KeyDescription } } =>
        'description' in x.key && x.key.description.rsaModulus !== undefined,
    );

  if (deny.roca) {
    // docs/standards §10.2, §10.4: test every RSA key, attestation keys in the chain included
    // (a ROCA-weak EK or attestation key lets an attacker vouch for software keys).
    let hits = 0;
    for (const { entry, key } of rsa) {
      if (!hasRocaFingerprint(key.description.rsaModulus!)) continue;
      hits++;
      findings.push({
        check: 'deny.roca',
        ok: false,
        code: 'KEY_ROCA_VULNERABLE',
        message: `${label(entry)} has the ROCA fingerprint (CVE-2017-15361): its RSA key can be factored`,
        position: entry.position,
        detail: { spkiSha256: entry.spkiSha256 },
      });
    }
    if (hits === 0) {
      findings.push({
        check: 'deny.roca',
        ok: true,
        message:
          rsa.length === 0
            ? 'no RSA key in the path: ROCA does not apply'
            : `none of the ${rsa.length} RSA key(s) in the path has the ROCA fingerprint`,
      });
    }
  }

  if (deny.weakKeys) {
    // Boulder goodkey habits: small factors, Fermat-close primes, weak exponents.
    let hits = 0;
    for (const { entry, key } of rsa) {
      const d = key.description;
      for (const w of findRsaWeaknesses(d.rsaModulus!, d.rsaExponent!)) {
        if (w.id === 'roca' && deny.roca) continue; // already reported by deny.roca
        hits++;
        findings.push({
          check: 'deny.weakKeys',
          ok: false,
          code: w.id === 'roca' ? 'KEY_ROCA_VULNERABLE' : 'POLICY_DENIED',
          message: `${label(entry)} is a weak key: ${w.message}`,
          position: entry.position,
          detail: { spkiSha256: entry.spkiSha256, weakness: w.id, ...w.detail },
        });
      }
    }
    if (hits === 0) {
      findings.push({
        check: 'deny.weakKeys',
        ok: true,
        message:
          rsa.length === 0
            ? 'no RSA key in the path: no weak-key checks apply'
            : `no known weakness in the ${rsa.length} RSA key(s) of the path`,
      });
    }
  }

  if (deny.firmware.length > 0) {
    const firmware = input.claims.firmware;
    const version = typeof firmware === 'string' ? parseVersion(firmware) : null;
    const ranges = deny.firmware.map((r) => r.text).join(' or ');
    if (version === null) {
      // A deny list names known-bad versions; an unstated version is not one of them. The
      // finding warns; policies that need a known version say so with require.firmware.
      findings.push({
        check: 'deny.firmware',
        ok: true,
        severity: 'warning',
        message:
          firmware === undefined
            ? `firmware is not stated by the evidence: the deny ranges (${ranges}) cannot be checked`
            : `firmware "${String(firmware)}" is not a dotted numeric version: the deny ranges (${ranges}) cannot be checked`,
      });
    } else {
      const hit = deny.firmware.find((r) => versionInRange(version, r));
      findings.push({
        check: 'deny.firmware',
        ok: hit === undefined,
        ...(hit === undefined ? {} : { code: 'POLICY_DENIED' as const }),
        message:
          hit === undefined
            ? `firmware ${firmware} is outside the denied ranges (${ranges})`
            : `firmware ${firmware} is denied (range ${hit.text})`,
        detail: { firmware, ...(hit ? { range: hit.text } : {}) },
      });
    }
  }
}

interface RuleMatch {
  readonly rule: AllowRule;
  readonly index: number;
  readonly positions: readonly number[];
  readonly failed: readonly RequirementResult[];
  /** The rule's level, or for a list rule without one, the matched list entry's level. */
  readonly level?: number;
}

/** Step 4: allow rules. Returns the rule that allowed, if any, and every rule that held. */
function checkAllow(
  policy: Policy,
  input: PolicyInput,
  ctx: RequirementContext,
  findings: Finding[],
  lists: ReturnType<typeof checkLists> = new Map(),
): { winner: RuleMatch | null; held: readonly RuleMatch[] } {
  if (policy.allow.length === 0) {
    findings.push({
      check: 'policy.allow',
      ok: true,
      severity: 'info',
      message: 'the policy has no allow rules: any path to a trusted anchor is allowed',
    });
    return { winner: null, held: [] };
  }

  const positionsByKey = new Map<string, number[]>();
  for (const entry of input.path) {
    const list = positionsByKey.get(entry.spkiSha256) ?? [];
    list.push(entry.position);
    positionsByKey.set(entry.spkiSha256, list);
  }

  const matches: RuleMatch[] = [];
  policy.allow.forEach((rule, index) => {
    const listed = rule.list === undefined ? null : matchListRule(rule.list, lists, input.path);
    const positions =
      listed?.positions ??
      [...new Set(rule.entries.flatMap((e) => positionsByKey.get(e.spkiSha256) ?? []))].sort((a, b) => a - b);
    if (positions.length === 0) return;
    const failed = checkRequirements(rule.require, ctx).filter((r) => !r.ok);
    const level = rule.level ?? listed?.level;
    const match: RuleMatch = { rule, index, positions, failed, ...(level === undefined ? {} : { level }) };
    matches.push(match);
    const entry = input.path.find((e) => e.position === positions[0])!;
    findings.push({
      check: 'policy.allow',
      ok: failed.length === 0,
      // A rule that matched but whose requirements fail does not count; it is reported, and
      // decides the outcome only if no other rule counts (below).
      severity: failed.length === 0 ? 'info' : 'warning',
      ...(failed.length === 0 ? {} : { code: 'POLICY_REQUIREMENT_FAILED' as const }),
      message:
        failed.length === 0
          ? `rule "${rule.id}"${levelText(match)} matches ${label(entry)}`
          : `matched ${rule.id} but ${failed.map((f) => f.message).join('; ')} (entry: ${label(entry)})`,
      position: entry.position,
      detail: {
        rule: rule.id,
        positions,
        ...(level === undefined ? {} : { level }),
        ...(listed ? { list: rule.list!.id, listEntries: listed.entries } : {}),
        ...(failed.length === 0
          ? {}
          : {
              failed: failed.map((f) => ({
                requirement: f.requirement,
                required: f.required,
                actual: f.actual,
              })),
            }),
      },
    });
  });

  const held = matches.filter((m) => m.failed.length === 0);
  // The strongest assurance wins; then the entry nearest the attested key (the most specific
  // rule); then file order.
  const winner =
    [...held].sort(
      (a, b) => (b.level ?? -1) - (a.level ?? -1) || a.positions[0]! - b.positions[0]! || a.index - b.index,
    )[0] ?? null;

  if (winner) {
    const entry = input.path.find((e) => e.position === winner.positions[0])!;
    findings.push({
      check: 'policy.allow',
      ok: true,
      message: `allowed by rule "${winner.rule.id}"${levelText(winner)}: ${label(entry)} is on the allow list`,
      position: entry.position,
      detail: {
        rule: winner.rule.id,
        ...(winner.level === undefined ? {} : { level: winner.level }),
      },
    });
  } else if (matches.length > 0) {
    findings.push({
      check: 'policy.allow',
      ok: false,
      code: 'POLICY_REQUIREMENT_FAILED',
      message: `no allow rule holds: ${matches.map((m) => `matched ${m.rule.id} but ${m.failed.map((f) => f.message).join('; ')}`).join('; ')}`,
      detail: { rules: matches.map((m) => m.rule.id) },
    });
  } else {
    findings.push({
      check: 'policy.allow',
      ok: false,
      code: 'POLICY_NO_MATCH',
      message: `no allow rule matches the path (${policy.allow.length} rule(s) checked against ${input.path.length} key(s))`,
      detail: { rules: policy.allow.length },
    });
  }
  return { winner, held };
}

function requirementFinding(r: RequirementResult): Finding {
  return {
    check: `require.${r.requirement}`,
    ok: r.ok,
    ...(r.code === undefined ? {} : { code: r.code }),
    message: r.message,
    detail: { required: r.required, actual: r.actual },
  };
}

/** The decision: the first failure (not a warning) gives the code; accepted when there is none. */
function decide(
  findings: Finding[],
  path: readonly PathEntry[],
  allowed: { winner: RuleMatch | null; held: readonly RuleMatch[] } = { winner: null, held: [] },
): PolicyDecision {
  const failure = findings.find((f) => !f.ok && (f.severity ?? 'error') === 'error');
  const annotated = path.map((entry) => {
    const rules = allowed.held.filter((m) => m.positions.includes(entry.position)).map((m) => m.rule.id);
    return rules.length === 0 ? entry : { ...entry, matchedRules: rules };
  });
  const winner = failure === undefined ? allowed.winner : null;
  return {
    accepted: failure === undefined,
    code: failure === undefined ? 'ACCEPTED' : (failure.code ?? 'INTERNAL'),
    ...(winner ? { matchedRule: winner.rule.id } : {}),
    ...(winner && winner.level !== undefined ? { level: winner.level } : {}),
    findings,
    path: annotated,
  };
}

function levelText(match: { readonly level?: number }): string {
  return match.level === undefined ? '' : ` (level ${match.level})`;
}

/** "the attested key" or "CN=Gemalto Smartcards (position 2)": display only. */
function label(entry: PathEntry): string {
  if (entry.position === 0 || entry.role === 'attested-key') return 'the attested key';
  return `${entry.subject ?? `sha256:${entry.spkiSha256.slice(0, 16)}…`} (position ${entry.position})`;
}
