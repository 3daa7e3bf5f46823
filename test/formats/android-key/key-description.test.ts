/**
 * parseKeyDescription against every expected-KeyDescription JSON of the real Android vectors
 * (android/keyattestation testdata, MANIFEST.md), plus strictness, bounds and a mutation fuzz.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import {
  type AndroidKeyDescription,
  type AuthorizationList,
  KEY_DESCRIPTION_OID,
  parseKeyDescription,
} from '../../../src/formats/android-key/key-description.js';
import { fuzzParameters, mutatedBytes, outcome } from '../../helpers/fuzz.js';
import {
  applicationId,
  authList,
  intSet,
  keyDescription,
  rootOfTrust,
  softwareList,
  tag,
  teeHardwareList,
} from './build.js';
import { available, deviceChains, KA, pemCerts, readJsonc, requireVectors } from './vectors.js';

requireVectors('KeyDescription vector comparisons');

const LEVEL = { software: 'SOFTWARE', tee: 'TRUSTED_ENVIRONMENT', strongbox: 'STRONG_BOX' } as const;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const strs = (v: readonly number[]) => v.map(String);

/** Our typed lists in the Kotlin verifier's JSON shape (android/keyattestation testdata). */
function listJson(l: AuthorizationList): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (l.purposes) o.purposes = strs(l.purposes);
  if (l.algorithm !== undefined) o.algorithms = String(l.algorithm);
  if (l.keySize !== undefined) o.keySize = String(l.keySize);
  if (l.blockModes) o.blockModes = strs(l.blockModes);
  if (l.digests) o.digests = strs(l.digests);
  if (l.paddings) o.paddings = strs(l.paddings);
  if (l.ecCurve !== undefined) o.ecCurve = String(l.ecCurve);
  if (l.mlDsaVariant !== undefined) o.mlDsaVariant = String(l.mlDsaVariant);
  if (l.rsaPublicExponent !== undefined) o.rsaPublicExponent = String(l.rsaPublicExponent);
  if (l.mgfDigests) o.rsaOaepMgfDigests = strs(l.mgfDigests);
  if (l.activeDateTime !== undefined) o.activeDateTime = String(l.activeDateTime);
  if (l.originationExpireDateTime !== undefined)
    o.originationExpireDateTime = String(l.originationExpireDateTime);
  if (l.usageExpireDateTime !== undefined) o.usageExpireDateTime = String(l.usageExpireDateTime);
  if (l.usageCountLimit !== undefined) o.usageCountLimit = String(l.usageCountLimit);
  if (l.noAuthRequired) o.noAuthRequired = true;
  if (l.userAuthType !== undefined) o.userAuthType = String(l.userAuthType);
  if (l.authTimeout !== undefined) o.authTimeout = String(l.authTimeout);
  for (const k of [
    'allowWhileOnBody',
    'trustedUserPresenceRequired',
    'trustedConfirmationRequired',
    'unlockedDeviceRequired',
  ] as const) {
    if (l[k]) o[k] = true;
  }
  if (l.creationDateTime !== undefined) o.creationDateTime = String(l.creationDateTime);
  if (l.origin !== undefined)
    o.origin = ['GENERATED', 'DERIVED', 'IMPORTED', 'RESERVED', 'SECURELY_IMPORTED'][l.origin];
  if (l.rollbackResistant || l.rollbackResistance) o.rollbackResistant = true;
  if (l.rootOfTrust) {
    const r = l.rootOfTrust;
    o.rootOfTrust = {
      verifiedBootKey: b64(r.verifiedBootKey),
      deviceLocked: r.deviceLocked,
      verifiedBootState: r.verifiedBootState.toUpperCase().replace('-', '_'),
      ...(r.verifiedBootHash ? { verifiedBootHash: b64(r.verifiedBootHash) } : {}),
    };
  }
  if (l.osVersion !== undefined) o.osVersion = String(l.osVersion);
  if (l.osPatchLevel !== undefined) o.osPatchLevel = String(l.osPatchLevel);
  if (l.attestationApplicationId) {
    o.attestationApplicationId = {
      packages: l.attestationApplicationId.packages.map((p) => ({
        name: p.name,
        version: String(p.version),
      })),
      signatures: l.attestationApplicationId.signatureDigests.map(b64),
    };
  }
  for (const k of [
    'attestationIdBrand',
    'attestationIdDevice',
    'attestationIdProduct',
    'attestationIdSerial',
    'attestationIdImei',
    'attestationIdMeid',
    'attestationIdManufacturer',
    'attestationIdModel',
  ] as const) {
    if (l[k] !== undefined) o[k] = l[k];
  }
  if (l.vendorPatchLevel !== undefined) o.vendorPatchLevel = String(l.vendorPatchLevel);
  if (l.bootPatchLevel !== undefined) o.bootPatchLevel = String(l.bootPatchLevel);
  if (l.attestationIdSecondImei !== undefined) o.attestationIdSecondImei = l.attestationIdSecondImei;
  if (l.moduleHash) o.moduleHash = b64(l.moduleHash);
  return o;
}

