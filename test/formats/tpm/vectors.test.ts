/**
 * Real TPM vectors from ../shared/vectors/tpm (read in place, MANIFEST.md section 4):
 * the six Windows Hello TPM2_Certify samples at the structure and signature level, their AIK
 * chains to the Microsoft TPM Root CA 2014 with the AK profile check, the Infineon SLB 9670 EK
 * certificate (and its corrupted twin), the GCE vTPM EK/AK certificates, and every EK CA.
 * Skips with a printed reason when the vectors are absent, except in CI.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromHex, toHex } from '../../../src/core/bytes.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { decodePem } from '../../../src/core/pem.js';
import {
  checkAkCertificate,
  checkEkCertificate,
  inspectTpmCertificate,
} from '../../../src/formats/tpm/certificates.js';
import { tpmFormat } from '../../../src/formats/tpm/index.js';
import {
  parseTpmsAttest,
  parseTpmtPublic,
  TPM_ALG,
  TPM_GENERATED_VALUE,
  TPM_ST,
  type TpmtSignature,
  tpmName,
  unwrapTpm2bPublic,
  verifyTpmSignature,
} from '../../../src/formats/tpm/structures.js';
import { anchorFromCertificate } from '../../../src/pki/anchor.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';
import { validatePath } from '../../../src/pki/path.js';
import { DEFAULT_SIGNATURE_POLICY } from '../../../src/pki/signature.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const TPM = join(VECTORS, 'tpm');
const available = existsSync(join(VECTORS, 'MANIFEST.md')) && existsSync(TPM);
const DAY = 86_400_000;
/** MANIFEST: EK/CA rows are valid at this pinned instant (Infineon EK 2015..2030, GCE 2022..2052). */
const PINNED = Date.UTC(2026, 5, 1);

