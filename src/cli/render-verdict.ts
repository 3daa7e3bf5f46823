/**
 * Human rendering of a Verdict: the chain from the new key to the anchor, the matched entry,
 * the claims, and ACCEPT or REJECT with the reason. Plain text; colour only when asked.
 */
import type { Claims } from '../formats/types.js';
import type { Verdict, VerdictPathEntry } from '../verify/verifier.js';

export interface RenderOptions {
  readonly color?: boolean;
}

const STYLE = {
  bold: ['\x1b[1m', '\x1b[22m'],
  green: ['\x1b[32m', '\x1b[39m'],
  red: ['\x1b[31m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
} as const;

/**
 * Short display name of a path entry: its CN, else the whole subject. The native format's
 * attestation key is named by what it is (per-token or batch); vendor formats' by its subject
 * (a TPM AK certificate has none).
 */
export function displayName(
  entry: VerdictPathEntry,
  claims: Claims | null,
  format: string | null = null,
): string {
  if (entry.role === 'attested-key') return '[new key]';
  if (entry.role === 'attestation-key' && (format === null || format === 'provenance'))
    return claims?.serial !== undefined ? '[per-token]' : '[batch]';
  const subject = entry.subject ?? '';
  if (subject) return subjectName(subject);
  return entry.role === 'attestation-key' ? '[attestation key]' : `sha256:${entry.spkiSha256.slice(0, 16)}`;
}

/** The CN of an RFC 4514 subject string, else the whole subject. */
function subjectName(subject: string): string {
  const cn = /(?:^|,)CN=((?:\\.|[^,])*)/.exec(subject);
  return cn ? cn[1]!.replace(/\\(.)/g, '$1') : subject;
}

/**
 * One line per further path the verifier validated besides the main one (finding
 * `path.additional`, e.g. a cloud HSM's owner chain):
 * "also validated (owner path): HSM partition owner → … → Hawksbill Root v1 prod".
 */
export function additionalChainLines(verdict: Verdict): string[] {
  const lines: string[] = [];
  for (const f of verdict.findings) {
    if (f.check !== 'path.additional' || !f.ok) continue;
    const d = (f.detail ?? {}) as { label?: unknown; anchor?: unknown; subjects?: unknown };
    const label = typeof d.label === 'string' ? `${d.label} path` : 'another path';
    const subjects =
      Array.isArray(d.subjects) && d.subjects.every((x) => typeof x === 'string') ? d.subjects : [];
    // A verdict from before the subjects were recorded: name the anchor only.
    const chain =
      subjects.length > 0
        ? subjects.map((x: string) => (x ? subjectName(x) : '[no subject]')).join(' → ')
        : `… → trust anchor "${String(d.anchor ?? '?')}"`;
    lines.push(`also validated (${label}): ${chain}`);
  }
  return lines;
}

/** The one-line chain: [new key] → [per-token] → Gemalto .NET Card → Gemalto Smartcards → Gemalto NV */
export function chainLine(verdict: Verdict): string {
  return verdict.path
    .map((e) => `${displayName(e, verdict.claims, verdict.format)}${e.matchedRules?.length ? ' ✓' : ''}`)
    .join(' → ');
}

/** Claims every format shares: shown in their own rows, not among the vendor claims. */
const COMMON_CLAIMS = new Set([
  'keyAlgorithm',
  'keySize',
  'generatedOnDevice',
  'nonExportable',
  'userPresence',
  'userVerification',
  'securityLevel',
  'model',
  'serial',
  'firmware',
]);

/** A vendor claim as one short line, or null when it is not worth a row (nested data, bytes). */
function vendorValue(v: unknown): string | null {
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 77)}...` : v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(', ');
  return null;
}

function yesNo(v: boolean | undefined): string {
  return v === undefined ? 'not stated' : v ? 'yes' : 'no';
}

export function renderVerdict(verdict: Verdict, options: RenderOptions = {}): string {
  const paint = (style: keyof typeof STYLE, s: string) =>
    options.color ? `${STYLE[style][0]}${s}${STYLE[style][1]}` : s;
  const lines: string[] = [];
  lines.push(
    `${paint('bold', 'Evidence')}  format ${verdict.format ?? 'unknown'}, evaluated at ${verdict.evaluatedAt}`,
  );

  if (verdict.path.length > 0) {
    lines.push('');
    lines.push(paint('bold', 'Chain of provenance'));
    const labelOf = (e: VerdictPathEntry): string =>
      e.role === 'attested-key'
        ? '[new key]'
        : e.role === 'attestation-key'
          ? displayName(e, verdict.claims, verdict.format)
          : e.role;
    // Vendor attestation keys are named by their subject, which can be longer than the roles.
    const width = Math.max(16, ...verdict.path.map((e) => labelOf(e).length));
    verdict.path.forEach((e, i) => {
      const label = labelOf(e);
      const marks: string[] = [];
      if (e.anchor) marks.push(`trust anchor "${e.anchor}"`);
      if (e.matchedRules?.length)
        marks.push(paint('green', `✓ allowed by rule "${e.matchedRules.join('", "')}"`));
      lines.push(`  ${i === 0 ? ' ' : '↑'} ${label.padEnd(width)} ${e.subject ?? ''}`);
      lines.push(
        `    ${''.padEnd(width)} ${paint('dim', `sha256:${e.spkiSha256}`)}${marks.length ? `  ${marks.join('  ')}` : ''}`,
      );
    });
    lines.push('');
    lines.push(`  ${chainLine(verdict)}`);
    for (const extra of additionalChainLines(verdict)) lines.push(`  ${extra}`);
  }

  if (verdict.claims) {
    const c = verdict.claims;
    lines.push('');
    lines.push(paint('bold', 'Claims'));
    const rows: [string, string][] = [
      ['key', `${c.keyAlgorithm}${c.keySize ? ` (${c.keySize} bits)` : ''}`],
      ['generated on device', yesNo(c.generatedOnDevice)],
      ['non-exportable', yesNo(c.nonExportable)],
      ['user presence', c.userPresence ?? 'not stated'],
      ['user verification', c.userVerification ?? 'not stated'],
    ];
    if (c.securityLevel) rows.push(['security level', c.securityLevel]);
    if (c.model) rows.push(['model', c.model]);
    if (c.serial) rows.push(['serial', c.serial]);
    if (c.firmware) rows.push(['firmware', c.firmware]);
    // Vendor claims (YubiKey PIN/touch policy and form factor, TPM manufacturer, ...): scalars only.
    for (const [k, v] of Object.entries(c)) {
      if (COMMON_CLAIMS.has(k)) continue;
      const text = vendorValue(v);
      if (text !== null && text !== '') rows.push([k, text]);
    }
    for (const [k, v] of rows) lines.push(`  ${k.padEnd(20)} ${v}`);
    lines.push(`  ${'freshness'.padEnd(20)} ${describeFreshness(verdict.freshness)}`);
  }

  const warnings = verdict.findings.filter((f) => f.severity === 'warning');
  if (warnings.length > 0) {
    lines.push('');
    lines.push(paint('bold', 'Notes'));
    for (const w of warnings) lines.push(`  ${paint('yellow', '!')} ${w.message}`);
  }

  lines.push('');
  if (verdict.accepted) {
    const level = verdict.level !== null ? ` (level ${verdict.level})` : '';
    lines.push(`${paint('green', paint('bold', 'ACCEPT'))}  ${verdict.message}${level}`);
  } else {
    lines.push(`${paint('red', paint('bold', 'REJECT'))}  ${verdict.code}: ${verdict.message}`);
    const hint = HINTS[verdict.code];
    if (hint) lines.push(`        ${hint}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeFreshness(f: Verdict['freshness']): string {
  if (f === 'nonce') return "the evidence carries the verifier's nonce";
  if (f === 'possession') return 'proof of possession only (CSR signature); no nonce checked';
  return 'none: the evidence could be a replay';
}

/** What to do about the common rejections. */
const HINTS: Partial<Record<string, string>> = {
  NONCE_MISMATCH:
    'The evidence answers another challenge: ask the token to attest again with the current nonce.',
  NONCE_MISSING: 'Ask the token to attest with the nonce (token attest --nonce).',
  KEY_MISMATCH: 'The CSR and the attestation are for different keys: make the CSR with the attested key.',
  PATH_NOT_FOUND:
    'No chain to a trusted anchor: check --trust / the policy trust list, and that the bundle carries the intermediates.',
  POLICY_NO_MATCH:
    'The chain is valid but contains no allow-listed entry: add the model, product line or maker to allow.',
  TRUST_NO_ANCHORS: 'Configure a trust anchor for this format (--trust or the policy trust list).',
  PATH_CERT_EXPIRED:
    'A certificate in the chain has expired; for recorded evidence verify at its time with --at.',
};
