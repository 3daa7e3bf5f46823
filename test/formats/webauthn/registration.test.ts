/**
 * The `webauthn` format through the verifier, on generated registrations: the WebAuthn §7.1
 * checks (type, challenge, origin, RP ID, user presence) each with its code; packed basic and
 * self, fido-u2f, apple, none and compound statements with their negatives; self and none
 * rejected as ATTESTATION_SELF / ATTESTATION_NONE; claims.
 */
import { describe, expect, it } from 'vitest';
import type { CborMap, CborValue } from '../../../src/formats/webauthn/cbor.js';
import { createWebauthnFormat } from '../../../src/formats/webauthn/index.js';
import { policyFromOptions } from '../../../src/policy/from-options.js';
import { createVerifier, type Expectations } from '../../../src/verify/verifier.js';
import { ecKey, issue, rsaKey } from '../../helpers/pki.js';
import {
  AAGUID_A,
  AAGUID_B,
  aaguidBytes,
  appleCert,
  attestationObject,
  authData,
  CHALLENGE,
  clientDataJSON,
  ORIGIN,
  packedBasic,
  packedSelf,
  packedSubject,
  RP_ID,
  registrationJson,
  sha256,
  u2f,
  type Vendor,
  vendor,
} from './builder.js';

const NOW = Date.UTC(2026, 5, 1);
const EXPECT: Expectations = { at: NOW, webauthn: { challenge: CHALLENGE, origin: ORIGIN, rpId: RP_ID } };

function verify(v: Vendor | null, json: Uint8Array, expectations: Expectations = EXPECT) {
  const verifier = createVerifier({
    policy: policyFromOptions({ trust: v ? [v.root.cert] : [], formats: ['webauthn'] }),
    formats: [createWebauthnFormat()],
  });
  return verifier.verifyBytes(json, expectations);
}

function packedRegistration(
  v: Vendor,
  options: {
    cdj?: Uint8Array;
    flags?: number;
    aaguid?: string;
    rpId?: string;
    stmt?: (m: CborMap) => CborMap;
  } = {},
) {
  const cred = ecKey();
  const cdj = options.cdj ?? clientDataJSON();
  const ad = authData(
    {
      ...(options.flags === undefined ? {} : { flags: options.flags }),
      aaguid: aaguidBytes(options.aaguid ?? AAGUID_A),
      ...(options.rpId ? { rpId: options.rpId } : {}),
    },
    cred,
  );
  const stmt = packedBasic(ad, cdj, v);
  return {
    cred,
    json: registrationJson(attestationObject('packed', options.stmt ? options.stmt(stmt) : stmt, ad), cdj),
  };
}

