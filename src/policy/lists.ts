/**
 * The policy stage's use of signed token lists (docs/token-list.md, "Consuming a list"):
 * which lists are usable (loaded, verified, fresh, or stale under a stated exception), which
 * path entries a list revokes or suspends, which firmware a list entry refuses, and which path
 * entries an `allow[].list` rule matches. Pure: the caller loads and verifies the lists.
 *
 * @example
 * const usable = checkLists(policy, input, { lists, at }, findings);
 * const match = matchListRule(rule.list, usable, input.path);
 */
import {
  isListProblem,
  type TokenListEntry,
  type TokenListSet,
  type VerifiedTokenList,
} from '../trust/lists/types.js';
import type { AllowListRef, Policy } from './model.js';
import type { Finding, PathEntry, PolicyInput } from './types.js';
import { parseVersion, parseVersionRange, versionInRange } from './versions.js';

/** What evaluation may consult beyond the policy and the input; supplied by the caller. */
export interface PolicyContext {
  /** Lists by policy list id, as the caller loaded them (a missing id fails closed). */
  readonly lists?: TokenListSet;
  /** The evaluation instant (ms): a list past nextUpdate + grace at this time is stale. */
  readonly at?: number;
}

/**
 * Every list the policy names must be usable, or the decision fails closed with the list's own
 * code: without the list nobody can tell whether a key in the path has been revoked.
 * Then revocations and suspensions in usable lists deny (they beat any allow rule).
 */
export function checkLists(
  policy: Policy,
  input: PolicyInput,
  context: PolicyContext,
  findings: Finding[],
): ReadonlyMap<string, VerifiedTokenList> {
  const usable = new Map<string, VerifiedTokenList>();
  for (const config of policy.lists ?? []) {
    const loaded = context.lists?.get(config.id);
    let list: VerifiedTokenList | undefined;
    let stale: string | undefined;
    if (loaded === undefined) {
      findings.push({
        check: 'list.load',
        ok: false,
        code: 'LIST_UNAVAILABLE',
        message: `token list "${config.id}" (${config.source}) was not loaded: failing closed`,
        detail: { list: config.id },
      });
      continue;
    }
    if (isListProblem(loaded)) {
      if (loaded.code === 'LIST_STALE' && loaded.list !== undefined) {
        list = loaded.list;
        stale = loaded.message;
      } else {
        findings.push({
          check: 'list.load',
          ok: false,
          code: loaded.code,
          message: loaded.message,
          detail: { list: config.id },
        });
        continue;
      }
    } else {
      list = loaded;
      if (context.at !== undefined && context.at > list.nextUpdateMs + config.graceMs)
        stale = `token list "${config.id}" is stale: nextUpdate was ${list.nextUpdate}`;
    }
    if (stale !== undefined) {
      // A list nobody refreshes could be hiding a revocation: fail closed unless the policy
      // names the exception and its reason.
      if (config.allowStale === undefined) {
        findings.push({
          check: 'list.fresh',
          ok: false,
          code: 'LIST_STALE',
          message: `${stale}: failing closed`,
          detail: { list: config.id, nextUpdate: list.nextUpdate, sequence: list.sequence },
        });
        continue;
      }
      findings.push({
        check: 'list.fresh',
        ok: true,
        severity: 'warning',
        code: 'LIST_STALE',
        message: `${stale}; used anyway under the policy's exception: ${config.allowStale}`,
        detail: { list: config.id, nextUpdate: list.nextUpdate, allowStale: config.allowStale },
      });
    } else {
      findings.push({
        check: 'list.fresh',
        ok: true,
        severity: 'info',
        message: `token list "${config.id}" sequence ${list.sequence} from ${list.publisher}, fresh until ${list.nextUpdate}`,
        detail: { list: config.id, sequence: list.sequence },
      });
    }
    usable.set(config.id, list);
    checkRevocations(config.id, list, input, findings);
  }
  return usable;
}

