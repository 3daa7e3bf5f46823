import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../src/core/bytes.js';
import { der } from '../../../src/core/der-writer.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { OID } from '../../../src/core/oids.js';
import {
  encodeTpmtSignature,
  TPM_AK_ATTRIBUTES,
  TPM_APP_KEY_ATTRIBUTES,
  tpmaObject,
} from '../../../src/formats/tpm/encode.js';
import { createTpmFormat, tpmFormat } from '../../../src/formats/tpm/index.js';
import { decodeTpmCertifyStatement, encodeTpmCertifyStatement } from '../../../src/formats/tpm/statement.js';
import { TPM_ALG } from '../../../src/formats/tpm/structures.js';
import type { FormatContext } from '../../../src/formats/types.js';
import { DEFAULT_SIGNATURE_POLICY } from '../../../src/pki/signature.js';
import { boundKey, type EvidenceOptions, NONCE, tpmDirectoryName, tpmEvidence, tpmPki } from './helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

const pki = tpmPki();
const withAkCert = (o: Partial<EvidenceOptions> = {}) =>
  tpmEvidence({ akKey: pki.akKey, certificates: [pki.akCert.der], ...o });
const ctx: FormatContext = { expectedNonce: NONCE };

describe('tpm format: TPM2_Certify in a CSR with an AK certificate', () => {
  it('is detected and verified: attested key, signer chain, claims, freshness', () => {
    const ev = withAkCert();
    expect(tpmFormat.detect(ev.input)).toBe(true);
    const r = tpmFormat.verify(ev.input, ctx);
    expect(r.format).toBe('tpm');
    expect(bytesEqual(r.attestedKey, ev.input.kind === 'csr' ? ev.input.csr.spki : new Uint8Array())).toBe(
      true,
    );
    expect(r.signerChain[0]).toBe(
      ev.input.kind === 'csr' ? ev.input.csr.attestation?.certificates[0] : undefined,
    );
    expect(r.csrVerified).toBe(true);
    expect(r.freshnessKind).toBe('nonce');
    expect(r.boundSigner).toBeUndefined();
    expect(r.claims).toMatchObject({
      keyAlgorithm: 'ec-p256',
      keySize: 256,
      nonExportable: true,
      generatedOnDevice: true,
      model: 'SLB 9670 TPM2.0',
      tpmManufacturer: 'Infineon',
      tpmManufacturerId: 'id:49465800',
      tpmVersion: 'id:0728',
      firmware: '1.2.3.4',
      tpmAttestationKey: 'certificate',
    });
  });

  it('without an expected nonce, freshness is possession and the nonce is still reported', () => {
    const r = tpmFormat.verify(withAkCert().input, {});
    expect(r.freshnessKind).toBe('possession');
    expect(r.freshness?.nonce).toEqual(NONCE);
  });

  it('refuses a wrong nonce, a missing nonce and a CSR nonce attribute that differs', () => {
    expect(codeOf(() => tpmFormat.verify(withAkCert({ extraData: Uint8Array.of(1, 2, 3) }).input, ctx))).toBe(
      'NONCE_MISMATCH',
    );
    expect(codeOf(() => tpmFormat.verify(withAkCert({ extraData: new Uint8Array() }).input, ctx))).toBe(
      'NONCE_MISSING',
    );
    expect(codeOf(() => tpmFormat.verify(withAkCert({ csrNonce: new Uint8Array(16) }).input, {}))).toBe(
      'NONCE_MISMATCH',
    );
  });

  it('refuses the tpm2-tools default qualifying data 00ff55aa even with no expected nonce', () => {
    const ev = withAkCert({ extraData: Uint8Array.of(0x00, 0xff, 0x55, 0xaa) });
    let message = '';
    try {
      tpmFormat.verify(ev.input, {});
    } catch (err) {
      if (!isProvenanceError(err, 'NONCE_MISMATCH')) throw err;
      message = err.message;
    }
    expect(message).toMatch(/00ff55aa/);
  });

  it('refuses a certified Name that is not the Name of tpmTPublic', () => {
    const ev = withAkCert({ name: Uint8Array.of(0x00, 0x0b, ...new Uint8Array(32)) });
    expect(codeOf(() => tpmFormat.verify(ev.input, ctx))).toBe('TPM_NAME_MISMATCH');
  });

  it('refuses a CSR for another key than the certified one (key substitution)', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(codeOf(() => tpmFormat.verify(withAkCert({ csrKey: other }).input, ctx))).toBe('KEY_MISMATCH');
  });

  it('reports missing fixedTPM / sensitiveDataOrigin as false claims (the policy decides)', () => {
    const notFixed = tpmFormat.verify(
      withAkCert({ attributes: TPM_APP_KEY_ATTRIBUTES & ~tpmaObject('fixedTPM') }).input,
      ctx,
    );
    expect(notFixed.claims.nonExportable).toBe(false);
    expect(notFixed.claims.generatedOnDevice).toBe(true);
    const imported = tpmFormat.verify(
      withAkCert({ attributes: TPM_APP_KEY_ATTRIBUTES & ~tpmaObject('sensitiveDataOrigin') }).input,
      ctx,
    );
    expect(imported.claims.generatedOnDevice).toBe(false);
    expect(imported.claims.nonExportable).toBe(true);
  });

  it('refuses truncated or trailing TPM structures, unknown schemes, CREATION and a missing tpmTPublic', () => {
    const trunc = withAkCert({
      mutate: (p) => ({ ...p, tpmSAttest: p.tpmSAttest.subarray(0, p.tpmSAttest.length - 1) }),
    });
    expect(codeOf(() => tpmFormat.verify(trunc.input, ctx))).toBe('TPM_MALFORMED');
    const trailing = withAkCert({
      mutate: (p) => ({ ...p, signature: Uint8Array.from([...p.signature, 0]) }),
    });
    expect(codeOf(() => tpmFormat.verify(trailing.input, ctx))).toBe('TPM_MALFORMED');
    const hmac = withAkCert({
      mutate: (p) => ({
        ...p,
        signature: encodeTpmtSignature({
          sigAlg: TPM_ALG.HMAC,
          hashAlg: TPM_ALG.SHA256,
          signature: new Uint8Array(32),
        }),
      }),
    });
    expect(codeOf(() => tpmFormat.verify(hmac.input, ctx))).toBe('ALGORITHM_UNSUPPORTED');
    const creation = withAkCert({
      attest: {
        attested: { kind: 'creation', objectName: new Uint8Array(), creationHash: new Uint8Array(32) },
      },
    });
    expect(codeOf(() => tpmFormat.verify(creation.input, ctx))).toBe('ATTESTATION_INVALID');
    const noPub = withAkCert({ mutate: (p) => ({ ...p, tpmTPublic: null }) });
    expect(codeOf(() => tpmFormat.verify(noPub.input, ctx))).toBe('ATTESTATION_MALFORMED');
    const wrongType = withAkCert({ attest: { type: 0x8018 } }); // TPM_ST_ATTEST_QUOTE
    expect(codeOf(() => tpmFormat.verify(wrongType.input, ctx))).toBe('TPM_MALFORMED');
  });

  it('refuses a SHA-1 AK signature by default and accepts it with an explicit allow-SHA-1 policy', () => {
    const ev = withAkCert({ hashAlg: TPM_ALG.SHA1 });
    expect(codeOf(() => tpmFormat.verify(ev.input, ctx))).toBe('ALGORITHM_NOT_ALLOWED');
    const lenient = createTpmFormat({ signaturePolicy: { ...DEFAULT_SIGNATURE_POLICY, allowSha1: true } });
    expect(lenient.verify(ev.input, ctx).format).toBe('tpm');
    // The verifier passes the policy's signatures.allowSha1 as ctx.allowSha1: a named quirk.
    const allowed = tpmFormat.verify(ev.input, { ...ctx, allowSha1: true });
    expect(allowed.quirks.map((q) => [q.id, q.position])).toEqual([['tpm-sha1-signature', 1]]);
    expect(tpmFormat.verify(withAkCert({}).input, { ...ctx, allowSha1: true }).quirks).toEqual([]);
  });

  it('refuses a certified key with a SHA-1 Name unless SHA-1 is allowed, then reports it', () => {
    const ev = withAkCert({ nameAlg: TPM_ALG.SHA1 });
    expect(codeOf(() => tpmFormat.verify(ev.input, ctx))).toBe('ALGORITHM_NOT_ALLOWED');
    const allowed = tpmFormat.verify(ev.input, { ...ctx, allowSha1: true });
    expect(allowed.quirks.map((q) => [q.id, q.position])).toEqual([['tpm-sha1-name', 0]]);
  });

  it('refuses a signature by a key other than the AK certificate, and evidence with no AK at all', () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(codeOf(() => tpmFormat.verify(withAkCert({ akKey: stranger }).input, ctx))).toBe(
      'SIGNATURE_INVALID',
    );
    const bare = tpmEvidence({ akKey: pki.akKey });
    expect(codeOf(() => tpmFormat.verify(bare.input, ctx))).toBe('TPM_AK_NOT_BOUND');
  });

  it('refuses AK certificates that break the TCG profile', () => {
    const cases = [
      tpmPki({ ak: { sanCritical: false } }),
      tpmPki({
        ak: { sanNames: [tpmDirectoryName(), der.raw(Uint8Array.from([0x82, 3, 0x61, 0x2e, 0x62]))] },
      }),
      tpmPki({ ak: { subject: 'Not empty' } }),
      tpmPki({ ak: { sanNames: [tpmDirectoryName('IFX')] } }),
    ];
    for (const p of cases) {
      const ev = tpmEvidence({ akKey: p.akKey, certificates: [p.akCert.der] });
      expect(codeOf(() => tpmFormat.verify(ev.input, ctx))).toBe('TPM_CERT_PROFILE');
    }
    // Without EKU tcg-kp-AIKCertificate the certificate is no AK certificate at all.
    const noEku = tpmPki({ ak: { extKeyUsage: [OID.tcgKpEkCertificate] } });
    const ev = tpmEvidence({ akKey: noEku.akKey, certificates: [noEku.akCert.der] });
    expect(codeOf(() => tpmFormat.verify(ev.input, ctx))).toBe('TPM_AK_NOT_BOUND');
  });
});

