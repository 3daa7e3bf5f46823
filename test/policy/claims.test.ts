/**
 * `require.claims`: vendor claims by dotted path (App Attest environment, Android root of
 * trust). Absent or non-scalar claims never satisfy a requirement.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../src/core/errors.js';
import { evaluatePolicy } from '../../src/policy/evaluate.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/model.js';
import { claimAt } from '../../src/policy/requirements.js';
import { type Hierarchy, hierarchy, inputOf } from './fixtures.js';

let h: Hierarchy;
beforeAll(() => {
  h = hierarchy('Gemalto');
});

function yamlPolicy(yaml: string): Policy {
  return parsePolicy(`version: 1\ntrust:\n  - { id: gemalto, certificates: [gemalto.pem] }\n${yaml}`, {
    source: 'test.yaml',
    baseDir: '/p',
    readFile: () => new TextEncoder().encode(h.root.pem),
  });
}

const android = {
  rootOfTrust: { deviceLocked: true, verifiedBootState: 'verified', verifiedBootKey: 'ab' },
  osPatchLevel: 202405,
};

describe('require.claims', () => {
  it('accepts when every named claim equals one of its values, and reports each as a finding', () => {
    const policy = yamlPolicy(
      'require:\n  claims:\n    rootOfTrust.deviceLocked: true\n    rootOfTrust.verifiedBootState: [verified]\n',
    );
    const d = evaluatePolicy(policy, inputOf(h, { claims: { ...inputOf(h).claims, ...android } }), {
      at: Date.now(),
    });
    expect(d.accepted).toBe(true);
    expect(d.findings.filter((f) => f.check === 'require.claims').map((f) => f.ok)).toEqual([true, true]);
  });

  it('rejects an unlocked device, naming the claim and what was required', () => {
    const policy = yamlPolicy('require:\n  claims:\n    rootOfTrust.deviceLocked: true\n');
    const claims = { ...inputOf(h).claims, rootOfTrust: { ...android.rootOfTrust, deviceLocked: false } };
    const d = evaluatePolicy(policy, inputOf(h, { claims }), { at: Date.now() });
    expect(d.accepted).toBe(false);
    expect(d.code).toBe('POLICY_REQUIREMENT_FAILED');
    const f = d.findings.find((x) => x.check === 'require.claims' && !x.ok);
    expect(f?.message).toContain('claim rootOfTrust.deviceLocked is false (requires true)');
  });

  it('rejects a claim the evidence does not state (fail closed), and a development App Attest key', () => {
    const policy = yamlPolicy('require:\n  claims:\n    environment: production\n');
    const none = evaluatePolicy(policy, inputOf(h), { at: Date.now() });
    expect(none.code).toBe('POLICY_REQUIREMENT_FAILED');
    expect(none.findings.find((x) => x.check === 'require.claims')?.message).toContain('is not stated');
    const dev = evaluatePolicy(
      policy,
      inputOf(h, { claims: { ...inputOf(h).claims, environment: 'development' } }),
      { at: Date.now() },
    );
    expect(dev.code).toBe('POLICY_REQUIREMENT_FAILED');
  });

  it('never reads objects, arrays or inherited properties as values', () => {
    const claims = { keyAlgorithm: 'ec-p256', a: { b: [1] }, n: Number.NaN, s: 'x' };
    expect(claimAt(claims, 'a')).toBeUndefined();
    expect(claimAt(claims, 'a.b')).toBeUndefined();
    expect(claimAt(claims, 'n')).toBeUndefined();
    expect(claimAt(claims, 'toString')).toBeUndefined();
    expect(claimAt(claims, 's.length')).toBeUndefined();
    expect(claimAt(claims, 's')).toBe('x');
  });

  it('is part of the digest, and a malformed claims block is POLICY_INVALID naming the line', () => {
    const a = yamlPolicy('require:\n  claims:\n    environment: production\n');
    const b = yamlPolicy('require:\n  claims:\n    environment: development\n');
    const none = yamlPolicy('');
    expect(new Set([a.digest, b.digest, none.digest]).size).toBe(3);
    for (const bad of [
      'require:\n  claims: {}\n',
      'require:\n  claims:\n    "bad path!": x\n',
      'require:\n  claims:\n    environment: [{ x: 1 }]\n',
    ]) {
      try {
        yamlPolicy(bad);
        expect.unreachable(bad);
      } catch (err) {
        expect(isProvenanceError(err) && err.code).toBe('POLICY_INVALID');
      }
    }
  });
});

describe('signatures.allowSha1', () => {
  it('is off by default, on when given, part of the digest only when on, and noted by policy check', () => {
    const off = yamlPolicy('');
    const on = yamlPolicy('signatures:\n  allowSha1: true\n');
    const explicitOff = yamlPolicy('signatures:\n  allowSha1: false\n');
    expect(off.signatures).toBeUndefined();
    expect(on.signatures).toEqual({ allowSha1: true });
    expect(explicitOff.digest).toBe(off.digest);
    expect(on.digest).not.toBe(off.digest);
  });
});
