import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/bytes.js';
import { OID } from '../../src/core/oids.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { buildCsr } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { policyFromOptions } from '../../src/policy/from-options.js';
import { newKey } from '../verify/fixtures.js';
import { addAdminToken, testApp, testConfig } from './fakes.js';
import {
  createCode,
  csrPem,
  getChallenge,
  type NativeHierarchy,
  nativeHierarchy,
  type PolicyFolder,
  policyFolder,
  submit,
} from './fixtures.js';

let h: NativeHierarchy;
let folder: PolicyFolder;

beforeAll(() => {
  h = nativeHierarchy();
  folder = policyFolder(h);
});
afterAll(() => folder.cleanup());

/** A test app with the hierarchy's policy, an admin token, a code and an open challenge. */
async function ready(options: { config?: ReturnType<typeof testConfig>; profile?: string } = {}) {
  const t = testApp({ policy: folder.policy, ...(options.config ? { config: options.config } : {}) });
  const admin = await addAdminToken(t.store);
  const code = await createCode(t.app, admin, {
    customer: 'acme',
    subject: 'CN=Alice Example,O=Acme',
    ...(options.profile ? { profile: options.profile } : {}),
  });
  const challenge = await getChallenge(t.app, code.code);
  return { ...t, admin, code, challenge };
}