function asJson(kd: AndroidKeyDescription, withOrder: boolean): Record<string, unknown> {
  const list = (l: AuthorizationList) => ({
    ...listJson(l),
    ...(withOrder ? { areTagsOrdered: l.tagsInOrder } : {}),
  });
  return {
    attestationVersion: String(kd.attestationVersion),
    attestationSecurityLevel: LEVEL[kd.attestationSecurityLevel],
    keyMintVersion: String(kd.keyMintVersion),
    keyMintSecurityLevel: LEVEL[kd.keyMintSecurityLevel],
    attestationChallenge: b64(kd.attestationChallenge),
    uniqueId: b64(kd.uniqueId),
    softwareEnforced: list(kd.softwareEnforced),
    hardwareEnforced: list(kd.hardwareEnforced),
  };
}

function leafDescription(rel: string): AndroidKeyDescription {
  const [leaf] = pemCerts(join(KA, rel));
  const ext = leaf!.extension(KEY_DESCRIPTION_OID);
  if (!ext) throw new Error(`${rel}: no KeyDescription on the leaf`);
  return parseKeyDescription(ext.value);
}

describe.skipIf(!available)('parseKeyDescription: real device vectors', () => {
  const chains = deviceChains();
  it('finds the 21 android/keyattestation device chains with expected JSON', () => {
    expect(chains.length).toBe(21);
  });
  for (const rel of chains) {
    it(`matches the expected KeyDescription of ${rel}`, () => {
      const expected = readJsonc(join(KA, rel.replace(/\.pem$/, '.json')));
      const withOrder = JSON.stringify(expected).includes('areTagsOrdered');
      expect(asJson(leafDescription(rel), withOrder)).toEqual(expected);
    });
  }
});

const code = (fn: () => unknown) => outcome(fn);
const enc = (s: string) => new TextEncoder().encode(s);

describe('parseKeyDescription: structure and normalisation', () => {
  it('parses a generated TEE description with typed fields and the minimum security level', () => {
    const kd = parseKeyDescription(keyDescription({ attestationSecurityLevel: 2, keyMintSecurityLevel: 1 }));
    expect(kd.attestationVersion).toBe(300);
    expect(kd.securityLevel).toBe('tee');
    expect(Buffer.from(kd.attestationChallenge).toString()).toBe('challenge');
    expect(kd.hardwareEnforced.purposes).toEqual([2]);
    expect(kd.hardwareEnforced.origin).toBe(0);
    expect(kd.hardwareEnforced.rootOfTrust?.deviceLocked).toBe(true);
    expect(kd.hardwareEnforced.rootOfTrust?.verifiedBootState).toBe('verified');
    expect(kd.hardwareEnforced.attestationIdSerial).toBe('SERIAL123');
    expect(kd.softwareEnforced.attestationApplicationId?.packages).toEqual([
      { name: 'com.example.app', version: 7n },
    ]);
    expect(kd.softwareEnforced.attestationApplicationIdDer?.length).toBeGreaterThan(0);
    expect(kd.deviations).toEqual([]);
  });

  it('accepts a RootOfTrust without verifiedBootHash (attestationVersion 1 and 2)', () => {
    const kd = parseKeyDescription(
      keyDescription({ attestationVersion: 2, hardware: authList([704, rootOfTrust(false, 2)]) }),
    );
    expect(kd.hardwareEnforced.rootOfTrust?.verifiedBootHash).toBeUndefined();
    expect(kd.hardwareEnforced.rootOfTrust?.verifiedBootState).toBe('unverified');
  });

  it('accepts every published schema version without a deviation', () => {
    for (const v of [1, 2, 3, 4, 100, 200, 300, 400, 500]) {
      expect(parseKeyDescription(keyDescription({ attestationVersion: v })).deviations).toEqual([]);
    }
    expect(
      parseKeyDescription(keyDescription({ attestationVersion: 600 })).deviations.map((d) => d.id),
    ).toEqual(['unknown-attestation-version']);
  });

  it('keeps unknown tags raw and reports them', () => {
    const kd = parseKeyDescription(
      keyDescription({ hardware: authList([2, der.int(3)], [899, der.int(5)]) }),
    );
    expect(kd.hardwareEnforced.unknownTags.map((t) => t.tag)).toEqual([899]);
    expect(kd.deviations.map((d) => d.id)).toEqual(['unknown-tags']);
  });

  it('reports tags out of ascending order as the deviation tags-out-of-order', () => {
    const kd = parseKeyDescription(
      keyDescription({ hardware: authList([702, der.int(0)], [2, der.int(3)]) }),
    );
    expect(kd.hardwareEnforced.tagsInOrder).toBe(false);
    expect(kd.deviations.map((d) => d.id)).toEqual(['tags-out-of-order']);
  });

  it('parses the minimal software list and an empty uniqueId', () => {
    const kd = parseKeyDescription(keyDescription({ software: softwareList(), hardware: authList() }));
    expect(kd.uniqueId.length).toBe(0);
    expect(kd.softwareEnforced.creationDateTime).toBe(1_727_389_885_676n);
  });
});

