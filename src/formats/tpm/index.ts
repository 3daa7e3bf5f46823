/**
 * The `tpm` format: a TPM 2.0 key attestation carried in a CSR as a `tcg-attest-tpm-certify`
 * statement (2.23.133.20.1; standards §2.3, §7.1): TPM2_Certify output (TPMS_ATTEST and the
 * AK's TPMT_SIGNATURE) plus the certified key's TPMT_PUBLIC. The same three pieces also come
 * raw, as tpm2-tools writes them (input kind 'tpm-certify', ./input.ts): then every check
 * below applies except step 3, and freshness rests on the nonce alone.
 *
 * What this module checks (each failure has a stable code; docs/tpm.md):
 * 1. The statement decodes strictly (ATTESTATION_MALFORMED), the TPM structures parse exactly
 *    (TPM_MALFORMED): magic TPM_GENERATED_VALUE, type TPM_ST_ATTEST_CERTIFY.
 * 2. The certified Name equals nameAlg ‖ H(tpmTPublic) (TPM_NAME_MISMATCH): this is what makes
 *    the public area's attributes trustworthy (TPM 2.0 Part 1 §16).
 * 3. The key in tpmTPublic is the CSR key, byte for byte (KEY_MISMATCH), and the CSR is signed
 *    by it (CSR_SIGNATURE_INVALID).
 * 4. extraData: never the tpm2-tools default 00ff55aa (NONCE_MISMATCH, even without an expected
 *    nonce: it is a constant, so it proves nothing); equal to the expected nonce and to the CSR
 *    nonce attribute when those are given (NONCE_MISMATCH).
 * 5. The AK signature over TPMS_ATTEST verifies (SIGNATURE_INVALID; SHA-1 refused unless the
 *    format was created with a policy allowing it). The AK is vouched for either by an AK
 *    certificate in the bundle (EKU 2.23.133.8.3, TCG profile: TPM_CERT_PROFILE) or by a bound
 *    key from credential activation (its public area must be restricted+sign:
 *    TPM_AK_NOT_RESTRICTED; its EK certificate must follow the EK profile). Neither:
 *    TPM_AK_NOT_BOUND.
 * Key attributes become claims (fixedTPM ∧ fixedParent ⇒ nonExportable, sensitiveDataOrigin ⇒
 * generatedOnDevice); a policy `require` rejects keys that lack them.
 *
 * @example
 * const result = tpmFormat.verify(input, { expectedNonce, boundKeys });
 */
import { bytesEqual, toHex } from '../../core/bytes.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { type Certificate, decodeExtension, parseExtKeyUsage } from '../../pki/certificate.js';
import { type ParsedCsr, verifyCsrSignature } from '../../pki/csr.js';
import { describeKey } from '../../pki/keys.js';
import { DEFAULT_SIGNATURE_POLICY, type SignatureAlgorithmPolicy } from '../../pki/signature.js';
import type {
  AttestationFormat,
  BoundKey,
  Claims,
  EvidenceInput,
  FormatContext,
  FormatResult,
} from '../types.js';
import { checkAkCertificate, checkEkCertificate, type TpmDeviceInfo } from './certificates.js';
import { decodeTpmCertifyStatement } from './statement.js';
import {
  parseTpmsAttest,
  parseTpmtPublic,
  parseTpmtSignature,
  TPM_ALG,
  TPM_HASHES,
  TPM_ST,
  TPMA_OBJECT,
  type TpmObjectAttributeName,
  type TpmtPublic,
  type TpmtSignature,
  tpmName,
  verifyTpmSignature,
} from './structures.js';

export const TPM_FORMAT_ID = 'tpm' as const;

/** tpm2-tools' default qualifyingData for tpm2_certify/tpm2_quote: a constant, so never a nonce (standards §2.10). */
export const TPM2_TOOLS_DEFAULT_QUALIFYING_DATA: Uint8Array = Uint8Array.of(0x00, 0xff, 0x55, 0xaa);

/** Most certificates the bundle may carry (AK certificate + chain, or extra helpers). */
const MAX_BUNDLE_CERTIFICATES = 16;
/** Most bound keys tried per verification (the service passes this enrollment's bindings only). */
const MAX_BOUND_KEYS = 8;

/** Options of createTpmFormat. */
export interface TpmFormatOptions {
  /** Algorithm policy for the AK signature; SHA-1 refused by default (src/pki/signature.ts). */
  readonly signaturePolicy?: SignatureAlgorithmPolicy;
}

function statementsOf(csr: ParsedCsr) {
  return csr.attestation?.statements.filter((s) => s.type === OID.tcgAttestTpmCertify) ?? [];
}

