import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { encodePem } from '../../../src/core/pem.js';
import { describePolicy, type Policy, parsePolicy, policySummary } from '../../../src/policy/index.js';
import { type RevocationProvider, unavailableSource } from '../../../src/trust/revocation/index.js';
import { statusListSource } from '../../../src/trust/revocation/status-list.js';
import { createVerifier, type Verdict } from '../../../src/verify/verifier.js';
import { bundle, NONCE, NOW, nativeHierarchy, party } from '../../verify/fixtures.js';
import { crlFor, DAY, entryFor, goodCrls, revocationPolicy } from './helpers.js';

function verify(policy: Policy, bytes: Uint8Array, provider?: RevocationProvider, at = NOW): Verdict {
  return createVerifier({
    policy,
    clock: () => NOW,
    ...(provider ? { revocation: provider } : {}),
  }).verifyBytes(bytes, { nonce: NONCE, at });
}

const CRL_LINE = 'crls: [model.crl, line.crl, root.crl]';

describe('revocation stage: CRL files', () => {
  const h = nativeHierarchy();

  it('accepts a path whose every checkable certificate is on a current, valid CRL and not revoked', () => {
    const policy = revocationPolicy(h, `revocation: require\n${CRL_LINE}`, goodCrls(h));
    const v = verify(policy, bundle(h));
    expect(v.code).toBe('ACCEPTED');
    const f = v.findings.find((x) => x.check === 'revocation');
    expect(f?.ok).toBe(true);
    expect(f?.severity).toBeUndefined();
  });

  it('rejects with CERT_REVOKED when a CRL revokes the per-token certificate, naming position and source', () => {
    const files = { ...goodCrls(h), 'model.crl': crlFor(h.model, [entryFor(h.token)]) };
    for (const mode of ['require', 'best-effort'] as const) {
      const v = verify(revocationPolicy(h, `revocation: ${mode}\n${CRL_LINE}`, files), bundle(h));
      expect(v.accepted).toBe(false);
      expect(v.code).toBe('CERT_REVOKED');
      const f = v.findings.find((x) => x.code === 'CERT_REVOKED')!;
      // Position 0 is the attested key (certificate of provenance), 1 the token attestation certificate.
      expect(f.position).toBe(1);
      expect(f.detail).toMatchObject({ source: 'crl:model.crl', reason: 'keyCompromise', status: 'revoked' });
    }
  });

  it('rejects a revoked intermediate whose CRL entry has no reasonCode (reason unspecified)', () => {
    const files = { ...goodCrls(h), 'line.crl': crlFor(h.line, [entryFor(h.model, 'unspecified')]) };
    const v = verify(revocationPolicy(h, `revocation: best-effort\n${CRL_LINE}`, files), bundle(h));
    expect(v.code).toBe('CERT_REVOKED');
    const f = v.findings.find((x) => x.code === 'CERT_REVOKED')!;
    expect(f.position).toBe(2);
    expect(f.detail).toMatchObject({ reason: 'unspecified', source: 'crl:line.crl' });
  });

  it('rejects a CRL with a bad signature under require with REVOCATION_UNAVAILABLE, never as "not revoked"', () => {
    const forger = party('CN=Forger', null);
    const files = { ...goodCrls(h), 'model.crl': crlFor(h.model, [], { signer: forger.signer }) };
    const v = verify(revocationPolicy(h, `revocation: require\n${CRL_LINE}`, files), bundle(h));
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    const f = v.findings.find((x) => x.code === 'REVOCATION_UNAVAILABLE')!;
    expect(f.ok).toBe(false);
    expect(f.position).toBe(1);
    expect(f.detail).toMatchObject({
      cause: 'SIGNATURE_INVALID',
      status: 'unknown',
      source: 'crl:model.crl',
    });
  });

  it('a forged CRL that omits a revoked certificate does not hide a revocation in another valid CRL', () => {
    const forger = party('CN=Forger', null);
    const files = {
      ...goodCrls(h),
      'model.crl': crlFor(h.model, [entryFor(h.token)]),
      'model-forged.crl': crlFor(h.model, [], { signer: forger.signer }),
    };
    const policy = revocationPolicy(
      h,
      'revocation: require\ncrls: [model-forged.crl, model.crl, line.crl, root.crl]',
      files,
    );
    expect(verify(policy, bundle(h)).code).toBe('CERT_REVOKED');
  });

  it('accepts a CRL with a bad signature under best-effort with a warning finding', () => {
    const forger = party('CN=Forger', null);
    const files = { ...goodCrls(h), 'model.crl': crlFor(h.model, [], { signer: forger.signer }) };
    const v = verify(revocationPolicy(h, `revocation: best-effort\n${CRL_LINE}`, files), bundle(h));
    expect(v.code).toBe('ACCEPTED');
    const f = v.findings.find((x) => x.code === 'REVOCATION_UNAVAILABLE')!;
    expect(f).toMatchObject({ ok: true, severity: 'warning', position: 1 });
    expect(f.detail).toMatchObject({ cause: 'SIGNATURE_INVALID' });
  });

  it('rejects a stale CRL (past nextUpdate) under require, citing CRL_INVALID', () => {
    const files = {
      ...goodCrls(h),
      'line.crl': crlFor(h.line, [], { thisUpdate: NOW - 10 * DAY, nextUpdate: NOW - DAY }),
    };
    const v = verify(revocationPolicy(h, `revocation: require\n${CRL_LINE}`, files), bundle(h));
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    const f = v.findings.find((x) => x.code === 'REVOCATION_UNAVAILABLE')!;
    expect(f.position).toBe(2);
    expect(f.detail).toMatchObject({ cause: 'CRL_INVALID' });
  });

  it('rejects under require when a checkable certificate has no CRL at all', () => {
    const { 'root.crl': _omitted, ...files } = goodCrls(h);
    const v = verify(
      revocationPolicy(h, 'revocation: require\ncrls: [model.crl, line.crl]', files),
      bundle(h),
    );
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    expect(v.findings.find((x) => x.code === 'REVOCATION_UNAVAILABLE')?.position).toBe(3);
  });

  it('checks nothing when revocation is off, and says so in an info finding', () => {
    const files = { ...goodCrls(h), 'model.crl': crlFor(h.model, [entryFor(h.token)]) };
    const v = verify(revocationPolicy(h, `revocation: 'off'\n${CRL_LINE}`, files), bundle(h));
    expect(v.code).toBe('ACCEPTED');
    expect(v.findings.find((x) => x.check === 'revocation')).toMatchObject({ ok: true, severity: 'info' });
  });

  it('defaults to best-effort: no data configured is an info finding, not a rejection', () => {
    const v = verify(revocationPolicy(h, ''), bundle(h));
    expect(v.code).toBe('ACCEPTED');
    expect(v.findings.find((x) => x.check === 'revocation')).toMatchObject({ ok: true, severity: 'info' });
  });
});

