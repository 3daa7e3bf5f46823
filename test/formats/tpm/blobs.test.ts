/**
 * Raw TPM2_Certify blobs (tpm2-tools attest.out / sig.out / key.pub with the AK certificate):
 * decoding from a PEM bundle or JSON file, and the `tpm` format's checks without a CSR.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromHex } from '../../../src/core/bytes.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { encodePem } from '../../../src/core/pem.js';
import { encodeTpm2bPublic, encodeTpmtSignature } from '../../../src/formats/tpm/encode.js';
import { tpmFormat } from '../../../src/formats/tpm/index.js';
import { tpmCertifyEvidenceFromJson, tpmCertifyEvidenceFromPem } from '../../../src/formats/tpm/input.js';
import { TPM_ALG } from '../../../src/formats/tpm/structures.js';
import type { EvidenceInput, FormatContext } from '../../../src/formats/types.js';
import { policyFromOptions } from '../../../src/policy/index.js';
import { decodeEvidence } from '../../../src/verify/input.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { fuzzParameters, mutatedBytes, outcome } from '../../helpers/fuzz.js';
import { boundKey, type EvidenceOptions, NONCE, tpmEvidence, tpmPki } from './helpers.js';

const pki = tpmPki();
const ctx: FormatContext = { expectedNonce: NONCE };
const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

interface BundleOptions {
  readonly publicLabel?: 'TPM2B PUBLIC' | 'TPMT PUBLIC';
  readonly certificates?: readonly Uint8Array[];
  /** Blocks to drop by label, or extra blocks to add. */
  readonly drop?: readonly string[];
  readonly extra?: string;
}

/** TPM2_Certify pieces as tpm2-tools writes them, in a PEM bundle; the AK certificate follows by default. */
function blobs(o: Partial<EvidenceOptions> = {}) {
  const ev = tpmEvidence({ akKey: pki.akKey, ...o });
  const pem = (b: BundleOptions = {}): Uint8Array => {
    const label = b.publicLabel ?? 'TPM2B PUBLIC';
    const parts: [string, Uint8Array][] = [
      ['TPMS ATTEST', ev.certInfo],
      ['TPMT SIGNATURE', ev.signature],
      [label, label === 'TPM2B PUBLIC' ? encodeTpm2bPublic(ev.pubArea) : ev.pubArea],
      ...(b.certificates ?? [pki.akCert.der]).map((d): [string, Uint8Array] => ['CERTIFICATE', d]),
    ];
    const text = parts
      .filter(([l]) => !(b.drop ?? []).includes(l))
      .map(([l, d]) => encodePem(l, d))
      .join('');
    return enc(text + (b.extra ?? ''));
  };
  const json = (pub: Uint8Array = encodeTpm2bPublic(ev.pubArea)) => ({
    tpmCertify: { attest: b64(ev.certInfo), signature: b64(ev.signature), public: b64(pub) },
    certificates: [encodePem('CERTIFICATE', pki.akCert.der)],
  });
  return { ev, pem, json };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'ok';
}

const verify = (input: EvidenceInput, c: FormatContext = ctx) => tpmFormat.verify(input, c);