function hasAkEku(cert: Certificate): boolean {
  const ext = cert.extension(OID.extKeyUsage);
  if (!ext) return false;
  try {
    return decodeExtension(ext, parseExtKeyUsage).includes(OID.tcgKpAikCertificate);
  } catch (err) {
    if (isProvenanceError(err)) return false;
    throw err;
  }
}

/** Verify with a candidate key; a key that does not fit the scheme is simply not the signer. */
function verifiesWith(
  sig: TpmtSignature,
  message: Uint8Array,
  spki: Uint8Array,
  policy: SignatureAlgorithmPolicy,
): boolean {
  try {
    return verifyTpmSignature(sig, message, spki, { policy });
  } catch (err) {
    if (isProvenanceError(err, 'SIGNATURE_INVALID') || isProvenanceError(err, 'KEY_MALFORMED')) return false;
    throw err;
  }
}

/** The set TPMA_OBJECT flags by name, for display and policy. */
function attributeNames(pub: TpmtPublic): string[] {
  return (Object.keys(TPMA_OBJECT) as TpmObjectAttributeName[]).filter((n) => pub.objectAttributes[n]);
}

/** TPM firmware version as four 16-bit parts (how TPM_PT_FIRMWARE_VERSION_1/2 are shown). */
export function formatTpmFirmwareVersion(v: bigint): string {
  const parts = [48n, 32n, 16n, 0n].map((s) => Number((v >> s) & 0xffffn));
  return parts.join('.');
}

interface SignerFound {
  readonly signerChain: readonly Certificate[];
  readonly device: TpmDeviceInfo;
  readonly akVia: 'certificate' | 'credential-activation';
  readonly boundSigner?: FormatResult['boundSigner'];
}

/**
 * The AK the signature verifies with: an AK certificate from the bundle, else a bound key.
 * Fails closed: SIGNATURE_INVALID when AK certificates are present but none verifies and no
 * bound key does either; TPM_AK_NOT_BOUND when there is no AK at all.
 */
function findSigner(
  sig: TpmtSignature,
  certInfo: Uint8Array,
  helpers: readonly Certificate[],
  boundKeys: readonly BoundKey[],
  policy: SignatureAlgorithmPolicy,
): SignerFound {
  const akCerts = helpers.filter(hasAkEku);
  for (const ak of akCerts) {
    if (!verifiesWith(sig, certInfo, ak.spki, policy)) continue;
    // TCG AK profile / WebAuthn §8.3.1: the CA vouches this is a TPM AK through EKU 2.23.133.8.3 and the SAN.
    const device = checkAkCertificate(ak);
    return { signerChain: [ak, ...helpers.filter((c) => c !== ak)], device, akVia: 'certificate' };
  }
  if (boundKeys.length > MAX_BOUND_KEYS)
    fail('USAGE', `more than ${MAX_BOUND_KEYS} bound keys offered for one verification`);
  for (const bk of boundKeys) {
    if (bk.via !== 'credential-activation' || bk.certificates.length === 0) continue;
    const akPub = parseTpmtPublic(bk.publicArea);
    // The binding was made to a Name; a record whose public area does not hash to it is not that AK.
    if (!bytesEqual(tpmName(akPub.bytes, akPub.nameAlg), bk.name)) continue;
    if (!verifiesWith(sig, certInfo, akPub.spki, policy)) continue;
    // Standards §2.10: an unrestricted key can sign forged TPMS_ATTEST blobs.
    const a = akPub.objectAttributes;
    if (!a.restricted || !a.sign || a.decrypt)
      fail('TPM_AK_NOT_RESTRICTED', 'the bound attestation key is not a restricted signing key', {
        binding: bk.id,
        objectAttributes: a.raw,
      });
    // Standards §2.3 step 1: the signature scheme must be the AK's own when it fixes one.
    if (akPub.scheme !== null && (akPub.scheme.scheme !== sig.sigAlg || akPub.scheme.hashAlg !== sig.hashAlg))
      fail('SIGNATURE_INVALID', 'the signature scheme differs from the attestation key scheme', {
        binding: bk.id,
      });
    const ek = bk.certificates[0]!;
    const device = checkEkCertificate(ek);
    return {
      signerChain: [...bk.certificates, ...helpers],
      device,
      akVia: 'credential-activation',
      boundSigner: {
        spki: akPub.spki,
        label: `TPM AK (credential activation, binding ${bk.id})`,
        via: 'credential-activation',
        bindingId: bk.id,
      },
    };
  }
  if (akCerts.length > 0)
    fail('SIGNATURE_INVALID', 'the TPM attestation signature does not verify with the AK certificate');
  return fail(
    'TPM_AK_NOT_BOUND',
    boundKeys.length > 0
      ? 'the TPM attestation is not signed by any attestation key bound to this enrollment'
      : 'the TPM attestation key has no AK certificate and no credential-activation binding',
  );
}

