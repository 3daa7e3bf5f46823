import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/api.js';
import { defaultLabel, enrollKey, PLACEHOLDER_SUBJECT } from '../../src/client/enroll.js';
import { enrollmentHint } from '../../src/client/hints.js';
import { ERROR_CODES, ProvenanceError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { parseCsr } from '../../src/pki/csr.js';
import type { SoftwareToken } from '../../src/token/software/token.js';
import { type Hierarchy, makeHierarchy, tempDirs } from '../maker/fixtures.js';
import { openToken, perTokenToken } from '../token/software/fixtures.js';
import { fakeService } from './fake-service.js';

const dirs = tempDirs();
let h: Hierarchy;
let base: string;
let tokenCount = 0;

beforeAll(async () => {
  base = await dirs.make('provenance-client-');
  h = await makeHierarchy(base);
});
afterAll(() => dirs.cleanup());

async function freshToken(): Promise<SoftwareToken> {
  tokenCount += 1;
  return openToken(await perTokenToken(h, base, `t${tokenCount}.json`, String(tokenCount).padStart(4, '0')));
}

async function rejection(p: Promise<unknown>): Promise<ProvenanceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProvenanceError) return err;
    throw err;
  }
  throw new Error('expected a ProvenanceError');
}

function setup() {
  const fake = fakeService();
  const client = createClient({ server: 'http://127.0.0.1:1', fetch: fake.fetch });
  return { fake, client };
}

