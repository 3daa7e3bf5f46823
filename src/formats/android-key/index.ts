/**
 * The Android Key Attestation format (`android-key`, standards.md §4; docs/android.md).
 *
 * Evidence: the certificate chain KeyMint returns for a key created with an attestation
 * challenge, leaf first (PEM bundle), or a CSR whose attestation bundle carries a statement of
 * type ANDROID_KEY_STATEMENT_TYPE (`${PROVENANCE_ARC}.2.4`) whose `stmt` is the attestation
 * certificate (DER Certificate) and whose bundle certificates are the rest of the chain.
 *
 * What this module checks (path, revocation and policy are the shared pipeline):
 * 1. The chain is ordered by name from its one bottom certificate; at most
 *    MAX_CHAIN_CERTIFICATES certificates.
 * 2. KeyDescription (1.3.6.1.4.1.11129.2.1.17) sits on the bottom certificate and decodes
 *    strictly (key-description.ts). §4.5 step 3: the attested key is the key of the certificate
 *    that carries the extension; a certificate below it (signed by the attested key) is the
 *    ATTEST_KEY attack and is refused (ANDROID_ATTEST_KEY_CHAIN). Several certificates with the
 *    extension are accepted only in the guidance case: every one above the bottom is an
 *    ATTEST_KEY key (hardware-enforced purposes exactly [ATTEST_KEY]), which KeyMint uses for
 *    nothing but attestation; the bottom one's description is then the one reported.
 * 3. No certificate is, or is issued by, an AOSP software attestation root (§4.3: the private
 *    keys are public): ANDROID_SOFTWARE_ROOT, whatever anchors the operator configured.
 * 4. attestationChallenge equals the expected nonce, compared in constant time (§4.5 step 4).
 * 5. Tags out of ascending order (§4.6) are reported as the quirk `android-tags-out-of-order`;
 *    since that is what an edited certificate looks like, the attestation certificate's
 *    signature is checked here first and a failure is SIGNATURE_INVALID.
 * 6. For a CSR: the CSR key equals the attested key (KEY_MISMATCH) and the CSR signature
 *    verifies (proof of possession).
 *
 * The path quirks (ANDROID_PATH_QUIRKS) are scoped to the Google root keys.
 *
 * @example
 * const verdict = createVerifier({ policy }).verifyBytes(chainPem, { nonce: challenge });
 * verdict.claims.securityLevel; // 'tee' | 'secure-element' | 'software'
 */
import { timingSafeEqual } from 'node:crypto';
import { bytesEqual, sha256Hex, toHex } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import { PROVENANCE_ARC } from '../../core/oids.js';
import { type Certificate, decodeExtension, parseCertificate } from '../../pki/certificate.js';
import { verifyCsrSignature } from '../../pki/csr.js';
import { describeKey } from '../../pki/keys.js';
import { type PathQuirk, UNDERSTOOD_CRITICAL_EXTENSIONS } from '../../pki/path.js';
import { DEFAULT_SIGNATURE_POLICY, verifySignature } from '../../pki/signature.js';
import { catalogEntry } from '../../trust/catalog/lookup.js';
import type {
  AttestationFormat,
  Claims,
  EvidenceInput,
  FormatContext,
  FormatResult,
  QuirkReport,
} from '../types.js';
import {
  type AndroidKeyDescription,
  type AuthorizationList,
  KEY_DESCRIPTION_OID,
  originName,
  PROVISIONING_INFO_OID,
  parseKeyDescription,
  purposeName,
} from './key-description.js';

export * from './key-description.js';

export const ANDROID_KEY_FORMAT_ID = 'android-key' as const;

/**
 * CSR attestation statement type for Android evidence: `stmt` is the attestation certificate
 * (DER), the bundle's certificates the rest of the chain. `.2.3` is YubiKey PIV, `.2.5` cloud HSM.
 */
export const ANDROID_KEY_STATEMENT_TYPE = `${PROVENANCE_ARC}.2.4`;