describe('packed basic attestation', () => {
  const v = vendor({ aaguidExt: AAGUID_A, fwVersion: 5 });

  it('is accepted with its claims and a path to the vendor root', () => {
    const { cred, json } = packedRegistration(v);
    const verdict = verify(v, json);
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.format).toBe('webauthn');
    expect(verdict.freshness).toBe('nonce');
    expect(verdict.claims).toMatchObject({
      aaguid: AAGUID_A,
      attestationType: 'basic',
      keyAlgorithm: 'ec-p256',
      flags: { up: true, uv: false, be: false, bs: false },
      userPresence: 'always',
      nonExportable: true,
      generatedOnDevice: true,
      firmware: '5',
    });
    expect(verdict.path.map((p) => p.role)).toEqual(['attested-key', 'attestation-key', 'root']);
    expect(verdict.path[0]!.spkiSha256).toBe(Buffer.from(sha256(cred.spki)).toString('hex'));
  });

  it('a backup-eligible credential (synced passkey) is not non-exportable', () => {
    const { json } = packedRegistration(v, { flags: 0x41 | 0x08 });
    expect(verify(v, json).claims).toMatchObject({ nonExportable: false, generatedOnDevice: false });
  });

  it('AAGUID extension differing from authData: AAGUID_MISMATCH', () => {
    const { json } = packedRegistration(v, { aaguid: AAGUID_B });
    expect(verify(v, json).code).toBe('AAGUID_MISMATCH');
  });

  it('a signature that does not verify: SIGNATURE_INVALID', () => {
    const { json } = packedRegistration(v, {
      stmt: (m) =>
        new Map([
          ...m,
          [
            'sig',
            new Uint8Array(Buffer.from((m.get('sig') as Uint8Array).map((b, i) => (i === 10 ? b ^ 1 : b)))),
          ],
        ]),
    });
    expect(verify(v, json).code).toBe('SIGNATURE_INVALID');
  });

  it('alg that does not fit the attestation key, unknown members, wrong types', () => {
    expect(verify(v, packedRegistration(v, { stmt: (m) => new Map([...m, ['alg', -257]]) }).json).code).toBe(
      'ATTESTATION_INVALID',
    );
    expect(verify(v, packedRegistration(v, { stmt: (m) => new Map([...m, ['foo', 1]]) }).json).code).toBe(
      'ATTESTATION_MALFORMED',
    );
    expect(verify(v, packedRegistration(v, { stmt: (m) => new Map([...m, ['x5c', []]]) }).json).code).toBe(
      'ATTESTATION_MALFORMED',
    );
    expect(
      verify(v, packedRegistration(v, { stmt: (m) => new Map([...m, ['sig', 'text']]) }).json).code,
    ).toBe('ATTESTATION_MALFORMED');
    expect(
      verify(
        v,
        packedRegistration(v, { stmt: (m) => new Map([...m, ['ecdaaKeyId', new Uint8Array(1)]]) }).json,
      ).code,
    ).toBe('ALGORITHM_UNSUPPORTED');
  });

  it('§8.2.1 certificate requirements: OU, CA flag', () => {
    const noOu = vendor({ subject: packedSubject('Vendor A', 'Security') });
    expect(verify(noOu, packedRegistration(noOu).json).code).toBe('ATTESTATION_INVALID');
    const ca = vendor({ ca: true });
    expect(verify(ca, packedRegistration(ca).json).code).toBe('ATTESTATION_INVALID');
  });

  it('a chain to another vendor root: PATH_NOT_FOUND', () => {
    const other = vendor({ name: 'Vendor B' });
    expect(verify(other, packedRegistration(v).json).code).toBe('PATH_NOT_FOUND');
  });

  it('no anchor for webauthn: TRUST_NO_ANCHORS', () => {
    expect(verify(null, packedRegistration(v).json).code).toBe('TRUST_NO_ANCHORS');
  });
});

describe('registration checks (WebAuthn §7.1)', () => {
  const v = vendor();

  it.each([
    ['type webauthn.get', { cdj: clientDataJSON({ type: 'webauthn.get' }) }, 'WEBAUTHN_TYPE'],
    ['another challenge', { cdj: clientDataJSON({ challenge: 'b3RoZXI' }) }, 'NONCE_MISMATCH'],
    ['another origin', { cdj: clientDataJSON({ origin: 'https://evil.example' }) }, 'ORIGIN_MISMATCH'],
    ['another RP ID', { rpId: 'evil.example' }, 'RPID_MISMATCH'],
    ['UP not set', { flags: 0x40 }, 'USER_PRESENCE_MISSING'],
    ['AT not set', { flags: 0x01 }, 'ATTESTATION_MALFORMED'],
  ] as const)('%s → %s', (_what, options, expected) => {
    expect(verify(v, packedRegistration(v, options).json).code).toBe(expected);
  });

  it('the challenge may be the generic nonce, and lists of origins and RP IDs are allowed', () => {
    const { json } = packedRegistration(v);
    const verdict = verify(v, json, {
      at: NOW,
      nonce: CHALLENGE,
      webauthn: { origin: ['https://a.example', ORIGIN], rpId: ['a.example', RP_ID] },
    });
    expect(verdict.code).toBe('ACCEPTED');
  });

  it('a bare attestation object needs the clientDataHash; with it, no freshness is claimed', () => {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({}, cred);
    const ao = attestationObject('packed', packedBasic(ad, cdj, v), ad);
    expect(verify(v, ao).code).toBe('WEBAUTHN_MALFORMED');
    const verdict = verify(v, ao, { at: NOW, webauthn: { clientDataHash: sha256(cdj), rpId: RP_ID } });
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.freshness).toBe('none');
    expect(verify(v, ao, { at: NOW, webauthn: { clientDataHash: sha256(Buffer.from('x')) } }).code).toBe(
      'SIGNATURE_INVALID',
    );
  });
});

