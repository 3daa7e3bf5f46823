import { describe, expect, it } from 'vitest';
import { encodePem } from '../../../src/core/pem.js';
import { type Policy, parsePolicy } from '../../../src/policy/index.js';
import { loadTokenLists } from '../../../src/trust/lists/loader.js';
import type { TokenList } from '../../../src/trust/lists/types.js';
import { createVerifier, type Verdict } from '../../../src/verify/verifier.js';
import { csr, NONCE, NOW, nativeHierarchy } from '../../verify/fixtures.js';
import { DAY, entry, publisher, sign } from './fixtures.js';

const h = nativeHierarchy();
const pub = publisher();
const files = new Map<string, Uint8Array>([
  ['/p/root.pem', new TextEncoder().encode(encodePem('CERTIFICATE', h.root.der))],
  [
    '/p/publisher.pem',
    new TextEncoder().encode(pub.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  ],
]);

function policy(
  yamlTail: string,
  listsYaml = 'lists: [{ id: sector, source: sector.jws, publisherKeys: [publisher.pem] }]',
): Policy {
  const text = `version: 1\ntrust: [{ id: root, certificates: [root.pem] }]\n${listsYaml}\n${yamlTail}\n`;
  return parsePolicy(text, {
    source: 'policy.yaml',
    baseDir: '/p',
    readFile: (p) =>
      files.get(p) ??
      (() => {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      })(),
  });
}

const approvedRule = 'allow: [{ id: sector-approved, list: { id: sector, status: approved, minLevel: 2 } }]';

async function verifyWith(
  p: Policy,
  over: Partial<TokenList>,
  o: { at?: number; jws?: string } = {},
): Promise<Verdict> {
  const jws = o.jws ?? (await sign(pub, over));
  const lists = await loadTokenLists(p.lists ?? [], {
    now: o.at ?? NOW,
    readFile: async (path) => {
      if (path !== '/p/sector.jws') throw new Error(`unexpected ${path}`);
      return new TextEncoder().encode(jws);
    },
  });
  return createVerifier({ policy: p, clock: () => NOW, lists }).verifyBytes(csr(h), {
    nonce: NONCE,
    ...(o.at === undefined ? {} : { at: o.at }),
  });
}

describe('policy with signed token lists', () => {
  it('accepts through an approved entry whose level meets minLevel, reporting the list level', async () => {
    const v = await verifyWith(policy(approvedRule), {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { level: 3 })],
    });
    expect(v.code).toBe('ACCEPTED');
    expect(v.matchedRule).toBe('sector-approved');
    expect(v.level).toBe(3);
    expect(v.path.find((e) => e.spkiSha256 === h.model.cert.spkiSha256)?.matchedRules).toEqual([
      'sector-approved',
    ]);
  });

  it('does not match an approved entry below minLevel (POLICY_NO_MATCH)', async () => {
    const v = await verifyWith(policy(approvedRule), {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { level: 1 })],
    });
    expect(v.code).toBe('POLICY_NO_MATCH');
  });

  it('does not match a deprecated entry unless the rule accepts deprecated, and warns when it does', async () => {
    const deprecated = {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { status: 'deprecated' as const })],
    };
    expect((await verifyWith(policy(approvedRule), deprecated)).code).toBe('POLICY_NO_MATCH');
    const v = await verifyWith(
      policy('allow: [{ id: r, list: { id: sector, status: [approved, deprecated] } }]'),
      deprecated,
    );
    expect(v.code).toBe('ACCEPTED');
    expect(v.findings.some((f) => f.check === 'list.status' && f.severity === 'warning')).toBe(true);
  });

  it('a revoked entry beats an allow rule that names the same CA directly', async () => {
    const p = policy(`allow: [{ id: by-key, spkiSha256: "${h.line.cert.spkiSha256}" }]`);
    const v = await verifyWith(p, {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { status: 'revoked' })],
    });
    expect(v.accepted).toBe(false);
    expect(v.code).toBe('LIST_REVOKED');
  });

  it('a suspended entry is denied too', async () => {
    const v = await verifyWith(policy(approvedRule), {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { status: 'suspended' })],
    });
    expect(v.code).toBe('LIST_REVOKED');
  });

  it('revoked[] by key (the token attestation key) and by certificate hash deny anywhere in the path', async () => {
    const listed = [entry('dotnet', h.model.cert.spkiSha256)];
    const byKey = await verifyWith(policy(approvedRule), {
      entries: listed,
      revoked: [{ spkiSha256: h.token.cert.spkiSha256, reason: 'batch key extracted' }],
    });
    expect(byKey.code).toBe('LIST_REVOKED');
    expect(byKey.findings.find((f) => f.code === 'LIST_REVOKED')?.position).toBe(1);
    const byCert = await verifyWith(policy(approvedRule), {
      entries: listed,
      revoked: [{ certificateSha256: h.line.cert.fingerprintSha256, reason: 'misissued' }],
    });
    expect(byCert.code).toBe('LIST_REVOKED');
  });

  it('denies firmware in a range the list entry denies, and accepts outside it', async () => {
    // The hierarchy's tokens state firmware 2.1.0.
    const denied = await verifyWith(policy(approvedRule), {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { firmware: { denied: ['>=2.0 <2.2'] } })],
    });
    expect(denied.code).toBe('POLICY_DENIED');
    expect(denied.findings.find((f) => f.check === 'list.firmware')?.ok).toBe(false);
    const fine = await verifyWith(policy(approvedRule), {
      entries: [entry('dotnet', h.model.cert.spkiSha256, { firmware: { denied: ['<2.1'] } })],
    });
    expect(fine.code).toBe('ACCEPTED');
  });

  it('fails closed on a stale list (LIST_STALE), even for a rule that does not use the list', async () => {
    const at = NOW + 31 * DAY;
    const p = policy(`allow: [{ id: by-key, spkiSha256: "${h.line.cert.spkiSha256}" }]`);
    const v = await verifyWith(p, { entries: [] }, { at });
    expect(v.code).toBe('LIST_STALE');
  });

  it('uses a stale list under allowStale, with a warning naming the reason; grace keeps it fresh', async () => {
    const at = NOW + 31 * DAY;
    const lists = (extra: string) =>
      `lists: [{ id: sector, source: sector.jws, publisherKeys: [publisher.pem]${extra} }]`;
    const entries = [entry('dotnet', h.model.cert.spkiSha256)];
    const v = await verifyWith(
      policy(approvedRule, lists(', allowStale: "publisher outage, ticket 42"')),
      { entries },
      { at },
    );
    expect(v.code).toBe('ACCEPTED');
    const warning = v.findings.find((f) => f.check === 'list.fresh');
    expect(warning).toMatchObject({ ok: true, severity: 'warning', code: 'LIST_STALE' });
    expect(warning?.message).toContain('ticket 42');
    expect((await verifyWith(policy(approvedRule, lists(', grace: 2d')), { entries }, { at })).code).toBe(
      'ACCEPTED',
    );
  });

  it('fails closed when the list is signed by another publisher or is missing', async () => {
    const other = publisher();
    const jws = await sign(other, { entries: [entry('dotnet', h.model.cert.spkiSha256)] });
    expect((await verifyWith(policy(approvedRule), {}, { jws })).code).toBe('LIST_SIGNATURE_INVALID');
    const p = policy(approvedRule);
    const v = createVerifier({ policy: p, clock: () => NOW }).verifyBytes(csr(h), { nonce: NONCE });
    expect(v.code).toBe('LIST_UNAVAILABLE');
  });

  it('refuses a policy whose rule names an unknown list, an http:// source, or an unreadable key', () => {
    expect(() => policy('allow: [{ id: r, list: { id: nope } }]')).toThrow(
      /no entry of "lists:" has the id "nope"/,
    );
    expect(() =>
      policy(
        approvedRule,
        'lists: [{ id: sector, source: "http://x/l.jws", publisherKeys: [publisher.pem] }]',
      ),
    ).toThrow(/https/);
    expect(() =>
      policy(approvedRule, 'lists: [{ id: sector, source: l.jws, publisherKeys: [root.pem] }]'),
    ).not.toThrow();
    expect(() =>
      policy(approvedRule, 'lists: [{ id: sector, source: l.jws, publisherKeys: [missing.pem] }]'),
    ).toThrow(/cannot read "missing.pem"/);
  });

  it('changes the policy digest when lists are added, not for policies without them', () => {
    const without = parsePolicy('version: 1\ntrust: [{ id: root, certificates: [root.pem] }]\n', {
      source: 'p',
      baseDir: '/p',
      readFile: (p) => files.get(p)!,
    });
    expect(policy('').digest).not.toBe(without.digest);
  });
});

describe('describePolicy with lists', () => {
  it('shows the lists, their publisher keys, list rules and the allowStale exception', async () => {
    const { describePolicy } = await import('../../../src/policy/describe.js');
    const text = describePolicy(
      policy(
        'allow: [{ id: sector-approved, list: { id: sector, status: approved, minLevel: 2 } }]',
        'lists: [{ id: sector, source: sector.jws, publisherKeys: [publisher.pem], grace: 2d, allowStale: "outage" }]',
      ),
    );
    expect(text).toContain('token lists (1)');
    expect(text).toContain('sector  sector.jws  publisher keys: sha256:');
    expect(text).toContain('list   "sector" entries that are approved, level ≥ 2');
    expect(text).toContain('token list "sector" is used even when stale (allowStale: outage)');
  });
});
