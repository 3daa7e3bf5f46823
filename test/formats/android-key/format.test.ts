/**
 * androidKeyFormat with generated chains (root → attestation key CA → KeyMint leaf): the
 * negatives the real vectors cannot show (wrong challenge, software root by name, ATTEST_KEY
 * children, security level software, imported keys, CSR key substitution), quirk scoping, the
 * CSR statement, and a mutation fuzz of the leaf.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import { decodePem, encodePem } from '../../../src/core/pem.js';
import {
  ANDROID_KEY_STATEMENT_TYPE,
  ANDROID_PATH_QUIRKS,
  androidKeyFormat,
  GOOGLE_ROOT_KEYS,
  KEY_DESCRIPTION_OID,
  PROVISIONING_INFO_OID,
  SOFTWARE_ROOT_KEYS,
  SOFTWARE_ROOT_NAMES,
} from '../../../src/formats/android-key/index.js';
import type { EvidenceInput } from '../../../src/formats/types.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';
import { buildCsr, parseCsr } from '../../../src/pki/csr.js';
import { encodeName } from '../../../src/pki/name.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { catalogEntry } from '../../../src/trust/catalog/lookup.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import {
  basicConstraints,
  buildCertificate,
  extension,
  fuzzParameters,
  keyUsage,
  mutatedBytes,
  outcome,
  testName,
  testSigner,
} from '../../helpers/fuzz.js';
import { authList, intSet, keyDescription, rootOfTrust, teeHardwareList } from './build.js';
import { available, KA } from './vectors.js';

type Signer = ReturnType<typeof testSigner>;
const CHALLENGE = new TextEncoder().encode('challenge');
const validity = der.seq(der.time(Date.UTC(2024, 0, 1)), der.time(Date.UTC(2034, 0, 1)));
const AT = Date.UTC(2026, 0, 15);

let serial = 100;
function cert(
  signer: Signer,
  issuer: Uint8Array,
  subject: Uint8Array,
  spki: Uint8Array,
  extensions: Uint8Array[],
): Certificate {
  return parseCertificate(
    buildCertificate(signer, { serial: der.int(serial++), issuer, subject, spki, validity, extensions }),
  );
}

interface Chain {
  root: Certificate;
  ca: Certificate;
  leaf: Certificate;
  leafKey: Signer;
  caKey: Signer;
  rootName: Uint8Array;
}

/** root (CA) → attestation key CA → leaf with KeyDescription `kd`. */
function chain(
  kd: Uint8Array = keyDescription(),
  options: { rootName?: Uint8Array; caExt?: Uint8Array[] } = {},
): Chain {
  const rootKey = testSigner();
  const caKey = testSigner();
  const leafKey = testSigner();
  const rootName = options.rootName ?? testName('Android Test Root', 'Provenance Tests');
  const caName = testName('Attestation Key', 'TEE');
  const leafName = testName('Android Keystore Key');
  const root = cert(rootKey, rootName, rootName, rootKey.spki, [basicConstraints(true), keyUsage([5, 6])]);
  const ca = cert(
    rootKey,
    rootName,
    caName,
    caKey.spki,
    options.caExt ?? [basicConstraints(true), keyUsage([5, 6])],
  );
  const leaf = cert(caKey, caName, leafName, leafKey.spki, [
    keyUsage([0]),
    extension(KEY_DESCRIPTION_OID, kd),
  ]);
  return { root, ca, leaf, leafKey, caKey, rootName };
}

