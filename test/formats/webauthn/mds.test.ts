/**
 * WebAuthn with a FIDO MDS index: anchors come from the entry for the authenticator's own
 * AAGUID (or U2F key identifier) and nowhere else (standards digest §3.4, §9.5); the entry's
 * status is enforced; the MDS description becomes the model only when the chain ends at that
 * entry's roots. Generated BLOBs, then the real production BLOB with real attestations.
 */

import { sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWebauthnFormat } from '../../../src/formats/webauthn/index.js';
import { verifyWebauthnVector } from '../../../src/formats/webauthn/vectors.js';
import { policyFromOptions } from '../../../src/policy/from-options.js';
import { importMdsBlob } from '../../../src/trust/mds/blob.js';
import { attestationKeyIdentifier } from '../../../src/trust/mds/decision.js';
import { indexMdsBlob } from '../../../src/trust/mds/entries.js';
import type { MdsIndex } from '../../../src/trust/mds/types.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { ecKey, issue, type TestCert } from '../../helpers/pki.js';
import {
  BLOBS,
  MDS_VECTORS,
  readVectorText,
  reportMissingVectors,
  vectorCertificate,
} from '../../trust/mds/vectors.js';
import {
  AAGUID_A,
  AAGUID_B,
  aaguidBytes,
  attestationObject,
  authData,
  CHALLENGE,
  clientDataJSON,
  ORIGIN,
  packedBasic,
  RP_ID,
  registrationJson,
  u2f,
  type Vendor,
  vendor,
} from './builder.js';

const NOW = Date.UTC(2026, 5, 1);
const REVOKED = '22222222-2222-4222-8222-222222222222';
const b64 = (c: TestCert) => Buffer.from(c.der).toString('base64');

const vendorA = vendor({ name: 'Vendor A' });
/** A model MDS lists under another root, whose attestation certificate MDS reports compromised. */
const vendorC = vendor({ name: 'Vendor C' });
const AAGUID_C = '44444444-4444-4444-8444-444444444444';
const vendorB = vendor({ name: 'Vendor B' });
const u2fVendor = vendor({ name: 'U2F Vendor' });

function blob(): MdsIndex {
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
    no: 1,
    nextUpdate: '2026-07-01',
    entries: [
      entry(AAGUID_A, vendorA.root, 'Vendor A Key', 'FIDO_CERTIFIED_L2'),
      entry(AAGUID_B, vendorB.root, 'Vendor B Key', 'FIDO_CERTIFIED_L1'),
      entry(REVOKED, vendorA.root, 'Vendor A Revoked Key', 'REVOKED'),
      {
        aaguid: AAGUID_C,
        metadataStatement: { description: 'Vendor C Key', attestationRootCertificates: [b64(vendorB.root)] },
        statusReports: [
          { status: 'FIDO_CERTIFIED_L1', effectiveDate: '2025-01-01' },
          {
            status: 'ATTESTATION_KEY_COMPROMISE',
            effectiveDate: '2025-06-01',
            certificate: b64(vendorC.leaf),
          },
        ],
      },
      {
        attestationCertificateKeyIdentifiers: [attestationKeyIdentifier(u2fVendor.leaf.cert)],
        metadataStatement: { description: 'U2F Key', attestationRootCertificates: [b64(u2fVendor.root)] },
        statusReports: [{ status: 'FIDO_CERTIFIED', effectiveDate: '2025-01-01' }],
      },
    ],
  };
  const header = { alg: 'ES256', typ: 'JWT', x5c: [b64(signer)] };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
  const sig = sign('sha256', Buffer.from(input), { key: signer.key.privateKey, dsaEncoding: 'ieee-p1363' });
  return indexMdsBlob(
    importMdsBlob(`${input}.${sig.toString('base64url')}`, { roots: [mdsRoot.cert], time: NOW }),
  );
}

const mds = blob();

function registration(v: Vendor, aaguid: string) {
  const cred = ecKey();
  const cdj = clientDataJSON();
  const ad = authData({ aaguid: aaguidBytes(aaguid) }, cred);
  return registrationJson(attestationObject('packed', packedBasic(ad, cdj, v), ad), cdj);
}

function verify(json: Uint8Array, trust: TestCert[] = []) {
  const verifier = createVerifier({
    policy: policyFromOptions({ trust: trust.map((t) => t.cert), formats: ['webauthn'] }),
    formats: [createWebauthnFormat()],
    mds,
  });
  return verifier.verifyBytes(json, {
    at: NOW,
    webauthn: { challenge: CHALLENGE, origin: ORIGIN, rpId: RP_ID },
  });
}