describe('POST /api/v1/enrollments: accepted', () => {
  it('issues a certificate with the code’s subject and records it, the enrollment and the audit event', async () => {
    const { app, store, ca, code, challenge } = await ready();
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.verdict).toMatchObject({
      accepted: true,
      code: 'ACCEPTED',
      matchedRule: 'gemalto-smartcards',
    });
    expect(body.chain).toHaveLength(2);
    const cert = parseCertificate(decodePem(body.certificate)[0]!.der);
    // The subject comes from the enrollment code, never from the CSR.
    expect(cert.subject.text).toBe('CN=Alice Example,O=Acme');
    expect(cert.serialHex).toBe(body.serial);

    const rows = store.rows();
    expect(rows).toMatchObject({ enrollments: 1, certificates: 1, usedCodes: 1, consumedChallenges: 1 });
    const record = await store.enrollments.get(body.enrollmentId);
    expect(record).toMatchObject({ status: 'issued', code: 'ACCEPTED', certificateSerial: body.serial });
    expect((await store.certificates.get(body.serial))?.enrollmentId).toBe(body.enrollmentId);
    const issued = store.auditEvents().find((e) => e.event === 'enrollment.issued');
    expect(issued).toMatchObject({ actor: `code:${code.id}`, subject: `enrollment:${body.enrollmentId}` });
    expect(issued?.data['serial']).toBe(body.serial);

    // What the certificate's provenance summary gets: rule, level, format, anchor key, policy digest.
    expect(ca.issued[0]!.provenance).toEqual({
      ruleId: 'gemalto-smartcards',
      level: 2,
      format: 'provenance',
      anchorSpkiSha256: h.root.cert.spkiSha256,
      policyDigest: folder.policy.digest,
    });
  });

  it('keeps device serials only as SHA-256 in the stored verdict and policy input, and not the CSR', async () => {
    const { app, store, code, challenge } = await ready();
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(201);
    const record = (await store.enrollments.get(res.json().enrollmentId))!;
    const hashed = sha256Hex(new TextEncoder().encode('0001'));
    const verdict = record.verdict as { claims: Record<string, unknown>; path: { subject: string | null }[] };
    expect(verdict.claims['serial']).toBeUndefined();
    expect(verdict.claims['serialSha256']).toBe(hashed);
    expect(verdict.path.map((e) => e.subject).join('|')).toContain(`serialNumber=sha256:${hashed}`);
    const stored = JSON.stringify({ verdict: record.verdict, input: record.policyInput });
    expect(stored).not.toContain('serialNumber=0001');
    expect(stored).not.toContain('"serial":"0001"');
    expect(record.evidence).toBeNull();
  });

  it('keeps the serial and the CSR when the profile asks for an inventory', async () => {
    const config = testConfig(
      'profiles:\n  default: {}\n  inventory: { includeDeviceSerial: true, extendedKeyUsage: [emailProtection] }\n',
    );
    const { app, store, ca, code, challenge } = await ready({ config, profile: 'inventory' });
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(201);
    const record = (await store.enrollments.get(res.json().enrollmentId))!;
    expect((record.verdict as { claims: Record<string, unknown> }).claims['serial']).toBe('0001');
    expect(record.evidence).not.toBeNull();
    expect(ca.issued[0]!.provenance.deviceSerial).toBe('0001');
    expect(ca.issued[0]!.profile.id).toBe('inventory');
  });

  it('a code yields one certificate: afterwards it is ENROLLMENT_CODE_USED', async () => {
    const { app, code, challenge } = await ready();
    const second = await getChallenge(app, code.code);
    const ok = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(ok.statusCode).toBe(201);
    const again = await submit(app, code.code, {
      challengeId: second.id,
      csr: csrPem(h, { nonce: second.nonce }),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ENROLLMENT_CODE_USED');
    const more = await app.inject({
      method: 'POST',
      url: '/api/v1/challenges',
      headers: { authorization: `Enroll ${code.code}` },
    });
    expect(more.json().code).toBe('ENROLLMENT_CODE_USED');
  });

  it('concurrent submissions on one challenge issue exactly one certificate', async () => {
    const config = testConfig('limits: { perCodePerMinute: 1000, perAddressPerMinute: 1000 }\n');
    const { app, store, code, challenge } = await ready({ config });
    const csrs = Array.from({ length: 20 }, () => csrPem(h, { nonce: challenge.nonce }));
    const answers = await Promise.all(
      csrs.map((csr) => submit(app, code.code, { challengeId: challenge.id, csr })),
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const a of answers.filter((x) => x.statusCode !== 201))
      expect(['CHALLENGE_INVALID', 'ENROLLMENT_CODE_USED']).toContain(a.json().code);
    expect(store.rows()).toMatchObject({ certificates: 1, enrollments: 1 });
  });
});

describe('POST /api/v1/enrollments: recorded rejections', () => {
  it('a CSR with the wrong nonce is NONCE_MISMATCH (422): recorded, the challenge consumed, the code unused', async () => {
    const { app, store, challenge, code } = await ready();
    const wrong = new Uint8Array(32).fill(7);
    const res = await submit(app, code.code, { challengeId: challenge.id, csr: csrPem(h, { nonce: wrong }) });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = res.json();
    expect(p).toMatchObject({
      code: 'NONCE_MISMATCH',
      type: 'urn:provenance:error:NONCE_MISMATCH',
      status: 422,
    });
    expect(p.verdict).toMatchObject({ accepted: false, code: 'NONCE_MISMATCH' });
    expect(typeof p.enrollmentId).toBe('string');
    expect(store.rows()).toMatchObject({
      enrollments: 1,
      certificates: 0,
      usedCodes: 0,
      consumedChallenges: 1,
    });
    expect((await store.enrollments.get(p.enrollmentId))?.status).toBe('rejected');
    expect(store.auditEvents().at(-1)).toMatchObject({ event: 'enrollment.rejected' });
    // The challenge was single use: a retry with it fails, and writes nothing more.
    const retry = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(retry.json().code).toBe('CHALLENGE_INVALID');
    expect(store.rows().enrollments).toBe(1);
  });

  it('a CSR without an attestation is ATTESTATION_MISSING (422), recorded', async () => {
    const { app, store, challenge, code } = await ready();
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce, noAttestation: true }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('ATTESTATION_MISSING');
    expect(store.rows()).toMatchObject({ enrollments: 1, certificates: 0 });
  });

  it('a CSR signed by another key than the attested one is refused and recorded', async () => {
    const { app, store, challenge, code } = await ready();
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce, signer: newKey().signer }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('KEY_MISMATCH');
    expect(store.rows()).toMatchObject({ enrollments: 1, certificates: 0 });
  });

  it('a key the policy does not allow is POLICY_NO_MATCH (403), with the verdict', async () => {
    const strict = policyFromOptions({
      trust: [h.root.cert],
      allow: [{ spkiSha256: sha256Hex(newKey().signer.spki), id: 'someone-else' }],
      require: { freshness: 'nonce' },
    });
    const t = testApp({ policy: strict });
    const admin = await addAdminToken(t.store);
    const code = await createCode(t.app, admin);
    const challenge = await getChallenge(t.app, code.code);
    const res = await submit(t.app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'POLICY_NO_MATCH', verdict: { accepted: false } });
    expect(t.store.rows()).toMatchObject({ enrollments: 1, certificates: 0 });
  });
});

