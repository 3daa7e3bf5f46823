/**
 * Certificate profiles: the `profiles:` section of the service configuration, validated with
 * zod, and the names of extended key usages mapped to their KeyPurposeId OIDs.
 *
 * ```yaml
 * profiles:
 *   default: { validityDays: 365, keyUsage: [digitalSignature], extendedKeyUsage: [clientAuth],
 *              subjectTemplate: "{subject}", certificatePolicies: [], includeDeviceSerial: false }
 * ```
 *
 * `documentSigning` is RFC 9336's id-kp-documentSigning (1.3.6.1.5.5.7.3.36): the IETF
 * standard, general-purpose purpose for signing content people read. Microsoft's older
 * 1.3.6.1.4.1.311.10.3.12 is a vendor arc that predates it; a profile whose relying parties
 * still want it lists that OID in dotted form next to (or instead of) the name.
 *
 * @example
 * const profiles = parseProfiles(config.profiles, { publicUrl: 'https://pki.example.com' });
 * profiles.find((p) => p.id === 'default')?.extendedKeyUsage   // ['1.3.6.1.5.5.7.3.2']
 */
import { z } from 'zod';
import { ProvenanceError } from '../core/errors.js';
import type { CertificateProfile } from './types.js';

/**
 * KeyPurposeIds by name: RFC 5280 §4.2.1.12 (id-kp 2, 3, 4) and RFC 9336 §3 (id-kp 36).
 */
export const EXTENDED_KEY_USAGES = {
  /** id-kp-clientAuth: TLS WWW client authentication (RFC 5280 §4.2.1.12). */
  clientAuth: '1.3.6.1.5.5.7.3.2',
  /** id-kp-codeSigning: signing of downloadable executable code (RFC 5280 §4.2.1.12). */
  codeSigning: '1.3.6.1.5.5.7.3.3',
  /** id-kp-emailProtection: email protection, S/MIME (RFC 5280 §4.2.1.12). */
  emailProtection: '1.3.6.1.5.5.7.3.4',
  /** id-kp-documentSigning: signing content consumed by people (RFC 9336 §3). */
  documentSigning: '1.3.6.1.5.5.7.3.36',
} as const;

/** A name of `EXTENDED_KEY_USAGES`. */
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGES;

/** Key usages an end-entity profile may ask for (never keyCertSign or cRLSign: issued certificates are not CAs). */
export const PROFILE_KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'keyAgreement',
] as const;

/** The placeholder the subject template must contain exactly once: the enrollment code's subject. */
export const SUBJECT_PLACEHOLDER = '{subject}';

/** Validity bounds of a profile, in days (about 10 years at most: the issuing CA's own span). */
export const MAX_PROFILE_VALIDITY_DAYS = 3650;

/** Profile ids: what enrollment codes name (`profile: default`). */
const PROFILE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Dotted OID (X.660): arcs without leading zeros, first arc 0..2. */
const DOTTED_OID = /^[0-2](\.(0|[1-9]\d{0,30})){1,63}$/;

const oid = z.string().regex(DOTTED_OID, 'must be a dotted OID such as 1.3.6.1.4.1.99999.1');

const extendedKeyUsage = z.union(
  [z.enum(Object.keys(EXTENDED_KEY_USAGES) as [ExtendedKeyUsageName, ...ExtendedKeyUsageName[]]), oid],
  {
    error: `must be one of ${Object.keys(EXTENDED_KEY_USAGES).join(', ')} or a dotted OID`,
  },
);

