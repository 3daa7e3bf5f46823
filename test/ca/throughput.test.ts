/**
 * Issuance throughput with P-256 and RSA-3072 issuing keys, with the cost of planning + lint
 * and of the signature alone beside it (the rest: DER writing, parse-back, verification).
 * The figures are logged for docs/ca.md; the assertions only guard against a regression by an
 * order of magnitude (the machine running the tests may be busy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedCa } from '../../src/ca/directory.js';
import { issueCertificate, planIssuance } from '../../src/ca/issue.js';
import { lintIssuance } from '../../src/ca/lint.js';
import { makeCa, request, tempDirs } from './fixtures.js';

const dirs = tempDirs();
let p256: OpenedCa;
let rsa3072: OpenedCa;

beforeAll(async () => {
  [p256, rsa3072] = await Promise.all([
    makeCa(await dirs.make(), { alg: 'p256' }),
    makeCa(await dirs.make(), { alg: 'rsa3072' }),
  ]);
});
afterAll(() => dirs.cleanup());

/** Mean µs per call of `fn` over `n` calls, after a warm-up. */
function microseconds(n: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(50, n); i++) fn();
  const started = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - started) * 1000) / n;
}

describe('issuance throughput', () => {
  it.each([
    ['P-256', () => p256, 2000, 5000],
    ['RSA-3072', () => rsa3072, 200, 50_000],
  ] as const)('%s issuing key', (label, ca, n, ceilingMicroseconds) => {
    const req = request(ca());
    const total = microseconds(n, () => issueCertificate(req));
    const planAndLint = microseconds(n, () => lintIssuance(planIssuance(req), req.ca));
    const tbs = new Uint8Array(600);
    const signature = microseconds(n, () => req.ca.key.sign(tbs));
    // Measured one after the other, not subtracted: on a busy machine the parts wobble independently.
    console.log(
      `issuance throughput, ${label} issuing key: ${Math.round(1e6 / total)} certificates/s, ${total.toFixed(0)} µs each ` +
        `(of which plan + lint about ${planAndLint.toFixed(0)} µs, the signature about ${signature.toFixed(0)} µs; ` +
        'the rest is DER writing, the strict parse-back and the verification under the CA key)',
    );
    expect(total).toBeLessThan(ceilingMicroseconds);
  });
});
