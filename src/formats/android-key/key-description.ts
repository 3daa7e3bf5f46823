/**
 * Strict, bounded parser of the Android Key Attestation KeyDescription extension
 * (OID 1.3.6.1.4.1.11129.2.1.17; standards.md §4.2; AOSP "Key and ID attestation").
 *
 * Every schema version is accepted: Keymaster 2-4.1 (attestationVersion 1, 2, 3, 4) and
 * KeyMint (100, 200, 300, 400, and the 500 seen on Android 17 devices). The AuthorizationList
 * tags are all EXPLICIT and OPTIONAL; a tag this parser does not know is kept raw and reported
 * (not fatal: new KeyMint versions add tags), a tag given twice is malformed, and tags out of
 * ascending order are reported as the deviation `tags-out-of-order` (KeyMint emits them sorted;
 * android/keyattestation flags unsorted lists as a fingerprint of hand-built certificates, §4.6).
 *
 * The DER rules are the project reader's (src/core/der.ts): definite minimal lengths, minimal
 * INTEGERs, BOOLEAN 0x00/0xFF, no trailing bytes. Sizes and SET counts are bounded
 * (KEY_DESCRIPTION_LIMITS). Every failure is a ProvenanceError: ATTESTATION_MALFORMED for a
 * structure that is not a KeyDescription, DER_* codes are mapped to ATTESTATION_MALFORMED too
 * (with the DER code in `details.derCode`).
 *
 * @example
 * const ext = leaf.extension(KEY_DESCRIPTION_OID);
 * const kd = parseKeyDescription(ext!.value);
 * kd.securityLevel;                       // 'tee' (the minimum of the two levels)
 * kd.hardwareEnforced.rootOfTrust?.deviceLocked;
 */
import {
  children,
  contentOf,
  expectTag,
  parseDer,
  readBigInt,
  readBoolean,
  readNull,
  readOctetString,
  readSmallInt,
  TAG,
  type Tlv,
} from '../../core/der.js';
import { fail, isProvenanceError, ProvenanceError } from '../../core/errors.js';

/** The KeyDescription extension (AOSP Key and ID attestation). */
export const KEY_DESCRIPTION_OID = '1.3.6.1.4.1.11129.2.1.17';

/** The RKP provisioning-info extension on the attestation key's certificate (CBOR map). */
export const PROVISIONING_INFO_OID = '1.3.6.1.4.1.11129.2.1.30';

/** Size and count bounds the parser enforces (a real KeyDescription is well under 4 KiB). */
export const KEY_DESCRIPTION_LIMITS = {
  /** Largest extension value accepted. */
  maxBytes: 64 * 1024,
  /** attestationChallenge: KeyMint refuses more than 128 bytes (IKeyMintDevice attestKey). */
  maxChallengeBytes: 128,
  /** uniqueId is a 16-byte HMAC output; leave room for vendor variants. */
  maxUniqueIdBytes: 64,
  /** Most members of one SET OF INTEGER (purposes, digests, ...). */
  maxSetMembers: 32,
  /** Most tags in one AuthorizationList. */
  maxTags: 128,
  /** Most bytes of an ID-attestation or other short OCTET STRING field. */
  maxIdBytes: 512,
  /** Most bytes of the inner AttestationApplicationId DER. */
  maxApplicationIdBytes: 16 * 1024,
  /** Most package infos / signature digests in the AttestationApplicationId. */
  maxPackages: 64,
  maxSignatureDigests: 32,
} as const;

/** SecurityLevel ENUMERATED: Software(0), TrustedEnvironment(1), StrongBox(2). */
export type AndroidSecurityLevel = 'software' | 'tee' | 'strongbox';

const SECURITY_LEVELS: readonly AndroidSecurityLevel[] = ['software', 'tee', 'strongbox'];

/** VerifiedBootState ENUMERATED: Verified(0), SelfSigned(1), Unverified(2), Failed(3). */
export type VerifiedBootState = 'verified' | 'self-signed' | 'unverified' | 'failed';

const BOOT_STATES: readonly VerifiedBootState[] = ['verified', 'self-signed', 'unverified', 'failed'];

/** KeyOrigin values (hardware list `origin`, tag 702). */
export const KEY_ORIGINS = ['generated', 'derived', 'imported', 'reserved', 'securely-imported'] as const;

