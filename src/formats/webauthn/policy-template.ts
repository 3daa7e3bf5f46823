/**
 * The policy template for WebAuthn registrations (docs/webauthn.md): anchors from a FIDO MDS
 * index by each model's own AAGUID, a minimum certification, the challenge, user presence and
 * user verification.
 *
 * @example
 * writeFileSync('policy.yaml', WEBAUTHN_POLICY_TEMPLATE); // then: provenance mds import --out mds
 */

/** A starting policy: MDS anchors (FIDO_CERTIFIED_L1 at least), challenge, UP and UV required. */
export const WEBAUTHN_POLICY_TEMPLATE = `version: 1
# WebAuthn / FIDO2 registrations (docs/webauthn.md). The FIDO Metadata Service supplies each
# authenticator model's own attestation roots by AAGUID (U2F: by key identifier). Import and
# verify the BLOB first, and again before its nextUpdate:
#   provenance mds import --out ./mds
# A chain is accepted only at the roots of the entry for its own AAGUID; revoked models and
# compromised attestation keys are refused (docs/mds.md).
mds:
  index: ./mds
  minLevel: FIDO_CERTIFIED_L1
# Authenticators that are not in MDS: add their roots here with formats: [webauthn].
trust: []
require:
  # The registration's clientDataJSON carries your challenge (verify --challenge).
  freshness: nonce
  userPresence: always
  # Passwordless sign-in needs a PIN or biometric at registration; for a second factor
  # (security key after a password) allow [never, once].
  userVerification: once
# Windows Hello TPM attestations sign with SHA-1 (RS1); that stays refused unless you allow it:
# signatures: { allowSha1: true }
`;