describe('tpm blobs: decoding the PEM bundle', () => {
  it('decodes TPMS ATTEST, TPMT SIGNATURE, TPM2B PUBLIC (size stripped) and the certificates', () => {
    const { ev, pem } = blobs();
    const input = decodeEvidence(pem());
    expect(input.kind).toBe('tpm-certify');
    if (input.kind !== 'tpm-certify') return;
    expect(input.attest).toEqual(ev.certInfo);
    expect(input.signature).toEqual(ev.signature);
    expect(input.publicArea).toEqual(ev.pubArea);
    expect(input.certificates.map((c) => c.der)).toEqual([pki.akCert.der]);
  });

  it('accepts a TPMT PUBLIC block as is', () => {
    const { ev, pem } = blobs();
    const input = decodeEvidence(pem({ publicLabel: 'TPMT PUBLIC' }));
    expect(input.kind === 'tpm-certify' && bytesEqual(input.publicArea, ev.pubArea)).toBe(true);
  });

  it('a bundle without TPM blocks is not TPM blob evidence', () => {
    expect(tpmCertifyEvidenceFromPem(enc(encodePem('CERTIFICATE', pki.akCert.der)))).toBeNull();
    expect(tpmCertifyEvidenceFromPem(Uint8Array.of(0x30, 0x00))).toBeNull();
  });

  it('a missing, duplicated or foreign block is INPUT_UNRECOGNIZED naming it', () => {
    const { ev, pem } = blobs();
    expect(messageOf(() => decodeEvidence(pem({ drop: ['TPMT SIGNATURE'] })))).toMatch(
      /^INPUT_UNRECOGNIZED: .*no "TPMT SIGNATURE" block/,
    );
    expect(messageOf(() => decodeEvidence(pem({ drop: ['TPMS ATTEST'] })))).toMatch(/no "TPMS ATTEST" block/);
    expect(messageOf(() => decodeEvidence(pem({ drop: ['TPM2B PUBLIC'] })))).toMatch(
      /no "TPM2B PUBLIC" or "TPMT PUBLIC" block/,
    );
    expect(messageOf(() => decodeEvidence(pem({ extra: encodePem('TPMS ATTEST', ev.certInfo) })))).toMatch(
      /^INPUT_UNRECOGNIZED: .*2 "TPMS ATTEST" blocks/,
    );
    // A TPM2B and a TPMT public area together: which key is certified would be ambiguous.
    expect(messageOf(() => decodeEvidence(pem({ extra: encodePem('TPMT PUBLIC', ev.pubArea) })))).toMatch(
      /^INPUT_UNRECOGNIZED: .*2 "TPM2B PUBLIC" or "TPMT PUBLIC" blocks/,
    );
    expect(messageOf(() => decodeEvidence(pem({ extra: encodePem('PRIVATE KEY', ev.pubArea) })))).toMatch(
      /^INPUT_UNRECOGNIZED: .*unexpected "PRIVATE KEY" block/,
    );
  });

  it('a TPM2B PUBLIC whose size does not match is TPM_MALFORMED', () => {
    const { ev } = blobs();
    const text =
      encodePem('TPMS ATTEST', ev.certInfo) +
      encodePem('TPMT SIGNATURE', ev.signature) +
      encodePem('TPM2B PUBLIC', ev.pubArea);
    expect(codeOf(() => decodeEvidence(enc(text)))).toBe('TPM_MALFORMED');
  });
});

describe('tpm blobs: decoding the JSON file', () => {
  it('decodes tpmCertify with a TPM2B or TPMT public area', () => {
    const { ev, json } = blobs();
    for (const pub of [encodeTpm2bPublic(ev.pubArea), ev.pubArea]) {
      const input = decodeEvidence(enc(JSON.stringify(json(pub))));
      expect(input.kind).toBe('tpm-certify');
      if (input.kind !== 'tpm-certify') return;
      expect(input.publicArea).toEqual(ev.pubArea);
      expect(input.certificates).toHaveLength(1);
    }
  });

  it('other JSON shapes are not TPM blobs; bad members are INPUT_UNRECOGNIZED', () => {
    expect(tpmCertifyEvidenceFromJson({ attestation: {} })).toBeNull();
    expect(tpmCertifyEvidenceFromJson([1])).toBeNull();
    const { json } = blobs();
    const good = json();
    expect(
      codeOf(() =>
        tpmCertifyEvidenceFromJson({ ...good, tpmCertify: { ...good.tpmCertify, attest: 'a*b=' } }),
      ),
    ).toBe('INPUT_UNRECOGNIZED');
    expect(
      codeOf(() => tpmCertifyEvidenceFromJson({ ...good, tpmCertify: { ...good.tpmCertify, signature: 7 } })),
    ).toBe('INPUT_UNRECOGNIZED');
    expect(codeOf(() => tpmCertifyEvidenceFromJson({ ...good, certificates: 'x' }))).toBe(
      'INPUT_UNRECOGNIZED',
    );
  });
});

