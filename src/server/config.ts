/**
 * The service configuration, `DIR/config.yaml`: validated with zod (every object strict, so a
 * misspelt key is an error, not a silently ignored setting), with errors that name the line
 * (CONFIG_INVALID, `details.line`/`details.column`), through the policy loader's YAML + zod
 * line mapping (`parseYamlWithSchema`). Paths in the file are relative to the data directory;
 * command-line overrides are relative to the working directory. On first start the defaults
 * are written, with comments, so an operator sees every setting.
 *
 * @example
 * const config = await loadServiceConfig('./provenance-data', { listen: '127.0.0.1:9090' });
 * config.listen   // { host: '127.0.0.1', port: 9090 }
 * config.profiles.get('default')?.validityDays   // 365
 */
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { certificateProfilesSchema, profilesFromConfig } from '../ca/profiles.js';
import type { CertificateProfile } from '../ca/types.js';
import { fail } from '../core/errors.js';
import { parseYamlWithSchema } from '../policy/load.js';
import { type FileAccess, nodeFileAccess } from '../token/software/file-access.js';

/** The configuration file's name inside the data directory. */
export const CONFIG_FILE = 'config.yaml';
/** Upper bound on a configuration file. */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** Where the service listens. */
export interface ListenAddress {
  /** IPv4 or IPv6 literal (without brackets) or a host name. */
  readonly host: string;
  /** 0 asks the system for a free port (tests). */
  readonly port: number;
}

/** Enrollment timing and limits. */
export interface EnrollmentSettings {
  /** Default lifetime of a new enrollment code. */
  readonly codeTtlSeconds: number;
  /** Longest lifetime an administrator may ask for. */
  readonly maxCodeTtlSeconds: number;
  /** Lifetime of a challenge (nonce). */
  readonly challengeTtlSeconds: number;
  /** Open (unused, unexpired) challenges one code may hold. */
  readonly maxOpenChallengesPerCode: number;
}

/** Request limits. */
export interface LimitSettings {
  /** Largest request body (413 INPUT_TOO_LARGE above). */
  readonly bodyBytes: number;
  /** Requests per minute authenticated by one enrollment code. */
  readonly perCodePerMinute: number;
  /** API requests per minute from one client address. */
  readonly perAddressPerMinute: number;
}

