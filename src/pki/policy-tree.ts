/**
 * Certificate policy processing (RFC 5280 §6.1.2 (a),(d)-(f),(i)-(j), §6.1.3 (d)-(f),
 * §6.1.4 (a),(b),(h)-(j), §6.1.5 (a),(b),(g)), with the valid_policy_tree kept as the policy
 * graph of RFC 9618: one node per policy per depth, several parents allowed. The graph grows
 * linearly with the input, where the tree could grow exponentially under policy mappings.
 *
 * ```asn1
 * certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
 * PolicyInformation ::= SEQUENCE { policyIdentifier CertPolicyId,
 *                                  policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }
 * PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE { issuerDomainPolicy CertPolicyId,
 *                                                         subjectDomainPolicy CertPolicyId }
 * PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL,
 *                                  inhibitPolicyMapping  [1] SkipCerts OPTIONAL }
 * InhibitAnyPolicy ::= SkipCerts        -- SkipCerts ::= INTEGER (0..MAX)
 * ```
 *
 * Policy qualifiers are parsed for structure only; RFC 5280 §4.2.1.4 leaves their processing
 * to the application and this validator does none.
 *
 * @example
 * const r = processPolicies(certsFromAnchorToLeaf, { requireExplicitPolicy: true, initialPolicySet: [oid] });
 * if (!r.ok) throw new ProvenanceError(r.code, r.reason);
 */
import { children, expectTag, parseDer, readOid, readSmallInt, TAG, type Tlv } from '../core/der.js';
import { type ErrorCode, fail } from '../core/errors.js';
import { OID } from '../core/oids.js';

const ANY_POLICY = OID.anyPolicy;

/** One policyMappings pair (RFC 5280 §4.2.1.5). */
export interface PolicyMapping {
  readonly issuerDomainPolicy: string;
  readonly subjectDomainPolicy: string;
}

/** A decoded policyConstraints extension (RFC 5280 §4.2.1.11); null for an absent field. */
export interface PolicyConstraints {
  readonly requireExplicitPolicy: number | null;
  readonly inhibitPolicyMapping: number | null;
}

/** Upper bound on policies in one certificatePolicies or policyMappings value. */
export const MAX_POLICIES_PER_CERTIFICATE = 64;

/** certificatePolicies: the policy OIDs, in order. Duplicates are refused (RFC 5280 §4.2.1.4). */
export function parseCertificatePolicies(value: Uint8Array): string[] {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'certificatePolicies');
  const list = children(value, seq);
  if (list.length === 0) fail('EXTENSION_MALFORMED', 'certificatePolicies is empty (SIZE 1..MAX)');
  if (list.length > MAX_POLICIES_PER_CERTIFICATE)
    fail('DER_LIMIT_EXCEEDED', `more than ${MAX_POLICIES_PER_CERTIFICATE} certificate policies`);
  const out: string[] = [];
  for (const info of list) {
    expectTag(info, TAG.SEQUENCE, 'PolicyInformation');
    const [idTlv, qualifiers] = children(value, info, [1, 2]) as [Tlv, Tlv | undefined];
    const oid = readOid(value, idTlv, 'policyIdentifier');
    if (qualifiers) {
      expectTag(qualifiers, TAG.SEQUENCE, 'policyQualifiers');
      const qs = children(value, qualifiers);
      if (qs.length === 0) fail('EXTENSION_MALFORMED', 'policyQualifiers is empty (SIZE 1..MAX)');
      for (const q of qs) {
        // PolicyQualifierInfo ::= SEQUENCE { policyQualifierId OID, qualifier ANY }
        expectTag(q, TAG.SEQUENCE, 'PolicyQualifierInfo');
        readOid(value, children(value, q, 2)[0]!, 'policyQualifierId');
      }
    }
    // "A certificate policy OID MUST NOT appear more than once in a certificate policies extension."
    if (out.includes(oid)) fail('EXTENSION_MALFORMED', `certificate policy ${oid} appears twice`);
    out.push(oid);
  }
  return out;
}

