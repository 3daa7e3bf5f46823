/**
 * The policy model: what a loaded policy is, once every file it names has been read and every
 * certificate reduced to the key it identifies (SPKI SHA-256). Built by `parsePolicy` (YAML) or
 * `policyFromOptions` (command-line flags); evaluated by `evaluatePolicy`.
 *
 * @example
 * const policy = loadPolicyFile('policy.yaml');
 * policy.digest            // hex SHA-256 of the canonical form: names the policy in verdicts
 * policy.allow[0].entries  // [{ kind: 'certificate', spkiSha256: '…', subject: 'CN=…' }]
 */
import { createHash } from 'node:crypto';
import type { TrustAnchor } from '../pki/anchor.js';
import type { TokenListStatus } from '../trust/lists/types.js';
import type { MdsIndex } from '../trust/mds/types.js';
import type { AnchorRevocation } from '../trust/revocation/types.js';
import type { VersionRange } from './versions.js';

/** How fresh the evidence must be shown to be (see `Requirements.freshness`). */
export type Freshness = 'nonce' | 'possession' | 'none';
/** Touch policy of a key, as claims state it. */
export type UserPresence = 'never' | 'cached' | 'always';
/** PIN or biometric policy of a key, as claims state it. */
export type UserVerification = 'never' | 'once' | 'always';
/** Where the key lives, as claims state it; ordered by SECURITY_LEVELS. */
export type SecurityLevel = 'software' | 'tee' | 'secure-element';

/** Key algorithms a policy can name (`rsa` covers rsaEncryption and RSASSA-PSS keys). */
export const POLICY_KEY_ALGORITHMS = ['ec-p256', 'ec-p384', 'ec-p521', 'ed25519', 'ed448', 'rsa'] as const;
/** One of POLICY_KEY_ALGORITHMS. */
export type PolicyKeyAlgorithm = (typeof POLICY_KEY_ALGORITHMS)[number];

/** Security levels in increasing order: a requirement names the minimum. */
export const SECURITY_LEVELS: readonly SecurityLevel[] = ['software', 'tee', 'secure-element'];

/** Claim requirements, global (`require:`) or on one allow rule. Absent keys require nothing. */
export interface Requirements {
  /** nonce ⇒ the evidence carries the verifier's nonce; possession ⇒ nonce or a CSR signature. */
  readonly freshness?: Freshness;
  readonly generatedOnDevice?: boolean;
  readonly nonExportable?: boolean;
  /** Allowed user-presence (touch) policies. */
  readonly userPresence?: readonly UserPresence[];
  /** Allowed user-verification (PIN, biometric) policies. */
  readonly userVerification?: readonly UserVerification[];
  /** Allowed algorithms of the attested key (read from the key itself, not from claims). */
  readonly algorithms?: readonly PolicyKeyAlgorithm[];
  /** Minimum RSA modulus size of the attested key, when it is RSA. */
  readonly minRsaBits?: number;
  /** Minimum security level (software < tee < secure-element). */
  readonly securityLevel?: SecurityLevel;
  /** The firmware must fall in at least one of these ranges. */
  readonly firmware?: readonly VersionRange[];
  /** Vendor claims by dotted path; each must be present and equal one of its values. */
  readonly claims?: Readonly<Record<string, readonly ClaimValue[]>>;
}

/** A value a `require.claims` entry accepts. */
export type ClaimValue = string | number | boolean;

/** What an allow rule names; every kind resolves to SPKI SHA-256 values (trust by key). */
export type AllowEntry =
  | {
      readonly kind: 'certificate';
      readonly spkiSha256: string;
      /** Display only. */
      readonly subject: string;
      /** The file it was read from, as written in the policy (absent when given as options). */
      readonly file?: string;
    }
  | { readonly kind: 'spki'; readonly spkiSha256: string }
  | {
      readonly kind: 'anchor';
      readonly anchorId: string;
      readonly spkiSha256: string;
      readonly subject: string;
    };

