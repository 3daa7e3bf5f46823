/**
 * x509-limbo harness: runs limbo testcases through `validatePath` and summarises the outcome
 * per relevance group of `testcase-groups.tsv`. Shared by scripts/conformance-limbo.ts (the
 * command) and test/pki/limbo.test.ts (the conformance bar).
 *
 * Mapping (see docs/conformance.md): peer_certificate is the leaf, untrusted_intermediates the
 * pool, trusted_certs the anchors (formats 'any'), validation_time or `now` the time,
 * max_chain_depth a limit on intermediates (self-issued ones not counted), extended_key_usage
 * and key_usage constrain the leaf. Peer-name (hostname) matching does not apply to
 * attestation chains and is not done. Testcases with CRLs, or with a feature this validator
 * does not implement, are SKIPPED.
 *
 * @example
 * const cases = loadLimboFile(join(dir, 'limbo-core.json'));
 * const outcomes = cases.map((tc) => runLimboCase(tc, { now: Date.now(), profile: 'strict' }));
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { isProvenanceError } from '../src/core/errors.js';
import { OID } from '../src/core/oids.js';
import { decodePem } from '../src/core/pem.js';
import { anchorFromCertificate, type TrustAnchor } from '../src/pki/anchor.js';
import { type Certificate, type KeyUsageName, parseCertificate } from '../src/pki/certificate.js';
import { KeyCache } from '../src/pki/keys.js';
import { type PathProfile, validatePath } from '../src/pki/path.js';

/** The fields of a limbo Testcase (limbo-schema.json) that the harness reads. */
export interface LimboTestcase {
  readonly id: string;
  readonly features?: readonly string[];
  readonly description: string;
  readonly validation_kind: string;
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly validation_time?: string | null;
  readonly signature_algorithms: readonly string[];
  readonly key_usage: readonly string[];
  readonly extended_key_usage: readonly string[];
  readonly expected_result: 'SUCCESS' | 'FAILURE';
  readonly max_chain_depth?: number | null;
  readonly crls?: readonly string[];
}

/** A testcase result in x509-limbo's vocabulary. */
export type LimboResult = 'SUCCESS' | 'FAILURE' | 'SKIPPED';

/** What happened to one testcase. */
export interface LimboOutcome {
  readonly id: string;
  readonly expected: 'SUCCESS' | 'FAILURE';
  readonly actual: LimboResult;
  /** Why: the error code and message, the skip reason, or the anchor reached. */
  readonly context: string;
  /** The ProvenanceError code of a FAILURE. */
  readonly code?: string;
  readonly elapsedMs: number;
}

/** Settings shared by every testcase of a run. */
export interface LimboRunOptions {
  /** Time for testcases without validation_time (ms). */
  readonly now: number;
  /** Path profile; the conformance run uses 'strict' (RFC 5280 §4 issuance rules included). */
  readonly profile?: PathProfile;
  /** Shared decoded-key cache (testcases reuse keys). */
  readonly cache?: KeyCache;
}

/**
 * Features (limbo-schema.json `Feature`) this validator implements. Testcases carrying any
 * other are SKIPPED, as the schema asks.
 */
export const SUPPORTED_FEATURES: ReadonlySet<string> = new Set([
  'has-policy-constraints',
  'has-cert-policies',
  'no-cert-policies',
  'name-constraint-dn',
  'pedantic-webpki-subscriber-key',
  'pedantic-serial-number',
  'max-chain-depth',
  'rfc5280-incompatible-with-webpki',
  'denial-of-service',
]);

/** limbo KnownEKUs to KeyPurposeId OIDs (RFC 5280 §4.2.1.12). */
const EKU_OIDS: Readonly<Record<string, string>> = {
  anyExtendedKeyUsage: OID.anyExtendedKeyUsage,
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};

