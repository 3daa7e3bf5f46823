/**
 * The policy template for YubiKey PIV attestation (docs/yubikey.md): the three Yubico roots
 * under the anchor ids the format's quirks are scoped to, ROCA and weak-key checks on, and the
 * firmware known to generate weak keys denied.
 *
 * @example
 * writeFileSync('policy.yaml', YUBIKEY_POLICY_TEMPLATE); // then put the three root PEMs beside it
 */
import { YUBICO_ANCHOR_IDS } from './index.js';

/**
 * Firmware ranges denied by default: YSA-2017-01 (ROCA, Infineon RSALib, 4.2.6-4.3.4; fixed
 * in 4.3.5) and YSA-2019-02 (YubiKey FIPS 4.4.2 and 4.4.4, reduced randomness; fixed in 4.4.5).
 */
export const YUBIKEY_DENIED_FIRMWARE: readonly string[] = ['>=4.2.6 <4.3.5', '=4.4.2', '=4.4.4'];

/** A starting policy: trust the Yubico roots for 'yubikey-piv', deny ROCA firmware and keys. */
export const YUBIKEY_POLICY_TEMPLATE = `version: 1
# Yubico attestation roots (download them from developers.yubico.com, compare the SHA-256 of
# each key with docs/yubikey.md). The ids are the ones the yubikey-piv quirks are scoped to.
trust:
  - id: ${YUBICO_ANCHOR_IDS.pivRoot}
    certificates: [./yubico-piv-root-ca-serial-263751.pem]
    formats: [yubikey-piv]
  - id: ${YUBICO_ANCHOR_IDS.u2fRoot}
    certificates: [./yubico-u2f-root-ca-serial-457200631.pem]
    formats: [yubikey-piv]
  - id: ${YUBICO_ANCHOR_IDS.attestationRoot1}
    certificates: [./yubico-attestation-root-1.pem]
    formats: [yubikey-piv]
require:
  generatedOnDevice: true
  nonExportable: true
  # A bare attestation bundle has no nonce: ask for a CSR signed by the attested key.
  freshness: possession
deny:
  roca: true
  weakKeys: true
  firmware: [${YUBIKEY_DENIED_FIRMWARE.map((r) => `"${r}"`).join(', ')}]
`;
