/**
 * The token-list document's schema (docs/token-list.schema.json is the same contract as JSON
 * Schema). Every object is strict: an unknown key is an error, so a misspelt "revokd" can never
 * silently drop a revocation. Sizes are bounded: a list is configuration, not a database.
 *
 * @example
 * const parsed = tokenListSchema.safeParse(JSON.parse(payloadText));
 */
import { z } from 'zod';
import { isVersionRange } from '../../policy/versions.js';

/** Bounds on a list (a JWS above `maxJwsBytes` is refused before it is parsed). */
export const TOKEN_LIST_LIMITS = {
  maxJwsBytes: 4 * 1024 * 1024,
  maxEntries: 10_000,
  maxAnchorsPerEntry: 64,
  maxRevoked: 100_000,
  maxDeniedRanges: 64,
  maxCertificateChars: 16_384,
} as const;

const text = (max: number) => z.string().min(1).max(max);

/** Entry ids share the policy's id alphabet, so a policy can name them. */
export const listIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
    'an id is 1–64 characters: letters, digits, ".", "_", ":", "-", starting with a letter or digit',
  );

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits (SHA-256)');

/** RFC 3339 date-time with an explicit offset, or a full date. */
const instant = z
  .string()
  .max(40)
  .refine(
    (s) =>
      /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?$/.test(s) &&
      Number.isFinite(Date.parse(s)),
    'expected an RFC 3339 date-time such as "2026-01-31T12:00:00Z" (or a date "2026-01-31")',
  );

const anchorSchema = z.strictObject({
  spkiSha256: sha256Hex,
  certificate: z
    .string()
    .max(TOKEN_LIST_LIMITS.maxCertificateChars)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64 DER')
    .optional(),
});

const entrySchema = z.strictObject({
  id: listIdSchema,
  maker: text(200),
  product: text(200),
  model: text(200).optional(),
  anchors: z
    .array(anchorSchema)
    .min(1, 'an entry needs at least one anchor')
    .max(TOKEN_LIST_LIMITS.maxAnchorsPerEntry),
  level: z.number().int().min(0).max(255),
  status: z.enum(['approved', 'deprecated', 'suspended', 'revoked']),
  since: instant,
  notes: z.string().max(2000).optional(),
  firmware: z
    .strictObject({
      denied: z
        .array(
          z.string().max(200).refine(isVersionRange, 'expected a version range such as ">=4.2.6 <4.3.5"'),
        )
        .max(TOKEN_LIST_LIMITS.maxDeniedRanges),
    })
    .optional(),
});

const revokedSchema = z.union([
  z.strictObject({ spkiSha256: sha256Hex, reason: text(1000), since: instant.optional() }),
  z.strictObject({ certificateSha256: sha256Hex, reason: text(1000), since: instant.optional() }),
]);

/** The signed document (the JWS payload). */
export const tokenListSchema = z
  .strictObject({
    publisher: text(200),
    sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    issuedAt: instant,
    nextUpdate: instant,
    entries: z.array(entrySchema).max(TOKEN_LIST_LIMITS.maxEntries),
    revoked: z.array(revokedSchema).max(TOKEN_LIST_LIMITS.maxRevoked),
  })
  .superRefine((list, ctx) => {
    if (Date.parse(list.nextUpdate) <= Date.parse(list.issuedAt))
      ctx.addIssue({ code: 'custom', path: ['nextUpdate'], message: 'nextUpdate must be after issuedAt' });
    const seen = new Set<string>();
    list.entries.forEach((e, i) => {
      if (seen.has(e.id))
        ctx.addIssue({ code: 'custom', path: ['entries', i, 'id'], message: `duplicate entry id "${e.id}"` });
      seen.add(e.id);
    });
  });

/**
 * The publisher's draft (`DIR/list.json`): the document without the signing-time fields;
 * `sequence` is the last one signed (0 before the first signature).
 */
export const tokenListDraftSchema = z.strictObject({
  publisher: text(200),
  sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  entries: z.array(entrySchema).max(TOKEN_LIST_LIMITS.maxEntries),
  revoked: z.array(revokedSchema).max(TOKEN_LIST_LIMITS.maxRevoked),
});

/** The draft as validated. */
export type TokenListDraft = z.infer<typeof tokenListDraftSchema>;

/** "path.to[0].field: message" for the first issue (messages name the offending item). */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path
    .filter((p): p is string | number => typeof p !== 'symbol')
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message.replace(/^Invalid input: /, '');
  return path === '' ? message : `${path}: ${message}`;
}
