/**
 * Encoders for the TPM 2.0 structures parsed in structures.ts: TPMS_ATTEST, TPMT_PUBLIC,
 * TPMT_SIGNATURE, TPM2B wrappers, plus helpers that build a public area from a Node key and sign
 * a TPMS_ATTEST with a Node private key. Used by tests, by the credential-activation side and by
 * the software token to produce TPM-shaped evidence (TPM 2.0 Library Part 2; standards §2.2).
 *
 * @example
 * const pubArea = encodeTpmtPublic(publicAreaFromKey(appKey.publicKey, { attributes: TPM_APP_KEY_ATTRIBUTES }));
 * const certInfo = encodeTpmsAttest({ extraData: nonce, attested: { kind: 'certify', name: tpmName(pubArea, TPM_ALG.SHA256), qualifiedName: new Uint8Array() } });
 * const sig = signTpmsAttest(certInfo, akPrivateKey);
 */
import { createPublicKey, constants as cryptoConstants, type KeyObject, sign } from 'node:crypto';
import { readTlv, TAG } from '../../core/der.js';
import { concat } from '../../core/der-writer.js';
import { fail } from '../../core/errors.js';
import {
  TPM_ALG,
  TPM_ECC_CURVE,
  TPM_GENERATED_VALUE,
  TPM_HASHES,
  TPM_ST,
  TPMA_OBJECT,
  type TpmAttested,
  type TpmClockInfo,
  type TpmObjectAttributeName,
  type TpmScheme,
  type TpmSymmetric,
} from './structures.js';

/** u16 big-endian. */
export function u16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

/** u32 big-endian. */
export function u32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** u64 big-endian. */
export function u64(v: bigint): Uint8Array {
  return concat([u32(Number((v >> 32n) & 0xffffffffn)), u32(Number(v & 0xffffffffn))]);
}

/** A TPM2B: u16 size ‖ bytes. */
export function tpm2b(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 0xffff) fail('USAGE', 'TPM2B buffer longer than 65535 bytes');
  return concat([u16(bytes.length), bytes]);
}

/** The TPMA_OBJECT u32 for a set of named flags. */
export function tpmaObject(...names: readonly TpmObjectAttributeName[]): number {
  let v = 0;
  for (const n of names) v |= TPMA_OBJECT[n];
  return v >>> 0;
}

/** A tpm2-tools AK: fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign (0x00050072). */
export const TPM_AK_ATTRIBUTES: number = tpmaObject(
  'fixedTPM',
  'fixedParent',
  'sensitiveDataOrigin',
  'userWithAuth',
  'restricted',
  'sign',
);

/** A typical application signing key: fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign (0x00040072). */
export const TPM_APP_KEY_ATTRIBUTES: number = tpmaObject(
  'fixedTPM',
  'fixedParent',
  'sensitiveDataOrigin',
  'userWithAuth',
  'sign',
);

/** A standard low-range EK: fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt (0x000300B2). */
export const TPM_EK_ATTRIBUTES: number = tpmaObject(
  'fixedTPM',
  'fixedParent',
  'sensitiveDataOrigin',
  'adminWithPolicy',
  'restricted',
  'decrypt',
);

/** Fields of a TPMS_ATTEST to encode; defaults: magic TPM_GENERATED_VALUE, empty signer, zero clock. */
export interface TpmsAttestInput {
  readonly magic?: number;
  /** Defaults to the type implied by `attested.kind`. */
  readonly type?: number;
  readonly qualifiedSigner?: Uint8Array;
  readonly extraData: Uint8Array;
  readonly clockInfo?: TpmClockInfo;
  readonly firmwareVersion?: bigint;
  readonly attested: TpmAttested;
}

/** Encode a TPMS_ATTEST (Part 2 §10.12.12). */
export function encodeTpmsAttest(a: TpmsAttestInput): Uint8Array {
  const clock = a.clockInfo ?? { clock: 0n, resetCount: 0, restartCount: 0, safe: true };
  const type = a.type ?? (a.attested.kind === 'certify' ? TPM_ST.ATTEST_CERTIFY : TPM_ST.ATTEST_CREATION);
  const attested =
    a.attested.kind === 'certify'
      ? concat([tpm2b(a.attested.name), tpm2b(a.attested.qualifiedName)])
      : concat([tpm2b(a.attested.objectName), tpm2b(a.attested.creationHash)]);
  return concat([
    u32(a.magic ?? TPM_GENERATED_VALUE),
    u16(type),
    tpm2b(a.qualifiedSigner ?? new Uint8Array()),
    tpm2b(a.extraData),
    u64(clock.clock),
    u32(clock.resetCount),
    u32(clock.restartCount),
    Uint8Array.of(clock.safe ? 1 : 0),
    u64(a.firmwareVersion ?? 0n),
    attested,
  ]);
}