/** One allow rule: keys to find in the path, an optional level, and its own requirements. */
export interface AllowRule {
  readonly id: string;
  /** The rule matches when the validated path contains any of these keys. */
  readonly entries: readonly AllowEntry[];
  /** Assurance level reported in the decision when this rule is the one that allowed. */
  readonly level?: number;
  /** Requirements that must also hold for the rule to count (on top of the global ones). */
  readonly require: Requirements;
  readonly description?: string;
  /**
   * A rule over a signed token list: it matches path entries that are anchors of list entries
   * with one of these statuses and at least this level (its `entries` are then empty).
   */
  readonly list?: AllowListRef;
}

/** `allow[].list`: which list, which statuses (default approved), which minimum level. */
export interface AllowListRef {
  readonly id: string;
  readonly statuses: readonly TokenListStatus[];
  readonly minLevel?: number;
}

/** A signed token list the policy consults (`lists:`), its publisher keys read from their files. */
export interface PolicyTokenList {
  readonly id: string;
  /** As written in the policy (messages). */
  readonly source: string;
  /** The https URL, or the file path resolved against the policy's directory. */
  readonly location: string;
  /** Pinned publisher keys: DER SubjectPublicKeyInfo and its SHA-256 (the JWS kid). */
  readonly publisherKeys: readonly {
    readonly spkiSha256: string;
    readonly spki: Uint8Array;
    readonly file?: string;
  }[];
  /** How often a long-running service re-fetches the list (ms). */
  readonly refreshMs?: number;
  /** Time after nextUpdate during which the list still counts as fresh (ms, default 0). */
  readonly graceMs: number;
  /** When set, a stale list is still used (with a warning), for this stated reason. */
  readonly allowStale?: string;
}

/** `mds:`: a FIDO MDS index read with the policy, and the certification level it requires. */
export interface PolicyMds {
  /** As written in the policy (messages). */
  readonly index: string;
  /** The directory resolved against the policy's directory. */
  readonly location: string;
  /** The verified, indexed BLOB as `provenance mds import` stored it. */
  readonly mds: MdsIndex;
  /** When the index was imported (ISO 8601), display only. */
  readonly importedAt?: string;
  /** Lowest FIDO certification a model's entry must state (`FIDO_CERTIFIED_L1` …), when given. */
  readonly minLevel?: string;
  /** Its rank for checkMdsEntry (1 = L1, 1.5 = L1plus …). */
  readonly minLevelRank?: number;
}

/** A key that is never acceptable anywhere in the path, and why. */
export interface DenyEntry {
  readonly spkiSha256: string;
  readonly reason: string;
  /** Display only, when the entry came from a certificate. */
  readonly subject?: string;
  readonly file?: string;
}

/** The deny section: always wins over allow rules. */
export interface DenyRules {
  /** Reject any RSA key in the path (attested key or certificate) with the ROCA fingerprint. Default true. */
  readonly roca: boolean;
  /** Reject any key in the path with a known weakness (small factors, Fermat, weak exponent). Default true. */
  readonly weakKeys: boolean;
  /** Keys that are never acceptable anywhere in the path. */
  readonly entries: readonly DenyEntry[];
  /** Firmware ranges that are rejected. */
  readonly firmware: readonly VersionRange[];
}

/** A loaded policy: anchors, allow rules, requirements and deny rules, every file resolved to keys. */
export interface Policy {
  readonly version: 1;
  /** Where the policy came from (a file path as given, or '<options>'): messages only. */
  readonly source: string;
  /** Hex SHA-256 over the canonical JSON form, anchor and entry key hashes included. */
  readonly digest: string;
  readonly anchors: readonly TrustAnchor[];
  readonly allow: readonly AllowRule[];
  readonly require: Requirements;
  readonly deny: DenyRules;
  /** Revocation settings of the trust entries that name any (others: best-effort, no files). */
  readonly revocation?: readonly AnchorRevocation[];
  /** Signed token lists the allow and deny decisions consult (absent: none). */
  readonly lists?: readonly PolicyTokenList[];
  /**
   * Evidence signatures made with SHA-1 (Windows Hello TPM `RS1`) are refused unless this is
   * set: absent means refused. Certificate signatures in paths stay SHA-1-free either way.
   */
  readonly signatures?: { readonly allowSha1: boolean };
  /** A FIDO MDS index whose entries vouch for WebAuthn models (absent: none, unless the verifier is given one). */
  readonly mds?: PolicyMds;
}