/** Most certificates one Android evidence may carry (RKP chains have 5; ATTEST_KEY adds one). */
export const MAX_CHAIN_CERTIFICATES = 10;

/** KeyPurpose ATTEST_KEY (KeyMint 1+). */
const PURPOSE_ATTEST_KEY = 7;

/** The anchor catalogue ids of the Google hardware attestation roots (src/trust/catalog/entries.ts). */
export const GOOGLE_ANCHOR_IDS = {
  /** RSA-4096, serialNumber=f92009e853b6b045: one key in four certificates (2016-2022). */
  rsaRoot: 'google-hardware-attestation-rsa',
  /** ECDSA P-384 "Key Attestation CA1" (2025): RKP chains from February 2026. */
  keyAttestationCa1: 'google-key-attestation-ca1',
} as const;

function catalogKey(id: string): string {
  const entry = catalogEntry(id);
  if (!entry) throw new Error(`anchor catalogue has no entry ${id}`); // a build defect, not input
  return entry.spkiSha256;
}

/** SPKI SHA-256 of the Google hardware attestation roots: the scope of every Android quirk. */
export const GOOGLE_ROOT_KEYS: readonly string[] = [
  catalogKey(GOOGLE_ANCHOR_IDS.rsaRoot),
  catalogKey(GOOGLE_ANCHOR_IDS.keyAttestationCa1),
];

/**
 * The AOSP software attestation roots (keymaster_soft_attestation_keys.xml; standards.md §4.3),
 * by SPKI SHA-256, computed from the vectors' software-roots.pem (android/keyattestation
 * SoftwareRoot.kt) and equal to the catalogue's never-trust entries.
 */
export const SOFTWARE_ROOT_KEYS: readonly string[] = [
  // CN=Android Keystore Software Attestation Root (EC P-256).
  'd5100c7942ef2e8310dc30ef82729680cf48d690735c3f68179a33c7c370f286',
  // OU=Android, O=Google, Inc. (RSA).
  'f2c4746f545946c100e72297f8f946344d7052f03a2f694221f9c893b0e6f711',
];

/**
 * SHA-256 of the software roots' subject Name DER. Used only to refuse (a chain given without
 * its root still names it as the issuer of its top certificate), never to trust.
 */
export const SOFTWARE_ROOT_NAMES: readonly string[] = [
  '875fcdca53472710a9b19b14f767f0436e7366098633404f24436b7e371e6b88',
  '73a8d98ae32851f79d812b8742a9a34187358087d926e6d04335cceacaeef129',
];

/**
 * The named deviations real Android chains need, each only under the Google root keys:
 * - `android-non-ca-intermediate` (position 1): the certificate that signs the attestation
 *   certificate is a device attestation key certificate, which some OEMs issue with
 *   basicConstraints cA FALSE and keyUsage without keyCertSign (Sony Xperia 10 III, MANIFEST
 *   quirk 4), or without basicConstraints (KeyMint ATTEST_KEY certificates). Google's verifier
 *   accepts both.
 * - `android-strongbox-ecdsa-null-params` (position 0): Pixel 3 StrongBox signs the leaf with
 *   ecdsa-with-SHA256 carrying explicit NULL parameters (RFC 5758 §3.2 forbids them).
 * - `android-expired-chain` (any position): factory attestation keys live as long as the
 *   device, and Google's verifier ignores certificate expiry (MANIFEST quirk 5). Not-yet-valid
 *   certificates are still refused; the verdict reports every expired position, and
 *   `claims.provisioning` lets a policy prefer short-lived RKP chains.
 */
