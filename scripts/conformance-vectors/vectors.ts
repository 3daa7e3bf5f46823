/**
 * Read-only access to the shared vectors directory (../shared/vectors next to the repository),
 * read in place: the manifest's file list and typed readers for the file kinds the families use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../src/core/errors.js';
import { decodePem, isPem } from '../../src/core/pem.js';
import { type Certificate, parseCertificate } from '../../src/pki/certificate.js';
import { CATEGORIES, type Category } from './model.js';

/** One manifest row (the fields this command uses). */
export interface ManifestFile {
  readonly dest: string;
  readonly category: Category;
  readonly expected: string;
}

/** Largest vector file read (the biggest MDS BLOB is 2.2 MB). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** Typed readers over one vectors directory. */
export class Vectors {
  constructor(readonly dir: string) {}

  /** Absolute path of `rel`. */
  path(rel: string): string {
    return join(this.dir, rel);
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  /** The file's bytes (bounded). */
  bytes(rel: string): Uint8Array {
    const b = readFileSync(this.path(rel));
    if (b.length > MAX_FILE_BYTES) fail('INPUT_TOO_LARGE', `${rel} is over ${MAX_FILE_BYTES} bytes`);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }

  text(rel: string): string {
    return Buffer.from(this.bytes(rel)).toString('utf8');
  }

  json<T = unknown>(rel: string): T {
    try {
      return JSON.parse(this.text(rel)) as T;
    } catch (e) {
      return fail('INPUT_UNRECOGNIZED', `${rel} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Every certificate in a PEM file (other blocks skipped; text before blocks allowed) or a DER file. */
  certs(rel: string): Certificate[] {
    const b = this.bytes(rel);
    if (!isPem(b)) return [parseCertificate(b)];
    const blocks = decodePem(Buffer.from(b).toString('latin1')).filter((x) => x.label === 'CERTIFICATE');
    if (blocks.length === 0) fail('INPUT_UNRECOGNIZED', `${rel} holds no CERTIFICATE block`);
    return blocks.map((x) => parseCertificate(x.der));
  }

  /** The first certificate of a file. */
  cert(rel: string): Certificate {
    return this.certs(rel)[0]!;
  }

  /** The manifest's file rows, for the categories this command runs. */
  manifest(): ManifestFile[] {
    const m = this.json<{ files?: unknown }>('manifest.json');
    if (!Array.isArray(m.files)) fail('INPUT_UNRECOGNIZED', 'manifest.json has no files array');
    const known = new Set<string>(CATEGORIES);
    return (m.files as Record<string, unknown>[])
      .filter((f) => typeof f['dest'] === 'string' && known.has(String(f['category'])))
      .map((f) => ({
        dest: String(f['dest']),
        category: f['category'] as Category,
        expected: String(f['expected'] ?? ''),
      }));
  }
}