/** Named KeyPurpose values (tag 1). */
export const KEY_PURPOSES: Readonly<Record<number, string>> = {
  0: 'encrypt',
  1: 'decrypt',
  2: 'sign',
  3: 'verify',
  5: 'wrap-key',
  6: 'agree-key',
  7: 'attest-key',
};

/** Named Algorithm values (tag 2). 4 is ML-DSA on the newest KeyMint (tokay sdk37 vectors). */
export const KEY_ALGORITHMS: Readonly<Record<number, string>> = {
  1: 'rsa',
  3: 'ec',
  4: 'ml-dsa',
  32: 'aes',
  33: 'triple-des',
  128: 'hmac',
};

/** RootOfTrust (tag 704). */
export interface RootOfTrust {
  /** Digest of the key that verified boot; all-zero on some unlocked devices. */
  readonly verifiedBootKey: Uint8Array;
  readonly deviceLocked: boolean;
  readonly verifiedBootState: VerifiedBootState;
  /** vbmeta digest: present from attestationVersion 3 on. */
  readonly verifiedBootHash?: Uint8Array;
}

/** One AttestationPackageInfo. */
export interface AttestationPackageInfo {
  readonly name: string;
  /** The package's versionCode (a 64-bit long on Android). */
  readonly version: bigint;
}

/** AttestationApplicationId (tag 709, DER inside the OCTET STRING). */
export interface AttestationApplicationId {
  readonly packages: readonly AttestationPackageInfo[];
  /** SHA-256 digests of the APK signing certificates. */
  readonly signatureDigests: readonly Uint8Array[];
}

/** A tag this parser does not know: kept, reported, never interpreted. */
export interface UnknownTag {
  readonly tag: number;
  /** The EXPLICIT element's content (the inner element's full encoding). */
  readonly value: Uint8Array;
}

/** AuthorizationList with typed fields (standards.md §4.2). Absent tags are absent keys. */
export interface AuthorizationList {
  readonly purposes?: readonly number[];
  readonly algorithm?: number;
  readonly keySize?: number;
  readonly blockModes?: readonly number[];
  readonly digests?: readonly number[];
  readonly paddings?: readonly number[];
  readonly callerNonce?: true;
  readonly minMacLength?: number;
  readonly ecCurve?: number;
  readonly mlDsaVariant?: number;
  readonly rsaPublicExponent?: bigint;
  readonly mgfDigests?: readonly number[];
  readonly rollbackResistance?: true;
  readonly earlyBootOnly?: true;
  readonly activeDateTime?: bigint;
  readonly originationExpireDateTime?: bigint;
  readonly usageExpireDateTime?: bigint;
  readonly usageCountLimit?: number;
  readonly userSecureId?: bigint;
  readonly noAuthRequired?: true;
  readonly userAuthType?: number;
  readonly authTimeout?: number;
  readonly allowWhileOnBody?: true;
  readonly trustedUserPresenceRequired?: true;
  readonly trustedConfirmationRequired?: true;
  readonly unlockedDeviceRequired?: true;
  readonly allApplications?: true;
  readonly applicationId?: Uint8Array;
  /** ms since the epoch. */
  readonly creationDateTime?: bigint;
  /** KeyOrigin raw value; see KEY_ORIGINS. */
  readonly origin?: number;
  readonly rollbackResistant?: true;
  readonly rootOfTrust?: RootOfTrust;
  readonly osVersion?: number;
  readonly osPatchLevel?: number;
  readonly attestationApplicationId?: AttestationApplicationId;
  /** The raw inner DER of attestationApplicationId (digest it to pin an app identity). */
  readonly attestationApplicationIdDer?: Uint8Array;
  readonly attestationIdBrand?: string;
  readonly attestationIdDevice?: string;
  readonly attestationIdProduct?: string;
  readonly attestationIdSerial?: string;
  readonly attestationIdImei?: string;
  readonly attestationIdMeid?: string;
  readonly attestationIdManufacturer?: string;
  readonly attestationIdModel?: string;
  readonly vendorPatchLevel?: number;
  readonly bootPatchLevel?: number;
  readonly deviceUniqueAttestation?: true;
  readonly attestationIdSecondImei?: string;
  readonly moduleHash?: Uint8Array;
  /** Tags not in the schema above, in encounter order. */
  readonly unknownTags: readonly UnknownTag[];
  /** False when the tags are not in ascending order (a reported deviation). */
  readonly tagsInOrder: boolean;
}

