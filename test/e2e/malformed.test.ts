/**
 * Bad input over real HTTP: every malformed body, CSR and piece of evidence gets a 4xx RFC
 * 9457 problem carrying its code. Bodies that fail the schema and CSRs that do not parse write
 * nothing (no enrollment, no certificate, no audit record) and leave the challenge open; a CSR
 * that parses but whose evidence the verifier rejects is a recorded rejection with the
 * verdict (the challenge is spent: single use), and never a certificate. The service's own
 * tests cover the full catalogue through inject; these are the same rules end to end.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MemoryToken, memoryTokens, newMemoryKey, openDemoLine } from '../../scripts/bench-server.js';
import { fromBase64Url } from '../../src/core/bytes.js';
import { encodePem } from '../../src/core/pem.js';
import { createIntermediate, initRoot, unlockMaker } from '../../src/maker/hierarchy.js';
import { buildCsr } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { signerFromKeyObject } from '../../src/pki/signer.js';
import { makerIo, tempDirs } from '../maker/fixtures.js';
import { type E2eService, type RawAnswer, raw, startE2eService } from './service.js';

const dirs = tempDirs();
let s: E2eService;
let token: MemoryToken;
let stranger: MemoryToken;

beforeAll(async () => {
  const dir = await dirs.make('provenance-e2e-bad-');
  s = await startE2eService(dir);
  [token] = memoryTokens(await openDemoLine(s.line), 1) as [MemoryToken];
  // A maker the service's policy does not trust, with the same names as the demo's.
  const io = makerIo(Date.now);
  const root = await initRoot(
    join(dir, 'forged-root'),
    { name: 'Provenance Demo Maker', passphrase: null },
    io,
  );
  const line = await createIntermediate(
    join(dir, 'forged-line'),
    { name: 'Provenance Demo Tokens', parent: await unlockMaker(root, null, io), passphrase: null },
    io,
  );
  [stranger] = memoryTokens(await unlockMaker(line, null, io), 1) as [MemoryToken];
});
afterAll(async () => {
  await s?.close();
  await dirs.cleanup();
});

async function newCode(): Promise<string> {
  const r = await raw(`${s.url}/api/v1/admin/enrollment-codes`, {
    authorization: `Bearer ${s.adminToken}`,
    body: JSON.stringify({ customer: 'bad-input', subject: 'CN=Bad Input' }),
  });
  expect(r.status).toBe(201);
  return r.json!['code'] as string;
}

async function challenge(code: string): Promise<{ id: string; nonce: Uint8Array }> {
  const r = await raw(`${s.url}/api/v1/challenges`, { authorization: `Enroll ${code}`, body: '{}' });
  expect(r.status).toBe(201);
  return { id: r.json!['id'] as string, nonce: fromBase64Url(r.json!['nonce'] as string) };
}

async function rows() {
  const store = s.service.store;
  return {
    enrollments: await store.enrollments.count(),
    certificates: await store.certificates.count(),
    audit: (await store.verifyAudit()).records,
  };
}

function expectProblem(a: RawAnswer, status: number, code: string): void {
  expect({ status: a.status, code: a.json?.['code'] }).toEqual({ status, code });
  expect(a.contentType).toMatch(/^application\/problem\+json/);
  expect(a.json).toMatchObject({ type: `urn:provenance:error:${code}`, status, code });
  expect(typeof a.json!['title']).toBe('string');
  expect(typeof a.json!['detail']).toBe('string');
}

function csrPem(nonce: Uint8Array, t: MemoryToken = token): string {
  return encodePem('CERTIFICATE REQUEST', t.csr(newMemoryKey(), nonce));
}

describe('malformed bodies and CSRs: a 4xx problem, no rows, the challenge still open', () => {
  let code: string;
  let open: { id: string; nonce: Uint8Array };
  const enroll = (body: string | Uint8Array, contentType?: string | null) =>
    raw(`${s.url}/api/v1/enrollments`, {
      authorization: `Enroll ${code}`,
      body,
      ...(contentType !== undefined ? { contentType } : {}),
    });

  beforeAll(async () => {
    code = await newCode();
    open = await challenge(code);
  });

  const cases: [string, () => Promise<RawAnswer>, number, string][] = [
    ['a body that is not JSON', () => enroll('{"challengeId": '), 400, 'BODY_INVALID'],
    [
      'a PEM block of the wrong kind',
      () =>
        enroll(JSON.stringify({ challengeId: open.id, csr: encodePem('PRIVATE KEY', new Uint8Array(8)) })),
      400,
      'INPUT_UNRECOGNIZED',
    ],
    ['a JSON array', () => enroll('[]'), 400, 'BODY_INVALID'],
    ['a body without the CSR', () => enroll(JSON.stringify({ challengeId: open.id })), 400, 'BODY_INVALID'],
    [
      'an unknown property',
      () => enroll(JSON.stringify({ challengeId: open.id, csr: csrPem(open.nonce), subject: 'CN=Mallory' })),
      400,
      'BODY_INVALID',
    ],
    [
      'a challenge id that is not a UUID',
      () => enroll(JSON.stringify({ challengeId: 'nope', csr: csrPem(open.nonce) })),
      400,
      'BODY_INVALID',
    ],
    [
      'a CSR that is not PEM',
      () => enroll(JSON.stringify({ challengeId: open.id, csr: 'hello' })),
      400,
      'INPUT_UNRECOGNIZED',
    ],
    [
      'a PEM CSR whose DER is garbage',
      () =>
        enroll(
          JSON.stringify({
            challengeId: open.id,
            csr: encodePem('CERTIFICATE REQUEST', Uint8Array.of(0x30, 0x03, 0x02, 0x01)),
          }),
        ),
      400,
      'DER_TRUNCATED',
    ],
    [
      'a body above the size limit',
      () => enroll(JSON.stringify({ challengeId: open.id, csr: 'A'.repeat(70_000) })),
      413,
      'INPUT_TOO_LARGE',
    ],
    [
      'a body that is not declared as JSON',
      () => enroll(JSON.stringify({ challengeId: open.id, csr: csrPem(open.nonce) }), 'text/plain'),
      400,
      'BODY_INVALID',
    ],
  ];

  it.each(cases)('answers %s with a problem and writes nothing', async (_what, send, status, expected) => {
    const before = await rows();
    expectProblem(await send(), status, expected);
    expect(await rows()).toEqual(before);
  });

  it('names the offending fields of a schema failure', async () => {
    const a = await enroll(JSON.stringify({ challengeId: open.id }));
    const errors = a.json!['errors'] as { pointer: string; detail: string }[];
    expect(errors.some((e) => e.pointer.includes('csr'))).toBe(true);
  });

  it('refuses missing and unknown credentials, and an unknown challenge, without rows', async () => {
    const before = await rows();
    const body = JSON.stringify({ challengeId: open.id, csr: csrPem(open.nonce) });
    expectProblem(await raw(`${s.url}/api/v1/enrollments`, { body }), 401, 'AUTH_REQUIRED');
    expectProblem(
      await raw(`${s.url}/api/v1/enrollments`, { authorization: `Enroll ${'Q'.repeat(32)}`, body }),
      401,
      'AUTH_INVALID',
    );
    expectProblem(
      await enroll(
        JSON.stringify({ challengeId: '00000000-0000-4000-8000-000000000000', csr: csrPem(open.nonce) }),
      ),
      409,
      'CHALLENGE_INVALID',
    );
    expect(await rows()).toEqual(before);
  });

  it('left the challenge open: a good CSR answers it afterwards', async () => {
    const a = await enroll(JSON.stringify({ challengeId: open.id, csr: csrPem(open.nonce) }));
    expect(a.status).toBe(201);
  });
});

describe('evidence the verifier rejects: a 4xx problem with the verdict, recorded, no certificate', () => {
  async function rejected(
    build: (nonce: Uint8Array) => string,
    status: number,
    expected: string,
  ): Promise<Record<string, unknown>> {
    const code = await newCode();
    const c = await challenge(code);
    const before = await rows();
    const a = await raw(`${s.url}/api/v1/enrollments`, {
      authorization: `Enroll ${code}`,
      body: JSON.stringify({ challengeId: c.id, csr: build(c.nonce) }),
    });
    expectProblem(a, status, expected);
    expect(a.json!['verdict']).toMatchObject({ accepted: false, code: expected });
    const after = await rows();
    expect(after.certificates).toBe(before.certificates);
    expect(after.enrollments).toBe(before.enrollments + 1);
    const latest = (await s.service.store.enrollments.recent(1))[0]!;
    expect(latest).toMatchObject({ status: 'rejected', code: expected, certificateSerial: null });
    // Single use: the challenge is spent even by a rejection.
    const again = await raw(`${s.url}/api/v1/enrollments`, {
      authorization: `Enroll ${code}`,
      body: JSON.stringify({ challengeId: c.id, csr: csrPem(c.nonce) }),
    });
    expectProblem(again, 409, 'CHALLENGE_INVALID');
    return a.json!;
  }

  it('records a CSR without attestation as ATTESTATION_MISSING', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await rejected(
      (nonce) =>
        encodePem(
          'CERTIFICATE REQUEST',
          buildCsr({
            subject: encodeName('CN=No Attestation'),
            signer: signerFromKeyObject(privateKey),
            nonce,
          }),
        ),
      422,
      'ATTESTATION_MISSING',
    );
  });

  it('records evidence bound to another challenge as NONCE_MISMATCH', async () => {
    await rejected(() => csrPem(new Uint8Array(32).fill(7)), 422, 'NONCE_MISMATCH');
  });

  it('records a token from a maker the policy does not trust (same names, other keys) as refused', async () => {
    // The forged chain never reaches the trusted key: its top certificate bears the trusted
    // maker's name, so the anchor is tried as its issuer and the signature cannot verify.
    const problem = await rejected((nonce) => csrPem(nonce, stranger), 422, 'PATH_SIGNATURE_INVALID');
    expect(problem['detail']).toMatch(/Provenance Demo Maker/);
  });
});