/** limbo KeyUsage names to ours (contentCommitment is RFC 5280's later name for nonRepudiation). */
const KEY_USAGES: Readonly<Record<string, KeyUsageName>> = {
  digitalSignature: 'digitalSignature',
  contentCommitment: 'nonRepudiation',
  keyEncipherment: 'keyEncipherment',
  dataEncipherment: 'dataEncipherment',
  keyAgreement: 'keyAgreement',
  keyCertSign: 'keyCertSign',
  cRLSign: 'cRLSign',
  encipherOnly: 'encipherOnly',
  decipherOnly: 'decipherOnly',
};

/** Read a limbo file (`.json` or `.json.gz`) and return its testcases. */
export function loadLimboFile(path: string): LimboTestcase[] {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const doc = JSON.parse(text) as { version?: unknown; testcases?: unknown };
  if (doc.version !== 1 || !Array.isArray(doc.testcases)) {
    throw new Error(`${path}: not a limbo file (version 1 with testcases)`);
  }
  return doc.testcases as LimboTestcase[];
}

/** One row of testcase-groups.tsv. */
export interface GroupEntry {
  readonly group: string;
  readonly expected: string;
  readonly features: string;
}

/** Read testcase-groups.tsv: id → relevance group. */
export function loadGroups(path: string): Map<string, GroupEntry> {
  const out = new Map<string, GroupEntry>();
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const [group, id, expected, features] = line.split('\t');
    if (group && id) out.set(id, { group, expected: expected ?? '', features: features ?? '' });
  }
  return out;
}

/** The group of a testcase id, or 'ungrouped <namespace>' for ids the TSV does not list. */
export function groupOf(id: string, groups: ReadonlyMap<string, GroupEntry>): string {
  return groups.get(id)?.group ?? `ungrouped ${id.split('::').slice(0, 2).join('::')}`;
}

function parsePemCertificate(pem: string): Certificate {
  const blocks = decodePem(pem).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length !== 1) throw new Error(`expected one CERTIFICATE block, found ${blocks.length}`);
  return parseCertificate(blocks[0]!.der);
}

function describeError(err: unknown): { code: string; message: string } {
  if (isProvenanceError(err)) return { code: err.code, message: err.message };
  return { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };
}

/** Run one testcase. Never throws: every problem becomes a FAILURE or SKIPPED outcome. */
export function runLimboCase(tc: LimboTestcase, options: LimboRunOptions): LimboOutcome {
  const started = performance.now();
  const done = (actual: LimboResult, context: string, code?: string): LimboOutcome => ({
    id: tc.id,
    expected: tc.expected_result,
    actual,
    context,
    ...(code === undefined ? {} : { code }),
    elapsedMs: performance.now() - started,
  });

  if ((tc.crls?.length ?? 0) > 0 || tc.features?.includes('has-crl')) {
    return done('SKIPPED', 'CRL checking is not part of path validation here');
  }
  const unsupported = (tc.features ?? []).filter((f) => !SUPPORTED_FEATURES.has(f));
  if (unsupported.length > 0) return done('SKIPPED', `unsupported feature ${unsupported.join(', ')}`);
  if (tc.signature_algorithms.length > 0)
    return done('SKIPPED', 'signature_algorithms constraints are not supported');

  let leaf: Certificate;
  try {
    leaf = parsePemCertificate(tc.peer_certificate);
  } catch (err) {
    const e = describeError(err);
    return done('FAILURE', `peer certificate rejected: ${e.code}: ${e.message}`, e.code);
  }
  const notes: string[] = [];
  const anchors: TrustAnchor[] = [];
  tc.trusted_certs.forEach((pem, i) => {
    try {
      anchors.push(anchorFromCertificate(parsePemCertificate(pem), { id: `trusted-${i}`, formats: 'any' }));
    } catch (err) {
      notes.push(`trusted cert ${i} unusable (${describeError(err).code})`);
    }
  });
  const intermediates: Certificate[] = [];
  tc.untrusted_intermediates.forEach((pem, i) => {
    try {
      intermediates.push(parsePemCertificate(pem));
    } catch (err) {
      notes.push(`intermediate ${i} unusable (${describeError(err).code})`);
    }
  });
  const suffix = notes.length > 0 ? ` [${notes.join('; ')}]` : '';
  const time = tc.validation_time ? Date.parse(tc.validation_time) : options.now;
  // Without an explicit list, the validation kind names the purpose (a TLS server or client
  // certificate), as the suite's own harnesses read it.
  const ekuNames =
    tc.extended_key_usage.length > 0
      ? tc.extended_key_usage
      : tc.validation_kind === 'CLIENT'
        ? ['clientAuth']
        : ['serverAuth'];
  const ekus = ekuNames.map((name) => EKU_OIDS[name] ?? name);

  try {
    const path = validatePath(leaf, {
      anchors,
      intermediates,
      time,
      cache: options.cache ?? new KeyCache(),
      profile: options.profile ?? 'strict',
      requiredExtendedKeyUsages: ekus,
      ...(tc.max_chain_depth == null ? {} : { maxIntermediates: tc.max_chain_depth }),
    });
    // key_usage constrains the leaf: each listed usage must be allowed (RFC 5280 §4.2.1.3).
    for (const name of tc.key_usage) {
      const usage = KEY_USAGES[name];
      if (usage === undefined || !leaf.allowsKeyUsage(usage)) {
        return done('FAILURE', `leaf keyUsage does not allow ${name}${suffix}`, 'PATH_INVALID');
      }
    }
    const quirks = path.quirks.length > 0 ? ` quirks ${path.quirks.map((q) => q.id).join(',')}` : '';
    return done('SUCCESS', `path of ${path.certificates.length} to ${path.anchor.id}${quirks}${suffix}`);
  } catch (err) {
    const e = describeError(err);
    return done('FAILURE', `${e.code}: ${e.message}${suffix}`, e.code);
  }
}