/** A deviation the parser accepted and reports (never a silent relaxation). */
export interface KeyDescriptionDeviation {
  readonly id: 'tags-out-of-order' | 'unknown-tags' | 'unknown-attestation-version';
  readonly detail: string;
}

/** A parsed, normalised KeyDescription. */
export interface AndroidKeyDescription {
  readonly attestationVersion: number;
  readonly attestationSecurityLevel: AndroidSecurityLevel;
  readonly keyMintVersion: number;
  readonly keyMintSecurityLevel: AndroidSecurityLevel;
  /** The minimum of the two levels (android/keyattestation does the same, §4.2). */
  readonly securityLevel: AndroidSecurityLevel;
  readonly attestationChallenge: Uint8Array;
  readonly uniqueId: Uint8Array;
  readonly softwareEnforced: AuthorizationList;
  /** Named teeEnforced before KeyMint. */
  readonly hardwareEnforced: AuthorizationList;
  readonly deviations: readonly KeyDescriptionDeviation[];
}

/** attestationVersion values with a published schema (standards.md §4.2 version map; 500 seen in vectors). */
export const KNOWN_ATTESTATION_VERSIONS: readonly number[] = [1, 2, 3, 4, 100, 200, 300, 400, 500];

type Kind = 'set' | 'int' | 'bigint' | 'null' | 'bytes' | 'id' | 'rootOfTrust' | 'applicationId' | 'origin';

/** Tag number → field name and kind (standards.md §4.2, AOSP KeyDescription schema). */
const TAGS: ReadonlyMap<number, readonly [keyof AuthorizationList, Kind]> = new Map<
  number,
  readonly [keyof AuthorizationList, Kind]
>([
  [1, ['purposes', 'set']],
  [2, ['algorithm', 'int']],
  [3, ['keySize', 'int']],
  [4, ['blockModes', 'set']],
  [5, ['digests', 'set']],
  [6, ['paddings', 'set']],
  [7, ['callerNonce', 'null']],
  [8, ['minMacLength', 'int']],
  [10, ['ecCurve', 'int']],
  [11, ['mlDsaVariant', 'int']],
  [200, ['rsaPublicExponent', 'bigint']],
  [203, ['mgfDigests', 'set']],
  [303, ['rollbackResistance', 'null']],
  [305, ['earlyBootOnly', 'null']],
  [400, ['activeDateTime', 'bigint']],
  [401, ['originationExpireDateTime', 'bigint']],
  [402, ['usageExpireDateTime', 'bigint']],
  [405, ['usageCountLimit', 'int']],
  [502, ['userSecureId', 'bigint']],
  [503, ['noAuthRequired', 'null']],
  [504, ['userAuthType', 'int']],
  [505, ['authTimeout', 'int']],
  [506, ['allowWhileOnBody', 'null']],
  [507, ['trustedUserPresenceRequired', 'null']],
  [508, ['trustedConfirmationRequired', 'null']],
  [509, ['unlockedDeviceRequired', 'null']],
  [600, ['allApplications', 'null']],
  [601, ['applicationId', 'bytes']],
  [701, ['creationDateTime', 'bigint']],
  [702, ['origin', 'origin']],
  [703, ['rollbackResistant', 'null']],
  [704, ['rootOfTrust', 'rootOfTrust']],
  [705, ['osVersion', 'int']],
  [706, ['osPatchLevel', 'int']],
  [709, ['attestationApplicationId', 'applicationId']],
  [710, ['attestationIdBrand', 'id']],
  [711, ['attestationIdDevice', 'id']],
  [712, ['attestationIdProduct', 'id']],
  [713, ['attestationIdSerial', 'id']],
  [714, ['attestationIdImei', 'id']],
  [715, ['attestationIdMeid', 'id']],
  [716, ['attestationIdManufacturer', 'id']],
  [717, ['attestationIdModel', 'id']],
  [718, ['vendorPatchLevel', 'int']],
  [719, ['bootPatchLevel', 'int']],
  [720, ['deviceUniqueAttestation', 'null']],
  [723, ['attestationIdSecondImei', 'id']],
  [724, ['moduleHash', 'bytes']],
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(message: string, details: Record<string, unknown> = {}): never {
  return fail('ATTESTATION_MALFORMED', `KeyDescription: ${message}`, details);
}

/** A non-negative INTEGER as a safe JS number. */
function readUint(buf: Uint8Array, tlv: Tlv, what: string): number {
  // Up to 6 content octets fits a safe number: skip the BigInt arithmetic (the common case).
  if (tlv.end - tlv.valueStart <= 6) {
    const n = readSmallInt(buf, tlv, what);
    if (n < 0) malformed(`${what} out of range`, { field: what });
    return n;
  }
  const v = readBigInt(buf, tlv, what);
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) malformed(`${what} out of range`, { field: what });
  return Number(v);
}

function readEnum<T>(buf: Uint8Array, tlv: Tlv, names: readonly T[], what: string): T {
  // ENUMERATED shares INTEGER's encoding rules (X.690 §8.4), minimal encoding included.
  const v = readSmallInt(buf, tlv, what, TAG.ENUMERATED);
  const name = v >= 0 && v < names.length ? names[v] : undefined;
  if (name === undefined) malformed(`${what} has the unknown value ${v}`, { field: what, value: String(v) });
  return name;
}

function readBoundedOctets(buf: Uint8Array, tlv: Tlv, max: number, what: string): Uint8Array {
  const v = readOctetString(buf, tlv, what);
  if (v.length > max) malformed(`${what} is ${v.length} bytes, more than ${max}`, { field: what });
  return v;
}

function readText(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return malformed(`${what} is not UTF-8`, { field: what });
  }
}

