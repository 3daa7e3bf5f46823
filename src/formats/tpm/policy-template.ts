/**
 * The policy template for TPM 2.0 key attestation (docs/tpm.md): the CA that certifies your
 * attestation keys and the TPM vendors' EK roots, fresh evidence of device-generated,
 * non-exportable keys only.
 *
 * @example
 * writeFileSync('policy.yaml', TPM_POLICY_TEMPLATE); // then put ak-ca.pem and tpm-ek-roots.pem beside it
 */

/** A starting policy: trust AK and EK roots for 'tpm', require a nonce, fixedTPM and sensitiveDataOrigin. */
export const TPM_POLICY_TEMPLATE = `version: 1
# TPM 2.0 key attestation (docs/tpm.md): TPM2_Certify by an attestation key (AK).
# ak-ca: the CA that issues your AK certificates (after credential activation against the EK).
# tpm-ek-roots: the TPM makers' EK roots, for AK/EK chains that end at the vendor. The anchor
# catalogue lists them with their key hashes: \`provenance trust catalog\` (Infineon OPTIGA RSA
# and ECC, IFX TPM EK, STMicroelectronics, Nuvoton, Nationz/NTC …). Instead of a file you may
# install one (\`provenance trust add ID\`) and name it here with \`catalog: ID\`.
# Trust is by key (SPKI SHA-256): compare each root with the catalogue before you use it.
trust:
  - id: ak-ca
    certificates: [./ak-ca.pem]
    formats: [tpm]
  - id: tpm-ek-roots
    certificates: [./tpm-ek-roots.pem]
    formats: [tpm]
require:
  # The AK signed TPMS_ATTEST over your challenge (verify --nonce <hex>): no replay.
  freshness: nonce
  # sensitiveDataOrigin: the TPM generated the key.
  generatedOnDevice: true
  # fixedTPM and fixedParent: the key can never leave this TPM.
  nonExportable: true
# Windows Hello TPMs sign with SHA-1 (RS1); that stays refused unless you allow it:
# signatures: { allowSha1: true }
`;
