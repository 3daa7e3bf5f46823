import { generatePrimeSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/bytes.js';
import { evaluatePolicy } from '../../src/policy/evaluate.js';
import { policyFromOptions } from '../../src/policy/from-options.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/model.js';
import type { Finding, PolicyDecision, PolicyInput } from '../../src/policy/types.js';
import {
  ecKey,
  fermatSpki,
  type Hierarchy,
  hierarchy,
  inputOf,
  issue,
  rocaSpki,
  rsaSpki,
  withKeyAt,
} from './fixtures.js';

let h: Hierarchy;
let other: Hierarchy;
let roca: Uint8Array;
let fermat: Uint8Array;

beforeAll(() => {
  h = hierarchy('Gemalto');
  other = hierarchy('Acme');
  roca = rocaSpki();
  fermat = fermatSpki();
});

/** A YAML policy whose certificate files are served from memory. */
function yamlPolicy(yaml: string): Policy {
  const files: Record<string, string> = {
    '/p/gemalto.pem': h.root.pem,
    '/p/smartcards.pem': h.productLine.pem,
    '/p/dotnet.pem': h.model.pem,
    '/p/token.pem': h.token.pem,
    '/p/acme.pem': other.root.pem,
    '/p/acme-line.pem': other.productLine.pem,
  };
  return parsePolicy(yaml, {
    source: 'test.yaml',
    baseDir: '/p',
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`no ${p}`), { code: 'ENOENT' });
      return new TextEncoder().encode(text);
    },
  });
}

const TRUST = 'version: 1\ntrust:\n  - { id: gemalto, certificates: [gemalto.pem] }\n';

