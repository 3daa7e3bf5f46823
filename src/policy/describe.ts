/**
 * Human and machine summaries of a loaded policy, as `provenance policy check` prints them:
 * anchors (id, subject, SPKI hash, formats), allow rules with what their entries resolved to,
 * requirements, deny rules, the digest, and notes on choices that widen what is accepted.
 *
 * @example
 * console.log(describePolicy(loadPolicyFile('policy.yaml')));
 * JSON.stringify(policySummary(policy));
 */
import { canonicalRequirements, type Policy, type Requirements } from './model.js';

/** JSON-ready summary of a policy. */
export interface PolicySummary {
  readonly source: string;
  readonly version: 1;
  readonly digest: string;
  readonly trust: readonly {
    id: string;
    subject: string | null;
    spkiSha256: string;
    formats: readonly string[] | 'any';
    /** Present when the trust entry names revocation settings (otherwise best-effort, no files). */
    revocation?: { mode: string; crls: readonly string[]; statusList?: string };
  }[];
  readonly allow: readonly {
    id: string;
    level?: number;
    description?: string;
    entries: readonly {
      kind: string;
      spkiSha256: string;
      subject?: string;
      file?: string;
      anchor?: string;
    }[];
    require: Record<string, unknown>;
    /** Present for a rule over a signed token list. */
    list?: { id: string; statuses: readonly string[]; minLevel?: number };
  }[];
  /** Signed token lists (present when the policy names any). */
  readonly lists?: readonly {
    id: string;
    source: string;
    publisherKeys: readonly string[];
    graceMs: number;
    refreshMs?: number;
    allowStale?: string;
  }[];
  /** The FIDO MDS index (present when the policy names one): the BLOB it holds and the level required. */
  readonly mds?: {
    index: string;
    blobNo: number;
    blobDigest: string;
    entries: number;
    nextUpdate: string;
    importedAt?: string;
    minLevel?: string;
  };
  readonly require: Record<string, unknown>;
  readonly deny: {
    roca: boolean;
    weakKeys: boolean;
    entries: readonly { spkiSha256: string; reason: string; subject?: string; file?: string }[];
    firmware: readonly string[];
  };
  /** Consequences worth a second look (no allow rules, no freshness required, checks turned off). */
  readonly notes: readonly string[];
}

/** The summary `policy check --json` prints. */
export function policySummary(policy: Policy): PolicySummary {
  return {
    source: policy.source,
    version: policy.version,
    digest: policy.digest,
    trust: policy.anchors.map((a) => ({
      id: a.id,
      subject: a.certificate ? a.subject.text : null,
      spkiSha256: a.spkiSha256,
      formats: a.formats,
      ...revocationSummary(policy, a.id),
    })),
    allow: policy.allow.map((r) => ({
      id: r.id,
      ...(r.level === undefined ? {} : { level: r.level }),
      ...(r.description === undefined ? {} : { description: r.description }),
      entries: r.entries.map((e) =>
        e.kind === 'certificate'
          ? {
              kind: e.kind,
              spkiSha256: e.spkiSha256,
              subject: e.subject,
              ...(e.file ? { file: e.file } : {}),
            }
          : e.kind === 'anchor'
            ? { kind: e.kind, spkiSha256: e.spkiSha256, subject: e.subject, anchor: e.anchorId }
            : { kind: e.kind, spkiSha256: e.spkiSha256 },
      ),
      require: canonicalRequirements(r.require),
      ...(r.list === undefined ? {} : { list: r.list }),
    })),
    ...(policy.lists && policy.lists.length > 0
      ? {
          lists: policy.lists.map((l) => ({
            id: l.id,
            source: l.source,
            publisherKeys: l.publisherKeys.map((k) => k.spkiSha256),
            graceMs: l.graceMs,
            ...(l.refreshMs === undefined ? {} : { refreshMs: l.refreshMs }),
            ...(l.allowStale === undefined ? {} : { allowStale: l.allowStale }),
          })),
        }
      : {}),
    ...(policy.mds
      ? {
          mds: {
            index: policy.mds.index,
            blobNo: policy.mds.mds.blob.no,
            blobDigest: policy.mds.mds.blob.digest,
            entries: policy.mds.mds.blob.entries.length,
            nextUpdate: policy.mds.mds.blob.nextUpdate,
            ...(policy.mds.importedAt === undefined ? {} : { importedAt: policy.mds.importedAt }),
            ...(policy.mds.minLevel === undefined ? {} : { minLevel: policy.mds.minLevel }),
          },
        }
      : {}),
    require: canonicalRequirements(policy.require),
    deny: {
      roca: policy.deny.roca,
      weakKeys: policy.deny.weakKeys,
      entries: policy.deny.entries.map((e) => ({
        spkiSha256: e.spkiSha256,
        reason: e.reason,
        ...(e.subject === undefined ? {} : { subject: e.subject }),
        ...(e.file === undefined ? {} : { file: e.file }),
      })),
      firmware: policy.deny.firmware.map((r) => r.text),
    },
    notes: policyNotes(policy),
  };
}

