/**
 * Issuance: turn an accepted enrollment into an end-entity certificate, in three steps that
 * can each be called (and tested) alone:
 *
 * 1. `planIssuance(req)`: everything the certificate will hold, as bytes (subject from the
 *    enrollment code through the profile's template, never from the CSR; 128-bit random
 *    serial; validity now − 5 min … now + validityDays clamped into the CA's; the extensions);
 * 2. `lintIssuance(plan, ca)`: the pre-issuance lint (Boulder's habit): ISSUANCE_LINT_FAILED
 *    naming the rule when anything is off;
 * 3. sign with the CA's key provider (src/pki/builder.ts writes the DER), then parse the
 *    result back and verify it under the CA key before it is returned.
 *
 * Extensions (RFC 5280 §4.2): basicConstraints (critical, `SEQUENCE {}`: cA FALSE omitted),
 * keyUsage (critical), extKeyUsage, subjectKeyIdentifier (RFC 7093 §2 method 1),
 * authorityKeyIdentifier (the CA's subjectKeyIdentifier), certificatePolicies (the assurance
 * level `${PROVENANCE_ARC}.3.N` first, then the profile's), cRLDistributionPoints (when the
 * profile knows the URL) and the non-critical provenance summary (summary.ts).
 *
 * @example
 * const issued = issueCertificate({ ca, profile, subject: code.subject, spki: csr.spki,
 *   provenance: { ruleId: 'gemalto-cards', level: 2, format: 'provenance',
 *                 anchorSpkiSha256, policyDigest: verdict.policyDigest },
 *   now: clock() });
 * issued.serial   // '5f0c…' (32 hex digits)
 */
import { randomBytes } from 'node:crypto';
import { toHex } from '../core/bytes.js';
import { fail } from '../core/errors.js';
import { OID } from '../core/oids.js';
import {
  buildCertificate,
  deriveSubjectKeyId,
  type ExtensionSpec,
  encodeAuthorityKeyId,
  encodeExtKeyUsage,
  encodeKeyUsage,
  encodeSubjectKeyId,
} from '../pki/builder.js';
import { type Certificate, parseCertificate } from '../pki/certificate.js';
import type { KeyCache } from '../pki/keys.js';
import { encodeName } from '../pki/name.js';
import { verifySignature } from '../pki/signature.js';
import {
  END_ENTITY_BASIC_CONSTRAINTS,
  encodeCertificatePolicies,
  encodeCrlDistributionPoint,
} from './extensions.js';
import { lintFailed, lintIssuance, lintStep } from './lint.js';
import { SUBJECT_PLACEHOLDER } from './profiles.js';
import { assurancePolicyOid, encodeProvenanceSummary } from './summary.js';
import type { CertificateProfile, IssuedCertificate, IssueRequest, IssuingCa } from './types.js';

/** Issued certificates start this long before "now", for clients whose clocks run a little slow. */
export const BACKDATE_MS = 5 * 60 * 1000;
/** Serial numbers are this many random bytes (128 bits; CA/B Forum BRs §7.1 ask for ≥ 64). */
export const SERIAL_BYTES = 16;
const DAY_MS = 86_400_000;

/** Everything the certificate will contain, as it will be encoded. */
export interface IssuancePlan {
  /** The issuing CA certificate's subject Name DER (byte for byte: name chaining). */
  readonly issuer: Uint8Array;
  /** Subject Name DER. */
  readonly subject: Uint8Array;
  /** The subject as RFC 4514 text (display). */
  readonly subjectText: string;
  /** SubjectPublicKeyInfo DER (the CSR's, i.e. the attested key). */
  readonly spki: Uint8Array;
  /** Serial magnitude, big-endian, no sign pad. */
  readonly serial: Uint8Array;
  /** Validity, ms since the epoch, whole seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** Every extension, in the order written. */
  readonly extensions: readonly ExtensionSpec[];
  /** Issuance time the plan was made for (lint checks the CA is valid then). */
  readonly now: number;
}