const failed = (d: PolicyDecision): Finding[] => d.findings.filter((f) => !f.ok);
const byCheck = (d: PolicyDecision, check: string): Finding[] => d.findings.filter((f) => f.check === check);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('evaluatePolicy: allow rules', () => {
  it('with no allow rules, accepts any path to a trusted anchor and says so', () => {
    const d = evaluatePolicy(policyFromOptions({ trust: [h.root.cert] }), inputOf(h));
    expect(d).toMatchObject({ accepted: true, code: 'ACCEPTED' });
    expect(d.matchedRule).toBeUndefined();
    expect(byCheck(d, 'policy.allow')).toEqual([
      expect.objectContaining({
        ok: true,
        message: expect.stringMatching(/no allow rules: any path to a trusted anchor/),
      }),
    ]);
  });

  it('accepts when the path contains a rule’s entry, reporting the rule, its level and the position', () => {
    const policy = yamlPolicy(
      `${TRUST}allow:\n  - { id: gemalto-smartcards, entry: smartcards.pem, level: 2 }\n`,
    );
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d).toMatchObject({
      accepted: true,
      code: 'ACCEPTED',
      matchedRule: 'gemalto-smartcards',
      level: 2,
    });
    expect(d.path!.find((e) => e.position === 3)!.matchedRules).toEqual(['gemalto-smartcards']);
    expect(d.path!.filter((e) => e.matchedRules).length).toBe(1);
    expect(d.findings.at(-1)).toMatchObject({ check: 'policy.allow', ok: true, position: 3 });
  });

  it('rejects with POLICY_NO_MATCH when allow rules exist and none matches', () => {
    const policy = yamlPolicy(`${TRUST}allow:\n  - { id: acme-line, entry: acme-line.pem }\n`);
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d).toMatchObject({ accepted: false, code: 'POLICY_NO_MATCH' });
    expect(d.matchedRule).toBeUndefined();
  });

  it('matches by key, never by name: a look-alike certificate with another key does not match', () => {
    const lookAlike = issue(h.productLine.cert.subject.rdns.flat().find((a) => a.type === '2.5.4.3')!.value, {
      issuer: h.root,
    });
    expect(lookAlike.cert.subject.text).toBe(h.productLine.cert.subject.text);
    const policy = policyFromOptions({ trust: [h.root.cert], allow: [{ certificate: lookAlike.cert }] });
    expect(evaluatePolicy(policy, inputOf(h)).code).toBe('POLICY_NO_MATCH');
  });

  it('matches a re-issued certificate with another name but the same key', () => {
    const reissued = issue('Renamed Product Line', { issuer: h.root, key: h.productLine.key });
    const policy = policyFromOptions({
      trust: [h.root.cert],
      allow: [{ certificate: reissued.cert, id: 'line' }],
    });
    expect(evaluatePolicy(policy, inputOf(h))).toMatchObject({ accepted: true, matchedRule: 'line' });
  });

  it('matches a rule given as a key hash, and a whole-maker rule given as a trust id', () => {
    const byHash = policyFromOptions({
      trust: [h.root.cert],
      allow: [{ spkiSha256: `sha256:${h.model.cert.spkiSha256}` }],
    });
    expect(evaluatePolicy(byHash, inputOf(h))).toMatchObject({ accepted: true, matchedRule: 'allow-1' });
    const maker = yamlPolicy(`${TRUST}allow:\n  - { id: all-gemalto, anchor: gemalto }\n`);
    expect(evaluatePolicy(maker, inputOf(h))).toMatchObject({ accepted: true, matchedRule: 'all-gemalto' });
  });

  it('matches the attested key itself when a rule names it', () => {
    const policy = policyFromOptions({
      trust: [h.root.cert],
      allow: [{ spkiSha256: sha256Hex(h.attested.spki) }],
    });
    expect(evaluatePolicy(policy, inputOf(h)).path![0]!.matchedRules).toEqual(['allow-1']);
  });

  it('says "matched X but …" when a rule’s entry matches and its own requirements fail', () => {
    const policy = yamlPolicy(
      `${TRUST}allow:\n  - { id: gemalto-smartcards, entry: smartcards.pem, require: { userPresence: [always] } }\n`,
    );
    const d = evaluatePolicy(policy, inputOf(h, { claims: { ...inputOf(h).claims, userPresence: 'never' } }));
    expect(d).toMatchObject({ accepted: false, code: 'POLICY_REQUIREMENT_FAILED' });
    const messages = byCheck(d, 'policy.allow').map((f) => f.message);
    expect(messages[0]).toMatch(/^matched gemalto-smartcards but userPresence is never \(requires always\)/);
    expect(d.path!.some((e) => e.matchedRules)).toBe(false);
  });

  it('lets another rule allow when one matched rule’s requirements fail', () => {
    const policy = yamlPolicy(`${TRUST}allow:
  - { id: touch-only, entry: dotnet.pem, level: 3, require: { userPresence: always } }
  - { id: any-gemalto, anchor: gemalto, level: 1 }
`);
    const d = evaluatePolicy(
      policy,
      inputOf(h, { claims: { ...inputOf(h).claims, userPresence: 'cached' } }),
    );
    expect(d).toMatchObject({ accepted: true, matchedRule: 'any-gemalto', level: 1 });
    expect(d.findings.find((f) => f.check === 'policy.allow' && !f.ok)).toMatchObject({
      severity: 'warning',
      message: expect.stringMatching(/^matched touch-only but userPresence is cached/),
    });
  });

  it('picks the highest level among rules that hold, then the most specific entry', () => {
    const policy = yamlPolicy(`${TRUST}allow:
  - { id: maker, anchor: gemalto, level: 1 }
  - { id: model, entry: dotnet.pem, level: 3 }
  - { id: line, entry: smartcards.pem, level: 3 }
  - { id: token, entry: token.pem }
`);
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d).toMatchObject({ accepted: true, matchedRule: 'model', level: 3 });
    expect(d.path!.map((e) => e.matchedRules ?? [])).toEqual([[], ['token'], ['model'], ['line'], ['maker']]);
  });

  it('applies rule requirements on top of the global ones (both must hold)', () => {
    const policy = yamlPolicy(`${TRUST}allow:
  - { id: line, entry: smartcards.pem, require: { userVerification: [always] } }
require: { freshness: nonce }
`);
    const input = inputOf(h, {
      freshness: 'possession',
      claims: { ...inputOf(h).claims, userVerification: 'always' },
    });
    const d = evaluatePolicy(policy, input);
    expect(d.code).toBe('NONCE_MISSING');
    expect(d.matchedRule).toBeUndefined();
    expect(byCheck(d, 'policy.allow').at(-1)).toMatchObject({ ok: true, detail: { rule: 'line' } });
  });
});

