/**
 * A generated FIDO MDS index written to a directory, as `provenance mds import --out DIR`
 * writes it: a test MDS root signs a BLOB whose entries name the test vendors' roots.
 */
import { sign } from 'node:crypto';
import { importMdsBlob } from '../../src/trust/mds/blob.js';
import { saveMdsIndex } from '../../src/trust/mds/index-file.js';
import type { MdsBlob } from '../../src/trust/mds/types.js';
import { AAGUID_A, AAGUID_B, vendor } from '../formats/webauthn/builder.js';
import { ecKey, issue, type TestCert } from '../helpers/pki.js';

/** The instant the generated BLOB is imported and verified at (before its nextUpdate). */
export const MDS_NOW = Date.UTC(2026, 5, 1);
/** Vendor A's model (AAGUID_A) is certified L2, vendor B's (AAGUID_B) L1. */
export const vendorA = vendor({ name: 'Vendor A' });
export const vendorB = vendor({ name: 'Vendor B' });

const b64 = (c: TestCert) => Buffer.from(c.der).toString('base64');

/** PEM text of a test certificate. */
export function pem(c: TestCert): string {
  const body = b64(c).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

/** Sign, import and save a BLOB numbered `no` into `dir`; returns the imported BLOB. */
export function writeMdsIndex(dir: string, no = 1): MdsBlob {
  const mdsRoot = issue({ subject: 'Test MDS Root', key: ecKey(), ca: {} });
  const signer = issue({
    subject: 'Test MDS Signer',
    key: ecKey(),
    issuer: mdsRoot,
    keyUsage: ['digitalSignature'],
  });
  const entry = (aaguid: string, root: TestCert, description: string, status: string) => ({
    aaguid,
    metadataStatement: { description, attestationRootCertificates: [b64(root)] },
    statusReports: [{ status, effectiveDate: '2025-01-01' }],
  });
  const body = {
    no,
    nextUpdate: '2026-07-01',
    entries: [
      entry(AAGUID_A, vendorA.root, 'Vendor A Key', 'FIDO_CERTIFIED_L2'),
      entry(AAGUID_B, vendorB.root, 'Vendor B Key', 'FIDO_CERTIFIED_L1'),
    ],
  };
  const header = { alg: 'ES256', typ: 'JWT', x5c: [b64(signer)] };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
  const sig = sign('sha256', Buffer.from(input), { key: signer.key.privateKey, dsaEncoding: 'ieee-p1363' });
  const jwt = `${input}.${sig.toString('base64url')}`;
  const blob = importMdsBlob(jwt, { roots: [mdsRoot.cert], time: MDS_NOW });
  saveMdsIndex(dir, blob, jwt, MDS_NOW);
  return blob;
}