/** The validated, resolved configuration. */
export interface ServiceConfig {
  /** Absolute data directory. */
  readonly dir: string;
  /** The configuration file read (absolute). */
  readonly source: string;
  /** True when this load wrote the default file (first start). */
  readonly created: boolean;
  readonly listen: ListenAddress;
  /** The URL clients use; written into certificates as the CRL distribution point's base. */
  readonly publicUrl: string;
  /** `sqlite:/absolute/path`, `sqlite::memory:` or a `postgres://` URL. */
  readonly db: string;
  /** Absolute path of the policy file (it may not exist: see serve's fallbacks). */
  readonly policy: string;
  /** True when the policy path came from --policy (then it must exist). */
  readonly policyGiven: boolean;
  /** Absolute directory of the issuing CA. */
  readonly ca: string;
  readonly tls: { readonly cert: string; readonly key: string } | null;
  /** Certificate profiles by id (EKU names resolved to OIDs, CRL URL filled in). */
  readonly profiles: ReadonlyMap<string, CertificateProfile>;
  readonly enrollment: EnrollmentSettings;
  readonly limits: LimitSettings;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (Fastify's trustProxy): false, or the
   * proxies' addresses/CIDRs. Per-address rate limits then count the real client.
   */
  readonly trustProxy: boolean | readonly string[];
}

/** Command-line overrides (paths relative to the working directory). */
export interface ConfigOverrides {
  /** Read this configuration file instead of `DIR/config.yaml`. */
  readonly config?: string;
  readonly policy?: string;
  readonly db?: string;
  readonly listen?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

const LISTEN_PATTERN = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

/**
 * Parse `HOST:PORT` (`[::1]:8080` for IPv6). Null when it is not one.
 *
 * @example
 * parseListen('127.0.0.1:8080')   // { host: '127.0.0.1', port: 8080 }
 */
export function parseListen(text: string): ListenAddress | null {
  const m = LISTEN_PATTERN.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}

/** True for addresses only this machine can reach (plain HTTP is acceptable there). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `http://127.0.0.1:8080`, `https://[::1]:8443`. */
export function urlFor(listen: ListenAddress, tls: boolean): string {
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `${tls ? 'https' : 'http'}://${host}:${listen.port}`;
}

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

const enrollmentSchema = z
  .strictObject({
    codeTtlSeconds: seconds(60, 366 * 86400).default(604800),
    maxCodeTtlSeconds: seconds(60, 366 * 86400).default(2592000),
    challengeTtlSeconds: seconds(10, 3600).default(300),
    maxOpenChallengesPerCode: z.number().int().min(1).max(1000).default(5),
  })
  .refine((e) => e.codeTtlSeconds <= e.maxCodeTtlSeconds, {
    message: 'codeTtlSeconds must not exceed maxCodeTtlSeconds',
    path: ['codeTtlSeconds'],
  });

const limitsSchema = z.strictObject({
  // Below 4 KiB a CSR with its attestation chain does not fit; above 16 MiB is not an API body.
  bodyBytes: z
    .number()
    .int()
    .min(4096)
    .max(16 * 1024 * 1024)
    .default(65536),
  perCodePerMinute: z.number().int().min(1).max(1_000_000).default(20),
  perAddressPerMinute: z.number().int().min(1).max(10_000_000).default(300),
});

const pathText = z.string().min(1, 'a path is empty').max(4096);

/** The file's schema. */
export const serviceConfigSchema = z.strictObject({
  listen: z
    .string()
    .refine((s) => parseListen(s) !== null, 'must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080')
    .default('127.0.0.1:8080'),
  publicUrl: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[\x21-\x7e]+$/, 'must be an http:// or https:// URL in ASCII')
    .optional(),
  db: z
    .string()
    .max(4096)
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:PATH or a postgres:// URL')
    .default('sqlite:./provenance.db'),
  policy: pathText.default('./policy.yaml'),
  ca: pathText.default('./ca'),
  tls: z.strictObject({ cert: pathText, key: pathText }).optional(),
  profiles: certificateProfilesSchema,
  enrollment: enrollmentSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  trustProxy: z
    .union([
      z.boolean(),
      z.array(z.string().regex(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/, 'an IP address or CIDR')).max(64),
    ])
    .default(false),
});

/** The file written on first start: every default, commented. */
export const DEFAULT_CONFIG_YAML = `# Provenance provisioning service configuration (docs/api.md).
# Paths are relative to this data directory. Restart the service after editing.
listen: 127.0.0.1:8080            # plain HTTP only on loopback, unless tls (or --insecure-listen)
# publicUrl: https://pki.example.com   # default: derived from listen; used for the CRL URL in certificates
db: sqlite:./provenance.db        # or postgres://user@host/db
policy: ./policy.yaml             # the allow-list policy (docs/policy.md); --policy overrides
ca: ./ca                          # the issuing CA (provenance ca init)
# tls: { cert: ./tls/cert.pem, key: ./tls/key.pem }
profiles:
  default:
    validityDays: 365
    keyUsage: [digitalSignature]
    extendedKeyUsage: [clientAuth]   # clientAuth, emailProtection, codeSigning, documentSigning or OIDs
    subjectTemplate: "{subject}"     # {subject} is the enrollment code's subject, never the CSR's
    certificatePolicies: []
    includeDeviceSerial: false       # true keeps device serials and CSRs (inventory); off for privacy
enrollment:
  codeTtlSeconds: 604800            # 7 days
  maxCodeTtlSeconds: 2592000        # 30 days
  challengeTtlSeconds: 300
  maxOpenChallengesPerCode: 5
limits:
  bodyBytes: 65536
  perCodePerMinute: 20
  perAddressPerMinute: 300
# trustProxy: [127.0.0.1]         # behind a reverse proxy: believe its X-Forwarded-For (per-address limits)
`;

/**
 * Parse configuration text. `baseDir` resolves the paths in it. Throws CONFIG_INVALID
 * naming `source:line:column`.
 *
 * @example
 * parseServiceConfig('listen: 127.0.0.1:9000\n', { source: 'config.yaml', baseDir: '/srv/provenance' })
 */
export function parseServiceConfig(
  text: string,
  options: { source: string; baseDir: string; overrides?: ConfigOverrides; cwd?: string; created?: boolean },
): ServiceConfig {
  if (text.length > MAX_CONFIG_BYTES)
    fail('INPUT_TOO_LARGE', `${options.source}: configuration above ${MAX_CONFIG_BYTES} bytes`);
  const { data } = parseYamlWithSchema(
    text.trim() === '' ? '{}' : text,
    serviceConfigSchema,
    options.source,
    'CONFIG_INVALID',
  );
  const o = options.overrides ?? {};
  const cwd = options.cwd ?? process.cwd();
  const inDir = (p: string) => (isAbsolute(p) ? p : resolve(options.baseDir, p));
  const fromCwd = (p: string) => resolve(cwd, p);

  let listen = parseListen(data.listen)!;
  if (o.listen !== undefined) {
    const parsed = parseListen(o.listen);
    if (!parsed) fail('USAGE', `--listen must be HOST:PORT, e.g. 127.0.0.1:8080, not "${o.listen}"`);
    listen = parsed;
  }
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
    fail('USAGE', '--tls-cert and --tls-key go together');
  const tls =
    o.tlsCert !== undefined && o.tlsKey !== undefined
      ? { cert: fromCwd(o.tlsCert), key: fromCwd(o.tlsKey) }
      : data.tls
        ? { cert: inDir(data.tls.cert), key: inDir(data.tls.key) }
        : null;
  const publicUrl = (data.publicUrl ?? urlFor(listen, tls !== null)).replace(/\/+$/, '');
  const db = o.db ?? data.db;
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(db))
    fail('USAGE', `--db must be sqlite:PATH or a postgres:// URL, not "${db}"`);
  const dbResolved =
    db.startsWith('sqlite:') && db !== 'sqlite::memory:'
      ? `sqlite:${o.db !== undefined ? fromCwd(db.slice(7)) : inDir(db.slice(7))}`
      : db;
  const profiles = new Map(profilesFromConfig(data.profiles, { publicUrl }).map((p) => [p.id, p]));
  return {
    dir: options.baseDir,
    source: options.source,
    created: options.created ?? false,
    listen,
    publicUrl,
    db: dbResolved,
    policy: o.policy !== undefined ? fromCwd(o.policy) : inDir(data.policy),
    policyGiven: o.policy !== undefined,
    ca: inDir(data.ca),
    tls,
    profiles,
    enrollment: data.enrollment,
    limits: data.limits,
    trustProxy: data.trustProxy,
  };
}