describe('enrollKey', () => {
  it('makes the key when the label is new, answers the challenge and returns a certificate for that key', async () => {
    const { fake, client } = setup();
    const token = await freshToken();
    const code = fake.addCode('CN=Alice,O=Acme');
    const progress: string[] = [];
    const r = await enrollKey({ client, token, code, label: 'signing', onProgress: (m) => progress.push(m) });
    expect(r.keyCreated).toBe(true);
    expect(r.key.algorithm).toBe('p256');
    expect(Buffer.from(r.certificate.spki)).toEqual(Buffer.from(r.key.spki));
    expect(r.certificate.subject.text).toBe('CN=Alice,O=Acme');
    expect(r.level).toBe(2);
    expect(r.verdict.matchedRule).toBe('gemalto-cards');
    expect(r.chainPem).toHaveLength(2);
    expect(progress.join('\n')).toMatch(/new p256 key "signing"/);

    // The CSR carried the challenge's nonce and only a placeholder subject.
    const submitted = fake.requests.find((q) => q.path === '/api/v1/enrollments')!;
    const csr = parseCsr(decodePem((submitted.body as { csr: string }).csr)[0]!.der);
    expect(csr.subject.text).toBe(PLACEHOLDER_SUBJECT);
    expect(csr.nonce).toHaveLength(32);
    expect(csr.attestation?.statements).toHaveLength(1);
    expect((await token.listKeys()).map((k) => k.label)).toEqual(['signing']);
  });

  it('reuses an existing key with the label, and refuses a conflicting --alg', async () => {
    const { fake, client } = setup();
    const token = await freshToken();
    await token.generateKey({ label: 'old', algorithm: 'p384', pinPolicy: 'once', touchPolicy: 'never' });
    const r = await enrollKey({ client, token, code: fake.addCode('CN=Bob'), label: 'old' });
    expect(r.keyCreated).toBe(false);
    expect(r.key.algorithm).toBe('p384');

    const err = await rejection(
      enrollKey({ client, token, code: fake.addCode('CN=Bob'), label: 'old', algorithm: 'ed25519' }),
    );
    expect(err.code).toBe('USAGE');
    // Nothing was asked of the service for the refused call.
    expect(fake.requests.filter((q) => q.path === '/api/v1/challenges')).toHaveLength(1);
  });

  it('makes a new key with the algorithm and policies asked for', async () => {
    const { fake, client } = setup();
    const token = await freshToken();
    const r = await enrollKey({
      client,
      token,
      code: fake.addCode('CN=Carol'),
      label: 'ed',
      algorithm: 'ed25519',
      pinPolicy: 'always',
    });
    expect(r.key).toMatchObject({ algorithm: 'ed25519', pinPolicy: 'always', touchPolicy: 'never' });
  });

  it('checks the code with a challenge before making anything on the token', async () => {
    const { client } = setup();
    const token = await freshToken();
    const err = await rejection(enrollKey({ client, token, code: 'Q'.repeat(32), label: 'never-made' }));
    expect(err.code).toBe('AUTH_INVALID');
    expect(await token.listKeys()).toEqual([]);
  });

  it("passes the service's refusal through with its code and verdict", async () => {
    const { fake, client } = setup();
    const verdict = { accepted: false, code: 'POLICY_NO_MATCH', path: [], matchedRule: null };
    fake.knobs.refuse = { code: 'POLICY_NO_MATCH', status: 403, detail: 'no allow rule matches', verdict };
    const err = await rejection(
      enrollKey({ client, token: await freshToken(), code: fake.addCode('CN=D'), label: 'k' }),
    );
    expect(err.code).toBe('POLICY_NO_MATCH');
    expect(err.details['verdict']).toEqual(verdict);
  });

  it('refuses a certificate for another key (SERVER_RESPONSE_INVALID)', async () => {
    const { fake, client } = setup();
    fake.knobs.certifyOtherKey = true;
    const err = await rejection(
      enrollKey({ client, token: await freshToken(), code: fake.addCode('CN=E'), label: 'k' }),
    );
    expect(err.code).toBe('SERVER_RESPONSE_INVALID');
    expect(err.message).toMatch(/different key/);
  });

  it('refuses a certificate not signed by the chain it came with (SERVER_RESPONSE_INVALID)', async () => {
    const { fake, client } = setup();
    fake.knobs.signWithStranger = true;
    const err = await rejection(
      enrollKey({ client, token: await freshToken(), code: fake.addCode('CN=F'), label: 'k' }),
    );
    expect(err.code).toBe('SERVER_RESPONSE_INVALID');
    expect(err.message).toMatch(/not issued by/);
  });

  it('refuses a certificate field holding more than one PEM block', async () => {
    const { fake, client } = setup();
    const code = fake.addCode('CN=G');
    const token = await freshToken();
    const realFetch = fake.fetch;
    const client2 = createClient({
      server: client.server,
      fetch: async (url, init) => {
        const res = await realFetch(url, init);
        if (!url.endsWith('/enrollments')) return res;
        const body = (await res.json()) as { certificate: string; chain: string[] };
        body.certificate += body.chain[0];
        return new Response(JSON.stringify(body), {
          status: 201,
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    const err = await rejection(enrollKey({ client: client2, token, code, label: 'k' }));
    expect(err.code).toBe('SERVER_RESPONSE_INVALID');
  });
});

describe('defaultLabel', () => {
  it('names the key after the UTC date', () => {
    expect(defaultLabel(() => Date.UTC(2026, 2, 1, 23, 59))).toBe('enrollment-2026-03-01');
  });
});

describe('enrollmentHint', () => {
  it('tells the customer what to do for the common refusals', () => {
    expect(enrollmentHint('NONCE_MISMATCH')).toMatch(/run the same command again/);
    expect(enrollmentHint('CHALLENGE_INVALID')).toMatch(/fresh challenge/);
    expect(enrollmentHint('POLICY_NO_MATCH')).toMatch(/token model is not accepted/);
    expect(enrollmentHint('ENROLLMENT_CODE_USED')).toMatch(/new enrollment code/);
    expect(enrollmentHint('ENROLLMENT_CODE_EXPIRED')).toMatch(/new enrollment code/);
    expect(enrollmentHint('SOMETHING_ELSE')).toMatch(/contact them/);
  });

  it('has a hint for every service-side code of the enrollment API', () => {
    const generic = enrollmentHint('SOMETHING_ELSE');
    const codes = Object.keys(ERROR_CODES).filter((c) =>
      /^(AUTH_|ENROLLMENT_CODE_|CHALLENGE_|RATE_|POLICY_|NONCE_|PATH_NOT_FOUND|TRUST_NO_ANCHORS)/.test(c),
    );
    expect(codes.filter((c) => c !== 'AUTH_SCOPE' && enrollmentHint(c) === generic)).toEqual([]);
  });
});