describe('evaluatePolicy: the anchor', () => {
  it('rejects a path that ends at a key the policy does not trust', () => {
    const policy = policyFromOptions({ trust: [other.root.cert] });
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d).toMatchObject({ accepted: false, code: 'PATH_NOT_FOUND' });
    expect(byCheck(d, 'policy.anchor')[0]).toMatchObject({ ok: false, position: 4 });
  });

  it('rejects an anchor used for a format it is not scoped to', () => {
    const policy = policyFromOptions({ trust: [h.root.cert], formats: ['yubikey-piv'] });
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d.code).toBe('PATH_NOT_FOUND');
    expect(byCheck(d, 'policy.anchor')[0]!.message).toMatch(/not trusted for format provenance/);
    expect(
      evaluatePolicy(policyFromOptions({ trust: [h.root.cert], formats: 'any' }), inputOf(h)).accepted,
    ).toBe(true);
  });

  it('trusts the anchor by key even when the pipeline names it differently', () => {
    const d = evaluatePolicy(
      policyFromOptions({ trust: [h.root.cert] }),
      inputOf(h, { anchorId: 'renamed' }),
    );
    expect(d.accepted).toBe(true);
  });

  it('rejects an empty path and a policy with no anchors', () => {
    expect(evaluatePolicy(policyFromOptions({ trust: [h.root.cert] }), inputOf(h, { path: [] })).code).toBe(
      'PATH_NOT_FOUND',
    );
    expect(evaluatePolicy(policyFromOptions({ trust: [] }), inputOf(h)).code).toBe('TRUST_NO_ANCHORS');
  });
});

describe('evaluatePolicy: deny wins', () => {
  it('rejects a denied intermediate even though an allow rule matches it', () => {
    const policy = yamlPolicy(`${TRUST}allow:
  - { id: line, entry: smartcards.pem, level: 2 }
deny:
  entries:
    - { certificate: dotnet.pem, reason: "recalled: firmware flaw" }
`);
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d).toMatchObject({ accepted: false, code: 'POLICY_DENIED' });
    expect(d.matchedRule).toBeUndefined();
    expect(byCheck(d, 'deny.entries')[0]).toMatchObject({
      ok: false,
      position: 2,
      message: expect.stringMatching(/recalled: firmware flaw/),
    });
    // The rule still held; the findings say so.
    expect(byCheck(d, 'policy.allow').at(-1)).toMatchObject({ ok: true, detail: { rule: 'line' } });
  });

  it('rejects a ROCA-vulnerable attested key with KEY_ROCA_VULNERABLE', () => {
    const policy = policyFromOptions({ trust: [h.root.cert] });
    const input = inputOf(h, { path: withKeyAt(inputOf(h).path, 0, roca) });
    const d = evaluatePolicy(policy, input);
    expect(d).toMatchObject({ accepted: false, code: 'KEY_ROCA_VULNERABLE' });
    expect(byCheck(d, 'deny.roca')).toEqual([expect.objectContaining({ ok: false, position: 0 })]);
  });

  it('runs the ROCA test on every RSA key in the path, certificates included', () => {
    const policy = policyFromOptions({ trust: [h.root.cert] });
    const path = withKeyAt(inputOf(h).path, 1, roca); // the token attestation key
    const d = evaluatePolicy(policy, inputOf(h, { path }));
    expect(d.code).toBe('KEY_ROCA_VULNERABLE');
    expect(failed(d)[0]).toMatchObject({
      check: 'deny.roca',
      position: 1,
      message: expect.stringMatching(/CN=Gemalto token 0042/),
    });
  });

  it('accepts a ROCA key only when both roca and weakKeys are switched off', () => {
    const input = inputOf(h, { path: withKeyAt(inputOf(h).path, 0, roca) });
    const rocaOff = evaluatePolicy(policyFromOptions({ trust: [h.root.cert], deny: { roca: false } }), input);
    // weakKeys still knows ROCA keys are weak, and keeps the specific code.
    expect(rocaOff.code).toBe('KEY_ROCA_VULNERABLE');
    expect(failed(rocaOff)[0]).toMatchObject({ check: 'deny.weakKeys', detail: { weakness: 'roca' } });
    const bothOff = policyFromOptions({ trust: [h.root.cert], deny: { roca: false, weakKeys: false } });
    expect(evaluatePolicy(bothOff, input).accepted).toBe(true);
  });

  it('rejects a weak key (close primes) with POLICY_DENIED naming the weakness', () => {
    const d = evaluatePolicy(
      policyFromOptions({ trust: [h.root.cert] }),
      inputOf(h, { path: withKeyAt(inputOf(h).path, 0, fermat) }),
    );
    expect(d.code).toBe('POLICY_DENIED');
    expect(failed(d)[0]).toMatchObject({
      check: 'deny.weakKeys',
      position: 0,
      detail: { weakness: 'rsa-fermat' },
    });
  });

  it('rejects a small public exponent in an intermediate', () => {
    const n =
      0xc39a928060db513091b604eadad719ed94e246de8fe15fb76efab5cfabbc3fc5486fe2ef2a5a5a8472f0c5be089edec071fb284df4467fa1fa6c8f0b013d3173n;
    const d = evaluatePolicy(
      policyFromOptions({ trust: [h.root.cert] }),
      inputOf(h, { path: withKeyAt(inputOf(h).path, 2, rsaSpki(n, 3n)) }),
    );
    expect(failed(d).map((f) => f.detail?.['weakness'])).toContain('rsa-small-exponent');
  });

  it('rejects firmware in a denied range, passes firmware outside it, and warns when firmware is unknown', () => {
    const policy = policyFromOptions({ trust: [h.root.cert], deny: { firmware: ['>=4.2.6 <4.3.5'] } });
    const claims = inputOf(h).claims;
    const bad = evaluatePolicy(policy, inputOf(h, { claims: { ...claims, firmware: '4.3.1' } }));
    expect(bad.code).toBe('POLICY_DENIED');
    expect(failed(bad)[0]!.message).toMatch(/firmware 4\.3\.1 is denied \(range >=4\.2\.6 <4\.3\.5\)/);
    expect(evaluatePolicy(policy, inputOf(h, { claims: { ...claims, firmware: '4.3.5' } })).accepted).toBe(
      true,
    );
    const { firmware: _drop, ...noFirmware } = claims;
    const unknown = evaluatePolicy(policy, inputOf(h, { claims: noFirmware }));
    expect(unknown.accepted).toBe(true);
    expect(byCheck(unknown, 'deny.firmware')[0]).toMatchObject({ ok: true, severity: 'warning' });
  });

  it('leaves a finding for every deny check it runs, passing or not', () => {
    const policy = policyFromOptions({
      trust: [h.root.cert],
      deny: { firmware: ['<5'], entries: [{ spkiSha256: 'f'.repeat(64), reason: 'x' }] },
    });
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d.accepted).toBe(true);
    expect(d.findings.map((f) => f.check).filter((c) => c.startsWith('deny.'))).toEqual([
      'deny.entries',
      'deny.roca',
      'deny.weakKeys',
      'deny.firmware',
    ]);
  });
});

