/**
 * Additional paths (a cloud HSM's owner chain beside the manufacturer chain): each must
 * validate to its own anchor key, may be pinned to given keys, and is checked for revocation.
 */
import { describe, expect, it } from 'vitest';
import { encodePem } from '../../src/core/pem.js';
import type { AttestationFormat, FormatResult } from '../../src/formats/types.js';
import { parsePolicy } from '../../src/policy/load.js';
import { createVerifier } from '../../src/verify/verifier.js';
import { ecKey, issue } from '../helpers/pki.js';

const NOW = Date.UTC(2026, 0, 1);
const rootA = issue({ subject: 'Maker Root', key: ecKey(), ca: {} });
const leafA = issue({ subject: 'Maker Card', key: ecKey(), issuer: rootA, keyUsage: ['digitalSignature'] });
const rootB = issue({ subject: 'Owner Root', key: ecKey(), ca: {} });
const leafB = issue({
  subject: 'Owner Partition',
  key: ecKey(),
  issuer: rootB,
  keyUsage: ['digitalSignature'],
});

function stub(anchorKeys?: readonly string[]): AttestationFormat {
  return {
    id: 'cloud-hsm',
    detect: () => true,
    verify(): FormatResult {
      return {
        format: 'cloud-hsm',
        attestedKey: ecKey().spki,
        signerChain: [leafA.cert],
        claims: { keyAlgorithm: 'ec-p256' },
        freshness: null,
        freshnessKind: 'none',
        quirks: [],
        csrVerified: false,
        additionalPaths: [
          { label: 'owner', leaf: leafB.cert, intermediates: [], ...(anchorKeys ? { anchorKeys } : {}) },
        ],
      };
    },
  };
}

function policy(revokedSerial?: string) {
  const files: Record<string, string> = {
    '/p/a.pem': encodePem('CERTIFICATE', rootA.der),
    '/p/b.pem': encodePem('CERTIFICATE', rootB.der),
    '/p/status.json': JSON.stringify({
      entries: revokedSerial ? { [revokedSerial]: { status: 'REVOKED' } } : {},
    }),
  };
  const yaml =
    'version: 1\ntrust:\n  - id: maker\n    certificates: [a.pem]\n    formats: [cloud-hsm]\n' +
    '  - id: owner\n    certificates: [b.pem]\n    formats: [cloud-hsm]\n    statusList: ./status.json\n';
  return parsePolicy(yaml, {
    source: 'p.yaml',
    baseDir: '/p',
    readFile: (p) => new TextEncoder().encode(files[p]!),
  });
}

const input = { kind: 'certificates' as const, certificates: [leafA.cert] };

describe('verifier: additional paths', () => {
  it('accepts when both paths validate to different anchor keys', () => {
    const v = createVerifier({ policy: policy(), formats: [stub()] }).verify(input, { at: NOW });
    expect(v.code).toBe('ACCEPTED');
    expect(v.findings.find((f) => f.check === 'path.additional')?.ok).toBe(true);
  });

  it('checks the additional path for revocation under its own anchor', () => {
    const serial = leafB.cert.serialHex.replace(/^0+/, '').toLowerCase();
    const v = createVerifier({ policy: policy(serial), formats: [stub()] }).verify(input, { at: NOW });
    expect(v.accepted).toBe(false);
    expect(v.code).toMatch(/REVOKED/);
  });

  it('holds the additional path to its pinned anchor keys', () => {
    const pinned = createVerifier({ policy: policy(), formats: [stub([rootB.cert.spkiSha256])] });
    expect(pinned.verify(input, { at: NOW }).code).toBe('ACCEPTED');
    const elsewhere = createVerifier({ policy: policy(), formats: [stub(['00'.repeat(32)])] });
    expect(elsewhere.verify(input, { at: NOW }).code).toBe('TRUST_NO_ANCHORS');
  });
});
