/**
 * The policy template for Google Cloud HSM attestations (docs/cloud-hsm.md): both roots under
 * the anchor ids the cloud-hsm quirks are documented with (the quirks themselves are scoped to
 * the Cavium root key), keys generated in the HSM and never extractable.
 *
 * @example
 * writeFileSync('policy.yaml', CLOUD_HSM_POLICY_TEMPLATE); // then put the two root PEMs beside it
 */
import { CLOUD_HSM_ANCHOR_IDS } from './index.js';

/** A starting policy: trust the Cavium and Google roots for 'cloud-hsm' (both chains must validate). */
export const CLOUD_HSM_POLICY_TEMPLATE = `version: 1
# Google Cloud HSM (Marvell LiquidSecurity). Each attestation carries two chains for the HSM
# partition key; the manufacturer chain must end at the Cavium root and the owner chain at the
# Google root (two different anchor keys). The Cavium root expired on 2025-11-16: recorded
# attestations verify with --at; for new ones install Marvell's replacement root here.
trust:
  - id: ${CLOUD_HSM_ANCHOR_IDS.manufacturerRoot}
    certificates: [./cavium-liquidsecurity-root.pem]
    formats: [cloud-hsm]
  - id: ${CLOUD_HSM_ANCHOR_IDS.ownerRoot}
    certificates: [./google-hawksbill-root-v1-prod.pem]
    formats: [cloud-hsm]
require:
  generatedOnDevice: true   # OBJ_ATTR_LOCAL: generated in the HSM, not imported
  nonExportable: true       # never extractable and not extractable now
  # The blob has no nonce: ask for a CSR signed by the attested key (statement type in docs/cloud-hsm.md).
  freshness: possession
deny:
  roca: true
  weakKeys: true
`;
