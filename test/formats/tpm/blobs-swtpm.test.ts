/**
 * Raw tpm2-tools TPM2_Certify output from a software TPM (swtpm): the files a user has
 * (attest.out, sig.out in tpm2-tools' default TSS format, key.pub as TPM2B_PUBLIC) go into a
 * PEM bundle with an AK certificate our test CA issues for the TPM's real AK, and through
 * decodeEvidence and the `tpm` format (docs/tpm.md "Raw TPM blobs").
 *
 * tpm2-tools < 5.5 has no `tpm2_certify -q`, so its output carries the default qualifying data
 * 00ff55aa and must be refused; with -q the bundle is accepted.
 *
 * Needs swtpm and tpm2-tools: skipped with the reason locally, a failure in CI.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesEqual, toHex } from '../../../src/core/bytes.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { OID } from '../../../src/core/oids.js';
import { encodePem } from '../../../src/core/pem.js';
import { readTpmPublicArea } from '../../../src/formats/tpm/credential.js';
import { tpmFormat } from '../../../src/formats/tpm/index.js';
import { parseTpmtSignature, verifyTpmSignature } from '../../../src/formats/tpm/structures.js';
import { decodeEvidence } from '../../../src/verify/input.js';
import { ecKey, issue } from '../../helpers/pki.js';
import { needSwtpm, type Swtpm, startSwtpm } from '../../helpers/swtpm.js';
import { needTool } from '../../helpers/tools.js';
import { san, tpmDirectoryName } from './helpers.js';

function tool(tpm: Swtpm, args: string[]): string {
  const [cmd, ...rest] = args;
  const run = spawnSync(cmd ?? '', rest, {
    cwd: tpm.dir,
    encoding: 'utf8',
    env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  // No resource manager in front of swtpm: flush transient objects after each tool.
  if (cmd !== 'tpm2_flushcontext') tool(tpm, ['tpm2_flushcontext', '-t']);
  return run.stdout;
}

/** tpm2_certify takes -q (qualifying data) from tpm2-tools 5.5 on. */
function certifyTakesQualifyingData(): boolean {
  const help = spawnSync('tpm2_certify', ['-h'], { encoding: 'utf8', timeout: 10_000 });
  return /--qualification/.test(`${help.stdout}${help.stderr}`);
}

function codeAndMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'ok';
}

describe('raw tpm2-tools TPM2_Certify output (swtpm)', () => {
  it('decodes attest.out, sig.out and key.pub; the 00ff55aa default is refused, a -q nonce accepted', async (ctx) => {
    needSwtpm(ctx);
    needTool(ctx, 'tpm2_certify', ['-v']);
    const tpm = await startSwtpm();
    try {
      tool(tpm, ['tpm2_createek', '-c', 'ek.ctx', '-G', 'ecc', '-u', 'ek.pub']);
      tool(tpm, [
        'tpm2_createak',
        '-C',
        'ek.ctx',
        '-c',
        'ak.ctx',
        '-G',
        'ecc',
        '-g',
        'sha256',
        '-s',
        'ecdsa',
        '-u',
        'ak.pub',
      ]);
      tool(tpm, ['tpm2_createprimary', '-C', 'o', '-G', 'ecc', '-c', 'srk.ctx']);
      tool(tpm, [
        'tpm2_create',
        '-C',
        'srk.ctx',
        '-G',
        'ecc256:ecdsa-sha256',
        '-a',
        'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign',
        '-u',
        'key.pub',
        '-r',
        'key.priv',
      ]);
      tool(tpm, ['tpm2_load', '-C', 'srk.ctx', '-u', 'key.pub', '-r', 'key.priv', '-c', 'key.ctx']);
      const nonce = new Uint8Array(randomBytes(16));
      const withNonce = certifyTakesQualifyingData();
      tool(tpm, [
        'tpm2_certify',
        '-c',
        'key.ctx',
        '-C',
        'ak.ctx',
        '-g',
        'sha256',
        '-o',
        'attest.out',
        '-s',
        'sig.out',
        ...(withNonce ? ['-q', toHex(nonce)] : []),
      ]);

      // An AK certificate for the TPM's real AK, under a test CA, with the TCG AK profile.
      const akSpki = readTpmPublicArea(readFileSync(join(tpm.dir, 'ak.pub'))).spki;
      const ca = issue({ subject: 'TPM Test CA', key: ecKey(), ca: {} });
      const akCert = issue({
        subject: new Uint8Array([0x30, 0x00]),
        // Only the public key goes into the certificate; the CA signs.
        key: { privateKey: ca.key.privateKey, spki: akSpki },
        issuer: ca,
        notCa: true,
        keyUsage: ['digitalSignature'],
        extKeyUsage: [OID.tcgKpAikCertificate],
        extensions: [{ oid: OID.subjectAltName, critical: true, value: san(tpmDirectoryName()) }],
      });

      const file = (f: string) => new Uint8Array(readFileSync(join(tpm.dir, f)));
      const bundle = new TextEncoder().encode(
        encodePem('TPMS ATTEST', file('attest.out')) +
          encodePem('TPMT SIGNATURE', file('sig.out')) +
          encodePem('TPM2B PUBLIC', file('key.pub')) +
          encodePem('CERTIFICATE', akCert.der),
      );
      const input = decodeEvidence(bundle);
      if (input.kind !== 'tpm-certify') throw new Error(`decoded as ${input.kind}`);
      // sig.out is a TPMT_SIGNATURE by the real AK over attest.out.
      expect(verifyTpmSignature(parseTpmtSignature(input.signature), input.attest, akSpki)).toBe(true);

      if (!withNonce) {
        expect(codeAndMessage(() => tpmFormat.verify(input, {}))).toMatch(/^NONCE_MISMATCH: .*00ff55aa/);
        ctx.annotate(
          'tpm2_certify has no -q here (tpm2-tools < 5.5): only the refusal of 00ff55aa is checked',
        );
        return;
      }
      const r = tpmFormat.verify(input, { expectedNonce: nonce });
      expect(r.freshnessKind).toBe('nonce');
      expect(r.csrVerified).toBe(false);
      expect(bytesEqual(r.attestedKey, readTpmPublicArea(file('key.pub')).spki)).toBe(true);
      expect(r.claims).toMatchObject({ nonExportable: true, generatedOnDevice: true });
    } finally {
      await tpm.stop();
    }
  }, 60_000);
});
