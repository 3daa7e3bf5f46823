/**
 * The operator's trust folder: installed anchors as PEM files named by id (`<id>.pem`) plus an
 * index (`index.json`) recording each anchor's formats, hashes and catalogue match. The CLI
 * defaults to `./trust` (beside a policy in the working directory, which is where a policy's
 * `catalog:` references look); the service uses `<data dir>/trust` (docs/trust-catalog.md).
 *
 * Every read checks the PEM against the index (SPKI and certificate SHA-256): a swapped file
 * fails closed with TRUST_FOLDER_INVALID rather than silently trusting another key.
 *
 * @example
 * const folder = new TrustFolder('./trust', nodeTrustFolderFs);
 * const { anchor } = folder.add(der, { now: Date.now() });   // recognised: id from the catalogue
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fail, ProvenanceError } from '../../core/errors.js';
import { encodePem } from '../../core/pem.js';
import type { FormatId } from '../../formats/types.js';
import { parseCertificateBundle } from '../../pki/bundle.js';
import { type Certificate, nameAttribute } from '../../pki/certificate.js';
import { POLICY_FORMATS } from '../../policy/schema.js';
import type { CatalogEntry } from './entries.js';
import { CATALOG } from './entries.js';
import { type CatalogMatch, lookupCatalog } from './lookup.js';

/** File access for the trust folder, injected (tests use an in-memory map). */
export interface TrustFolderFs {
  /** Read a file; throw (any error) when it does not exist. */
  readFile(path: string): Uint8Array;
  writeFile(path: string, data: string): void;
  /** Replace `to` by `from` atomically (the index is written through a temporary file). */
  rename(from: string, to: string): void;
  remove(path: string): void;
  mkdir(path: string): void;
}

/** The real file system. */
export const nodeTrustFolderFs: TrustFolderFs = {
  readFile: (path) => new Uint8Array(readFileSync(path)),
  writeFile: (path, data) => writeFileSync(path, data, { mode: 0o644 }),
  rename: (from, to) => renameSync(from, to),
  remove: (path) => rmSync(path, { force: true }),
  mkdir: (path) => mkdirSync(path, { recursive: true }),
};

/** A read-only trust folder view over a plain `readFile` (the policy loader's). */
export function readOnlyTrustFolderFs(readFile: (path: string) => Uint8Array): TrustFolderFs {
  const refuse = (): never => fail('INTERNAL', 'this trust folder view is read-only');
  return { readFile, writeFile: refuse, rename: refuse, remove: refuse, mkdir: refuse };
}

/**
 * A copy-on-write view of `base`: reads fall through, writes stay in memory. `trust add` runs
 * every certificate through it first, so a command that adds several is all-or-nothing.
 */
export function dryRunTrustFolderFs(base: TrustFolderFs): TrustFolderFs {
  const files = new Map<string, Uint8Array>();
  const removed = new Set<string>();
  const enoent = (path: string) => Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return {
    readFile: (path) => {
      const mine = files.get(path);
      if (mine !== undefined) return mine;
      if (removed.has(path)) throw enoent(path);
      return base.readFile(path);
    },
    writeFile: (path, data) => {
      files.set(path, new Uint8Array(Buffer.from(data, 'utf8')));
      removed.delete(path);
    },
    rename: (from, to) => {
      const data = files.get(from);
      if (data === undefined) throw enoent(from);
      files.set(to, data);
      files.delete(from);
      removed.delete(to);
    },
    remove: (path) => {
      files.delete(path);
      removed.add(path);
    },
    mkdir: () => {},
  };
}

/** The index's file name inside the folder. */
export const TRUST_INDEX_FILE = 'index.json';

/** Bounds: a trust folder is configuration, not a database. */
export const TRUST_FOLDER_LIMITS = {
  maxAnchors: 256,
  maxIndexBytes: 1024 * 1024,
  maxFileBytes: 256 * 1024,
} as const;

/** The service's trust folder inside its data directory. */
export function trustDirForDataDir(dataDir: string): string {
  return join(dataDir, 'trust');
}

