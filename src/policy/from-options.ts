/**
 * A policy built from options instead of a file: what `provenance verify --trust … --allow …`
 * uses. Same model, same defaults (deny ROCA and weak keys), same digest rules.
 *
 * @example
 * const policy = policyFromOptions({
 *   trust: [parseCertificate(rootDer)],
 *   allow: [{ certificate: parseCertificate(productLineDer) }],
 *   require: { freshness: 'nonce' },
 * });
 */
import type { z } from 'zod';
import { fail } from '../core/errors.js';
import { anchorFromCertificate, type TrustAnchor } from '../pki/anchor.js';
import type { Certificate } from '../pki/certificate.js';
import { normaliseSpkiHash, toRequirements } from './load.js';
import {
  type AllowEntry,
  type AllowRule,
  DEFAULT_DENY,
  type DenyEntry,
  finishPolicy,
  type Policy,
} from './model.js';
import { POLICY_FORMATS, requirementsSchema } from './schema.js';
import { parseVersionRange } from './versions.js';

/** Requirements as options: the same keys and spellings as `require:` in a policy file. */
export type RequirementsOptions = z.input<typeof requirementsSchema>;

/** One allow rule given as options: a certificate (its key) or a key hash. */
export type AllowOption = ({ readonly certificate: Certificate } | { readonly spkiSha256: string }) & {
  readonly id?: string;
  readonly level?: number;
};

/** One deny entry given as options: a certificate (its key) or a key hash, with the reason. */
export type DenyEntryOption = ({ readonly certificate: Certificate } | { readonly spkiSha256: string }) & {
  readonly reason: string;
};

/** Everything `policyFromOptions` takes; only `trust` is required. */
export interface PolicyOptions {
  /**
   * Anchor certificates. Ids are `trust-1`, `trust-2`, … unless an entry names its own id and
   * formats (e.g. from the anchor catalogue).
   */
  readonly trust: readonly (Certificate | TrustOption)[];
  /** Formats the anchors may vouch for. Default `['provenance']`, as in policy files. */
  readonly formats?: readonly string[] | 'any';
  /** Allow rules (`allow-1`, … unless given an id). None: any path to an anchor is allowed. */
  readonly allow?: readonly AllowOption[];
  readonly require?: RequirementsOptions;
  readonly deny?: {
    readonly roca?: boolean;
    readonly weakKeys?: boolean;
    readonly entries?: readonly DenyEntryOption[];
    readonly firmware?: readonly string[];
  };
  /** Shown in messages. Default `'<options>'`. */
  readonly source?: string;
}

/** One anchor with its own id and formats (the catalogue's, for a recognised root). */
export interface TrustOption {
  readonly certificate: Certificate;
  readonly id?: string;
  readonly formats?: readonly string[] | 'any';
}

const SPKI_HASH = /^(sha256:)?[0-9a-fA-F]{64}$/;

function checkFormats(formats: readonly string[] | 'any'): void {
  if (formats === 'any') return;
  for (const f of formats) {
    if (!(POLICY_FORMATS as readonly string[]).includes(f)) {
      fail('USAGE', `formats: unknown format "${f}" (known: ${POLICY_FORMATS.join(', ')})`);
    }
  }
}

/**
 * Build a policy from options. Throws USAGE naming the option for invalid values.
 *
 * @example
 * policyFromOptions({ trust: [root], allow: [{ spkiSha256: 'sha256:9f86…' }] }).digest
 */
export function policyFromOptions(options: PolicyOptions): Policy {
  const formats = options.formats ?? ['provenance'];
  checkFormats(formats);
  const anchors: TrustAnchor[] = [];
  const seen = new Set<string>();
  options.trust.forEach((t, i) => {
    const option: TrustOption = 'certificate' in t ? t : { certificate: t };
    const cert = option.certificate;
    if (seen.has(cert.spkiSha256)) return;
    seen.add(cert.spkiSha256);
    const own = option.formats ?? formats;
    checkFormats(own);
    anchors.push(anchorFromCertificate(cert, { id: option.id ?? `trust-${i + 1}`, formats: own }));
  });

  const ids = new Set<string>();
  const allow: AllowRule[] = (options.allow ?? []).map((a, i) => {
    const id = a.id ?? `allow-${i + 1}`;
    if (ids.has(id)) fail('USAGE', `allow: duplicate rule id "${id}"`);
    ids.add(id);
    if (a.level !== undefined && !(Number.isInteger(a.level) && a.level >= 0 && a.level <= 255)) {
      fail('USAGE', `allow[${i}].level must be an integer from 0 to 255`);
    }
    const entry: AllowEntry =
      'certificate' in a
        ? { kind: 'certificate', spkiSha256: a.certificate.spkiSha256, subject: a.certificate.subject.text }
        : { kind: 'spki', spkiSha256: checkedHash(a.spkiSha256, `allow[${i}].spkiSha256`) };
    return { id, entries: [entry], require: {}, ...(a.level === undefined ? {} : { level: a.level }) };
  });

  const parsed = requirementsSchema.safeParse(options.require ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(
      'USAGE',
      `require.${issue.path.map(String).join('.')}: ${issue.message.replace(/^Invalid input: /, '')}`,
    );
  }

  const entries: DenyEntry[] = (options.deny?.entries ?? []).map((e, i) => {
    if (typeof e.reason !== 'string' || e.reason === '')
      fail('USAGE', `deny.entries[${i}].reason is required`);
    return 'certificate' in e
      ? { spkiSha256: e.certificate.spkiSha256, reason: e.reason, subject: e.certificate.subject.text }
      : { spkiSha256: checkedHash(e.spkiSha256, `deny.entries[${i}].spkiSha256`), reason: e.reason };
  });

  return finishPolicy({
    source: options.source ?? '<options>',
    anchors,
    allow,
    require: toRequirements(parsed.data),
    deny: {
      roca: options.deny?.roca ?? DEFAULT_DENY.roca,
      weakKeys: options.deny?.weakKeys ?? DEFAULT_DENY.weakKeys,
      entries,
      firmware: (options.deny?.firmware ?? []).map(parseVersionRange),
    },
  });
}

function checkedHash(value: string, what: string): string {
  if (typeof value !== 'string' || !SPKI_HASH.test(value)) {
    fail(
      'USAGE',
      `${what} must be a SHA-256 of a SubjectPublicKeyInfo (64 hex digits, optionally "sha256:")`,
    );
  }
  return normaliseSpkiHash(value);
}
