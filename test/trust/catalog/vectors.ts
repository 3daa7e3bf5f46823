/**
 * The shared attestation vectors (read in place) and where each catalogue entry's published
 * certificate sits among them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { parseCertificateBundle } from '../../../src/pki/bundle.js';
import type { Certificate } from '../../../src/pki/certificate.js';

export const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
export const available = existsSync(join(VECTORS, 'MANIFEST.md'));

/** Print why vector tests are skipped locally; fail in CI (CI=true) when the vectors are missing. */
export function requireVectors(what: string): void {
  if (available) return;
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it(`has the attestation vectors in CI (${what})`, () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping ${what}: ${reason}`);
  }
}

/** Every certificate in a vector file (PEM with any text around it, or DER). */
export function vectorCerts(relative: string): Certificate[] {
  return parseCertificateBundle(new Uint8Array(readFileSync(join(VECTORS, relative))));
}

/** The vector file path (for the CLI). */
export function vectorPath(relative: string): string {
  return join(VECTORS, relative);
}

const KL = 'tpm/keylime-tpm_cert_store/';

/** Catalogue id → the vector files holding its published certificate(s). */
export const CATALOG_VECTORS: Readonly<Record<string, readonly string[]>> = {
  'yubico-piv-root-263751': [
    'yubikey-piv/piv-go/yubico-piv-root-ca-serial-263751.pem',
    'yubikey-piv/smallstep-certificates/yubico-piv-root-ca-serial-263751.pem',
  ],
  'yubico-u2f-root-457200631': ['yubikey-piv/piv-go/yubico-u2f-root-ca-serial-457200631.pem'],
  'yubico-attestation-root-1': ['yubikey-piv/smallstep-certificates/yubico-attestation-root-1.pem'],
  'infineon-optiga-rsa-root': [`${KL}INF_RSA_010RT.pem`],
  'infineon-optiga-ecc-root': [`${KL}INF_ECC_010RT.pem`],
  'infineon-ifx-tpm-ek-root': [`${KL}IFX_RSA_RT.pem`],
  'verisign-tpm-root': ['tpm/intel-secl/EndorsementCA-external.pem'],
  'globalsign-tpm-root': [`${KL}GS_TPM_RT.pem`],
  'stm-tpm-ek-root': [`${KL}STM_RSA_RT.pem`],
  'stm-tpm-ecc-root-01': [`${KL}STM_ECC_01RT.pem`],
  'ntc-tpm-ek-root-01': [`${KL}NTC1.pem`],
  'ntc-tpm-ek-root-02': [`${KL}NTC2.pem`],
  'nuvoton-tpm-root-0100': [`${KL}NUVO_0100.pem`],
  'nuvoton-tpm-root-1110': [`${KL}NUVO_1110.pem`],
  'nuvoton-tpm-root-1111': [`${KL}NUVO_1111.pem`],
  'nuvoton-tpm-root-2110': [`${KL}NUVO_2110.pem`],
  'nuvoton-tpm-root-2111': [`${KL}NUVO_2111.pem`],
  'intel-tpm-ek-root': [`${KL}INTEL_RT.pem`],
  'microsoft-tpm-root-2014': ['tpm/simplewebauthn/microsoft-tpm-root-ca-2014.pem'],
  'google-gce-ek-ak-root': ['tpm/go-tpm-tools/gcp_ek_ak_ca_root.crt'],
  'google-gce-tpm-ek-root-1': ['tpm/go-tpm-tools/tpm_ek_root_1.cer'],
  'google-hardware-attestation-rsa': [
    'android-key/simplewebauthn/Google_Hardware_Attestation_Root_1.pem',
    'android-key/simplewebauthn/Google_Hardware_Attestation_Root_2.pem',
    'android-key/simplewebauthn/Google_Hardware_Attestation_Root_3.pem',
    'android-key/simplewebauthn/Google_Hardware_Attestation_Root_4.pem',
    'android-key/smallstep-certificates/google-hw-attestation-root-rsa-f92009e853b6b045-2022.pem',
  ],
  'google-key-attestation-ca1': [
    'android-key/smallstep-certificates/google-key-attestation-ca1-ec-p384-2025.pem',
  ],
  'android-software-attestation-root-rsa': ['android-key/android-keyattestation/software-roots.pem'],
  'android-software-attestation-root-ec': ['android-key/android-keyattestation/software-roots.pem'],
  'apple-app-attestation-root': ['apple/webauthn4j/Apple_App_Attestation_Root_CA.pem'],
  'apple-webauthn-root': ['webauthn/simplewebauthn/roots/Apple_WebAuthn_Root_CA.pem'],
  'apple-enterprise-attestation-root': [
    'apple/smallstep-certificates/apple-enterprise-attestation-root-ca.pem',
  ],
  'fido-mds3-root-globalsign-r3': [
    'fido-mds/go-webauthn/globalsign-root-r3_production-mds-root.pem',
    'fido-mds/simplewebauthn/GlobalSign_Root_CA_R3.pem',
    'fido-mds/webauthn4j/root-r3.crt',
  ],
  'globalsign-root-r1': ['webauthn/simplewebauthn/roots/GlobalSign_Root_CA.pem'],
  'globalsign-root-r2': [
    'webauthn/simplewebauthn/android-safetynet/GlobalSign_R2.pem',
    'webauthn/python-fido2/GlobalSign_R2_root.der',
  ],
  'fido-mds3-conformance-root': ['fido-mds/go-webauthn/fido-mds-conformance-MDS3ROOT.pem'],
  'cavium-liquidsecurity-root': ['cloud-hsm/peculiar-attestation/marvell-roots.pem'],
  'google-hawksbill-root-v1-prod': ['cloud-hsm/peculiar-attestation/marvell-roots.pem'],
};

/** The one certificate in `relative` with this key (the file may be a bundle). */
export function certWithKey(relative: string, spkiSha256: string): Certificate {
  const found = vectorCerts(relative).find((c) => c.spkiSha256 === spkiSha256);
  if (found === undefined) throw new Error(`no certificate with key ${spkiSha256} in ${relative}`);
  return found;
}
