/**
 * The TPM credential-activation routes through fastify inject, over a real SQLite store: an
 * EK certificate chain made here (root → intermediate → EK), a software AK public area, and a
 * software ActivateCredential with the EK private key standing in for the TPM (the swtpm test
 * in test/formats/tpm proves the wire format against a real TPM).
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { encodePem } from '../../src/core/pem.js';
import {
  activateCredentialWithPrivateKey,
  defaultProtectorForKey,
  readTpmPublicArea,
  tpmObjectName,
} from '../../src/formats/tpm/credential.js';
import { encodeTpmtPublic, publicAreaFromKey, TPM_AK_ATTRIBUTES } from '../../src/formats/tpm/encode.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/model.js';
import { buildApp } from '../../src/server/app.js';
import { boundKeysForCode } from '../../src/server/tpm.js';
import { openStore, type Store } from '../../src/store/index.js';
import { san, tpmDirectoryName, tpmEvidence } from '../formats/tpm/helpers.js';
import { ecKey, issue, rsaKey, type TestCert, type TestKey } from '../helpers/pki.js';
import { addAdminToken, FakeCa, testClock, testConfig } from './fakes.js';
import { createCode, getChallenge, submit } from './fixtures.js';

/** tpm2-tools' default AK attributes: restricted|userWithAuth|sign|fixedTPM|fixedParent|sensitiveDataOrigin. */
const AK_ATTRIBUTES = 0x00050072;

/** A TPMT_PUBLIC for an ECC P-256 ECDSA-SHA256 key with the given attributes. */
function akPublicArea(key: KeyObject, attributes = AK_ATTRIBUTES): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  const head = Buffer.alloc(10);
  head.writeUInt16BE(0x0023, 0); // TPM_ALG_ECC
  head.writeUInt16BE(0x000b, 2); // nameAlg SHA-256
  head.writeUInt32BE(attributes, 4);
  head.writeUInt16BE(0, 8); // empty authPolicy
  // symmetric NULL, scheme ECDSA/SHA-256, curve P-256, kdf NULL
  const params = Buffer.from('0010' + '0018000b' + '0003' + '0010', 'hex');
  const point = Buffer.concat([Buffer.from([0, 32]), x, Buffer.from([0, 32]), y]);
  return Buffer.concat([head, params, point]);
}

/** An EK certificate per the TCG EK Credential Profile: empty subject, critical TPM SAN, EKU, keyEncipherment. */
function ekCertificate(key: TestKey, issuer: TestCert, withSan = true): TestCert {
  return issue({
    subject: der.seq(),
    key,
    issuer,
    notCa: true,
    keyUsage: ['keyEncipherment'],
    extKeyUsage: [OID.tcgKpEkCertificate],
    extensions: withSan ? [{ oid: OID.subjectAltName, critical: true, value: san(tpmDirectoryName()) }] : [],
  });
}

interface Pki {
  root: TestCert;
  intermediate: TestCert;
  ekKey: TestKey;
  ek: TestCert;
  foreignEk: TestCert;
}

let rsaEk: TestKey;
let pki: Pki;

beforeAll(() => {
  rsaEk = rsaKey(2048);
  const root = issue({ subject: 'TPM Maker Root', key: ecKey(), ca: {} });
  const intermediate = issue({ subject: 'TPM Maker EK CA', key: ecKey(), issuer: root, ca: { pathLen: 0 } });
  const ek = ekCertificate(rsaEk, intermediate);
  const otherRoot = issue({ subject: 'Someone else', key: ecKey(), ca: {} });
  const foreignEk = ekCertificate(rsaEk, otherRoot);
  pki = { root, intermediate, ekKey: rsaEk, ek, foreignEk };
});