/**
 * Load `DIR/config.yaml` (or `overrides.config`), writing the commented defaults first when
 * the data directory has none. Throws CONFIG_INVALID naming the line, IO_ERROR when the file
 * cannot be read, USAGE for bad overrides.
 *
 * @example
 * const config = await loadServiceConfig('provenance-data', { policy: 'policy.yaml' });
 */
export async function loadServiceConfig(
  dir: string,
  overrides: ConfigOverrides = {},
  options: { files?: FileAccess; cwd?: string } = {},
): Promise<ServiceConfig> {
  const files = options.files ?? nodeFileAccess();
  const cwd = options.cwd ?? process.cwd();
  const baseDir = resolve(cwd, dir);
  const source = overrides.config !== undefined ? resolve(cwd, overrides.config) : join(baseDir, CONFIG_FILE);
  let bytes = await files.readFile(source, MAX_CONFIG_BYTES);
  let created = false;
  if (bytes === null) {
    if (overrides.config !== undefined)
      fail('IO_ERROR', `cannot read the configuration ${source}: no such file`, { path: source });
    await files.mkdir(baseDir);
    await files.writeFileAtomic(source, DEFAULT_CONFIG_YAML, { mode: 0o644 });
    bytes = new TextEncoder().encode(DEFAULT_CONFIG_YAML);
    created = true;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('CONFIG_INVALID', `${source}:1:1: the configuration is not UTF-8 text`, {
      source,
      line: 1,
      column: 1,
    });
  }
  return parseServiceConfig(text, { source, baseDir, overrides, cwd, created });
}
