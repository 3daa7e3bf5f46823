/**
 * The imported BLOB kept in a directory for later lookups: `mds-index.json` (the verified,
 * parsed entries) next to `blob.jwt` (the BLOB as imported, for audit and re-verification).
 * The index is the operator's own state, written only after `importMdsBlob` verified the BLOB.
 *
 * @example
 * saveMdsIndex('mds', blob, jwt, Date.now());
 * loadMdsIndex('mds').byAaguid(aaguid);
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, ProvenanceError } from '../../core/errors.js';
import { indexMdsBlob } from './entries.js';
import type { MdsBlob, MdsEntry, MdsIndex } from './types.js';

/** File names inside an MDS directory. */
export const MDS_FILES = { index: 'mds-index.json', blob: 'blob.jwt' } as const;

const FORMAT = 'provenance-mds-index';
const VERSION = 1;

/** Write the index (and the BLOB text) into `dir`, each through a temporary file and a rename. */
export function saveMdsIndex(dir: string, blob: MdsBlob, jwt: string, importedAt: number): void {
  const document = {
    format: FORMAT,
    version: VERSION,
    importedAt: new Date(importedAt).toISOString(),
    blob: {
      ...blob,
      entries: blob.entries.map((e) => ({
        ...e,
        attestationRootCertificates: e.attestationRootCertificates.map((c) =>
          Buffer.from(c).toString('base64'),
        ),
      })),
    },
  };
  try {
    mkdirSync(dir, { recursive: true });
    writeAtomically(join(dir, MDS_FILES.blob), jwt);
    writeAtomically(join(dir, MDS_FILES.index), `${JSON.stringify(document, null, 1)}\n`);
  } catch (err) {
    if (err instanceof ProvenanceError) throw err;
    throw new ProvenanceError(
      'IO_ERROR',
      `cannot write the MDS index in ${dir}: ${(err as Error).message}`,
      { dir },
      { cause: err },
    );
  }
}

/** The stored index's header, or null when `dir` holds none. */
export function readMdsIndexHeader(dir: string): { no: number; digest: string; importedAt: string } | null {
  const doc = readDocument(dir, true);
  if (!doc) return null;
  return { no: doc.blob.no, digest: doc.blob.digest, importedAt: doc.importedAt };
}

/** Load the index from `dir`. IO_ERROR when absent or unreadable, MDS_MALFORMED when not ours. */
export function loadMdsIndex(dir: string): MdsIndex & { readonly importedAt: string } {
  const doc = readDocument(dir, false) as StoredDocument;
  const blob: MdsBlob = {
    ...doc.blob,
    entries: doc.blob.entries.map((e) => ({
      ...e,
      attestationRootCertificates: e.attestationRootCertificates.map(
        (c) => new Uint8Array(Buffer.from(c, 'base64')),
      ),
    })),
  };
  return { ...indexMdsBlob(blob), importedAt: doc.importedAt };
}

interface StoredDocument {
  readonly format: string;
  readonly version: number;
  readonly importedAt: string;
  readonly blob: Omit<MdsBlob, 'entries'> & {
    readonly entries: (Omit<MdsEntry, 'attestationRootCertificates'> & {
      attestationRootCertificates: string[];
    })[];
  };
}

function readDocument(dir: string, optional: boolean): StoredDocument | null {
  const path = join(dir, MDS_FILES.index);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no MDS BLOB imported there'
        : (err as Error).message;
    throw new ProvenanceError('IO_ERROR', `cannot read ${path}: ${reason}`, { path }, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail('MDS_MALFORMED', `${path} is not JSON`);
  }
  const d = doc as Partial<StoredDocument> | null;
  if (
    !d ||
    d.format !== FORMAT ||
    d.version !== VERSION ||
    typeof d.importedAt !== 'string' ||
    !d.blob ||
    !Number.isSafeInteger(d.blob.no) ||
    !Array.isArray(d.blob.entries)
  )
    fail('MDS_MALFORMED', `${path} is not a Provenance MDS index (format ${FORMAT} v${VERSION})`);
  return d as StoredDocument;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}