export const ANDROID_PATH_QUIRKS: readonly PathQuirk[] = [
  {
    id: 'android-non-ca-intermediate',
    relax: 'non-ca-issuer',
    position: 1,
    anchorSpkiSha256: GOOGLE_ROOT_KEYS,
  },
  {
    id: 'android-non-ca-intermediate',
    relax: 'key-cert-sign-missing',
    position: 1,
    anchorSpkiSha256: GOOGLE_ROOT_KEYS,
  },
  {
    id: 'android-non-ca-intermediate',
    relax: 'ca-flag-missing',
    position: 1,
    anchorSpkiSha256: GOOGLE_ROOT_KEYS,
  },
  {
    id: 'android-strongbox-ecdsa-null-params',
    relax: 'ecdsa-null-params',
    position: 0,
    anchorSpkiSha256: GOOGLE_ROOT_KEYS,
  },
  { id: 'android-expired-chain', relax: 'expired', anchorSpkiSha256: GOOGLE_ROOT_KEYS },
];

/** ML-DSA SPKI algorithm OIDs (FIPS 204; RFC 9881) → claim names. */
const ML_DSA: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.3.17': 'ml-dsa-44',
  '2.16.840.1.101.3.4.3.18': 'ml-dsa-65',
  '2.16.840.1.101.3.4.3.19': 'ml-dsa-87',
};

/** The certificates of the evidence, ordered leaf first, and the ones off that chain. */
export interface OrderedChain {
  readonly chain: readonly Certificate[];
  readonly others: readonly Certificate[];
}

const sameName = (a: Certificate['subject'], b: Certificate['subject']) => bytesEqual(a.der, b.der);
const selfIssued = (c: Certificate) => sameName(c.subject, c.issuer);

/**
 * Order the evidence by name: the one certificate that issues no other is the bottom, then
 * each issuer by name. ATTESTATION_MALFORMED when there is no single bottom certificate.
 */
export function orderChain(certs: readonly Certificate[]): OrderedChain {
  const bottoms = certs.filter(
    (c) => !certs.some((o) => o !== c && !selfIssued(o) && sameName(o.issuer, c.subject)),
  );
  const withKd = bottoms.filter((c) => c.extension(KEY_DESCRIPTION_OID) !== undefined);
  // Copies of a root (the four RSA root certificates) are bottoms of nothing: prefer the bottom
  // that carries KeyDescription, and require that choice to be unique.
  const candidates = withKd.length > 0 ? withKd : bottoms;
  if (candidates.length !== 1) {
    fail(
      'ATTESTATION_MALFORMED',
      `the Android evidence has ${candidates.length} bottom certificates: expected one chain`,
      {
        count: candidates.length,
      },
    );
  }
  const chain: Certificate[] = [candidates[0]!];
  for (;;) {
    const top = chain[chain.length - 1]!;
    if (selfIssued(top)) break;
    const issuer = certs.find((c) => !chain.includes(c) && sameName(c.subject, top.issuer));
    if (!issuer) break;
    chain.push(issuer);
  }
  return { chain, others: certs.filter((c) => !chain.includes(c)) };
}

/** Refuse any certificate that is, or is issued by, a software attestation root (§4.3). */
export function checkNotSoftwareRooted(certs: readonly Certificate[]): void {
  for (const c of certs) {
    const byKey = SOFTWARE_ROOT_KEYS.includes(sha256Hex(c.spki));
    const byIssuer = SOFTWARE_ROOT_NAMES.includes(sha256Hex(c.issuer.der));
    if (byKey || byIssuer) {
      fail(
        'ANDROID_SOFTWARE_ROOT',
        `"${c.subject.text}" ${byKey ? 'is' : 'is issued by'} the AOSP software attestation root, whose private key is public: never trusted`,
        { subject: c.subject.text },
      );
    }
  }
}

function keyDescriptionOf(cert: Certificate): AndroidKeyDescription | undefined {
  const ext = cert.extension(KEY_DESCRIPTION_OID);
  return ext ? decodeExtension(ext, parseKeyDescription) : undefined;
}

/**
 * Locate the attestation certificate (§4.5 step 3) in an ordered chain and decode it.
 * Throws ATTESTATION_MISSING, ANDROID_ATTEST_KEY_CHAIN or ATTESTATION_MALFORMED.
 */