/** Options of `issueCertificate`. */
export interface IssueOptions {
  /** Decoded public keys (the CA's, for the self-check), reused across issuances. Default: `ca.keyCache`. */
  readonly keyCache?: KeyCache;
}

/**
 * 16 random bytes with a non-zero first byte: a positive INTEGER of 16 or 17 content octets
 * (the sign pad), inside RFC 5280 §4.1.2.2's 20.
 */
export function randomSerial(): Uint8Array {
  for (;;) {
    const serial = new Uint8Array(randomBytes(SERIAL_BYTES));
    if (serial[0] !== 0) return serial;
  }
}

/**
 * The subject of an issued certificate: the profile's template with `{subject}` replaced by
 * the enrollment code's subject (RFC 4514 text). Throws USAGE when the result is not a valid
 * name, so the service can refuse such a code when it is created.
 *
 * @example
 * renderSubject({ subjectTemplate: '{subject},O=Example Bank' }, 'CN=Alice')
 *   // { text: 'CN=Alice,O=Example Bank', der: … }
 */
export function renderSubject(
  profile: Pick<CertificateProfile, 'subjectTemplate'>,
  subject: string,
): { text: string; der: Uint8Array } {
  const parts = profile.subjectTemplate.split(SUBJECT_PLACEHOLDER);
  if (parts.length !== 2)
    fail(
      'USAGE',
      `the subject template "${profile.subjectTemplate}" must contain ${SUBJECT_PLACEHOLDER} once`,
    );
  if (typeof subject !== 'string' || subject.trim() === '') fail('USAGE', 'the subject is empty');
  const text = `${parts[0]}${subject}${parts[1]}`;
  return { text, der: encodeName(text) };
}

/**
 * Plan a certificate for `req`. Throws ISSUANCE_LINT_FAILED when the request cannot even be
 * planned (a subject that is not a name, provenance fields the summary cannot hold).
 */
export function planIssuance(req: IssueRequest): IssuancePlan {
  const { ca, profile, provenance } = req;
  const caCert = ca.certificate;
  const subject = lintStep('subject', () => renderSubject(profile, req.subject));
  const notBefore = Math.max(floorSeconds(req.now - BACKDATE_MS), caCert.notBefore);
  // Clamped to the CA's notAfter: a certificate must not outlive its issuer (RFC 5280 §6.1.3 (a)(2)).
  const notAfter = Math.min(floorSeconds(req.now + profile.validityDays * DAY_MS), caCert.notAfter);

  const extensions: ExtensionSpec[] = [
    { oid: OID.basicConstraints, critical: true, value: END_ENTITY_BASIC_CONSTRAINTS },
    // RFC 5280 §4.2.1.3: "conforming CAs SHOULD mark this extension as critical".
    {
      oid: OID.keyUsage,
      critical: true,
      value: lintStep('key-usage', () => encodeKeyUsage(profile.keyUsage)),
    },
  ];
  if (profile.extendedKeyUsage.length > 0) {
    extensions.push({
      oid: OID.extKeyUsage,
      critical: false,
      value: lintStep('extended-key-usage', () => encodeExtKeyUsage(profile.extendedKeyUsage)),
    });
  }
  extensions.push(
    // RFC 5280 §4.2.1.2: end-entity certificates SHOULD carry a subjectKeyIdentifier.
    {
      oid: OID.subjectKeyIdentifier,
      critical: false,
      value: encodeSubjectKeyId(lintStep('key', () => deriveSubjectKeyId(req.spki))),
    },
    // RFC 5280 §4.2.1.1: MUST be present in certificates that are not self-signed; non-critical.
    {
      oid: OID.authorityKeyIdentifier,
      critical: false,
      value: lintStep('ca-certificate', () => {
        if (!caCert.subjectKeyId) fail('USAGE', 'the CA certificate has no subjectKeyIdentifier');
        return encodeAuthorityKeyId(caCert.subjectKeyId);
      }),
    },
    {
      oid: OID.certificatePolicies,
      critical: false,
      value: lintStep('certificate-policies', () =>
        encodeCertificatePolicies([
          assurancePolicyOid(provenance.level ?? 1),
          ...profile.certificatePolicies,
        ]),
      ),
    },
  );
  if (profile.crlUrl !== undefined) {
    extensions.push({
      oid: OID.crlDistributionPoints,
      critical: false,
      value: lintStep('crl-url', () => encodeCrlDistributionPoint(profile.crlUrl!)),
    });
  }
  const deviceSerial = profile.includeDeviceSerial ? provenance.deviceSerial : undefined;
  extensions.push({
    oid: OID.provenanceSummary,
    critical: false,
    value: lintStep('provenance-summary', () =>
      encodeProvenanceSummary({
        ruleId: provenance.ruleId,
        format: provenance.format,
        anchorSpkiSha256: provenance.anchorSpkiSha256,
        policyDigest: provenance.policyDigest,
        ...(deviceSerial === undefined ? {} : { deviceSerial }),
      }),
    ),
  });

  return {
    issuer: caCert.subject.der,
    subject: subject.der,
    subjectText: subject.text,
    spki: req.spki,
    serial: req.serial ?? randomSerial(),
    notBefore,
    notAfter,
    extensions,
    now: req.now,
  };
}