function parseRootOfTrust(buf: Uint8Array, tlv: Tlv): RootOfTrust {
  expectTag(tlv, TAG.SEQUENCE, 'RootOfTrust');
  // verifiedBootHash was added in attestationVersion 3 (§4.2): 3 or 4 members.
  const parts = children(buf, tlv, [3, 4]);
  const verifiedBootKey = readBoundedOctets(
    buf,
    parts[0]!,
    KEY_DESCRIPTION_LIMITS.maxIdBytes,
    'verifiedBootKey',
  );
  const deviceLocked = readBoolean(buf, parts[1]!, 'deviceLocked');
  const verifiedBootState = readEnum(buf, parts[2]!, BOOT_STATES, 'verifiedBootState');
  const rot: RootOfTrust = { verifiedBootKey, deviceLocked, verifiedBootState };
  if (parts[3] === undefined) return rot;
  return {
    ...rot,
    verifiedBootHash: readBoundedOctets(buf, parts[3], KEY_DESCRIPTION_LIMITS.maxIdBytes, 'verifiedBootHash'),
  };
}

/** Parse the inner DER of attestationApplicationId (tag 709). */
export function parseAttestationApplicationId(der: Uint8Array): AttestationApplicationId {
  return guard(() => {
    const top = expectTag(parseDer(der), TAG.SEQUENCE, 'AttestationApplicationId');
    const [infos, digests] = children(der, top, 2) as [Tlv, Tlv];
    expectTag(infos, TAG.SET, 'package_infos');
    expectTag(digests, TAG.SET, 'signature_digests');
    const infoTlvs = children(der, infos);
    if (infoTlvs.length > KEY_DESCRIPTION_LIMITS.maxPackages)
      malformed(`more than ${KEY_DESCRIPTION_LIMITS.maxPackages} package infos`);
    const packages = infoTlvs.map((p) => {
      expectTag(p, TAG.SEQUENCE, 'AttestationPackageInfo');
      const [name, version] = children(der, p, 2) as [Tlv, Tlv];
      return {
        name: readText(
          readBoundedOctets(der, name, KEY_DESCRIPTION_LIMITS.maxIdBytes, 'package_name'),
          'package_name',
        ),
        version: readBigInt(der, version, 'package version'),
      };
    });
    const digestTlvs = children(der, digests);
    if (digestTlvs.length > KEY_DESCRIPTION_LIMITS.maxSignatureDigests)
      malformed(`more than ${KEY_DESCRIPTION_LIMITS.maxSignatureDigests} signature digests`);
    const signatureDigests = digestTlvs.map((d) =>
      readBoundedOctets(der, d, KEY_DESCRIPTION_LIMITS.maxIdBytes, 'signature_digest'),
    );
    return { packages, signatureDigests };
  });
}

