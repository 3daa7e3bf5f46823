/**
 * The expectations table: for every vector file of ../shared/vectors (and the documented
 * combinations of files), what the public API must do with it — accept, reject with a code, or
 * (support files) parse — at which pinned time, and why a genuine vector is refused on purpose.
 * Written by hand from MANIFEST.md (whose `expected` column is free text); rules are tried in
 * order and the first match wins, so specific files come before folder-wide rules.
 */
import type { Expectation } from './model.js';

/** One rule: a file path under vectors/ (exact) or a pattern, and what it must do. */
export interface ExpectationRule {
  readonly match: string | RegExp;
  readonly expect: Expectation;
}

const at = (iso: string): number => Date.parse(iso);
const accept = (iso?: string, note?: string): Expectation => ({
  outcome: 'accept',
  ...(iso ? { at: at(iso) } : {}),
  ...(note ? { note } : {}),
});
const parse = (note?: string): Expectation => ({ outcome: 'parse', ...(note ? { note } : {}) });
const reject = (
  code: string,
  reason: string,
  extra: Omit<Expectation, 'outcome' | 'code' | 'reason'> = {},
): Expectation => ({ outcome: 'reject', code, reason, ...extra });

/** Inside every YubiKey chain's validity (2016–2052, 2014–2050, 2024-12-01–9999). */
const YUBIKEY_AT = '2026-01-15T00:00:00Z';
/** Inside every Windows Hello AIK chain (latest notBefore 2022-01-12, earliest notAfter 2025-03-21). */
const AIK_AT = '2022-06-01T00:00:00Z';
/** Infineon EK 2015–2030, GCE vTPM 2022–2052 (MANIFEST.md §4). */
const EK_AT = '2026-06-01T00:00:00Z';

const SOFTWARE_ROOT =
  'real Pixel (marlin) chains that end at the AOSP software attestation root: not hardware-backed, refused even when trusted';
const MLDSA =
  'real Pixel (tokay) chains whose leaf key is ML-DSA (post-quantum): the path key policy has no ML-DSA, a stable refusal';

const SHA1_AIK =
  'real Windows Hello TPM: the AIK signs TPMS_ATTEST with RSASSA-SHA1 (COSE alg -65535, RS1), which the default algorithm policy refuses (extraData and Name check out first)';