function tpmPolicy(root: TestCert): { policy: Policy; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'provenance-tpm-policy-'));
  writeFileSync(join(dir, 'root.pem'), encodePem('CERTIFICATE', root.der));
  writeFileSync(
    join(dir, 'policy.yaml'),
    'version: 1\ntrust:\n  - id: tpm-maker\n    certificates: [./root.pem]\n    formats: [tpm]\nallow:\n  - id: tpm-maker-any\n    entry: ./root.pem\n    level: 1\n',
  );
  const policy = loadPolicyFile(join(dir, 'policy.yaml'));
  return { policy, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

interface Harness {
  app: FastifyInstance;
  store: Store;
  clock: ReturnType<typeof testClock>;
  code: string;
  codeId: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(root = pki.root): Promise<Harness> {
  const clock = testClock();
  const store = await openStore('sqlite::memory:');
  const { policy, cleanup } = tpmPolicy(root);
  const app = buildApp({
    store,
    ca: new FakeCa(clock()),
    policy,
    config: testConfig(),
    clock,
    logger: pino({ level: 'silent' }),
  });
  cleanups.push(
    cleanup,
    () => store.close(),
    () => app.close(),
  );
  const admin = await addAdminToken(store);
  const { code, id } = await createCode(app, admin);
  return { app, store, clock, code, codeId: id };
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

function start(h: Harness, body: Record<string, unknown>, code = h.code) {
  return h.app.inject({
    method: 'POST',
    url: '/api/v1/tpm/activations',
    headers: { authorization: `Enroll ${code}` },
    payload: body,
  });
}

function complete(h: Harness, id: string, secret: Uint8Array, code = h.code) {
  return h.app.inject({
    method: 'POST',
    url: `/api/v1/tpm/activations/${id}/complete`,
    headers: { authorization: `Enroll ${code}` },
    payload: { secret: b64(secret) },
  });
}

function validBody(ak: Uint8Array, ek = pki.ek): Record<string, unknown> {
  return { ekCertificate: b64(ek.der), ekChain: [b64(pki.intermediate.der)], akPublic: b64(ak) };
}

/** What the TPM would do: ActivateCredential with the EK private key. */
function activate(json: { credentialBlob: string; encryptedSecret: string; akName: string }): Uint8Array {
  const ekPublic = pki.ek.cert.spki;
  const protector = defaultProtectorForKey(
    createPublicKey({ key: Buffer.from(ekPublic), format: 'der', type: 'spki' }),
  );
  return activateCredentialWithPrivateKey({
    ekPrivate: pki.ekKey.privateKey,
    protector,
    akName: Buffer.from(json.akName, 'base64'),
    credential: {
      credentialBlob: Buffer.from(json.credentialBlob, 'base64'),
      encryptedSecret: Buffer.from(json.encryptedSecret, 'base64'),
    },
  });
}

describe('POST /api/v1/tpm/activations and /complete', () => {
  it('binds an AK: chain validated, Name computed, secret released by the TPM accepted once, audited', async () => {
    const h = await harness();
    const akKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const ak = akPublicArea(akKey);
    const res = await start(h, validBody(ak));
    expect(res.statusCode, res.body).toBe(201);
    const json = res.json();
    const expectedName = tpmObjectName(readTpmPublicArea(ak));
    expect(Buffer.from(json.akName, 'base64')).toEqual(Buffer.from(expectedName));
    expect(Date.parse(json.expiresAt)).toBeGreaterThan(h.clock());

    const secret = activate(json);
    const done = await complete(h, json.id, secret);
    expect(done.statusCode, done.body).toBe(201);
    const bound = done.json();
    expect(bound.akName).toBe(json.akName);

    const keys = await boundKeysForCode(h.store, h.codeId);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.id).toBe(bound.akId);
    expect(keys[0]?.via).toBe('credential-activation');
    expect(Buffer.from(keys[0]?.publicArea ?? [])).toEqual(Buffer.from(ak));
    expect(keys[0]?.certificates.map((c) => c.fingerprintSha256)).toEqual([
      pki.ek.cert.fingerprintSha256,
      pki.intermediate.cert.fingerprintSha256,
    ]);
    const audit = await h.store.audit.list({ event: 'tpm.ak.bound' });
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]?.subject).toBe(`tpm-ak:${bound.akId}`);
    expect(JSON.stringify(audit.items[0]?.data)).not.toContain(Buffer.from(secret).toString('hex'));

    // Single use: the same secret again is refused.
    const again = await complete(h, json.id, secret);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('CHALLENGE_INVALID');
  });

  it('refuses an EK certificate that does not chain to a tpm anchor', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const res = await start(h, { ekCertificate: b64(pki.foreignEk.der), akPublic: b64(ak) });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('PATH_NOT_FOUND');
  });

  it('fails closed when the policy scopes no anchor to tpm', async () => {
    const h = await harness(issue({ subject: 'Unrelated', key: ecKey(), ca: {} }));
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const res = await start(h, validBody(ak));
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('PATH_NOT_FOUND');
  });

  it('refuses an unrestricted AK, and one that may decrypt', async () => {
    const h = await harness();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const unrestricted = await start(h, validBody(akPublicArea(key, 0x00040072)));
    expect(unrestricted.statusCode).toBe(422);
    expect(unrestricted.json().code).toBe('TPM_AK_NOT_RESTRICTED');
    expect(unrestricted.json().detail).toMatch(/restricted missing/);
    const decrypt = await start(h, validBody(akPublicArea(key, AK_ATTRIBUTES | 0x00020000)));
    expect(decrypt.statusCode).toBe(422);
    expect(decrypt.json().detail).toMatch(/decrypt set/);
    const imported = await start(h, validBody(akPublicArea(key, AK_ATTRIBUTES & ~0x20)));
    expect(imported.json().detail).toMatch(/sensitiveDataOrigin missing/);
  });

  it('refuses an EK public area whose key is not the certificate key', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const otherEk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const n = Buffer.from(otherEk.export({ format: 'jwk' }).n ?? '', 'base64url');
    // Default RSA EK template (standards.md §2.4) with another modulus.
    const policy = '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa';
    const ekArea = Buffer.concat([
      Buffer.from(`0001000b000300b20020${policy}00060080004300100800000000000100`, 'hex'),
      n,
    ]);
    const res = await start(h, { ...validBody(ak), ekPublic: b64(ekArea) });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().code).toBe('KEY_MISMATCH');
  });

  it('counts wrong secrets; after the last try even the right secret is refused', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const json = (await start(h, validBody(ak))).json();
    const wrong = new Uint8Array(32);
    const first = await complete(h, json.id, wrong);
    expect(first.statusCode).toBe(422);
    expect(first.json().code).toBe('ATTESTATION_INVALID');
    expect(first.json().detail).toMatch(/2 tries left/);
    await complete(h, json.id, wrong);
    const last = await complete(h, json.id, wrong);
    expect(last.json().detail).toMatch(/no tries left/);
    const right = await complete(h, json.id, activate(json));
    expect(right.statusCode).toBe(409);
    expect(right.json().code).toBe('CHALLENGE_INVALID');
    expect(await boundKeysForCode(h.store, h.codeId)).toEqual([]);
  });

  it('refuses an expired activation', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const json = (await start(h, validBody(ak))).json();
    h.clock.advance(301_000);
    const res = await complete(h, json.id, activate(json));
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CHALLENGE_INVALID');
  });

  it('refuses completion under another enrollment code', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const json = (await start(h, validBody(ak))).json();
    const admin = await addAdminToken(h.store, undefined, 'second');
    const other = await createCode(h.app, admin);
    const res = await complete(h, json.id, activate(json), other.code);
    expect(res.statusCode).toBe(409);
  });

  it('needs an enrollment code and a well-formed body', async () => {
    const h = await harness();
    const anonymous = await h.app.inject({ method: 'POST', url: '/api/v1/tpm/activations', payload: {} });
    expect(anonymous.statusCode).toBe(401);
    const bad = await start(h, { ekCertificate: 'not base64!', akPublic: 'AAAA' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('BODY_INVALID');
    const garbage = await start(h, {
      ...validBody(new Uint8Array(0)),
      akPublic: b64(Uint8Array.from([0, 0x23, 0, 0x0b, 0, 5])),
    });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().code).toBe('TPM_MALFORMED');
  });

  it('refuses an EK certificate that breaks the TCG EK profile (no TPM SAN)', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const bare = ekCertificate(rsaEk, pki.intermediate, false);
    const res = await start(h, { ...validBody(ak), ekCertificate: b64(bare.der) });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('TPM_CERT_PROFILE');
  });

  it('enrolls a TPM2_Certify CSR signed by the bound AK; an unbound AK is TPM_AK_NOT_BOUND', async () => {
    const h = await harness();
    const akKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const ak = encodeTpmtPublic(publicAreaFromKey(akKey, { attributes: TPM_AK_ATTRIBUTES }));
    const json = (await start(h, validBody(ak))).json();
    const bound = (await complete(h, json.id, activate(json))).json();

    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const c1 = await getChallenge(h.app, h.code);
    const refused = await submit(h.app, h.code, {
      challengeId: c1.id,
      csr: encodePem('CERTIFICATE REQUEST', tpmEvidence({ akKey: stranger, extraData: c1.nonce }).csrDer),
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json().code).toBe('TPM_AK_NOT_BOUND');

    const c2 = await getChallenge(h.app, h.code);
    const res = await submit(h.app, h.code, {
      challengeId: c2.id,
      csr: encodePem('CERTIFICATE REQUEST', tpmEvidence({ akKey, extraData: c2.nonce }).csrDer),
    });
    expect(res.statusCode, res.body).toBe(201);
    const verdict = res.json().verdict;
    expect(verdict.format).toBe('tpm');
    expect(JSON.stringify(verdict.path)).toContain(`binding ${bound.akId}`);
  });

  it('lets exactly one of concurrent completions with the right secret bind the AK', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const json = (await start(h, validBody(ak))).json();
    const secret = activate(json);
    const answers = await Promise.all(Array.from({ length: 6 }, () => complete(h, json.id, secret)));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await boundKeysForCode(h.store, h.codeId)).toHaveLength(1);
  });

  it('limits the open activations of one code', async () => {
    const h = await harness();
    const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    for (let i = 0; i < 10; i++) expect((await start(h, validBody(ak))).statusCode).toBe(201);
    const over = await start(h, validBody(ak));
    expect(over.statusCode).toBe(429);
    expect(over.json().code).toBe('CHALLENGE_LIMIT');
    h.clock.advance(301_000);
    expect((await start(h, validBody(ak))).statusCode).toBe(201);
  });
});