/** Anchor ids: they name files, so no path separators, no leading dot, no colon. */
export const ANCHOR_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const installedSchema = z.strictObject({
  id: z.string().regex(ANCHOR_ID),
  file: z.string(),
  formats: z.array(z.enum(POLICY_FORMATS)).min(1).max(POLICY_FORMATS.length),
  spkiSha256: hex64,
  certificateSha256: hex64,
  subject: z.string().max(4096),
  notAfter: z.string().max(40),
  catalog: z.string().regex(ANCHOR_ID).nullable(),
  vendor: z.string().max(200).nullable(),
  intermediate: z.boolean(),
});
const indexSchema = z.strictObject({
  version: z.literal(1),
  anchors: z.array(installedSchema).max(TRUST_FOLDER_LIMITS.maxAnchors),
});

/** One installed anchor, as the index records it (stable JSON: `trust list --json`). */
export type InstalledAnchor = z.infer<typeof installedSchema>;

/** What `add` was asked to do. */
export interface AddAnchorOptions {
  /** Required for a certificate the catalogue does not know; must not contradict a catalogue match. */
  readonly id?: string;
  /** Required for an unknown certificate; for a catalogued one it replaces the catalogue's formats. */
  readonly formats?: readonly FormatId[];
  /** Accept a certificate that is not a self-signed CA (keylime stores vendor intermediates as anchors). */
  readonly intermediateAnchor?: boolean;
  /** Current time (ms), for the expiry warning. */
  readonly now: number;
}

/** What `add` did. */
export interface AddAnchorResult {
  readonly anchor: InstalledAnchor;
  readonly match: CatalogMatch | null;
  /** Non-fatal remarks (expired, formats wider than the catalogue's, unknown re-issue). */
  readonly warnings: string[];
}

/** An operator trust folder. */
export class TrustFolder {
  constructor(
    readonly dir: string,
    private readonly fs: TrustFolderFs,
    private readonly catalog: readonly CatalogEntry[] = CATALOG,
  ) {}

  /** The installed anchors, from the index (an absent folder or index is an empty list). */
  list(): InstalledAnchor[] {
    return [...this.readIndex().anchors];
  }

  /** One installed anchor with its certificate, checked against the index; TRUST_NOT_INSTALLED when absent. */
  read(id: string): { anchor: InstalledAnchor; certificate: Certificate } {
    const anchor = this.readIndex().anchors.find((a) => a.id === id);
    if (anchor === undefined) {
      fail('TRUST_NOT_INSTALLED', `no anchor "${id}" is installed in ${this.dir}`, { id, dir: this.dir });
    }
    return { anchor, certificate: this.readCertificate(anchor) };
  }

  /** Every installed anchor with its certificate (each checked against the index). */
  readAll(): { anchor: InstalledAnchor; certificate: Certificate }[] {
    return this.readIndex().anchors.map((anchor) => ({ anchor, certificate: this.readCertificate(anchor) }));
  }

