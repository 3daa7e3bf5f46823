/**
 * TPM2_MakeCredential in software (TPM 2.0 Library Part 1 §24 "Credential Protection",
 * Annex B.10.4 / C.6.4; standards.md §2.6): the verifier wraps a secret so that only the TPM
 * holding the EK private key, and only while an object with the given Name (the AK) is loaded,
 * can recover it with TPM2_ActivateCredential.
 *
 * Public areas are read with structures.ts (parseTpmtPublic: strict, bounded, with the SPKI).
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  type KeyObject,
  constants as nodeCrypto,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { fail } from '../../core/errors.js';
import { kdfa, kdfe, TPM_ALG_SHA256, TPM_ALG_SHA384, TPM_ALG_SHA512, tpmHash } from './kdf.js';
import {
  parseTpmtPublic,
  TPM_ALG,
  TPM_LIMITS,
  type TpmtPublic,
  tpmName,
  unwrapTpm2bPublic,
} from './structures.js';

/** The 0xBADCC0DE header magic of tpm2-tools credential files (tpm2-tools lib/files.c). */
export const TPM2_TOOLS_CREDENTIAL_MAGIC = 0xbadcc0de;

/** Node curve names of the TPM curves an EK may use here. */
const CURVES: ReadonlyMap<string, { node: string; size: number }> = new Map([
  ['P-256', { node: 'prime256v1', size: 32 }],
  ['P-384', { node: 'secp384r1', size: 48 }],
  ['P-521', { node: 'secp521r1', size: 66 }],
]);

