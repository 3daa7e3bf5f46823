/**
 * importMdsBlob over every BLOB in ../shared/vectors/fido-mds at its pinned time: the two real
 * production BLOBs under GlobalSign Root R3, the conformance FAKE BLOB under its MDS3ROOT, the
 * MDS3 spec example under its root; wrong roots, tampering, rollback, staleness, CRLs.
 */
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
import { parseCrl, verifyCrl } from '../../../src/pki/crl.js';
import { type ImportMdsOptions, importMdsBlob, isProductionMdsRoot } from '../../../src/trust/mds/blob.js';
import { indexMdsBlob } from '../../../src/trust/mds/entries.js';
import type { MdsBlob } from '../../../src/trust/mds/types.js';
import {
  BLOBS,
  MDS_VECTORS,
  readVector,
  readVectorText,
  reportMissingVectors,
  vectorCertificate,
} from './vectors.js';

reportMissingVectors('MDS BLOB vector tests');

type BlobName = keyof typeof BLOBS;

function load(name: BlobName, overrides: Partial<ImportMdsOptions> = {}, jwt?: string): MdsBlob {
  const b = BLOBS[name];
  return importMdsBlob(jwt ?? readVectorText(b.file), {
    roots: [vectorCertificate(b.root)],
    time: b.time,
    ...overrides,
  });
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a ProvenanceError');
}