describe('tpm format: raw TPM2_Certify blobs', () => {
  it('is detected and verified: the attested key is the public area key, freshness nonce, no CSR', () => {
    const { ev, pem } = blobs();
    const input = decodeEvidence(pem());
    expect(tpmFormat.detect(input)).toBe(true);
    const r = verify(input);
    expect(bytesEqual(r.attestedKey, ev.input.kind === 'csr' ? ev.input.csr.spki : new Uint8Array())).toBe(
      true,
    );
    expect(r.signerChain[0]?.der).toEqual(pki.akCert.der);
    expect(r.freshnessKind).toBe('nonce');
    expect(r.csrVerified).toBe(false);
    expect(r.claims).toMatchObject({
      keyAlgorithm: 'ec-p256',
      nonExportable: true,
      generatedOnDevice: true,
      tpmAttestationKey: 'certificate',
    });
  });

  it('finds the AK certificate in any order among chain certificates', () => {
    const { pem } = blobs();
    const r = verify(decodeEvidence(pem({ certificates: [pki.ca.der, pki.akCert.der] })));
    expect(r.signerChain[0]?.der).toEqual(pki.akCert.der);
  });

  it('without an expected nonce freshness is none (no CSR possession) and the nonce is reported', () => {
    const { pem } = blobs();
    const r = verify(decodeEvidence(pem()), {});
    expect(r.freshnessKind).toBe('none');
    expect(r.freshness?.nonce).toEqual(NONCE);
  });

  it('a policy requiring freshness rejects blobs verified without an expected nonce (no CSR possession)', () => {
    const input = decodeEvidence(blobs().pem());
    const policy = (freshness: 'nonce' | 'possession') =>
      policyFromOptions({ trust: [pki.ca.cert], formats: ['tpm'], require: { freshness }, source: 'test' });
    for (const freshness of ['nonce', 'possession'] as const) {
      const verifier = createVerifier({ policy: policy(freshness) });
      const stale = verifier.verify(input, {});
      expect(stale.code).toBe('NONCE_MISSING');
      expect(stale.freshness).toBe('none');
      expect(verifier.verify(input, { nonce: NONCE }).code).toBe('ACCEPTED');
    }
  });

  it('refuses a wrong nonce, a missing one and the tpm2-tools default 00ff55aa', () => {
    expect(codeOf(() => verify(decodeEvidence(blobs({ extraData: Uint8Array.of(1, 2) }).pem())))).toBe(
      'NONCE_MISMATCH',
    );
    expect(codeOf(() => verify(decodeEvidence(blobs({ extraData: new Uint8Array() }).pem())))).toBe(
      'NONCE_MISSING',
    );
    const dflt = decodeEvidence(blobs({ extraData: Uint8Array.of(0x00, 0xff, 0x55, 0xaa) }).pem());
    expect(messageOf(() => verify(dflt, {}))).toMatch(/^NONCE_MISMATCH: .*00ff55aa/);
  });

  it('refuses a certified Name that is not the Name of the public area (attribute forgery)', () => {
    const { pem } = blobs({ name: Uint8Array.of(0x00, 0x0b, ...new Uint8Array(32)) });
    expect(codeOf(() => verify(decodeEvidence(pem())))).toBe('TPM_NAME_MISMATCH');
  });

  it('refuses a public area swapped for another key (its Name differs)', () => {
    const a = blobs();
    const b = blobs();
    const text =
      encodePem('TPMS ATTEST', a.ev.certInfo) +
      encodePem('TPMT SIGNATURE', a.ev.signature) +
      encodePem('TPMT PUBLIC', b.ev.pubArea) +
      encodePem('CERTIFICATE', pki.akCert.der);
    expect(codeOf(() => verify(decodeEvidence(enc(text))))).toBe('TPM_NAME_MISMATCH');
  });

  it('without an AK certificate or binding: TPM_AK_NOT_BOUND; another AK certificate: SIGNATURE_INVALID', () => {
    const { pem } = blobs();
    expect(codeOf(() => verify(decodeEvidence(pem({ certificates: [] }))))).toBe('TPM_AK_NOT_BOUND');
    const other = tpmPki();
    expect(codeOf(() => verify(decodeEvidence(pem({ certificates: [other.akCert.der] }))))).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('a credential-activation bound AK vouches without an AK certificate', () => {
    const { pem } = blobs();
    const r = verify(decodeEvidence(pem({ certificates: [] })), {
      expectedNonce: NONCE,
      boundKeys: [boundKey(pki.akKey, [pki.ekCert.cert])],
    });
    expect(r.boundSigner?.bindingId).toBe('binding-1');
    expect(r.claims['tpmAttestationKey']).toBe('credential-activation');
  });

  it('refuses a TPMS_ATTEST that is not TPM2_Certify output and a tampered signature', () => {
    const { ev } = blobs();
    const bundle = (attest: Uint8Array, sig: Uint8Array) =>
      enc(
        encodePem('TPMS ATTEST', attest) +
          encodePem('TPMT SIGNATURE', sig) +
          encodePem('TPMT PUBLIC', ev.pubArea) +
          encodePem('CERTIFICATE', pki.akCert.der),
      );
    const creation = ev.certInfo.slice();
    creation[4] = 0x80;
    creation[5] = 0x1a; // TPM_ST_ATTEST_CREATION
    expect(['ATTESTATION_INVALID', 'TPM_MALFORMED']).toContain(
      codeOf(() => verify(decodeEvidence(bundle(creation, ev.signature)))),
    );
    const flipped = ev.signature.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(codeOf(() => verify(decodeEvidence(bundle(ev.certInfo, flipped))))).toBe('SIGNATURE_INVALID');
  });
});

describe('tpm blobs fuzz: only ProvenanceError escapes', () => {
  const { pem, json } = blobs();
  const seeds = [pem(), enc(JSON.stringify(json()))];
  const decodeAndVerify = (b: Uint8Array) => verify(decodeEvidence(b));
  it('mutated PEM and JSON evidence', () => {
    fc.assert(
      fc.property(mutatedBytes(seeds, false), (m) => {
        outcome(() => decodeAndVerify(m.bytes));
      }),
      fuzzParameters(300),
    );
  });
  it('random TPM pieces in a well-formed bundle', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        (a, s, p) => {
          const text =
            (a.length ? encodePem('TPMS ATTEST', a) : '') +
            (s.length ? encodePem('TPMT SIGNATURE', s) : '') +
            (p.length ? encodePem('TPM2B PUBLIC', p) : '') +
            encodePem('CERTIFICATE', pki.akCert.der);
          outcome(() => decodeAndVerify(enc(text)));
        },
      ),
      fuzzParameters(200),
    );
  });
});