describe('revocation stage: unreachable data', () => {
  const h = nativeHierarchy();
  const url = 'https://status.example/attestation/status';
  const unreachable: RevocationProvider = {
    sourcesFor: () => [unavailableSource(`android-status:${url}`, 'fetch failed: ECONNREFUSED')],
  };

  it('rejects an unreachable status list under require', () => {
    const policy = revocationPolicy(h, `revocation: require\nstatusList: ${url}`);
    const v = verify(policy, bundle(h), unreachable);
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
    expect(v.findings.find((x) => x.code === 'REVOCATION_UNAVAILABLE')?.detail).toMatchObject({
      source: `android-status:${url}`,
    });
  });

  it('rejects under require when a status list URL was never fetched (no provider)', () => {
    const v = verify(revocationPolicy(h, `revocation: require\nstatusList: ${url}`), bundle(h));
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
  });

  it('accepts an unreachable status list under best-effort with warning findings', () => {
    const v = verify(
      revocationPolicy(h, `revocation: best-effort\nstatusList: ${url}`),
      bundle(h),
      unreachable,
    );
    expect(v.code).toBe('ACCEPTED');
    const warnings = v.findings.filter((x) => x.code === 'REVOCATION_UNAVAILABLE');
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) expect(w).toMatchObject({ ok: true, severity: 'warning' });
  });

  it('a provider source that throws counts as unavailable, not as good', () => {
    const broken: RevocationProvider = {
      sourcesFor: () => [
        {
          name: 'crl:broken',
          check: () => {
            throw new Error('boom');
          },
        },
      ],
    };
    expect(verify(revocationPolicy(h, 'revocation: require'), bundle(h), broken).code).toBe(
      'REVOCATION_UNAVAILABLE',
    );
  });
});