describe.skipIf(!MDS_VECTORS)('importMdsBlob with the shared MDS vectors', () => {
  it('verifies the production BLOB no 9 under GlobalSign Root R3 at 2021-11-15', () => {
    const blob = load('production9');
    expect(blob.no).toBe(9);
    expect(blob.nextUpdate).toBe('2021-12-01');
    expect(blob.algorithm).toBe('RS256');
    expect(blob.entries).toHaveLength(98);
    expect(blob.signer.subject).toContain('mds.fidoalliance.org');
    expect(blob.staleAllowed).toBeNull();
    expect(isProductionMdsRoot(vectorCertificate(BLOBS.production9.root))).toBe(true);
    expect(blob.root.spkiSha256).toBe(vectorCertificate(BLOBS.production9.root).spkiSha256);
  });

  it('verifies the production BLOB no 12 after no 9 and indexes YubiKey 5 by AAGUID and key identifier', () => {
    const blob = load('production12', { lastNo: 9 });
    expect(blob.no).toBe(12);
    expect(blob.entries).toHaveLength(101);
    const index = indexMdsBlob(blob);
    const yubikey = index.byAaguid('EE882879721C491397753DFCCE97072A');
    expect(yubikey?.description).toBe('YubiKey 5 Series');
    expect(yubikey?.status).toMatchObject({
      current: 'FIDO_CERTIFIED_L1',
      deny: false,
      level: 'FIDO_CERTIFIED_L1',
      levelRank: 1,
    });
    const anchors = index.anchors(yubikey!);
    expect(anchors.length).toBeGreaterThan(0);
    expect(anchors[0]).toMatchObject({
      id: 'mds:ee882879-721c-4913-9775-3dfcce97072a',
      formats: ['webauthn'],
    });
    expect(anchors[0]!.certificate?.subject.text).toContain('Yubico');
    const u2f = index.byKeyIdentifier('bf7bcaa0d0c6187a8c6abbdd16a15640e7c7bde2');
    expect(u2f?.description).toBe('YubiKey 5Ci');
    expect(index.anchors(u2f!)[0]?.id).toBe('mds:bf7bcaa0d0c6187a8c6abbdd16a15640e7c7bde2');
    expect(index.byAaid('4E4E#4005')?.aaid).toBe('4e4e#4005');
    expect(index.byAaguid('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('verifies the conformance FAKE BLOB (ES256, no 42) under its MDS3ROOT and reads its deny statuses', () => {
    const blob = load('conformance');
    expect(blob).toMatchObject({ no: 42, algorithm: 'ES256', nextUpdate: '2023-11-08' });
    expect(blob.entries).toHaveLength(200);
    const index = indexMdsBlob(blob);
    expect(index.byAaguid('8cfa178e-b1f5-40ce-8f5f-8273e8109940')?.status).toMatchObject({
      current: 'USER_VERIFICATION_BYPASS',
      deny: true,
      denyReason: 'USER_VERIFICATION_BYPASS',
      levelRank: 0,
    });
    expect(index.byAaguid('7061d58b-c22e-429b-a29b-c8bcc4857b40')?.status.denyReason).toBe(
      'USER_KEY_REMOTE_COMPROMISE',
    );
    expect(index.byAaguid('9533c442-6810-4d9c-a365-b13590bfe3b8')?.status.denyReason).toBe(
      'USER_KEY_PHYSICAL_COMPROMISE',
    );
    expect(index.byAaid('ffeb#fe0f')?.status.deny).toBe(true);
    const denied = blob.entries.filter((e) => e.status.deny).map((e) => e.status.denyReason);
    expect(new Set(denied)).toEqual(
      new Set([
        'USER_VERIFICATION_BYPASS',
        'USER_KEY_REMOTE_COMPROMISE',
        'USER_KEY_PHYSICAL_COMPROMISE',
        'ATTESTATION_KEY_COMPROMISE',
      ]),
    );
  });

  it('verifies the MDS3 spec example BLOB under its root only with an explicit stale allowance', () => {
    expect(codeOf(() => load('specExample'))).toBe('MDS_STALE');
    const blob = load('specExample', { allowStale: 'spec example, always past nextUpdate' });
    expect(blob).toMatchObject({
      no: 15,
      algorithm: 'ES256',
      staleAllowed: 'spec example, always past nextUpdate',
    });
    expect(blob.entries).toHaveLength(2);
  });

  it('rejects each BLOB under a root it does not chain to', () => {
    const r3 = BLOBS.production9.root;
    expect(codeOf(() => load('conformance', { roots: [vectorCertificate(r3)] }))).toBe('PATH_NOT_FOUND');
    expect(codeOf(() => load('production12', { roots: [vectorCertificate(BLOBS.conformance.root)] }))).toBe(
      'PATH_NOT_FOUND',
    );
    expect(codeOf(() => load('specExample', { roots: [vectorCertificate(r3)], allowStale: 'x' }))).toBe(
      'PATH_NOT_FOUND',
    );
  });

  it('rejects a BLOB whose payload was changed after signing', () => {
    const [h, p, s] = readVectorText(BLOBS.production12.file).trim().split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    payload.nextUpdate = '2099-01-01';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect(codeOf(() => load('production12', {}, forged))).toBe('SIGNATURE_INVALID');
  });

  it('rejects a BLOB with a cut signature', () => {
    const jwt = readVectorText(BLOBS.conformance.file).trim();
    expect(codeOf(() => load('conformance', {}, jwt.slice(0, -4)))).toBe('SIGNATURE_INVALID');
  });

  it('rejects a BLOB whose no goes backwards (rollback), and accepts the same no again', () => {
    expect(codeOf(() => load('production9', { lastNo: 12 }))).toBe('MDS_ROLLBACK');
    expect(load('production12', { lastNo: 12 }).no).toBe(12);
  });

  it('rejects a BLOB past nextUpdate, and honours a grace period or an explicit allowance', () => {
    const afterNext = Date.parse('2022-03-02T00:00:00Z');
    expect(codeOf(() => load('production12', { time: afterNext }))).toBe('MDS_STALE');
    expect(load('production12', { time: afterNext, graceMs: 3 * 86_400_000 }).staleAllowed).toBeNull();
    expect(load('production12', { time: afterNext, allowStale: 'offline test' }).staleAllowed).toBe(
      'offline test',
    );
  });

  it('rejects a BLOB whose signing certificate has expired, even with a stale allowance', () => {
    const afterLeaf = Date.parse('2022-06-01T00:00:00Z');
    expect(codeOf(() => load('production12', { time: afterLeaf, allowStale: 'x' }))).toBe(
      'PATH_CERT_EXPIRED',
    );
  });

  it('refuses CRLs of the chain that are not current at the BLOB time (GlobalSign CRLs of 2024)', () => {
    const crls = [readVector('webauthn4j/root-r3.crl'), readVector('webauthn4j/gsextendvalsha2g3r3.crl')];
    expect(codeOf(() => load('production9', { crls }))).toBe('CRL_INVALID');
  });

  it('reads the GlobalSign CRLs as signed by the chain of the production BLOB, not listing it', () => {
    const jwt = readVectorText(BLOBS.production9.file).trim();
    const x5c = JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).x5c as string[];
    const [leaf, ev] = x5c.map((c) => parseCertificate(new Uint8Array(Buffer.from(c, 'base64'))));
    const root = vectorCertificate(BLOBS.production9.root);
    const rootCrl = parseCrl(readVector('webauthn4j/root-r3.crl'));
    const evCrl = parseCrl(readVector('webauthn4j/gsextendvalsha2g3r3.crl'));
    verifyCrl(rootCrl, root);
    verifyCrl(evCrl, ev!);
    expect(rootCrl.isRevoked(ev!.serialHex)).toBeUndefined();
    expect(evCrl.isRevoked(leaf!.serialHex)).toBeUndefined();
  });
});
