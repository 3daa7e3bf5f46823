/**
 * WebAuthn containers: the strict CBOR decoder, attestation objects, authenticator data,
 * COSE keys and client data — positives, each negative with its code, and a mutation fuzz
 * that only ever throws ProvenanceError.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProvenanceError } from '../../../src/core/errors.js';
import {
  type CborValue,
  decodeCbor,
  decodeCborPrefix,
  encodeCbor,
} from '../../../src/formats/webauthn/cbor.js';
import {
  decodeBase64Lenient,
  parseAttestationObject,
  parseAuthenticatorData,
  parseClientData,
} from '../../../src/formats/webauthn/containers.js';
import { coseKeyToSpki, verifyCose } from '../../../src/formats/webauthn/cose.js';
import { decodeEvidence } from '../../../src/verify/input.js';
import { fuzzParameters } from '../../helpers/fuzz.js';
import { ecKey } from '../../helpers/pki.js';
import { attestationObject, authData, clientDataJSON, registrationJson } from './builder.js';

const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof ProvenanceError) return err.code;
    throw err;
  }
}

describe('strict CBOR decoder', () => {
  it('decodes the CTAP2 subset: integers, strings, arrays, maps, simple values', () => {
    const v = decodeCbor(hex('a4 01 02 20 f5 63 66 6d 74 82 41 00 f6 18 18 39 01 00'));
    expect(v).toEqual(
      new Map<number | string, CborValue>([
        [1, 2],
        [-1, true],
        ['fmt', [new Uint8Array([0]), null]],
        [24, -257],
      ]),
    );
    expect(decodeCbor(hex('1b 001fffffffffffff'))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('round-trips its own encoder', () => {
    const v = new Map<number | string, CborValue>([
      ['a', [1, -1, 1000, 70000, 2 ** 40]],
      [3, new Uint8Array(300)],
    ]);
    expect(decodeCbor(encodeCbor(v))).toEqual(v);
  });

  it.each([
    ['truncated map', 'a2 01 02'],
    ['truncated byte string', '45 01 02'],
    ['trailing bytes', '01 00'],
    ['indefinite-length byte string', '5f 41 00 ff'],
    ['indefinite-length map', 'bf 01 02 ff'],
    ['non-shortest integer (1 byte for 5)', '18 05'],
    ['non-shortest length', '59 00 01 00'],
    ['non-shortest 4-byte integer', '1a 0000ffff'],
    ['non-shortest 8-byte integer', '1b 00000000ffffffff'],
    ['integer beyond 2^53', '1b 0020000000000000'],
    ['duplicate map key', 'a2 01 01 01 02'],
    ['map key of bytes', 'a1 41 00 01'],
    ['tag', 'c2 41 01'],
    ['float', 'f9 3c00'],
    ['undefined', 'f7'],
    ['invalid UTF-8 text', '62 c3 28'],
    ['reserved additional information', '1c'],
    ['array count larger than the input', '9a 7fffffff 00'],
  ])('refuses %s with CBOR_MALFORMED', (_what, h) => {
    expect(code(() => decodeCbor(hex(h)))).toBe('CBOR_MALFORMED');
  });

  it('bounds depth and item count', () => {
    const deep = hex(`${'81'.repeat(20)}00`);
    expect(code(() => decodeCbor(deep))).toBe('CBOR_MALFORMED');
    expect(code(() => decodeCbor(hex(`83 01 02 03`), { maxItems: 3 }))).toBe('CBOR_MALFORMED');
  });

  it('reports where a prefix item ends (a COSE key followed by extensions)', () => {
    expect(decodeCborPrefix(hex('00 a1 01 02 ff'), 1).end).toBe(4);
  });
});

describe('attestation object', () => {
  const cred = ecKey();
  const ad = authData({}, cred);

  it('parses {fmt, attStmt, authData}', () => {
    const att = parseAttestationObject(attestationObject('none', new Map(), ad));
    expect(att.fmt).toBe('none');
    expect(att.authData).toEqual(ad);
  });

  it('refuses other shapes with WEBAUTHN_MALFORMED', () => {
    const extra = encodeCbor(
      new Map<string, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', ad],
        ['x', 1],
      ]),
    );
    expect(code(() => parseAttestationObject(extra))).toBe('WEBAUTHN_MALFORMED');
    const noAuth = encodeCbor(
      new Map<string, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authDatx', ad],
      ]),
    );
    expect(code(() => parseAttestationObject(noAuth))).toBe('WEBAUTHN_MALFORMED');
    expect(code(() => parseAttestationObject(encodeCbor([1, 2, 3])))).toBe('WEBAUTHN_MALFORMED');
    const fmtInt = encodeCbor(
      new Map<string, CborValue>([
        ['fmt', 1],
        ['attStmt', new Map()],
        ['authData', ad],
      ]),
    );
    expect(code(() => parseAttestationObject(fmtInt))).toBe('WEBAUTHN_MALFORMED');
  });
});

describe('authenticator data', () => {
  const cred = ecKey();

  it('parses flags, signCount, AAGUID, credential ID, COSE key and extensions', () => {
    const ext = encodeCbor(new Map<string, CborValue>([['credProtect', 1]]));
    const ad = parseAuthenticatorData(
      authData({ flags: 0x41 | 0x04 | 0x08 | 0x10 | 0x80, signCount: 7, extensions: ext }, cred),
    );
    expect(ad.flags).toEqual({ up: true, uv: true, be: true, bs: true, at: true, ed: true });
    expect(ad.signCount).toBe(7);
    expect(ad.attested?.credentialId.length).toBe(16);
    expect(ad.attested?.publicKey.spki).toEqual(cred.spki);
    expect(ad.extensions).toEqual(ext);
  });

  it.each([
    ['shorter than 37 bytes', () => new Uint8Array(36)],
    ['trailing bytes after the COSE key', () => authData({ trailing: new Uint8Array([0]) }, ecKey())],
    ['ED set without extensions', () => authData({ flags: 0xc1 }, ecKey())],
    ['extensions that are not a map', () => authData({ flags: 0xc1, extensions: encodeCbor(1) }, ecKey())],
    ['BS without BE', () => authData({ flags: 0x51 }, ecKey())],
    ['credential ID over 1023 bytes', () => authData({ credentialId: new Uint8Array(1024) }, ecKey())],
    ['AT set but the data truncated', () => authData({}, ecKey()).subarray(0, 60)],
    ['AT set without a COSE key', () => authData({ coseBytes: new Uint8Array(0) }, ecKey())],
  ])('refuses %s with WEBAUTHN_MALFORMED', (_what, make) => {
    expect(code(() => parseAuthenticatorData(make()))).toBe('WEBAUTHN_MALFORMED');
  });

  it('accepts a 1023-byte credential ID', () => {
    expect(
      parseAuthenticatorData(authData({ credentialId: new Uint8Array(1023) }, cred)).attested?.credentialId
        .length,
    ).toBe(1023);
  });

  it('refuses a COSE key with a duplicate label (CBOR_MALFORMED)', () => {
    const dup = hex('a3 01 02 01 02 03 26');
    expect(code(() => parseAuthenticatorData(authData({ coseBytes: dup }, cred)))).toBe('CBOR_MALFORMED');
  });
});

describe('COSE keys', () => {
  const ec = (crv: 'P-256' | 'P-384' | 'P-521', alg: number, crvId: number) => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: crv });
    const jwk = publicKey.export({ format: 'jwk' });
    return {
      spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
      map: new Map<number, CborValue>([
        [1, 2],
        [3, alg],
        [-1, crvId],
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    };
  };

  it.each([
    ['P-256', -7, 1, 'ec-p256'],
    ['P-384', -35, 2, 'ec-p384'],
    ['P-521', -36, 3, 'ec-p521'],
  ] as const)('EC2 %s converts to the same SPKI as OpenSSL', (crv, alg, id, name) => {
    const k = ec(crv, alg, id);
    const key = coseKeyToSpki(k.map, encodeCbor(k.map));
    expect(key.spki).toEqual(k.spki);
    expect(key.keyAlgorithm).toBe(name);
  });

  it('OKP Ed25519 and RSA convert to OpenSSL SPKIs', () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    const x = new Uint8Array(Buffer.from(ed.export({ format: 'jwk' }).x!, 'base64url'));
    const okp = new Map<number, CborValue>([
      [1, 1],
      [3, -8],
      [-1, 6],
      [-2, x],
    ]);
    expect(coseKeyToSpki(okp, encodeCbor(okp)).spki).toEqual(
      new Uint8Array(ed.export({ type: 'spki', format: 'der' })),
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const jwk = rsa.export({ format: 'jwk' });
    const m = new Map<number, CborValue>([
      [1, 3],
      [3, -257],
      [-1, new Uint8Array(Buffer.from(jwk.n!, 'base64url'))],
      [-2, new Uint8Array(Buffer.from(jwk.e!, 'base64url'))],
    ]);
    const key = coseKeyToSpki(m, encodeCbor(m));
    expect(key.spki).toEqual(new Uint8Array(rsa.export({ type: 'spki', format: 'der' })));
    expect(key.keySize).toBe(2048);
  });

  it('refuses inconsistent keys with WEBAUTHN_MALFORMED and unknown ones with ALGORITHM_UNSUPPORTED', () => {
    const k = ec('P-256', -7, 1);
    const withAlg = (alg: number) => new Map([...k.map, [3, alg]]);
    expect(code(() => coseKeyToSpki(withAlg(-35), new Uint8Array()))).toBe('WEBAUTHN_MALFORMED'); // ES384 on P-256
    expect(code(() => coseKeyToSpki(withAlg(-257), new Uint8Array()))).toBe('WEBAUTHN_MALFORMED');
    const noAlg = new Map(k.map);
    noAlg.delete(3);
    expect(code(() => coseKeyToSpki(noAlg, new Uint8Array()))).toBe('WEBAUTHN_MALFORMED');
    const shortX = new Map<number, CborValue>([...k.map, [-2, new Uint8Array(31)]]);
    expect(code(() => coseKeyToSpki(shortX, new Uint8Array()))).toBe('WEBAUTHN_MALFORMED');
    expect(code(() => coseKeyToSpki(new Map<number, CborValue>([...k.map, [-1, 8]]), new Uint8Array()))).toBe(
      'ALGORITHM_UNSUPPORTED',
    );
    expect(code(() => coseKeyToSpki(1, new Uint8Array()))).toBe('WEBAUTHN_MALFORMED');
  });

  it.each([-48, -49, -50])('refuses ML-DSA (alg %i) with ALGORITHM_UNSUPPORTED, not a crash', (alg) => {
    const m = new Map<number, CborValue>([
      [1, 7],
      [3, alg],
      [-1, new Uint8Array(1312)],
    ]);
    expect(code(() => coseKeyToSpki(m, encodeCbor(m)))).toBe('ALGORITHM_UNSUPPORTED');
  });

  it('verifyCose refuses RS1 unless allowed, and an algorithm that does not fit the key', () => {
    const k = ecKey();
    expect(code(() => verifyCose(-65535, new Uint8Array(1), new Uint8Array(1), k.spki))).toBe(
      'ALGORITHM_NOT_ALLOWED',
    );
    expect(code(() => verifyCose(-257, new Uint8Array(1), new Uint8Array(1), k.spki))).toBe(
      'ATTESTATION_INVALID',
    );
    expect(code(() => verifyCose(-999, new Uint8Array(1), new Uint8Array(1), k.spki))).toBe(
      'ALGORITHM_UNSUPPORTED',
    );
    expect(verifyCose(-7, new Uint8Array(1), new Uint8Array(8), k.spki)).toBe(false);
  });
});

describe('client data and evidence detection', () => {
  it('parses clientDataJSON and refuses non-JSON or missing members', () => {
    expect(parseClientData(clientDataJSON()).type).toBe('webauthn.create');
    expect(code(() => parseClientData(new Uint8Array([0xff])))).toBe('WEBAUTHN_MALFORMED');
    expect(code(() => parseClientData(Buffer.from('{"type":"webauthn.create"}')))).toBe('WEBAUTHN_MALFORMED');
    expect(code(() => parseClientData(Buffer.from('[1]')))).toBe('WEBAUTHN_MALFORMED');
  });

  it('decodes base64 and base64url leniently, nothing else', () => {
    expect(decodeBase64Lenient('+/8=', 'x')).toEqual(decodeBase64Lenient('-_8', 'x'));
    expect(code(() => decodeBase64Lenient('a b', 'x'))).toBe('WEBAUTHN_MALFORMED');
    expect(code(() => decodeBase64Lenient('abcde', 'x'))).toBe('WEBAUTHN_MALFORMED');
  });

  it('decodeEvidence detects a CBOR attestation object, registration JSON and python-fido2 parts', () => {
    const cred = ecKey();
    const ad = authData({}, cred);
    const ao = attestationObject('none', new Map(), ad);
    expect(decodeEvidence(ao).kind).toBe('webauthn-attestation');
    expect(decodeEvidence(registrationJson(ao, clientDataJSON())).kind).toBe('webauthn-registration');
    const parts = Buffer.from(
      JSON.stringify({
        fmt: 'none',
        attStmt: {},
        authData_hex: Buffer.from(ad).toString('hex'),
        clientDataHash_hex: '00'.repeat(32),
      }),
    );
    const input = decodeEvidence(parts);
    expect(input.kind).toBe('webauthn-attestation');
    expect(code(() => decodeEvidence(Buffer.from('{"response":{}}')))).toBe('INPUT_UNRECOGNIZED');
    expect(code(() => decodeEvidence(Buffer.from('{not json')))).toBe('INPUT_UNRECOGNIZED');
  });
});

describe('fuzz', () => {
  const cred = ecKey();
  const ad = authData({ flags: 0xc1, extensions: encodeCbor(new Map([['a', 1]])) }, cred);
  const ao = attestationObject('none', new Map(), ad);

  it('mutated attestation objects and authenticator data only ever throw ProvenanceError', () => {
    const mutate = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }));
    fc.assert(
      fc.property(mutate, ([at, byte, op]) => {
        for (const seed of [ao, ad]) {
          const i = at % seed.length;
          const m =
            op === 0
              ? Uint8Array.from(seed, (b, j) => (j === i ? byte : b))
              : op === 1
                ? seed.subarray(0, i)
                : op === 2
                  ? new Uint8Array(Buffer.concat([seed.subarray(0, i), Buffer.of(byte), seed.subarray(i)]))
                  : new Uint8Array(Buffer.concat([seed.subarray(0, i), seed.subarray(i + 1)]));
          for (const fn of [
            () => parseAttestationObject(m),
            () => parseAuthenticatorData(m),
            () => decodeEvidence(m),
          ]) {
            try {
              fn();
            } catch (err) {
              if (!(err instanceof ProvenanceError)) throw err;
            }
          }
        }
      }),
      fuzzParameters(1500),
    );
  });

  it('random bytes only ever throw ProvenanceError from the CBOR decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeCbor(bytes);
        } catch (err) {
          if (!(err instanceof ProvenanceError)) throw err;
        }
      }),
      fuzzParameters(2000),
    );
  });
});