interface TpmtPublicInputCommon {
  readonly nameAlg?: number;
  /** TPMA_OBJECT u32 (see tpmaObject and the *_ATTRIBUTES constants). */
  readonly attributes: number;
  readonly authPolicy?: Uint8Array;
  readonly symmetric?: TpmSymmetric;
  readonly scheme?: TpmScheme;
}

/** Fields of a TPMT_PUBLIC to encode; `exponent` 65537 is written as 0 unless `wireExponent` is given. */
export type TpmtPublicInput =
  | (TpmtPublicInputCommon & {
      readonly type: 'rsa';
      readonly keyBits?: number;
      readonly exponent?: number;
      readonly modulus: Uint8Array;
    })
  | (TpmtPublicInputCommon & {
      readonly type: 'ecc';
      readonly curveId: number;
      readonly kdf?: TpmScheme;
      readonly x: Uint8Array;
      readonly y: Uint8Array;
    });

function encodeSymmetric(s: TpmSymmetric | undefined): Uint8Array {
  if (!s) return u16(TPM_ALG.NULL);
  return concat([u16(s.algorithm), u16(s.keyBits), u16(s.mode)]);
}

function encodeScheme(s: TpmScheme | undefined): Uint8Array {
  if (!s) return u16(TPM_ALG.NULL);
  const parts = [u16(s.scheme)];
  if (s.hashAlg !== undefined) parts.push(u16(s.hashAlg));
  if (s.count !== undefined) parts.push(u16(s.count));
  return concat(parts);
}

/** Encode a TPMT_PUBLIC (Part 2 §12.2.4), RSA or ECC. */
export function encodeTpmtPublic(p: TpmtPublicInput): Uint8Array {
  const head = concat([
    u16(p.type === 'rsa' ? TPM_ALG.RSA : TPM_ALG.ECC),
    u16(p.nameAlg ?? TPM_ALG.SHA256),
    u32(p.attributes),
    tpm2b(p.authPolicy ?? new Uint8Array()),
    encodeSymmetric(p.symmetric),
    encodeScheme(p.scheme),
  ]);
  if (p.type === 'rsa') {
    const exponent = p.exponent ?? 65537;
    return concat([
      head,
      u16(p.keyBits ?? p.modulus.length * 8),
      u32(exponent === 65537 ? 0 : exponent),
      tpm2b(p.modulus),
    ]);
  }
  return concat([head, u16(p.curveId), encodeScheme(p.kdf), tpm2b(p.x), tpm2b(p.y)]);
}

/** TPM2B_PUBLIC: u16 size ‖ TPMT_PUBLIC. */
export function encodeTpm2bPublic(publicArea: Uint8Array): Uint8Array {
  return tpm2b(publicArea);
}

const NODE_CURVES: Readonly<Record<string, number>> = {
  'P-256': TPM_ECC_CURVE.NIST_P256,
  'P-384': TPM_ECC_CURVE.NIST_P384,
  'P-521': TPM_ECC_CURVE.NIST_P521,
};

/** Options for publicAreaFromKey. */
export interface PublicAreaOptions {
  readonly attributes: number;
  readonly nameAlg?: number;
  readonly authPolicy?: Uint8Array;
  readonly symmetric?: TpmSymmetric;
  readonly scheme?: TpmScheme;
  readonly kdf?: TpmScheme;
}