describe('POST /api/v1/enrollments: malformed input writes no rows', () => {
  const cases: {
    name: string;
    body: (challengeId: string, nonce: Uint8Array) => unknown;
    headers?: Record<string, string>;
    status: number;
    code: string;
    pointer?: string;
  }[] = [
    {
      name: 'a missing csr',
      body: (id) => ({ challengeId: id }),
      status: 400,
      code: 'BODY_INVALID',
      pointer: '#/csr',
    },
    {
      name: 'a missing challengeId',
      body: (_id, n) => ({ csr: csrPem(h, { nonce: n }) }),
      status: 400,
      code: 'BODY_INVALID',
      pointer: '#/challengeId',
    },
    {
      name: 'a csr of the wrong type',
      body: (id) => ({ challengeId: id, csr: 42 }),
      status: 400,
      code: 'BODY_INVALID',
      pointer: '#/csr',
    },
    {
      name: 'an extra field',
      body: (id, n) => ({ challengeId: id, csr: csrPem(h, { nonce: n }), subject: 'CN=Mallory' }),
      status: 400,
      code: 'BODY_INVALID',
      pointer: '#/subject',
    },
    {
      name: 'a challengeId that is not a UUID',
      body: (_id, n) => ({ challengeId: 'x', csr: csrPem(h, { nonce: n }) }),
      status: 400,
      code: 'BODY_INVALID',
      pointer: '#/challengeId',
    },
    { name: 'JSON that does not parse', body: () => '{"challengeId": ', status: 400, code: 'BODY_INVALID' },
    { name: 'a JSON array', body: () => '[]', status: 400, code: 'BODY_INVALID' },
    {
      name: 'a body that is not JSON',
      body: () => 'csr=abc',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 400,
      code: 'BODY_INVALID',
    },
    {
      name: 'a body above the limit',
      body: (id) => ({ challengeId: id, csr: 'A'.repeat(70_000) }),
      status: 413,
      code: 'INPUT_TOO_LARGE',
    },
    {
      name: 'PEM with broken base64',
      body: (id) => ({
        challengeId: id,
        csr: '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n',
      }),
      status: 400,
      code: 'PEM_MALFORMED',
    },
    {
      name: 'text that is not PEM',
      body: (id) => ({ challengeId: id, csr: 'hello' }),
      status: 400,
      code: 'INPUT_UNRECOGNIZED',
    },
    {
      name: 'a certificate instead of a CSR',
      body: (id) => ({
        challengeId: id,
        csr: `-----BEGIN CERTIFICATE-----\n${Buffer.from(h.root.der).toString('base64')}\n-----END CERTIFICATE-----\n`,
      }),
      status: 400,
      code: 'INPUT_UNRECOGNIZED',
    },
    {
      name: 'a truncated CSR',
      body: (id, n) => {
        const der = decodePem(csrPem(h, { nonce: n }))[0]!.der;
        return {
          challengeId: id,
          csr: `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(der.subarray(0, der.length - 9)).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`,
        };
      },
      status: 400,
      code: 'DER_TRUNCATED',
    },
    {
      name: 'an attestation whose statement is not a certificate',
      body: (id, n) => ({
        challengeId: id,
        csr: csrWithStatement(n, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])),
      }),
      status: 400,
      code: 'CERT_MALFORMED',
    },
  ];

  it.each(cases)('$name → $status $code', async (c) => {
    const { app, store, challenge, code } = await ready();
    const before = store.rows();
    const res = await submit(app, code.code, c.body(challenge.id, challenge.nonce), c.headers);
    expect(res.statusCode).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = res.json();
    expect(p.code).toBe(c.code);
    expect(p.type).toBe(`urn:provenance:error:${c.code}`);
    if (c.pointer) expect(p.errors.map((e: { pointer: string }) => e.pointer)).toContain(c.pointer);
    expect(store.rows()).toEqual(before);
    // The challenge is still open: the client may retry with a correct request.
    const ok = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(ok.statusCode).toBe(201);
  });
});