describe('self and none attestation', () => {
  it('packed self verifies, then is rejected as ATTESTATION_SELF with its claims', () => {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({}, cred);
    const verdict = verify(
      null,
      registrationJson(attestationObject('packed', packedSelf(ad, cdj, cred), ad), cdj),
    );
    expect(verdict.code).toBe('ATTESTATION_SELF');
    expect(verdict.claims).toMatchObject({ attestationType: 'self' });
    expect(verdict.findings.some((f) => f.check === 'format.statement' && f.ok)).toBe(true);
  });

  it('packed self with a wrong signature or another alg is refused before that', () => {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({}, cred);
    const other = packedSelf(ad, cdj, ecKey());
    expect(verify(null, registrationJson(attestationObject('packed', other, ad), cdj)).code).toBe(
      'SIGNATURE_INVALID',
    );
    const alg = new Map([...packedSelf(ad, cdj, cred), ['alg', -35]]);
    expect(verify(null, registrationJson(attestationObject('packed', alg, ad), cdj)).code).toBe(
      'ATTESTATION_INVALID',
    );
  });

  it('none is rejected as ATTESTATION_NONE; a non-empty none statement is malformed', () => {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({}, cred);
    expect(verify(null, registrationJson(attestationObject('none', new Map(), ad), cdj)).code).toBe(
      'ATTESTATION_NONE',
    );
    const bad = new Map<string, CborValue>([['x', 1]]);
    expect(verify(null, registrationJson(attestationObject('none', bad, ad), cdj)).code).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('an unknown fmt: ATTESTATION_MISSING', () => {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({}, cred);
    expect(verify(null, registrationJson(attestationObject('future', new Map(), ad), cdj)).code).toBe(
      'ATTESTATION_MISSING',
    );
  });
});

describe('cross-origin registrations (WebAuthn L3 §7.1 step 14)', () => {
  const v = vendor({ aaguidExt: AAGUID_A });
  function framed(over: { crossOrigin?: boolean; topOrigin?: string }) {
    const cred = ecKey();
    const cdj = clientDataJSON(over);
    const ad = authData({ aaguid: aaguidBytes(AAGUID_A) }, cred);
    return registrationJson(attestationObject('packed', packedBasic(ad, cdj, v), ad), cdj);
  }

  it('refuses a registration made in a cross-origin iframe unless its top origin is allowed', () => {
    const json = framed({ crossOrigin: true, topOrigin: 'https://evil.example' });
    expect(verify(v, json).code).toBe('ORIGIN_MISMATCH');
    const allowed = { ...EXPECT, webauthn: { ...EXPECT.webauthn, topOrigin: 'https://evil.example' } };
    expect(verify(v, json, allowed).code).toBe('ACCEPTED');
    const other = { ...EXPECT, webauthn: { ...EXPECT.webauthn, topOrigin: 'https://partner.example' } };
    expect(verify(v, json, other).code).toBe('ORIGIN_MISMATCH');
    expect(verify(v, framed({ crossOrigin: true }), allowed).code).toBe('ORIGIN_MISMATCH');
  });
});

describe('registration JSON with a UTF-8 byte order mark', () => {
  it('is decoded like the same JSON without one', () => {
    const v = vendor({ aaguidExt: AAGUID_A });
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({ aaguid: aaguidBytes(AAGUID_A) }, cred);
    const json = registrationJson(attestationObject('packed', packedBasic(ad, cdj, v), ad), cdj);
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, 0x0a, ...json]);
    expect(verify(v, withBom).code).toBe('ACCEPTED');
  });
});

describe('relying-party expectations left out', () => {
  it('says so: a warning for each of origin and RP ID that was not checked', () => {
    const v = vendor({ aaguidExt: AAGUID_A });
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({ aaguid: aaguidBytes(AAGUID_A) }, cred);
    const json = registrationJson(attestationObject('packed', packedBasic(ad, cdj, v), ad), cdj);
    const verdict = verify(v, json, { at: NOW, webauthn: { challenge: CHALLENGE } });
    const notes = verdict.findings.filter((f) => f.check === 'webauthn.expectations').map((f) => f.message);
    expect(notes).toEqual([
      "no expected origin was given: the registration's origin was not checked",
      "no expected RP ID was given: the registration's RP ID was not checked",
    ]);
    expect(verify(v, json).findings.some((f) => f.check === 'webauthn.expectations')).toBe(false);
  });
});