/** The TPMT_PUBLIC input describing a Node RSA or EC (P-256/384/521) public key. */
export function publicAreaFromKey(key: KeyObject, options: PublicAreaOptions): TpmtPublicInput {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  const common = {
    attributes: options.attributes,
    ...(options.nameAlg !== undefined ? { nameAlg: options.nameAlg } : {}),
    ...(options.authPolicy !== undefined ? { authPolicy: options.authPolicy } : {}),
    ...(options.symmetric !== undefined ? { symmetric: options.symmetric } : {}),
    ...(options.scheme !== undefined ? { scheme: options.scheme } : {}),
  };
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) {
    const modulus = new Uint8Array(Buffer.from(jwk.n, 'base64url'));
    const exponent = Number.parseInt(Buffer.from(jwk.e, 'base64url').toString('hex'), 16);
    return { ...common, type: 'rsa', keyBits: modulus.length * 8, exponent, modulus };
  }
  const curveId = jwk.crv ? NODE_CURVES[jwk.crv] : undefined;
  if (jwk.kty === 'EC' && curveId !== undefined && jwk.x && jwk.y) {
    return {
      ...common,
      type: 'ecc',
      curveId,
      ...(options.kdf !== undefined ? { kdf: options.kdf } : {}),
      x: new Uint8Array(Buffer.from(jwk.x, 'base64url')),
      y: new Uint8Array(Buffer.from(jwk.y, 'base64url')),
    };
  }
  return fail(
    'ALGORITHM_UNSUPPORTED',
    `cannot express a ${publicKey.asymmetricKeyType} key as a TPMT_PUBLIC`,
  );
}

/** Fields of a TPMT_SIGNATURE to encode. */
export type TpmtSignatureInput =
  | { readonly sigAlg: number; readonly hashAlg: number; readonly signature: Uint8Array }
  | {
      readonly sigAlg: typeof TPM_ALG.ECDSA;
      readonly hashAlg: number;
      readonly r: Uint8Array;
      readonly s: Uint8Array;
    };

/** Encode a TPMT_SIGNATURE (Part 2 §11.3.4): RSASSA/RSAPSS carry one TPM2B, ECDSA carries r and s. */
export function encodeTpmtSignature(s: TpmtSignatureInput): Uint8Array {
  if ('r' in s) return concat([u16(s.sigAlg), u16(s.hashAlg), tpm2b(s.r), tpm2b(s.s)]);
  return concat([u16(s.sigAlg), u16(s.hashAlg), tpm2b(s.signature)]);
}

/** Split a DER Ecdsa-Sig-Value into unsigned r and s (minimal bytes, as a TPM may send them). */
export function ecdsaDerToRs(sig: Uint8Array): { r: Uint8Array; s: Uint8Array } {
  const seq = readTlv(sig, 0);
  if (seq.tag !== TAG.SEQUENCE) fail('USAGE', 'not an ECDSA DER signature');
  const r = readTlv(sig, seq.valueStart);
  const s = readTlv(sig, r.end);
  const strip = (t: { valueStart: number; end: number }) => {
    let i = t.valueStart;
    while (i < t.end - 1 && sig[i] === 0) i++;
    return sig.slice(i, t.end);
  };
  return { r: strip(r), s: strip(s) };
}

/** Options for signTpmsAttest. */
export interface SignAttestOptions {
  /** TPM_ALG.RSASSA (default for RSA), TPM_ALG.RSAPSS, or TPM_ALG.ECDSA (EC keys). */
  readonly sigAlg?: number;
  /** Default TPM_ALG.SHA256. */
  readonly hashAlg?: number;
}

/** Sign TPMS_ATTEST bytes with a Node private key the way a TPM AK would, returning a TPMT_SIGNATURE. */
export function signTpmsAttest(
  message: Uint8Array,
  key: KeyObject,
  options: SignAttestOptions = {},
): Uint8Array {
  const hashAlg = options.hashAlg ?? TPM_ALG.SHA256;
  const hash = TPM_HASHES[hashAlg]?.node ?? fail('ALGORITHM_UNSUPPORTED', `hash 0x${hashAlg.toString(16)}`);
  if (key.asymmetricKeyType === 'ec') {
    const derSig = new Uint8Array(sign(hash, message, { key, dsaEncoding: 'der' }));
    return encodeTpmtSignature({ sigAlg: TPM_ALG.ECDSA, hashAlg, ...ecdsaDerToRs(derSig) });
  }
  const sigAlg = options.sigAlg ?? TPM_ALG.RSASSA;
  const padding =
    sigAlg === TPM_ALG.RSAPSS
      ? { padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: TPM_HASHES[hashAlg]!.size }
      : { padding: cryptoConstants.RSA_PKCS1_PADDING };
  const signature = new Uint8Array(sign(hash, message, { key, ...padding }));
  return encodeTpmtSignature({ sigAlg, hashAlg, signature });
}
