/**
 * The pre-issuance lint (Let's Encrypt Boulder's habit: lint what is about to be issued, not
 * what was meant). It reads the planned certificate back from its encoded parts, so a bug in
 * planning cannot slip past it, and fails with ISSUANCE_LINT_FAILED, `details.rule` naming
 * the rule (one of LINT_RULES).
 *
 * @example
 * lintIssuance(planIssuance(req), req.ca);   // throws ISSUANCE_LINT_FAILED or returns
 */
import { parseDer } from '../core/der.js';
import { isProvenanceError, ProvenanceError } from '../core/errors.js';
import { OID, PROVENANCE_ARC } from '../core/oids.js';
import {
  KEY_USAGE,
  type KeyUsageName,
  parseBasicConstraints,
  parseExtKeyUsage,
  parseKeyUsage,
  parseName,
} from '../pki/certificate.js';
import { checkKey } from '../pki/keys.js';
import { parseCertificatePolicies } from '../pki/policy-tree.js';
import { findKeyWeaknesses } from '../pki/weak-keys.js';
import type { IssuancePlan } from './issue.js';
import { decodeProvenanceSummary } from './summary.js';
import type { IssuingCa } from './types.js';

/** The rules, in the order they run; `details.rule` of a failure is one of these. */
export const LINT_RULES = [
  'ca-certificate',
  'validity',
  'serial',
  'subject',
  'key',
  'extensions',
  'basic-constraints',
  'key-usage',
  'extended-key-usage',
  'certificate-policies',
  'provenance-summary',
] as const;

/** A lint rule id. */
export type LintRule = (typeof LINT_RULES)[number];

/**
 * Key usages each key type can serve in an end-entity certificate:
 * EC keys sign or agree on keys, never encipher (RFC 5480 §3); EdDSA keys only sign
 * (RFC 8410 §5); RSA keys sign or encipher, never agree (RFC 3279 §2.3.1); RSASSA-PSS keys
 * only sign (RFC 4055 §1.2).
 */
const USAGES_BY_KEY: Readonly<Record<string, readonly KeyUsageName[]>> = {
  ec: ['digitalSignature', 'nonRepudiation', 'keyAgreement'],
  eddsa: ['digitalSignature', 'nonRepudiation'],
  rsa: ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment'],
  'rsa-pss': ['digitalSignature', 'nonRepudiation'],
};

/** Extensions an issued certificate may mark critical (the ones every relying party processes). */
const CRITICAL_ALLOWED = new Set<string>([OID.basicConstraints, OID.keyUsage]);

/**
 * Lint a planned certificate against the CA that will sign it. Throws ISSUANCE_LINT_FAILED
 * with `details.rule` (and `details.cause`, the underlying code, where there is one).
 */
export function lintIssuance(plan: IssuancePlan, ca: IssuingCa): void {
  lintCa(ca);
  lintValidity(plan, ca);
  lintSerial(plan.serial);
  lintStep('subject', () => {
    const name = parseName(plan.subject, parseDer(plan.subject));
    if (name.rdns.length === 0) lintFailed('subject', 'the subject is empty');
  });
  const keyFamily = lintKey(plan, ca);
  const byOid = lintExtensionList(plan);
  lintStep('basic-constraints', () => {
    const bc = byOid.get(OID.basicConstraints);
    if (!bc?.critical) lintFailed('basic-constraints', 'basicConstraints must be present and critical');
    if (parseBasicConstraints(bc.value).ca)
      lintFailed('basic-constraints', 'an issued certificate must not be a CA');
  });
  lintKeyUsage(byOid.get(OID.keyUsage), keyFamily);
  lintStep('extended-key-usage', () => {
    const eku = byOid.get(OID.extKeyUsage);
    // CA/B Forum BRs §7.1.2.7.10 and common sense: an end-entity key gets named purposes only.
    if (eku && parseExtKeyUsage(eku.value).includes(OID.anyExtendedKeyUsage))
      lintFailed('extended-key-usage', 'anyExtendedKeyUsage is not issued');
  });
  lintStep('certificate-policies', () => {
    const cp = byOid.get(OID.certificatePolicies);
    if (!cp) lintFailed('certificate-policies', 'certificatePolicies with the assurance level is missing');
    // parseCertificatePolicies refuses a policy listed twice (RFC 5280 §4.2.1.4).
    const [first] = parseCertificatePolicies(cp.value);
    if (!first?.startsWith(`${PROVENANCE_ARC}.3.`))
      lintFailed('certificate-policies', 'the first policy must be the assurance level');
  });
  lintStep('provenance-summary', () => {
    const summary = byOid.get(OID.provenanceSummary);
    if (!summary) lintFailed('provenance-summary', 'the provenance summary extension is missing');
    decodeProvenanceSummary(summary.value);
  });
}

/** The issuing CA can issue: a CA certificate with keyCertSign and a key identifier, and the key provider holds its key. */
function lintCa(ca: IssuingCa): void {
  const cert = ca.certificate;
  // RFC 5280 §4.2.1.9 / §4.2.1.3: an issuer of certificates asserts cA and keyCertSign.
  if (!cert.basicConstraints?.ca || !cert.allowsKeyUsage('keyCertSign'))
    lintFailed('ca-certificate', 'the issuing certificate is not a CA with keyCertSign');
  // The issued certificate's authorityKeyIdentifier copies it (RFC 5280 §4.2.1.1).
  if (!cert.subjectKeyId) lintFailed('ca-certificate', 'the issuing certificate has no subjectKeyIdentifier');
  if (Buffer.compare(ca.key.spki, cert.spki) !== 0)
    lintFailed('ca-certificate', "the key provider does not hold the issuing certificate's key");
}