function parseField(buf: Uint8Array, inner: Tlv, kind: Kind, name: string): unknown {
  switch (kind) {
    case 'set': {
      expectTag(inner, TAG.SET, name);
      const members = children(buf, inner);
      if (members.length > KEY_DESCRIPTION_LIMITS.maxSetMembers)
        malformed(`${name} has more than ${KEY_DESCRIPTION_LIMITS.maxSetMembers} members`, { field: name });
      // SET OF order is not checked: the values are a set, and order carries no meaning here.
      return members.map((m) => readUint(buf, m, name));
    }
    case 'int':
    case 'origin':
      return readUint(buf, inner, name);
    case 'bigint':
      return readBigInt(buf, inner, name);
    case 'null':
      readNull(inner, name);
      return true;
    case 'bytes':
      return readBoundedOctets(buf, inner, KEY_DESCRIPTION_LIMITS.maxIdBytes, name);
    case 'id':
      return readText(readBoundedOctets(buf, inner, KEY_DESCRIPTION_LIMITS.maxIdBytes, name), name);
    case 'rootOfTrust':
      return parseRootOfTrust(buf, inner);
    case 'applicationId':
      return parseAttestationApplicationId(
        readBoundedOctets(buf, inner, KEY_DESCRIPTION_LIMITS.maxApplicationIdBytes, name),
      );
  }
}

/** Parse one AuthorizationList SEQUENCE. */
function parseAuthorizationList(buf: Uint8Array, tlv: Tlv, which: string): AuthorizationList {
  expectTag(tlv, TAG.SEQUENCE, which);
  const items = children(buf, tlv);
  if (items.length > KEY_DESCRIPTION_LIMITS.maxTags)
    malformed(`${which} has more than ${KEY_DESCRIPTION_LIMITS.maxTags} tags`);
  const out: Record<string, unknown> = {};
  const unknownTags: UnknownTag[] = [];
  const seen = new Set<number>();
  let previous = -1;
  let tagsInOrder = true;
  for (const item of items) {
    // Every field is EXPLICIT [n] (context-specific, constructed) wrapping exactly one element.
    if (item.tagClass !== 2 || !item.constructed) {
      malformed(`${which}: expected an EXPLICIT context tag, found 0x${item.tag.toString(16)}`, {
        offset: item.start,
      });
    }
    const n = item.tagNumber;
    if (seen.has(n)) malformed(`${which}: tag [${n}] appears twice`, { tag: n });
    seen.add(n);
    if (n < previous) tagsInOrder = false;
    previous = n;
    const [inner] = children(buf, item, 1) as [Tlv];
    const known = TAGS.get(n);
    if (!known) {
      unknownTags.push({ tag: n, value: buf.slice(inner.start, inner.end) });
      continue;
    }
    const [field, kind] = known;
    if (kind === 'applicationId') {
      out.attestationApplicationIdDer = contentOf(buf, inner).slice();
    }
    out[field] = parseField(buf, inner, kind, field);
  }
  // Copy byte fields out of the caller's buffer so the result does not pin or alias it.
  for (const [k, v] of Object.entries(out)) if (v instanceof Uint8Array) out[k] = v.slice();
  if (out.rootOfTrust) {
    const r = out.rootOfTrust as RootOfTrust;
    out.rootOfTrust = {
      ...r,
      verifiedBootKey: r.verifiedBootKey.slice(),
      ...(r.verifiedBootHash ? { verifiedBootHash: r.verifiedBootHash.slice() } : {}),
    };
  }
  return { ...out, unknownTags, tagsInOrder } as AuthorizationList;
}

/** Map DER_* failures to ATTESTATION_MALFORMED (the input is a KeyDescription, not a certificate). */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isProvenanceError(err) && (err.code.startsWith('DER_') || err.code === 'INPUT_TOO_LARGE')) {
      throw new ProvenanceError(
        'ATTESTATION_MALFORMED',
        `KeyDescription: ${err.message}`,
        { ...err.details, derCode: err.code },
        { cause: err },
      );
    }
    throw err;
  }
}

