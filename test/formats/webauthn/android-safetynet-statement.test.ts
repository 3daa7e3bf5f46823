/**
 * The WebAuthn `android-safetynet` statement verifier on generated material: a JWS signed by a
 * test `attest.android.com` certificate. Each check (JWS shape and algorithm, signature,
 * hostname, nonce, timestamp, ctsProfileMatch) fails with its own code; every accepted
 * statement carries the deprecation finding; mutations only ever throw ProvenanceError.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../src/core/clock.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import {
  androidSafetynetStatement,
  createAndroidSafetynetStatement,
  SAFETYNET_DEPRECATED_QUIRK,
  type SafetynetStatementContext,
} from '../../../src/formats/webauthn/android-safetynet.js';
import { type CborMap, type CborValue, encodeCbor } from '../../../src/formats/webauthn/cbor.js';
import { parseAuthenticatorData } from '../../../src/formats/webauthn/containers.js';
import { COSE_ALG } from '../../../src/formats/webauthn/cose.js';
import type { AuthenticatorData } from '../../../src/formats/webauthn/types.js';
import { KeyCache } from '../../../src/pki/keys.js';
import { fuzzParameters, outcome } from '../../helpers/fuzz.js';
import { dnsName, ecKey, issue, rsaKey, type TestCert, type TestKey } from '../../helpers/pki.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const cache = new KeyCache();
const ca = issue({ subject: 'SafetyNet Test CA', key: ecKey(), ca: {} });
const rsaLeafKey = rsaKey(2048);
const ecLeafKey = ecKey();

function leafCert(key: TestKey, o: { cn?: string; dns?: string[] } = {}): TestCert {
  return issue({
    subject: o.cn ?? 'attest.android.com',
    key,
    issuer: ca,
    notCa: true,
    // dns [] writes no subjectAltName at all (the CN fallback case).
    ...(o.dns === undefined
      ? { subjectAltName: [dnsName('attest.android.com')] }
      : o.dns.length > 0
        ? { subjectAltName: o.dns.map(dnsName) }
        : {}),
  });
}
const rsaLeaf = leafCert(rsaLeafKey);

function authData(): AuthenticatorData {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose: CborMap = new Map<number | string, CborValue>([
    [1, 2],
    [3, COSE_ALG.ES256],
    [-1, 1],
    [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
    [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
  ]);
  return parseAuthenticatorData(
    new Uint8Array(
      Buffer.concat([
        createHash('sha256').update('example.com').digest(),
        Uint8Array.of(0x45, 0, 0, 0, 0),
        new Uint8Array(16),
        Uint8Array.of(0, 8),
        randomBytes(8),
        encodeCbor(cose),
      ]),
    ),
  );
}

const b64u = (v: Uint8Array | string) => Buffer.from(v).toString('base64url');

interface Build {
  alg?: string;
  key?: KeyObject;
  leaf?: TestCert;
  header?: Record<string, unknown>;
  payload?: Record<string, unknown>;
  /** Edit the compact JWS text. */
  jws?: (s: string) => string;
  edit?: (m: CborMap) => void;
}

function build(o: Build = {}) {
  const ad = authData();
  const clientDataHash = new Uint8Array(randomBytes(32));
  const nonce = createHash('sha256')
    .update(Buffer.concat([ad.raw, clientDataHash]))
    .digest('base64');
  const leaf = o.leaf ?? rsaLeaf;
  const alg = o.alg ?? 'RS256';
  const header = {
    alg,
    x5c: [Buffer.from(leaf.der).toString('base64'), Buffer.from(ca.der).toString('base64')],
    ...o.header,
  };
  const payload = {
    nonce,
    timestampMs: NOW - 5_000,
    apkPackageName: 'com.google.android.gms',
    ctsProfileMatch: true,
    basicIntegrity: true,
    evaluationType: 'BASIC,HARDWARE_BACKED',
    ...o.payload,
  };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const key = o.key ?? leaf.key.privateKey;
  const sig =
    key.asymmetricKeyType === 'ec'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), key);
  let jws = `${input}.${b64u(sig)}`;
  if (o.jws) jws = o.jws(jws);
  const stmt: CborMap = new Map<number | string, CborValue>([
    ['ver', '242335020'],
    ['response', new TextEncoder().encode(jws)],
  ]);
  o.edit?.(stmt);
  return { stmt, authData: ad, clientDataHash };
}

const ctx: SafetynetStatementContext = { keyCache: cache, time: NOW };
const run = (
  b: ReturnType<typeof build>,
  c: SafetynetStatementContext = ctx,
  sv = androidSafetynetStatement,
) => sv.verify(b.stmt, b.authData, b.clientDataHash, c);

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
}

/** Random CBOR values with the statement's member names as keys (shape fuzzing). */
function stmtArbitrary(keys: readonly string[]): fc.Arbitrary<CborValue> {
  const leaf: fc.Arbitrary<CborValue> = fc.oneof(
    fc.integer({ min: -70_000, max: 70_000 }),
    fc.string({ maxLength: 8 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 64 }).map((b) => new Uint8Array(b)),
  );
  const value = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }));
  return fc
    .array(fc.tuple(fc.constantFrom(...keys, 'other'), value), { maxLength: keys.length + 1 })
    .map((entries) => new Map<number | string, CborValue>(entries) as CborValue);
}