describe('WebAuthn anchors from MDS', () => {
  it("accepts a chain to the AAGUID's own entry roots, with the MDS model and status", () => {
    const verdict = verify(registration(vendorA, AAGUID_A));
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims).toMatchObject({ model: 'Vendor A Key', mdsStatus: 'FIDO_CERTIFIED_L2' });
    expect(verdict.path.at(-1)?.anchor).toBe(`mds:${AAGUID_A}`);
  });

  it('warns, without rejecting, when the index is past its nextUpdate at verification time', () => {
    const current = verify(registration(vendorA, AAGUID_A));
    expect(current.findings.some((f) => f.check === 'mds.current')).toBe(false);
    const verifier = createVerifier({
      policy: policyFromOptions({ trust: [], formats: ['webauthn'] }),
      formats: [createWebauthnFormat()],
      mds,
    });
    const late = verifier.verifyBytes(registration(vendorA, AAGUID_A), {
      at: Date.UTC(2026, 6, 2),
      webauthn: { challenge: CHALLENGE, origin: ORIGIN, rpId: RP_ID },
    });
    const stale = late.findings.find((f) => f.check === 'mds.current');
    expect(stale?.severity).toBe('warning');
    expect(stale?.message).toContain('due for replacement on 2026-07-01');
  });

  it('refuses an attestation key MDS reports compromised even when a policy anchor vouches for the chain', () => {
    const verdict = verify(registration(vendorC, AAGUID_C), [vendorC.root]);
    expect(verdict.code).toBe('POLICY_DENIED');
    expect(verdict.message).toContain('compromised');
  });

  it("refuses a vendor A certificate claiming vendor B's AAGUID (no cross-vendor spoofing)", () => {
    const verdict = verify(registration(vendorA, AAGUID_B));
    expect(verdict.accepted).toBe(false);
    expect(verdict.code).toBe('PATH_NOT_FOUND');
  });

  it('a policy anchor may still vouch for the chain, but the MDS model is not claimed', () => {
    const verdict = verify(registration(vendorA, AAGUID_B), [vendorA.root]);
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims?.model).toBeUndefined();
  });

  it('refuses a revoked model with POLICY_DENIED, whatever anchor the path reached', () => {
    expect(verify(registration(vendorA, REVOKED)).code).toBe('POLICY_DENIED');
    expect(verify(registration(vendorA, REVOKED), [vendorA.root]).code).toBe('POLICY_DENIED');
  });

  it('an unknown AAGUID without policy anchors fails closed (TRUST_NO_ANCHORS)', () => {
    expect(verify(registration(vendorA, '33333333-3333-4333-8333-333333333333')).code).toBe(
      'TRUST_NO_ANCHORS',
    );
  });

  it('finds U2F models by attestation certificate key identifier', () => {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const id = new Uint8Array(32).fill(9);
    const ad = authData({ aaguid: new Uint8Array(16), credentialId: id }, cred);
    const verdict = verify(
      registrationJson(attestationObject('fido-u2f', u2f(cdj, u2fVendor, cred, id), ad), cdj),
    );
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims?.model).toBe('U2F Key');
  });
});

reportMissingVectors('WebAuthn with the production MDS BLOB');

describe.skipIf(!MDS_VECTORS)('real production MDS BLOB (no=12, 2022-02)', () => {
  const WEBAUTHN = new URL('../../../../shared/vectors/webauthn/', import.meta.url);
  const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(name, WEBAUTHN), 'utf8'));
  const index = () =>
    indexMdsBlob(
      importMdsBlob(readVectorText(BLOBS.production12.file), {
        roots: [vectorCertificate(BLOBS.production12.root)],
        time: BLOBS.production12.time,
      }),
    );

  it("a real YubiKey packed attestation validates to its entry's Yubico root: model 'Security Key by Yubico with NFC'", () => {
    const r = verifyWebauthnVector(
      fixture('py_webauthn/packed__verify_attestation_from_yubikey_firefox.json'),
      {
        trust: [],
        mds: index(),
        at: BLOBS.production12.time,
      },
    );
    expect(r.verdict.code).toBe('ACCEPTED');
    expect(r.verdict.claims).toMatchObject({
      model: 'Security Key by Yubico with NFC',
      aaguid: '6d44ba9b-f6ec-2e49-b930-0c8fe920cb73',
      mdsStatus: 'FIDO_CERTIFIED_L1',
    });
  });

  it("a virtual authenticator claiming Windows Hello's AAGUID does not validate to Microsoft's roots", () => {
    // go-webauthn's GramThanos fixture: UNIPI's virtual authenticator with AAGUID 08987058-…
    // (Windows Hello Hardware Authenticator in MDS) under its own UNIPI CA.
    const r = verifyWebauthnVector(fixture('go-webauthn/ShouldVerifyPackedAttestationGramThanos.json'), {
      trust: [],
      mds: index(),
      at: Date.parse('2022-02-15T00:00:00Z'),
    });
    expect(r.verdict.accepted).toBe(false);
    expect(r.verdict.code).toBe('PATH_NOT_FOUND');
    expect(r.verdict.claims?.model).toBeUndefined();
  });
});
