/**
 * The pre-issuance lint: every rule refuses its case with ISSUANCE_LINT_FAILED and names
 * itself in `details.rule`; nothing is returned for a refused certificate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedCa } from '../../src/ca/directory.js';
import { END_ENTITY_BASIC_CONSTRAINTS } from '../../src/ca/extensions.js';
import { type IssuancePlan, issueCertificate, planIssuance, signPlan } from '../../src/ca/issue.js';
import { FileKeyProvider } from '../../src/ca/key-provider.js';
import { LINT_RULES, lintIssuance } from '../../src/ca/lint.js';
import type { IssuingCa, KeyProvider } from '../../src/ca/types.js';
import { der } from '../../src/core/der-writer.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { OID, PROVENANCE_ARC } from '../../src/core/oids.js';
import { encodeKeyUsage } from '../../src/pki/builder.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { signerFromKeyObject } from '../../src/pki/signer.js';
import { DAY, leafKey, makeCa, profile, provenance, request, tempDirs } from './fixtures.js';

const dirs = tempDirs();
let ca: OpenedCa;
const seen = new Set<string>();

beforeAll(async () => {
  ca = await makeCa(await dirs.make());
});
afterAll(async () => {
  await dirs.cleanup();
});

/** Run `fn`, expect ISSUANCE_LINT_FAILED for `rule` (and the underlying `cause` code when given). */
function expectLint(fn: () => unknown, rule: string, cause?: string): void {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(isProvenanceError(error, 'ISSUANCE_LINT_FAILED'), String(error)).toBe(true);
  const details = (error as { details: Record<string, unknown> }).details;
  expect(details['rule']).toBe(rule);
  if (cause !== undefined) expect(details['cause']).toBe(cause);
  seen.add(rule);
}

/** The plan for a default request, with `change` applied to its extension list. */
function planWith(change: (exts: IssuancePlan['extensions']) => IssuancePlan['extensions']): IssuancePlan {
  const plan = planIssuance(request(ca));
  return { ...plan, extensions: change(plan.extensions) };
}

function replaceExtension(oid: string, critical: boolean, value: Uint8Array) {
  return (exts: IssuancePlan['extensions']) =>
    exts.map((e) => (e.oid === oid ? { oid, critical, value } : e));
}

/** An RSA SubjectPublicKeyInfo for a modulus and exponent (no private key needed). */
function rsaSpki(n: bigint, e = 65537n): Uint8Array {
  const rsaPublicKey = der.seq(der.int(n), der.int(e));
  return der.seq(der.seq(der.oid(OID.rsaEncryption), der.null()), der.bitString(rsaPublicKey));
}