describe('revocation stage: status list file', () => {
  const h = nativeHierarchy();
  const listed = (serial: string, status = 'REVOKED') =>
    JSON.stringify({ entries: { [serial]: { status, reason: 'KEY_COMPROMISE' } } });

  it('rejects when the list names the token attestation certificate (SUSPENDED like REVOKED)', () => {
    const serial = h.token.cert.serialHex.toUpperCase();
    const policy = revocationPolicy(h, 'revocation: require\nstatusList: status.json', {
      'status.json': listed(`000${serial}`, 'SUSPENDED'),
    });
    const v = verify(policy, bundle(h));
    expect(v.code).toBe('CERT_REVOKED');
    const f = v.findings.find((x) => x.code === 'CERT_REVOKED')!;
    expect(f.position).toBe(1);
    expect(f.detail).toMatchObject({ status: 'suspended', source: 'android-status:status.json' });
  });

  it('checks every certificate: a listed intermediate rejects too', () => {
    const policy = revocationPolicy(h, 'revocation: require\nstatusList: status.json', {
      'status.json': listed(h.line.cert.serialHex),
    });
    expect(verify(policy, bundle(h)).code).toBe('CERT_REVOKED');
  });

  it('accepts under require when no serial of the path is listed', () => {
    const policy = revocationPolicy(h, 'revocation: require\nstatusList: status.json', {
      'status.json': listed('cc66e9a93713b6e643b26c15879786f7', 'SUSPENDED'),
    });
    expect(verify(policy, bundle(h)).code).toBe('ACCEPTED');
  });

  it('the source reports one status per certificate of the path', () => {
    const source = statusListSource({ entries: new Map() }, 'android-status:x');
    const statuses = source.check([h.token.cert, h.model.cert], { time: NOW });
    expect(statuses.map((s) => s.status)).toEqual(['good', 'good']);
  });
});

describe('policy: trust entry revocation settings', () => {
  const h = nativeHierarchy();

  function policyError(lines: string, files: Record<string, Uint8Array | string> = {}) {
    try {
      revocationPolicy(h, lines, files);
    } catch (err) {
      if (isProvenanceError(err)) return err;
      throw err;
    }
    throw new Error('expected the policy to be refused');
  }

  it('refuses an unknown revocation mode with POLICY_INVALID at its line', () => {
    const err = policyError('revocation: sometimes');
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.details['line']).toBe(5);
  });

  it('refuses a malformed CRL file at load, naming the file and the cause', () => {
    const err = policyError('crls: [bad.crl]', { 'bad.crl': new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]) });
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.details['cause']).toBe('CRL_MALFORMED');
  });

  it('refuses a status list URL that is not https (the list is unsigned)', () => {
    const err = policyError('statusList: http://status.example/status');
    expect(err.code).toBe('POLICY_INVALID');
  });

  it('refuses an invalid status list file with its cause', () => {
    const err = policyError('statusList: status.json', {
      'status.json': '{"entries":{"xyz":{"status":"REVOKED"}}}',
    });
    expect(err.details['cause']).toBe('STATUS_LIST_INVALID');
  });

  it('revocation settings change the digest; a policy without them keeps its digest', () => {
    const plain = revocationPolicy(h, '');
    const required = revocationPolicy(h, 'revocation: require');
    expect(plain.revocation).toBeUndefined();
    expect(required.digest).not.toBe(plain.digest);
  });

  it('a CRL not yet valid at the verification time is unusable', () => {
    const files = {
      ...goodCrls(h),
      'root.crl': crlFor(h.root, [], { thisUpdate: NOW + DAY, nextUpdate: NOW + 8 * DAY }),
    };
    const v = verify(revocationPolicy(h, `revocation: require\n${CRL_LINE}`, files), bundle(h));
    expect(v.code).toBe('REVOCATION_UNAVAILABLE');
  });
});

describe('policy: revocation in summaries and documentation', () => {
  const h = nativeHierarchy();

  it('policy check shows the trust entry revocation settings and notes when they are off', () => {
    const policy = revocationPolicy(h, 'revocation: require\ncrls: [model.crl]', goodCrls(h));
    expect(describePolicy(policy)).toContain('revocation: require (CRLs: model.crl)');
    expect(policySummary(policy).trust[0]?.revocation).toEqual({ mode: 'require', crls: ['model.crl'] });
    const off = revocationPolicy(h, "revocation: 'off'");
    expect(policySummary(off).notes).toContain('revocation checking is off for trust entry "maker"');
    expect(policySummary(revocationPolicy(h, '')).trust[0]).not.toHaveProperty('revocation');
  });

  it('the revocation example in docs/policy.md loads', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/policy.md', import.meta.url)), 'utf8');
    const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((b) => b.includes('statusList:'));
    expect(block).toBeDefined();
    const crl = crlFor(h.root);
    const policy = parsePolicy(block!, {
      source: 'policy.md',
      baseDir: '/docs',
      readFile: (path) =>
        path.endsWith('.crl')
          ? crl
          : new TextEncoder().encode(encodePem('CERTIFICATE', party(`CN=${path}`, null).der)),
    });
    expect(policy.revocation?.map((r) => [r.anchorId, r.mode, r.crls.length, r.statusList?.kind])).toEqual([
      ['gemalto', 'require', 3, undefined],
      ['google-hardware', 'require', 0, 'url'],
    ]);
  });
});
