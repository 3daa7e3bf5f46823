import { beforeAll, describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import type { TrustAnchor } from '../../src/pki/anchor.js';
import { validatePath } from '../../src/pki/path.js';
import {
  type PolicyCertificate,
  parseCertificatePolicies,
  parseInhibitAnyPolicy,
  parsePolicyConstraints,
  processPolicies,
} from '../../src/pki/policy-tree.js';
import {
  anchor,
  certificatePolicies,
  ecKey,
  issue,
  policyConstraints,
  policyMappings,
  type TestCert,
} from '../helpers/pki.js';

const T = Date.UTC(2025, 5, 1);
const ANY = OID.anyPolicy;
const A = '1.2.3.1';
const B = '1.2.3.2';
const C = '1.2.3.3';

/** A path certificate for processPolicies (anchor side first). */
function pc(fields: Partial<PolicyCertificate> = {}): PolicyCertificate {
  return {
    policies: null,
    mappings: null,
    constraints: null,
    inhibitAnyPolicy: null,
    selfIssued: false,
    ...fields,
  };
}

describe('processPolicies (RFC 5280 §6.1 with the RFC 9618 policy graph)', () => {
  it('succeeds with no policy when no certificate has policies and none is required', () => {
    expect(processPolicies([pc(), pc()])).toEqual({ ok: true, policies: [] });
  });

  it('fails PATH_POLICY when an explicit policy is required and the path has none', () => {
    const r = processPolicies([pc({ policies: [A] }), pc()], { requireExplicitPolicy: true });
    expect(r).toMatchObject({ ok: false, code: 'PATH_POLICY', index: 1 });
  });

  it('returns the policies asserted along the whole path', () => {
    const r = processPolicies([pc({ policies: [A, B] }), pc({ policies: [B, C] })], {
      requireExplicitPolicy: true,
    });
    expect(r).toEqual({ ok: true, policies: [B] });
  });

  it('lets anyPolicy in a CA stand for the policies below it', () => {
    expect(processPolicies([pc({ policies: [ANY] }), pc({ policies: [A] })])).toEqual({
      ok: true,
      policies: [A],
    });
  });

  it('intersects with the user-initial-policy-set', () => {
    const path = [pc({ policies: [A, B] }), pc({ policies: [A, B] })];
    expect(processPolicies(path, { initialPolicySet: [B] })).toEqual({ ok: true, policies: [B] });
    expect(processPolicies(path, { initialPolicySet: [C], requireExplicitPolicy: true })).toMatchObject({
      ok: false,
      code: 'PATH_POLICY',
    });
    expect(
      processPolicies([pc({ policies: [ANY] }), pc({ policies: [ANY] })], { initialPolicySet: [C] }),
    ).toEqual({
      ok: true,
      policies: [C],
    });
  });

  it('follows policy mappings, and the user set is read in the anchor’s domain', () => {
    const path = [
      pc({ policies: [A], mappings: [{ issuerDomainPolicy: A, subjectDomainPolicy: B }] }),
      pc({ policies: [B] }),
    ];
    expect(processPolicies(path, { initialPolicySet: [A], requireExplicitPolicy: true })).toEqual({
      ok: true,
      policies: [B],
    });
    expect(processPolicies(path, { initialPolicySet: [B], requireExplicitPolicy: true })).toMatchObject({
      ok: false,
    });
  });

  it('drops mapped policies when policy mapping is inhibited', () => {
    const path = [
      pc({ policies: [A], mappings: [{ issuerDomainPolicy: A, subjectDomainPolicy: B }] }),
      pc({ policies: [B] }),
    ];
    expect(processPolicies(path, { inhibitPolicyMapping: true, requireExplicitPolicy: true })).toMatchObject({
      ok: false,
      code: 'PATH_POLICY',
    });
  });

  it('refuses a mapping to or from anyPolicy', () => {
    const path = [
      pc({ policies: [A], mappings: [{ issuerDomainPolicy: ANY, subjectDomainPolicy: B }] }),
      pc(),
    ];
    expect(processPolicies(path)).toMatchObject({ ok: false, code: 'PATH_POLICY', index: 0 });
  });

  it('honours inhibitAnyPolicy and requireExplicitPolicy from policyConstraints', () => {
    const anyOnly = [pc({ policies: [ANY] }), pc({ policies: [A] })];
    expect(processPolicies(anyOnly, { inhibitAnyPolicy: true, requireExplicitPolicy: true })).toMatchObject({
      ok: false,
    });
    const viaExtension = [pc({ policies: [ANY], inhibitAnyPolicy: 0 }), pc({ policies: [ANY] })];
    expect(processPolicies(viaExtension, { requireExplicitPolicy: true })).toMatchObject({ ok: false });
    const required = [
      pc({ policies: [A], constraints: { requireExplicitPolicy: 0, inhibitPolicyMapping: null } }),
      pc(),
    ];
    expect(processPolicies(required)).toMatchObject({ ok: false, code: 'PATH_POLICY' });
  });

  it('bounds the graph size (PATH_LIMIT_EXCEEDED)', () => {
    const many = Array.from({ length: 3000 }, (_, i) => `1.2.3.4.${i}`);
    expect(processPolicies([pc({ policies: [ANY] }), pc({ policies: many })])).toMatchObject({
      ok: false,
      code: 'PATH_LIMIT_EXCEEDED',
    });
  });
});

describe('policy extension parsing', () => {
  it('refuses duplicate and empty certificatePolicies', () => {
    expect(parseCertificatePolicies(certificatePolicies([A, B]))).toEqual([A, B]);
    expect(() => parseCertificatePolicies(certificatePolicies([A, A]))).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
    expect(() => parseCertificatePolicies(der.seq())).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
  });

  it('refuses an empty policyConstraints and reads SkipCerts', () => {
    expect(() => parsePolicyConstraints(der.seq())).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
    expect(parsePolicyConstraints(policyConstraints(0, 2))).toEqual({
      requireExplicitPolicy: 0,
      inhibitPolicyMapping: 2,
    });
    expect(parseInhibitAnyPolicy(der.int(1))).toBe(1);
  });
});

describe('certificate policies in validatePath', () => {
  let root: TestCert;
  let rootAnchor: TrustAnchor;
  beforeAll(() => {
    root = issue({ subject: 'Policy Root', key: ecKey(), ca: {} });
    rootAnchor = anchor(root, 'policy-root');
  });

  it('returns the valid policies and enforces a CA’s requireExplicitPolicy', () => {
    const ca = issue({
      subject: 'Policy CA',
      key: ecKey(),
      issuer: root,
      ca: {},
      extensions: [
        { oid: OID.certificatePolicies, value: certificatePolicies([A, B]) },
        { oid: OID.policyConstraints, critical: true, value: policyConstraints(0) },
      ],
    });
    const good = issue({
      subject: 'Good',
      key: ecKey(),
      issuer: ca,
      extensions: [{ oid: OID.certificatePolicies, value: certificatePolicies([B]) }],
    });
    const opts = { anchors: [rootAnchor], intermediates: [ca.cert], time: T };
    expect(validatePath(good.cert, opts).policies).toEqual([B]);
    const none = issue({ subject: 'None', key: ecKey(), issuer: ca });
    expect(() => validatePath(none.cert, opts)).toThrow(expect.objectContaining({ code: 'PATH_POLICY' }));
  });

  it('maps policies across a CA with policyMappings', () => {
    const ca = issue({
      subject: 'Mapping CA',
      key: ecKey(),
      issuer: root,
      ca: {},
      extensions: [
        { oid: OID.certificatePolicies, value: certificatePolicies([A]) },
        { oid: OID.policyMappings, critical: true, value: policyMappings([[A, C]]) },
      ],
    });
    const leaf = issue({
      subject: 'Mapped',
      key: ecKey(),
      issuer: ca,
      extensions: [{ oid: OID.certificatePolicies, value: certificatePolicies([C]) }],
    });
    const path = validatePath(leaf.cert, {
      anchors: [rootAnchor],
      intermediates: [ca.cert],
      time: T,
      policy: { initialPolicySet: [A], requireExplicitPolicy: true },
    });
    expect(path.policies).toEqual([C]);
  });

  it('processes critical certificatePolicies instead of refusing them as unknown', () => {
    const leaf = issue({
      subject: 'Critical CP',
      key: ecKey(),
      issuer: root,
      extensions: [{ oid: OID.certificatePolicies, critical: true, value: certificatePolicies([A]) }],
    });
    expect(validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [], time: T }).policies).toEqual([
      A,
    ]);
  });
});
