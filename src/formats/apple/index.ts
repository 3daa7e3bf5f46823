/**
 * The Apple format (`apple`, standards.md §5; docs/apple.md), with two kinds of evidence that
 * the verdict tells apart in `claims.appleAttestation`:
 *
 * - 'app-attest': an App Attest attestation object (`{ kind: 'apple-appattest', ... }`, or the
 *   JSON file described in docs/apple.md). Chains to the Apple App Attestation Root CA. The
 *   expected challenge is required (it is what binds authData to the certificate).
 * - 'managed-device': a Managed Device Attestation certificate chain (a PEM bundle, leaf with
 *   the Apple device-property extensions first or in any order). Chains to the Apple Enterprise
 *   Attestation Root CA; the freshness code must be SHA-256 of the expected challenge.
 *
 * Each kind names its root key in `FormatResult.anchorKeys` (issue #6): the verifier tries only
 * the anchors with that key, so an 'apple' anchor of the other kind never vouches for it
 * (createAppleFormat; the catalogue keys by default).
 *
 * Apple's P-384 intermediates sign the P-256 leaves with ecdsa-with-SHA256 (a hash weaker than
 * the signing curve, which RFC 5480 §4 recommends against but does not forbid): the shared path
 * validator accepts it, so no quirk is needed.
 *
 * @example
 * const verdict = createVerifier({ policy }).verify(
 *   { kind: 'apple-appattest', attestationObject, appId: 'TEAMID.com.example', certificates: [] },
 *   { nonce: challenge });
 */
import { bytesEqual, sha256Hex } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import { describeKey } from '../../pki/keys.js';
import { catalogEntry } from '../../trust/catalog/lookup.js';
import type { AttestationFormat, Claims, EvidenceInput, FormatContext, FormatResult } from '../types.js';
import { type AppAttestResult, verifyAppAttest } from './appattest.js';
import { checkMdaFreshness, decodeMdaCertificate, hasMdaExtension, type MdaAttestation } from './mda.js';

export * from './appattest.js';
export * from './assertion.js';
export * from './mda.js';

export const APPLE_FORMAT_ID = 'apple' as const;

/** The anchor catalogue's ids for the Apple roots (src/trust/catalog/entries.ts). */
export const APPLE_ANCHOR_IDS = {
  /** Apple App Attestation Root CA (P-384, 2020-2045). */
  appAttestationRoot: 'apple-app-attestation-root',
  /** Apple Enterprise Attestation Root CA (P-384, 2022-2047), Managed Device Attestation. */
  enterpriseAttestationRoot: 'apple-enterprise-attestation-root',
} as const;

/** The SPKI SHA-256 of a catalogued Apple root: each sub-kind is scoped to its root's key, never its name. */
function appleRootKey(id: string): string {
  const entry = catalogEntry(id);
  if (!entry) throw new Error(`anchor catalogue has no entry ${id}`); // a build defect, not input
  return entry.spkiSha256;
}

/** Which anchor keys (hex SPKI SHA-256) each Apple sub-kind's path may end at. */
export interface AppleFormatOptions {
  /** App Attest paths end at one of these keys; default the Apple App Attestation Root CA's. */
  readonly appAttestRootKeys?: readonly string[];
  /** Managed Device Attestation paths end at one of these; default the Apple Enterprise Attestation Root CA's. */
  readonly mdaRootKeys?: readonly string[];
}

const HEX64 = /^[0-9a-f]{64}$/;

function rootKeys(name: string, keys: readonly string[] | undefined, fallback: string): readonly string[] {
  if (keys === undefined) return Object.freeze([fallback]);
  const normalised = keys.map((k) => (typeof k === 'string' ? k.toLowerCase().replace(/^sha256:/, '') : ''));
  if (normalised.length === 0 || !normalised.every((k) => HEX64.test(k))) {
    throw new TypeError(`createAppleFormat: ${name} must be a non-empty list of hex SPKI SHA-256 values`);
  }
  return Object.freeze(normalised);
}