describe('android-safetynet statement (generated)', () => {
  it('accepts an RS256 response: basic, JWS chain as trust path, flagged deprecated', () => {
    const r = run(build());
    expect(r.attestationType).toBe('basic');
    expect(r.trustPath.map((c) => c.subject.text)).toEqual(['CN=attest.android.com', ca.cert.subject.text]);
    expect(r.quirks).toEqual([expect.objectContaining({ id: SAFETYNET_DEPRECATED_QUIRK })]);
    expect(r.claims).toMatchObject({
      safetynetCtsProfileMatch: true,
      safetynetBasicIntegrity: true,
      safetynetEvaluationType: 'BASIC,HARDWARE_BACKED',
      safetynetTimestampMs: NOW - 5_000,
    });
  });

  it('accepts an ES256 response', () => {
    expect(run(build({ alg: 'ES256', leaf: leafCert(ecLeafKey) })).attestationType).toBe('basic');
  });

  it('a certificate for another host is ATTESTATION_INVALID; CN is used only without SAN dNSNames', () => {
    expect(code(() => run(build({ leaf: leafCert(rsaLeafKey, { dns: ['evil.example.com'] }) })))).toBe(
      'ATTESTATION_INVALID',
    );
    expect(code(() => run(build({ leaf: leafCert(rsaLeafKey, { cn: 'other', dns: [] }) })))).toBe(
      'ATTESTATION_INVALID',
    );
    expect(run(build({ leaf: leafCert(rsaLeafKey, { dns: [] }) })).attestationType).toBe('basic');
  });

  it('a nonce for another registration, or none, is NONCE_MISMATCH', () => {
    expect(code(() => run(build({ payload: { nonce: Buffer.alloc(32).toString('base64') } })))).toBe(
      'NONCE_MISMATCH',
    );
    expect(code(() => run(build({ payload: { nonce: undefined } })))).toBe('NONCE_MISMATCH');
  });

  it('ctsProfileMatch false is ATTESTATION_INVALID unless the option turns the check off', () => {
    const b = build({ payload: { ctsProfileMatch: false } });
    expect(code(() => run(b))).toBe('ATTESTATION_INVALID');
    const lax = createAndroidSafetynetStatement({ requireCtsProfileMatch: false });
    expect(run(b, ctx, lax).claims?.['safetynetCtsProfileMatch']).toBe(false);
  });

  it('a stale or future timestamp is ATTESTATION_INVALID; without ctx.time the injected clock decides', () => {
    expect(code(() => run(build({ payload: { timestampMs: NOW - 61_000 } })))).toBe('ATTESTATION_INVALID');
    expect(code(() => run(build({ payload: { timestampMs: NOW + 11_000 } })))).toBe('ATTESTATION_INVALID');
    expect(code(() => run(build({ payload: { timestampMs: 'now' } })))).toBe('ATTESTATION_MALFORMED');
    const b = build();
    const atNow = createAndroidSafetynetStatement({ clock: fixedClock(NOW) });
    const later = createAndroidSafetynetStatement({ clock: fixedClock(NOW + 3_600_000) });
    expect(run(b, { keyCache: cache }, atNow).attestationType).toBe('basic');
    expect(code(() => run(b, { keyCache: cache }, later))).toBe('ATTESTATION_INVALID');
  });

  it('alg none/HS256, or an alg that does not fit the key, is ALGORITHM_UNSUPPORTED', () => {
    expect(code(() => run(build({ header: { alg: 'none' } })))).toBe('ALGORITHM_UNSUPPORTED');
    expect(code(() => run(build({ header: { alg: 'HS256' } })))).toBe('ALGORITHM_UNSUPPORTED');
    expect(code(() => run(build({ alg: 'ES256', key: ecLeafKey.privateKey })))).toBe('ALGORITHM_UNSUPPORTED');
  });

  it('a signature by another key or a changed payload is SIGNATURE_INVALID', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(code(() => run(build({ key: other })))).toBe('SIGNATURE_INVALID');
    const swap = (s: string) => {
      const [h, , sig] = s.split('.');
      return `${h}.${b64u(JSON.stringify({ nonce: 'x', timestampMs: NOW }))}.${sig}`;
    };
    expect(code(() => run(build({ jws: swap })))).toBe('SIGNATURE_INVALID');
  });

  it('crit header parameters are ATTESTATION_INVALID (RFC 7515 §4.1.11)', () => {
    expect(code(() => run(build({ header: { crit: ['exp'] } })))).toBe('ATTESTATION_INVALID');
  });

  it('malformed JWS, x5c, ver or members are ATTESTATION_MALFORMED; an oversize response INPUT_TOO_LARGE', () => {
    expect(code(() => run(build({ jws: (s) => s.split('.').slice(0, 2).join('.') })))).toBe(
      'ATTESTATION_MALFORMED',
    );
    expect(code(() => run(build({ jws: (s) => `${s}=` })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ header: { x5c: [] } })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ header: { x5c: ['-_-_'] } })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ edit: (m) => m.delete('ver') })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ edit: (m) => m.set('x5c', []) })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ edit: (m) => m.set('response', new Uint8Array(70_000)) })))).toBe(
      'INPUT_TOO_LARGE',
    );
  });

  it('mutated responses only ever throw ProvenanceError', () => {
    const b = build();
    const response = b.stmt.get('response') as Uint8Array;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, xor, truncate) => {
        const v = response.slice();
        const i = at % v.length;
        v[i] = v[i]! ^ xor;
        const m: CborMap = new Map(b.stmt);
        m.set('response', truncate ? v.subarray(0, i) : v);
        expect(
          outcome(() => androidSafetynetStatement.verify(m, b.authData, b.clientDataHash, ctx)),
        ).not.toBe('ok');
      }),
      fuzzParameters(300),
    );
  });
  it('random statement shapes only ever throw ProvenanceError', () => {
    const b = build();
    fc.assert(
      fc.property(stmtArbitrary(['ver', 'response']), (stmt) => {
        expect(
          outcome(() =>
            androidSafetynetStatement.verify(stmt, b.authData, b.clientDataHash, { keyCache: cache }),
          ),
        ).not.toBe('ok');
      }),
      fuzzParameters(300),
    );
  });
});