/** The defaults for `deny:` (fail closed: broken keys are rejected unless the policy opts out). */
export const DEFAULT_DENY: DenyRules = { roca: true, weakKeys: true, entries: [], firmware: [] };

/** Assemble a policy and compute its digest. */
export function finishPolicy(parts: Omit<Policy, 'digest' | 'version'>): Policy {
  const body = { version: 1 as const, ...parts };
  return { ...body, digest: policyDigest(body) };
}

/**
 * Hex SHA-256 over the canonical JSON form: sorted object keys, no whitespace, every file
 * reduced to the key hashes it contributed, display-only text (descriptions, subjects, file
 * names, the source) left out. Two policies with the same digest make the same decisions.
 */
export function policyDigest(policy: Omit<Policy, 'digest'>): string {
  return createHash('sha256')
    .update(canonicalJson(canonicalPolicy(policy)))
    .digest('hex');
}

/** The decision-relevant content of a policy as plain JSON data (what the digest covers). */
export function canonicalPolicy(policy: Omit<Policy, 'digest'>): unknown {
  return {
    version: policy.version,
    trust: policy.anchors.map((a) => ({ id: a.id, formats: a.formats, spkiSha256: a.spkiSha256 })),
    allow: policy.allow.map((r) => ({
      id: r.id,
      ...(r.level === undefined ? {} : { level: r.level }),
      entries: r.entries.map((e) =>
        e.kind === 'anchor' ? { anchor: e.anchorId, spkiSha256: e.spkiSha256 } : e.spkiSha256,
      ),
      require: canonicalRequirements(r.require),
      ...(r.list === undefined ? {} : { list: r.list }),
    })),
    require: canonicalRequirements(policy.require),
    deny: {
      roca: policy.deny.roca,
      weakKeys: policy.deny.weakKeys,
      entries: policy.deny.entries.map((e) => ({ spkiSha256: e.spkiSha256, reason: e.reason })),
      firmware: policy.deny.firmware.map((r) => r.text),
    },
    // Only when some trust entry names revocation settings, so older digests stay the same.
    ...(policy.revocation && policy.revocation.length > 0
      ? {
          revocation: policy.revocation.map((r) => ({
            anchor: r.anchorId,
            mode: r.mode,
            crls: r.crls.map((c) => c.sha256),
            ...(r.statusList === undefined
              ? {}
              : { statusList: r.statusList.kind === 'url' ? r.statusList.url : r.statusList.sha256 }),
          })),
        }
      : {}),
    // Only when SHA-1 evidence signatures are allowed, so older digests stay the same.
    ...(policy.signatures?.allowSha1 === true ? { signatures: { allowSha1: true } } : {}),
    // Only when the policy names an MDS index: the BLOB by serial number and digest, so a new
    // import (different entries and statuses) makes a different policy.
    ...(policy.mds
      ? {
          mds: {
            no: policy.mds.mds.blob.no,
            digest: policy.mds.mds.blob.digest,
            ...(policy.mds.minLevel === undefined ? {} : { minLevel: policy.mds.minLevel }),
          },
        }
      : {}),
    // Only when the policy names lists, so older digests stay the same.
    ...(policy.lists && policy.lists.length > 0
      ? {
          lists: policy.lists.map((l) => ({
            id: l.id,
            location: l.location,
            publisherKeys: l.publisherKeys.map((k) => k.spkiSha256),
            graceMs: l.graceMs,
            ...(l.allowStale === undefined ? {} : { allowStale: true }),
          })),
        }
      : {}),
  };
}

/** Requirements as plain JSON (firmware ranges by their normalised text). */
export function canonicalRequirements(r: Requirements): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(r)) {
    if (value === undefined) continue;
    out[key] = key === 'firmware' ? (value as VersionRange[]).map((v) => v.text) : value;
  }
  return out;
}

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