export function locateAttestation(chain: readonly Certificate[]): {
  readonly certificate: Certificate;
  readonly description: AndroidKeyDescription;
  /** How many certificates above it carry KeyDescription (ATTEST_KEY keys, the guidance case). */
  readonly attestKeyLevels: number;
} {
  const descriptions = chain.map(keyDescriptionOf);
  const first = descriptions.findIndex((d) => d !== undefined);
  if (first < 0)
    fail('ATTESTATION_MISSING', 'no certificate of the chain carries the Android KeyDescription');
  if (first > 0) {
    // The certificate with the extension signed a certificate below it: the attested key
    // certified another key, which KeyMint never does for a non-ATTEST_KEY key (§4.5 step 3).
    fail(
      'ANDROID_ATTEST_KEY_CHAIN',
      `"${chain[0]!.subject.text}" is certified by the attested key of "${chain[first]!.subject.text}"`,
      { position: first },
    );
  }
  let levels = 0;
  for (let i = 1; i < chain.length; i++) {
    const d = descriptions[i];
    if (d === undefined) {
      // Everything above the first certificate without the extension must lack it too.
      if (descriptions.slice(i + 1).some((x) => x !== undefined)) {
        fail('ANDROID_ATTEST_KEY_CHAIN', 'KeyDescription appears above a certificate without it', {
          position: i,
        });
      }
      break;
    }
    const purposes = d.hardwareEnforced.purposes ?? [];
    if (!(purposes.length === 1 && purposes[0] === PURPOSE_ATTEST_KEY)) {
      fail(
        'ANDROID_ATTEST_KEY_CHAIN',
        `"${chain[i]!.subject.text}" carries KeyDescription and certifies another key, but its key is not an ATTEST_KEY key`,
        { position: i, purposes },
      );
    }
    levels++;
  }
  return { certificate: chain[0]!, description: descriptions[0]!, attestKeyLevels: levels };
}

const LEVEL_CLAIM = { software: 'software', tee: 'tee', strongbox: 'secure-element' } as const;

function keyClaims(spki: Uint8Array, list: AuthorizationList): { keyAlgorithm: string; keySize?: number } {
  const d = describeKey(spki);
  const mlDsa = ML_DSA[d.keyAlgorithm];
  if (mlDsa !== undefined) return { keyAlgorithm: mlDsa };
  const size = d.keySize > 0 ? d.keySize : list.keySize;
  return size === undefined
    ? { keyAlgorithm: d.keyAlgorithm }
    : { keyAlgorithm: d.keyAlgorithm, keySize: size };
}

/** True when the SPKI is an ML-DSA key (FIPS 204), which the path validator's key policy lacks. */
export function isMlDsaKey(spki: Uint8Array): boolean {
  return ML_DSA[describeKey(spki).keyAlgorithm] !== undefined;
}

/**
 * The checks path validation makes on a leaf, for an attestation certificate whose ML-DSA key
 * keeps it out of the path: its issuer (the attestation key certificate) is a CA by name and
 * key usage, the leaf has no critical extension nobody processes, and the issuer's key signed it
 * (RFC 5280 §6.1.3 (a)(1), (a)(4); §6.1.4 (k), (n); §4.2). Validity is not checked: Google's
 * verifier ignores the leaf's, and KeyMint writes 1970-2048.
 */
