/**
 * checkMdsEntry: per-registration use of an imported BLOB (entry lookup, the entry's own roots,
 * deny statuses, compromised attestation keys, minimum level), over a generated BLOB.
 */
import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validatePath } from '../../../src/pki/path.js';
import { importMdsBlob } from '../../../src/trust/mds/blob.js';
import { attestationKeyIdentifier, checkMdsEntry } from '../../../src/trust/mds/decision.js';
import { indexMdsBlob } from '../../../src/trust/mds/entries.js';
import type { MdsIndex } from '../../../src/trust/mds/types.js';
import { ecKey, issue, type TestCert } from '../../helpers/pki.js';

const NOW = Date.UTC(2026, 5, 1);
const GOOD = '11111111-1111-4111-8111-111111111111';
const REVOKED = '22222222-2222-4222-8222-222222222222';
const OTHER_VENDOR = '33333333-3333-4333-8333-333333333333';
const COMPROMISED = '44444444-4444-4444-8444-444444444444';

const mdsRoot = issue({ subject: 'Test MDS Root', key: ecKey(), ca: {} });
const mdsSigner = issue({
  subject: 'Test MDS Signer',
  key: ecKey(),
  issuer: mdsRoot,
  keyUsage: ['digitalSignature'],
});
const vendorRoot = issue({ subject: 'Vendor Attestation Root', key: ecKey(), ca: {} });
const otherRoot = issue({ subject: 'Other Vendor Root', key: ecKey(), ca: {} });
const leaf = issue({ subject: 'Vendor Authenticator', key: ecKey(), issuer: vendorRoot });
const b64 = (c: TestCert) => Buffer.from(c.der).toString('base64');

function entry(aaguid: string, root: TestCert, reports: object[]) {
  return {
    aaguid,
    metadataStatement: { description: aaguid, attestationRootCertificates: [b64(root)] },
    statusReports: reports,
  };
}

function index(): MdsIndex {
  const body = {
    no: 1,
    nextUpdate: '2026-07-01',
    entries: [
      entry(GOOD, vendorRoot, [{ status: 'FIDO_CERTIFIED_L2', effectiveDate: '2025-01-01' }]),
      entry(REVOKED, vendorRoot, [{ status: 'REVOKED', effectiveDate: '2025-01-01' }]),
      entry(OTHER_VENDOR, otherRoot, [{ status: 'FIDO_CERTIFIED_L3', effectiveDate: '2025-01-01' }]),
      entry(COMPROMISED, vendorRoot, [
        { status: 'ATTESTATION_KEY_COMPROMISE', effectiveDate: '2025-01-01', certificate: b64(leaf) },
      ]),
      {
        attestationCertificateKeyIdentifiers: [attestationKeyIdentifier(leaf.cert)],
        metadataStatement: { description: 'U2F', attestationRootCertificates: [b64(vendorRoot)] },
        statusReports: [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2025-01-01' }],
      },
    ],
  };
  const header = { alg: 'ES256', typ: 'JWT', x5c: [b64(mdsSigner)] };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
  const sig = sign('sha256', Buffer.from(input), {
    key: mdsSigner.key.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return indexMdsBlob(
    importMdsBlob(`${input}.${sig.toString('base64url')}`, { roots: [mdsRoot.cert], time: NOW }),
  );
}

describe('checkMdsEntry', () => {
  const idx = index();
  const path = (aaguid: string) => {
    const anchors = idx.anchors(idx.byAaguid(aaguid)!);
    const v = validatePath(leaf.cert, { anchors, intermediates: [], time: NOW });
    return { path: v.certificates, anchorSpkiSha256: v.anchor.spkiSha256 };
  };

  it('accepts a certified model whose path ends at one of its own roots, with its level', () => {
    const d = checkMdsEntry(idx, { aaguid: GOOD, ...path(GOOD), minLevel: 2 });
    expect(d).toMatchObject({ ok: true, levelRank: 2 });
  });

  it('refuses a level below the required one, and an unknown model, with POLICY_NO_MATCH', () => {
    expect(checkMdsEntry(idx, { aaguid: GOOD, ...path(GOOD), minLevel: 3 })).toMatchObject({
      ok: false,
      code: 'POLICY_NO_MATCH',
    });
    expect(
      checkMdsEntry(idx, { aaguid: '99999999-9999-4999-8999-999999999999', ...path(GOOD) }),
    ).toMatchObject({
      ok: false,
      code: 'POLICY_NO_MATCH',
      entry: null,
    });
  });

  it("refuses a path that ends at another entry's root (no cross-vendor AAGUID spoofing)", () => {
    expect(checkMdsEntry(idx, { aaguid: OTHER_VENDOR, ...path(GOOD) })).toMatchObject({
      ok: false,
      code: 'PATH_NOT_FOUND',
    });
  });

  it('refuses a revoked model and a compromised attestation key with POLICY_DENIED', () => {
    expect(checkMdsEntry(idx, { aaguid: REVOKED, ...path(GOOD) })).toMatchObject({
      ok: false,
      code: 'POLICY_DENIED',
    });
    const d = checkMdsEntry(idx, { aaguid: COMPROMISED, ...path(GOOD) });
    expect(d).toMatchObject({ ok: false, code: 'POLICY_DENIED' });
    expect(d.ok ? '' : d.reason).toContain('Vendor Authenticator');
  });

  it('finds U2F entries by the attestation key identifier (SHA-1 of the subjectPublicKey)', () => {
    const d = checkMdsEntry(idx, { keyIdentifier: attestationKeyIdentifier(leaf.cert), ...path(GOOD) });
    expect(d).toMatchObject({ ok: true, levelRank: 1 });
    expect(attestationKeyIdentifier(leaf.cert)).toMatch(/^[0-9a-f]{40}$/);
  });
});