/** A CSR whose provenance statement is `stmt` (not a certificate of provenance). */
function csrWithStatement(nonce: Uint8Array, stmt: Uint8Array): string {
  const der = buildCsr({
    subject: encodeName('CN=x'),
    signer: newKey().signer,
    attestation: { statements: [{ type: OID.provenanceStatementType, stmt }], certificates: [h.token.der] },
    nonce,
  });
  return encodePem('CERTIFICATE REQUEST', der);
}

describe('challenges and codes', () => {
  it('an expired challenge is CHALLENGE_INVALID and writes nothing', async () => {
    const { app, store, challenge, code, clock } = await ready();
    clock.advance(301_000);
    const before = store.rows();
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CHALLENGE_INVALID');
    expect(store.rows()).toEqual(before);
  });

  it('another code’s challenge is CHALLENGE_INVALID', async () => {
    const { app, admin, challenge } = await ready();
    const other = await createCode(app, admin, { customer: 'other', subject: 'CN=Bob' });
    const res = await submit(app, other.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.json().code).toBe('CHALLENGE_INVALID');
  });

  it('an expired code is ENROLLMENT_CODE_EXPIRED', async () => {
    const { app, code, clock } = await ready();
    clock.advance(8 * 86400_000);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/challenges',
      headers: { authorization: `Enroll ${code.code}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('ENROLLMENT_CODE_EXPIRED');
  });

  it('gives a 32-byte nonce and refuses more than maxOpenChallengesPerCode open challenges (CHALLENGE_LIMIT)', async () => {
    const { app, challenge, code } = await ready();
    expect(challenge.nonce).toHaveLength(32);
    for (let i = 1; i < 5; i++) await getChallenge(app, code.code);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/challenges',
      headers: { authorization: `Enroll ${code.code}` },
    });
    expect(res.statusCode).toBe(429);
    expect(res.json().code).toBe('CHALLENGE_LIMIT');
  });

  it('without a policy every enrollment fails closed (TRUST_NO_ANCHORS) and nothing is written', async () => {
    const t = testApp({ policy: null });
    const admin = await addAdminToken(t.store);
    const code = await createCode(t.app, admin);
    const challenge = await getChallenge(t.app, code.code);
    const before = t.store.rows();
    const res = await submit(t.app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('TRUST_NO_ANCHORS');
    expect(t.store.rows()).toEqual(before);
  });

  it('a CA that refuses to issue is a 500 problem and nothing is written', async () => {
    const { app, store, ca, challenge, code } = await ready();
    ca.failWith = 'ISSUANCE_LINT_FAILED';
    const before = store.rows();
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('ISSUANCE_LINT_FAILED');
    expect(res.body).not.toContain('fake CA');
    expect(store.rows()).toEqual(before);
  });

  it('a swapped policy judges the next enrollment, and the swap is audited', async () => {
    const { app, store, challenge, code } = await ready();
    const strict = policyFromOptions({ trust: [h.root.cert], allow: [{ spkiSha256: 'ab'.repeat(32) }] });
    app.provenance.policies.set(strict);
    await new Promise((r) => setImmediate(r));
    const loaded = store.auditEvents().filter((e) => e.event === 'policy.loaded');
    expect(loaded.map((e) => e.data['digest'])).toEqual([folder.policy.digest, strict.digest]);
    const res = await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: challenge.nonce }),
    });
    expect(res.json().code).toBe('POLICY_NO_MATCH');
  });
});

describe('metrics', () => {
  it('counts enrollments by format, decision and code, and verification time', async () => {
    const { app, code, challenge } = await ready();
    await submit(app, code.code, {
      challengeId: challenge.id,
      csr: csrPem(h, { nonce: new Uint8Array(32) }),
    });
    const next = await getChallenge(app, code.code);
    await submit(app, code.code, { challengeId: next.id, csr: csrPem(h, { nonce: next.nonce }) });
    await submit(app, code.code, { challengeId: next.id, csr: 'garbage' });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain(
      'provenance_enrollments_total{format="provenance",decision="issued",code="ACCEPTED"} 1',
    );
    expect(text).toContain(
      'provenance_enrollments_total{format="provenance",decision="rejected",code="NONCE_MISMATCH"} 1',
    );
    expect(text).toContain('provenance_verification_seconds_count 2');
    expect(text).toMatch(/provenance_http_requests_total\{route="\/api\/v1\/enrollments",status="201"\} 1/);
  });
});
