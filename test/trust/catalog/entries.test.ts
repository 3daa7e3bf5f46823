/**
 * The catalogue stays honest: every hash it lists is recomputed from the vendors' published
 * certificates (the shared vectors, read in place), and its shape is checked.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { POLICY_FORMATS } from '../../../src/policy/schema.js';
import { CATALOG } from '../../../src/trust/catalog/entries.js';
import { catalogEntry, formatsBeyondCatalog, lookupCatalog } from '../../../src/trust/catalog/lookup.js';
import { ANCHOR_ID } from '../../../src/trust/catalog/store.js';
import { MDS_PRODUCTION_ROOT_SHA256 } from '../../../src/trust/mds/blob.js';
import { available, CATALOG_VECTORS, certWithKey, requireVectors, vectorCerts } from './vectors.js';

describe('catalogue shape', () => {
  it('has unique ids and keys, valid formats, https sources and lower-case hex hashes', () => {
    expect(new Set(CATALOG.map((e) => e.id)).size).toBe(CATALOG.length);
    expect(new Set(CATALOG.map((e) => e.spkiSha256)).size).toBe(CATALOG.length);
    for (const e of CATALOG) {
      expect(e.id).toMatch(ANCHOR_ID);
      expect(e.spkiSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(e.certificateSha256.length).toBeGreaterThan(0);
      for (const h of e.certificateSha256) expect(h).toMatch(/^[0-9a-f]{64}$/);
      expect(e.formats.length).toBeGreaterThan(0);
      for (const f of e.formats) expect(POLICY_FORMATS).toContain(f);
      expect(e.formats).not.toContain('provenance');
      expect(e.source).toMatch(/^https:\/\//);
    }
  });

  it('is frozen: entries, formats and hash lists cannot be changed at run time', () => {
    expect(Object.isFrozen(CATALOG)).toBe(true);
    const e = CATALOG[0]!;
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.isFrozen(e.formats)).toBe(true);
    expect(() => (CATALOG as unknown as unknown[]).push({})).toThrow(TypeError);
  });

  it('lists the Android software attestation roots only as never-trust', () => {
    const software = CATALOG.filter((e) => e.id.startsWith('android-software'));
    expect(software).toHaveLength(2);
    for (const e of software) expect(e.trust).toBe('never');
  });

  it('keeps the Google RSA roots as one key entry with four certificate hashes', () => {
    const e = catalogEntry('google-hardware-attestation-rsa')!;
    expect(e.certificateSha256).toHaveLength(4);
    expect(CATALOG.filter((x) => x.vendor === 'Google' && x.formats.includes('android-key'))).toHaveLength(4);
  });

  it('is documented: docs/trust-catalog.md lists every entry id', () => {
    const doc = readFileSync(
      fileURLToPath(new URL('../../../docs/trust-catalog.md', import.meta.url)),
      'utf8',
    );
    for (const e of CATALOG) expect(doc).toContain(`| \`${e.id}\` |`);
  });

  it('agrees with the MDS module on the production MDS3 root', () => {
    expect(catalogEntry('fido-mds3-root-globalsign-r3')!.certificateSha256).toContain(
      MDS_PRODUCTION_ROOT_SHA256,
    );
  });
});

describe('lookupCatalog by hash', () => {
  it('finds an entry by SPKI hash (hex, any case, optional sha256:) and nothing for garbage', () => {
    const e = catalogEntry('apple-webauthn-root')!;
    expect(lookupCatalog(e.spkiSha256)?.entry.id).toBe(e.id);
    expect(lookupCatalog(`sha256:${e.spkiSha256.toUpperCase()}`)?.entry.id).toBe(e.id);
    expect(lookupCatalog('00'.repeat(32))).toBeNull();
    expect(lookupCatalog('not hex')).toBeNull();
  });

  it('reports formats that widen a catalogue entry', () => {
    const e = catalogEntry('yubico-piv-root-263751')!;
    expect(formatsBeyondCatalog(e.spkiSha256, ['yubikey-piv'])).toBeNull();
    expect(formatsBeyondCatalog(e.spkiSha256, ['yubikey-piv', 'tpm'])?.extra).toEqual(['tpm']);
    expect(formatsBeyondCatalog(e.spkiSha256, 'any')?.extra).toEqual(['any']);
    expect(formatsBeyondCatalog('11'.repeat(32), 'any')).toBeNull();
  });
});

requireVectors('catalogue hash checks');

describe.skipIf(!available)('every catalogue hash matches its vendor certificate (shared vectors)', () => {
  it('maps every catalogue entry to vector files', () => {
    expect(Object.keys(CATALOG_VECTORS).sort()).toEqual(CATALOG.map((e) => e.id).sort());
  });

  for (const entry of CATALOG) {
    it(`${entry.id}: SPKI and certificate SHA-256 recomputed from the vectors`, () => {
      const files = CATALOG_VECTORS[entry.id]!;
      const withKey = files.flatMap((f) => vectorCerts(f)).filter((c) => c.spkiSha256 === entry.spkiSha256);
      expect(withKey.length).toBeGreaterThan(0);
      const seen = new Set(withKey.map((c) => c.fingerprintSha256));
      // Every listed certificate hash is a real certificate for this key, and every certificate
      // for this key in the vectors is listed.
      expect([...seen].sort()).toEqual([...entry.certificateSha256].sort());
      for (const c of withKey) {
        expect(c.selfIssued).toBe(entry.role === 'root');
        expect(lookupCatalog(c)).toEqual({ entry, by: 'spki', certificateKnown: true });
      }
    });
  }

  it('recognises the Yubico PIV root whichever copy is read', () => {
    const e = catalogEntry('yubico-piv-root-263751')!;
    for (const f of CATALOG_VECTORS[e.id]!)
      expect(lookupCatalog(certWithKey(f, e.spkiSha256))?.entry.id).toBe(e.id);
  });
});