/** Most certificates in one MDA bundle (leaf, intermediate, spares). */
const MAX_MDA_CERTIFICATES = 6;

/** Claims of an App Attest key. */
export function claimsFromAppAttest(r: AppAttestResult): Claims {
  const key = describeKey(r.spki);
  return {
    appleAttestation: 'app-attest',
    keyAlgorithm: key.keyAlgorithm,
    keySize: key.keySize,
    // DCAppAttestService generates the key in the Secure Enclave; it never leaves it (§5.2).
    generatedOnDevice: true,
    nonExportable: true,
    securityLevel: 'secure-element',
    environment: r.environment,
    appId: r.appId,
    keyId: Buffer.from(r.keyId).toString('base64'),
    // The receipt is opaque (a CMS for Apple's fraud-metric service): its hash identifies it.
    receiptSha256: sha256Hex(r.receipt),
  };
}

/** Claims of a Managed Device Attestation certificate. */
export function claimsFromMda(mda: MdaAttestation, spki: Uint8Array): Claims {
  const key = describeKey(spki);
  const v = mda.values;
  const text = (f: keyof typeof v): string | undefined => v[f]?.text;
  const claims: Claims = {
    appleAttestation: 'managed-device',
    keyAlgorithm: key.keyAlgorithm,
    keySize: key.keySize,
    securityLevel: 'secure-element',
  };
  const set = (name: string, value: unknown) => {
    if (value !== undefined) claims[name] = value;
  };
  set('serial', text('serialNumber'));
  set('udid', text('udid'));
  set('model', text('softwareUpdateDeviceId'));
  set('osVersion', text('osVersion'));
  set('firmware', text('osVersion'));
  set('sepOsVersion', text('sepOsVersion'));
  set('llbVersion', text('llbVersion'));
  const sip = text('sipStatus');
  set('sipEnabled', sip === undefined ? undefined : sip === '0');
  set('secureBoot', text('secureBootStatus'));
  const kexts = text('thirdPartyKextsAllowed');
  set('thirdPartyKextsAllowed', kexts === undefined ? undefined : kexts !== '0');
  // The encodings seen (raw bytes vs DER), so an operator can tell what the device sent (§5.3).
  claims['mdaEncodings'] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x!.form]));
  return claims;
}

function sameName(a: Certificate['subject'], b: Certificate['subject']): boolean {
  return bytesEqual(a.der, b.der);
}

/** The MDA leaf: carries device-property extensions and issues no other certificate of the bundle. */
export function findMdaLeaf(certs: readonly Certificate[]): Certificate {
  const found = certs.filter(
    (c) => hasMdaExtension(c) && !certs.some((o) => o !== c && sameName(o.issuer, c.subject)),
  );
  if (found.length !== 1) {
    fail(
      found.length === 0 ? 'ATTESTATION_MISSING' : 'ATTESTATION_MALFORMED',
      `${found.length} Managed Device Attestation leaf certificates in the evidence: expected one`,
    );
  }
  return found[0]!;
}

function verifyMda(
  certificates: readonly Certificate[],
  ctx: FormatContext,
  anchorKeys: readonly string[],
): FormatResult {
  const certs = certificates.filter((c, i) => certificates.findIndex((o) => bytesEqual(o.der, c.der)) === i);
  if (certs.length > MAX_MDA_CERTIFICATES) {
    fail('DER_LIMIT_EXCEEDED', `more than ${MAX_MDA_CERTIFICATES} certificates in MDA evidence`);
  }
  const leaf = findMdaLeaf(certs);
  if (leaf.basicConstraints?.ca === true) {
    fail('ATTESTATION_MALFORMED', 'the MDA attestation certificate claims to be a CA');
  }
  const mda = decodeMdaCertificate(leaf);
  if (ctx.expectedNonce !== undefined) checkMdaFreshness(mda, ctx.expectedNonce);
  return {
    format: APPLE_FORMAT_ID,
    attestedKey: leaf.spki,
    signerChain: [leaf, ...certs.filter((c) => c !== leaf)],
    attestationCertificate: leaf,
    claims: claimsFromMda(mda, leaf.spki),
    freshness: mda.freshnessCode === null ? null : { nonce: mda.freshnessCode },
    // 'nonce' only when the freshness code was compared with the caller's challenge.
    freshnessKind: ctx.expectedNonce !== undefined && mda.freshnessCode !== null ? 'nonce' : 'none',
    quirks: [],
    csrVerified: false,
    // Issue #6: MDA chains end at the Enterprise Attestation root only, not at any 'apple' anchor.
    anchorKeys,
    anchorKeysFor: 'Managed Device Attestation',
  };
}

