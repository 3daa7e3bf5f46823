import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/bytes.js';
import { OID } from '../../src/core/oids.js';
import { encodePem } from '../../src/core/pem.js';
import { decodeEvidence } from '../../src/verify/input.js';
import { createVerifier, type Verdict } from '../../src/verify/verifier.js';
import { rocaPrime, rsaSpki } from '../policy/fixtures.js';
import { bundle, csr, der, NONCE, NOW, nativeHierarchy, newKey, party, policyFor } from './fixtures.js';

const OTHER_NONCE = Uint8Array.from({ length: 16 }, () => 0xaa);

function verify(
  bytes: Uint8Array,
  policy: ReturnType<typeof policyFor>,
  expectations: { nonce?: Uint8Array; at?: number } = { nonce: NONCE },
): Verdict {
  return createVerifier({ policy, clock: () => NOW }).verifyBytes(bytes, expectations);
}

describe('native format: acceptance at the three allow-list levels', () => {
  const h = nativeHierarchy();
  for (const [level, entry] of [
    ['one model', () => h.model.cert],
    ['a product line', () => h.line.cert],
    ['a whole maker', () => h.root.cert],
  ] as const) {
    it(`accepts a CSR when the allow-list names ${level}`, () => {
      const v = verify(csr(h), policyFor(h, { allow: [{ certificate: entry(), id: 'rule' }] }));
      expect(v.code).toBe('ACCEPTED');
      expect(v.accepted).toBe(true);
      expect(v.matchedRule).toBe('rule');
      expect(v.freshness).toBe('nonce');
      const matched = v.path.filter((e) => e.matchedRules?.includes('rule'));
      expect(matched.map((e) => e.spkiSha256)).toEqual([entry().spkiSha256]);
    });
  }

  it('reports the path from the new key to the anchor with roles and key hashes', () => {
    const v = verify(bundle(h), policyFor(h, { allow: [{ certificate: h.line.cert }] }));
    expect(v.accepted).toBe(true);
    expect(v.path.map((e) => e.role)).toEqual([
      'attested-key',
      'attestation-key',
      'intermediate',
      'intermediate',
      'root',
    ]);
    expect(v.path.map((e) => e.spkiSha256)).toEqual([
      sha256Hex(h.attested.signer.spki),
      h.token.cert.spkiSha256,
      h.model.cert.spkiSha256,
      h.line.cert.spkiSha256,
      h.root.cert.spkiSha256,
    ]);
    expect(v.path.at(-1)!.anchor).toBeDefined();
    expect(v.claims).toMatchObject({
      keyAlgorithm: 'ec-p256',
      generatedOnDevice: true,
      nonExportable: true,
      userPresence: 'always',
      userVerification: 'once',
      model: 'Gemalto .NET Card',
      serial: '0001',
      firmware: '2.1.0',
    });
    // The verdict is JSON: no key bytes leak into it.
    expect(JSON.stringify(v)).not.toContain('"spki"');
  });

  it('accepts when the anchor is an intermediate (the product line), not the root', () => {
    const policy = policyFor(h, { trust: [h.line.cert], allow: [{ certificate: h.model.cert }] });
    const v = verify(csr(h), policy);
    expect(v.code).toBe('ACCEPTED');
    expect(v.path.at(-1)!.spkiSha256).toBe(h.line.cert.spkiSha256);
  });
});