/** policyMappings (RFC 5280 §4.2.1.5). */
export function parsePolicyMappings(value: Uint8Array): PolicyMapping[] {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'PolicyMappings');
  const list = children(value, seq);
  if (list.length === 0) fail('EXTENSION_MALFORMED', 'PolicyMappings is empty (SIZE 1..MAX)');
  if (list.length > MAX_POLICIES_PER_CERTIFICATE)
    fail('DER_LIMIT_EXCEEDED', `more than ${MAX_POLICIES_PER_CERTIFICATE} policy mappings`);
  return list.map((m) => {
    expectTag(m, TAG.SEQUENCE, 'PolicyMapping');
    const [a, b] = children(value, m, 2) as [Tlv, Tlv];
    return {
      issuerDomainPolicy: readOid(value, a, 'issuerDomainPolicy'),
      subjectDomainPolicy: readOid(value, b, 'subjectDomainPolicy'),
    };
  });
}

/** policyConstraints (RFC 5280 §4.2.1.11); an empty SEQUENCE is refused. */
export function parsePolicyConstraints(value: Uint8Array): PolicyConstraints {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'PolicyConstraints');
  const parts = children(value, seq, [0, 2]);
  // "Conforming CAs MUST NOT issue certificates where policy constraints is an empty sequence."
  if (parts.length === 0) fail('EXTENSION_MALFORMED', 'PolicyConstraints is an empty sequence');
  let requireExplicitPolicy: number | null = null;
  let inhibitPolicyMapping: number | null = null;
  let last = -1;
  for (const p of parts) {
    if (p.tag !== 0x80 + p.tagNumber || p.tagNumber > 1 || p.tagNumber <= last)
      fail('EXTENSION_MALFORMED', 'PolicyConstraints: unexpected field');
    last = p.tagNumber;
    const n = readSkipCerts(value, p);
    if (p.tagNumber === 0) requireExplicitPolicy = n;
    else inhibitPolicyMapping = n;
  }
  return { requireExplicitPolicy, inhibitPolicyMapping };
}

/** inhibitAnyPolicy (RFC 5280 §4.2.1.14). */
export function parseInhibitAnyPolicy(value: Uint8Array): number {
  return readSkipCerts(value, parseDer(value));
}

function readSkipCerts(buf: Uint8Array, t: Tlv): number {
  const n = readSmallInt(buf, t, 'SkipCerts', t.tag);
  if (n < 0) fail('EXTENSION_MALFORMED', 'SkipCerts is negative');
  return n;
}

/** What policy processing needs from one certificate of the path. */
export interface PolicyCertificate {
  /** certificatePolicies OIDs, or null without the extension. */
  readonly policies: readonly string[] | null;
  readonly mappings: readonly PolicyMapping[] | null;
  readonly constraints: PolicyConstraints | null;
  readonly inhibitAnyPolicy: number | null;
  readonly selfIssued: boolean;
}

/** The RFC 5280 §6.1.1 policy inputs. */
export interface PolicyProcessingOptions {
  /** user-initial-policy-set; default { anyPolicy }. */
  readonly initialPolicySet?: readonly string[];
  /** initial-explicit-policy; default false. */
  readonly requireExplicitPolicy?: boolean;
  /** initial-policy-mapping-inhibit; default false. */
  readonly inhibitPolicyMapping?: boolean;
  /** initial-any-policy-inhibit; default false. */
  readonly inhibitAnyPolicy?: boolean;
}

/** The result of processPolicies: the valid policies, or why the path fails. */
export type PolicyOutcome =
  | {
      readonly ok: true;
      /** The user-constrained policy set (RFC 5280 §6.1.6); contains anyPolicy when any policy is acceptable. Sorted. */
      readonly policies: string[];
    }
  | {
      readonly ok: false;
      readonly code: Extract<ErrorCode, 'PATH_POLICY' | 'PATH_LIMIT_EXCEEDED'>;
      readonly reason: string;
      /** Index into the input (0 = the certificate next to the anchor). */
      readonly index: number;
    };

/** Bound on graph size, so crafted policy mappings cannot exhaust memory. */
export const MAX_POLICY_GRAPH_NODES = 2048;
const MAX_POLICY_GRAPH_EDGES = 16384;

interface PolicyNode {
  readonly policy: string;
  expected: Set<string>;
  parents: PolicyNode[];
}

type Level = Map<string, PolicyNode>;

