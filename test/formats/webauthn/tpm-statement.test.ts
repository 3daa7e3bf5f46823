/**
 * The WebAuthn `tpm` statement verifier on generated material: a test AIK certifies a fresh
 * credential key with TPM2_Certify-shaped structures (src/formats/tpm/encode.ts). Each WebAuthn
 * §8.3 check fails with its own code when its input is wrong; RS1 is refused unless SHA-1 is
 * allowed, and then reported; random mutations only ever throw ProvenanceError.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { OID } from '../../../src/core/oids.js';
import {
  encodeTpmsAttest,
  encodeTpmtPublic,
  publicAreaFromKey,
  TPM_APP_KEY_ATTRIBUTES,
} from '../../../src/formats/tpm/encode.js';
import { TPM_ALG, TPM_ST, tpmName } from '../../../src/formats/tpm/structures.js';
import { type CborMap, type CborValue, encodeCbor } from '../../../src/formats/webauthn/cbor.js';
import { parseAuthenticatorData } from '../../../src/formats/webauthn/containers.js';
import { COSE_ALG } from '../../../src/formats/webauthn/cose.js';
import { FIDO_OID } from '../../../src/formats/webauthn/helpers.js';
import { tpmStatement, WEBAUTHN_RS1_QUIRK } from '../../../src/formats/webauthn/tpm.js';
import type { AuthenticatorData, StatementContext } from '../../../src/formats/webauthn/types.js';
import { KeyCache } from '../../../src/pki/keys.js';
import { fuzzParameters, outcome } from '../../helpers/fuzz.js';
import { ecKey, issue, rsaKey, type TestCert, type TestKey } from '../../helpers/pki.js';
import { san, tpmDirectoryName } from '../tpm/helpers.js';

const AAGUID = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
const cache = new KeyCache();

/** authenticatorData (WebAuthn §6.1) with AT set and the credential key as a COSE EC2 key. */
function authDataFor(key: KeyObject, o: { at?: boolean } = {}): AuthenticatorData {
  const jwk = key.export({ format: 'jwk' });
  const cose: CborMap = new Map<number | string, CborValue>([
    [1, 2],
    [3, COSE_ALG.ES256],
    [-1, 1],
    [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
    [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
  ]);
  const credId = randomBytes(16);
  const at = o.at ?? true;
  const raw = Buffer.concat([
    createHash('sha256').update('example.com').digest(),
    Uint8Array.of(at ? 0x45 : 0x05),
    Uint8Array.of(0, 0, 0, 1),
    ...(at ? [AAGUID, Uint8Array.of(0, credId.length), credId, encodeCbor(cose)] : []),
  ]);
  return parseAuthenticatorData(new Uint8Array(raw));
}

const EMPTY_NAME = der.seq();
const ca = issue({ subject: 'TPM AIK Test CA', key: ecKey(), ca: {} });
const ecAik = ecKey();
const rsaAik = rsaKey(2048);

interface AikOptions {
  subject?: string;
  eku?: readonly string[];
  ca?: boolean;
  sanCritical?: boolean;
  aaguid?: Uint8Array;
}

/** An AIK certificate with the WebAuthn §8.3.1 profile unless told otherwise. */
function aikCert(key: TestKey, o: AikOptions = {}): TestCert {
  return issue({
    subject: o.subject ?? EMPTY_NAME,
    key,
    issuer: ca,
    ...(o.ca ? { ca: {} } : { notCa: true }),
    keyUsage: ['digitalSignature'],
    extKeyUsage: o.eku ?? [OID.tcgKpAikCertificate],
    extensions: [
      { oid: OID.subjectAltName, critical: o.sanCritical ?? true, value: san(tpmDirectoryName()) },
      ...(o.aaguid ? [{ oid: FIDO_OID.aaguid, value: der.octets(o.aaguid) }] : []),
    ],
  });
}

const goodEcAik = aikCert(ecAik);
const goodRsaAik = aikCert(rsaAik);

interface Build {
  alg?: number;
  aik?: TestKey;
  cert?: TestCert;
  /** Hash for extraData (default: the alg's). */
  extraHash?: string;
  extraData?: Uint8Array;
  name?: Uint8Array;
  type?: number;
  magic?: number;
  /** Sign with this key instead of the AIK. */
  signWith?: KeyObject;
  /** Credential key in pubArea differs from authData's. */
  otherPubArea?: boolean;
  /** pubArea nameAlg (default SHA-256). */
  nameAlg?: number;
  edit?: (m: CborMap) => void;
}

const HASH_OF: Record<number, string> = {
  [COSE_ALG.ES256]: 'sha256',
  [COSE_ALG.RS256]: 'sha256',
  [COSE_ALG.RS1]: 'sha1',
};

function build(o: Build = {}) {
  const alg = o.alg ?? COSE_ALG.ES256;
  const aik = o.aik ?? (alg === COSE_ALG.ES256 ? ecAik : rsaAik);
  const cert = o.cert ?? (aik === ecAik ? goodEcAik : goodRsaAik);
  const cred = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const authData = authDataFor(cred.publicKey);
  const clientDataHash = new Uint8Array(randomBytes(32));
  const areaKey = o.otherPubArea
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey
    : cred.publicKey;
  const pubArea = encodeTpmtPublic(
    publicAreaFromKey(areaKey, {
      attributes: TPM_APP_KEY_ATTRIBUTES,
      ...(o.nameAlg === undefined ? {} : { nameAlg: o.nameAlg }),
    }),
  );
  const extraData =
    o.extraData ??
    new Uint8Array(
      createHash(o.extraHash ?? HASH_OF[alg]!)
        .update(Buffer.concat([authData.raw, clientDataHash]))
        .digest(),
    );
  const certInfo = encodeTpmsAttest({
    ...(o.magic === undefined ? {} : { magic: o.magic }),
    ...(o.type === undefined ? {} : { type: o.type }),
    extraData,
    attested: {
      kind: 'certify',
      name: o.name ?? tpmName(pubArea, o.nameAlg ?? TPM_ALG.SHA256),
      qualifiedName: new Uint8Array(),
    },
  });
  const signer = o.signWith ?? aik.privateKey;
  const sig =
    signer.asymmetricKeyType === 'ec'
      ? sign('sha256', certInfo, { key: signer, dsaEncoding: 'der' })
      : sign(HASH_OF[alg]!, certInfo, signer);
  const stmt: CborMap = new Map<number | string, CborValue>([
    ['ver', '2.0'],
    ['alg', alg],
    ['x5c', [cert.der, ca.der]],
    ['sig', new Uint8Array(sig)],
    ['certInfo', certInfo],
    ['pubArea', pubArea],
  ]);
  o.edit?.(stmt);
  return { stmt, authData, clientDataHash, certInfo, pubArea };
}

function run(b: ReturnType<typeof build>, ctx: StatementContext = { keyCache: cache }) {
  return tpmStatement.verify(b.stmt, b.authData, b.clientDataHash, ctx);
}

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

describe('tpm statement (generated)', () => {
  it('accepts an ES256 AIK certification as AttCA with the x5c as trust path and TPM claims', () => {
    const r = run(build());
    expect(r.attestationType).toBe('attca');
    expect(r.trustPath.map((c) => c.subject.text)).toEqual(['', ca.cert.subject.text]);
    expect(r.quirks).toEqual([]);
    expect(r.pathOptions?.understoodCriticalExtensions).toEqual([OID.subjectAltName]);
    expect(r.claims).toMatchObject({
      securityLevel: 'secure-element',
      generatedOnDevice: true,
      nonExportable: true,
      tpmManufacturer: 'id:49465800',
    });
  });

  it('accepts RS256', () => {
    expect(run(build({ alg: COSE_ALG.RS256 })).quirks).toEqual([]);
  });

  it('refuses RS1 (SHA-1) by default: ALGORITHM_NOT_ALLOWED, rejected on purpose', () => {
    expect(code(() => run(build({ alg: COSE_ALG.RS1 })))).toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('accepts RS1 when SHA-1 is allowed and reports the webauthn-rs1 quirk on the AIK', () => {
    const r = run(build({ alg: COSE_ALG.RS1 }), { keyCache: cache, allowSha1: true });
    expect(r.quirks).toEqual([expect.objectContaining({ id: WEBAUTHN_RS1_QUIRK, position: 1 })]);
  });

  it('a SHA-1 extraData under RS256 is NONCE_MISMATCH (extraData uses the signature hash)', () => {
    expect(code(() => run(build({ alg: COSE_ALG.RS256, extraHash: 'sha1' })))).toBe('NONCE_MISMATCH');
  });

  it('extraData for another registration is NONCE_MISMATCH', () => {
    expect(code(() => run(build({ extraData: new Uint8Array(32) })))).toBe('NONCE_MISMATCH');
  });

  it('pubArea of another key than the credential is KEY_MISMATCH', () => {
    expect(code(() => run(build({ otherPubArea: true })))).toBe('KEY_MISMATCH');
  });

  it('certInfo certifying another Name is KEY_MISMATCH', () => {
    const other = encodeTpmtPublic(
      publicAreaFromKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, {
        attributes: TPM_APP_KEY_ATTRIBUTES,
      }),
    );
    expect(code(() => run(build({ name: tpmName(other, TPM_ALG.SHA256) })))).toBe('KEY_MISMATCH');
  });

  it('certInfo of type CREATION is ATTESTATION_INVALID; a wrong magic is TPM_MALFORMED', () => {
    // A CREATION body has the same two TPM2B fields, so only the type differs.
    expect(code(() => run(build({ type: TPM_ST.ATTEST_CREATION })))).toBe('ATTESTATION_INVALID');
    expect(code(() => run(build({ magic: 0x12345678 })))).toBe('TPM_MALFORMED');
  });

  it('a signature by another key is SIGNATURE_INVALID', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(code(() => run(build({ signWith: other })))).toBe('SIGNATURE_INVALID');
  });

  it('ver other than "2.0" is ATTESTATION_INVALID; missing ver, x5c or an unknown member is ATTESTATION_MALFORMED', () => {
    expect(code(() => run(build({ edit: (m) => m.set('ver', '1.2') })))).toBe('ATTESTATION_INVALID');
    expect(code(() => run(build({ edit: (m) => m.delete('ver') })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ edit: (m) => m.delete('x5c') })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ edit: (m) => m.set('extra', 1) })))).toBe('ATTESTATION_MALFORMED');
    expect(code(() => run(build({ edit: (m) => m.set('ecdaaKeyId', new Uint8Array(32)) })))).toBe(
      'ALGORITHM_UNSUPPORTED',
    );
  });

  it('authenticator data without attested credential data is ATTESTATION_MALFORMED', () => {
    const b = build();
    const bare = authDataFor(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, { at: false });
    expect(code(() => tpmStatement.verify(b.stmt, bare, b.clientDataHash, {}))).toBe('ATTESTATION_MALFORMED');
  });

  it.each([
    ['a subject', { subject: 'Not Empty' }],
    ['no AIK EKU', { eku: ['1.3.6.1.5.5.7.3.1'] }],
    ['CA true', { ca: true }],
    ['a non-critical SAN with an empty subject', { sanCritical: false }],
  ] as const)('an AIK certificate with %s is TPM_CERT_PROFILE', (_, o) => {
    const cert = aikCert(ecAik, o as AikOptions);
    expect(code(() => run(build({ cert })))).toBe('TPM_CERT_PROFILE');
  });

  it('an AIK AAGUID extension must equal the authData AAGUID (AAGUID_MISMATCH)', () => {
    expect(run(build({ cert: aikCert(ecAik, { aaguid: AAGUID }) })).attestationType).toBe('attca');
    expect(code(() => run(build({ cert: aikCert(ecAik, { aaguid: new Uint8Array(16) }) })))).toBe(
      'AAGUID_MISMATCH',
    );
  });

  it('mutated certInfo, pubArea and sig only ever throw ProvenanceError', () => {
    const b = build();
    const fields = ['certInfo', 'pubArea', 'sig'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (field, at, xor, truncate) => {
          const m: CborMap = new Map(b.stmt);
          const v = (b.stmt.get(field) as Uint8Array).slice();
          const i = at % v.length;
          if (!truncate) v[i] = v[i]! ^ xor;
          m.set(field, truncate ? v.subarray(0, i) : v);
          const r = outcome(() => tpmStatement.verify(m, b.authData, b.clientDataHash, { keyCache: cache }));
          expect(r).not.toBe('ok');
        },
      ),
      fuzzParameters(300),
    );
  });
  it('random statement shapes only ever throw ProvenanceError', () => {
    const b = build();
    fc.assert(
      fc.property(stmtArbitrary(['ver', 'alg', 'x5c', 'sig', 'certInfo', 'pubArea']), (stmt) => {
        expect(
          outcome(() => tpmStatement.verify(stmt, b.authData, b.clientDataHash, { keyCache: cache })),
        ).not.toBe('ok');
      }),
      fuzzParameters(300),
    );
  });
});

describe('tpm statement: SHA-1 Names', () => {
  it('refuses a pubArea with a SHA-1 Name unless SHA-1 is allowed, then reports webauthn-tpm-sha1-name', () => {
    const b = build({ nameAlg: TPM_ALG.SHA1 });
    expect(code(() => run(b))).toBe('ALGORITHM_NOT_ALLOWED');
    const r = run(b, { keyCache: cache, allowSha1: true });
    expect(r.quirks?.map((q) => q.id)).toContain('webauthn-tpm-sha1-name');
  });
});