describe('parseKeyDescription: strictness (ATTESTATION_MALFORMED)', () => {
  const cases: [string, Uint8Array][] = [
    ['a tag given twice', keyDescription({ hardware: authList([2, der.int(3)], [2, der.int(3)]) })],
    ['an IMPLICIT (primitive) tag', keyDescription({ hardware: der.seq(Uint8Array.of(0x82, 0x01, 0x03)) })],
    [
      'an EXPLICIT tag with two elements',
      keyDescription({ hardware: der.seq(tag(2, Uint8Array.of(2, 1, 3, 2, 1, 3))) }),
    ],
    ['an unknown security level', keyDescription({ attestationSecurityLevel: 3 })],
    ['an unknown verifiedBootState', keyDescription({ hardware: authList([704, rootOfTrust(true, 4)]) })],
    [
      'deviceLocked encoded as 0x01',
      keyDescription({
        hardware: authList([
          704,
          der.seq(der.octets(new Uint8Array(32)), Uint8Array.of(1, 1, 1), der.enumerated(0)),
        ]),
      }),
    ],
    ['a challenge over 128 bytes', keyDescription({ challenge: new Uint8Array(129) })],
    [
      'a SET with 33 purposes',
      keyDescription({ hardware: authList([1, intSet(...Array.from({ length: 33 }, (_, i) => i))]) }),
    ],
    ['a negative key size', keyDescription({ hardware: authList([3, der.int(-1)]) })],
    ['a NULL flag with content', keyDescription({ hardware: authList([503, Uint8Array.of(5, 1, 0)]) })],
    [
      'a non-UTF-8 ID field',
      keyDescription({ hardware: authList([713, der.octets(Uint8Array.of(0xff, 0xfe))]) }),
    ],
    [
      'a malformed AttestationApplicationId',
      keyDescription({ software: authList([709, der.octets(der.seq(der.int(1)))]) }),
    ],
    [
      'an application id with trailing bytes',
      keyDescription({ software: authList([709, der.octets(Uint8Array.of(...applicationId([], []), 0))]) }),
    ],
    [
      'seven members',
      der.seq(
        der.int(3),
        der.enumerated(1),
        der.int(4),
        der.enumerated(1),
        der.octets(enc('c')),
        der.octets(enc('')),
        der.seq(),
      ),
    ],
    ['trailing bytes', Uint8Array.of(...keyDescription(), 0)],
    ['a truncated value', keyDescription().subarray(0, 40)],
  ];
  for (const [name, bytes] of cases) {
    it(`rejects ${name}`, () => {
      expect(code(() => parseKeyDescription(bytes))).toBe('ATTESTATION_MALFORMED');
    });
  }

  it('rejects an oversized extension value with INPUT_TOO_LARGE', () => {
    expect(code(() => parseKeyDescription(new Uint8Array(64 * 1024 + 1)))).toBe('INPUT_TOO_LARGE');
  });

  it('only ever throws ProvenanceError on mutated input', () => {
    const seeds = [keyDescription(), keyDescription({ hardware: teeHardwareList({ origin: 2 }) })];
    if (available) {
      for (const rel of deviceChains().slice(0, 4)) {
        seeds.push(pemCerts(join(KA, rel))[0]!.extension(KEY_DESCRIPTION_OID)!.value);
      }
    }
    fc.assert(
      fc.property(mutatedBytes(seeds), (m) => {
        outcome(() => parseKeyDescription(m.bytes));
      }),
      fuzzParameters(400),
    );
  });
});

describe.skipIf(!available)('parseKeyDescription: invalid/ vectors', () => {
  it('rejects the malformed deviceLocked encoding that lenient parsers read as TRUE', () => {
    const [leaf] = pemCerts(join(KA, 'invalid', 'malformed_rot_device_locked.pem'));
    expect(code(() => parseKeyDescription(leaf!.extension(KEY_DESCRIPTION_OID)!.value))).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('parses the tag-order vector and reports tags-out-of-order', () => {
    const [leaf] = pemCerts(join(KA, 'invalid', 'tags_not_in_ascending_order.pem'));
    const kd = parseKeyDescription(leaf!.extension(KEY_DESCRIPTION_OID)!.value);
    expect(kd.deviations.map((d) => d.id)).toContain('tags-out-of-order');
  });

  it('parses the allowWhileOnBody leaf', () => {
    const [leaf] = pemCerts(join(KA, 'allow_while_on_body.pem'));
    const kd = parseKeyDescription(leaf!.extension(KEY_DESCRIPTION_OID)!.value);
    expect(kd.hardwareEnforced.allowWhileOnBody ?? kd.softwareEnforced.allowWhileOnBody).toBe(true);
  });
});