if (!available) {
  const reason = `TPM vectors not found in ${TPM}`;
  if (process.env.CI === 'true') {
    it('has the TPM vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping real TPM vector tests: ${reason}`);
  }
}

function certs(...parts: string[]): Certificate[] {
  const bytes = readFileSync(join(TPM, ...parts));
  if (!bytes.includes('-----BEGIN')) return [parseCertificate(new Uint8Array(bytes))];
  return decodePem(bytes.toString('utf8'))
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

const pathOptions = tpmFormat.pathOptions ?? {};
const SAMPLES = available ? readdirSync(join(TPM, 'webauthn-tpm2-certify')).sort() : [];
const EXPECTED_VENDOR: Record<string, string> = {
  'ecc-pubarea_webauthn-io': 'Nuvoton',
  'fido2-lib_windows-hello': 'Nuvoton',
  'intel-ptt_surface-pro-4': 'Intel',
  'nuvoton_dell-xps-13': 'Nuvoton',
  'stm_lenovo-x1-carbon': 'STMicroelectronics',
  stm_netpassport: 'STMicroelectronics',
};

describe.skipIf(!available)('Windows Hello TPM2_Certify samples', () => {
  it('has the six samples', () => {
    expect(SAMPLES).toHaveLength(6);
  });

  for (const sample of SAMPLES) {
    it(`${sample}: TPMS_ATTEST, Name(pubArea), extraData and the SHA-1 AIK signature`, () => {
      const dir = join('webauthn-tpm2-certify', sample);
      const read = (f: string) => new Uint8Array(readFileSync(join(TPM, dir, f)));
      const meta = JSON.parse(readFileSync(join(TPM, dir, 'meta.json'), 'utf8')) as {
        alg: number;
        expected_extraData: string;
        authData_hex: string;
        clientDataHash_hex: string;
        TPMS_ATTEST: { extraData_hex: string };
      };
      const attest = parseTpmsAttest(read('certInfo_TPMS_ATTEST.bin'));
      expect(attest.magic).toBe(TPM_GENERATED_VALUE);
      expect(attest.type).toBe(TPM_ST.ATTEST_CERTIFY);
      const pubBytes = read('pubArea_TPMT_PUBLIC.bin');
      const pub = parseTpmtPublic(pubBytes);
      if (attest.attested.kind !== 'certify') throw new Error('not certify');
      expect(bytesEqual(attest.attested.name, tpmName(pubBytes, pub.nameAlg))).toBe(true);
      // Windows Hello keys are TPM-generated and bound to the TPM.
      expect(pub.objectAttributes.fixedTPM && pub.objectAttributes.sensitiveDataOrigin).toBe(true);

      // WebAuthn §8.3: extraData = H_alg(authData ‖ clientDataHash); alg -65535 is RS1 (SHA-1).
      const hash = meta.expected_extraData.startsWith('SHA1') ? 'sha1' : 'sha256';
      const expected = createHash(hash)
        .update(fromHex(meta.authData_hex))
        .update(fromHex(meta.clientDataHash_hex))
        .digest();
      expect(toHex(attest.extraData)).toBe(toHex(expected));
      expect(toHex(attest.extraData)).toBe(meta.TPMS_ATTEST.extraData_hex);

      const aik = certs(dir, 'aik-chain.pem')[0]!;
      const sig: TpmtSignature = {
        sigAlg: TPM_ALG.RSASSA,
        hashAlg: meta.alg === -65535 ? TPM_ALG.SHA1 : TPM_ALG.SHA256,
        signature: read('sig.bin'),
        bytes: new Uint8Array(),
      };
      const certInfo = read('certInfo_TPMS_ATTEST.bin');
      expect(codeOf(() => verifyTpmSignature(sig, certInfo, aik.spki))).toBe('ALGORITHM_NOT_ALLOWED');
      const allowSha1 = { policy: { ...DEFAULT_SIGNATURE_POLICY, allowSha1: true } };
      expect(verifyTpmSignature(sig, certInfo, aik.spki, allowSha1)).toBe(true);
      const tampered = Uint8Array.from(certInfo);
      tampered[tampered.length - 1]! ^= 1;
      expect(verifyTpmSignature(sig, tampered, aik.spki, allowSha1)).toBe(false);
    });

    it(`${sample}: the AIK certificate follows the AK profile and chains to Microsoft TPM Root CA 2014`, () => {
      const chain = certs('webauthn-tpm2-certify', sample, 'aik-chain.pem');
      const root = certs('simplewebauthn', 'microsoft-tpm-root-ca-2014.pem')[0]!;
      const device = checkAkCertificate(chain[0]!);
      expect(device.manufacturer).toBe(EXPECTED_VENDOR[sample]);
      // Pinned: one day after the latest notBefore of the chain (the AIK certificates expired in 2025).
      const all = [...chain, root];
      const at = Math.max(...all.map((c) => c.notBefore)) + DAY;
      expect(at).toBeLessThan(Math.min(...all.map((c) => c.notAfter)));
      const path = validatePath(chain[0]!, {
        ...pathOptions,
        anchors: [anchorFromCertificate(root, { id: 'microsoft-tpm-root-2014', formats: ['tpm'] })],
        intermediates: chain.slice(1),
        time: at,
      });
      expect(path.anchor.id).toBe('microsoft-tpm-root-2014');
      expect(path.quirks).toEqual([]);
    });
  }
});

describe.skipIf(!available)('EK certificates', () => {
  it('the Infineon SLB 9670 EK certificate follows the EK profile and chains to the OPTIGA RSA Root CA', () => {
    const ek = certs('intel-secl', 'infineon-slb9670-ek-cert_optiga-rsa-mfr-ca-007.pem')[0]!;
    expect(checkEkCertificate(ek)).toEqual({
      manufacturerId: 'id:49465800',
      manufacturer: 'Infineon',
      model: 'SLB 9670 TPM2.0',
      version: 'id:0728',
    });
    const root = certs('keylime-tpm_cert_store', 'INF_RSA_010RT.pem')[0]!;
    const path = validatePath(ek, {
      ...pathOptions,
      anchors: [anchorFromCertificate(root, { id: 'infineon-optiga-rsa-root', formats: ['tpm'] })],
      intermediates: certs('intel-secl', 'EndorsementCA-external.pem'),
      time: PINNED,
    });
    expect(path.certificates.map((c) => c.subject.text)).toEqual([
      '',
      'CN=Infineon OPTIGA(TM) RSA Manufacturing CA 007,OU=OPTIGA(TM) TPM2.0,O=Infineon Technologies AG,C=DE',
      'CN=Infineon OPTIGA(TM) RSA Root CA,OU=OPTIGA(TM) Devices,O=Infineon Technologies AG,C=DE',
    ]);
  });

  it('the corrupted Infineon EK certificate is refused as malformed DER', () => {
    const b64 = readFileSync(
      join(TPM, 'intel-secl', 'infineon-ek-cert_CORRUPTED-header_negative.b64'),
      'utf8',
    );
    expect(codeOf(() => parseCertificate(new Uint8Array(Buffer.from(b64.trim(), 'base64'))))).toBe(
      'DER_TRAILING_DATA',
    );
  });

  it('GCE vTPM EK and AK certificates parse, chain, and show their profile deviations', () => {
    const gce = (f: string) => certs('go-tpm-tools', 'gce-vtpm-certs', f)[0]!;
    const pcaRoot = certs('go-tpm-tools', 'gcp_ek_ak_ca_root.crt')[0]!;
    const ucaRoot = certs('go-tpm-tools', 'tpm_ek_root_1.cer')[0]!;
    const intermediates = [
      ...certs('go-tpm-tools', 'gcp_ek_ak_ca_intermediate_v3.crt'),
      ...certs('go-tpm-tools', 'tpm_ek_intermediate_2.crt'),
      ...certs('go-tpm-tools', 'tpm_ek_intermediate_3.crt'),
    ];
    const anchors = [
      anchorFromCertificate(pcaRoot, { id: 'gce-ek-ak-root', formats: ['tpm'] }),
      anchorFromCertificate(ucaRoot, { id: 'gce-tpm-ek-root-1', formats: ['tpm'] }),
    ];
    const expected: Record<string, { anchor: string; kind: 'ek' | 'ak'; violations: string[] }> = {
      'uca_tpm_rsa_enc_cert.pem': { anchor: 'gce-tpm-ek-root-1', kind: 'ek', violations: [] },
      'uca_tpm_ecc_enc_cert.pem': { anchor: 'gce-tpm-ek-root-1', kind: 'ek', violations: [] },
      // GCE AK certificates carry the EK EKU (2.23.133.8.1), not tcg-kp-AIKCertificate.
      'uca_tpm_rsa_sign_cert.pem': {
        anchor: 'gce-tpm-ek-root-1',
        kind: 'ak',
        violations: ['ak-eku-missing'],
      },
      'uca_tpm_ecc_sign_cert.pem': {
        anchor: 'gce-tpm-ek-root-1',
        kind: 'ak',
        violations: ['ak-eku-missing'],
      },
      // The newer "pca" certificates name the VM in the subject and have no TPM SAN or EKU at all.
      'pca_tpm_rsa_enc_cert.pem': { anchor: 'gce-ek-ak-root', kind: 'ek', violations: ['san-missing'] },
      'pca_tpm_ecc_enc_cert.pem': { anchor: 'gce-ek-ak-root', kind: 'ek', violations: ['san-missing'] },
      'pca_tpm_rsa_sign_cert.pem': {
        anchor: 'gce-ek-ak-root',
        kind: 'ak',
        violations: ['san-missing', 'ak-subject-not-empty', 'ak-eku-missing'],
      },
      'pca_tpm_ecc_sign_cert.pem': {
        anchor: 'gce-ek-ak-root',
        kind: 'ak',
        violations: ['san-missing', 'ak-subject-not-empty', 'ak-eku-missing'],
      },
    };
    for (const [file, want] of Object.entries(expected)) {
      const cert = gce(file);
      const path = validatePath(cert, { ...pathOptions, anchors, intermediates, time: PINNED });
      expect(path.anchor.id, file).toBe(want.anchor);
      const report = inspectTpmCertificate(cert, want.kind);
      expect(report.violations, file).toEqual(want.violations);
      if (file.startsWith('uca')) expect(report.device?.manufacturer, file).toBe('Google');
    }
  });

  it('every EK CA certificate in the tpm folder parses (deviations recorded)', () => {
    const files = [
      ...readdirSync(join(TPM, 'keylime-tpm_cert_store')).map((f) => ['keylime-tpm_cert_store', f] as const),
      ['intel-secl', 'EndorsementCA-external.pem'] as const,
      ...readdirSync(join(TPM, 'go-tpm-tools'))
        .filter((f) => /\.(crt|cer)$/.test(f))
        .map((f) => ['go-tpm-tools', f] as const),
    ];
    const deviations: string[] = [];
    let count = 0;
    for (const [dir, f] of files) {
      for (const c of certs(dir, f)) {
        count++;
        expect(c.basicConstraints?.ca, `${f}: ${c.subject.text}`).toBe(true);
        for (const d of c.deviations) deviations.push(`${f}: ${d}`);
      }
    }
    // 45 keylime files + 19 Intel SecL bundle certificates + 5 GCE CA certificates.
    expect(count).toBe(69);
    // The Aliyun vTPM CA encodes its 2021 notBefore as GeneralizedTime (RFC 5280 §4.1.2.5).
    expect(deviations).toEqual(['Alibaba_Cloud_vTPM_EK.pem: generalized-time-before-2050']);
  });

  it('keylime AK public area: Name = 000b ‖ SHA-256(TPMT_PUBLIC), a restricted signing key', () => {
    const pub = unwrapTpm2bPublic(new Uint8Array(readFileSync(join(TPM, 'keylime-test-data', 'ak.pub'))));
    const name = new Uint8Array(readFileSync(join(TPM, 'keylime-test-data', 'ak.name')));
    const parsed = parseTpmtPublic(pub);
    expect(toHex(tpmName(pub, parsed.nameAlg))).toBe(toHex(name));
    expect(parsed.objectAttributes.restricted && parsed.objectAttributes.sign).toBe(true);
    const pem = readFileSync(join(TPM, 'keylime-test-data', 'akpub.pem'), 'utf8');
    const spki = decodePem(pem)[0]!.der;
    expect(toHex(parsed.spki)).toBe(toHex(spki));
  });
});