/** One profile in the configuration; every field has a default. */
export const certificateProfileSchema = z.strictObject({
  validityDays: z.number().int().min(1).max(MAX_PROFILE_VALIDITY_DAYS).default(365),
  keyUsage: z
    .array(z.enum(PROFILE_KEY_USAGES))
    .min(1)
    .max(PROFILE_KEY_USAGES.length)
    .refine((list) => new Set(list).size === list.length, 'lists a key usage twice')
    .default(['digitalSignature']),
  extendedKeyUsage: z
    .array(extendedKeyUsage)
    .max(16)
    .refine(
      (list) => new Set(list.map(ekuOid)).size === list.length,
      'lists a purpose twice (by name or OID)',
    )
    .default(['clientAuth']),
  subjectTemplate: z
    .string()
    .min(SUBJECT_PLACEHOLDER.length)
    .max(1024)
    .refine(
      (t) => t.split(SUBJECT_PLACEHOLDER).length === 2,
      `must contain ${SUBJECT_PLACEHOLDER} exactly once (the subject comes from the enrollment code)`,
    )
    .default(SUBJECT_PLACEHOLDER),
  certificatePolicies: z
    .array(oid)
    .max(16)
    .refine((list) => new Set(list).size === list.length, 'lists a policy twice')
    .default([]),
  includeDeviceSerial: z.boolean().default(false),
  /** Explicit CRL distribution point; by default derived from the service's publicUrl. */
  crlUrl: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[\x21-\x7e]+$/, 'must be an http:// or https:// URL in ASCII')
    .optional(),
});

/** The configuration's `profiles:` section: profile id → profile. Default: one profile named `default`. */
export const certificateProfilesSchema = z
  .record(
    z.string().regex(PROFILE_ID, 'profile ids are 1 to 64 of a-z, 0-9, _ and -'),
    certificateProfileSchema,
  )
  .refine((r) => Object.keys(r).length > 0, 'at least one profile is needed')
  .default({ default: certificateProfileSchema.parse({}) });

/** The profiles section as the schema outputs it. */
export type CertificateProfilesConfig = z.output<typeof certificateProfilesSchema>;

/** Options of `parseProfiles`. */
export interface ParseProfilesOptions {
  /** The service's public URL: profiles without `crlUrl` get `${publicUrl}/api/v1/crl`. */
  readonly publicUrl?: string;
}

/** The OID of an extended key usage given by name or as a dotted OID. */
export function ekuOid(nameOrOid: string): string {
  return Object.hasOwn(EXTENDED_KEY_USAGES, nameOrOid)
    ? EXTENDED_KEY_USAGES[nameOrOid as ExtendedKeyUsageName]
    : nameOrOid;
}

/** The CRL distribution point URL for a service's public URL (design: `${publicUrl}/api/v1/crl`). */
export function crlUrlFor(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/v1/crl`;
}

/**
 * Validate the `profiles:` section and turn it into CertificateProfiles (EKU names resolved
 * to OIDs). `undefined` gives the default profile. Throws CONFIG_INVALID naming the field
 * (`details.path`, e.g. ['profiles', 'default', 'keyUsage', 0], for the config loader to map
 * to a line).
 *
 * @example
 * parseProfiles({ signing: { extendedKeyUsage: ['documentSigning'], keyUsage: ['digitalSignature', 'nonRepudiation'] } })
 */
export function parseProfiles(section: unknown, options: ParseProfilesOptions = {}): CertificateProfile[] {
  const parsed = certificateProfilesSchema.safeParse(section);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = ['profiles', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    throw new ProvenanceError('CONFIG_INVALID', `${path.join('.')}: ${issue.message}`, {
      path,
      issues: parsed.error.issues.map((i) => ({
        path: ['profiles', ...i.path.map(String)],
        message: i.message,
      })),
    });
  }
  return profilesFromConfig(parsed.data, options);
}

/** CertificateProfiles from an already validated section (for a config loader that ran the schema itself). */
export function profilesFromConfig(
  config: CertificateProfilesConfig,
  options: ParseProfilesOptions = {},
): CertificateProfile[] {
  const defaultCrlUrl = options.publicUrl === undefined ? undefined : crlUrlFor(options.publicUrl);
  return Object.entries(config).map(([id, p]) => {
    const crlUrl = p.crlUrl ?? defaultCrlUrl;
    return {
      id,
      validityDays: p.validityDays,
      keyUsage: [...p.keyUsage],
      extendedKeyUsage: p.extendedKeyUsage.map(ekuOid),
      subjectTemplate: p.subjectTemplate,
      certificatePolicies: [...p.certificatePolicies],
      includeDeviceSerial: p.includeDeviceSerial,
      ...(crlUrl === undefined ? {} : { crlUrl }),
    };
  });
}