/**
 * A readable multi-line summary of the policy.
 *
 * @example
 * describePolicy(policy).split('\n')[0]   // 'policy policy.yaml (version 1)'
 */
export function describePolicy(policy: Policy): string {
  const s = policySummary(policy);
  const lines: string[] = [`policy ${s.source} (version ${s.version})`, `  digest sha256:${s.digest}`];

  lines.push(`trust anchors (${s.trust.length})`);
  for (const a of s.trust) {
    const formats = a.formats === 'any' ? 'any format' : `formats: ${a.formats.join(', ')}`;
    lines.push(`  ${a.id}  ${a.subject ?? '(key only)'}  sha256:${a.spkiSha256}  ${formats}`);
    if (a.revocation) {
      const { mode, crls, statusList } = a.revocation;
      const data = [
        ...(crls.length ? [`CRLs: ${crls.join(', ')}`] : []),
        ...(statusList ? [`status list: ${statusList}`] : []),
      ];
      lines.push(`    revocation: ${mode}${data.length ? ` (${data.join('; ')})` : ''}`);
    }
  }

  if (s.lists) {
    lines.push(`token lists (${s.lists.length})`);
    for (const l of s.lists) {
      const keys = l.publisherKeys.map((k) => `sha256:${k.slice(0, 16)}…`).join(', ');
      const grace = l.graceMs > 0 ? `, grace ${l.graceMs / 3_600_000} h` : '';
      lines.push(`  ${l.id}  ${l.source}  publisher keys: ${keys}${grace}`);
      if (l.allowStale) lines.push(`    stale list still used: ${l.allowStale}`);
    }
  }

  if (s.mds) {
    const m = s.mds;
    lines.push(
      `FIDO MDS  ${m.index}  BLOB no. ${m.blobNo}, ${m.entries} entries, next update ${m.nextUpdate}${m.importedAt ? `, imported ${m.importedAt}` : ''}`,
    );
    lines.push(
      `  WebAuthn models vouched for by their own MDS entry; minimum certification: ${m.minLevel ?? 'none'}`,
    );
  }

  lines.push(s.allow.length === 0 ? 'allow rules: none' : `allow rules (${s.allow.length})`);
  for (const r of s.allow) {
    lines.push(
      `  ${r.id}${r.level === undefined ? '' : `  level ${r.level}`}${r.description ? `  – ${r.description}` : ''}`,
    );
    for (const e of r.entries) {
      const what = e.subject ?? '(key hash)';
      const from = e.anchor ? `  (trust "${e.anchor}")` : e.file ? `  (${e.file})` : '';
      lines.push(`    entry  ${what}  sha256:${e.spkiSha256}${from}`);
    }
    if (r.list) {
      const min = r.list.minLevel === undefined ? '' : `, level ≥ ${r.list.minLevel}`;
      lines.push(`    list   "${r.list.id}" entries that are ${r.list.statuses.join(' or ')}${min}`);
    }
    const req = requirementText(policy.allow.find((x) => x.id === r.id)!.require);
    if (req) lines.push(`    require  ${req}`);
  }

  lines.push(`requirements: ${requirementText(policy.require) || 'none'}`);

  lines.push('deny');
  lines.push(`  roca: ${s.deny.roca ? 'yes (every RSA key in the path)' : 'no'}`);
  lines.push(`  weak keys: ${s.deny.weakKeys ? 'yes (small factors, close primes, weak exponents)' : 'no'}`);
  lines.push(`  firmware: ${s.deny.firmware.length === 0 ? 'none' : s.deny.firmware.join(' or ')}`);
  lines.push(`  entries: ${s.deny.entries.length === 0 ? 'none' : s.deny.entries.length}`);
  for (const e of s.deny.entries) {
    lines.push(`    sha256:${e.spkiSha256}${e.subject ? `  ${e.subject}` : ''}  – ${e.reason}`);
  }

  if (s.notes.length > 0) {
    lines.push('notes');
    for (const n of s.notes) lines.push(`  - ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One line: `freshness: nonce; userPresence: always, cached`. */
export function requirementText(r: Requirements): string {
  return Object.entries(canonicalRequirements(r))
    .map(([k, v]) => {
      if (k === 'claims') {
        const parts = Object.entries(v as Record<string, unknown[]>).map(
          ([path, values]) => `${path} = ${values.map((x) => JSON.stringify(x)).join(' or ')}`,
        );
        return `claims: ${parts.join(', ')}`;
      }
      const value = Array.isArray(v) ? v.join(k === 'firmware' ? ' or ' : ', ') : String(v);
      return `${k}: ${k === 'securityLevel' ? `at least ${value}` : k === 'minRsaBits' ? `≥ ${value}` : value}`;
    })
    .join('; ');
}

/** The trust entry's revocation settings for the summary, when it names any. */
function revocationSummary(
  policy: Policy,
  anchorId: string,
): Pick<PolicySummary['trust'][number], 'revocation'> {
  const r = policy.revocation?.find((x) => x.anchorId === anchorId);
  if (!r) return {};
  const statusList = r.statusList?.kind === 'url' ? r.statusList.url : r.statusList?.file;
  return {
    revocation: {
      mode: r.mode,
      crls: r.crls.map((c) => c.file),
      ...(statusList === undefined ? {} : { statusList }),
    },
  };
}

function policyNotes(policy: Policy): string[] {
  const notes: string[] = [];
  if (policy.allow.length === 0) notes.push('no allow rules: any path to a trusted anchor is allowed');
  const freshness = policy.require.freshness;
  if (freshness === undefined || freshness === 'none') {
    notes.push('freshness is not required: evidence made earlier (or replayed) is accepted');
  }
  if (!policy.deny.roca) notes.push('the ROCA check is off: RSA keys with the ROCA fingerprint are accepted');
  if (policy.signatures?.allowSha1)
    notes.push('SHA-1 evidence signatures are accepted (signatures.allowSha1), e.g. Windows Hello TPM RS1');
  if (!policy.deny.weakKeys) notes.push('weak-key checks are off');
  for (const r of policy.revocation ?? []) {
    if (r.mode === 'off') notes.push(`revocation checking is off for trust entry "${r.anchorId}"`);
  }
  if (policy.mds && policy.mds.minLevel === undefined)
    notes.push('FIDO MDS models are accepted at any certification level, or none (set mds.minLevel)');
  for (const l of policy.lists ?? []) {
    if (l.allowStale !== undefined)
      notes.push(`token list "${l.id}" is used even when stale (allowStale: ${l.allowStale})`);
  }
  return notes;
}