/** Counts for one relevance group. */
export interface GroupSummary {
  readonly group: string;
  readonly total: number;
  readonly pass: number;
  readonly fail: number;
  readonly skip: number;
  /** Expected FAILURE, got SUCCESS: the dangerous kind. */
  readonly falseAccepts: readonly string[];
  /** Expected SUCCESS, got FAILURE. */
  readonly falseRejects: readonly string[];
}

/** Pass/fail/skip per group, groups in the TSV's order, ungrouped namespaces last. */
export function summarize(
  outcomes: readonly LimboOutcome[],
  groups: ReadonlyMap<string, GroupEntry>,
): GroupSummary[] {
  const order = [...new Set([...groups.values()].map((g) => g.group))];
  const by = new Map<string, LimboOutcome[]>();
  for (const o of outcomes) {
    const g = groupOf(o.id, groups);
    let list = by.get(g);
    if (!list) {
      list = [];
      by.set(g, list);
    }
    list.push(o);
  }
  const names = [
    ...order.filter((g) => by.has(g)),
    ...[...by.keys()].filter((g) => !order.includes(g)).sort(),
  ];
  return names.map((group) => {
    const list = by.get(group)!;
    const pass = list.filter((o) => o.actual === o.expected).length;
    const skip = list.filter((o) => o.actual === 'SKIPPED').length;
    return {
      group,
      total: list.length,
      pass,
      skip,
      fail: list.length - pass - skip,
      falseAccepts: list.filter((o) => o.expected === 'FAILURE' && o.actual === 'SUCCESS').map((o) => o.id),
      falseRejects: list.filter((o) => o.expected === 'SUCCESS' && o.actual === 'FAILURE').map((o) => o.id),
    };
  });
}

/** x509-limbo's result format (LimboResult). */
export function toLimboResult(
  outcomes: readonly LimboOutcome[],
  harness = 'provenance',
): {
  version: 1;
  harness: string;
  results: { id: string; actual_result: LimboResult; context: string }[];
} {
  return {
    version: 1,
    harness,
    results: outcomes.map((o) => ({ id: o.id, actual_result: o.actual, context: o.context })),
  };
}