function verifyMlDsaLeaf(leaf: Certificate, issuer: Certificate | undefined, ctx: FormatContext): void {
  if (!issuer || !sameName(leaf.issuer, issuer.subject)) {
    fail('PATH_NOT_FOUND', 'the issuer of the ML-DSA attestation certificate is not in the evidence', {
      issuer: leaf.issuer.text,
    });
  }
  if (issuer.basicConstraints?.ca !== true) {
    fail('PATH_NOT_CA', `"${issuer.subject.text}" signs the attestation certificate but is not a CA`);
  }
  if (issuer.keyUsage !== null && (issuer.keyUsage & (1 << 5)) === 0) {
    fail('PATH_KEY_USAGE', `"${issuer.subject.text}" lacks keyCertSign`);
  }
  for (const e of leaf.extensions) {
    if (e.critical && !UNDERSTOOD_CRITICAL_EXTENSIONS.includes(e.oid)) {
      fail(
        'PATH_UNKNOWN_CRITICAL_EXTENSION',
        `the attestation certificate has the critical extension ${e.oid}`,
      );
    }
  }
  if (leaf.deviations.length > 0) {
    fail(
      'ATTESTATION_MALFORMED',
      `the attestation certificate deviates from DER: ${leaf.deviations.join(', ')}`,
    );
  }
  const ok = verifySignature(leaf.signatureAlgorithm, leaf.tbs, leaf.signature, issuer.spki, {
    ...(ctx.keyCache ? { cache: ctx.keyCache } : {}),
  });
  if (!ok) {
    fail('PATH_SIGNATURE_INVALID', `the attestation certificate is not signed by "${issuer.subject.text}"`);
  }
}

/** Normalised claims (docs/android.md lists them). */
export function claimsFromDescription(
  kd: AndroidKeyDescription,
  spki: Uint8Array,
  provisioning: 'rkp' | 'factory',
): Claims {
  const hw = kd.hardwareEnforced;
  const sw = kd.softwareEnforced;
  const hardwareBacked = kd.securityLevel !== 'software';
  const claims: Claims = {
    ...keyClaims(spki, hw),
    securityLevel: LEVEL_CLAIM[kd.securityLevel],
    // §4.2: origin GENERATED in the hardware list means KeyMint generated the key inside the
    // TEE/StrongBox. An origin only the software list states is not enforced by anything.
    generatedOnDevice: hardwareBacked && hw.origin === 0,
    // KeyMint never exports private key material of a hardware-backed key.
    nonExportable: hardwareBacked,
    attestationVersion: kd.attestationVersion,
    keyMintVersion: kd.keyMintVersion,
    attestationSecurityLevel: kd.attestationSecurityLevel,
    keyMintSecurityLevel: kd.keyMintSecurityLevel,
    provisioning,
  };
  // For a hardware-backed key only the hardware list is enforced (§4.5 step 5): a value only the
  // software list states would be a claim nothing stands behind. A software key has no other.
  const enforced = hardwareBacked ? hw : { ...sw, ...hw };
  const origin = enforced.origin;
  if (origin !== undefined) claims.origin = originName(origin);
  const purposes = enforced.purposes;
  if (purposes) claims.keyPurposes = purposes.map(purposeName);
  const rot = hw.rootOfTrust;
  if (rot) {
    claims.rootOfTrust = {
      verifiedBootState: rot.verifiedBootState,
      deviceLocked: rot.deviceLocked,
      verifiedBootKey: toHex(rot.verifiedBootKey),
      ...(rot.verifiedBootHash ? { verifiedBootHash: toHex(rot.verifiedBootHash) } : {}),
    };
  }
  for (const k of ['osVersion', 'osPatchLevel', 'vendorPatchLevel', 'bootPatchLevel'] as const) {
    const v = enforced[k];
    if (v !== undefined) claims[k] = v;
  }
  const app = sw.attestationApplicationId ?? hw.attestationApplicationId;
  if (app) {
    claims.application = {
      packages: app.packages.map((p) => ({ name: p.name, version: p.version.toString() })),
      signingCertificateSha256: app.signatureDigests.map(toHex),
    };
  }
  // ID attestation (hardware list only, §4.2): display data, as the verdict labels it.
  const ids: Record<string, string> = {};
  const idFields = {
    brand: hw.attestationIdBrand,
    device: hw.attestationIdDevice,
    product: hw.attestationIdProduct,
    serial: hw.attestationIdSerial,
    imei: hw.attestationIdImei,
    secondImei: hw.attestationIdSecondImei,
    meid: hw.attestationIdMeid,
    manufacturer: hw.attestationIdManufacturer,
    model: hw.attestationIdModel,
  };
  for (const [k, v] of Object.entries(idFields)) if (v !== undefined) ids[k] = v;
  if (Object.keys(ids).length > 0) claims.deviceIds = ids;
  if (hw.attestationIdSerial !== undefined) claims.serial = hw.attestationIdSerial;
  if (hw.attestationIdModel !== undefined) claims.model = hw.attestationIdModel;
  if (hw.rollbackResistance || hw.rollbackResistant) claims.rollbackResistant = true;
  if (hw.deviceUniqueAttestation) claims.deviceUniqueAttestation = true;
  if (hw.creationDateTime ?? sw.creationDateTime) {
    const ms = Number(hw.creationDateTime ?? sw.creationDateTime);
    if (Number.isSafeInteger(ms)) claims.createdAt = new Date(ms).toISOString();
  }
  return claims;
}