/** Build the `tpm` format with an algorithm policy (SHA-1 stays refused unless allowed). */
export function createTpmFormat(options: TpmFormatOptions = {}): AttestationFormat {
  const policy = options.signaturePolicy ?? DEFAULT_SIGNATURE_POLICY;
  return {
    id: TPM_FORMAT_ID,
    // TPM certificates carry a critical SAN with the TPM directoryName; certificates.ts checks its
    // content, so the path validator may treat it as understood (RFC 5280 §4.2 criticality).
    pathOptions: { profile: 'default', understoodCriticalExtensions: [OID.subjectAltName] },

    detect(input: EvidenceInput): boolean {
      return input.kind === 'tpm-certify' || (input.kind === 'csr' && statementsOf(input.csr).length > 0);
    },

    verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
      if (input.kind === 'tpm-certify') {
        // Raw tpm2-tools output: the same checks minus the CSR (no key binding by possession).
        return verifyCertify(
          { tpmSAttest: input.attest, signature: input.signature, tpmTPublic: input.publicArea },
          input.certificates,
          null,
          ctx,
          policy,
        );
      }
      if (input.kind !== 'csr')
        return fail('ATTESTATION_MISSING', 'a TPM attestation comes in a CSR or as TPM2_Certify blobs');
      const csr = input.csr;
      const statements = statementsOf(csr);
      if (statements.length !== 1)
        fail(
          'ATTESTATION_MALFORMED',
          `${statements.length} tcg-attest-tpm-certify statements: need exactly one`,
        );
      const helpers = [...(csr.attestation?.certificates ?? []), ...input.certificates];
      const st = decodeTpmCertifyStatement(statements[0]!.stmt);
      if (st.tpmTPublic === null)
        fail(
          'ATTESTATION_MALFORMED',
          'tcg-attest-tpm-certify without tpmTPublic: the key attributes are unknown',
        );
      return verifyCertify(
        { tpmSAttest: st.tpmSAttest, signature: st.signature, tpmTPublic: st.tpmTPublic },
        helpers,
        csr,
        ctx,
        policy,
      );
    },
  };
}

/** The three TPM2_Certify pieces, wherever they came from. */
interface CertifyParts {
  readonly tpmSAttest: Uint8Array;
  readonly signature: Uint8Array;
  readonly tpmTPublic: Uint8Array;
}

/**
 * The checks shared by the CSR route and the raw-blob route. With a CSR, its key must be the
 * certified key and it must be signed by it; without one, the public area's key is the
 * attested key and freshness rests on the nonce alone.
 */