/**
 * Issue a certificate: plan, lint, sign, then check the result parses back (strictly) and
 * verifies under the CA key. Throws ISSUANCE_LINT_FAILED (`details.rule` names the check) and
 * never returns a certificate that failed a check.
 *
 * @example
 * const { der, serial, notAfter } = issueCertificate({ ca, profile, subject, spki, provenance, now });
 */
export function issueCertificate(req: IssueRequest, options: IssueOptions = {}): IssuedCertificate {
  const plan = planIssuance(req);
  lintIssuance(plan, req.ca);
  return signPlan(plan, req.ca, options);
}

/** Sign a linted plan and self-check the result (exported for tests of the self-check). */
export function signPlan(plan: IssuancePlan, ca: IssuingCa, options: IssueOptions = {}): IssuedCertificate {
  const der = lintStep('encoding', () =>
    buildCertificate({
      issuer: { name: plan.issuer, signer: ca.key },
      subject: plan.subject,
      spki: plan.spki,
      serial: plan.serial,
      notBefore: plan.notBefore,
      notAfter: plan.notAfter,
      // Everything is in `extensions`, in the plan's order: the builder adds nothing of its own.
      subjectKeyId: false,
      authorityKeyId: false,
      extensions: plan.extensions,
    }),
  );
  const cert = checkIssued(der, plan, ca, options);
  return {
    der,
    serial: toHex(cert.serial),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    subject: cert.subject.text,
  };
}

/** The certificate parses back with the strict parser, says what the plan said, and verifies under the CA key. */
function checkIssued(der: Uint8Array, plan: IssuancePlan, ca: IssuingCa, options: IssueOptions): Certificate {
  const cert = lintStep('parse-back', () => parseCertificate(der));
  const cache = options.keyCache ?? ca.keyCache;
  if (
    Buffer.compare(cert.spki, plan.spki) !== 0 ||
    Buffer.compare(cert.serial, stripZeros(plan.serial)) !== 0 ||
    Buffer.compare(cert.subject.der, plan.subject) !== 0 ||
    Buffer.compare(cert.issuer.der, ca.certificate.subject.der) !== 0
  ) {
    lintFailed('parse-back', 'the signed certificate does not hold what was planned');
  }
  const ok = lintStep('signature', () =>
    verifySignature(
      cert.signatureAlgorithm,
      cert.tbs,
      cert.signature,
      ca.certificate.spki,
      cache ? { cache } : {},
    ),
  );
  if (!ok) lintFailed('signature', 'the signed certificate does not verify under the CA certificate key');
  return cert;
}

function floorSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function stripZeros(serial: Uint8Array): Uint8Array {
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return serial.subarray(i);
}
