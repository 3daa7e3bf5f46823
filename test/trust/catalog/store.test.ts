/**
 * The trust folder: installing catalogued roots by key, refusing never-trust, non-root and
 * duplicate certificates, and failing closed when the folder is tampered with.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { encodePem } from '../../../src/core/pem.js';
import { parseCertificateBundle } from '../../../src/pki/bundle.js';
import { catalogEntry } from '../../../src/trust/catalog/lookup.js';
import { TRUST_INDEX_FILE, TrustFolder } from '../../../src/trust/catalog/store.js';
import { fuzzParameters, mutatedBytes } from '../../helpers/fuzz.js';
import { ecKey, issue } from '../../helpers/pki.js';
import { memoryFs } from './memfs.js';
import { available, CATALOG_VECTORS, certWithKey, requireVectors } from './vectors.js';

const NOW = Date.UTC(2026, 10, 30);
const DIR = 'trust';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

describe('TrustFolder with synthetic certificates', () => {
  const root = issue({ subject: 'Acme Root', key: ecKey(), ca: {} });
  const inter = issue({ subject: 'Acme Intermediate', key: ecKey(), ca: {}, issuer: root });
  const leaf = issue({ subject: 'Acme Leaf', key: ecKey(), issuer: inter });

  it('needs --id and --formats for a certificate the catalogue does not know', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    expect(codeOf(() => folder.add(root.cert, { now: NOW }))).toBe('USAGE');
    expect(codeOf(() => folder.add(root.cert, { id: 'acme', now: NOW }))).toBe('USAGE');
    const { anchor, match } = folder.add(root.cert, { id: 'acme', formats: ['provenance'], now: NOW });
    expect(match).toBeNull();
    expect(anchor).toMatchObject({
      id: 'acme',
      file: 'acme.pem',
      formats: ['provenance'],
      catalog: null,
      intermediate: false,
    });
    expect(folder.list().map((a) => a.id)).toEqual(['acme']);
    expect(folder.read('acme').certificate.spkiSha256).toBe(root.cert.spkiSha256);
  });

  it('refuses an intermediate or a leaf unless intermediateAnchor, and records the choice', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    const opts = { id: 'acme-int', formats: ['tpm'] as const, now: NOW };
    expect(codeOf(() => folder.add(inter.cert, { ...opts, formats: ['tpm'] }))).toBe('TRUST_ANCHOR_NOT_ROOT');
    expect(codeOf(() => folder.add(leaf.cert, { ...opts, id: 'leaf', formats: ['tpm'] }))).toBe(
      'TRUST_ANCHOR_NOT_ROOT',
    );
    const { anchor } = folder.add(inter.cert, { ...opts, formats: ['tpm'], intermediateAnchor: true });
    expect(anchor.intermediate).toBe(true);
  });

  it('refuses duplicates by key and by id', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    folder.add(root.cert, { id: 'acme', formats: ['provenance'], now: NOW });
    expect(codeOf(() => folder.add(root.cert, { id: 'acme-2', formats: ['provenance'], now: NOW }))).toBe(
      'TRUST_ANCHOR_DUPLICATE',
    );
    const other = issue({ subject: 'Other Root', key: ecKey(), ca: {} });
    expect(codeOf(() => folder.add(other.cert, { id: 'acme', formats: ['provenance'], now: NOW }))).toBe(
      'TRUST_ANCHOR_DUPLICATE',
    );
  });

  it('rejects ids that could name another file', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    for (const id of ['../x', '.hidden', 'a/b', 'a:b', ''])
      expect(codeOf(() => folder.add(root.cert, { id, formats: ['provenance'], now: NOW }))).toBe('USAGE');
  });

  it('warns about an expired anchor but installs it', () => {
    const old = issue({ subject: 'Old Root', key: ecKey(), ca: {}, notAfter: Date.UTC(2025, 0, 1) });
    const { warnings } = new TrustFolder(DIR, memoryFs()).add(old.cert, {
      id: 'old',
      formats: ['tpm'],
      now: NOW,
    });
    expect(warnings.join()).toMatch(/expired/);
  });

  it('removes an anchor (NOT_FOUND for an unknown id)', () => {
    const fs = memoryFs();
    const folder = new TrustFolder(DIR, fs);
    folder.add(root.cert, { id: 'acme', formats: ['provenance'], now: NOW });
    expect(folder.remove('acme').id).toBe('acme');
    expect(folder.list()).toEqual([]);
    expect(fs.files.has(join(DIR, 'acme.pem'))).toBe(false);
    expect(codeOf(() => folder.remove('acme'))).toBe('NOT_FOUND');
  });

  it('fails closed when a PEM is swapped for another certificate', () => {
    const fs = memoryFs();
    const folder = new TrustFolder(DIR, fs);
    folder.add(root.cert, { id: 'acme', formats: ['provenance'], now: NOW });
    const other = issue({ subject: 'Acme Root', key: ecKey(), ca: {} });
    fs.files.set(join(DIR, 'acme.pem'), new Uint8Array(Buffer.from(encodePem('CERTIFICATE', other.der))));
    expect(codeOf(() => folder.read('acme'))).toBe('TRUST_FOLDER_INVALID');
    expect(codeOf(() => folder.readAll())).toBe('TRUST_FOLDER_INVALID');
    fs.files.delete(join(DIR, 'acme.pem'));
    expect(codeOf(() => folder.read('acme'))).toBe('TRUST_FOLDER_INVALID');
  });

  it('an absent folder is empty; read of an unknown id is TRUST_NOT_INSTALLED', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    expect(folder.list()).toEqual([]);
    expect(codeOf(() => folder.read('nope'))).toBe('TRUST_NOT_INSTALLED');
  });

  it('a mutated index only ever yields a list or TRUST_FOLDER_INVALID (fuzz)', () => {
    const fs = memoryFs();
    const folder = new TrustFolder(DIR, fs);
    folder.add(root.cert, { id: 'acme', formats: ['provenance'], now: NOW });
    const index = fs.files.get(join(DIR, TRUST_INDEX_FILE))!;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(index.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (edits) => {
          const copy = Uint8Array.from(index);
          for (const [at, byte] of edits) copy[at] = byte;
          fs.files.set(join(DIR, TRUST_INDEX_FILE), copy);
          try {
            for (const { anchor } of folder.readAll()) expect(anchor.id).toMatch(/^[A-Za-z0-9]/);
          } catch (err) {
            expect(isProvenanceError(err)).toBe(true);
          }
        },
      ),
      fuzzParameters(200),
    );
  });
});

requireVectors('trust folder tests with real roots');

describe.skipIf(!available)('TrustFolder with the real vendor roots', () => {
  const real = (id: string) => certWithKey(CATALOG_VECTORS[id]![0]!, catalogEntry(id)!.spkiSha256);

  it('installs one root of each family under its catalogue id and formats', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    const ids = [
      'yubico-piv-root-263751',
      'yubico-attestation-root-1',
      'infineon-optiga-rsa-root',
      'nuvoton-tpm-root-1110',
      'microsoft-tpm-root-2014',
      'google-gce-ek-ak-root',
      'google-hardware-attestation-rsa',
      'google-key-attestation-ca1',
      'apple-app-attestation-root',
      'apple-webauthn-root',
      'apple-enterprise-attestation-root',
      'fido-mds3-root-globalsign-r3',
      'cavium-liquidsecurity-root',
      'google-hawksbill-root-v1-prod',
    ];
    for (const id of ids) {
      const { anchor, match } = folder.add(real(id), { now: NOW });
      expect(anchor.id).toBe(id);
      expect(anchor.catalog).toBe(id);
      expect(anchor.formats).toEqual([...catalogEntry(id)!.formats]);
      expect(match?.by).toBe('spki');
    }
    expect(folder.readAll().map((x) => x.anchor.id)).toEqual(ids);
  });

  it('accepts the X.509 v1 Cavium root as a CA and warns that it expired', () => {
    const { warnings } = new TrustFolder(DIR, memoryFs()).add(real('cavium-liquidsecurity-root'), {
      now: NOW,
    });
    expect(warnings.join()).toMatch(/expired on 2025-11-16/);
  });

  it('refuses the Android software attestation roots with CATALOG_NEVER_TRUST', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    for (const id of ['android-software-attestation-root-rsa', 'android-software-attestation-root-ec']) {
      expect(codeOf(() => folder.add(real(id), { now: NOW }))).toBe('CATALOG_NEVER_TRUST');
      expect(
        codeOf(() => folder.add(real(id), { intermediateAnchor: true, formats: ['android-key'], now: NOW })),
      ).toBe('CATALOG_NEVER_TRUST');
    }
  });

  it('refuses a vendor intermediate (IFX TPM EK Root CA, cross-signed) unless intermediateAnchor', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    expect(codeOf(() => folder.add(real('infineon-ifx-tpm-ek-root'), { now: NOW }))).toBe(
      'TRUST_ANCHOR_NOT_ROOT',
    );
    const { anchor } = folder.add(real('infineon-ifx-tpm-ek-root'), { intermediateAnchor: true, now: NOW });
    expect(anchor).toMatchObject({ id: 'infineon-ifx-tpm-ek-root', intermediate: true });
  });

  it('the four Google RSA root certificates are one key: the second one is a duplicate', () => {
    const e = catalogEntry('google-hardware-attestation-rsa')!;
    const folder = new TrustFolder(DIR, memoryFs());
    folder.add(certWithKey(CATALOG_VECTORS[e.id]![1]!, e.spkiSha256), { now: NOW });
    expect(
      codeOf(() => folder.add(certWithKey(CATALOG_VECTORS[e.id]![3]!, e.spkiSha256), { now: NOW })),
    ).toBe('TRUST_ANCHOR_DUPLICATE');
  });

  it('does not recognise a self-signed look-alike with the Yubico root subject (trust by key)', () => {
    const yubico = real('yubico-piv-root-263751');
    const fake = issue({ subject: yubico.subject.der, key: ecKey(), ca: { pathLen: 1 } });
    expect(fake.cert.subject.text).toBe(yubico.subject.text);
    const folder = new TrustFolder(DIR, memoryFs());
    expect(codeOf(() => folder.add(fake.cert, { now: NOW }))).toBe('USAGE');
    expect(
      codeOf(() =>
        folder.add(fake.cert, { id: 'yubico-piv-root-263751', formats: ['yubikey-piv'], now: NOW }),
      ),
    ).toBe('ok');
    expect(folder.list()[0]!.catalog).toBeNull();
  });

  it('mutated root certificates only ever install or throw ProvenanceError (fuzz)', () => {
    const seeds = ['yubico-piv-root-263751', 'google-key-attestation-ca1', 'cavium-liquidsecurity-root'].map(
      (id) => real(id).der,
    );
    fc.assert(
      fc.property(mutatedBytes(seeds), ({ bytes }) => {
        const folder = new TrustFolder(DIR, memoryFs());
        try {
          for (const cert of parseCertificateBundle(bytes))
            folder.add(cert, { id: 'fuzzed', formats: ['tpm'], intermediateAnchor: true, now: NOW });
        } catch (err) {
          expect(isProvenanceError(err)).toBe(true);
        }
      }),
      fuzzParameters(300),
    );
  });

  it('refuses --id that renames a catalogued root, and warns when formats widen it', () => {
    const folder = new TrustFolder(DIR, memoryFs());
    expect(codeOf(() => folder.add(real('apple-webauthn-root'), { id: 'apple', now: NOW }))).toBe('USAGE');
    const { warnings, anchor } = folder.add(real('apple-webauthn-root'), {
      formats: ['webauthn', 'apple'],
      now: NOW,
    });
    expect(anchor.formats).toEqual(['webauthn', 'apple']);
    expect(warnings.join()).toMatch(/apple go beyond the catalogue/);
  });
});