/**
 * Run RFC 5280 policy processing over `path`, ordered from the certificate issued by the trust
 * anchor (RFC 5280's certificate 1) to the end-entity certificate (certificate n).
 */
export function processPolicies(
  path: readonly PolicyCertificate[],
  options: PolicyProcessingOptions = {},
): PolicyOutcome {
  const n = path.length;
  // §6.1.2 (d)-(f): the state variables.
  let explicitPolicy = options.requireExplicitPolicy === true ? 0 : n + 1;
  let inhibitAny = options.inhibitAnyPolicy === true ? 0 : n + 1;
  let policyMapping = options.inhibitPolicyMapping === true ? 0 : n + 1;
  // §6.1.2 (a): the tree starts as one anyPolicy node expecting anyPolicy.
  let levels: Level[] | null = [
    new Map([[ANY_POLICY, { policy: ANY_POLICY, expected: new Set([ANY_POLICY]), parents: [] }]]),
  ];
  let nodes = 1;
  let edges = 0;
  const tooBig = (index: number): PolicyOutcome => ({
    ok: false,
    code: 'PATH_LIMIT_EXCEEDED',
    reason: `certificate policy graph exceeds ${MAX_POLICY_GRAPH_NODES} nodes or ${MAX_POLICY_GRAPH_EDGES} edges`,
    index,
  });

  for (let k = 0; k < n; k++) {
    const i = k + 1; // RFC numbering
    const cert = path[k]!;
    if (levels !== null && cert.policies !== null) {
      // §6.1.3 (d)(1): one node per policy P of the certificate, under every node expecting P,
      // or under the anyPolicy node when none does.
      const prev = levels[i - 1]!;
      const next: Level = new Map();
      const anyPrev = prev.get(ANY_POLICY);
      for (const p of cert.policies) {
        if (p === ANY_POLICY) continue;
        let parents: PolicyNode[] = [];
        for (const node of prev.values()) if (node.expected.has(p)) parents.push(node);
        if (parents.length === 0 && anyPrev) parents = [anyPrev];
        if (parents.length > 0) {
          next.set(p, { policy: p, expected: new Set([p]), parents });
          nodes++;
          edges += parents.length;
        }
      }
      // §6.1.3 (d)(2): anyPolicy in the certificate, when not inhibited (self-issued
      // intermediates are exempt), stands for every expected policy not matched above.
      if (cert.policies.includes(ANY_POLICY) && (inhibitAny > 0 || (i < n && cert.selfIssued))) {
        const matched = new Set(next.keys());
        for (const node of prev.values()) {
          for (const e of node.expected) {
            if (matched.has(e)) continue;
            const existing = next.get(e);
            if (existing) existing.parents.push(node);
            else {
              next.set(e, { policy: e, expected: new Set([e]), parents: [node] });
              nodes++;
            }
            edges++;
          }
        }
      }
      if (nodes > MAX_POLICY_GRAPH_NODES || edges > MAX_POLICY_GRAPH_EDGES) return tooBig(k);
      levels.push(next);
      // §6.1.3 (d)(3): prune nodes without children.
      levels = prune(levels);
    } else if (levels !== null) {
      // §6.1.3 (e): no certificatePolicies extension: the tree becomes NULL.
      levels = null;
    }
    // §6.1.3 (f)
    if (explicitPolicy === 0 && levels === null) {
      return {
        ok: false,
        code: 'PATH_POLICY',
        reason: 'an explicit policy is required but the path has none',
        index: k,
      };
    }

    if (i === n) break;
    // §6.1.4 (a): anyPolicy may not be mapped, to or from.
    if (cert.mappings !== null) {
      for (const m of cert.mappings) {
        if (m.issuerDomainPolicy === ANY_POLICY || m.subjectDomainPolicy === ANY_POLICY) {
          return { ok: false, code: 'PATH_POLICY', reason: 'policyMappings maps anyPolicy', index: k };
        }
      }
      // §6.1.4 (b)
      if (levels !== null) {
        const level = levels[i]!;
        const mapped = new Map<string, Set<string>>();
        for (const m of cert.mappings) {
          let set = mapped.get(m.issuerDomainPolicy);
          if (!set) {
            set = new Set();
            mapped.set(m.issuerDomainPolicy, set);
          }
          set.add(m.subjectDomainPolicy);
        }
        if (policyMapping > 0) {
          const anyNode = level.get(ANY_POLICY);
          for (const [p, subjects] of mapped) {
            const node = level.get(p);
            if (node) node.expected = subjects;
            else if (anyNode) {
              level.set(p, { policy: p, expected: subjects, parents: [...anyNode.parents] });
              nodes++;
              edges += anyNode.parents.length;
            }
          }
          if (nodes > MAX_POLICY_GRAPH_NODES || edges > MAX_POLICY_GRAPH_EDGES) return tooBig(k);
        } else {
          for (const p of mapped.keys()) level.delete(p);
          levels = prune(levels);
        }
      }
    }
    // §6.1.4 (h): count down, except over self-issued certificates.
    if (!cert.selfIssued) {
      if (explicitPolicy > 0) explicitPolicy--;
      if (policyMapping > 0) policyMapping--;
      if (inhibitAny > 0) inhibitAny--;
    }
    // §6.1.4 (i), (j)
    const pc = cert.constraints;
    if (pc?.requireExplicitPolicy != null && pc.requireExplicitPolicy < explicitPolicy)
      explicitPolicy = pc.requireExplicitPolicy;
    if (pc?.inhibitPolicyMapping != null && pc.inhibitPolicyMapping < policyMapping)
      policyMapping = pc.inhibitPolicyMapping;
    if (cert.inhibitAnyPolicy !== null && cert.inhibitAnyPolicy < inhibitAny)
      inhibitAny = cert.inhibitAnyPolicy;
  }

  // §6.1.5 (a), (b)
  if (explicitPolicy > 0) explicitPolicy--;
  if (n > 0 && path[n - 1]!.constraints?.requireExplicitPolicy === 0) explicitPolicy = 0;
  // §6.1.5 (g): intersect with the user-initial-policy-set.
  const policies =
    levels === null ? [] : userConstrainedPolicies(levels, options.initialPolicySet ?? [ANY_POLICY]);
  if (explicitPolicy === 0 && policies.length === 0) {
    return {
      ok: false,
      code: 'PATH_POLICY',
      reason: 'an explicit policy is required but no acceptable policy is valid for the path',
      index: n - 1,
    };
  }
  return { ok: true, policies };
}