describe('tpm format: bound attestation keys (credential activation)', () => {
  it('accepts an AK bound by credential activation and reports it as the bound signer', () => {
    const bk = boundKey(pki.akKey, [pki.ekCert.cert]);
    const r = tpmFormat.verify(tpmEvidence({ akKey: pki.akKey }).input, { ...ctx, boundKeys: [bk] });
    expect(r.boundSigner?.bindingId).toBe('binding-1');
    expect(r.boundSigner?.via).toBe('credential-activation');
    expect(r.boundSigner?.label).toBe('TPM AK (credential activation, binding binding-1)');
    expect(r.signerChain[0]).toBe(pki.ekCert.cert);
    expect(r.claims.tpmAttestationKey).toBe('credential-activation');
  });

  it('refuses an unrestricted bound AK, a binding whose Name is not its public area, and a bad EK certificate', () => {
    const unrestricted = boundKey(pki.akKey, [pki.ekCert.cert], {
      attributes: TPM_AK_ATTRIBUTES & ~tpmaObject('restricted'),
    });
    const ev = tpmEvidence({ akKey: pki.akKey });
    expect(codeOf(() => tpmFormat.verify(ev.input, { ...ctx, boundKeys: [unrestricted] }))).toBe(
      'TPM_AK_NOT_RESTRICTED',
    );
    const bk = boundKey(pki.akKey, [pki.ekCert.cert]);
    const wrongName = { ...bk, name: Uint8Array.of(0, 0x0b, ...new Uint8Array(32)) };
    expect(codeOf(() => tpmFormat.verify(ev.input, { ...ctx, boundKeys: [wrongName] }))).toBe(
      'TPM_AK_NOT_BOUND',
    );
    const other = boundKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, [pki.ekCert.cert]);
    expect(codeOf(() => tpmFormat.verify(ev.input, { ...ctx, boundKeys: [other] }))).toBe('TPM_AK_NOT_BOUND');
    const badEk = tpmPki({ ek: { keyUsage: ['digitalSignature'] } });
    const withBadEk = boundKey(pki.akKey, [badEk.ekCert.cert]);
    expect(codeOf(() => tpmFormat.verify(ev.input, { ...ctx, boundKeys: [withBadEk] }))).toBe(
      'TPM_CERT_PROFILE',
    );
  });
});

