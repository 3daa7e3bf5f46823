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

const NONE = 'fmt "none": the authenticator gave no attestation, so nothing vouches for where the key lives';
const SELF =
  'self attestation: signed by the credential key itself, so nothing vouches for where the key lives';

const SHA1_AIK =
  'real Windows Hello TPM: the AIK signs TPMS_ATTEST with RSASSA-SHA1 (COSE alg -65535, RS1), which the default algorithm policy refuses (extraData and Name check out first)';

export const EXPECTATIONS: readonly ExpectationRule[] = [
  // --- webauthn (MANIFEST.md §2) -------------------------------------------------------------
  // Provenance decisions, on purpose: none and self attestations prove nothing about the
  // authenticator (ATTESTATION_NONE / ATTESTATION_SELF); SHA-1 signatures (Windows Hello RS1,
  // SHA-1 certificates) are refused by the default algorithm policy; strict DER and canonical
  // CBOR. SafetyNet responses are pinned 30 s after their JWS timestampMs.
  ...[
    'fido2-lib/challengeResponseAttestationNoneMsgB64Url.json',
    'fido2-net-lib/attestationNoneResponse.json',
    'fido2-net-lib/attestationResultsNone.json',
    'go-webauthn/ShouldVerifyNoneAttestationEC256Titan.json',
    'go-webauthn/testCredentialRequestResponses-0.json',
    'py_webauthn/general__verifies_none_attestation_response.json',
    'simplewebauthn/verifyRegistrationResponse/should-not-set-rpid-in-registrationinfo-when-not-expected.json',
    'simplewebauthn/verifyRegistrationResponse/should-return-authenticator-extension-output.json',
    'simplewebauthn/verifyRegistrationResponse/should-return-credential-backup-info.json',
    'simplewebauthn/verifyRegistrationResponse/should-support-multiple-possible-origins.json',
    'simplewebauthn/verifyRegistrationResponse/should-support-multiple-possible-rp-ids.json',
    'simplewebauthn/verifyRegistrationResponse/should-verify-none-attestation-w-rsa-public-key.json',
    'simplewebauthn/verifyRegistrationResponse/should-verify-none-attestation.json',
  ].map((f) => ({ match: `webauthn/${f}`, expect: reject('ATTESTATION_NONE', NONE) })),
  // The source's negative comes from a custom challenge function / expected type (not data); the data is fmt none.
  ...[
    'simplewebauthn/verifyRegistrationResponse/should-fail-verification-if-custom-challenge-verifier-returns-a-promis.json',
    'simplewebauthn/verifyRegistrationResponse/should-fail-verification-if-custom-challenge-verifier-returns-false.json',
    'simplewebauthn/verifyRegistrationResponse/should-throw-when-response-type-is-not-expected-value.json',
    'simplewebauthn/verifyRegistrationResponse/should-throw-when-response-type-is-not-in-list-of-expected-types.json',
  ].map((f) => ({
    match: `webauthn/${f}`,
    expect: reject(
      'ATTESTATION_NONE',
      `${NONE}; the source's own negative needs a custom challenge function or client data type, which is not data`,
    ),
  })),
  ...[
    'fido2-lib/challengeResponseAttestationPackedWHB64UrlMsg.json',
    'fido2-net-lib/attestationResultsPacked512.json',
    'go-webauthn/ShouldVerifySelfAttestationEC256MacOS.json',
    'simplewebauthn/verifyRegistrationResponse/should-pass-verification-if-custom-challenge-verifier-returns-a-promis.json',
    'simplewebauthn/verifyRegistrationResponse/should-pass-verification-if-custom-challenge-verifier-returns-true.json',
    'simplewebauthn/verifyRegistrationResponse/should-verify-packed-attestation-with-rsa-pss-sha-256-public-key.json',
    'simplewebauthn/verifyRegistrationResponse/should-verify-packed-attestation-with-rsa-pss-sha-384-public-key.json',
    'simplewebauthn/verifyRegistrationResponse/should-verify-packed-ec2-attestation.json',
  ].map((f) => ({ match: `webauthn/${f}`, expect: reject('ATTESTATION_SELF', SELF) })),
  ...[
    'fido2-lib/challengeResponseAttestationTpmB64UrlMsg.json',
    'py_webauthn/tpm__verify_attestation_dell_xps_13.json',
    'py_webauthn/tpm__verify_attestation_lenovo_carbon_x1.json',
    'py_webauthn/tpm__verify_attestation_surface_pro_4.json',
    'simplewebauthn/tpm/should-verify-tpm-response-with-ecc-public-area-type.json',
    'simplewebauthn/tpm/should-verify-tpm-response-with-non-spec-compliant-tcgattpm-san-struct.json',
    'simplewebauthn/tpm/should-verify-tpm-response-with-spec-compliant-tcgattpm-san-structure.json',
    'simplewebauthn/verifyRegistrationResponse/should-validate-tpm-rsa-response-sha1.json',
  ].map((f) => ({ match: `webauthn/${f}`, expect: reject('ALGORITHM_NOT_ALLOWED', SHA1_AIK) })),
  ...[
    'py_webauthn/fido_u2f__verify_attestation_from_fido_conformance.json',
    'simplewebauthn/verifyRegistrationResponse/should-verify-fido-u2f-attestation-that-specifies-sha-1-in-its-leaf-ce.json',
  ].map((f) => ({
    match: `webauthn/${f}`,
    expect: reject(
      'ALGORITHM_NOT_ALLOWED',
      'FIDO conformance U2F attestation certificate signed with SHA-1, which the default algorithm policy refuses',
    ),
  })),
  ...[
    'fido2-net-lib/attestationTPMSHA1Response.json',
    'fido2-net-lib/attestationTPMSHA256Response.json',
    'simplewebauthn/tpm/should-verify-sha1-tpm-response.json',
    'simplewebauthn/tpm/should-verify-sha256-tpm-response.json',
  ].map((f) => ({
    match: `webauthn/${f}`,
    expect: reject(
      'EXTENSION_MALFORMED',
      'FIDO conformance ("fake") TPM attestation CA: its authorityKeyIdentifier encodes keyIdentifier [0] as constructed, which is not DER (X.690 §8.14); the strict certificate parser refuses it (MANIFEST quirk 10)',
    ),
  })),
  {
    match:
      'webauthn/simplewebauthn/packed/should-verify-broken-packed-response-from-chrome-virtual-authenticator.json',
    expect: reject(
      'EXTENSION_MALFORMED',
      'Chrome virtual (software) authenticator: basicConstraints encodes the DEFAULT cA FALSE, which DER forbids (X.690 §11.5; MANIFEST quirk 10)',
    ),
  },
  ...[
    'py_webauthn/general__verify_pqc_ml_dsa_44_packed_response.json',
    'py_webauthn/general__verify_pqc_ml_dsa_65_packed_response.json',
    'py_webauthn/general__verify_pqc_ml_dsa_87_packed_response.json',
  ].map((f) => ({
    match: `webauthn/${f}`,
    expect: reject(
      'ALGORITHM_UNSUPPORTED',
      'ML-DSA (post-quantum) credential key: no ML-DSA support, a stable refusal',
    ),
  })),
  {
    match: 'webauthn/python-fido2/packed-mldsa87_makeCredential.json',
    expect: reject(
      'INPUT_UNRECOGNIZED',
      'a CTAP2 authenticatorMakeCredential map (integer keys) for an ML-DSA-87 credential: not WebAuthn registration input, and no ML-DSA support',
    ),
  },
  ...['python-fido2/none_attestation.json', 'python-fido2/none_windows_hello_attestation.json'].map((f) => ({
    match: `webauthn/${f}`,
    expect: reject(
      'WEBAUTHN_MALFORMED',
      'the python-fido2 test passes a "deadbeef…" clientDataHash that is not 32 bytes: a SHA-256 hash is',
    ),
  })),
  {
    match: 'webauthn/python-fido2/tpm_windows_hello_attestation.json',
    expect: reject(
      'ATTESTATION_MALFORMED',
      'the recorded tpm attStmt has no "ver" (WebAuthn §8.3 requires "2.0"); it is RS1 (SHA-1) besides',
    ),
  },
  {
    match: 'webauthn/fido2-lib/challengeResponseAttestationSafetyNetMsgB64Url.json',
    expect: reject(
      'WEBAUTHN_MALFORMED',
      'a 2018 pre-standard client data ({challenge, origin, hashAlg}) without "type" (WebAuthn §7.1 step 7); its SafetyNet ctsProfileMatch is false besides',
    ),
  },
  {
    match: 'webauthn/fido2-lib/challengeResponseJustExtensionsMsgB64Url.json',
    expect: reject(
      'CBOR_MALFORMED',
      'the attestation object encodes an integer in a longer form than needed: CTAP2 canonical CBOR requires the shortest (CTAP2 §8)',
    ),
  },
  {
    match: 'webauthn/fido2-lib/challengeResponseNoneAttestationDataExtensionsMsgB64Url.json',
    expect: parse('attestation object only (no client data): parsed'),
  },
  {
    match: 'webauthn/fido2-net-lib/json2.json',
    expect: reject(
      'NONCE_MISMATCH',
      "negative by construction: json2's client data (https://webauthn.org) carries another challenge than options2",
    ),
  },
  {
    match: 'webauthn/go-webauthn/safetyNetTestResponse-0.json',
    expect: reject(
      'SIGNATURE_INVALID',
      'the SafetyNet JWS signature does not verify with its attest.android.com certificate (checked independently with Node crypto)',
      {
        at: at('2019-03-19T20:41:13Z'),
      },
    ),
  },
  // SafetyNet positives at their JWS timestampMs (+30 s).
  {
    match: 'webauthn/py_webauthn/android_safetynet__verify_attestation_android_safetynet.json',
    expect: accept('2021-09-03T21:07:50Z', 'android-safetynet, deprecated'),
  },
  {
    match: 'webauthn/python-fido2/android_safetynet_attestation.json',
    expect: accept('2018-11-29T09:09:58Z', 'android-safetynet, deprecated'),
  },
  {
    match: 'webauthn/simplewebauthn/android-safetynet/attestationAndroidSafetyNet.json',
    expect: accept('2019-08-10T08:04:52Z', 'android-safetynet, deprecated'),
  },
  {
    match: 'webauthn/simplewebauthn/android-safetynet/safetyNetUsingGSR1RootCert.json',
    expect: accept('2021-07-30T12:40:44Z', 'android-safetynet, deprecated'),
  },
  ...[
    'simplewebauthn/verifyRegistrationResponse/should-enforce-cts-check-by-default.json',
    'simplewebauthn/verifyRegistrationResponse/should-skip-cts-check-when-enforcement-option-is-false.json',
  ].map((f) => ({
    match: `webauthn/${f}`,
    expect: reject(
      'ATTESTATION_INVALID',
      'SafetyNet ctsProfileMatch is false (the device failed Android compatibility): always enforced, there is no option to skip it',
      { at: at('2025-06-09T20:41:12Z'), messageIncludes: 'ctsProfileMatch' },
    ),
  })),
  {
    match: 'webauthn/py_webauthn/general__raises_when_root_cert_invalid_for_response.json',
    expect: reject(
      'PATH_NOT_FOUND',
      'negative by construction: the chain is checked against a root that is not its own',
    ),
  },
  {
    match: 'webauthn/py_webauthn/fido_u2f__verify_attestation_with_unsupported_token_binding_status.json',
    expect: reject(
      'WEBAUTHN_MALFORMED',
      'negative by construction: tokenBinding.status "not-supported" is not a status WebAuthn defines',
    ),
  },
  {
    match: 'webauthn/py_webauthn/general__raises_useful_error_on_bad_attestation_object.json',
    expect: reject('CBOR_MALFORMED', 'negative by construction: an empty attestation object'),
  },
  ...['packed', 'tpm'].map((d) => ({
    match: `webauthn/simplewebauthn/${d}/should-fail-if-id-fido-gen-ce-aaguid-extension-is-present-and-does-not.json`,
    expect: reject(
      'AAGUID_MISMATCH',
      'negative by construction: the id-fido-gen-ce-aaguid extension differs from the AAGUID (WebAuthn §8.2.1)',
    ),
  })),
  ...[
    'simplewebauthn/verifyRegistrationResponse/should-throw-an-error-if-origin-not-in-list-of-expected-origins.json',
    'simplewebauthn/verifyRegistrationResponse/should-throw-when-response-origin-is-not-expected-value.json',
  ].map((f) => ({
    match: `webauthn/${f}`,
    expect: reject('ORIGIN_MISMATCH', 'negative by construction: another origin'),
  })),
  {
    match:
      'webauthn/simplewebauthn/verifyRegistrationResponse/should-throw-an-error-if-rp-id-not-in-list-of-possible-rp-ids.json',
    expect: reject('RPID_MISMATCH', 'negative by construction: another RP ID'),
  },
  {
    match:
      'webauthn/simplewebauthn/verifyRegistrationResponse/should-throw-when-response-challenge-is-not-expected-value.json',
    expect: reject('NONCE_MISMATCH', 'negative by construction: another challenge'),
  },
  // Options, assertions, roots.
  {
    match:
      /^webauthn\/fido2-net-lib\/(assertion.*|attestationOptions.*|attestation.*Options|options\d)\.json$/,
    expect: parse(),
  },
  { match: /^webauthn\/.*\.(pem|der)$/, expect: parse('root certificate') },
  // Everything else in webauthn/ is a genuine attestation (packed full, fido-u2f, android-key,
  // apple, tpm SHA-256) that must verify at its verifyAt, or one minute after its latest x5c notBefore.
  { match: /^webauthn\//, expect: accept() },

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
    expect: {
      outcome: 'accept',
      at: at('2026-04-28T11:20:15.126Z'),
      challenge: 'Y2hhbGxlbmdl',
      note: 'ML-DSA attested key (reported quirk)',
    },
  },
  {
    match: 'android-key/android-keyattestation/tokay/sdk37/TEE_MLDSA_RKP.pem',
    expect: {
      outcome: 'accept',
      at: at('2026-04-28T13:50:50.243Z'),
      challenge: 'Y2hhbGxlbmdl',
      note: 'ML-DSA attested key (reported quirk)',
    },
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
