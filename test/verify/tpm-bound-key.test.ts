/**
 * The verifier with TPM evidence: an AK certificate path, and a bound AK (credential
 * activation) whose path reads attested key → AK → EK certificate → CA.
 */

import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/bytes.js';
import { encodePem } from '../../src/core/pem.js';
import { TPM_APP_KEY_ATTRIBUTES, tpmaObject } from '../../src/formats/tpm/encode.js';
import { TPM_ALG } from '../../src/formats/tpm/structures.js';
import { policyFromOptions } from '../../src/policy/index.js';
import { parsePolicy } from '../../src/policy/load.js';
import { createVerifier } from '../../src/verify/verifier.js';
import { boundKey, NONCE, NOW, tpmEvidence, tpmPki } from '../formats/tpm/helpers.js';

const pki = tpmPki();
const policy = policyFromOptions({
  trust: [pki.ca.cert],
  formats: ['tpm'],
  require: { freshness: 'nonce', nonExportable: true, generatedOnDevice: true },
});
const verifier = createVerifier({ policy });
const akSpkiSha256 = sha256Hex(
  new Uint8Array(createPublicKey(pki.akKey).export({ format: 'der', type: 'spki' })),
);

describe('verifier: TPM evidence', () => {
  it('accepts TPM2_Certify with an AK certificate: attested key → AK certificate → CA', () => {
    const ev = tpmEvidence({ akKey: pki.akKey, certificates: [pki.akCert.der] });
    const v = verifier.verify(ev.input, { nonce: NONCE, at: NOW });
    expect(v.code).toBe('ACCEPTED');
    expect(v.format).toBe('tpm');
    expect(v.freshness).toBe('nonce');
    expect(v.path.map((e) => [e.position, e.role])).toEqual([
      [0, 'attested-key'],
      [1, 'attestation-key'],
      [2, 'root'],
    ]);
    expect(v.path[1]!.spkiSha256).toBe(akSpkiSha256);
  });

  it('accepts a bound AK: attested key → AK (binding) → EK certificate → CA, the EK leaf signing nothing', () => {
    const bk = boundKey(pki.akKey, [pki.ekCert.cert], { id: 'enr-42' });
    const ev = tpmEvidence({ akKey: pki.akKey });
    const v = verifier.verify(ev.input, { nonce: NONCE, at: NOW, boundKeys: [bk] });
    expect(v.code).toBe('ACCEPTED');
    expect(v.path.map((e) => [e.position, e.role, e.subject])).toEqual([
      [0, 'attested-key', null],
      [1, 'attestation-key', 'TPM AK (credential activation, binding enr-42)'],
      [2, 'intermediate', null],
      [3, 'root', pki.ca.cert.subject.text],
    ]);
    expect(v.path[1]!.spkiSha256).toBe(akSpkiSha256);
    expect(v.path[1]!.certificateSha256).toBeUndefined();
    expect(v.path[2]!.spkiSha256).toBe(pki.ekCert.cert.spkiSha256);
    expect(v.path[3]!.anchor).toBe('trust-1');
    expect(v.findings.find((f) => f.check === 'format.bound-key')?.detail).toEqual({
      bindingId: 'enr-42',
      spkiSha256: akSpkiSha256,
    });
  });

  it('rejects without an AK certificate or a binding (fail closed)', () => {
    const v = verifier.verify(tpmEvidence({ akKey: pki.akKey }).input, { nonce: NONCE, at: NOW });
    expect(v.code).toBe('TPM_AK_NOT_BOUND');
  });

  it('rejects a key without fixedTPM or sensitiveDataOrigin through the policy requirements', () => {
    for (const flag of ['fixedTPM', 'sensitiveDataOrigin'] as const) {
      const ev = tpmEvidence({
        akKey: pki.akKey,
        certificates: [pki.akCert.der],
        attributes: TPM_APP_KEY_ATTRIBUTES & ~tpmaObject(flag),
      });
      const v = verifier.verify(ev.input, { nonce: NONCE, at: NOW });
      expect(v.code).toBe('POLICY_REQUIREMENT_FAILED');
    }
  });

  it('rejects when no anchor is scoped to the tpm format', () => {
    const other = createVerifier({
      policy: policyFromOptions({ trust: [pki.ca.cert], formats: ['provenance'] }),
    });
    const ev = tpmEvidence({ akKey: pki.akKey, certificates: [pki.akCert.der] });
    expect(other.verify(ev.input, { nonce: NONCE, at: NOW }).code).toBe('TRUST_NO_ANCHORS');
  });

  it('accepts a PEM CSR through verifyBytes under a policy file with a tpm-scoped anchor', () => {
    const files: Record<string, string> = { '/p/tpm-ca.pem': encodePem('CERTIFICATE', pki.ca.der) };
    const yaml = [
      'version: 1',
      'trust:',
      '  - { id: tpm-maker, certificates: [tpm-ca.pem], formats: [tpm] }',
      'require: { freshness: nonce, nonExportable: true, generatedOnDevice: true }',
      '',
    ].join('\n');
    const filePolicy = parsePolicy(yaml, {
      source: 'tpm.yaml',
      baseDir: '/p',
      readFile: (path) => {
        const text = files[path];
        if (text === undefined) throw Object.assign(new Error(`no ${path}`), { code: 'ENOENT' });
        return new TextEncoder().encode(text);
      },
    });
    const ev = tpmEvidence({ akKey: pki.akKey, certificates: [pki.akCert.der] });
    const pem = new TextEncoder().encode(encodePem('CERTIFICATE REQUEST', ev.csrDer));
    const v = createVerifier({ policy: filePolicy }).verifyBytes(pem, { nonce: NONCE, at: NOW });
    expect(v.code).toBe('ACCEPTED');
    expect(v.path.at(-1)?.anchor).toBe('tpm-maker');
  });
});