/**
 * The Apple format with each sub-kind scoped to its own root key(s): App Attest evidence must
 * validate to the App Attestation root, MDA evidence to the Enterprise Attestation root, even
 * when the policy trusts both for 'apple' (a key of one root never vouches for the other kind).
 *
 * @example
 * const format = createAppleFormat({ appAttestRootKeys: [testRoot.spkiSha256] });
 * createVerifier({ policy, formats: [format] });
 */
export function createAppleFormat(options: AppleFormatOptions = {}): AttestationFormat {
  const appAttestKeys = rootKeys(
    'appAttestRootKeys',
    options.appAttestRootKeys,
    appleRootKey(APPLE_ANCHOR_IDS.appAttestationRoot),
  );
  const mdaKeys = rootKeys(
    'mdaRootKeys',
    options.mdaRootKeys,
    appleRootKey(APPLE_ANCHOR_IDS.enterpriseAttestationRoot),
  );
  return {
    id: APPLE_FORMAT_ID,
    pathOptions: { profile: 'default' },

    detect(input: EvidenceInput): boolean {
      if (input.kind === 'apple-appattest') return true;
      return input.kind === 'certificates' && input.certificates.some(hasMdaExtension);
    },

    verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
      if (input.kind === 'certificates') return verifyMda(input.certificates, ctx, mdaKeys);
      if (input.kind !== 'apple-appattest')
        return fail('ATTESTATION_MISSING', 'no Apple attestation in the evidence');
      return verifyAppAttestInput(input, ctx, appAttestKeys);
    },
  };
}

/** The Apple format under the catalogue's Apple roots (the registry's default). */
export const appleFormat: AttestationFormat = createAppleFormat();

function verifyAppAttestInput(
  input: Extract<EvidenceInput, { kind: 'apple-appattest' }>,
  ctx: FormatContext,
  anchorKeys: readonly string[],
): FormatResult {
  // The relying party's own expectation wins: an evidence file may have come from the client.
  const expected = ctx.appAttest;
  if (expected && expected.appId !== input.appId)
    fail(
      'RPID_MISMATCH',
      `the evidence names App ID "${input.appId}", the relying party expects "${expected.appId}"`,
    );
  const allowDevelopment = expected ? expected.allowDevelopment === true : input.allowDevelopment;
  const r = verifyAppAttest(
    {
      attestationObject: input.attestationObject,
      appId: expected?.appId ?? input.appId,
      ...(allowDevelopment === undefined ? {} : { allowDevelopment }),
    },
    ctx.expectedNonce,
  );
  const [credCert, ...rest] = r.certificates;
  return {
    format: APPLE_FORMAT_ID,
    attestedKey: r.spki,
    signerChain: [credCert!, ...rest],
    attestationCertificate: credCert!,
    claims: claimsFromAppAttest(r),
    freshness: { nonce: ctx.expectedNonce! },
    freshnessKind: 'nonce',
    quirks: [],
    csrVerified: false,
    // Issue #6: App Attest chains end at the App Attestation root only (standards.md §5.2).
    anchorKeys,
    anchorKeysFor: 'App Attest',
  };
}