const tmp = mkdtempSync(join(tmpdir(), 'provenance-android-gen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function verifierFor(root: Certificate, require = '') {
  const file = join(tmp, `root-${serial++}.pem`);
  writeFileSync(file, encodePem('CERTIFICATE', root.der));
  const text = `version: 1\ntrust:\n  - id: test-android-root\n    certificates: [${JSON.stringify(file)}]\n    formats: [android-key]\n${require}`;
  return createVerifier({
    policy: parsePolicy(text, { source: 'p.yaml', baseDir: tmp }),
    formats: [androidKeyFormat],
  });
}

const bundle = (...certs: Certificate[]): EvidenceInput => ({ kind: 'certificates', certificates: certs });

describe('androidKeyFormat: generated chains', () => {
  it('accepts a TEE chain with the right challenge; claims from the hardware list', () => {
    const c = chain();
    const v = verifierFor(c.root).verify(bundle(c.leaf, c.ca, c.root), { at: AT, nonce: CHALLENGE });
    expect(v.code, v.message).toBe('ACCEPTED');
    expect(v.freshness).toBe('nonce');
    expect(v.claims).toMatchObject({
      keyAlgorithm: 'ec-p256',
      keySize: 256,
      securityLevel: 'tee',
      generatedOnDevice: true,
      nonExportable: true,
      origin: 'generated',
      keyPurposes: ['sign'],
      provisioning: 'factory',
      serial: 'SERIAL123',
      model: 'Pixel Test',
      osVersion: 140000,
      osPatchLevel: 202408,
      rootOfTrust: { deviceLocked: true, verifiedBootState: 'verified' },
      application: { packages: [{ name: 'com.example.app', version: '7' }] },
    });
  });

  it('accepts the chain in any order and reports RKP provisioning from extension 2.1.30', () => {
    const c = chain(keyDescription(), {
      caExt: [
        basicConstraints(true),
        keyUsage([5, 6]),
        extension(PROVISIONING_INFO_OID, Uint8Array.of(0xa1, 0x01, 0x01)),
      ],
    });
    const v = verifierFor(c.root).verify(bundle(c.root, c.leaf, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.code, v.message).toBe('ACCEPTED');
    expect(v.claims?.provisioning).toBe('rkp');
  });

  it('rejects a wrong challenge (NONCE_MISMATCH) and an empty one when a nonce is expected (NONCE_MISSING)', () => {
    const c = chain();
    const v = verifierFor(c.root);
    expect(
      v.verify(bundle(c.leaf, c.ca), { at: AT, nonce: new TextEncoder().encode('challengf') }).code,
    ).toBe('NONCE_MISMATCH');
    expect(v.verify(bundle(c.leaf, c.ca), { at: AT, nonce: CHALLENGE.subarray(1) }).code).toBe(
      'NONCE_MISMATCH',
    );
    const empty = chain(keyDescription({ challenge: new Uint8Array(0) }));
    expect(
      verifierFor(empty.root).verify(bundle(empty.leaf, empty.ca), { at: AT, nonce: CHALLENGE }).code,
    ).toBe('NONCE_MISSING');
  });

  it('without an expected nonce, reports the challenge and freshness none', () => {
    const c = chain();
    const v = verifierFor(c.root).verify(bundle(c.leaf, c.ca), { at: AT });
    expect(v.code).toBe('ACCEPTED');
    expect(v.freshness).toBe('none');
  });

  it('security level software: claims say so and a policy requiring tee rejects', () => {
    const c = chain(keyDescription({ attestationSecurityLevel: 0, keyMintSecurityLevel: 1 }));
    const v = verifierFor(c.root, 'require:\n  securityLevel: tee\n').verify(bundle(c.leaf, c.ca), {
      at: AT,
      nonce: CHALLENGE,
    });
    expect(v.code).toBe('POLICY_REQUIREMENT_FAILED');
    expect(v.claims).toMatchObject({
      securityLevel: 'software',
      generatedOnDevice: false,
      nonExportable: false,
    });
  });

  it('StrongBox on both levels is secure-element', () => {
    const c = chain(keyDescription({ attestationSecurityLevel: 2, keyMintSecurityLevel: 2 }));
    const v = verifierFor(c.root).verify(bundle(c.leaf, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.claims?.securityLevel).toBe('secure-element');
  });

  it('origin imported: generatedOnDevice false, and a policy requiring it rejects', () => {
    const c = chain(keyDescription({ hardware: teeHardwareList({ origin: 2 }) }));
    const v = verifierFor(c.root, 'require:\n  generatedOnDevice: true\n').verify(bundle(c.leaf, c.ca), {
      at: AT,
      nonce: CHALLENGE,
    });
    expect(v.code).toBe('POLICY_REQUIREMENT_FAILED');
    expect(v.claims).toMatchObject({ origin: 'imported', generatedOnDevice: false });
  });

  it('ATTEST_KEY attack: a certificate signed by the attested key is refused (ANDROID_ATTEST_KEY_CHAIN)', () => {
    const c = chain();
    const child = cert(c.leafKey, c.leaf.subject.der, testName('Fake Key'), testSigner().spki, [
      keyUsage([0]),
    ]);
    const v = verifierFor(c.root).verify(bundle(child, c.leaf, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.code).toBe('ANDROID_ATTEST_KEY_CHAIN');
  });

  it('ATTEST_KEY attack with a forged KeyDescription below a SIGN key is refused', () => {
    const c = chain();
    const fake = keyDescription({ attestationSecurityLevel: 2, keyMintSecurityLevel: 2 });
    const child = cert(c.leafKey, c.leaf.subject.der, testName('Fake Key'), testSigner().spki, [
      keyUsage([0]),
      extension(KEY_DESCRIPTION_OID, fake),
    ]);
    const v = verifierFor(c.root).verify(bundle(child, c.leaf, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.code).toBe('ANDROID_ATTEST_KEY_CHAIN');
  });

  it('guidance case: a key attested by an ATTEST_KEY key is accepted and reported', () => {
    const c = chain(keyDescription({ hardware: teeHardwareList({ purposes: [7] }) }), {});
    // The ATTEST_KEY certificate acts as the issuer: give it CA rights here (under Google
    // roots the android-non-ca-intermediate quirk covers KeyMint's own encoding).
    const attestKey = cert(c.caKey, c.ca.subject.der, testName('Attest Key'), c.leafKey.spki, [
      basicConstraints(true),
      keyUsage([0, 5]),
      extension(KEY_DESCRIPTION_OID, keyDescription({ hardware: teeHardwareList({ purposes: [7] }) })),
    ]);
    const appKey = testSigner();
    const app = cert(c.leafKey, attestKey.subject.der, testName('App Key'), appKey.spki, [
      keyUsage([0]),
      extension(KEY_DESCRIPTION_OID, keyDescription()),
    ]);
    const v = verifierFor(c.root).verify(bundle(app, attestKey, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.code, v.message).toBe('ACCEPTED');
    expect(v.quirks?.map((q) => q.id)).toContain('android-attest-key-chain');
    expect(v.path?.[0]?.spkiSha256).toBeDefined();
  });

  it('KeyDescription above a certificate without it is refused', () => {
    const c = chain();
    const noKd = cert(c.leafKey, c.leaf.subject.der, testName('Plain'), testSigner().spki, [keyUsage([0])]);
    expect(verifierFor(c.root).verify(bundle(noKd, c.leaf, c.ca), { at: AT }).code).toBe(
      'ANDROID_ATTEST_KEY_CHAIN',
    );
  });

  it('two unrelated chains in one evidence are ambiguous (ATTESTATION_MALFORMED)', () => {
    const a = chain();
    const b = chain();
    expect(verifierFor(a.root).verify(bundle(a.leaf, a.ca, b.leaf, b.ca), { at: AT }).code).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('refuses a chain issued under the software root name, whatever the anchors (ANDROID_SOFTWARE_ROOT)', () => {
    if (!available) return;
    const [softRoot] = decodePem(readFileSync(join(KA, 'software-roots.pem'), 'utf8')).map((b) =>
      parseCertificate(b.der),
    );
    const c = chain(keyDescription(), { rootName: softRoot!.subject.der });
    const v = verifierFor(c.root).verify(bundle(c.leaf, c.ca, c.root), { at: AT, nonce: CHALLENGE });
    expect(v.code).toBe('ANDROID_SOFTWARE_ROOT');
  });

  it('does not apply the Google-scoped quirks under another anchor: a non-CA intermediate fails', () => {
    const c = chain(keyDescription(), { caExt: [basicConstraints(false), keyUsage([0])] });
    const v = verifierFor(c.root).verify(bundle(c.leaf, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.code).toBe('PATH_NOT_CA');
  });

  it('reports tags out of order when the leaf signature holds (android-tags-out-of-order)', () => {
    const c = chain(
      keyDescription({ hardware: authList([702, der.int(0)], [1, intSet(2)], [704, rootOfTrust()]) }),
    );
    const v = verifierFor(c.root).verify(bundle(c.leaf, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.code, v.message).toBe('ACCEPTED');
    expect(v.quirks?.map((q) => [q.id, q.position])).toEqual([['android-tags-out-of-order', 1]]);
  });
});

describe('androidKeyFormat: CSR statement', () => {
  const csrInput = (c: Chain, signer: Signer = c.leafKey, stmt: Uint8Array = c.leaf.der): EvidenceInput => ({
    kind: 'csr',
    csr: parseCsr(
      buildCsr({
        subject: encodeName('CN=device'),
        signer,
        attestation: { statements: [{ type: ANDROID_KEY_STATEMENT_TYPE, stmt }], certificates: [c.ca.der] },
      }),
    ),
    certificates: [],
  });

  it('accepts a CSR signed by the attested key whose statement is the attestation certificate', () => {
    const c = chain();
    const v = verifierFor(c.root).verify(csrInput(c), { at: AT, nonce: CHALLENGE });
    expect(v.code, v.message).toBe('ACCEPTED');
    expect(androidKeyFormat.detect(csrInput(c))).toBe(true);
  });

  it('rejects a CSR whose nonce attribute is not the attested challenge (NONCE_MISMATCH)', () => {
    const c = chain();
    const build = (nonce: Uint8Array): EvidenceInput => ({
      kind: 'csr',
      csr: parseCsr(
        buildCsr({
          subject: encodeName('CN=device'),
          signer: c.leafKey,
          nonce,
          attestation: {
            statements: [{ type: ANDROID_KEY_STATEMENT_TYPE, stmt: c.leaf.der }],
            certificates: [c.ca.der],
          },
        }),
      ),
      certificates: [],
    });
    const v = verifierFor(c.root);
    expect(v.verify(build(new TextEncoder().encode('other-nonce')), { at: AT }).code).toBe('NONCE_MISMATCH');
    expect(v.verify(build(CHALLENGE), { at: AT }).code).toBe('ACCEPTED');
  });

  it('rejects a CSR for another key (KEY_MISMATCH)', () => {
    const c = chain();
    expect(verifierFor(c.root).verify(csrInput(c, testSigner()), { at: AT, nonce: CHALLENGE }).code).toBe(
      'KEY_MISMATCH',
    );
  });

  it('rejects a statement that is not a certificate', () => {
    const c = chain();
    expect(
      verifierFor(c.root).verify(csrInput(c, c.leafKey, der.octets(Uint8Array.of(1))), { at: AT }).code,
    ).toBe('CERT_MALFORMED');
  });
});

describe('androidKeyFormat: ML-DSA attested keys (generated)', () => {
  // An ML-DSA-65 SPKI (FIPS 204: 1952-byte public key): only described, never used.
  const mlDsaSpki = der.seq(
    der.seq(der.oid('2.16.840.1.101.3.4.3.18')),
    der.bitString(new Uint8Array(1952).fill(7)),
  );

  function mlDsaChain(caExt?: Uint8Array[], signWith?: Signer) {
    const c = chain(keyDescription(), caExt ? { caExt } : {});
    const leaf = cert(signWith ?? c.caKey, c.ca.subject.der, testName('Android Keystore Key'), mlDsaSpki, [
      keyUsage([0]),
      extension(KEY_DESCRIPTION_OID, keyDescription()),
    ]);
    return { ...c, leaf };
  }

  it('accepts, claims ml-dsa-65 and reports android-ml-dsa-attested-key', () => {
    const c = mlDsaChain();
    const v = verifierFor(c.root).verify(bundle(c.leaf, c.ca), { at: AT, nonce: CHALLENGE });
    expect(v.code, v.message).toBe('ACCEPTED');
    expect(v.claims?.keyAlgorithm).toBe('ml-dsa-65');
    expect(v.quirks?.map((q) => q.id)).toEqual(['android-ml-dsa-attested-key']);
  });

  it('refuses an attestation certificate not signed by its issuer (PATH_SIGNATURE_INVALID)', () => {
    const c = mlDsaChain(undefined, testSigner());
    expect(verifierFor(c.root).verify(bundle(c.leaf, c.ca), { at: AT }).code).toBe('PATH_SIGNATURE_INVALID');
  });

  it('refuses a non-CA issuer (PATH_NOT_CA) and a missing issuer (PATH_NOT_FOUND)', () => {
    const c = mlDsaChain([basicConstraints(false), keyUsage([0])]);
    expect(verifierFor(c.root).verify(bundle(c.leaf, c.ca), { at: AT }).code).toBe('PATH_NOT_CA');
    expect(verifierFor(c.root).verify(bundle(c.leaf), { at: AT }).code).toBe('PATH_NOT_FOUND');
  });

  it('refuses an unknown critical extension on the attestation certificate', () => {
    const c = chain();
    const leaf = cert(c.caKey, c.ca.subject.der, testName('Android Keystore Key'), mlDsaSpki, [
      extension('1.2.3.4', der.null(), true),
      extension(KEY_DESCRIPTION_OID, keyDescription()),
    ]);
    expect(verifierFor(c.root).verify(bundle(leaf, c.ca), { at: AT }).code).toBe(
      'PATH_UNKNOWN_CRITICAL_EXTENSION',
    );
  });
});

describe('androidKeyFormat: constants and robustness', () => {
  it('scopes every path quirk to the Google root keys of the catalogue', () => {
    expect(GOOGLE_ROOT_KEYS).toEqual([
      catalogEntry('google-hardware-attestation-rsa')!.spkiSha256,
      catalogEntry('google-key-attestation-ca1')!.spkiSha256,
    ]);
    for (const q of ANDROID_PATH_QUIRKS) expect(q.anchorSpkiSha256).toEqual(GOOGLE_ROOT_KEYS);
  });

  it.skipIf(!available)('computes the software root hashes from the vectors (key and subject)', async () => {
    const { sha256Hex } = await import('../../../src/core/bytes.js');
    const roots = decodePem(readFileSync(join(KA, 'software-roots.pem'), 'utf8')).map((b) =>
      parseCertificate(b.der),
    );
    expect(roots.map((r) => sha256Hex(r.spki)).sort()).toEqual([...SOFTWARE_ROOT_KEYS].sort());
    expect(roots.map((r) => sha256Hex(r.subject.der)).sort()).toEqual([...SOFTWARE_ROOT_NAMES].sort());
    for (const k of SOFTWARE_ROOT_KEYS) {
      expect(
        ['android-software-attestation-root-rsa', 'android-software-attestation-root-ec'].map(
          (id) => catalogEntry(id)!.spkiSha256,
        ),
      ).toContain(k);
    }
  });

  it('verify only ever throws ProvenanceError on mutated leaves', () => {
    const c = chain();
    fc.assert(
      fc.property(mutatedBytes([c.leaf.der]), (m) => {
        outcome(() => {
          const leaf = parseCertificate(m.bytes);
          androidKeyFormat.verify(bundle(leaf, c.ca), { expectedNonce: CHALLENGE });
        });
      }),
      fuzzParameters(300),
    );
  });
});