/** Remove nodes that have no children, from the deepest level up; null when the root goes. */
function prune(levels: Level[]): Level[] | null {
  for (let d = levels.length - 2; d >= 0; d--) {
    const used = new Set<PolicyNode>();
    for (const child of levels[d + 1]!.values()) for (const p of child.parents) used.add(p);
    for (const [policy, node] of levels[d]!) if (!used.has(node)) levels[d]!.delete(policy);
  }
  return levels[0]!.size === 0 ? null : levels;
}

/**
 * RFC 5280 §6.1.5 (g)(iii) on the graph: a policy at the last level survives when, on some
 * path from the root, the first node that is not anyPolicy names a policy of the user set;
 * an anyPolicy node at the last level (reached through anyPolicy only) admits the whole set.
 */
function userConstrainedPolicies(levels: Level[], initial: readonly string[]): string[] {
  const userAny = initial.includes(ANY_POLICY);
  const user = new Set(initial);
  const allAny = new Set<PolicyNode>(levels[0]!.values());
  const acceptable = new Set<PolicyNode>();
  for (let d = 1; d < levels.length; d++) {
    for (const node of levels[d]!.values()) {
      if (node.policy === ANY_POLICY) {
        if (node.parents.some((p) => allAny.has(p))) allAny.add(node);
      } else if (
        node.parents.some((p) => (allAny.has(p) ? userAny || user.has(node.policy) : acceptable.has(p)))
      ) {
        acceptable.add(node);
      }
    }
  }
  const out = new Set<string>();
  for (const node of levels[levels.length - 1]!.values()) {
    if (node.policy === ANY_POLICY) {
      if (!allAny.has(node)) continue;
      if (userAny) out.add(ANY_POLICY);
      else for (const p of user) out.add(p);
    } else if (acceptable.has(node)) out.add(node.policy);
  }
  return [...out].sort();
}