describe('attestation parts (clientDataHash given, no clientDataJSON)', () => {
  it('cannot meet an expected challenge: NONCE_MISSING, never a silent pass', () => {
    const v = vendor({ aaguidExt: AAGUID_A });
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({ aaguid: aaguidBytes(AAGUID_A) }, cred);
    const stmt = packedBasic(ad, cdj, v);
    const hex = (b: Uint8Array) => ({ hex: Buffer.from(b).toString('hex') });
    const parts = new TextEncoder().encode(
      JSON.stringify({
        fmt: 'packed',
        attStmt: {
          alg: stmt.get('alg'),
          sig: hex(stmt.get('sig') as Uint8Array),
          x5c: (stmt.get('x5c') as Uint8Array[]).map(hex),
        },
        authData_hex: Buffer.from(ad).toString('hex'),
        clientDataHash_hex: Buffer.from(sha256(cdj)).toString('hex'),
      }),
    );
    const withChallenge = verify(v, parts, { at: NOW, webauthn: { challenge: new Uint8Array([9, 9, 9]) } });
    expect(withChallenge.code).toBe('NONCE_MISSING');
    const without = verify(v, parts, { at: NOW });
    expect(without.code).toBe('ACCEPTED');
    expect(without.freshness).toBe('none');
  });
});

describe('fido-u2f', () => {
  const v = vendor();
  const id = new Uint8Array(64).fill(3);

  function u2fRegistration(stmt?: (m: CborMap, cred: ReturnType<typeof ecKey>) => CborMap) {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({ aaguid: new Uint8Array(16), credentialId: id }, cred);
    const s = u2f(cdj, v, cred, id);
    return registrationJson(attestationObject('fido-u2f', stmt ? stmt(s, cred) : s, ad), cdj);
  }

  it('is accepted as basic attestation', () => {
    const verdict = verify(v, u2fRegistration());
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims).toMatchObject({
      aaguid: '00000000-0000-0000-0000-000000000000',
      attestationType: 'basic',
    });
  });

  it('claims nothing from authData flags, which the U2F signature does not cover (a forged UV bit proves nothing)', () => {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({ aaguid: new Uint8Array(16), credentialId: id, flags: 0x45 }, cred); // UP|UV|AT
    const json = registrationJson(attestationObject('fido-u2f', u2f(cdj, v, cred, id), ad), cdj);
    const verdict = verify(v, json);
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims).toMatchObject({ flags: { uv: true }, flagsAttested: false });
    expect(verdict.claims?.userVerification).toBeUndefined();
    expect(verdict.claims?.nonExportable).toBeUndefined();
    const strict = createVerifier({
      policy: policyFromOptions({
        trust: [v.root.cert],
        formats: ['webauthn'],
        require: { userVerification: ['once', 'always'] },
      }),
      formats: [createWebauthnFormat()],
    }).verifyBytes(json, EXPECT);
    expect(strict.code).toBe('POLICY_REQUIREMENT_FAILED');
  });

  it('more than one certificate, a non-P-256 key, a bad signature are refused', () => {
    expect(
      verify(
        v,
        u2fRegistration((m) => new Map([...m, ['x5c', [v.leaf.der, v.root.der]]])),
      ).code,
    ).toBe('ATTESTATION_MALFORMED');
    const p384 = vendor({ key: ecKey('P-384') });
    expect(
      verify(
        p384,
        u2fRegistration((m) => new Map([...m, ['x5c', [p384.leaf.der]]])),
      ).code,
    ).toBe('ATTESTATION_INVALID');
    expect(
      verify(
        v,
        u2fRegistration((m) => new Map([...m, ['sig', new Uint8Array(70)]])),
      ).code,
    ).toBe('SIGNATURE_INVALID');
  });

  it('an RSA credential key is refused (U2F keys are P-256)', () => {
    const rsa = rsaKey(2048);
    const cdj = clientDataJSON();
    const jwk = rsa.privateKey.export({ format: 'jwk' });
    const cose = new Map<number, CborValue>([
      [1, 3],
      [3, -257],
      [-1, new Uint8Array(Buffer.from(jwk.n!, 'base64url'))],
      [-2, new Uint8Array(Buffer.from(jwk.e!, 'base64url'))],
    ]);
    const ad = authData({ aaguid: new Uint8Array(16), credentialId: id, coseKey: cose }, rsa);
    const s = u2f(cdj, v, ecKey(), id);
    expect(verify(v, registrationJson(attestationObject('fido-u2f', s, ad), cdj)).code).toBe(
      'ATTESTATION_INVALID',
    );
  });
});

