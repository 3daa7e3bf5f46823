/**
 * The policy file's schema (docs/policy.md). Every object is strict: an unknown key is an
 * error, because a typo ("requre:", "userPresense:") must never silently weaken a policy.
 *
 * @example
 * const parsed = policyFileSchema.safeParse(yamlDocument.toJS());
 */
import { z } from 'zod';
import type { FormatId } from '../formats/types.js';
import { isDuration } from '../trust/lists/duration.js';
import { POLICY_KEY_ALGORITHMS } from './model.js';
import { isVersionRange } from './versions.js';

/** Evidence formats a trust entry may be scoped to (kept equal to `FormatId` by the check below). */
export const POLICY_FORMATS = [
  'provenance',
  'yubikey-piv',
  'tpm',
  'android-key',
  'apple',
  'webauthn',
  'cloud-hsm',
] as const satisfies readonly FormatId[];
// Compile-time guard: a new FormatId must be added to POLICY_FORMATS too.
type MissingFormats = Exclude<FormatId, (typeof POLICY_FORMATS)[number]>;
const formatsComplete: [MissingFormats] extends [never] ? true : MissingFormats = true;
void formatsComplete;

/** Bounds on list sizes: a policy is configuration, not a database. */
export const POLICY_LIMITS = {
  maxTrust: 256,
  maxCertificatesPerTrust: 64,
  maxAllow: 10_000,
  maxEntriesPerRule: 256,
  maxDenyEntries: 10_000,
  maxRanges: 64,
  maxLists: 64,
  maxPublisherKeys: 16,
} as const;

/** Accept `x` as shorthand for `[x]` where a list is expected. */
/** A claim named by a dotted path of up to four identifiers. */
const CLAIM_PATH = /^[A-Za-z][A-Za-z0-9_]{0,63}(\.[A-Za-z][A-Za-z0-9_]{0,63}){0,3}$/;

function oneOrMany<T extends z.ZodType>(item: T, max: number) {
  return z.preprocess(
    (v) => (v === null || v === undefined || Array.isArray(v) ? v : [v]),
    z.array(item).min(1, 'the list is empty').max(max, `the list has more than ${max} items`),
  );
}

const id = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
    'an id is 1–64 characters: letters, digits, ".", "_", ":", "-", starting with a letter or digit',
  );

const filePath = z.string().min(1, 'a file path is empty').max(4096);

const spkiHash = z
  .string()
  .regex(
    /^(sha256:)?[0-9a-fA-F]{64}$/,
    'expected a SHA-256 of a SubjectPublicKeyInfo: 64 hex digits, optionally "sha256:"',
  );

const versionRange = z
  .string()
  .max(200)
  .refine(isVersionRange, 'expected a version range such as ">=4.3.5" or ">=4.2.6 <4.3.5"');

/** `require:` globally and on an allow rule. */
export const requirementsSchema = z.strictObject({
  freshness: z.enum(['nonce', 'possession', 'none']).optional(),
  generatedOnDevice: z.boolean().optional(),
  nonExportable: z.boolean().optional(),
  userPresence: oneOrMany(z.enum(['never', 'cached', 'always']), 3).optional(),
  userVerification: oneOrMany(z.enum(['never', 'once', 'always']), 3).optional(),
  algorithms: oneOrMany(z.enum(POLICY_KEY_ALGORITHMS), POLICY_KEY_ALGORITHMS.length).optional(),
  minRsaBits: z.number().int().min(1024).max(16384).optional(),
  securityLevel: z.enum(['software', 'tee', 'secure-element']).optional(),
  firmware: oneOrMany(versionRange, POLICY_LIMITS.maxRanges).optional(),
  /** Vendor claims by dotted path (`rootOfTrust.deviceLocked`, `environment`): the value must be one of these. */
  claims: z
    .record(
      z
        .string()
        .regex(CLAIM_PATH, 'expected a claim name such as "environment" or "rootOfTrust.deviceLocked"'),
      oneOrMany(z.union([z.string().max(200), z.number().finite(), z.boolean()]), 16),
    )
    .refine((r) => Object.keys(r).length > 0, 'claims is empty')
    .refine((r) => Object.keys(r).length <= 16, 'claims names more than 16 claims')
    .optional(),
});

const trustSchema = z.strictObject({
  id,
  certificates: oneOrMany(filePath, POLICY_LIMITS.maxCertificatesPerTrust).optional(),
  /** An anchor installed in the trust folder by catalogue id (docs/trust-catalog.md), instead of `certificates`. */
  catalog: id.optional(),
  formats: z.union([z.literal('any'), oneOrMany(z.enum(POLICY_FORMATS), POLICY_FORMATS.length)]).optional(),
  description: z.string().max(1000).optional(),
  /** Revocation of paths ending at this anchor (docs/policy.md): default best-effort. */
  revocation: z.enum(['require', 'best-effort', 'off']).optional(),
  /** CRL files (DER or PEM), checked against their issuer in each path. */
  crls: oneOrMany(filePath, POLICY_LIMITS.maxCertificatesPerTrust).optional(),
  /** An Android-style attestation status list: a file, or an https URL the service fetches. */
  statusList: z.string().min(1).max(4096).optional(),
});

