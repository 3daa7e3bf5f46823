/**
 * The catalogue of known production attestation anchors: names, scopes and fingerprints of the
 * roots that vendors publish (docs/trust-catalog.md). A catalogue entry is never trusted by
 * itself: it only names and scopes a certificate the operator installs (`provenance trust add`),
 * recognised by key (SPKI SHA-256) or by certificate SHA-256, never by name.
 *
 * The hashes were computed from the vendors' published certificates (the copies in the shared
 * test vectors); test/trust/catalog/entries.test.ts recomputes every one of them.
 *
 * @example
 * const entry = CATALOG.find((e) => e.id === 'yubico-piv-root-263751');
 */
import type { FormatId } from '../../formats/types.js';

/** One known anchor key: the vendor's root (or, for `role: 'intermediate'`, a CA vendors ship as an anchor). */
export interface CatalogEntry {
  /** Stable id: the file name in the trust folder and the `catalog:` reference in a policy. */
  readonly id: string;
  readonly vendor: string;
  /** Human name, as in the certificate's subject CN (display only). */
  readonly name: string;
  /** Evidence formats this anchor may vouch for. */
  readonly formats: readonly FormatId[];
  /** Hex SHA-256 of the SubjectPublicKeyInfo: the identity. */
  readonly spkiSha256: string;
  /** Hex SHA-256 of every known certificate for this key (re-issued roots share one key). */
  readonly certificateSha256: readonly string[];
  /** Where the vendor publishes the certificate. */
  readonly source: string;
  /** 'root' (self-signed) unless the vendor's CA is issued by another root. */
  readonly role: 'root' | 'intermediate';
  /** 'never': known but must not be installed as an anchor (`trust add` refuses it). */
  readonly trust?: 'never';
  readonly notes?: string;
}

