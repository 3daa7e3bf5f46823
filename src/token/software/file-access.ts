/**
 * File access for the software token and the maker tooling, injected so tests (and other
 * storage) can stand in for the file system. Writes are atomic: a reader sees the old file or
 * the new one, never a torn mix (write a temporary file, flush it, rename it over the target).
 *
 * @example
 * const files = nodeFileAccess();
 * await files.writeFileAtomic('token.json', text, { mode: 0o600 });
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail, ProvenanceError } from '../../core/errors.js';

/** What the token and the maker need from storage. Paths are plain strings. */
export interface FileAccess {
  /** The file's bytes, or null when it does not exist. INPUT_TOO_LARGE above `maxBytes`. */
  readFile(path: string, maxBytes: number): Promise<Uint8Array | null>;
  /** Replace the file atomically (temp file + rename), creating it with `mode` when given. */
  writeFileAtomic(path: string, data: Uint8Array | string, options?: { mode?: number }): Promise<void>;
  /** True when something exists at `path`. */
  exists(path: string): Promise<boolean>;
  /** Create a directory and its parents (no error when it exists). */
  mkdir(path: string): Promise<void>;
}

function ioError(what: string, path: string, err: unknown): ProvenanceError {
  const code = (err as NodeJS.ErrnoException)?.code;
  return new ProvenanceError(
    'IO_ERROR',
    `cannot ${what} ${path}${code ? ` (${code})` : ''}`,
    { path, errno: code },
    {
      cause: err,
    },
  );
}

/**
 * FileAccess over Node's file system.
 *
 * @example
 * const token = await SoftwareToken.open('token.json', { files: nodeFileAccess(), clock: systemClock, pin });
 */
export function nodeFileAccess(): FileAccess {
  return {
    async readFile(path, maxBytes) {
      try {
        const info = await stat(path);
        if (!info.isFile()) fail('IO_ERROR', `${path} is not a regular file`, { path });
        if (info.size > maxBytes)
          fail('INPUT_TOO_LARGE', `${path} is ${info.size} bytes, above the limit of ${maxBytes}`, {
            path,
            size: info.size,
            limit: maxBytes,
          });
        const bytes = new Uint8Array(await readFile(path));
        // The file may have grown between stat and read.
        if (bytes.length > maxBytes)
          fail('INPUT_TOO_LARGE', `${path} is above the limit of ${maxBytes} bytes`, {
            path,
            limit: maxBytes,
          });
        return bytes;
      } catch (err) {
        if (err instanceof ProvenanceError) throw err;
        if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') return null;
        throw ioError('read', path, err);
      }
    },

    async writeFileAtomic(path, data, options = {}) {
      // The temporary file sits next to the target so the rename stays on one file system.
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      let handle: Awaited<ReturnType<typeof open>> | undefined;
      try {
        handle = await open(tmp, 'wx', options.mode ?? 0o644);
        await handle.writeFile(data);
        await handle.sync();
        await handle.close();
        handle = undefined;
        await rename(tmp, path);
      } catch (err) {
        await handle?.close().catch(() => {});
        await rm(tmp, { force: true }).catch(() => {});
        throw ioError('write', path, err);
      }
      // Make the rename itself durable where the platform allows it (best effort).
      try {
        const dir = await open(dirname(path), 'r');
        await dir.sync().finally(() => dir.close());
      } catch {
        // Some platforms cannot open or fsync a directory; the rename is still atomic.
      }
    },

    async exists(path) {
      try {
        await stat(path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') return false;
        throw ioError('inspect', path, err);
      }
    },

    async mkdir(path) {
      try {
        await mkdir(path, { recursive: true });
      } catch (err) {
        throw ioError('create directory', path, err);
      }
    },
  };
}
