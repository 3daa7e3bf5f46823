/**
 * Load a policy from YAML: parse with line tracking, validate against the strict schema, read
 * the certificate files it names (relative to the policy file), and reduce each one to the key
 * it identifies. Every problem is a POLICY_INVALID error whose message and details name the
 * line and column (`details.line`, `details.column`, 1-based).
 *
 * @example
 * const policy = loadPolicyFile('config/policy.yaml');
 * // or, with injected file access:
 * const policy = parsePolicy(text, { source: 'policy.yaml', baseDir: '/etc/provenance', readFile });
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { sha256Hex } from '../core/bytes.js';
import { type ErrorCode, fail, isProvenanceError, ProvenanceError } from '../core/errors.js';
import { decodePem, isPem } from '../core/pem.js';
import { anchorFromCertificate, type TrustAnchor } from '../pki/anchor.js';
import { type Certificate, parseCertificate } from '../pki/certificate.js';
import { lookupCatalog } from '../trust/catalog/lookup.js';
import { readCatalogAnchor } from '../trust/catalog/policy.js';
import { parseDuration } from '../trust/lists/duration.js';
import { parsePublisherKeys } from '../trust/lists/keys.js';
import { loadMdsIndex, MDS_FILES, MDS_LEVEL_RANKS } from '../trust/mds/index.js';
import type { MdsIndex } from '../trust/mds/types.js';
import { crlFileRef, isStatusListUrl, statusListFileRef } from '../trust/revocation/files.js';
import { type AnchorRevocation, DEFAULT_REVOCATION_MODE } from '../trust/revocation/types.js';
import {
  type AllowEntry,
  type AllowRule,
  DEFAULT_DENY,
  type DenyEntry,
  finishPolicy,
  type Policy,
  type PolicyMds,
  type PolicyTokenList,
  type Requirements,
} from './model.js';
import { type PolicyFile, policyFileSchema, type RequirementsInput } from './schema.js';
import { parseVersionRange } from './versions.js';

/** Upper bound on a policy file. */
export const MAX_POLICY_BYTES = 1024 * 1024;
/** Upper bound on one certificate file a policy names. */
export const MAX_POLICY_CERTIFICATE_FILE_BYTES = 1024 * 1024;
/** YAML aliases expanded at most this many times (no "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/** Where a policy text came from and how to read the files it names. */
export interface PolicyLoadOptions {
  /** Name used in messages (normally the file path as the user gave it). */
  readonly source: string;
  /** Directory that relative certificate paths are resolved against (the policy file's). */
  readonly baseDir: string;
  /** File access, injected for tests and sandboxes. Default: `fs.readFileSync`. */
  readonly readFile?: (path: string) => Uint8Array;
  /** Trust folder for `catalog:` entries (docs/trust-catalog.md). Default: `<baseDir>/trust`. */
  readonly trustDir?: string;
  /** Reads the `mds:` index directory, injected for tests. Default: `loadMdsIndex`. */
  readonly loadMds?: (dir: string) => MdsIndex & { readonly importedAt?: string };
}

type YamlPath = readonly (string | number)[];

/**
 * Parse and validate a policy document. Throws POLICY_INVALID naming `source:line:column`
 * (INPUT_TOO_LARGE above {@link MAX_POLICY_BYTES}).
 *
 * @example
 * parsePolicy('version: 1\ntrust: [{ id: root, certificates: [root.pem] }]\n', { source: 'p.yaml', baseDir: '.' })
 */
export function parsePolicy(text: string, options: PolicyLoadOptions): Policy {
  if (text.length > MAX_POLICY_BYTES) {
    fail('INPUT_TOO_LARGE', `${options.source}: policy of ${text.length} bytes exceeds ${MAX_POLICY_BYTES}`, {
      source: options.source,
    });
  }
  const { data, locator } = parseYamlWithSchema(text, policyFileSchema, options.source);
  return new PolicyResolver(data, locator, options).resolve();
}

