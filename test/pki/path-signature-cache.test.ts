/**
 * The verified-signature memo in KeyCache: a batch attestation certificate shared by many
 * devices has its issuer's signature checked once per cache, and nothing but an exact repeat
 * (same certificate bytes, same key, same policy) is ever answered from it.
 */
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/pki/certificate.js';
import { KeyCache } from '../../src/pki/keys.js';
import { validatePath } from '../../src/pki/path.js';
import { anchor, ecKey, issue } from '../helpers/pki.js';

const T = Date.UTC(2026, 0, 1);

/** A KeyCache that counts how often path validation asks it for a remembered success. */
class CountingCache extends KeyCache {
  hits = 0;
  override hasVerified(id: string): boolean {
    const hit = super.hasVerified(id);
    if (hit) this.hits++;
    return hit;
  }
}

describe('validatePath with a shared KeyCache: verified signatures', () => {
  const root = issue({ subject: 'Batch Root', key: ecKey(), ca: {} });
  const batch = issue({ subject: 'Batch 7', key: ecKey(), issuer: root, ca: { pathLen: 0 } });
  const leafA = issue({ subject: 'Device A', key: ecKey(), issuer: batch, keyUsage: ['digitalSignature'] });
  const leafB = issue({ subject: 'Device B', key: ecKey(), issuer: batch, keyUsage: ['digitalSignature'] });
  const anchors = [anchor(root, 'root')];

  it('checks the batch certificate once; each device certificate is still checked', () => {
    const cache = new CountingCache();
    validatePath(leafA.cert, { anchors, intermediates: [batch.cert], time: T, cache });
    expect(cache.hits).toBe(0);
    validatePath(leafB.cert, { anchors, intermediates: [batch.cert], time: T, cache });
    expect(cache.hits).toBe(1); // the batch CA's certificate, by the root: remembered
    validatePath(leafB.cert, { anchors, intermediates: [batch.cert], time: T, cache });
    expect(cache.hits).toBe(3); // now both
  });

  it('never answers a certificate with a flipped signature byte from the memo', () => {
    const cache = new KeyCache();
    validatePath(leafA.cert, { anchors, intermediates: [batch.cert], time: T, cache });
    const der = new Uint8Array(leafA.der);
    der[der.length - 3] = (der[der.length - 3]! ^ 0x01) & 0xff;
    let code: string | undefined;
    try {
      validatePath(parseCertificate(der), { anchors, intermediates: [batch.cert], time: T, cache });
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toMatch(/PATH_SIGNATURE_INVALID|DER_|SIGNATURE/);
  });

  it('does not carry a success over to another issuer key with the same name', () => {
    const cache = new KeyCache();
    validatePath(leafA.cert, { anchors, intermediates: [batch.cert], time: T, cache });
    const impostor = issue({ subject: 'Batch 7', key: ecKey(), issuer: root, ca: { pathLen: 0 } });
    let code: string | undefined;
    try {
      validatePath(leafA.cert, { anchors, intermediates: [impostor.cert], time: T, cache });
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('PATH_SIGNATURE_INVALID');
  });
});

describe('the memo is per signature policy', () => {
  it('a SHA-1 signature verified under a lenient policy is refused again under the default one', async () => {
    const { DEFAULT_SIGNATURE_POLICY } = await import('../../src/pki/signature.js');
    const root = issue({ subject: 'Old Root', key: ecKey(), ca: {} });
    const leaf = issue({
      subject: 'Old Device',
      key: ecKey(),
      issuer: root,
      keyUsage: ['digitalSignature'],
      hash: 'sha1',
    });
    const anchors = [anchor(root, 'old')];
    const cache = new KeyCache();
    const lenient = { ...DEFAULT_SIGNATURE_POLICY, allowSha1: true };
    validatePath(leaf.cert, { anchors, intermediates: [], time: T, cache, signaturePolicy: lenient });
    let code: string | undefined;
    try {
      validatePath(leaf.cert, { anchors, intermediates: [], time: T, cache });
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('ALGORITHM_NOT_ALLOWED');
  });
});
