/**
 * Claims of a hardware-backed key come from the hardware-enforced list only: a value only the
 * software list states (which the app or a hooked framework controls) is not claimed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import { claimsFromDescription } from '../../../src/formats/android-key/index.js';
import { parseKeyDescription } from '../../../src/formats/android-key/key-description.js';
import { authList, intSet, keyDescription, rootOfTrust } from './build.js';

const spki = new Uint8Array(
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }),
);

describe('android-key claims', () => {
  it('a TEE key with origin, purposes and patch level only in the software list claims none of them', () => {
    const hardware = authList([2, der.int(3)], [3, der.int(256)], [704, rootOfTrust(true, 0)]);
    const software = authList([1, intSet(2)], [702, der.int(0)], [706, der.int(202412)]);
    const kd = parseKeyDescription(keyDescription({ hardware, software }));
    const claims = claimsFromDescription(kd, spki, 'factory');
    expect(claims.securityLevel).toBe('tee');
    expect(claims['origin']).toBeUndefined();
    expect(claims.keyPurposes).toBeUndefined();
    expect(claims['osPatchLevel']).toBeUndefined();
    expect(claims.generatedOnDevice).toBe(false);
  });

  it('a software key reads both lists (it has nothing better), and claims no hardware properties', () => {
    const hardware = authList();
    const software = authList([1, intSet(2)], [702, der.int(0)], [706, der.int(202412)]);
    const kd = parseKeyDescription(
      keyDescription({ hardware, software, attestationSecurityLevel: 0, keyMintSecurityLevel: 0 }),
    );
    const claims = claimsFromDescription(kd, spki, 'factory');
    expect(claims.securityLevel).toBe('software');
    expect(claims['origin']).toBe('generated');
    expect(claims['osPatchLevel']).toBe(202412);
    expect(claims.nonExportable).toBe(false);
    expect(claims.generatedOnDevice).toBe(false);
  });
});