class Reader {
  #off = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly what: string,
  ) {}
  #need(n: number): void {
    if (this.#off + n > this.buf.length)
      fail('TPM_MALFORMED', `${this.what} is truncated at byte ${this.#off}`, { offset: this.#off });
  }
  u16(): number {
    this.#need(2);
    const v = ((this.buf[this.#off] ?? 0) << 8) | (this.buf[this.#off + 1] ?? 0);
    this.#off += 2;
    return v;
  }
  u32(): number {
    const hi = this.u16();
    return hi * 0x10000 + this.u16();
  }
  bytes(n: number): Uint8Array {
    this.#need(n);
    const v = this.buf.slice(this.#off, this.#off + n);
    this.#off += n;
    return v;
  }
  tpm2b(max: number, field: string): Uint8Array {
    const n = this.u16();
    if (n > max) fail('TPM_MALFORMED', `${this.what}: ${field} is ${n} bytes, at most ${max} allowed`);
    return this.bytes(n);
  }
  end(): void {
    if (this.#off !== this.buf.length)
      fail('TPM_MALFORMED', `${this.what} has ${this.buf.length - this.#off} trailing bytes`);
  }
}

/**
 * Parse a TPMT_PUBLIC, or a TPM2B_PUBLIC when its leading u16 equals the remaining length
 * (standards.md §2.2: what tpm2_createak -u writes; the size is stripped before hashing).
 */
export function readTpmPublicArea(input: Uint8Array): TpmtPublic {
  if (input.length > TPM_LIMITS.structure + 2)
    fail('INPUT_TOO_LARGE', `TPM public area exceeds ${TPM_LIMITS.structure} bytes`);
  // A TPMT_PUBLIC starts with its type (0x0001 or 0x0023), never with its own length, so a
  // leading u16 equal to the rest is unambiguously the TPM2B_PUBLIC size.
  const wrapped = input.length >= 2 && ((input[0] ?? 0) << 8) + (input[1] ?? 0) === input.length - 2;
  return parseTpmtPublic(wrapped ? unwrapTpm2bPublic(input) : input);
}

/** Name = u16(nameAlg) || H_nameAlg(TPMT_PUBLIC) (Part 1 §16). */
export function tpmObjectName(area: TpmtPublic): Uint8Array {
  return tpmName(area.bytes, area.nameAlg);
}

/** What MakeCredential needs of the EK: its key, name hash and symmetric definition. */
export interface EkProtector {
  readonly key: KeyObject;
  /** H: the hash of KDFa/KDFe/OAEP/HMAC (the EK's nameAlg, or its OAEP scheme hash). */
  readonly hashAlg: number;
  /** AES key size of the EK's symmetric definition (mode CFB). */
  readonly symKeyBits: 128 | 256;
}

/** The EK's protector parameters from its TPMT_PUBLIC (must be restricted decrypt, AES-CFB). */
export function protectorFromPublicArea(area: TpmtPublic): EkProtector {
  // Part 1 §24.3: the protector must be a restricted decryption key with a symmetric definition.
  if (!area.objectAttributes.restricted || !area.objectAttributes.decrypt)
    fail('ATTESTATION_INVALID', 'the EK public area is not a restricted decryption key');
  const sym = area.symmetric;
  if (
    sym === null ||
    sym.algorithm !== TPM_ALG.AES ||
    sym.mode !== TPM_ALG.CFB ||
    (sym.keyBits !== 128 && sym.keyBits !== 256)
  )
    fail('ALGORITHM_UNSUPPORTED', 'the EK symmetric definition is not AES-128/256-CFB', { symmetric: sym });
  // An RSA EK whose scheme is OAEP with an explicit hash uses that hash (standards.md §2.6).
  let hashAlg = area.nameAlg;
  if (area.type === 'rsa' && area.scheme?.scheme === TPM_ALG.OAEP && area.scheme.hashAlg !== undefined)
    hashAlg = area.scheme.hashAlg;
  tpmHash(hashAlg);
  const key = createPublicKey({ key: Buffer.from(area.spki), format: 'der', type: 'spki' });
  return { key, hashAlg, symKeyBits: sym.keyBits as 128 | 256 };
}

/**
 * The protector for an EK known only by its key (e.g. from its EK certificate): the default
 * EK template parameters of the TCG EK Credential Profile (standards.md §2.4): RSA-2048 and
 * P-256 → SHA-256/AES-128; RSA-3072/4096 and P-384 → SHA-384/AES-256; P-521 → SHA-512/AES-256.
 */
export function defaultProtectorForKey(key: KeyObject): EkProtector {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength ?? 0;
    if (bits === 2048) return { key, hashAlg: TPM_ALG_SHA256, symKeyBits: 128 };
    if (bits === 3072 || bits === 4096) return { key, hashAlg: TPM_ALG_SHA384, symKeyBits: 256 };
    return fail('ALGORITHM_UNSUPPORTED', `no default EK template for RSA-${bits}`, { bits });
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details?.namedCurve;
    if (curve === 'prime256v1') return { key, hashAlg: TPM_ALG_SHA256, symKeyBits: 128 };
    if (curve === 'secp384r1') return { key, hashAlg: TPM_ALG_SHA384, symKeyBits: 256 };
    if (curve === 'secp521r1') return { key, hashAlg: TPM_ALG_SHA512, symKeyBits: 256 };
    return fail('ALGORITHM_UNSUPPORTED', `no default EK template for curve ${curve}`, { curve });
  }
  return fail('ALGORITHM_UNSUPPORTED', `an EK cannot be a ${key.asymmetricKeyType} key`);
}

/** Input of `makeCredential`. */
export interface MakeCredentialInput {
  /** The EK: its TPMT_PUBLIC / TPM2B_PUBLIC bytes, a parsed area, or protector parameters. */
  readonly ek: Uint8Array | TpmtPublic | EkProtector;
  /** Full AK Name (u16 nameAlg || digest), computed by the verifier from the checked AK public area. */
  readonly akName: Uint8Array;
  /** The credential value; 1..H.size bytes (Part 1 §24.4). */
  readonly secret: Uint8Array;
  /** Randomness (tests inject it for reproducible output); default crypto.randomBytes. */
  readonly random?: (n: number) => Uint8Array;
}

/** TPM2_MakeCredential output, in wire form. */
export interface Credential {
  /** TPM2B_ID_OBJECT: u16 len || TPM2B_DIGEST(outerHMAC) || encIdentity. */
  readonly credentialBlob: Uint8Array;
  /** TPM2B_ENCRYPTED_SECRET: u16 len || OAEP ciphertext (RSA) or TPMS_ECC_POINT (ECC). */
  readonly encryptedSecret: Uint8Array;
}

function tpm2b(data: Uint8Array): Uint8Array {
  if (data.length > 0xffff) fail('INTERNAL', 'TPM2B value over 65535 bytes');
  const out = new Uint8Array(2 + data.length);
  out[0] = data.length >> 8;
  out[1] = data.length & 0xff;
  out.set(data, 2);
  return out;
}

function protectorOf(ek: MakeCredentialInput['ek']): EkProtector {
  if (ek instanceof Uint8Array) return protectorFromPublicArea(readTpmPublicArea(ek));
  if ('key' in ek) return ek;
  return protectorFromPublicArea(ek);
}

/** The field size and uncompressed-point coordinates of an EC public key. */
function ecPoint(key: KeyObject): { curve: string; size: number; x: Buffer; y: Buffer } {
  const jwk = key.export({ format: 'jwk' });
  const curve = jwk.crv === undefined ? undefined : CURVES.get(jwk.crv);
  if (curve === undefined || jwk.x === undefined || jwk.y === undefined)
    return fail('ALGORITHM_UNSUPPORTED', `EK curve ${String(jwk.crv)} is not supported`);
  return {
    curve: curve.node,
    size: curve.size,
    x: Buffer.from(jwk.x, 'base64url'),
    y: Buffer.from(jwk.y, 'base64url'),
  };
}

const IDENTITY_LABEL = Buffer.from('IDENTITY\0', 'ascii');

/**
 * TPM2_MakeCredential in software (Part 1 §24, standards.md §2.6): seed (RSA-OAEP with label
 * "IDENTITY\0", or ECDH + KDFe), symKey = KDFa(seed, "STORAGE", akName), AES-CFB over
 * TPM2B_DIGEST(secret), HMAC with KDFa(seed, "INTEGRITY") over encIdentity || akName.
 *
 * @example
 * const ak = readTpmPublicArea(akPublicBytes); // check its attributes first
 * const { credentialBlob, encryptedSecret } = makeCredential({ ek: ekPublicBytes, akName: tpmObjectName(ak), secret });
 */
export function makeCredential(input: MakeCredentialInput): Credential {
  const protector = protectorOf(input.ek);
  const hash = tpmHash(protector.hashAlg);
  const random = input.random ?? ((n: number) => randomBytes(n));
  const { akName, secret } = input;
  if (secret.length === 0 || secret.length > hash.size)
    fail('USAGE', `the credential secret must be 1..${hash.size} bytes`, { length: secret.length });
  checkName(akName);

  let seed: Uint8Array;
  let encryptedSecret: Uint8Array;
  if (protector.key.asymmetricKeyType === 'rsa') {
    // Part 1 §24.4 / B.10.4: seed of the digest size, RSAES-OAEP with label "IDENTITY\0".
    seed = random(hash.size);
    const ciphertext = publicEncrypt(
      {
        key: protector.key,
        padding: nodeCrypto.RSA_PKCS1_OAEP_PADDING,
        oaepHash: hash.node,
        oaepLabel: IDENTITY_LABEL,
      },
      seed,
    );
    encryptedSecret = tpm2b(ciphertext);
  } else if (protector.key.asymmetricKeyType === 'ec') {
    // Part 1 C.6.4: one-pass ECDH with an ephemeral key; Z is the shared x-coordinate.
    const ek = ecPoint(protector.key);
    const ecdh = createECDH(ek.curve);
    if (input.random === undefined) ecdh.generateKeys();
    else ecdh.setPrivateKey(Buffer.from(random(ek.size)));
    const ephemeral = ecdh.getPublicKey();
    const z = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), ek.x, ek.y]));
    const qx = ephemeral.subarray(1, 1 + ek.size);
    const qy = ephemeral.subarray(1 + ek.size);
    seed = kdfe(protector.hashAlg, z, 'IDENTITY', qx, ek.x, hash.size * 8);
    encryptedSecret = tpm2b(Buffer.concat([tpm2b(qx), tpm2b(qy)]));
  } else {
    return fail('ALGORITHM_UNSUPPORTED', `an EK cannot be a ${protector.key.asymmetricKeyType} key`);
  }

  const encIdentity = protectIdentity(protector, seed, akName, tpm2b(secret), 'encrypt');
  const hmacKey = kdfa(
    protector.hashAlg,
    seed,
    'INTEGRITY',
    new Uint8Array(0),
    new Uint8Array(0),
    hash.size * 8,
  );
  const outerHmac = createHmac(hash.node, hmacKey).update(encIdentity).update(akName).digest();
  const credentialBlob = tpm2b(Buffer.concat([tpm2b(outerHmac), encIdentity]));
  return { credentialBlob, encryptedSecret };
}

function checkName(akName: Uint8Array): void {
  if (akName.length < 2) fail('USAGE', 'the AK Name is too short');
  const hash = tpmHash(((akName[0] ?? 0) << 8) | (akName[1] ?? 0));
  if (akName.length !== 2 + hash.size) fail('USAGE', 'the AK Name length does not match its algorithm');
}

/** AES-CFB with a zero IV and symKey = KDFa(seed, "STORAGE", akName) (Part 1 §24.4). */
function protectIdentity(
  protector: EkProtector,
  seed: Uint8Array,
  akName: Uint8Array,
  data: Uint8Array,
  direction: 'encrypt' | 'decrypt',
): Uint8Array {
  const symKey = kdfa(protector.hashAlg, seed, 'STORAGE', akName, new Uint8Array(0), protector.symKeyBits);
  const cipher = `aes-${protector.symKeyBits}-cfb`;
  const iv = Buffer.alloc(16);
  const c =
    direction === 'encrypt' ? createCipheriv(cipher, symKey, iv) : createDecipheriv(cipher, symKey, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** The tpm2-tools credential file: BE32 0xBADCC0DE || BE32 1 || credentialBlob || encryptedSecret. */
export function encodeTpm2ToolsCredential(credential: Credential): Uint8Array {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(TPM2_TOOLS_CREDENTIAL_MAGIC, 0);
  header.writeUInt32BE(1, 4);
  return Buffer.concat([header, credential.credentialBlob, credential.encryptedSecret]);
}

/** Parse a tpm2-tools credential file strictly (magic, version 1, two TPM2Bs, nothing after). */
export function parseTpm2ToolsCredential(file: Uint8Array): Credential {
  if (file.length > 8 + 2 * (2 + 1024)) fail('INPUT_TOO_LARGE', 'tpm2-tools credential file is too large');
  const r = new Reader(file, 'tpm2-tools credential file');
  if (r.u32() !== TPM2_TOOLS_CREDENTIAL_MAGIC)
    fail('TPM_MALFORMED', 'not a tpm2-tools credential file (magic)');
  const version = r.u32();
  if (version !== 1) fail('TPM_MALFORMED', `tpm2-tools credential file version ${version} is not 1`);
  const credentialBlob = tpm2b(r.tpm2b(1024, 'credential'));
  const encryptedSecret = tpm2b(r.tpm2b(1024, 'secret'));
  r.end();
  return { credentialBlob, encryptedSecret };
}

/**
 * TEST SUPPORT ONLY — TPM2_ActivateCredential in software with the EK private key, to prove
 * the round trip without a TPM. A real verifier never holds an EK private key.
 */
export function activateCredentialWithPrivateKey(input: {
  readonly ekPrivate: KeyObject;
  readonly protector: EkProtector;
  readonly akName: Uint8Array;
  readonly credential: Credential;
}): Uint8Array {
  const { protector, akName, credential } = input;
  const hash = tpmHash(protector.hashAlg);
  const secretReader = new Reader(credential.encryptedSecret, 'TPM2B_ENCRYPTED_SECRET');
  const encSecret = secretReader.tpm2b(1024, 'secret');
  secretReader.end();
  let seed: Uint8Array;
  if (protector.key.asymmetricKeyType === 'rsa') {
    seed = privateDecrypt(
      {
        key: input.ekPrivate,
        padding: nodeCrypto.RSA_PKCS1_OAEP_PADDING,
        oaepHash: hash.node,
        oaepLabel: IDENTITY_LABEL,
      },
      encSecret,
    );
  } else {
    const ek = ecPoint(protector.key);
    const p = new Reader(encSecret, 'TPMS_ECC_POINT');
    const qx = p.tpm2b(66, 'x');
    const qy = p.tpm2b(66, 'y');
    p.end();
    const d = Buffer.from(input.ekPrivate.export({ format: 'jwk' }).d ?? '', 'base64url');
    const ecdh = createECDH(ek.curve);
    ecdh.setPrivateKey(d);
    const z = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), qx, qy]));
    seed = kdfe(protector.hashAlg, z, 'IDENTITY', qx, ek.x, hash.size * 8);
  }
  const blob = new Reader(credential.credentialBlob, 'TPM2B_ID_OBJECT');
  const idObject = new Reader(blob.tpm2b(1024, 'idObject'), 'TPM2B_ID_OBJECT');
  blob.end();
  const outerHmac = idObject.tpm2b(64, 'integrity');
  const encIdentity = idObject.bytes(idObject.buf.length - 2 - outerHmac.length);
  idObject.end();
  const hmacKey = kdfa(
    protector.hashAlg,
    seed,
    'INTEGRITY',
    new Uint8Array(0),
    new Uint8Array(0),
    hash.size * 8,
  );
  const expected = createHmac(hash.node, hmacKey).update(encIdentity).update(akName).digest();
  // Part 1 §24.5: the integrity check comes before any decryption.
  if (expected.length !== outerHmac.length || !timingSafeEqual(expected, outerHmac))
    fail('ATTESTATION_INVALID', 'credential integrity check failed (wrong EK or AK Name)');
  const plain = new Reader(protectIdentity(protector, seed, akName, encIdentity, 'decrypt'), 'TPM2B_DIGEST');
  const cv = plain.tpm2b(64, 'credential');
  plain.end();
  return cv;
}