describe('pre-issuance lint', () => {
  it('passes a plan made from a sound request', () => {
    expect(() => lintIssuance(planIssuance(request(ca)), ca)).not.toThrow();
  });

  it('ca-certificate: refuses an issuing certificate that is not a CA', () => {
    const leaf = parseCertificate(issueCertificate(request(ca)).der);
    const notCa: IssuingCa = { certificate: leaf, chain: [leaf, ...ca.chain], key: ca.key };
    expectLint(() => issueCertificate(request(ca, { ca: notCa })), 'ca-certificate');
  });

  it('ca-certificate: refuses a key provider that does not hold the CA key', () => {
    const other = FileKeyProvider.fromKeyObject(leafKey().privateKey, 'other.pem');
    expectLint(() => issueCertificate(request(ca, { ca: { ...ca, key: other } })), 'ca-certificate');
  });

  it('validity: refuses to issue from a CA that is expired or not yet valid', () => {
    expectLint(() => issueCertificate(request(ca, { now: ca.certificate.notAfter + DAY })), 'validity');
    expectLint(() => issueCertificate(request(ca, { now: ca.certificate.notBefore - DAY })), 'validity');
  });

  it("validity: refuses a validity that reaches outside the CA's", () => {
    const plan = planIssuance(request(ca));
    expectLint(() => lintIssuance({ ...plan, notAfter: ca.certificate.notAfter + 1000 }, ca), 'validity');
    expectLint(() => lintIssuance({ ...plan, notBefore: ca.certificate.notBefore - 1000 }, ca), 'validity');
    expectLint(() => lintIssuance({ ...plan, notBefore: plan.notAfter + 1000 }, ca), 'validity');
  });

  it('serial: refuses short, zero-led and long serials', () => {
    const bad = [
      new Uint8Array(8).fill(7),
      Uint8Array.of(0, ...new Uint8Array(15).fill(7)),
      new Uint8Array(20).fill(7),
    ];
    for (const serial of bad) expectLint(() => issueCertificate(request(ca, { serial })), 'serial');
  });

  it('subject: refuses an empty subject, a template without {subject}, and text that is no name', () => {
    expectLint(() => issueCertificate(request(ca, { subject: ' ' })), 'subject', 'USAGE');
    expectLint(
      () => issueCertificate(request(ca, { profile: profile({ subjectTemplate: 'CN=Fixed' }) })),
      'subject',
      'USAGE',
    );
    expectLint(() => issueCertificate(request(ca, { subject: 'Alice without a type' })), 'subject', 'USAGE');
    expectLint(() => lintIssuance({ ...planIssuance(request(ca)), subject: der.seq() }, ca), 'subject');
  });

  it('key: refuses a key the algorithm policy forbids', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsa1024 = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    expectLint(() => issueCertificate(request(ca, { spki: rsa1024 })), 'key', 'KEY_TOO_WEAK');
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
    const secp256k1 = new Uint8Array(k1.export({ type: 'spki', format: 'der' }));
    expectLint(() => issueCertificate(request(ca, { spki: secp256k1 })), 'key', 'ALGORITHM_NOT_ALLOWED');
  });

  it('key: refuses a 2048-bit RSA key with a small factor (the weak-key checks run again)', () => {
    // n = 3 × an odd 2047-bit number: passes the size policy, fails the small-factor check.
    const n = 3n * ((1n << 2046n) + 12345n * 2n + 1n);
    let error: unknown;
    try {
      issueCertificate(request(ca, { spki: rsaSpki(n) }));
    } catch (err) {
      error = err;
    }
    expect(isProvenanceError(error, 'ISSUANCE_LINT_FAILED')).toBe(true);
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({
      rule: 'key',
      weaknesses: ['rsa-small-factor'],
    });
  });

  it("key: refuses to certify the issuing CA's own key", () => {
    expectLint(() => issueCertificate(request(ca, { spki: ca.certificate.spki })), 'key');
  });

  it('extensions: refuses an extension listed twice, and a non-critical one marked critical', () => {
    expectLint(
      () =>
        lintIssuance(
          planWith((exts) => [...exts, exts.find((e) => e.oid === OID.subjectKeyIdentifier)!]),
          ca,
        ),
      'extensions',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith((exts) => exts.map((e) => ({ ...e, critical: true }))),
          ca,
        ),
      'extensions',
    );
  });

  it('basic-constraints: refuses a CA flag, a non-critical one and a missing one', () => {
    expectLint(
      () => lintIssuance(planWith(replaceExtension(OID.basicConstraints, true, der.seq(der.bool(true)))), ca),
      'basic-constraints',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith(replaceExtension(OID.basicConstraints, false, END_ENTITY_BASIC_CONSTRAINTS)),
          ca,
        ),
      'basic-constraints',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith((exts) => exts.filter((e) => e.oid !== OID.basicConstraints)),
          ca,
        ),
      'basic-constraints',
    );
  });

  it('key-usage: refuses usages that do not fit the key type', () => {
    expectLint(
      () =>
        issueCertificate(
          request(ca, { profile: profile({ keyUsage: ['digitalSignature', 'keyEncipherment'] }) }),
        ),
      'key-usage',
    );
    expectLint(
      () =>
        issueCertificate(
          request(ca, { spki: leafKey('ed25519').spki, profile: profile({ keyUsage: ['keyAgreement'] }) }),
        ),
      'key-usage',
    );
    expectLint(
      () =>
        issueCertificate(
          request(ca, { spki: leafKey('rsa2048').spki, profile: profile({ keyUsage: ['keyAgreement'] }) }),
        ),
      'key-usage',
    );
  });

  it('key-usage: refuses CA usages, a non-critical keyUsage and a missing one', () => {
    expectLint(
      () =>
        lintIssuance(
          planWith(replaceExtension(OID.keyUsage, true, encodeKeyUsage(['digitalSignature', 'keyCertSign']))),
          ca,
        ),
      'key-usage',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith(replaceExtension(OID.keyUsage, false, encodeKeyUsage(['digitalSignature']))),
          ca,
        ),
      'key-usage',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith((exts) => exts.filter((e) => e.oid !== OID.keyUsage)),
          ca,
        ),
      'key-usage',
    );
  });

  it('extended-key-usage: refuses anyExtendedKeyUsage', () => {
    expectLint(
      () =>
        issueCertificate(request(ca, { profile: profile({ extendedKeyUsage: [OID.anyExtendedKeyUsage] }) })),
      'extended-key-usage',
    );
  });

  it('certificate-policies: refuses a policy twice, a missing one, and a first policy that is not the level', () => {
    expectLint(
      () =>
        issueCertificate(
          request(ca, { profile: profile({ certificatePolicies: [`${PROVENANCE_ARC}.3.2`] }) }),
        ),
      'certificate-policies',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith((exts) => exts.filter((e) => e.oid !== OID.certificatePolicies)),
          ca,
        ),
      'certificate-policies',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith(
            replaceExtension(
              OID.certificatePolicies,
              false,
              der.seq(der.seq(der.oid('1.3.6.1.4.1.99999.1'))),
            ),
          ),
          ca,
        ),
      'certificate-policies',
    );
  });

  it('provenance-summary: refuses hashes that are not SHA-256 hex, and a missing summary', () => {
    expectLint(
      () => issueCertificate(request(ca, { provenance: provenance({ anchorSpkiSha256: 'not-a-hash' }) })),
      'provenance-summary',
      'USAGE',
    );
    expectLint(
      () => issueCertificate(request(ca, { provenance: provenance({ policyDigest: 'CD'.repeat(32) }) })),
      'provenance-summary',
    );
    expectLint(
      () =>
        lintIssuance(
          planWith((exts) => exts.filter((e) => e.oid !== OID.provenanceSummary)),
          ca,
        ),
      'provenance-summary',
    );
  });

  it('signature: never returns a certificate that does not verify under the CA certificate key', () => {
    const wrong = signerFromKeyObject(leafKey().privateKey);
    const impostor: KeyProvider = {
      kind: 'test',
      spki: ca.key.spki,
      algorithm: ca.key.algorithm,
      sign: (d) => wrong.sign(d),
    };
    expectLint(() => issueCertificate(request(ca, { ca: { ...ca, key: impostor } })), 'signature');
    expectLint(() => signPlan(planIssuance(request(ca)), { ...ca, key: impostor }), 'signature');
  });

  it('covers every rule in LINT_RULES', () => {
    expect([...LINT_RULES].filter((r) => !seen.has(r))).toEqual([]);
  });
});
