/**
 * The policy template for Apple attestations (docs/apple.md): the App Attestation root (App
 * Attest) and the Enterprise Attestation root (Managed Device Attestation), fresh evidence only.
 *
 * @example
 * writeFileSync('policy.yaml', APPLE_POLICY_TEMPLATE); // then put the two root PEMs beside it
 */
import { APPLE_ANCHOR_IDS } from './index.js';

/** A starting policy: trust the two Apple attestation roots for 'apple', require a nonce. */
export const APPLE_POLICY_TEMPLATE = `version: 1
# Apple attestation roots (https://www.apple.com/certificateauthority/private/); compare the
# SHA-256 of each key with docs/apple.md. App Attest chains must end at the first key, Managed
# Device Attestation chains at the second: neither kind is accepted under the other root.
trust:
  - id: ${APPLE_ANCHOR_IDS.appAttestationRoot}
    certificates: [./Apple_App_Attestation_Root_CA.pem]
    formats: [apple]
  - id: ${APPLE_ANCHOR_IDS.enterpriseAttestationRoot}
    certificates: [./Apple_Enterprise_Attestation_Root_CA.pem]
    formats: [apple]
require:
  # App Attest: the challenge binds authData to the certificate (verify --nonce <challenge hex>).
  # MDA: the freshness code must be SHA-256 of the challenge.
  freshness: nonce
`;
