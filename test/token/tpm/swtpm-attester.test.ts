/**
 * The TPM driver against a real software TPM (swtpm + tpm2-tools): EK certificate, AK,
 * credential activation with tpm2_makecredential as the service side, keys, certify with the
 * nonce, and a CSR whose signature and statement check out.
 */

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../../../src/core/oids.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
import { parseCsr, verifyCsrSignature } from '../../../src/pki/csr.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { createTpmAttester, type TpmAttester } from '../../../src/token/tpm/index.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { needSwtpm, type Swtpm, startSwtpm } from '../../helpers/swtpm.js';
import { hasTool } from '../../helpers/tools.js';

const available = hasTool('swtpm', ['--version']) && hasTool('tpm2_createek', ['--version']);

describe('TPM attester on swtpm', () => {
  let tpm: Swtpm | null = null;
  let dir = '';
  let attester: TpmAttester;

  beforeAll(async () => {
    if (!available) return;
    tpm = await startSwtpm();
    dir = mkdtempSync(join(tmpdir(), 'provenance-tpm-state-'));
    attester = createTpmAttester({ tcti: tpm.tcti, stateDir: dir });
  }, 30_000);
  afterAll(async () => {
    await tpm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the EK certificate the local CA issued', async (ctx) => {
    needSwtpm(ctx);
    const { ekCertificate, ekPublic } = await attester.endorsement();
    const cert = parseCertificate(ekCertificate);
    expect(cert.issuer.text).toContain('swtpm-localca');
    expect(ekPublic[0]).toBe(0x00);
    expect(ekPublic[1]).toBe(0x01); // TPM_ALG_RSA
  });

  it('activates a credential made for its AK (tpm2_makecredential as the service)', async (ctx) => {
    needSwtpm(ctx);
    const ak = await attester.attestationKey();
    expect(ak.akName.length).toBe(34);
    // restricted|sign|fixedtpm|fixedparent|sensitivedataorigin|userwithauth (standards §2.2)
    expect(Buffer.from(ak.akPublic.subarray(4, 8)).readUInt32BE(0)).toBe(0x00050072);
    const secret = randomBytes(32);
    writeFileSync(join(dir, 'svc-secret'), secret);
    const mk = spawnSync(
      'tpm2_makecredential',
      [
        '-T',
        'none',
        '-u',
        'ek.pub',
        '-s',
        'svc-secret',
        '-n',
        Buffer.from(ak.akName).toString('hex'),
        '-o',
        'svc-cred',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(mk.status, mk.stderr).toBe(0);
    const file = readFileSync(join(dir, 'svc-cred'));
    const n1 = file.readUInt16BE(8);
    const blob = file.subarray(8, 10 + n1);
    const enc = file.subarray(10 + n1);
    const got = await attester.activateCredential(blob, enc);
    expect(Buffer.from(got).equals(secret)).toBe(true);
  }, 30_000);

  for (const algorithm of ['p256', 'rsa2048'] as const) {
    it(`makes a ${algorithm} key and a CSR carrying the certify statement bound to the nonce`, async (ctx) => {
      needSwtpm(ctx);
      const label = `app-${algorithm}`;
      const key = await attester.generateKey({ label, algorithm, pinPolicy: 'never', touchPolicy: 'never' });
      const nonce = randomBytes(32);
      const der = await attester.signCsr({ label, subject: 'CN=placeholder', nonce });
      const csr = parseCsr(der);
      verifyCsrSignature(csr);
      expect(Buffer.from(csr.spki).equals(Buffer.from(key.spki))).toBe(true);
      expect(csr.attestation?.statements[0]?.type).toBe(OID.tcgAttestTpmCertify);
      expect(Buffer.from(csr.nonce!).equals(nonce)).toBe(true);
      // TPMS_ATTEST: magic, type CERTIFY, then qualifiedSigner, then extraData = the nonce.
      const c = await attester.certify(label, nonce);
      const a = Buffer.from(c.attest);
      expect(a.readUInt32BE(0)).toBe(0xff544347);
      expect(a.readUInt16BE(4)).toBe(0x8017);
      const qs = a.readUInt16BE(6);
      const extraLen = a.readUInt16BE(8 + qs);
      expect(a.subarray(10 + qs, 10 + qs + extraLen).equals(nonce)).toBe(true);
      expect((await attester.listKeys()).map((k) => k.label)).toContain(label);
    }, 60_000);
  }

  it("the driver's CSR passes the tpm format with its AK as a bound key, and not without it", async (ctx) => {
    needSwtpm(ctx);
    const label = 'verified';
    await attester.generateKey({ label, algorithm: 'p256', pinPolicy: 'never', touchPolicy: 'never' });
    const nonce = randomBytes(32);
    const der = await attester.signCsr({ label, subject: 'CN=placeholder', nonce });
    const { ekCertificate } = await attester.endorsement();
    const ak = await attester.attestationKey();
    writeFileSync(join(dir, 'root.pem'), tpm!.caRootPem);
    const policy = parsePolicy(
      'version: 1\ntrust:\n  - id: swtpm\n    certificates: [./root.pem]\n    formats: [tpm]\nrequire:\n  freshness: nonce\n  generatedOnDevice: true\n  nonExportable: true\n',
      { source: 'test', baseDir: dir },
    );
    const verifier = createVerifier({ policy });
    const intermediate = parseCertificate(pemDer(tpm!.caCerts[0]!));
    const boundKeys = [
      {
        id: 'binding-1',
        via: 'credential-activation' as const,
        name: ak.akName,
        publicArea: ak.akPublic,
        certificates: [parseCertificate(ekCertificate), intermediate],
        boundAt: new Date().toISOString(),
      },
    ];
    const ok = verifier.verify({ kind: 'csr', csr: parseCsr(der), certificates: [] }, { nonce, boundKeys });
    expect(ok.accepted, JSON.stringify(ok, null, 1)).toBe(true);
    expect(ok.format).toBe('tpm');
    // key → AK (activated) → EK certificate → swtpm-localca → swtpm-localca-rootca (anchor).
    expect(ok.path.map((e) => [e.role, e.subject])).toEqual([
      ['attested-key', null],
      ['attestation-key', 'TPM AK (credential activation, binding binding-1)'],
      ['intermediate', 'CN=unknown'],
      ['intermediate', 'CN=swtpm-localca'],
      ['root', 'CN=swtpm-localca-rootca'],
    ]);
    const unbound = verifier.verify({ kind: 'csr', csr: parseCsr(der), certificates: [] }, { nonce });
    expect(unbound.code).toBe('TPM_AK_NOT_BOUND');
  }, 60_000);
});

function pemDer(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}