/** Revoked keys or certificates, revoked or suspended entries, denied firmware: every path entry. */
function checkRevocations(
  id: string,
  list: VerifiedTokenList,
  input: PolicyInput,
  findings: Finding[],
): void {
  let hits = 0;
  const revokedKeys = new Map<string, string>();
  const revokedCerts = new Map<string, string>();
  for (const r of list.revoked) {
    if ('spkiSha256' in r) revokedKeys.set(r.spkiSha256, r.reason);
    else revokedCerts.set(r.certificateSha256, r.reason);
  }
  for (const entry of input.path) {
    const reason =
      revokedKeys.get(entry.spkiSha256) ??
      (entry.certificateSha256 === undefined ? undefined : revokedCerts.get(entry.certificateSha256));
    if (reason !== undefined) {
      hits++;
      findings.push({
        check: 'list.revoked',
        ok: false,
        code: 'LIST_REVOKED',
        message: `${label(entry)} is revoked by token list "${id}": ${reason}`,
        position: entry.position,
        detail: { list: id, spkiSha256: entry.spkiSha256, reason },
      });
    }
    for (const listed of entriesFor(list, entry.spkiSha256)) {
      if (listed.status === 'revoked' || listed.status === 'suspended') {
        hits++;
        findings.push({
          check: 'list.status',
          ok: false,
          code: 'LIST_REVOKED',
          message: `${label(entry)} is ${listed.status} in token list "${id}" (entry "${listed.id}", since ${listed.since})${listed.notes ? `: ${listed.notes}` : ''}`,
          position: entry.position,
          detail: { list: id, entry: listed.id, status: listed.status },
        });
      } else if (listed.status === 'deprecated') {
        findings.push({
          check: 'list.status',
          ok: true,
          severity: 'warning',
          message: `${label(entry)} is deprecated in token list "${id}" (entry "${listed.id}", since ${listed.since})`,
          position: entry.position,
          detail: { list: id, entry: listed.id, status: listed.status },
        });
      }
      if (listed.firmware && listed.firmware.denied.length > 0)
        hits += checkFirmware(id, listed, entry, input, findings);
    }
  }
  if (hits === 0) {
    findings.push({
      check: 'list.revoked',
      ok: true,
      message: `token list "${id}" revokes no key in the path (${list.revoked.length} revocation(s))`,
      detail: { list: id },
    });
  }
}

/** An entry's denied firmware ranges against the claims (unknown firmware warns, as `deny.firmware` does). */
function checkFirmware(
  id: string,
  listed: TokenListEntry,
  entry: PathEntry,
  input: PolicyInput,
  findings: Finding[],
): number {
  const ranges = listed.firmware!.denied.map(parseVersionRange);
  const text = ranges.map((r) => r.text).join(' or ');
  const firmware = input.claims.firmware;
  const version = typeof firmware === 'string' ? parseVersion(firmware) : null;
  if (version === null) {
    findings.push({
      check: 'list.firmware',
      ok: true,
      severity: 'warning',
      message: `token list "${id}" entry "${listed.id}" denies firmware ${text}, but the evidence states no usable firmware version`,
      position: entry.position,
      detail: { list: id, entry: listed.id },
    });
    return 0;
  }
  const hit = ranges.find((r) => versionInRange(version, r));
  findings.push({
    check: 'list.firmware',
    ok: hit === undefined,
    ...(hit === undefined ? {} : { code: 'POLICY_DENIED' as const }),
    message:
      hit === undefined
        ? `firmware ${firmware} is outside the ranges token list "${id}" denies for "${listed.id}" (${text})`
        : `firmware ${firmware} is denied by token list "${id}" for "${listed.id}" (range ${hit.text})`,
    position: entry.position,
    detail: { list: id, entry: listed.id, firmware, ...(hit ? { range: hit.text } : {}) },
  });
  return hit === undefined ? 0 : 1;
}

/**
 * Path entries an `allow[].list` rule matches: anchors of list entries with an accepted status
 * and a level at least `minLevel`. `level` is the highest matching entry's level.
 */
export function matchListRule(
  ref: AllowListRef,
  usable: ReadonlyMap<string, VerifiedTokenList>,
  path: readonly PathEntry[],
): { positions: number[]; level?: number; entries: string[] } {
  const list = usable.get(ref.id);
  if (list === undefined) return { positions: [], entries: [] };
  const positions = new Set<number>();
  const entries = new Set<string>();
  let level: number | undefined;
  for (const entry of path) {
    for (const listed of entriesFor(list, entry.spkiSha256)) {
      if (!ref.statuses.includes(listed.status)) continue;
      if (ref.minLevel !== undefined && listed.level < ref.minLevel) continue;
      positions.add(entry.position);
      entries.add(listed.id);
      level = Math.max(level ?? -1, listed.level);
    }
  }
  return {
    positions: [...positions].sort((a, b) => a - b),
    entries: [...entries],
    ...(level === undefined ? {} : { level }),
  };
}

function entriesFor(list: VerifiedTokenList, spkiSha256: string): TokenListEntry[] {
  return list.entries.filter((e) => e.anchors.some((a) => a.spkiSha256 === spkiSha256));
}

function label(entry: PathEntry): string {
  if (entry.position === 0 || entry.role === 'attested-key') return 'the attested key';
  return `${entry.subject ?? `sha256:${entry.spkiSha256.slice(0, 16)}…`} (position ${entry.position})`;
}
