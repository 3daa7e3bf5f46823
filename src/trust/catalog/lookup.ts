/**
 * Recognising a certificate in the catalogue: by its key (SPKI SHA-256) or by the certificate's
 * own SHA-256, never by its name (a look-alike with the same subject and another key is unknown).
 *
 * @example
 * const match = lookupCatalog(parseCertificate(der));  // { entry, by: 'spki', certificateKnown: true }
 */
import type { Certificate } from '../../pki/certificate.js';
import { CATALOG, type CatalogEntry } from './entries.js';

/** How a certificate matched a catalogue entry. */
export interface CatalogMatch {
  readonly entry: CatalogEntry;
  /** 'spki' when the key matched (the identity); 'certificate' only if just the certificate hash did. */
  readonly by: 'spki' | 'certificate';
  /** The certificate's SHA-256 is one the catalogue lists (false: same key, a re-issue we do not know). */
  readonly certificateKnown: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The catalogue entry with this id, or undefined. */
export function catalogEntry(
  id: string,
  catalog: readonly CatalogEntry[] = CATALOG,
): CatalogEntry | undefined {
  return catalog.find((e) => e.id === id);
}

/**
 * Find a certificate (or a bare SPKI SHA-256, hex, optionally "sha256:") in the catalogue.
 * Null when neither the key nor the certificate is known.
 */
export function lookupCatalog(
  subject: Certificate | string,
  catalog: readonly CatalogEntry[] = CATALOG,
): CatalogMatch | null {
  if (typeof subject === 'string') {
    const hex = subject.toLowerCase().replace(/^sha256:/, '');
    if (!HEX64.test(hex)) return null;
    const entry = catalog.find((e) => e.spkiSha256 === hex);
    return entry === undefined ? null : { entry, by: 'spki', certificateKnown: false };
  }
  const certHash = subject.fingerprintSha256;
  const byKey = catalog.find((e) => e.spkiSha256 === subject.spkiSha256);
  if (byKey !== undefined) {
    return { entry: byKey, by: 'spki', certificateKnown: byKey.certificateSha256.includes(certHash) };
  }
  // A certificate hash names its key too, so a certificate match with a different key cannot
  // happen for a well-formed catalogue; kept for completeness and tested as such.
  const byCert = catalog.find((e) => e.certificateSha256.includes(certHash));
  return byCert === undefined ? null : { entry: byCert, by: 'certificate', certificateKnown: true };
}

/**
 * Formats an anchor is configured for that its catalogue entry does not name (empty when none,
 * or when the key is not catalogued). 'any' widens to every format the catalogue leaves out.
 */
export function formatsBeyondCatalog(
  spkiSha256: string,
  formats: readonly string[] | 'any',
  catalog: readonly CatalogEntry[] = CATALOG,
): { entry: CatalogEntry; extra: string[] } | null {
  const match = lookupCatalog(spkiSha256, catalog);
  if (match === null) return null;
  const allowed: readonly string[] = match.entry.formats;
  const extra = formats === 'any' ? ['any'] : formats.filter((f) => !allowed.includes(f));
  return extra.length === 0 ? null : { entry: match.entry, extra };
}
