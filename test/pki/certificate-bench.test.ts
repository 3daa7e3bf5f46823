/**
 * Micro-benchmark, reported in the log rather than asserted (shared CI machines are noisy):
 * parseCertificate cost per certificate on a typical three-certificate attestation chain.
 * The design target is single-digit microseconds (see src/core/der.ts).
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/pki/certificate.js';
import { testChain } from '../helpers/fuzz.js';

/** Parse `chain` `rounds` times; return microseconds per certificate. */
function microsecondsPerCertificate(chain: readonly Uint8Array[], rounds: number): number {
  let keep = 0;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const der of chain) keep += parseCertificate(der).version;
  const elapsed = performance.now() - start;
  expect(keep).toBe(rounds * chain.length * 3);
  return (elapsed * 1000) / (rounds * chain.length);
}

describe('parseCertificate speed', () => {
  it('logs microseconds per certificate on a three-certificate chain', () => {
    const chain = testChain();
    microsecondsPerCertificate(chain, 2_000); // warm-up: let the JIT compile the parser
    const samples = [1, 2, 3].map(() => microsecondsPerCertificate(chain, 5_000));
    const best = Math.min(...samples);
    const sizes = chain.map((c) => c.length).join('/');
    // The load average says how far a busy machine inflated the figure.
    const load = `load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`;
    console.log(
      `parseCertificate: ${best.toFixed(2)} µs per certificate (best of 3 × 5000 rounds of a 3-certificate P-256 chain, ${sizes} bytes; ${load})`,
    );
    expect(best).toBeGreaterThan(0);
  });
});