describe('binding limit', () => {
  it('activations opened before the limit was reached cannot push a code past 8 bound AKs', async () => {
    const h = await harness();
    const opened = [];
    for (let i = 0; i < 10; i++) {
      const ak = akPublicArea(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
      opened.push((await start(h, validBody(ak))).json());
    }
    const answers = [];
    for (const json of opened) answers.push((await complete(h, json.id, activate(json))).statusCode);
    expect(answers.filter((s) => s === 201)).toHaveLength(8);
    expect(answers.slice(8)).toEqual([429, 429]);
    expect(await boundKeysForCode(h.store, h.codeId)).toHaveLength(8);
  });
});

describe('checkAkPublicArea: the Name activation binds', () => {
  it('refuses an AK with a SHA-1 Name (ALGORITHM_NOT_ALLOWED); SHA-256 passes', async () => {
    const { generateKeyPairSync: gen } = await import('node:crypto');
    const { encodeTpmtPublic, publicAreaFromKey, TPM_AK_ATTRIBUTES } = await import(
      '../../src/formats/tpm/encode.js'
    );
    const { parseTpmtPublic, TPM_ALG } = await import('../../src/formats/tpm/structures.js');
    const { checkAkPublicArea } = await import('../../src/server/tpm.js');
    const key = gen('ec', { namedCurve: 'P-256' }).privateKey;
    const area = (nameAlg: number) =>
      parseTpmtPublic(encodeTpmtPublic(publicAreaFromKey(key, { attributes: TPM_AK_ATTRIBUTES, nameAlg })));
    expect(() => checkAkPublicArea(area(TPM_ALG.SHA256))).not.toThrow();
    let code: string | undefined;
    try {
      checkAkPublicArea(area(TPM_ALG.SHA1));
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('ALGORITHM_NOT_ALLOWED');
  });
});