/**
 * Parse YAML with line tracking (strict: duplicate keys, unresolved tags and alias bombs
 * refused) and validate it with a zod schema. Every problem is a `code` error whose message
 * and details name `source:line:column`. Shared by the policy and the service configuration.
 *
 * @example
 * const { data } = parseYamlWithSchema(text, configSchema, 'config.yaml', 'CONFIG_INVALID');
 */
export function parseYamlWithSchema<T>(
  text: string,
  schema: z.ZodType<T>,
  source: string,
  code: ErrorCode = 'POLICY_INVALID',
): { readonly data: T; readonly locator: Locator } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const locator = new Locator(doc.contents, lineCounter, source, code);

  // YAML syntax errors, then warnings (unresolved tags and the like): strict, both reject.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw locator.errorAtOffset(problem.pos[0], problem.message, { yamlCode: problem.code });

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw locator.errorAtOffset(0, `the document cannot be read: ${(err as Error).message}`);
  }

  const parsed = schema.safeParse(data);
  if (!parsed.success) throw schemaError(parsed.error, locator);
  return { data: parsed.data, locator };
}

/**
 * Read and parse a policy file; certificate paths in it are relative to its directory.
 *
 * @example
 * const policy = loadPolicyFile('policy.yaml');
 * console.log(describePolicy(policy));
 */