function minLevel(a: AndroidSecurityLevel, b: AndroidSecurityLevel): AndroidSecurityLevel {
  return SECURITY_LEVELS.indexOf(a) <= SECURITY_LEVELS.indexOf(b) ? a : b;
}

/**
 * Parse a KeyDescription extension value (the extnValue OCTET STRING's content).
 * Throws ATTESTATION_MALFORMED (or INPUT_TOO_LARGE) on anything that is not one.
 *
 * @example
 * const kd = parseKeyDescription(cert.extension(KEY_DESCRIPTION_OID)!.value);
 * if (kd.securityLevel === 'software') reject();
 */
export function parseKeyDescription(der: Uint8Array): AndroidKeyDescription {
  if (der.length > KEY_DESCRIPTION_LIMITS.maxBytes) {
    fail(
      'INPUT_TOO_LARGE',
      `KeyDescription of ${der.length} bytes exceeds ${KEY_DESCRIPTION_LIMITS.maxBytes}`,
      {
        size: der.length,
        limit: KEY_DESCRIPTION_LIMITS.maxBytes,
      },
    );
  }
  return guard(() => {
    const top = expectTag(parseDer(der), TAG.SEQUENCE, 'KeyDescription');
    const f = children(der, top, 8);
    const attestationVersion = readUint(der, f[0]!, 'attestationVersion');
    const attestationSecurityLevel = readEnum(der, f[1]!, SECURITY_LEVELS, 'attestationSecurityLevel');
    const keyMintVersion = readUint(der, f[2]!, 'keyMintVersion');
    const keyMintSecurityLevel = readEnum(der, f[3]!, SECURITY_LEVELS, 'keyMintSecurityLevel');
    const attestationChallenge = readBoundedOctets(
      der,
      f[4]!,
      KEY_DESCRIPTION_LIMITS.maxChallengeBytes,
      'attestationChallenge',
    ).slice();
    const uniqueId = readBoundedOctets(
      der,
      f[5]!,
      KEY_DESCRIPTION_LIMITS.maxUniqueIdBytes,
      'uniqueId',
    ).slice();
    const softwareEnforced = parseAuthorizationList(der, f[6]!, 'softwareEnforced');
    const hardwareEnforced = parseAuthorizationList(der, f[7]!, 'hardwareEnforced');
    const deviations: KeyDescriptionDeviation[] = [];
    if (attestationVersion === 0) malformed('attestationVersion 0');
    if (!KNOWN_ATTESTATION_VERSIONS.includes(attestationVersion)) {
      deviations.push({
        id: 'unknown-attestation-version',
        detail: `attestationVersion ${attestationVersion} is not a published schema version`,
      });
    }
    for (const [name, list] of [
      ['softwareEnforced', softwareEnforced],
      ['hardwareEnforced', hardwareEnforced],
    ] as const) {
      if (!list.tagsInOrder) {
        deviations.push({ id: 'tags-out-of-order', detail: `${name} tags are not in ascending order` });
      }
      if (list.unknownTags.length > 0) {
        deviations.push({
          id: 'unknown-tags',
          detail: `${name} carries unknown tags ${list.unknownTags.map((t) => `[${t.tag}]`).join(', ')}`,
        });
      }
    }
    return {
      attestationVersion,
      attestationSecurityLevel,
      keyMintVersion,
      keyMintSecurityLevel,
      securityLevel: minLevel(attestationSecurityLevel, keyMintSecurityLevel),
      attestationChallenge,
      uniqueId,
      softwareEnforced,
      hardwareEnforced,
      deviations,
    };
  });
}

/** The origin name of a KeyOrigin value ('generated', 'imported', ...), or 'unknown-<n>'. */
export function originName(origin: number): string {
  return KEY_ORIGINS[origin] ?? `unknown-${origin}`;
}

/** The purpose name of a KeyPurpose value ('sign', 'attest-key', ...), or 'unknown-<n>'. */
export function purposeName(purpose: number): string {
  return KEY_PURPOSES[purpose] ?? `unknown-${purpose}`;
}