/** Validity inside the CA's (RFC 5280 §4.1.2.5), the CA valid now, and the certificate not already expired. */
function lintValidity(plan: IssuancePlan, ca: IssuingCa): void {
  const cert = ca.certificate;
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
  if (!(plan.now >= cert.notBefore && plan.now <= cert.notAfter))
    lintFailed(
      'validity',
      `the issuing CA is not valid at ${iso(plan.now)} (${iso(cert.notBefore)} to ${iso(cert.notAfter)})`,
    );
  if (!(plan.notBefore >= cert.notBefore && plan.notAfter <= cert.notAfter))
    lintFailed('validity', "the validity is not inside the issuing CA's");
  if (!(plan.notBefore <= plan.notAfter && plan.notAfter > plan.now))
    lintFailed('validity', `the validity ${iso(plan.notBefore)} to ${iso(plan.notAfter)} is empty or over`);
}

/** 128 random bits, positive (RFC 5280 §4.1.2.2; CA/B Forum BRs §7.1: at least 64 bits of CSPRNG output). */
function lintSerial(serial: Uint8Array): void {
  // 16 magnitude octets with a non-zero first one: at least 121 significant bits, so a
  // counter or a short or zero serial cannot pass; the sign pad keeps the INTEGER positive.
  if (serial.length !== 16 || serial[0] === 0)
    lintFailed(
      'serial',
      `the serial must be 16 random bytes with a non-zero first byte, not ${serial.length} bytes`,
    );
}

/** The key passes the algorithm policy and the weak-key checks again, and is not the CA's own key. */
function lintKey(plan: IssuancePlan, ca: IssuingCa): keyof typeof USAGES_BY_KEY {
  const description = lintStep('key', () => checkKey(plan.spki));
  const weaknesses = lintStep('key', () => findKeyWeaknesses(plan.spki));
  if (weaknesses.length > 0)
    lintFailed('key', `the key is weak: ${weaknesses[0]!.message}`, {
      weaknesses: weaknesses.map((w) => w.id),
    });
  if (Buffer.compare(plan.spki, ca.certificate.spki) === 0)
    lintFailed('key', "the subject key is the issuing CA's own key");
  const a = description.keyAlgorithm;
  return a === 'rsa' || a === 'rsa-pss' ? a : a === 'ed25519' || a === 'ed448' ? 'eddsa' : 'ec';
}

/** No extension twice (RFC 5280 §4.2), only BC and KU critical: returns them by OID. */
function lintExtensionList(plan: IssuancePlan): Map<string, { critical: boolean; value: Uint8Array }> {
  const byOid = new Map<string, { critical: boolean; value: Uint8Array }>();
  for (const e of plan.extensions) {
    if (byOid.has(e.oid)) lintFailed('extensions', `extension ${e.oid} appears twice`, { oid: e.oid });
    if (e.critical && !CRITICAL_ALLOWED.has(e.oid))
      lintFailed('extensions', `extension ${e.oid} must not be critical`, { oid: e.oid });
    byOid.set(e.oid, e);
  }
  return byOid;
}

/** keyUsage present, critical, end-entity usages only, coherent with the key type. */
function lintKeyUsage(
  ku: { critical: boolean; value: Uint8Array } | undefined,
  family: keyof typeof USAGES_BY_KEY,
): void {
  if (!ku?.critical) lintFailed('key-usage', 'keyUsage must be present and critical');
  const mask = lintStep('key-usage', () => parseKeyUsage(ku.value));
  const allowed = USAGES_BY_KEY[family]!;
  for (const [name, bit] of Object.entries(KEY_USAGE) as [KeyUsageName, number][]) {
    if ((mask & (1 << bit)) === 0) continue;
    if (name === 'keyCertSign' || name === 'cRLSign')
      lintFailed('key-usage', `${name} is for CA certificates only`, { usage: name });
    if (!allowed.includes(name))
      lintFailed(
        'key-usage',
        `${name} does not fit a ${family === 'eddsa' ? 'EdDSA' : family.toUpperCase()} key`,
        {
          usage: name,
          keyType: family,
        },
      );
  }
}

/** `rule` is a LintRule, or a step of issuance: 'encoding', 'parse-back', 'signature'. */
export function lintFailed(rule: string, message: string, details: Record<string, unknown> = {}): never {
  throw new ProvenanceError('ISSUANCE_LINT_FAILED', `pre-issuance lint (${rule}): ${message}`, {
    rule,
    ...details,
  });
}

/** Run `fn`; a ProvenanceError it throws becomes ISSUANCE_LINT_FAILED for `rule` (`details.cause` keeps its code). */
export function lintStep<T>(rule: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isProvenanceError(err) && err.code !== 'ISSUANCE_LINT_FAILED') {
      throw new ProvenanceError(
        'ISSUANCE_LINT_FAILED',
        `pre-issuance lint (${rule}): ${err.message}`,
        { rule, cause: err.code },
        { cause: err },
      );
    }
    throw err;
  }
}