  /**
   * Install one certificate. Refuses (with a stable code) catalogue entries marked 'never',
   * certificates that are not self-signed CAs without `intermediateAnchor`, and duplicates.
   */
  add(certificate: Certificate, options: AddAnchorOptions): AddAnchorResult {
    const warnings: string[] = [];
    const match = lookupCatalog(certificate, this.catalog);
    if (match?.entry.trust === 'never') {
      fail(
        'CATALOG_NEVER_TRUST',
        `${match.entry.name} (${match.entry.id}) must never be a trust anchor: ${match.entry.notes ?? 'the catalogue forbids it'}`,
        { catalog: match.entry.id, spkiSha256: certificate.spkiSha256 },
      );
    }
    // RFC 5280 §6.1.1(d): a trust anchor is a key and a name; a root is self-issued and a CA.
    // A version 1 certificate has no basicConstraints and is taken as a CA (§6.1.4(k) note),
    // as the Cavium manufacturer root is. The anchor's own signature is never relied upon
    // (§6.1), so it is not verified here: the operator's choice of key is the trust decision.
    const isCa = certificate.basicConstraints?.ca === true || certificate.version === 1;
    const selfSigned = certificate.selfIssued && keyIdsAgree(certificate);
    if ((!isCa || !selfSigned) && options.intermediateAnchor !== true) {
      const why = !isCa ? 'it is not a CA certificate' : 'it is not self-signed (its issuer is another CA)';
      fail(
        'TRUST_ANCHOR_NOT_ROOT',
        `refusing ${certificate.subject.text}: ${why}. Install its root instead, or pass --intermediate-anchor to anchor at this certificate (as keylime stores vendor intermediates)`,
        { spkiSha256: certificate.spkiSha256, ca: isCa, selfSigned },
      );
    }
    if (match !== null && options.id !== undefined && options.id !== match.entry.id) {
      fail(
        'USAGE',
        `this certificate is the catalogue's "${match.entry.id}": drop --id (catalogued anchors keep their id)`,
      );
    }
    if (match === null && options.id === undefined)
      fail('USAGE', `${certificate.subject.text} is not in the catalogue: give --id and --formats`);
    if (match === null && options.formats === undefined)
      fail(
        'USAGE',
        `${certificate.subject.text} is not in the catalogue: give --formats (e.g. --formats tpm)`,
      );
    const id = match?.entry.id ?? options.id!;
    if (!ANCHOR_ID.test(id))
      fail(
        'USAGE',
        `anchor id "${id}" must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    const formats = [...new Set(options.formats ?? match!.entry.formats)];
    if (match !== null) {
      const extra = formats.filter((f) => !(match.entry.formats as readonly string[]).includes(f));
      if (extra.length > 0)
        warnings.push(
          `formats ${extra.join(', ')} go beyond the catalogue's (${match.entry.formats.join(', ')}) for ${id}`,
        );
      if (!match.certificateKnown)
        warnings.push(`the key is the catalogue's "${id}" but this certificate (a re-issue?) is not listed`);
    }
    if (certificate.notAfter < options.now)
      warnings.push(
        `${id} expired on ${new Date(certificate.notAfter).toISOString()}: paths will need a pinned time`,
      );