describe('evaluatePolicy: requirements', () => {
  const check = (
    require: Parameters<typeof policyFromOptions>[0]['require'],
    over: Partial<PolicyInput> = {},
  ) =>
    evaluatePolicy(
      policyFromOptions({ trust: [h.root.cert], ...(require ? { require } : {}) }),
      inputOf(h, over),
    );
  const claims = () => inputOf(h).claims;

  it('freshness: nonce needs the verifier’s nonce; possession also takes a CSR signature', () => {
    expect(check({ freshness: 'nonce' }).accepted).toBe(true);
    expect(check({ freshness: 'nonce' }, { freshness: 'possession' }).code).toBe('NONCE_MISSING');
    expect(check({ freshness: 'possession' }, { freshness: 'possession' }).accepted).toBe(true);
    expect(check({ freshness: 'possession' }, { freshness: 'none' }).code).toBe('NONCE_MISSING');
    expect(check({ freshness: 'none' }, { freshness: 'none' }).accepted).toBe(true);
  });

  it('generatedOnDevice and nonExportable must be stated true by the evidence', () => {
    expect(check({ generatedOnDevice: true, nonExportable: true }).accepted).toBe(true);
    expect(
      check({ generatedOnDevice: true }, { claims: { ...claims(), generatedOnDevice: false } }).code,
    ).toBe('POLICY_REQUIREMENT_FAILED');
    const { nonExportable: _n, ...silent } = claims();
    const d = check({ nonExportable: true }, { claims: silent });
    expect(d.code).toBe('POLICY_REQUIREMENT_FAILED');
    expect(failed(d)[0]!.message).toBe('nonExportable is not stated by the evidence');
  });

  it('userPresence and userVerification must be in the allowed sets', () => {
    expect(check({ userPresence: ['always', 'cached'] }).accepted).toBe(true);
    expect(check({ userVerification: ['always'] }).code).toBe('POLICY_REQUIREMENT_FAILED');
    expect(check({ userVerification: 'once' }).accepted).toBe(true);
  });

  it('algorithms are read from the attested key, not from the claims', () => {
    const p384 = ecKey('P-384');
    const path = withKeyAt(inputOf(h).path, 0, p384.spki);
    const d = check({ algorithms: ['ec-p256'] }, { path }); // claims still say ec-p256
    expect(d.code).toBe('POLICY_REQUIREMENT_FAILED');
    expect(failed(d)[0]).toMatchObject({
      check: 'require.algorithms',
      message: 'key algorithm is ec-p384 (requires ec-p256)',
    });
    expect(check({ algorithms: ['ec-p256', 'ec-p384'] }, { path }).accepted).toBe(true);
  });

  it('minRsaBits applies to RSA attested keys only', () => {
    const rsa1024 = rsaSpki(
      generatePrimeSync(512, { bigint: true }) * generatePrimeSync(512, { bigint: true }),
    );
    const path = withKeyAt(inputOf(h).path, 0, rsa1024);
    const policy = policyFromOptions({
      trust: [h.root.cert],
      require: { minRsaBits: 2048 },
      deny: { roca: false, weakKeys: false },
    });
    const d = evaluatePolicy(policy, inputOf(h, { path }));
    expect(failed(d)[0]).toMatchObject({
      check: 'require.minRsaBits',
      message: expect.stringMatching(/^RSA key is 102[34] bits \(requires ≥ 2048\)$/),
    });
    expect(check({ minRsaBits: 2048 }).accepted).toBe(true); // an EC key
  });

  it('securityLevel is a minimum on the ordered scale software < tee < secure-element', () => {
    expect(check({ securityLevel: 'tee' }).accepted).toBe(true);
    expect(
      check({ securityLevel: 'secure-element' }, { claims: { ...claims(), securityLevel: 'tee' } }).code,
    ).toBe('POLICY_REQUIREMENT_FAILED');
    expect(
      check({ securityLevel: 'software' }, { claims: { ...claims(), securityLevel: 'software' } }).accepted,
    ).toBe(true);
  });

  it('firmware ranges compare dotted versions numerically, and unknown firmware fails', () => {
    expect(check({ firmware: '>=5.4.3' }).accepted).toBe(true);
    expect(check({ firmware: '>=5.10' }).code).toBe('POLICY_REQUIREMENT_FAILED');
    expect(check({ firmware: ['<4', '>=5.4'] }).accepted).toBe(true);
    expect(check({ firmware: '>=5' }, { claims: { ...claims(), firmware: '5.4.3-beta' } }).code).toBe(
      'POLICY_REQUIREMENT_FAILED',
    );
  });

  it('puts the first failure in the decision: deny before requirements before allow rules', () => {
    const policy = yamlPolicy(`${TRUST}allow:
  - { id: acme-only, entry: acme-line.pem }
require: { userVerification: [always] }
deny: { firmware: ["5.4.3"] }
`);
    const d = evaluatePolicy(policy, inputOf(h));
    expect(d.code).toBe('POLICY_DENIED');
    expect(failed(d).map((f) => f.code)).toEqual([
      'POLICY_DENIED',
      'POLICY_REQUIREMENT_FAILED',
      'POLICY_NO_MATCH',
    ]);
  });
});

describe('evaluatePolicy: purity and robustness', () => {
  it('does not modify its input and gives the same decision twice', () => {
    const policy = deepFreeze(yamlPolicy(`${TRUST}allow:\n  - { id: line, entry: smartcards.pem }\n`));
    const input = deepFreeze(inputOf(h));
    const a = evaluatePolicy(policy, input);
    const b = evaluatePolicy(policy, input);
    expect(a).toEqual(b);
    expect(input.path.every((e) => e.matchedRules === undefined)).toBe(true);
  });

  it('fails closed with KEY_MALFORMED when a key in the path does not decode, without throwing', () => {
    const path = withKeyAt(inputOf(h).path, 2, Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01));
    const d = evaluatePolicy(policyFromOptions({ trust: [h.root.cert] }), inputOf(h, { path }));
    expect(d).toMatchObject({ accepted: false, code: 'KEY_MALFORMED' });
    expect(failed(d)[0]).toMatchObject({ check: 'policy.key', position: 2 });
  });
});
