import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../src/core/bytes.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import {
  encodeTpm2bPublic,
  encodeTpmsAttest,
  encodeTpmtPublic,
  encodeTpmtSignature,
  publicAreaFromKey,
  signTpmsAttest,
  TPM_AK_ATTRIBUTES,
  TPM_APP_KEY_ATTRIBUTES,
  u16,
} from '../../../src/formats/tpm/encode.js';
import {
  parseTpmsAttest,
  parseTpmtPublic,
  parseTpmtSignature,
  TPM_ALG,
  TPM_ST,
  tpmName,
  unwrapTpm2bPublic,
  verifyTpmSignature,
} from '../../../src/formats/tpm/structures.js';
import { describeKey } from '../../../src/pki/keys.js';
import { DEFAULT_SIGNATURE_POLICY } from '../../../src/pki/signature.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('TPMT_PUBLIC', () => {
  it('round-trips an ECC public area and builds the same SPKI Node exports', () => {
    const bytes = encodeTpmtPublic(publicAreaFromKey(ec.publicKey, { attributes: TPM_APP_KEY_ATTRIBUTES }));
    const p = parseTpmtPublic(bytes);
    expect(p.type).toBe('ecc');
    expect(p.objectAttributes.fixedTPM).toBe(true);
    expect(p.objectAttributes.restricted).toBe(false);
    expect(p.objectAttributes.raw).toBe(0x00040072);
    const nodeSpki = new Uint8Array(ec.publicKey.export({ format: 'der', type: 'spki' }));
    expect(bytesEqual(p.spki, nodeSpki)).toBe(true);
  });

  it('round-trips an RSA public area with exponent 0 meaning 65537', () => {
    const bytes = encodeTpmtPublic(publicAreaFromKey(rsa.publicKey, { attributes: TPM_AK_ATTRIBUTES }));
    const p = parseTpmtPublic(bytes);
    if (p.type !== 'rsa') throw new Error('not rsa');
    expect(p.exponent).toBe(65537);
    expect(p.keyBits).toBe(2048);
    expect(p.objectAttributes.restricted).toBe(true);
    const nodeSpki = new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' }));
    expect(bytesEqual(p.spki, nodeSpki)).toBe(true);
    expect(describeKey(p.spki).keySize).toBe(2048);
  });

  it('rejects trailing bytes, truncation, unknown types and a modulus that does not match keyBits', () => {
    const bytes = encodeTpmtPublic(publicAreaFromKey(ec.publicKey, { attributes: TPM_APP_KEY_ATTRIBUTES }));
    expect(codeOf(() => parseTpmtPublic(Uint8Array.from([...bytes, 0])))).toBe('TPM_MALFORMED');
    expect(codeOf(() => parseTpmtPublic(bytes.subarray(0, bytes.length - 1)))).toBe('TPM_MALFORMED');
    const keyedHash = Uint8Array.from(bytes);
    keyedHash.set(u16(TPM_ALG.KEYEDHASH), 0);
    expect(codeOf(() => parseTpmtPublic(keyedHash))).toBe('ALGORITHM_UNSUPPORTED');
    const p = publicAreaFromKey(rsa.publicKey, { attributes: TPM_AK_ATTRIBUTES });
    if (p.type !== 'rsa') throw new Error('not rsa');
    expect(codeOf(() => parseTpmtPublic(encodeTpmtPublic({ ...p, keyBits: 3072 })))).toBe('TPM_MALFORMED');
  });

  it('unwraps a TPM2B_PUBLIC only when the size matches exactly', () => {
    const bytes = encodeTpmtPublic(publicAreaFromKey(ec.publicKey, { attributes: TPM_APP_KEY_ATTRIBUTES }));
    expect(bytesEqual(unwrapTpm2bPublic(encodeTpm2bPublic(bytes)), bytes)).toBe(true);
    expect(codeOf(() => unwrapTpm2bPublic(Uint8Array.from([...encodeTpm2bPublic(bytes), 0])))).toBe(
      'TPM_MALFORMED',
    );
  });

  it('computes the Name as nameAlg ‖ H(TPMT_PUBLIC)', () => {
    const bytes = encodeTpmtPublic(publicAreaFromKey(ec.publicKey, { attributes: TPM_APP_KEY_ATTRIBUTES }));
    const name = tpmName(bytes, TPM_ALG.SHA256);
    expect(name.length).toBe(34);
    expect([name[0], name[1]]).toEqual([0x00, 0x0b]);
  });
});

