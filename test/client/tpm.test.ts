/**
 * The TPM activation client against a fake fetch: what it sends (standard base64, Enroll auth,
 * the paths), how it reads the answers, and that a malformed answer is SERVER_RESPONSE_INVALID.
 * The whole protocol against a real service and swtpm: test/e2e/tpm-enroll.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { activateTpm, createTpmClient, type TpmProvisioningClient } from '../../src/client/tpm.js';
import { isProvenanceError } from '../../src/core/errors.js';
import type { TpmAttester } from '../../src/token/tpm/attester.js';

const CODE = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const ID = '3f1c1b8e-8a51-4a43-9d1e-0a2f3b4c5d6e';

function fakeFetch(answers: Record<string, unknown>) {
  const sent: { url: string; auth: string | null; body: Record<string, unknown> }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    sent.push({ url, auth: headers.get('authorization'), body: JSON.parse(String(init.body)) });
    const path = new URL(url).pathname;
    return new Response(JSON.stringify(answers[path]), {
      status: 201,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, sent };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
}

describe('TPM activation client', () => {
  it('posts the EK certificate, chain, EK and AK public areas, then the secret, as base64 with Enroll auth', async () => {
    const f = fakeFetch({
      '/api/v1/tpm/activations': {
        id: ID,
        akName: 'AAs=',
        credentialBlob: Buffer.from([0, 2, 1, 2]).toString('base64'),
        encryptedSecret: Buffer.from([0, 1, 9]).toString('base64'),
        expiresAt: '2026-11-30T22:00:00Z',
      },
      [`/api/v1/tpm/activations/${ID}/complete`]: {
        akId: 'ak-1',
        akName: Buffer.alloc(34, 1).toString('base64'),
      },
    });
    const client = createTpmClient({ server: 'http://127.0.0.1:9', fetch: f.fetch });
    const started = await client.startActivation(CODE, {
      ekCertificate: new Uint8Array([0x30, 0x00]),
      ekChain: [new Uint8Array([0xfb])],
      akPublic: new Uint8Array([0, 0x23]),
      ekPublic: new Uint8Array([0, 1]),
    });
    expect([...started.credentialBlob]).toEqual([0, 2, 1, 2]);
    expect([...started.encryptedSecret]).toEqual([0, 1, 9]);
    expect(f.sent[0]).toEqual({
      url: 'http://127.0.0.1:9/api/v1/tpm/activations',
      auth: `Enroll ${CODE}`,
      body: { ekCertificate: 'MAA=', ekChain: ['+w=='], akPublic: 'ACM=', ekPublic: 'AAE=' },
    });
    const done = await client.completeActivation(CODE, started.id, new Uint8Array([1, 2, 3]));
    expect(done.akId).toBe('ak-1');
    expect(done.akName.length).toBe(34);
    expect(f.sent[1]!.body).toEqual({ secret: 'AQID' });
  });

  it('a malformed answer or activation id is SERVER_RESPONSE_INVALID; a bad code is USAGE', async () => {
    const f = fakeFetch({
      '/api/v1/tpm/activations': { id: ID, credentialBlob: '!!', encryptedSecret: 'AA==', expiresAt: 'x' },
    });
    const client = createTpmClient({ server: 'http://127.0.0.1:9', fetch: f.fetch });
    const req = { ekCertificate: new Uint8Array([1]), akPublic: new Uint8Array([1]) };
    expect(await codeOf(client.startActivation(CODE, req))).toBe('SERVER_RESPONSE_INVALID');
    expect(await codeOf(client.completeActivation(CODE, '../admin', new Uint8Array([1])))).toBe(
      'SERVER_RESPONSE_INVALID',
    );
    expect(await codeOf(client.startActivation('short', req))).toBe('USAGE');
  });

  it('activateTpm runs EK → AK → start → TPM2_ActivateCredential → complete', async () => {
    const steps: string[] = [];
    const token = {
      endorsement: async () => {
        steps.push('ek');
        return { ekCertificate: new Uint8Array([1]), ekPublic: new Uint8Array([2]) };
      },
      attestationKey: async () => {
        steps.push('ak');
        return { akPublic: new Uint8Array([3]), akName: new Uint8Array(34) };
      },
      activateCredential: async (blob: Uint8Array, secret: Uint8Array) => {
        steps.push(`activate ${blob.length} ${secret.length}`);
        return new Uint8Array([7, 7]);
      },
    } as unknown as TpmAttester;
    const tpmClient: TpmProvisioningClient = {
      startActivation: async (code, r) => {
        steps.push(`start ${code} ${r.ekCertificate[0]} ${r.ekPublic?.[0]} ${r.akPublic[0]}`);
        return {
          id: ID,
          credentialBlob: new Uint8Array(4),
          encryptedSecret: new Uint8Array(5),
          expiresAt: 'x',
        };
      },
      completeActivation: async (_code, id, secret) => {
        steps.push(`complete ${id === ID} ${[...secret]}`);
        return { akId: 'ak-9', akName: new Uint8Array(34) };
      },
    };
    const r = await activateTpm({ tpmClient, token, code: CODE });
    expect(r.akId).toBe('ak-9');
    expect(steps).toEqual(['ek', 'ak', `start ${CODE} 1 2 3`, 'activate 4 5', 'complete true 7,7']);
  });
});
