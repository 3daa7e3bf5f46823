/**
 * Encoders for the extensions of issued certificates that the generic builder does not write:
 * certificatePolicies without qualifiers, a CRL distribution point by URI, and the end-entity
 * basicConstraints. Each returns the extnValue content (a DER element).
 *
 * @example
 * const policies = encodeCertificatePolicies([assurancePolicyOid(2)]);
 * const crlDp = encodeCrlDistributionPoint('https://pki.example.com/api/v1/crl');
 */
import { der } from '../core/der-writer.js';
import { fail } from '../core/errors.js';

/**
 * basicConstraints of an end-entity certificate: `SEQUENCE {}`. cA FALSE is the DEFAULT and
 * DER omits it (X.690 §11.5); marked critical by the issuer so that no relying party mistakes
 * the certificate for a CA (RFC 5280 §4.2.1.9 allows either criticality for end entities).
 */
export const END_ENTITY_BASIC_CONSTRAINTS: Uint8Array = der.seq();

/**
 * certificatePolicies (RFC 5280 §4.2.1.4), policy identifiers only:
 * `CertificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation`,
 * `PolicyInformation ::= SEQUENCE { policyIdentifier CertPolicyId, policyQualifiers ... OPTIONAL }`.
 * USAGE for an empty list or a policy listed twice ("MUST NOT appear more than once").
 */
export function encodeCertificatePolicies(oids: readonly string[]): Uint8Array {
  if (oids.length === 0) fail('USAGE', 'certificatePolicies is empty (SIZE 1..MAX)');
  if (new Set(oids).size !== oids.length) fail('USAGE', 'certificatePolicies lists a policy twice');
  return der.seq(...oids.map((oid) => der.seq(der.oid(oid))));
}

/**
 * cRLDistributionPoints (RFC 5280 §4.2.1.13) with one DistributionPoint whose fullName is one
 * uniformResourceIdentifier:
 * ```asn1
 * CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
 * DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, ... }
 * DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
 * GeneralName ::= CHOICE { ..., uniformResourceIdentifier [6] IA5String, ... }
 * ```
 * The [0] around a CHOICE is explicit (X.680 §31.2.7), so both [0] tags are constructed.
 * USAGE unless the URL is http(s) and IA5 (RFC 5280 §4.2.1.13: "http" or "ldap" URIs; we
 * serve the CRL over HTTP, RFC 5280 §4.2.1.13 and RFC 2585 §4).
 */
export function encodeCrlDistributionPoint(url: string): Uint8Array {
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url) || url.length > 2048)
    fail('USAGE', `CRL distribution point "${url}" must be an http:// or https:// URL in ASCII`);
  const uri = der.implicitPrimitive(6, new TextEncoder().encode(url));
  const fullName = der.implicitConstructed(0, der.seq(uri));
  return der.seq(der.seq(der.explicit(0, fullName)));
}