const duration = z.string().refine(isDuration, 'expected a duration such as "30d", "12h" or "15m"');

/** `lists:` — a signed token list to consult (docs/token-list.md). */
const listSourceSchema = z.strictObject({
  id,
  source: z
    .string()
    .min(1)
    .max(4096)
    .refine(
      (s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^https:\/\//i.test(s),
      'a list URL must be https://',
    ),
  publisherKeys: oneOrMany(filePath, POLICY_LIMITS.maxPublisherKeys),
  refresh: duration.optional(),
  grace: duration.optional(),
  /** The reason a stale list may still be used: the exception to failing closed. */
  allowStale: z.string().min(1, 'allowStale gives the reason for the exception').max(1000).optional(),
  description: z.string().max(1000).optional(),
});

/** `allow[].list`: a rule that matches entries of a signed list. */
const allowListSchema = z.strictObject({
  id,
  status: oneOrMany(z.enum(['approved', 'deprecated']), 2).optional(),
  minLevel: z.number().int().min(0).max(255).optional(),
});

const allowSchema = z
  .strictObject({
    id,
    entry: oneOrMany(filePath, POLICY_LIMITS.maxEntriesPerRule).optional(),
    spkiSha256: oneOrMany(spkiHash, POLICY_LIMITS.maxEntriesPerRule).optional(),
    anchor: id.optional(),
    list: allowListSchema.optional(),
    level: z.number().int().min(0).max(255).optional(),
    require: requirementsSchema.optional(),
    description: z.string().max(1000).optional(),
  })
  .superRefine((rule, ctx) => {
    const given = (['entry', 'spkiSha256', 'anchor', 'list'] as const).filter((k) => rule[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? `allow rule "${rule.id}" names no entry: give one of "entry", "spkiSha256", "anchor" or "list"`
            : `allow rule "${rule.id}" gives ${given.map((k) => `"${k}"`).join(' and ')}: give exactly one`,
      });
    }
  });

const denyEntrySchema = z
  .strictObject({
    spkiSha256: spkiHash.optional(),
    certificate: filePath.optional(),
    reason: z.string().min(1).max(1000),
  })
  .superRefine((entry, ctx) => {
    if ((entry.spkiSha256 === undefined) === (entry.certificate === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a deny entry gives exactly one of "spkiSha256" or "certificate"',
      });
    }
  });

const denySchema = z.strictObject({
  roca: z.boolean().optional(),
  weakKeys: z.boolean().optional(),
  entries: z.array(denyEntrySchema).max(POLICY_LIMITS.maxDenyEntries).optional(),
  firmware: oneOrMany(versionRange, POLICY_LIMITS.maxRanges).optional(),
});

/** FIDO certification levels `mds.minLevel` may name (FIDO MDS v3.1.1 §3.1.4, AuthenticatorStatus). */
export const POLICY_MDS_LEVELS = [
  'FIDO_CERTIFIED_L1',
  'FIDO_CERTIFIED_L1plus',
  'FIDO_CERTIFIED_L2',
  'FIDO_CERTIFIED_L2plus',
  'FIDO_CERTIFIED_L3',
  'FIDO_CERTIFIED_L3plus',
] as const;

/** `mds:` — a FIDO MDS index (`provenance mds import --out DIR`) whose entries vouch for WebAuthn models. */
const mdsSchema = z.strictObject({
  index: filePath,
  minLevel: z.enum(POLICY_MDS_LEVELS).optional(),
});

/** The whole file. */
export const policyFileSchema = z
  .strictObject({
    version: z.literal(1, { error: 'version must be 1' }),
    // Empty only when `mds:` supplies the anchors (WebAuthn models by AAGUID); checked below.
    trust: z.array(trustSchema).max(POLICY_LIMITS.maxTrust),
    allow: z.array(allowSchema).max(POLICY_LIMITS.maxAllow).nullish(),
    require: requirementsSchema.nullish(),
    deny: denySchema.nullish(),
    lists: z.array(listSourceSchema).max(POLICY_LIMITS.maxLists).nullish(),
    /** Signature algorithms accepted inside evidence beyond the default (docs/policy.md, "signatures"). */
    signatures: z.strictObject({ allowSha1: z.boolean().optional() }).nullish(),
    mds: mdsSchema.nullish(),
  })
  .superRefine((file, ctx) => {
    // Fail closed: without anchors nothing could ever be accepted, which is surely a mistake,
    // unless an MDS index supplies per-model anchors.
    if (file.trust.length === 0 && !file.mds)
      ctx.addIssue({ code: 'custom', path: ['trust'], message: 'a policy must trust at least one anchor' });
  });

/** A policy file as validated by the schema (before files are read). */
export type PolicyFile = z.infer<typeof policyFileSchema>;
/** Requirements as validated by the schema (firmware ranges still text). */
export type RequirementsInput = z.infer<typeof requirementsSchema>;