    const index = this.readIndex();
    const sameId = index.anchors.find((a) => a.id === id);
    const sameKey = index.anchors.find((a) => a.spkiSha256 === certificate.spkiSha256);
    if (sameKey !== undefined || sameId !== undefined) {
      const other = (sameKey ?? sameId)!;
      fail(
        'TRUST_ANCHOR_DUPLICATE',
        sameKey !== undefined
          ? `the key sha256:${certificate.spkiSha256} is already installed as "${other.id}"`
          : `an anchor "${id}" is already installed (another key): remove it first`,
        { id: other.id, spkiSha256: certificate.spkiSha256 },
      );
    }
    if (index.anchors.length >= TRUST_FOLDER_LIMITS.maxAnchors)
      fail('INPUT_TOO_LARGE', `the trust folder holds ${TRUST_FOLDER_LIMITS.maxAnchors} anchors already`);
    const anchor: InstalledAnchor = {
      id,
      file: `${id}.pem`,
      formats,
      spkiSha256: certificate.spkiSha256,
      certificateSha256: certificate.fingerprintSha256,
      subject: certificate.subject.text,
      notAfter: isoTime(certificate.notAfter),
      catalog: match?.entry.id ?? null,
      vendor: match?.entry.vendor ?? nameAttribute(certificate.subject, '2.5.4.10') ?? null,
      intermediate: !(isCa && selfSigned),
    };
    this.io(() => {
      this.fs.mkdir(this.dir);
      this.fs.writeFile(join(this.dir, anchor.file), encodePem('CERTIFICATE', certificate.der));
    });
    this.writeIndex({ version: 1, anchors: [...index.anchors, anchor] });
    return { anchor, match, warnings };
  }

  /** Uninstall an anchor: NOT_FOUND when no anchor has that id. */
  remove(id: string): InstalledAnchor {
    const index = this.readIndex();
    const anchor = index.anchors.find((a) => a.id === id);
    if (anchor === undefined) fail('NOT_FOUND', `no anchor "${id}" is installed in ${this.dir}`, { id });
    // The index first: a crash in between leaves a stray PEM, never an indexed anchor without its file.
    this.writeIndex({ version: 1, anchors: index.anchors.filter((a) => a.id !== id) });
    this.io(() => this.fs.remove(join(this.dir, anchor.file)));
    return anchor;
  }

  private readIndex(): z.infer<typeof indexSchema> {
    let bytes: Uint8Array;
    try {
      bytes = this.fs.readFile(join(this.dir, TRUST_INDEX_FILE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, anchors: [] };
      throw new ProvenanceError(
        'IO_ERROR',
        `cannot read the trust index in ${this.dir}`,
        { dir: this.dir },
        { cause: err },
      );
    }
    if (bytes.length > TRUST_FOLDER_LIMITS.maxIndexBytes)
      fail(
        'TRUST_FOLDER_INVALID',
        `${TRUST_INDEX_FILE} in ${this.dir} is above ${TRUST_FOLDER_LIMITS.maxIndexBytes} bytes`,
      );
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (err) {
      throw new ProvenanceError(
        'TRUST_FOLDER_INVALID',
        `${TRUST_INDEX_FILE} in ${this.dir} is not JSON`,
        { dir: this.dir },
        { cause: err },
      );
    }
    const parsed = indexSchema.safeParse(json);
    if (!parsed.success) {
      fail(
        'TRUST_FOLDER_INVALID',
        `${TRUST_INDEX_FILE} in ${this.dir} is malformed: ${parsed.error.issues[0]?.message}`,
        {
          dir: this.dir,
        },
      );
    }
    const ids = new Set<string>();
    for (const a of parsed.data.anchors) {
      if (ids.has(a.id) || a.file !== `${a.id}.pem`)
        fail(
          'TRUST_FOLDER_INVALID',
          `${TRUST_INDEX_FILE} in ${this.dir}: anchor "${a.id}" is duplicated or misnamed`,
        );
      ids.add(a.id);
    }
    return parsed.data;
  }

  private writeIndex(index: z.infer<typeof indexSchema>): void {
    const tmp = join(this.dir, `${TRUST_INDEX_FILE}.tmp`);
    this.io(() => {
      this.fs.mkdir(this.dir);
      this.fs.writeFile(tmp, `${JSON.stringify(index, null, 2)}\n`);
      this.fs.rename(tmp, join(this.dir, TRUST_INDEX_FILE));
    });
  }

  private readCertificate(anchor: InstalledAnchor): Certificate {
    let bytes: Uint8Array;
    try {
      bytes = this.fs.readFile(join(this.dir, anchor.file));
    } catch (err) {
      throw new ProvenanceError(
        'TRUST_FOLDER_INVALID',
        `anchor "${anchor.id}" is in the index but ${anchor.file} cannot be read`,
        { id: anchor.id, dir: this.dir },
        { cause: err },
      );
    }
    const certs = parseCertificateBundle(bytes);
    const cert = certs[0];
    // Fail closed when the file is not the certificate the operator installed (RFC 5280 §6.1.1(d):
    // the anchor is the key recorded at installation, not whatever now sits in the folder).
    if (
      certs.length !== 1 ||
      cert === undefined ||
      cert.spkiSha256 !== anchor.spkiSha256 ||
      cert.fingerprintSha256 !== anchor.certificateSha256
    ) {
      fail(
        'TRUST_FOLDER_INVALID',
        `${anchor.file} in ${this.dir} is not the certificate installed as "${anchor.id}"`,
        {
          id: anchor.id,
          spkiSha256: anchor.spkiSha256,
        },
      );
    }
    return cert;
  }

  private io(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof ProvenanceError) throw err;
      throw new ProvenanceError(
        'IO_ERROR',
        `cannot write to the trust folder ${this.dir}: ${(err as Error).message}`,
        { dir: this.dir },
        { cause: err },
      );
    }
  }
}

/** The authority key id, when present, names the certificate's own key (a self-signed root). */
function keyIdsAgree(cert: Certificate): boolean {
  if (cert.authorityKeyId === null || cert.subjectKeyId === null) return true;
  return Buffer.compare(Buffer.from(cert.authorityKeyId), Buffer.from(cert.subjectKeyId)) === 0;
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
