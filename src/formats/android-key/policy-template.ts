/**
 * The policy template for Android Key Attestation (docs/android.md): the Google hardware
 * attestation roots (the one RSA key and the 2025 P-384 "Key Attestation CA1") with Google's
 * revocation status list, a TEE or StrongBox key generated on the device, and a nonce.
 *
 * @example
 * writeFileSync('policy.yaml', ANDROID_KEY_POLICY_TEMPLATE); // then put the root PEMs beside it
 */
import { GOOGLE_ANCHOR_IDS } from './index.js';

/** Google's revocation status list (standards.md §4.4): fetched by the service, fail closed. */
export const ANDROID_STATUS_LIST_URL = 'https://android.googleapis.com/attestation/status';

/** A starting policy for 'android-key' evidence. */
export const ANDROID_KEY_POLICY_TEMPLATE = `version: 1
# Google hardware attestation roots (https://android.googleapis.com/attestation/root; compare
# the SHA-256 of each key with docs/android.md). The RSA root is one key in four certificates:
# any one of them pins the key. The AOSP software attestation roots are never accepted.
trust:
  - id: ${GOOGLE_ANCHOR_IDS.rsaRoot}
    certificates: [./google-hardware-attestation-root.pem]
    formats: [android-key]
    revocation: require
    statusList: ${ANDROID_STATUS_LIST_URL}
  - id: ${GOOGLE_ANCHOR_IDS.keyAttestationCa1}
    certificates: [./google-key-attestation-ca1.pem]
    formats: [android-key]
    revocation: require
    statusList: ${ANDROID_STATUS_LIST_URL}
require:
  # The challenge you issued must be the KeyDescription attestationChallenge.
  freshness: nonce
  securityLevel: tee
  generatedOnDevice: true
  nonExportable: true
`;