export const EXPECTATIONS: readonly ExpectationRule[] = [
  // --- yubikey-piv (MANIFEST.md §1) --------------------------------------------------------
  ...[
    'ovh-yubico-piv-checker/yk-fw4.3.5-sn5970478_9a-slot-attestation.pem',
    'ovh-yubico-piv-checker/yk-fw4.3.5-sn5970478_f9-intermediate.pem',
    'ovh-yubico-piv-checker/yk-fw5.7.4-sn32718477_9a-slot-attestation.pem',
    'ovh-yubico-piv-checker/yk-fw5.7.4-sn32718477_f9-intermediate.pem',
    'piv-go/yk-a_2016-piv-root_9a-slot-attestation.pem',
    'piv-go/yk-a_2016-piv-root_f9-intermediate.pem',
    'piv-go/yk-b_2018-u2f-root_9a-slot-attestation.pem',
    'piv-go/yk-b_2018-u2f-root_f9-intermediate_no-basicConstraints.pem',
  ].map((f) => ({ match: `yubikey-piv/${f}`, expect: accept(YUBIKEY_AT, 'slot certificate with its F9') })),
  // piv-go InvalidChain / InvalidChain2: a slot certificate with another key's F9.
  {
    match: /^yubikey-piv\/piv-go\/yk-[ab]_.* ⊕ /,
    expect: reject(
      'PATH_SIGNATURE_INVALID',
      "negative by construction: a slot certificate with another YubiKey's F9 certificate",
      {
        at: at(YUBIKEY_AT),
      },
    ),
  },
  { match: /^yubikey-piv\/.*_ssh-pubkey\.txt$/, expect: parse('OpenSSH key equal to the slot key') },
  { match: /^yubikey-piv\/.*\.pem$/, expect: parse('root or intermediate CA') },

  // --- tpm (MANIFEST.md §4) -------------------------------------------------------------------
  {
    match: /^tpm\/webauthn-tpm2-certify\/[^/]+\/(certInfo_TPMS_ATTEST\.bin|sig\.bin)$/,
    expect: reject('ALGORITHM_NOT_ALLOWED', SHA1_AIK),
  },
  {
    match: /^tpm\/webauthn-tpm2-certify\/[^/]+\/aik-chain\.pem$/,
    expect: accept(AIK_AT, 'AIK chain to Microsoft TPM Root CA 2014'),
  },
  { match: /^tpm\/webauthn-tpm2-certify\//, expect: parse() },
  { match: /^tpm\/go-tpm-tools\/gce-vtpm-certs\//, expect: accept(EK_AT, 'GCE vTPM EK/AK certificate') },
  { match: 'tpm/intel-secl/infineon-slb9670-ek-cert_optiga-rsa-mfr-ca-007.pem', expect: accept(EK_AT) },
  {
    match: 'tpm/intel-secl/infineon-ek-cert_CORRUPTED-header_negative.b64',
    expect: reject(
      'DER_TRAILING_DATA',
      'negative by construction: an EK certificate with a corrupted DER header',
    ),
  },
  {
    match: /^tpm\/keylime-test-data\/(quote|quotesig)\.out$/,
    expect: accept(undefined, 'TPM2_Quote and its AK signature'),
  },
  { match: /^tpm\/keylime-test-data\/ak\.(pub|name)$/, expect: accept(undefined, 'Name(ak.pub) = ak.name') },
  { match: /^tpm\//, expect: parse() },

  // --- android-key (MANIFEST.md §3) ---------------------------------------------------------
  // Device chains at their creationDateTime (MANIFEST) with the challenge of their expected JSON.
  {
    match: 'android-key/android-keyattestation/akita/sdk34/SB_RSA_NONE.pem',
    expect: { outcome: 'accept', at: at('2024-09-26T22:31:27.639Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/akita/sdk34/TEE_EC_NONE.pem',
    expect: { outcome: 'accept', at: at('2024-09-26T22:31:25.586Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/akita/sdk34/TEE_RSA_BASE+IMEI.pem',
    expect: { outcome: 'accept', at: at('2024-09-26T22:31:25.676Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/akita/sdk34/TEE_RSA_NONE.pem',
    expect: { outcome: 'accept', at: at('2024-09-26T22:31:24.700Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/akita/sdk34/TEE_RSA_NONE_USERAUTH.pem',
    expect: { outcome: 'accept', at: at('2024-09-26T22:31:25.092Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/blueline/sdk28/SB_RSA_NONE.pem',
    expect: { outcome: 'accept', at: at('2020-08-29T08:21:14.215Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/blueline/sdk28/SB_RSA_NONE_USERAUTH.pem',
    expect: { outcome: 'accept', at: at('2020-08-29T08:21:07.129Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/blueline/sdk28/TEE_EC_NONE.pem',
    expect: { outcome: 'accept', at: at('2018-09-28T23:40:35.062Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/blueline/sdk28/TEE_RSA_BASE+IMEI.pem',
    expect: { outcome: 'accept', at: at('2018-09-28T23:40:35.177Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/blueline/sdk28/TEE_RSA_NONE.pem',
    expect: { outcome: 'accept', at: at('2018-09-28T23:40:28.279Z'), challenge: 'Y2hhbGxlbmdl' },
  },
  {
    match: 'android-key/android-keyattestation/caiman/sdk36/SB_EC_RKP.pem',
    expect: {
      outcome: 'accept',
      at: at('2025-09-26T15:30:46.327Z'),
      challenge: 'N2NjYWMxZWEtNDg0NS00ODJlLTg1OGQtZjZmYTlhYThjMjk1',
    },
  },
  {
    match: 'android-key/android-keyattestation/caiman/sdk36/TEE_EC_RKP.pem',
    expect: {
      outcome: 'accept',
      at: at('2025-09-26T15:31:20.964Z'),
      challenge: 'ZDY4OGQ3NjMtNjExOC00Y2E2LTk0YjItZTZjZDllZDdlNGU0',
    },
  },
  {
    match: 'android-key/android-keyattestation/marlin/sdk29/TEE_EC_NONE.pem',
    expect: reject('ANDROID_SOFTWARE_ROOT', SOFTWARE_ROOT, {
      at: at('2019-10-29T00:21:52Z'),
      challenge: 'Y2hhbGxlbmdl',
    }),
  },
  {
    match: 'android-key/android-keyattestation/marlin/sdk29/TEE_RSA_NONE.pem',
    expect: reject('ANDROID_SOFTWARE_ROOT', SOFTWARE_ROOT, {
      at: at('2019-10-29T00:21:50Z'),
      challenge: 'Y2hhbGxlbmdl',
    }),
  },
  {
    match: 'android-key/android-keyattestation/sony-xperia10-iii/sdk33/TEE_EC.pem',
    expect: {
      outcome: 'accept',
      at: at('2026-06-04T14:59:05Z'),
      challenge: 'Pq_k1d0AkN5aQrQytCSBr1zimWNlayWExZpJLeFtAMk',
    },
  },
  {
    match: 'android-key/android-keyattestation/tegu/sdk36/SB_EC_2026_ROOT.pem',
    expect: {
      outcome: 'accept',
      at: at('2026-02-25T00:37:21.867Z'),
      challenge: 'OTA1NzhlMWQtZjViZi00Y2NmLWEyN2YtYTRmNGQ4OWVlMjFm',
    },
  },
  {
    match: 'android-key/android-keyattestation/tegu/sdk36/TEE_EC_2026_ROOT.pem',
    expect: {
      outcome: 'accept',
      at: at('2026-02-24T00:56:03.060Z'),
      challenge: 'NjQxN2Y5MmMtZGFlZi00Y2MxLTg4MjgtNWJiMzkzMzhmZmQ1',
    },
  },
  {
    match: 'android-key/android-keyattestation/tegu/sdk37/TEE_MAX_USAGE_COUNT.pem',
    expect: {
      outcome: 'accept',
      at: at('2026-07-06T18:15:16.745Z'),
      challenge: 'NWMwOTZmMGYtZTk5OC00MDU5LWJkZWMtYmUzNmQ5MjhiZDhk',
    },
  },
  {
    match: 'android-key/android-keyattestation/tegu/sdk37/TEE_TRUSTED_CONF.pem',
    expect: {
      outcome: 'accept',
      at: at('2026-07-01T21:56:05.900Z'),
      challenge: 'YjE2MzFkYWItMmU2Yy00NjVmLThhN2YtMjRhNjE1MmE1MThh',
    },
  },
  {
    match: 'android-key/android-keyattestation/tokay/sdk37/TEE_MLDSA_FACTORY.pem',
    expect: reject('ALGORITHM_UNSUPPORTED', MLDSA, {
      at: at('2026-04-28T11:20:15.126Z'),
      challenge: 'Y2hhbGxlbmdl',
    }),
  },
  {
    match: 'android-key/android-keyattestation/tokay/sdk37/TEE_MLDSA_RKP.pem',
    expect: reject('ALGORITHM_UNSUPPORTED', MLDSA, {
      at: at('2026-04-28T13:50:50.243Z'),
      challenge: 'Y2hhbGxlbmdl',
    }),
  },
  {
    match: 'android-key/android-keyattestation/invalid/tags_not_in_ascending_order.pem',
    expect: reject(
      'SIGNATURE_INVALID',
      'negative by construction: the leaf was edited (tags reordered), its signature no longer verifies',
      {
        at: at('2024-01-01T00:00:00Z'),
      },
    ),
  },
  {
    match: 'android-key/android-keyattestation/invalid/malformed_rot_device_locked.pem',
    expect: reject(
      'ATTESTATION_MALFORMED',
      'negative by construction: RootOfTrust.deviceLocked is not a DER BOOLEAN (android/keyattestation reads it leniently)',
      {
        at: at('2024-01-01T00:00:00Z'),
      },
    ),
  },
  {
    match: 'android-key/android-keyattestation/p256_sha384_intermediate.pem',
    expect: accept('2024-10-20T00:00:00Z', 'synthetic chain, its last certificate as anchor'),
  },
  // google/android-key-attestation: cert0..cert3 of a folder are one chain; challenge "abc", openssl -attime 1570000000.
  ...['EC', 'RSA'].map((alg) => ({
    match: new RegExp(
      `^android-key/google-android-key-attestation/algorithm_${alg}_SecurityLevel_TEE/cert[0-3]\\.pem$`,
    ),
    expect: { outcome: 'accept', at: 1_570_000_000_000, challenge: 'YWJj' } as Expectation,
  })),
  {
    match:
      /^android-key\/google-android-key-attestation\/algorithm_EC_SecurityLevel_StrongBox\/cert[0-3]\.pem$/,
    expect: reject(
      'PATH_SIGNATURE_INVALID',
      'the StrongBox EC leaf names cert2 as its issuer but is not signed by its key (OpenSSL: certificate signature failure)',
      {
        at: 1_570_000_000_000,
        challenge: 'YWJj',
      },
    ),
  },
  {
    match:
      /^android-key\/google-android-key-attestation\/algorithm_RSA_SecurityLevel_StrongBox\/cert[0-3]\.pem$/,
    expect: reject(
      'PATH_NOT_FOUND',
      'the StrongBox RSA chain ends at a 2018 StrongBox root (serialNumber=e35d38c6897d47e8), not at a Google root the policy trusts',
      {
        at: 1_570_000_000_000,
        challenge: 'YWJj',
      },
    ),
  },
  {
    match: 'android-key/google-android-key-attestation/test-cert-suspended.pem',
    expect: reject(
      'CERT_REVOKED',
      'the Android status list marks this certificate SUSPENDED (KEY_COMPROMISE)',
    ),
  },
  { match: /^android-key\//, expect: parse() },

  // --- apple (MANIFEST.md §5) -------------------------------------------------------------------
  {
    match: 'apple/webauthn4j/app-attest_kayak_2020.json',
    expect: accept('2020-09-28T00:00:00Z', 'production App Attest'),
  },
  {
    match: 'apple/bas-d-appattest/attestation.json',
    expect: accept('2021-04-14T09:55:20Z', 'development App Attest'),
  },
  // Leaves expired 2024-12-21 / 2025-01-08 (node-app-attest never checks dates): inside their validity.
  {
    match: /^apple\/node-app-attest\/attestation-(production|development)\.json$/,
    expect: accept('2024-06-01T00:00:00Z'),
  },
  {
    match: /^apple\/.*\/assertion\.json$/,
    expect: accept(undefined, 'App Attest assertion by the attested key'),
  },
  { match: /^apple\//, expect: parse() },

  // --- cloud-hsm (MANIFEST.md §7) ----------------------------------------------------------------
  // Cavium root expired 2025-11-16; the KMS partition certificates date from 2018–2019.
  {
    match: /^cloud-hsm\/gcp-cloudkms-smallstep\/(ec|rsa)\.(dat\.gz|certs\.pem)$/,
    expect: accept('2025-01-15T00:00:00Z'),
  },
  { match: 'cloud-hsm/gcp-cloudkms-smallstep/aes.certs.pem', expect: accept('2025-01-15T00:00:00Z') },
  {
    match: 'cloud-hsm/gcp-cloudkms-smallstep/aes.dat.gz',
    expect: reject(
      'ATTESTATION_INVALID',
      'a genuine attestation of an AES key: signature and both chains verify, but a secret key has no public key to certify',
      { at: at('2025-01-15T00:00:00Z') },
    ),
  },
  {
    match: /^cloud-hsm\/peculiar-attestation\/marvell-cloudhsm-2024\./,
    expect: accept('2025-06-01T00:00:00Z'),
  },
  { match: /^cloud-hsm\//, expect: parse() },

  // --- fido-mds (MANIFEST.md §6) -------------------------------------------------------------
  {
    match: 'fido-mds/webauthn4j/production-mds3-blob_no9_2021-11.jwt',
    expect: accept('2021-11-15T00:00:00Z'),
  },
  {
    match: 'fido-mds/fido2-lib/production-mds3-blob_no12_2022-02.jwt',
    expect: accept('2022-02-15T00:00:00Z'),
  },
  { match: 'fido-mds/simplewebauthn/fake-mds3-blob.jwt', expect: accept('2023-11-01T00:00:00Z') },
  {
    match: 'fido-mds/go-webauthn/mds3-spec-example-blob.jwt',
    expect: reject(
      'MDS_STALE',
      'the MDS3 spec example: its signing certificates start 2021-04-19, a year after its nextUpdate (2020-03-30), so it is never current',
      { at: at('2022-01-01T00:00:00Z') },
    ),
  },
  {
    match: /^fido-mds\/simplewebauthn\/verifyAttestationWithMetadata\/should-verify-/,
    expect: accept('2025-01-01T00:00:00Z'),
  },
  {
    match:
      /^fido-mds\/simplewebauthn\/verifyAttestationWithMetadata\/should-not-validate-certificate-path-when-authenticator-is-self-refere/,
    expect: accept('2025-01-01T00:00:00Z'),
  },
  {
    match:
      /^fido-mds\/simplewebauthn\/verifyAttestationWithMetadata\/should-not-verify-attestation-with-revoked/,
    // MANIFEST: {"verified": false, "error": "revoked certificate"}. SimpleWebAuthn learns the
    // revocation from the CRL it fetches for the GTS CA 1D4 leaf at test time; the vector holds
    // no CRL and no REVOKED status report, so from its data alone the path and the entry are
    // valid. Revocation is the pipeline's separate stage (a CRL given to it would reject with
    // CERT_REVOKED); this entry checks the MDS part only.
    expect: accept('2022-02-01T00:00:00Z', 'MANIFEST negative needs a CRL that is not in the vector'),
  },
  { match: /^fido-mds\//, expect: parse() },

  // --- roca (MANIFEST.md §8) --------------------------------------------------------------------
  ...[
    'cert04.pem',
    'cert05.pem',
    'csr05.pem',
    'key04.pgp',
    'mod01.txt',
    'mod02.txt',
    'mod03.txt',
    'mod08.txt',
    'mod09.txt',
    'privkey05.pem',
    'pubkey03.pem',
    'ssh06.pub',
  ].map((f) => ({
    match: `roca/crocs-muni-roca/${f}`,
    expect: reject(
      'KEY_ROCA_VULNERABLE',
      'the RSA modulus has the ROCA fingerprint (CVE-2017-15361): factorable',
    ),
  })),
  { match: /^roca\//, expect: accept(undefined, 'no modulus has the ROCA fingerprint') },
];

/** The expectation for `file` (or combination), or null when the table has none. */
export function expectationFor(
  file: string,
  rules: readonly ExpectationRule[] = EXPECTATIONS,
): Expectation | null {
  for (const r of rules)
    if (typeof r.match === 'string' ? r.match === file : r.match.test(file)) return r.expect;
  return null;
}