/** Constant-time equality of a challenge and the expected nonce (§4.5 step 4). */
function challengeMatches(challenge: Uint8Array, expected: Uint8Array): boolean {
  if (challenge.length !== expected.length) return false;
  return timingSafeEqual(challenge, expected);
}

function statementsOf(input: EvidenceInput) {
  return input.kind === 'csr'
    ? (input.csr.attestation?.statements.filter((s) => s.type === ANDROID_KEY_STATEMENT_TYPE) ?? [])
    : [];
}

export const androidKeyFormat: AttestationFormat = {
  id: ANDROID_KEY_FORMAT_ID,
  // Google's PKI and OEM intermediates need the default profile plus the anchor-scoped quirks.
  pathOptions: { profile: 'default', quirks: ANDROID_PATH_QUIRKS },

  detect(input: EvidenceInput): boolean {
    if (input.kind === 'csr') return statementsOf(input).length > 0;
    return input.certificates.some((c) => c.extension(KEY_DESCRIPTION_OID) !== undefined);
  },

  verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
    const given: Certificate[] = [];
    if (input.kind === 'csr') {
      const statements = statementsOf(input);
      if (statements.length !== 1) {
        fail('ATTESTATION_MALFORMED', `${statements.length} Android key statements in one CSR: expected one`);
      }
      given.push(parseCertificate(statements[0]!.stmt));
      given.push(...(input.csr.attestation?.certificates ?? []));
    }
    given.push(...input.certificates);
    // The same certificate given twice (statement, bundle, request body) counts once.
    const certs = given.filter((c, i) => given.findIndex((o) => bytesEqual(o.der, c.der)) === i);
    if (certs.length > MAX_CHAIN_CERTIFICATES) {
      fail('DER_LIMIT_EXCEEDED', `more than ${MAX_CHAIN_CERTIFICATES} certificates in Android evidence`, {
        count: certs.length,
      });
    }
    checkNotSoftwareRooted(certs);
    const { chain, others } = orderChain(certs);
    if (others.some((c) => c.extension(KEY_DESCRIPTION_OID) !== undefined)) {
      fail('ATTESTATION_MALFORMED', 'a certificate with KeyDescription is not on the attestation chain');
    }
    const { certificate: leaf, description: kd, attestKeyLevels } = locateAttestation(chain);
    if (input.kind === 'csr' && !bytesEqual(parseCertificate(statementsOf(input)[0]!.stmt).der, leaf.der)) {
      fail(
        'ATTESTATION_INVALID',
        'the statement certificate is not the attestation certificate of the chain',
      );
    }

    const quirks: QuirkReport[] = [];
    if (kd.deviations.some((d) => d.id === 'tags-out-of-order')) {
      // §4.6: KeyMint sorts its tags; unsorted lists are the mark of an edited certificate.
      // Check the signature before accepting the deviation, so the verdict names the cause.
      const issuer = chain[1];
      let ok = false;
      if (issuer) {
        try {
          ok = verifySignature(leaf.signatureAlgorithm, leaf.tbs, leaf.signature, issuer.spki, {
            ...(ctx.keyCache ? { cache: ctx.keyCache } : {}),
            policy: { ...DEFAULT_SIGNATURE_POLICY, allowEcdsaNullParams: true },
          });
        } catch {
          ok = false;
        }
      }
      if (!ok) {
        fail(
          'SIGNATURE_INVALID',
          'the attestation certificate lists KeyDescription tags out of order and its signature does not verify: an edited certificate',
          { subject: leaf.subject.text },
        );
      }
      quirks.push({
        id: 'android-tags-out-of-order',
        position: 1,
        detail: kd.deviations
          .filter((d) => d.id === 'tags-out-of-order')
          .map((d) => d.detail)
          .join('; '),
      });
    }
    for (const d of kd.deviations) {
      if (d.id !== 'tags-out-of-order') quirks.push({ id: `android-${d.id}`, position: 1, detail: d.detail });
    }
    if (attestKeyLevels > 0) {
      quirks.push({
        id: 'android-attest-key-chain',
        position: 2,
        detail: `${attestKeyLevels} ATTEST_KEY certificate(s) above the attestation certificate`,
      });
    }

    const challenge = kd.attestationChallenge;
    if (ctx.expectedNonce !== undefined) {
      if (challenge.length === 0) fail('NONCE_MISSING', 'the KeyDescription attestationChallenge is empty');
      if (!challengeMatches(challenge, ctx.expectedNonce)) {
        fail('NONCE_MISMATCH', 'the KeyDescription attestationChallenge differs from the expected challenge');
      }
    }

    let csrVerified = false;
    if (input.kind === 'csr') {
      // Key substitution: byte-exact SPKI comparison (§4.5 step 6).
      if (!bytesEqual(input.csr.spki, leaf.spki)) {
        fail('KEY_MISMATCH', 'the CSR key is not the key the Android attestation certificate attests');
      }
      verifyCsrSignature(input.csr);
      // A nonce attribute signed by the key must be the challenge KeyMint attested, or the CSR
      // and the attestation answer different challenges.
      if (input.csr.nonce !== null && !bytesEqual(input.csr.nonce, challenge)) {
        fail(
          'NONCE_MISMATCH',
          'the CSR nonce attribute differs from the KeyDescription attestationChallenge',
        );
      }
      csrVerified = true;
    }

    // RKP chains carry the provisioning-info extension on the attestation key's certificate (§4.1).
    const provisioning = chain.some((c) => c.extension(PROVISIONING_INFO_OID) !== undefined)
      ? 'rkp'
      : 'factory';
    // An ML-DSA attested key is only described, never used: the attestation certificate is then
    // checked here like a signed statement, and the path starts at the attestation key's
    // certificate (its key is classical), so the key policy never meets the ML-DSA key.
    const mlDsa = isMlDsaKey(leaf.spki);
    if (mlDsa) {
      verifyMlDsaLeaf(leaf, chain[1], ctx);
      quirks.push({
        id: 'android-ml-dsa-attested-key',
        position: 0,
        detail:
          'ML-DSA attested key: the attestation certificate was verified by the format, the path starts at its issuer',
      });
    }
    return {
      format: ANDROID_KEY_FORMAT_ID,
      attestedKey: leaf.spki,
      signerChain: mlDsa ? [...chain.slice(1), ...others] : [leaf, ...chain.slice(1), ...others],
      ...(mlDsa ? {} : { attestationCertificate: leaf }),
      claims: claimsFromDescription(kd, leaf.spki, provisioning),
      freshness: challenge.length > 0 ? { nonce: challenge } : null,
      freshnessKind:
        ctx.expectedNonce !== undefined && challenge.length > 0
          ? 'nonce'
          : csrVerified
            ? 'possession'
            : 'none',
      quirks,
      csrVerified,
    };
  },
};
