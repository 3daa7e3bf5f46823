/**
 * Catalogue checks on a loaded policy: an anchor whose key the catalogue knows but whose
 * formats go beyond the catalogue's scope is legal (the operator decides) but worth a warning
 * in `policy check`, since an anchor for vendor A must not vouch for format B by accident.
 *
 * @example
 * for (const w of catalogWarnings(policy.anchors)) console.warn(w);
 */
import { fail, isProvenanceError } from '../../core/errors.js';
import type { FormatId } from '../../formats/types.js';
import type { TrustAnchor } from '../../pki/anchor.js';
import type { Certificate } from '../../pki/certificate.js';
import { CATALOG, type CatalogEntry } from './entries.js';
import { formatsBeyondCatalog } from './lookup.js';
import { type InstalledAnchor, readOnlyTrustFolderFs, TrustFolder } from './store.js';

/**
 * The anchor a policy's `catalog: <id>` names, read from the trust folder `dir` and checked
 * against its index. Fails closed: TRUST_NOT_INSTALLED when the id (or the folder) is absent.
 */
export function readCatalogAnchor(
  id: string,
  dir: string,
  readFile: (path: string) => Uint8Array,
): { certificate: Certificate; formats: FormatId[]; anchor: InstalledAnchor } {
  const folder = new TrustFolder(dir, readOnlyTrustFolderFs(readFile));
  try {
    const { anchor, certificate } = folder.read(id);
    return { anchor, certificate, formats: [...anchor.formats] };
  } catch (err) {
    if (isProvenanceError(err) && err.code === 'IO_ERROR')
      fail(
        'TRUST_NOT_INSTALLED',
        `no anchor "${id}" is installed: the trust folder ${dir} has no readable index`,
        {
          id,
          dir,
        },
      );
    throw err;
  }
}

/**
 * Warning lines for trust entries that hold a catalogued key with formats wider than the
 * catalogue's, or a key the catalogue says never to trust.
 */
export function catalogWarnings(
  anchors: readonly TrustAnchor[],
  catalog: readonly CatalogEntry[] = CATALOG,
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const anchor of anchors) {
    const key = `${anchor.id} ${anchor.spkiSha256}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const entry = catalog.find((e) => e.spkiSha256 === anchor.spkiSha256);
    if (entry?.trust === 'never') {
      out.push(
        `trust entry "${anchor.id}" holds ${entry.name} (${entry.id}), which the catalogue says never to trust`,
      );
      continue;
    }
    const wider = formatsBeyondCatalog(anchor.spkiSha256, anchor.formats, catalog);
    if (wider !== null) {
      out.push(
        `trust entry "${anchor.id}" is ${wider.entry.name} (${wider.entry.id}) but also vouches for ${wider.extra.join(', ')}: the catalogue scopes it to ${wider.entry.formats.join(', ')}`,
      );
    }
  }
  return out;
}