// Real Windows Hello TPM2_Certify output (MANIFEST.md section 4, read in place). Their `sig` is a
// raw RSASSA signature (WebAuthn attStmt.sig), so the test wraps it in the TPMT_SIGNATURE that
// tpm2_certify writes by default; everything else is the TPM's own bytes.
const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const SAMPLES_DIR = join(VECTORS, 'tpm', 'webauthn-tpm2-certify');
const haveSamples = existsSync(join(VECTORS, 'MANIFEST.md')) && existsSync(SAMPLES_DIR);
const DAY = 86_400_000;

if (!haveSamples) {
  const reason = `TPM2_Certify samples not found in ${SAMPLES_DIR}`;
  if (process.env.CI === 'true') {
    it('has the TPM2_Certify samples in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping real TPM blob tests: ${reason}`);
  }
}

describe.skipIf(!haveSamples)('tpm blobs: the Windows Hello TPM2_Certify samples', () => {
  const samples = haveSamples ? readdirSync(SAMPLES_DIR).sort() : [];
  const rootPem = haveSamples
    ? readFileSync(join(VECTORS, 'tpm', 'simplewebauthn', 'microsoft-tpm-root-ca-2014.pem'), 'utf8')
    : '';

  it('has the six samples', () => expect(samples).toHaveLength(6));

  for (const sample of samples) {
    it(`${sample}: accepted through the blob route under Microsoft TPM Root CA 2014 at a pinned time`, () => {
      const read = (f: string) => new Uint8Array(readFileSync(join(SAMPLES_DIR, sample, f)));
      const meta = JSON.parse(readFileSync(join(SAMPLES_DIR, sample, 'meta.json'), 'utf8')) as {
        alg: number;
        TPMS_ATTEST: { extraData_hex: string };
      };
      // COSE -65535 is RS1: RSASSA-PKCS1-v1_5 with SHA-1 (WebAuthn §8.3).
      expect(meta.alg).toBe(-65535);
      const signature = encodeTpmtSignature({
        sigAlg: TPM_ALG.RSASSA,
        hashAlg: TPM_ALG.SHA1,
        signature: read('sig.bin'),
      });
      const chainPem = readFileSync(join(SAMPLES_DIR, sample, 'aik-chain.pem'), 'utf8');
      const bundle = enc(
        encodePem('TPMS ATTEST', read('certInfo_TPMS_ATTEST.bin')) +
          encodePem('TPMT SIGNATURE', signature) +
          encodePem('TPMT PUBLIC', read('pubArea_TPMT_PUBLIC.bin')) +
          chainPem,
      );
      const input = decodeEvidence(bundle);
      expect(input.kind).toBe('tpm-certify');
      const root = decodeEvidence(enc(rootPem)).certificates[0]!;
      // Pinned: one day after the latest notBefore of the chain (the AIK certificates expired in 2025).
      const all = [...input.certificates, root];
      const at = Math.max(...all.map((c) => c.notBefore)) + DAY;
      expect(at).toBeLessThan(Math.min(...all.map((c) => c.notAfter)));
      const policy = policyFromOptions({ trust: [root], formats: ['tpm'], source: 'test' });
      const nonce = fromHex(meta.TPMS_ATTEST.extraData_hex);
      // SHA-1 is refused unless the policy allows it.
      expect(createVerifier({ policy }).verify(input, { nonce, at }).code).toBe('ALGORITHM_NOT_ALLOWED');
      const lenient = createVerifier({ policy: { ...policy, signatures: { allowSha1: true } } });
      const v = lenient.verify(input, { nonce, at });
      expect(v.code).toBe('ACCEPTED');
      expect(v.freshness).toBe('nonce');
      expect(v.quirks.map((q) => q.id)).toContain('tpm-sha1-signature');
      expect(v.claims).toMatchObject({ nonExportable: true, generatedOnDevice: true });
      expect(lenient.verify(input, { nonce: Uint8Array.of(1, 2, 3), at }).code).toBe('NONCE_MISMATCH');
    });
  }
});
