/**
 * `provenance verify` on raw tpm2-tools TPM2_Certify output in a PEM bundle (docs/tpm.md
 * "Raw TPM blobs"), end to end through the CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { encodePem } from '../../src/core/pem.js';
import { encodeTpm2bPublic } from '../../src/formats/tpm/encode.js';
import { NONCE, NOW, tpmEvidence, tpmPki } from '../formats/tpm/helpers.js';
import { runCli } from '../helpers/cli.js';

const pki = tpmPki();
const ev = tpmEvidence({ akKey: pki.akKey });
let dir: string;
const f = (name: string) => join(dir, name);
const run = (args: string[]) => runCli(args, { clock: () => NOW });

function bundle(o: { withAkCert?: boolean; withSignature?: boolean } = {}): string {
  return (
    encodePem('TPMS ATTEST', ev.certInfo) +
    (o.withSignature === false ? '' : encodePem('TPMT SIGNATURE', ev.signature)) +
    encodePem('TPM2B PUBLIC', encodeTpm2bPublic(ev.pubArea)) +
    (o.withAkCert === false ? '' : encodePem('CERTIFICATE', pki.akCert.der))
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'provenance-tpm-blobs-'));
  writeFileSync(f('ca.pem'), encodePem('CERTIFICATE', pki.ca.der));
  writeFileSync(f('bundle.pem'), bundle());
  writeFileSync(f('no-ak.pem'), bundle({ withAkCert: false }));
  writeFileSync(f('no-sig.pem'), bundle({ withSignature: false }));
  writeFileSync(
    f('certify.json'),
    JSON.stringify({
      tpmCertify: {
        attest: Buffer.from(ev.certInfo).toString('base64'),
        signature: Buffer.from(ev.signature).toString('base64'),
        public: Buffer.from(encodeTpm2bPublic(ev.pubArea)).toString('base64'),
      },
      certificates: [encodePem('CERTIFICATE', pki.akCert.der)],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (file: string, nonce: string, extra: string[] = []) =>
  run(['verify', f(file), '--trust', f('ca.pem'), '--format', 'tpm', '--nonce', nonce, '--json', ...extra]);

describe('provenance verify on raw TPM2_Certify blobs', () => {
  it('accepts the PEM bundle with the expected nonce: freshness nonce, the public area key attested', async () => {
    const r = await verify('bundle.pem', toHex(NONCE));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const text = await run([
      'verify',
      f('bundle.pem'),
      '--trust',
      f('ca.pem'),
      '--format',
      'tpm',
      '--nonce',
      toHex(NONCE),
    ]);
    expect(text.out).toMatch(/^ACCEPT/m);
    const v = JSON.parse(r.out);
    expect(v).toMatchObject({ accepted: true, code: 'ACCEPTED', format: 'tpm', freshness: 'nonce' });
    expect(v.claims).toMatchObject({ nonExportable: true, generatedOnDevice: true, keyAlgorithm: 'ec-p256' });
    expect(v.findings.some((x: { check: string }) => x.check === 'csr.signature')).toBe(false);
  });

  it('accepts the JSON file form', async () => {
    const r = await verify('certify.json', toHex(NONCE));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ accepted: true, format: 'tpm' });
  });

  it('without --nonce: accepted with freshness none and a warning that the nonce was not checked', async () => {
    const r = await run(['verify', f('bundle.pem'), '--trust', f('ca.pem'), '--format', 'tpm', '--json']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out);
    expect(v.freshness).toBe('none');
    expect(
      v.findings.some(
        (x: { check: string; severity?: string }) => x.check === 'nonce' && x.severity === 'warning',
      ),
    ).toBe(true);
  });

  it('rejects a wrong nonce with NONCE_MISMATCH', async () => {
    const r = await verify('bundle.pem', '00112233445566778899aabbccddeeff');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ accepted: false, code: 'NONCE_MISMATCH' });
  });

  it('rejects a bundle without the AK certificate with TPM_AK_NOT_BOUND', async () => {
    const r = await verify('no-ak.pem', toHex(NONCE));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ accepted: false, code: 'TPM_AK_NOT_BOUND' });
  });

  it('refuses a bundle missing the TPMT SIGNATURE block with INPUT_UNRECOGNIZED naming it', async () => {
    const r = await verify('no-sig.pem', toHex(NONCE));
    // Unreadable input is a usage error (exit 2), not a verdict.
    expect(r.code).toBe(2);
    expect(r.out + r.err).toContain('INPUT_UNRECOGNIZED');
    expect(r.out + r.err).toContain('TPMT SIGNATURE');
  });
});