describe('TPMS_ATTEST and TPMT_SIGNATURE', () => {
  const pubArea = encodeTpmtPublic(publicAreaFromKey(ec.publicKey, { attributes: TPM_APP_KEY_ATTRIBUTES }));
  const certInfo = encodeTpmsAttest({
    extraData: Uint8Array.of(1, 2, 3),
    firmwareVersion: 0x0001000200030004n,
    attested: { kind: 'certify', name: tpmName(pubArea, TPM_ALG.SHA256), qualifiedName: new Uint8Array() },
  });

  it('parses a CERTIFY attestation', () => {
    const a = parseTpmsAttest(certInfo);
    expect(a.type).toBe(TPM_ST.ATTEST_CERTIFY);
    expect([...a.extraData]).toEqual([1, 2, 3]);
    expect(a.firmwareVersion).toBe(0x0001000200030004n);
    expect(a.attested.kind).toBe('certify');
  });

  it('rejects a bad magic, an unknown type, trailing bytes and a malformed Name', () => {
    expect(
      codeOf(() =>
        parseTpmsAttest(
          encodeTpmsAttest({
            magic: 0xff544348,
            extraData: new Uint8Array(),
            attested: { kind: 'certify', name: new Uint8Array(), qualifiedName: new Uint8Array() },
          }),
        ),
      ),
    ).toBe('TPM_MALFORMED');
    expect(
      codeOf(() =>
        parseTpmsAttest(
          encodeTpmsAttest({
            type: 0x8018,
            extraData: new Uint8Array(),
            attested: { kind: 'certify', name: new Uint8Array(), qualifiedName: new Uint8Array() },
          }),
        ),
      ),
    ).toBe('TPM_MALFORMED');
    expect(codeOf(() => parseTpmsAttest(Uint8Array.from([...certInfo, 0])))).toBe('TPM_MALFORMED');
    expect(codeOf(() => parseTpmsAttest(certInfo.subarray(0, certInfo.length - 3)))).toBe('TPM_MALFORMED');
    expect(
      codeOf(() =>
        parseTpmsAttest(
          encodeTpmsAttest({
            extraData: new Uint8Array(),
            attested: {
              kind: 'certify',
              name: Uint8Array.of(0, 0x0b, 1, 2, 3),
              qualifiedName: new Uint8Array(),
            },
          }),
        ),
      ),
    ).toBe('TPM_MALFORMED');
  });

  it('verifies ECDSA, RSASSA and RSAPSS signatures and refuses tampering', () => {
    for (const [key, pub, sigAlg] of [
      [ec.privateKey, ec.publicKey, TPM_ALG.ECDSA],
      [rsa.privateKey, rsa.publicKey, TPM_ALG.RSASSA],
      [rsa.privateKey, rsa.publicKey, TPM_ALG.RSAPSS],
    ] as const) {
      const sig = parseTpmtSignature(signTpmsAttest(certInfo, key, { sigAlg }));
      expect(sig.sigAlg).toBe(sigAlg);
      const spki = new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
      expect(verifyTpmSignature(sig, certInfo, spki)).toBe(true);
      expect(verifyTpmSignature(sig, Uint8Array.from([...certInfo.subarray(1), 0]), pub)).toBe(false);
    }
  });

  it('refuses SHA-1 by default with the policy code and accepts it when explicitly allowed', () => {
    const sig = parseTpmtSignature(signTpmsAttest(certInfo, rsa.privateKey, { hashAlg: TPM_ALG.SHA1 }));
    expect(codeOf(() => verifyTpmSignature(sig, certInfo, rsa.publicKey))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(
      verifyTpmSignature(sig, certInfo, rsa.publicKey, {
        policy: { ...DEFAULT_SIGNATURE_POLICY, allowSha1: true },
      }),
    ).toBe(true);
  });

  it('refuses a scheme that does not fit the key, unknown schemes and trailing bytes', () => {
    const sig = parseTpmtSignature(signTpmsAttest(certInfo, ec.privateKey));
    expect(codeOf(() => verifyTpmSignature(sig, certInfo, rsa.publicKey))).toBe('SIGNATURE_INVALID');
    expect(
      codeOf(() =>
        parseTpmtSignature(
          encodeTpmtSignature({
            sigAlg: TPM_ALG.HMAC,
            hashAlg: TPM_ALG.SHA256,
            signature: new Uint8Array(32),
          }),
        ),
      ),
    ).toBe('ALGORITHM_UNSUPPORTED');
    expect(codeOf(() => parseTpmtSignature(Uint8Array.from([...sig.bytes, 0])))).toBe('TPM_MALFORMED');
  });
});