const entries: CatalogEntry[] = [
  // --- Yubico (standards §1.3) ---------------------------------------------------------------
  {
    id: 'yubico-piv-root-263751',
    vendor: 'Yubico',
    name: 'Yubico PIV Root CA Serial 263751',
    formats: ['yubikey-piv'],
    spkiSha256: '4b185b7783d792f902cd960cd1c9417977d88d3077b16bc9ebdcef7313f2e29e',
    certificateSha256: ['63ece914e54dd87915f34033c85af4c0696ba1512f8add66ced738331207b546'],
    source: 'https://developers.yubico.com/PIV/Introduction/piv-attestation-ca.pem',
    role: 'root',
    notes: 'PIV attestation root for YubiKey firmware before 5.7.4; basicConstraints is not critical.',
  },
  {
    id: 'yubico-u2f-root-457200631',
    vendor: 'Yubico',
    name: 'Yubico U2F Root CA Serial 457200631',
    formats: ['yubikey-piv', 'webauthn'],
    spkiSha256: '29412da192720e5f4f22a408559c057e4ff25347eafb20cfb15a047a07601935',
    certificateSha256: ['0fa1386f80eb8713263ae5c1d84deb455bdf08aea50ab05503cefee82b092d42'],
    source: 'https://developers.yubico.com/U2F/yubico-u2f-ca-certs.txt',
    role: 'root',
    notes:
      'FIDO U2F/WebAuthn root; some 2017-2018 YubiKeys chain PIV attestations to it (pathlen:0 needs a quirk).',
  },
  {
    id: 'yubico-attestation-root-1',
    vendor: 'Yubico',
    name: 'Yubico Attestation Root 1',
    formats: ['yubikey-piv', 'webauthn'],
    spkiSha256: '1f43e2b88e964a5d03b8058bbaaced68199c9256200f1bb28eaab2f82a1e06f2',
    certificateSha256: ['62760c6a6ef91679f454c8902b80fd009825b3f25da90f1fbace2ec6586cd5a8'],
    source: 'https://developers.yubico.com/PKI/yubico-ca-1.pem',
    role: 'root',
    notes:
      'The 2024-12 PKI for YubiKey firmware 5.7.4 and later (PIV and FIDO); sha512WithRSA, notAfter 9999.',
  },
  // --- TPM vendors (standards §2.4) ----------------------------------------------------------
  {
    id: 'infineon-optiga-rsa-root',
    vendor: 'Infineon',
    name: 'Infineon OPTIGA(TM) RSA Root CA',
    formats: ['tpm'],
    spkiSha256: '8a705088efa28a3845b35c7fcbf9c0f4bf46c77da18a6f1a173eb9074610cbd0',
    certificateSha256: ['899e35474c9807eb4c7f2f7a12da0028fb250cd02154d0009fca7d9c66574f3b'],
    source: 'https://pki.infineon.com/OptigaRsaRootCA/OptigaRsaRootCA.crt',
    role: 'root',
  },
  {
    id: 'infineon-optiga-ecc-root',
    vendor: 'Infineon',
    name: 'Infineon OPTIGA(TM) ECC Root CA',
    formats: ['tpm'],
    spkiSha256: 'ce5183a19d6fe79a6c1b058cfa700379f67d587a8afd0f51621e82d9f00c5a28',
    certificateSha256: ['cfeb02fecd55ad7a73c6e1d11985d4c47dee248ab63dcb66091a2489660443c3'],
    source: 'https://pki.infineon.com/OptigaEccRootCA/OptigaEccRootCA.crt',
    role: 'root',
  },
  {
    id: 'infineon-ifx-tpm-ek-root',
    vendor: 'Infineon',
    name: 'IFX TPM EK Root CA',
    formats: ['tpm'],
    spkiSha256: 'ba4060c13257f1fab1191f8e7d3fb0bbc43915eb1fe4f89b35ab74acd9bb2681',
    certificateSha256: ['7df2c3751c03ce003e99174d9cb2559f57a1b05b1920dd30bb6f8dfcf17f5e62'],
    source: 'https://pki.infineon.com/',
    role: 'intermediate',
    notes:
      'Issued by the VeriSign TPM Root CA; install with --intermediate-anchor (keylime stores it as an anchor).',
  },
  {
    id: 'verisign-tpm-root',
    vendor: 'VeriSign (DigiCert)',
    name: 'VeriSign Trusted Platform Module Root CA',
    formats: ['tpm'],
    spkiSha256: 'e8499c053a947d38de5ae7d9c251a934e7d455edb43a4a6dfffd1996070bc89b',
    certificateSha256: ['967bb3d4544ea2740fce338077e1f5a9ea3085667246e6b968294aa045a57549'],
    source: 'https://pki.infineon.com/',
    role: 'root',
    notes: 'Root above the IFX TPM EK Root CA (older Infineon TPM 1.2/2.0 EK certificates).',
  },
  {
    id: 'globalsign-tpm-root',
    vendor: 'GlobalSign',
    name: 'GlobalSign Trusted Platform Module Root CA',
    formats: ['tpm'],
    spkiSha256: '0035d2297fe237a636800382cc2c9e205c6930f84b507ceec3608545d273960f',
    certificateSha256: ['f27bf02c6e00c73d915eeb6a6a2f5fbf0c31ae0393149e6b5c31e41b113841c3'],
    source: 'https://secure.globalsign.com/cacert/gstpmroot.crt',
    role: 'root',
    notes: 'Issues the STM TPM EK Root CA.',
  },
  {
    id: 'stm-tpm-ek-root',
    vendor: 'STMicroelectronics',
    name: 'STM TPM EK Root CA',
    formats: ['tpm'],
    spkiSha256: '1054058a985eb8135bfd59f96a4943824255d3e7a07179c38d058b5399a53882',
    certificateSha256: ['f8e37a86b689a20a6cc0c40cc3f81fb130fa9f44ce7ffa60d62590aaf87273a9'],
    source: 'https://secure.globalsign.com/cacert/stmtpmekroot.crt',
    role: 'intermediate',
    notes: 'Issued by the GlobalSign TPM Root CA; install that root, or this CA with --intermediate-anchor.',
  },
  {
    id: 'stm-tpm-ecc-root-01',
    vendor: 'STMicroelectronics',
    name: 'STM TPM ECC Root CA 01',
    formats: ['tpm'],
    spkiSha256: 'b9e2d0d69753c717df3f14464a6cda088f5d1fda07ffce506baa3288419366df',
    certificateSha256: ['c541d7e5b9e3f935621acbd403896225ec641036c9ae3b5f7ac793a606ff9b79'],
    source: 'https://secure.globalsign.com/cacert/stmtpmeccroot01.crt',
    role: 'intermediate',
    notes: 'Issued by the GlobalSign TPM ECC Root CA (not catalogued: no published copy in the vectors).',
  },
  ...(
    [
      [
        'ntc-tpm-ek-root-01',
        'NTC TPM EK Root CA 01',
        'e5011fae73883ff1e33954c975402a28dfdf87117e6e06cce3265519135420bd',
        '56b67007f448bd5c5746299fcdea9323971bbdaaefd8e3b9b84773abc888c90e',
      ],
      [
        'ntc-tpm-ek-root-02',
        'NTC TPM EK Root CA 02',
        '30c2e5fb9fe11bb2d2d8f59d8bdbe2ef7a5e86e2a24d5f44556404b528957921',
        '8fac94b462b37acb84431bdc71395585caf518c17f656051ff9c4347a4726ed9',
      ],
      [
        'nuvoton-tpm-root-0100',
        'Nuvoton TPM Root CA 0100',
        '2b40169e346867de502a647990f4d771980765f9cbef5c823380f3aa9626da53',
        '887bc9658ffc6ad7f4eeb85c8819772ff609ee64c4dac4a6dca654a39e94b289',
      ],
      [
        'nuvoton-tpm-root-1110',
        'Nuvoton TPM Root CA 1110',
        'b7f4414b44f1787f046aec866693cda643239b3d0f6998d0ad4adb841e4bd0db',
        '2782e51a95e86d9557fe4204316cf805bd6f5898f81f9732e944d742bcdc5f54',
      ],
      [
        'nuvoton-tpm-root-1111',
        'Nuvoton TPM Root CA 1111',
        'c871b0ba1182676eeed4c2469d3d5fa3cfa09daca77ea823a4b454cf00dee11e',
        'e38c280f7c0e0b49f31efc7531032bb6a86c3fba4eb89beb1d510eaa4510ae4a',
      ],
      [
        'nuvoton-tpm-root-2110',
        'Nuvoton TPM Root CA 2110',
        'b54c81a52159aaf524c88dcf5a7e7a6f5f9ec2f4e69aee0bb3897f0c65e4faea',
        '4aebe77a51ed29959a7f9f5e07a24a558dee8167f3985d724995a541c258dfda',
      ],
      [
        'nuvoton-tpm-root-2111',
        'Nuvoton TPM Root CA 2111',
        '95b8ab2c350f58064c30a217f07e0a3353915edee572c5fb2ebcf8fa3f87a813',
        'cd8185ff8995ed09811970090a8c36fafab34ef87f47fa51fdb9ecf95c9c2e04',
      ],
    ] as const
  ).map(
    ([id, name, spki, cert]): CatalogEntry => ({
      id,
      vendor: 'Nuvoton',
      name,
      formats: ['tpm'],
      spkiSha256: spki,
      certificateSha256: [cert],
      source: 'https://www.nuvoton.com/security/NTC-TPM-EK-Cert/',
      role: 'root',
    }),
  ),
  {
    id: 'intel-tpm-ek-root',
    vendor: 'Intel',
    name: 'Intel TPM EK root (PTT), CN=www.intel.com',
    formats: ['tpm'],
    spkiSha256: 'baf3caf0db083d8155424bb24d6fbbd8ba7487fc5b3ca45d3eb6b2b2e4656ade',
    certificateSha256: ['2e1b3ba79af56d758be51697621bc4b9e8cee0983db3e749c55eb9b37c6d2ae0'],
    source: 'https://upgrades.intel.com/content/CRL/ekcert/EKRootPublicKey.cer',
    role: 'root',
    notes:
      'Intel PTT EK root ("TPM EK root cert signing"); newer PTT parts chain to the ODCA hierarchy, not catalogued.',
  },
  {
    id: 'microsoft-tpm-root-2014',
    vendor: 'Microsoft',
    name: 'Microsoft TPM Root Certificate Authority 2014',
    formats: ['tpm', 'webauthn'],
    spkiSha256: '5eadfa0187a24edb747b98523f89cf92d33eeb20ec81b9d0a31e170b73c2dbb2',
    certificateSha256: ['870c7a35ceab3d59979f2c6a524042d404cb71518004350925fb2ced79a999da'],
    source:
      'https://www.microsoft.com/pkiops/certs/Microsoft%20TPM%20Root%20Certificate%20Authority%202014.cer',
    role: 'root',
    notes: 'Issues the AIK certificates of Windows Hello (WebAuthn fmt "tpm").',
  },
  {
    id: 'google-gce-ek-ak-root',
    vendor: 'Google Cloud',
    name: 'EK/AK CA Root (Google Cloud vTPM)',
    formats: ['tpm'],
    spkiSha256: '56a613f57126a385dd6949294e93b0b566f96ab0573be0c2368e6f5ca779831f',
    certificateSha256: ['594759594b9b61524f6c8ef668f7177f7b9066bc0674f2f49fe9e052be78beb2'],
    source: 'https://github.com/google/go-tpm-tools/tree/main/server/ca-certs',
    role: 'root',
    notes: 'Shielded/Confidential VM vTPM EK and AK certificates (current hierarchy).',
  },
  {
    id: 'google-gce-tpm-ek-root-1',
    vendor: 'Google Cloud',
    name: 'tpm_ek_v1_cloud_host_root-signer (Google Cloud vTPM, 2018)',
    formats: ['tpm'],
    spkiSha256: 'f23057f4f97d1d90e4cae0ce91d5a0fc99069f0a1bc147021dca33b1e9c4d0d9',
    certificateSha256: ['9bd5285f8fb18502a7947e621ffd470266f49fcd3b73e19a190f690ad32a7caf'],
    source: 'https://github.com/google/go-tpm-tools/tree/main/server/ca-certs',
    role: 'root',
    notes: 'Older Shielded VM vTPM EK hierarchy.',
  },
  // --- Google Android hardware attestation (standards §3, §4.3) -----------------------------
  {
    id: 'google-hardware-attestation-rsa',
    vendor: 'Google',
    name: 'Google Hardware Attestation Root (RSA, serialNumber=f92009e853b6b045)',
    formats: ['android-key', 'webauthn'],
    spkiSha256: 'feb2ea7551ee316ed4bb443c8293b884dbfdea40b603ee3e4f4a897e4580fbae',
    certificateSha256: [
      'c1984a3ef45c1e2a918551de10603c86f7051b2249c4891cae3230eabd0c97d5',
      '1ef1a04b8ba58ab94589ac498c8982a783f24ea7307e0159a0c3a73b377d87cc',
      'ab6641178a36e179aa0c1cdddf9a16eb45fa20943e2b8cd7c7c05c26cf8b487a',
      'cedb1cb6dc896ae5ec797348bce9286753c2b38ee71ce0fbe34a9a1248800dfc',
    ],
    source: 'https://android.googleapis.com/attestation/root',
    role: 'root',
    notes:
      'Four certificates (2016, 2019, 2021, 2022) for one key: match by key. The 2016 one expired 2026-05-24.',
  },
  {
    id: 'google-key-attestation-ca1',
    vendor: 'Google',
    name: 'Key Attestation CA1 (P-384, 2025)',
    formats: ['android-key', 'webauthn'],
    spkiSha256: '3ee44512a1af2beb39c889490c60ea3f82e43f5d5a5532f5ab9419f676cd07ec',
    certificateSha256: ['6d9db4ce6c5c0b293166d08986e05774a8776ceb525d9e4329520de12ba4bcc0'],
    source: 'https://android.googleapis.com/attestation/root',
    role: 'root',
    notes: 'The EC root for devices provisioned from 2026 (remote key provisioning).',
  },
  {
    id: 'android-software-attestation-root-ec',
    vendor: 'Google',
    name: 'Android Keystore Software Attestation Root (EC P-256)',
    formats: ['android-key'],
    spkiSha256: 'd5100c7942ef2e8310dc30ef82729680cf48d690735c3f68179a33c7c370f286',
    certificateSha256: ['51d496ad4664190fbdaf1ad987278efa35d6fbf52e50a9c34ded8395477ede5c'],
    source: 'https://source.android.com/docs/security/features/keystore/attestation',
    role: 'root',
    trust: 'never',
    notes: 'Software keystore (emulators, no TEE): its private key is public. Never an anchor.',
  },
  {
    id: 'android-software-attestation-root-rsa',
    vendor: 'Google',
    name: 'Android software attestation root (RSA-1024, OU=Android)',
    formats: ['android-key'],
    spkiSha256: 'f2c4746f545946c100e72297f8f946344d7052f03a2f694221f9c893b0e6f711',
    certificateSha256: ['4e42730efd521b21d77b109b7532a0b664ddfefc73e129111936200c5e58cce0'],
    source: 'https://source.android.com/docs/security/features/keystore/attestation',
    role: 'root',
    trust: 'never',
    notes: 'Software keystore (emulators, no TEE): its private key is public. Never an anchor.',
  },
  // --- Apple (standards §5) --------------------------------------------------------------------
  {
    id: 'apple-app-attestation-root',
    vendor: 'Apple',
    name: 'Apple App Attestation Root CA',
    formats: ['apple'],
    spkiSha256: '1ae751fd29896d0f1f13fe226c063f445d40d8938acc6245c251ecc0679330bd',
    certificateSha256: ['1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932'],
    source: 'https://www.apple.com/certificateauthority/Apple_App_Attestation_Root_CA.pem',
    role: 'root',
  },
  {
    id: 'apple-webauthn-root',
    vendor: 'Apple',
    name: 'Apple WebAuthn Root CA',
    formats: ['webauthn'],
    spkiSha256: 'ab4f65d4e627b65121a5acdf087ee3906c42b5a66e758778fab0df4464d8dd57',
    certificateSha256: ['0915dd5c07a28db549d1f677bb5a75d4bfbe9561a773424327762e9e02f9bb29'],
    source: 'https://www.apple.com/certificateauthority/Apple_WebAuthn_Root_CA.pem',
    role: 'root',
    notes: 'WebAuthn fmt "apple" (anonymous attestation).',
  },
  {
    id: 'apple-enterprise-attestation-root',
    vendor: 'Apple',
    name: 'Apple Enterprise Attestation Root CA',
    formats: ['apple'],
    spkiSha256: '4179683e87e3f483849848b3eb80e08ecdf52e3f1a99dd1340f29b88ecbc2041',
    certificateSha256: ['ccf59ef8fcb3017d97f8b5fa6fa90e7a3f9283f76b55ac6cf6eda8b8b949f05b'],
    source: 'https://www.apple.com/certificateauthority/private/',
    role: 'root',
    notes: 'Managed Device Attestation (ACME device-attest-01).',
  },
  // --- FIDO Metadata Service (standards §9) ----------------------------------------------------
  {
    id: 'fido-mds3-root-globalsign-r3',
    vendor: 'FIDO Alliance (GlobalSign)',
    name: 'GlobalSign Root CA - R3',
    formats: ['webauthn'],
    spkiSha256: '706bb1017c855c59169bad5c1781cf597f12d2cad2f63d1a4aa37493800ffb80',
    certificateSha256: ['cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b'],
    source: 'https://secure.globalsign.com/cacert/root-r3.crt',
    role: 'root',
    notes:
      'Signs the production MDS3 BLOB chain (https://fidoalliance.org/metadata/), not authenticators: a general web PKI root.',
  },
  {
    id: 'globalsign-root-r1',
    vendor: 'GlobalSign',
    name: 'GlobalSign Root CA (R1)',
    formats: ['webauthn'],
    spkiSha256: '2bcee858158cf5465fc9d76f0dfa312fef25a4dca8501da9b46b67d1fbfa1b64',
    certificateSha256: ['ebd41040e4bb3ec742c9e381d31ef2a41a48b6685c96e7cef3c1df6cd4331c99'],
    source: 'https://secure.globalsign.com/cacert/root-r1.crt',
    role: 'root',
    notes:
      'Roots the attest.android.com certificates of historic WebAuthn android-safetynet statements (SafetyNet is shut down); a general web PKI root.',
  },
  {
    id: 'globalsign-root-r2',
    vendor: 'GlobalSign',
    name: 'GlobalSign Root CA - R2',
    formats: ['webauthn'],
    spkiSha256: '8a27b5557b4bec7cc0305fbf3d53d1f71cd3f34910c5d65e27ecddb82077ba3d',
    certificateSha256: [
      '69e2d06c30f366166165e91d68d1cee5cc47584a80227e76666086c0107241eb',
      'ca42dd41745fd0b81eb902362cf9d8bf719da1bd1b1efc946f5b4c99f42c1b9e',
    ],
    source: 'https://secure.globalsign.com/cacert/root-r2.crt',
    role: 'root',
    notes:
      'Expired 2021-12-15. Roots older android-safetynet statements; verify recorded evidence at its time.',
  },
  {
    id: 'fido-mds3-conformance-root',
    vendor: 'FIDO Alliance',
    name: 'FAKE Root FAKE (MDS3 conformance)',
    formats: ['webauthn'],
    spkiSha256: 'cc2416be84e88754043fcab84602009cdc6a5a7931840574af1b8203d9701149',
    certificateSha256: ['66d9770b5771109b8d83557ba27d589b56bdb3bfdbdea2d242c4ca0d5770a47c'],
    source: 'https://fidoalliance.org/certification/functional-certification/conformance/',
    role: 'root',
    trust: 'never',
    notes: 'Conformance-test root: signs fake BLOBs. Never an anchor in production.',
  },
  // --- Google Cloud HSM (standards §12) --------------------------------------------------------
  {
    id: 'cavium-liquidsecurity-root',
    vendor: 'Marvell (Cavium)',
    name: 'localca.liquidsecurity.cavium.com',
    formats: ['cloud-hsm'],
    spkiSha256: '78adcba1f38bee304bc44d6a086503f2940037d4b3d58a1bf66a3282ef58cd41',
    certificateSha256: ['975757f0d76640e03d14760f8fc9e3a55826fa7807b2c392f7801a95bd69cc28'],
    source:
      'https://www.marvell.com/products/security-solutions/nitrox-hs-adapters/software-key-attestation.html',
    role: 'root',
    notes:
      'Manufacturer chain root (X.509 v1, no basicConstraints); expired 2025-11-16: verify at a pinned time.',
  },
  {
    id: 'google-hawksbill-root-v1-prod',
    vendor: 'Google Cloud',
    name: 'Hawksbill Root v1 prod',
    formats: ['cloud-hsm'],
    spkiSha256: '11fa0c80423f28ee497a189bed4f7043629be7a7642d20eee9347a73c1ff46e8',
    certificateSha256: ['46b5fd351d56a0721ca0afcd1731c0f7b74e3941eb818bfd0ec36e29df0de095'],
    source: 'https://www.gstatic.com/cloudhsm/roots/global_1498867200.pem',
    role: 'root',
    notes: 'Owner chain root of Cloud HSM attestations (https://cloud.google.com/kms/docs/attest-key).',
  },
];

/** The catalogue, frozen deeply: nothing at run time may add to or change it. */
export const CATALOG: readonly CatalogEntry[] = Object.freeze(
  entries.map((e) =>
    Object.freeze({
      ...e,
      formats: Object.freeze([...e.formats]),
      certificateSha256: Object.freeze([...e.certificateSha256]),
    }),
  ),
);