export function loadPolicyFile(
  path: string,
  options: {
    readFile?: (path: string) => Uint8Array;
    trustDir?: string;
    loadMds?: PolicyLoadOptions['loadMds'];
  } = {},
): Policy {
  const readFile = options.readFile ?? defaultReadFile;
  let bytes: Uint8Array;
  try {
    bytes = readFile(path);
  } catch (err) {
    throw new ProvenanceError(
      'IO_ERROR',
      `cannot read policy ${path}: ${ioReason(err)}`,
      { source: path },
      { cause: err },
    );
  }
  if (bytes.length > MAX_POLICY_BYTES) {
    fail('INPUT_TOO_LARGE', `${path}: policy of ${bytes.length} bytes exceeds ${MAX_POLICY_BYTES}`, {
      source: path,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('POLICY_INVALID', `${path}:1:1: the policy is not UTF-8 text`, {
      source: path,
      line: 1,
      column: 1,
    });
  }
  return parsePolicy(text, {
    source: path,
    baseDir: dirname(resolve(path)),
    readFile,
    ...(options.trustDir === undefined ? {} : { trustDir: options.trustDir }),
    ...(options.loadMds === undefined ? {} : { loadMds: options.loadMds }),
  });
}

/** Convert validated requirement input (ranges as text) to the model. */
export function toRequirements(input: RequirementsInput | null | undefined): Requirements {
  if (!input) return {};
  const out: { -readonly [K in keyof Requirements]: Requirements[K] } = {};
  if (input.freshness !== undefined) out.freshness = input.freshness;
  if (input.generatedOnDevice !== undefined) out.generatedOnDevice = input.generatedOnDevice;
  if (input.nonExportable !== undefined) out.nonExportable = input.nonExportable;
  if (input.userPresence !== undefined) out.userPresence = input.userPresence;
  if (input.userVerification !== undefined) out.userVerification = input.userVerification;
  if (input.algorithms !== undefined) out.algorithms = input.algorithms;
  if (input.minRsaBits !== undefined) out.minRsaBits = input.minRsaBits;
  if (input.securityLevel !== undefined) out.securityLevel = input.securityLevel;
  if (input.firmware !== undefined) out.firmware = input.firmware.map(parseVersionRange);
  if (input.claims !== undefined) out.claims = input.claims;
  return out;
}

/** Lower-case hex without the optional "sha256:" prefix. */
export function normaliseSpkiHash(text: string): string {
  return text.replace(/^sha256:/, '').toLowerCase();
}

function defaultReadFile(path: string): Uint8Array {
  return readFileSync(path);
}

function ioReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' ? e.code : String(e?.message ?? err);
}

/** Turns paths in the YAML document into line and column, and builds POLICY_INVALID (or `code`) errors. */
export class Locator {
  constructor(
    private readonly root: Node | null,
    private readonly lines: LineCounter,
    private readonly source: string,
    private readonly code: ErrorCode = 'POLICY_INVALID',
  ) {}

  /** The error for the node at `path` (or, with `key`, for that key of the map at `path`). */
  error(
    path: YamlPath,
    message: string,
    options: { key?: string; cause?: unknown; extra?: object } = {},
  ): ProvenanceError {
    const offset = this.offsetOf(path, options.key);
    const where = formatPath(options.key === undefined ? path : [...path, options.key]);
    return this.errorAtOffset(
      offset,
      where ? `${where}: ${message}` : message,
      { path: where, ...options.extra },
      options.cause,
    );
  }

  /** 1-based line of the node at `path`. */
  lineOf(path: YamlPath): number {
    return this.lines.linePos(this.offsetOf(path)).line;
  }

  errorAtOffset(offset: number, message: string, extra: object = {}, cause?: unknown): ProvenanceError {
    const { line, col } = this.lines.linePos(offset);
    return new ProvenanceError(
      this.code,
      `${this.source}:${line}:${col}: ${message}`,
      { source: this.source, line, column: col, ...extra },
      cause === undefined ? undefined : { cause },
    );
  }

  /** Offset of the deepest node that exists along `path` (the whole document at worst). */
  offsetOf(path: YamlPath, key?: string): number {
    let node: unknown = this.root;
    let offset = rangeStart(node) ?? 0;
    const segments = key === undefined ? path : [...path, key];
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (isAlias(node)) break;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
        if (!pair) break;
        // For the final segment named as a key (unknown key, duplicate id), point at the key.
        const last = i === segments.length - 1;
        node = last && key !== undefined ? pair.key : (pair.value ?? pair.key);
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
      } else {
        break;
      }
      const start = rangeStart(node);
      if (start === undefined) break;
      offset = start;
    }
    return offset;
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** `allow[0].require.userPresence` */
function formatPath(path: YamlPath): string {
  let out = '';
  for (const segment of path)
    out += typeof segment === 'number' ? `[${segment}]` : out ? `.${segment}` : segment;
  return out;
}

/** The first schema issue in document order, as POLICY_INVALID; every issue in `details.issues`. */
function schemaError(error: z.ZodError, locator: Locator): ProvenanceError {
  const issues = error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (a misspelt key must not weaken a policy)`
        : issue.message.replace(/^Invalid input: /, '');
    const offset = locator.offsetOf(path, key);
    return { path, key, message, offset };
  });
  issues.sort((a, b) => a.offset - b.offset);
  const first = issues[0]!;
  const all = issues.map((i) => {
    const e = locator.error(i.path, i.message, i.key === undefined ? {} : { key: i.key });
    return {
      line: e.details['line'],
      column: e.details['column'],
      path: e.details['path'],
      message: i.message,
    };
  });
  return locator.error(first.path, first.message, {
    ...(first.key === undefined ? {} : { key: first.key }),
    extra: { issues: all },
  });
}

/** Second stage: ids, references, and the certificate files. */
class PolicyResolver {
  private readonly readFile: (path: string) => Uint8Array;

  constructor(
    private readonly file: PolicyFile,
    private readonly locator: Locator,
    private readonly options: PolicyLoadOptions,
  ) {
    this.readFile = options.readFile ?? defaultReadFile;
  }

  /** The trust folder for `catalog:` entries. */
  private trustDir(): string {
    return this.options.trustDir ?? resolve(this.options.baseDir, 'trust');
  }

  resolve(): Policy {
    const anchors = this.resolveTrust();
    const lists = this.resolveLists();
    const allow = this.resolveAllow(anchors, lists);
    const entries = this.resolveDenyEntries();
    const deny = this.file.deny;
    const revocation = this.resolveRevocation();
    const mds = this.resolveMds();
    return finishPolicy({
      source: this.options.source,
      anchors,
      ...(revocation.length > 0 ? { revocation } : {}),
      ...(lists.length > 0 ? { lists } : {}),
      allow,
      require: this.requirements(this.file.require, ['require']),
      ...(this.file.signatures?.allowSha1 === true ? { signatures: { allowSha1: true } } : {}),
      ...(mds === undefined ? {} : { mds }),
      deny: {
        roca: deny?.roca ?? DEFAULT_DENY.roca,
        weakKeys: deny?.weakKeys ?? DEFAULT_DENY.weakKeys,
        entries,
        firmware: (deny?.firmware ?? []).map(parseVersionRange),
      },
    });
  }

  private resolveTrust(): TrustAnchor[] {
    const anchors: TrustAnchor[] = [];
    const seenIds = new Map<string, number>();
    const seenKeys = new Map<string, string>();
    this.file.trust.forEach((entry, i) => {
      this.checkUnique(seenIds, entry.id, ['trust', i], 'trust');
      if (entry.catalog !== undefined) {
        if (entry.certificates !== undefined) {
          throw this.locator.error(
            ['trust', i],
            `trust entry "${entry.id}" gives both "catalog" and "certificates": give one`,
          );
        }
        let installed: ReturnType<typeof readCatalogAnchor>;
        try {
          installed = readCatalogAnchor(entry.catalog, this.trustDir(), this.readFile);
        } catch (err) {
          if (!isProvenanceError(err)) throw err;
          // Keep the trust folder's code (TRUST_NOT_INSTALLED, TRUST_FOLDER_INVALID) and add the policy location.
          const at = this.locator.error(['trust', i, 'catalog'], err.message);
          throw new ProvenanceError(err.code, at.message, { ...err.details, ...at.details }, { cause: err });
        }
        const other = seenKeys.get(installed.certificate.spkiSha256);
        if (other !== undefined) {
          throw this.locator.error(
            ['trust', i, 'catalog'],
            `the key of "${entry.catalog}" (sha256:${installed.certificate.spkiSha256}) is already trusted as "${other}"`,
          );
        }
        seenKeys.set(installed.certificate.spkiSha256, entry.id);
        // Formats from the policy when given (policy check warns if they widen the catalogue's), else as installed.
        anchors.push(
          anchorFromCertificate(installed.certificate, {
            id: entry.id,
            formats: entry.formats ?? installed.formats,
          }),
        );
        return;
      }
      if (entry.certificates === undefined) {
        throw this.locator.error(
          ['trust', i],
          `trust entry "${entry.id}" has no certificates: list at least one file, or name an installed anchor with "catalog"`,
        );
      }
      const formats = entry.formats === undefined ? ['provenance'] : entry.formats;
      entry.certificates.forEach((file, j) => {
        for (const cert of this.readCertificates(file, ['trust', i, 'certificates', j])) {
          const other = seenKeys.get(cert.spkiSha256);
          if (other === entry.id) continue; // the same key twice in one entry (a re-issued root)
          if (other !== undefined) {
            throw this.locator.error(
              ['trust', i, 'certificates', j],
              `the key of "${file}" (sha256:${cert.spkiSha256}) is already trusted as "${other}": list its formats in one entry`,
            );
          }
          // A key whose private half is public (Android software roots, FIDO conformance "FAKE"
          // roots) must never be an anchor, whatever the formats (docs/trust-catalog.md).
          const never = lookupCatalog(cert.spkiSha256);
          if (never?.entry.trust === 'never') {
            const at = this.locator.error(
              ['trust', i, 'certificates', j],
              `"${file}" is ${never.entry.name} (${never.entry.id}), which must never be trusted`,
            );
            throw new ProvenanceError('CATALOG_NEVER_TRUST', at.message, {
              ...at.details,
              id: never.entry.id,
            });
          }
          seenKeys.set(cert.spkiSha256, entry.id);
          anchors.push(anchorFromCertificate(cert, { id: entry.id, formats }));
        }
      });
    });
    return anchors;
  }

  /** `trust[].revocation`, `crls` and `statusList`: files read and parsed now, URLs left to the service. */
  private resolveRevocation(): AnchorRevocation[] {
    const out: AnchorRevocation[] = [];
    this.file.trust.forEach((entry, i) => {
      if (entry.revocation === undefined && entry.crls === undefined && entry.statusList === undefined)
        return;
      const crls = (entry.crls ?? []).map((file, j) =>
        this.readRevocationFile(file, ['trust', i, 'crls', j], (bytes) => crlFileRef(file, bytes)),
      );
      const list = entry.statusList;
      let statusList: AnchorRevocation['statusList'];
      if (list !== undefined && isStatusListUrl(list)) {
        // The status list is not signed: only TLS vouches for it, so plain http is refused.
        if (!/^https:\/\//i.test(list))
          throw this.locator.error(['trust', i, 'statusList'], `"${list}" is not an https URL`);
        statusList = { kind: 'url', url: list };
      } else if (list !== undefined) {
        statusList = this.readRevocationFile(list, ['trust', i, 'statusList'], (bytes) =>
          statusListFileRef(list, bytes),
        );
      }
      out.push({
        anchorId: entry.id,
        mode: entry.revocation ?? DEFAULT_REVOCATION_MODE,
        crls,
        ...(statusList === undefined ? {} : { statusList }),
      });
    });
    return out;
  }

  /** Read and parse a revocation file named in the policy; every failure names the line. */
  private readRevocationFile<T>(file: string, path: YamlPath, parse: (bytes: Uint8Array) => T): T {
    const full = isAbsolute(file) ? file : resolve(this.options.baseDir, file);
    let bytes: Uint8Array;
    try {
      bytes = this.readFile(full);
    } catch (err) {
      throw this.locator.error(path, `cannot read "${file}": ${ioReason(err)}`, { cause: err });
    }
    try {
      return parse(bytes);
    } catch (err) {
      if (!isProvenanceError(err)) throw err;
      throw this.locator.error(path, `"${file}" is not usable: ${err.code}: ${err.message}`, {
        cause: err,
        extra: { cause: err.code },
      });
    }
  }

  /**
   * `mds:`: read the index `provenance mds import` wrote (its BLOB was verified then). A missing
   * or unreadable index fails closed at the policy's line: a policy that relies on MDS must not
   * silently load without it (standards digest §9.5: an absent entry is never "certified").
   */
  private resolveMds(): PolicyMds | undefined {
    const entry = this.file.mds;
    if (!entry) return undefined;
    const location = isAbsolute(entry.index) ? entry.index : resolve(this.options.baseDir, entry.index);
    let mds: MdsIndex & { readonly importedAt?: string };
    try {
      // With injected file access (a draft policy confined to the live policy's folder), the
      // index must pass that access too before loadMdsIndex reads it from the file system.
      if (this.options.loadMds === undefined && this.options.readFile !== undefined)
        this.readFile(join(location, MDS_FILES.index));
      mds = (this.options.loadMds ?? loadMdsIndex)(location);
    } catch (err) {
      // A refused or failed read (ENOENT, the draft folder confinement) counts as IO_ERROR.
      const e = isProvenanceError(err)
        ? err
        : new ProvenanceError(
            'IO_ERROR',
            `cannot read ${join(entry.index, MDS_FILES.index)}: ${ioReason(err)}`,
          );
      throw this.locator.error(
        ['mds', 'index'],
        `"${entry.index}" is not a usable MDS index (write one with \`provenance mds import --out ${entry.index}\`): ${e.code}: ${e.message}`,
        { cause: err, extra: { cause: e.code } },
      );
    }
    const minLevelRank = entry.minLevel === undefined ? undefined : MDS_LEVEL_RANKS[entry.minLevel];
    return {
      index: entry.index,
      location,
      mds,
      ...(mds.importedAt === undefined ? {} : { importedAt: mds.importedAt }),
      ...(entry.minLevel === undefined ? {} : { minLevel: entry.minLevel }),
      ...(minLevelRank === undefined ? {} : { minLevelRank }),
    };
  }

  /** `lists:`: unique ids, the source resolved (https URL or a file next to the policy), publisher keys read. */
  private resolveLists(): PolicyTokenList[] {
    const seen = new Map<string, number>();
    return (this.file.lists ?? []).map((entry, i) => {
      this.checkUnique(seen, entry.id, ['lists', i], 'list');
      const url = /^https:\/\//i.test(entry.source);
      const location =
        url || isAbsolute(entry.source) ? entry.source : resolve(this.options.baseDir, entry.source);
      const publisherKeys = entry.publisherKeys.flatMap((file, j) => {
        const path = ['lists', i, 'publisherKeys', j];
        const full = isAbsolute(file) ? file : resolve(this.options.baseDir, file);
        let bytes: Uint8Array;
        try {
          bytes = this.readFile(full);
        } catch (err) {
          throw this.locator.error(path, `cannot read "${file}": ${ioReason(err)}`, { cause: err });
        }
        try {
          return parsePublisherKeys(new TextDecoder().decode(bytes), file).map((key) => {
            const spki = new Uint8Array(key.export({ type: 'spki', format: 'der' }));
            return { spkiSha256: sha256Hex(spki), spki, file };
          });
        } catch (err) {
          if (!isProvenanceError(err)) throw err;
          throw this.locator.error(path, `"${file}" is not a usable publisher key: ${err.message}`, {
            cause: err,
          });
        }
      });
      const duration = (text: string | undefined, key: string): number | undefined => {
        if (text === undefined) return undefined;
        try {
          return parseDuration(text);
        } catch (err) {
          throw this.locator.error(['lists', i, key], isProvenanceError(err) ? err.message : String(err));
        }
      };
      const refreshMs = duration(entry.refresh, 'refresh');
      return {
        id: entry.id,
        source: entry.source,
        location,
        publisherKeys,
        graceMs: duration(entry.grace, 'grace') ?? 0,
        ...(refreshMs === undefined ? {} : { refreshMs }),
        ...(entry.allowStale === undefined ? {} : { allowStale: entry.allowStale }),
      };
    });
  }

  private resolveAllow(anchors: readonly TrustAnchor[], lists: readonly PolicyTokenList[]): AllowRule[] {
    const seen = new Map<string, number>();
    return (this.file.allow ?? []).map((rule, i) => {
      this.checkUnique(seen, rule.id, ['allow', i], 'allow rule');
      const entries: AllowEntry[] = [];
      if (rule.entry !== undefined) {
        rule.entry.forEach((file, j) => {
          const path = ['allow', i, 'entry', j];
          const certs = this.readCertificates(file, path);
          if (certs.length !== 1) {
            throw this.locator.error(
              path,
              `"${file}" holds ${certs.length} certificates; an allow entry names one`,
            );
          }
          const cert = certs[0]!;
          entries.push({
            kind: 'certificate',
            spkiSha256: cert.spkiSha256,
            subject: cert.subject.text,
            file,
          });
        });
      } else if (rule.spkiSha256 !== undefined) {
        for (const hash of rule.spkiSha256)
          entries.push({ kind: 'spki', spkiSha256: normaliseSpkiHash(hash) });
      } else if (rule.anchor !== undefined) {
        const named = anchors.filter((a) => a.id === rule.anchor);
        if (named.length === 0) {
          throw this.locator.error(['allow', i, 'anchor'], `no trust entry has the id "${rule.anchor}"`);
        }
        for (const a of named) {
          entries.push({ kind: 'anchor', anchorId: a.id, spkiSha256: a.spkiSha256, subject: a.subject.text });
        }
      }
      if (rule.list !== undefined && !lists.some((l) => l.id === rule.list!.id)) {
        throw this.locator.error(
          ['allow', i, 'list', 'id'],
          `no entry of "lists:" has the id "${rule.list.id}"`,
        );
      }
      return {
        id: rule.id,
        entries,
        ...(rule.list === undefined
          ? {}
          : {
              list: {
                id: rule.list.id,
                statuses: rule.list.status ?? ['approved'],
                ...(rule.list.minLevel === undefined ? {} : { minLevel: rule.list.minLevel }),
              },
            }),
        require: this.requirements(rule.require, ['allow', i, 'require']),
        ...(rule.level === undefined ? {} : { level: rule.level }),
        ...(rule.description === undefined ? {} : { description: rule.description }),
      };
    });
  }

  private resolveDenyEntries(): DenyEntry[] {
    const out: DenyEntry[] = [];
    (this.file.deny?.entries ?? []).forEach((entry, i) => {
      if (entry.spkiSha256 !== undefined) {
        out.push({ spkiSha256: normaliseSpkiHash(entry.spkiSha256), reason: entry.reason });
        return;
      }
      const file = entry.certificate!;
      for (const cert of this.readCertificates(file, ['deny', 'entries', i, 'certificate'])) {
        out.push({ spkiSha256: cert.spkiSha256, reason: entry.reason, subject: cert.subject.text, file });
      }
    });
    return out;
  }

  private requirements(input: RequirementsInput | null | undefined, path: YamlPath): Requirements {
    try {
      return toRequirements(input);
    } catch (err) {
      // Ranges were validated by the schema; anything left is still reported at the line.
      throw this.locator.error(path, isProvenanceError(err) ? err.message : String(err), { cause: err });
    }
  }

  private checkUnique(seen: Map<string, number>, id: string, path: YamlPath, what: string): void {
    const first = seen.get(id);
    if (first !== undefined) {
      const line = this.locator.lineOf([...path.slice(0, -1), first]);
      throw this.locator.error([...path, 'id'], `duplicate ${what} id "${id}" (first used on line ${line})`);
    }
    seen.set(id, path[path.length - 1] as number);
  }

  /** Read a PEM or DER certificate file named in the policy; every failure names the line. */
  private readCertificates(file: string, path: YamlPath): Certificate[] {
    const full = isAbsolute(file) ? file : resolve(this.options.baseDir, file);
    let bytes: Uint8Array;
    try {
      bytes = this.readFile(full);
    } catch (err) {
      throw this.locator.error(path, `cannot read "${file}": ${ioReason(err)}`, { cause: err });
    }
    if (bytes.length > MAX_POLICY_CERTIFICATE_FILE_BYTES) {
      throw this.locator.error(
        path,
        `"${file}" is ${bytes.length} bytes, above ${MAX_POLICY_CERTIFICATE_FILE_BYTES}`,
      );
    }
    try {
      if (!isPem(bytes)) return [parseCertificate(new Uint8Array(bytes))];
      const blocks = decodePem(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'));
      const other = blocks.find((b) => b.label !== 'CERTIFICATE');
      if (other)
        fail('PEM_MALFORMED', `it holds a "${other.label}" block; only CERTIFICATE blocks belong here`);
      if (blocks.length === 0) fail('PEM_MALFORMED', 'it holds no PEM block');
      return blocks.map((b) => parseCertificate(b.der));
    } catch (err) {
      if (!isProvenanceError(err)) throw err;
      throw this.locator.error(path, `"${file}" is not a usable certificate: ${err.code}: ${err.message}`, {
        cause: err,
        extra: { cause: err.code },
      });
    }
  }
}