describe('verifier: revocation of a bound AK path', () => {
  it('a revoked EK certificate rejects, reported at its verdict position (2, after the bound AK)', () => {
    const files: Record<string, string> = {
      '/p/ca.pem': encodePem('CERTIFICATE', pki.ca.der),
      '/p/status.json': JSON.stringify({
        entries: { [pki.ekCert.cert.serialHex.replace(/^0+/, '').toLowerCase()]: { status: 'REVOKED' } },
      }),
    };
    const yaml =
      'version: 1\ntrust:\n  - id: tpm-ca\n    certificates: [./ca.pem]\n    formats: [tpm]\n    statusList: ./status.json\n';
    const revoking = parsePolicy(yaml, {
      source: 'tpm.yaml',
      baseDir: '/p',
      readFile: (path) => {
        const text = files[path];
        if (text === undefined) throw Object.assign(new Error(`no ${path}`), { code: 'ENOENT' });
        return new TextEncoder().encode(text);
      },
    });
    const bk = boundKey(pki.akKey, [pki.ekCert.cert], { id: 'enr-7' });
    const v = createVerifier({ policy: revoking }).verify(tpmEvidence({ akKey: pki.akKey }).input, {
      nonce: NONCE,
      at: NOW,
      boundKeys: [bk],
    });
    expect(v.accepted).toBe(false);
    expect(v.code).toMatch(/REVOKED/);
    const failed = v.findings.find((f) => f.check.startsWith('revocation') && !f.ok);
    expect(failed?.position).toBe(2);
  });
});

describe('verifier: the policy decides on SHA-1 evidence signatures', () => {
  it('refuses a SHA-1 AK signature unless the policy says signatures.allowSha1, then reports the quirk', () => {
    const ev = tpmEvidence({ akKey: pki.akKey, certificates: [pki.akCert.der], hashAlg: TPM_ALG.SHA1 });
    const strict = verifier.verify(ev.input, { nonce: NONCE, at: NOW });
    expect(strict.code).toBe('ALGORITHM_NOT_ALLOWED');
    const lenient = createVerifier({ policy: { ...policy, signatures: { allowSha1: true } } });
    const v = lenient.verify(ev.input, { nonce: NONCE, at: NOW });
    expect(v.code).toBe('ACCEPTED');
    expect(v.quirks.map((q) => q.id)).toContain('tpm-sha1-signature');
  });
});

describe('verifier: an expected challenge is never reported as checked when it was not', () => {
  it('a WebAuthn challenge given to TPM evidence (whose format reads --nonce) is not "equal": possession at most', () => {
    const ev = tpmEvidence({ akKey: pki.akKey, certificates: [pki.akCert.der] });
    const loose = createVerifier({ policy: policyFromOptions({ trust: [pki.ca.cert], formats: ['tpm'] }) });
    const v = loose.verify(ev.input, { at: NOW, webauthn: { challenge: new Uint8Array([1, 2, 3]) } });
    expect(v.freshness).toBe('possession');
    expect(v.findings.some((f) => f.message === 'the evidence nonce equals the expected challenge')).toBe(
      false,
    );
    expect(v.findings.find((f) => f.check === 'nonce')?.severity).toBe('warning');
  });
});