describe('native format: the negative catalogue', () => {
  const h = nativeHierarchy();
  const allowLine = policyFor(h, { allow: [{ certificate: h.line.cert }] });

  it('rejects a wrong nonce (replay of evidence made for another challenge)', () => {
    expect(verify(csr(h), allowLine, { nonce: OTHER_NONCE }).code).toBe('NONCE_MISMATCH');
  });

  it('rejects evidence without a nonce when one is expected', () => {
    const noNonce = nativeHierarchy({ attestation: { nonce: null } });
    const v = verify(bundle(noNonce), policyFor(noNonce, { allow: [{ certificate: noNonce.line.cert }] }));
    expect(v.code).toBe('NONCE_MISSING');
  });

  it('rejects when the policy demands freshness and no nonce was checked', () => {
    expect(verify(bundle(h), allowLine, {}).code).toBe('NONCE_MISSING');
  });

  it('rejects a CSR whose nonce attribute differs from the attested nonce', () => {
    expect(verify(csr(h, { nonce: OTHER_NONCE }), allowLine).code).toBe('NONCE_MISMATCH');
  });

  it('rejects a CSR for another key than the attested one (key substitution)', () => {
    expect(verify(csr(h, { signer: newKey().signer }), allowLine).code).toBe('KEY_MISMATCH');
  });

  it('rejects a CSR whose signature does not verify', () => {
    const pem = new TextDecoder().decode(csr(h));
    const body = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    body[body.length - 3]! ^= 0x01; // inside the signature value
    const broken = new TextEncoder().encode(encodePem('CERTIFICATE REQUEST', new Uint8Array(body)));
    expect(verify(broken, allowLine).code).toBe('CSR_SIGNATURE_INVALID');
  });

  it('rejects an attestation signed by a certificate that is not a CA', () => {
    const bad = nativeHierarchy({
      token: { basicConstraints: { ca: false }, keyUsage: ['digitalSignature'] },
    });
    expect(verify(bundle(bad), policyFor(bad)).code).toBe('PATH_NOT_CA');
  });

  it('rejects an attestation key whose certificate lacks keyCertSign', () => {
    const bad = nativeHierarchy({ token: { keyUsage: ['digitalSignature'] } });
    expect(verify(bundle(bad), policyFor(bad)).code).toBe('PATH_KEY_USAGE');
  });

  it('rejects a path that violates a pathLenConstraint', () => {
    const bad = nativeHierarchy({ model: { basicConstraints: { ca: true, pathLen: 0 } } });
    expect(verify(bundle(bad), policyFor(bad)).code).toBe('PATH_LENGTH_EXCEEDED');
  });

  it('rejects an expired per-token certificate, and accepts it at a pinned time inside its validity', () => {
    const old = nativeHierarchy({ token: { notBefore: NOW - 3e10, notAfter: NOW - 1e9 } });
    const policy = policyFor(old);
    expect(verify(bundle(old), policy).code).toBe('PATH_CERT_EXPIRED');
    expect(verify(bundle(old), policy, { nonce: NONCE, at: NOW - 2e9 }).code).toBe('ACCEPTED');
  });

  it('rejects an unknown critical extension', () => {
    const bad = nativeHierarchy({
      model: { extensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: der.null() }] },
    });
    expect(verify(bundle(bad), policyFor(bad)).code).toBe('PATH_UNKNOWN_CRITICAL_EXTENSION');
  });

  it('rejects a forged hierarchy with identical names (trust is by key)', () => {
    const forged = nativeHierarchy();
    const v = verify(bundle(forged), allowLine);
    expect(v.accepted).toBe(false);
    expect(['PATH_SIGNATURE_INVALID', 'PATH_NOT_FOUND']).toContain(v.code);
  });

  it('rejects a forged intermediate slipped into a genuine bundle', () => {
    // Same name as the real product line, different key: the model's signature cannot verify.
    const fakeLine = party('CN=Gemalto Smartcards,O=Gemalto NV', h.root);
    const pems = [h.cop, h.token.der, h.model.der, fakeLine.der]
      .map((d) => encodePem('CERTIFICATE', d))
      .join('');
    const v = verify(
      new TextEncoder().encode(pems),
      policyFor(h, { allow: [{ certificate: fakeLine.cert }] }),
    );
    expect(v.accepted).toBe(false);
  });

  it('lets deny win over allow', () => {
    const policy = policyFor(h, {
      allow: [{ certificate: h.line.cert }],
      deny: { entries: [{ certificate: h.model.cert, reason: 'model withdrawn' }] },
    });
    const v = verify(csr(h), policy);
    expect(v.code).toBe('POLICY_DENIED');
    expect(v.message).toContain('model withdrawn');
  });

  it('rejects a ROCA-vulnerable attested key', () => {
    // Over 2048 bits, so the key passes the size policy and only the ROCA test can catch it.
    const roca = nativeHierarchy({ attestedSpki: rsaSpki(rocaPrime(1032) * rocaPrime(1032)) });
    const v = verify(bundle(roca), policyFor(roca, { allow: [{ certificate: roca.line.cert }] }));
    expect(v.code).toBe('KEY_ROCA_VULNERABLE');
  });

  it('rejects a path that contains no allow-listed entry', () => {
    const other = nativeHierarchy({ makerName: 'Acme Tokens' });
    const policy = policyFor(h, {
      trust: [h.root.cert, other.root.cert],
      allow: [{ certificate: h.line.cert }],
    });
    expect(verify(bundle(other), policy).code).toBe('POLICY_NO_MATCH');
  });

  it('fails closed without anchors for the format', () => {
    const policy = policyFor(h, { formats: ['tpm'] });
    expect(verify(bundle(h), policy).code).toBe('TRUST_NO_ANCHORS');
  });

  it('rejects two certificates of provenance in one bundle as ambiguous', () => {
    const second = nativeHierarchy();
    expect(verify(bundle(h, [second.cop]), allowLine).code).toBe('ATTESTATION_MALFORMED');
  });

  it('rejects a chain with no certificate of provenance', () => {
    const pems = [h.token.der, h.model.der].map((d) => encodePem('CERTIFICATE', d)).join('');
    expect(verify(new TextEncoder().encode(pems), allowLine).code).toBe('ATTESTATION_MISSING');
  });

  it('rejects a malformed attestation extension with its code', () => {
    const bad = nativeHierarchy({
      cop: {
        extensions: [{ oid: OID.provenanceKeyAttestation, critical: false, value: der.seq(der.int(2)) }],
      },
    });
    expect(verify(bundle(bad), policyFor(bad)).code).toBe('ATTESTATION_MALFORMED');
  });
});