function verifyCertify(
  parts: CertifyParts,
  helpers: readonly Certificate[],
  csr: ParsedCsr | null,
  ctx: FormatContext,
  policy: SignatureAlgorithmPolicy,
): FormatResult {
  if (helpers.length > MAX_BUNDLE_CERTIFICATES)
    fail('DER_LIMIT_EXCEEDED', `more than ${MAX_BUNDLE_CERTIFICATES} certificates in the evidence`);
  const attest = parseTpmsAttest(parts.tpmSAttest);
  if (attest.type !== TPM_ST.ATTEST_CERTIFY || attest.attested.kind !== 'certify')
    fail(
      'ATTESTATION_INVALID',
      csr
        ? 'tcg-attest-tpm-certify carries a TPMS_ATTEST that is not TPM2_Certify output'
        : 'the TPMS_ATTEST is not TPM2_Certify output',
    );
  const sig = parseTpmtSignature(parts.signature);
  const pub = parseTpmtPublic(parts.tpmTPublic);

  // The verifier's policy may allow SHA-1 (signatures.allowSha1): for the AK signature and Names.
  const effective = ctx.allowSha1 === true ? { ...policy, allowSha1: true } : policy;
  // A SHA-1 Name binds the attributes only as strongly as SHA-1 resists chosen-prefix collisions.
  if (pub.nameAlg === TPM_ALG.SHA1 && !effective.allowSha1)
    fail(
      'ALGORITHM_NOT_ALLOWED',
      'the certified key has a SHA-1 Name (nameAlg): refused unless signatures.allowSha1',
    );

  // TPM 2.0 Part 1 §16: the Name binds every public attribute; only then do they mean anything.
  if (!bytesEqual(attest.attested.name, tpmName(pub.bytes, pub.nameAlg)))
    fail(
      'TPM_NAME_MISMATCH',
      csr
        ? 'the certified Name is not the Name of tpmTPublic'
        : 'the certified Name is not the Name of the public area',
    );

  if (csr) {
    // Key substitution: the CSR must be for exactly the certified key (standards §2.3 step 5).
    if (!bytesEqual(pub.spki, csr.spki)) fail('KEY_MISMATCH', 'the CSR key is not the TPM-certified key');
    // Proof of possession (RFC 2986 §3).
    verifyCsrSignature(csr);
  }

  // Standards §2.10: 00ff55aa is tpm2-tools' constant default, never a challenge.
  const extraData = attest.extraData;
  if (bytesEqual(extraData, TPM2_TOOLS_DEFAULT_QUALIFYING_DATA))
    fail(
      'NONCE_MISMATCH',
      'the TPM attestation carries the tpm2-tools default qualifying data 00ff55aa: pass the challenge with tpm2_certify -q',
    );
  if (ctx.expectedNonce !== undefined) {
    if (extraData.length === 0) fail('NONCE_MISSING', 'the TPM attestation carries no qualifying data');
    if (!bytesEqual(extraData, ctx.expectedNonce))
      fail('NONCE_MISMATCH', 'the TPM qualifying data differs from the expected challenge');
  }
  if (csr && csr.nonce !== null && !bytesEqual(csr.nonce, extraData))
    fail('NONCE_MISMATCH', 'the CSR nonce attribute differs from the TPM qualifying data');

  const signer = findSigner(sig, attest.bytes, helpers, ctx.boundKeys ?? [], effective);

  const key = describeKey(pub.spki);
  const a = pub.objectAttributes;
  const claims: Claims = {
    keyAlgorithm: key.keyAlgorithm,
    keySize: key.keySize,
    // Standards §2.2 table: fixedTPM and fixedParent ⇒ cannot leave this TPM;
    // sensitiveDataOrigin ⇒ the TPM generated the private key (not imported).
    nonExportable: a.fixedTPM && a.fixedParent,
    generatedOnDevice: a.sensitiveDataOrigin,
    model: signer.device.model,
    // Obfuscated unless the AK is in the endorsement/platform hierarchy (Part 1 "Privacy"): display only.
    firmware: formatTpmFirmwareVersion(attest.firmwareVersion),
    tpmManufacturer: signer.device.manufacturer ?? signer.device.manufacturerId,
    tpmManufacturerId: signer.device.manufacturerId,
    tpmVersion: signer.device.version,
    tpmAttributes: attributeNames(pub),
    tpmNameAlg: TPM_HASHES[pub.nameAlg]?.node ?? 'unknown',
    tpmAttestationKey: signer.akVia,
    tpmClockSafe: attest.clockInfo.safe,
    tpmQualifiedSigner: toHex(attest.qualifiedSigner),
  };
  const nonceChecked = ctx.expectedNonce !== undefined;
  return {
    format: TPM_FORMAT_ID,
    attestedKey: pub.spki,
    signerChain: signer.signerChain,
    claims,
    // Reported even when unchecked, so the verdict can say a nonce was there but not expected.
    freshness: extraData.length === 0 ? null : { nonce: extraData },
    // Without a CSR there is no proof of possession: an unchecked nonce leaves no freshness at all.
    freshnessKind: nonceChecked ? 'nonce' : csr ? 'possession' : 'none',
    // A SHA-1 AK signature passes only when the policy allows it; it is a named deviation.
    quirks: [
      ...(pub.nameAlg === TPM_ALG.SHA1
        ? [
            {
              id: 'tpm-sha1-name',
              position: 0,
              detail: 'the certified key has a SHA-1 Name (signatures.allowSha1)',
            },
          ]
        : []),
      ...(sig.hashAlg === TPM_ALG.SHA1
        ? [
            {
              id: 'tpm-sha1-signature',
              position: 1,
              detail: 'the AK signed TPMS_ATTEST with SHA-1 (signatures.allowSha1)',
            },
          ]
        : []),
    ],
    csrVerified: csr !== null,
    ...(signer.boundSigner ? { boundSigner: signer.boundSigner } : {}),
  };
}

/** The `tpm` format with the default algorithm policy. */
export const tpmFormat: AttestationFormat = createTpmFormat();

// The TPM toolkit, for credential activation, WebAuthn `tpm` and TPM-backed tokens.
export type { BoundKey } from '../types.js';
export * from './certificates.js';
export * from './encode.js';
export * from './input.js';
export * from './statement.js';
export * from './structures.js';
