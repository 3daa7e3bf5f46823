/** An in-memory TrustFolderFs for tests (ENOENT like node's fs). */
import type { TrustFolderFs } from '../../../src/trust/catalog/store.js';

export function memoryFs(): TrustFolderFs & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  const enoent = (path: string) => Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return {
    files,
    readFile: (path) => {
      const f = files.get(path);
      if (f === undefined) throw enoent(path);
      return f;
    },
    writeFile: (path, data) => {
      files.set(path, new Uint8Array(Buffer.from(data, 'utf8')));
    },
    rename: (from, to) => {
      const f = files.get(from);
      if (f === undefined) throw enoent(from);
      files.set(to, f);
      files.delete(from);
    },
    remove: (path) => {
      files.delete(path);
    },
    mkdir: () => {},
  };
}
