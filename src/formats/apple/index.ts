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

function verifyMda(certificates: readonly Certificate[], ctx: FormatContext): FormatResult {
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
    freshnessKind: mda.freshnessCode === null ? 'none' : 'nonce',
    quirks: [],
    csrVerified: false,
  };
}

export const appleFormat: AttestationFormat = {
  id: APPLE_FORMAT_ID,
  pathOptions: { profile: 'default' },

  detect(input: EvidenceInput): boolean {
    if (input.kind === 'apple-appattest') return true;
    return input.kind === 'certificates' && input.certificates.some(hasMdaExtension);
  },

  verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
    if (input.kind === 'certificates') return verifyMda(input.certificates, ctx);
    if (input.kind !== 'apple-appattest')
      return fail('ATTESTATION_MISSING', 'no Apple attestation in the evidence');
    const r = verifyAppAttest(
      {
        attestationObject: input.attestationObject,
        appId: input.appId,
        ...(input.allowDevelopment === undefined ? {} : { allowDevelopment: input.allowDevelopment }),
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
    };
  },
};