describe('tcg-attest-tpm-certify statement', () => {
  it('round-trips with and without tpmTPublic and refuses malformed encodings', () => {
    const s = { tpmSAttest: Uint8Array.of(1), signature: Uint8Array.of(2), tpmTPublic: Uint8Array.of(3) };
    expect(decodeTpmCertifyStatement(encodeTpmCertifyStatement(s))).toEqual(s);
    const noPub = { ...s, tpmTPublic: null };
    expect(decodeTpmCertifyStatement(encodeTpmCertifyStatement(noPub))).toEqual(noPub);
    expect(codeOf(() => decodeTpmCertifyStatement(der.seq(der.octets(Uint8Array.of(1)))))).toBe(
      'ATTESTATION_MALFORMED',
    );
    expect(codeOf(() => decodeTpmCertifyStatement(der.seq(der.octets(Uint8Array.of(1)), der.int(2))))).toBe(
      'ATTESTATION_MALFORMED',
    );
    const enc = encodeTpmCertifyStatement(s);
    expect(codeOf(() => decodeTpmCertifyStatement(Uint8Array.from([...enc, 0])))).toBe(
      'ATTESTATION_MALFORMED',
    );
    expect(
      codeOf(() =>
        decodeTpmCertifyStatement(der.seq(der.octets(new Uint8Array()), der.octets(Uint8Array.of(1)))),
      ),
    ).toBe('ATTESTATION_MALFORMED');
  });
});