describe('apple anonymous attestation', () => {
  const root = issue({ subject: 'Apple-like WebAuthn Root', key: ecKey('P-384'), ca: {} });

  function appleRegistration(options: { nonce?: Uint8Array; certKey?: ReturnType<typeof ecKey> } = {}) {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({}, cred);
    const nonce = options.nonce ?? sha256(Buffer.concat([ad, sha256(cdj)]));
    const cert = appleCert(root, options.certKey ?? cred, nonce);
    const stmt = new Map<string, CborValue>([
      ['alg', -7],
      ['x5c', [cert.der]],
    ]);
    return registrationJson(attestationObject('apple', stmt, ad), cdj);
  }

  it('is accepted as anonca, the credential certificate at position 0', () => {
    const verdict = verify({ root, leaf: root }, appleRegistration());
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims).toMatchObject({ attestationType: 'anonca' });
    expect(verdict.path[0]!.subject).toBe('CN=Apple credential');
  });

  it('another nonce: NONCE_MISMATCH; another key: KEY_MISMATCH', () => {
    expect(verify({ root, leaf: root }, appleRegistration({ nonce: new Uint8Array(32) })).code).toBe(
      'NONCE_MISMATCH',
    );
    expect(verify({ root, leaf: root }, appleRegistration({ certKey: ecKey() })).code).toBe('KEY_MISMATCH');
  });
});

describe('compound', () => {
  const v = vendor();

  function compound(items: CborValue[]) {
    const cred = ecKey();
    const cdj = clientDataJSON();
    const ad = authData({}, cred);
    return {
      cred,
      cdj,
      ad,
      json: (stmts: (ad: Uint8Array, cdj: Uint8Array, cred: ReturnType<typeof ecKey>) => CborValue) =>
        registrationJson(attestationObject('compound', stmts(ad, cdj, cred), ad), cdj),
      items,
    };
  }

  it('verifies every sub-statement; the first chain is validated; all are listed', () => {
    const c = compound([]);
    const verdict = verify(
      v,
      c.json((ad, cdj, cred) => [
        new Map<string, CborValue>([
          ['fmt', 'packed'],
          ['attStmt', packedSelf(ad, cdj, cred)],
        ]),
        new Map<string, CborValue>([
          ['fmt', 'packed'],
          ['attStmt', packedBasic(ad, cdj, v)],
        ]),
      ]),
    );
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims?.['compound']).toEqual([
      { fmt: 'packed', attestationType: 'self' },
      { fmt: 'packed', attestationType: 'basic' },
    ]);
  });

  it('one failing sub-statement fails all; fewer than two, nesting, bad items are malformed', () => {
    const c = compound([]);
    expect(
      verify(
        v,
        c.json((ad, cdj) => [
          new Map<string, CborValue>([
            ['fmt', 'packed'],
            ['attStmt', packedBasic(ad, cdj, v)],
          ]),
          new Map<string, CborValue>([
            ['fmt', 'packed'],
            ['attStmt', packedSelf(ad, cdj, ecKey())],
          ]),
        ]),
      ).code,
    ).toBe('SIGNATURE_INVALID');
    expect(
      verify(
        v,
        c.json((ad, cdj) => [
          new Map<string, CborValue>([
            ['fmt', 'packed'],
            ['attStmt', packedBasic(ad, cdj, v)],
          ]),
        ]),
      ).code,
    ).toBe('ATTESTATION_MALFORMED');
    const nested = new Map<string, CborValue>([
      ['fmt', 'compound'],
      ['attStmt', []],
    ]);
    expect(
      verify(
        v,
        c.json(() => [nested, nested]),
      ).code,
    ).toBe('ATTESTATION_MALFORMED');
    expect(
      verify(
        v,
        c.json(() => [1, 2]),
      ).code,
    ).toBe('ATTESTATION_MALFORMED');
    expect(
      verify(
        v,
        c.json(() => new Map()),
      ).code,
    ).toBe('ATTESTATION_MALFORMED');
  });
});