describe('evidence decoding: malformed input becomes a rejecting verdict with a code', () => {
  const h = nativeHierarchy();
  const policy = policyFor(h);

  it('truncated DER', () => {
    expect(verify(h.cop.subarray(0, h.cop.length - 10), policy).code).toBe('DER_TRUNCATED');
  });

  it('over-long DER (trailing bytes)', () => {
    expect(verify(new Uint8Array([...h.cop, 0, 0]), policy).code).toBe('DER_TRAILING_DATA');
  });

  it('an absurd length field', () => {
    expect(verify(Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00), policy).code).toBe(
      'DER_TRUNCATED',
    );
  });

  it('deep nesting', () => {
    let nested = der.null();
    for (let i = 0; i < 2000; i++) nested = der.seq(nested);
    expect(verify(nested, policy).accepted).toBe(false);
    expect(verify(nested, policy).code).toMatch(/^(CERT_MALFORMED|DER_)/);
  });

  it('an empty file, text that is not PEM, an unknown PEM label', () => {
    expect(verify(new Uint8Array(), policy).code).toBe('INPUT_UNRECOGNIZED');
    expect(verify(new TextEncoder().encode('hello'), policy).code).toBe('INPUT_UNRECOGNIZED');
    expect(
      verify(new TextEncoder().encode(encodePem('PRIVATE KEY', Uint8Array.of(1, 2, 3))), policy).code,
    ).toBe('INPUT_UNRECOGNIZED');
  });

  it('input over the size limit', () => {
    expect(verify(new Uint8Array(300 * 1024).fill(0x30), policy).code).toBe('INPUT_TOO_LARGE');
  });

  it('decodeEvidence accepts DER certificates and DER CSRs as well as PEM', () => {
    expect(decodeEvidence(h.cop).kind).toBe('certificates');
    const pem = new TextDecoder().decode(csr(h));
    const body = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    expect(decodeEvidence(new Uint8Array(body)).kind).toBe('csr');
  });
});

describe('createVerifier', () => {
  it('refuses to be built without a policy (TypeError naming the option)', () => {
    expect(() => createVerifier(undefined as never)).toThrow(TypeError);
    expect(() => createVerifier({} as never)).toThrow(/policy/);
  });

  it('verifies a batch attestation, which names no serial', () => {
    const h = nativeHierarchy({ attestation: { token: { model: 'Gemalto .NET Card' } } });
    const v = verify(bundle(h), policyFor(h, { allow: [{ certificate: h.model.cert }] }));
    expect(v.accepted).toBe(true);
    expect(v.claims?.serial).toBeUndefined();
  });
});
