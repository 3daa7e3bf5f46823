/**
 * The 'strict' path profile: the RFC 5280 §4 rules that a *conforming CA* MUST follow when it
 * issues a certificate, checked on every certificate of a path. RFC 5280 §6 path validation
 * does not require them, and real attestation hardware breaks several (YubiKey device
 * certificates carry no key identifiers, Yubico roots mark basicConstraints non-critical, TPM
 * AIK certificates have empty subjects), so the default profile leaves them out. Chains that
 * Provenance issues itself, and the x509-limbo conformance run, use this profile.
 *
 * @example
 * for (const v of strictProfileViolations(cert, 'issuer', decoded, false)) console.log(v.message);
 */
import { children, expectTag, parseDer, readOid, TAG, type Tlv } from '../core/der.js';
import { type ErrorCode, isProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { type Certificate, KEY_USAGE } from './certificate.js';
import {
  type GeneralName,
  isIpAddressName,
  isMailbox,
  isPreferredDnsName,
  parseGeneralName,
} from './general-names.js';

/** The role a certificate plays in the path being checked. */
export type PathRole = 'leaf' | 'issuer' | 'anchor';

/** One broken profile rule, with the error code it maps to. */
export interface ProfileViolation {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Decoded extensions the profile looks at. */
export interface ProfileExtensions {
  readonly subjectAltName: readonly GeneralName[] | null;
}

/** RFC 5280 §4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than 20 octets." */
const MAX_SERIAL_OCTETS = 20;

/**
 * Every RFC 5280 §4 MUST that `cert` breaks for its role. A trust anchor's certificate, and a
 * self-issued certificate, need no authorityKeyIdentifier (§4.2.1.1).
 */
export function strictProfileViolations(
  cert: Certificate,
  role: PathRole,
  ext: ProfileExtensions,
  selfIssued: boolean,
): ProfileViolation[] {
  const out: ProfileViolation[] = [];
  const add = (code: ErrorCode, message: string) => out.push({ code, message });

  // §4.1.2.2: positive, at most 20 octets. Not asked of a configured anchor: some long-lived
  // roots (Starfield Root G2) have serial number zero, and nothing chains on an anchor's serial.
  if (role !== 'anchor') {
    const serial = rawSerial(cert);
    if (serial.length > MAX_SERIAL_OCTETS)
      add('CERT_MALFORMED', `serial number of ${serial.length} octets (RFC 5280 §4.1.2.2: at most 20)`);
    if (serial[0]! & 0x80) add('CERT_MALFORMED', 'negative serial number (RFC 5280 §4.1.2.2)');
    else if (serial.every((b) => b === 0))
      add('CERT_MALFORMED', 'serial number zero (RFC 5280 §4.1.2.2: positive)');
  }

  // §4.1.2.4: "The issuer field MUST contain a non-empty distinguished name (DN)."
  if (cert.issuer.rdns.length === 0) add('PATH_INVALID', 'empty issuer name (RFC 5280 §4.1.2.4)');

  // §4.2.2.1: AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription.
  const aia = cert.extension(OID.authorityInfoAccess);
  if (aia !== undefined && !isAccessDescriptions(aia.value))
    add(
      'EXTENSION_MALFORMED',
      'authorityInfoAccess is not a non-empty list of AccessDescriptions (RFC 5280 §4.2.2.1)',
    );

  // §4.2.1.1: keyIdentifier in every certificate but a self-signed one; never critical.
  const aki = cert.extension(OID.authorityKeyIdentifier);
  if (aki?.critical) add('PATH_INVALID', 'authorityKeyIdentifier marked critical (RFC 5280 §4.2.1.1)');
  // The anchor's own certificate is exempt altogether: it is configured, not chained to. A
  // self-issued certificate anywhere (an untrusted root in the pool, say) may omit it too:
  // §4.2.1.1 allows that for a CA's self-signed certificate.
  const akiExempt = role === 'anchor' || selfIssued;
  if (!akiExempt && cert.authorityKeyId === null)
    add('PATH_INVALID', 'no authorityKeyIdentifier keyIdentifier (RFC 5280 §4.2.1.1)');

  // §4.2.1.2: subjectKeyIdentifier in every CA certificate; never critical.
  const ski = cert.extension(OID.subjectKeyIdentifier);
  if (ski?.critical) add('PATH_INVALID', 'subjectKeyIdentifier marked critical (RFC 5280 §4.2.1.2)');
  const isCa = cert.basicConstraints?.ca === true;
  if ((isCa || role !== 'leaf') && ski === undefined)
    add('PATH_INVALID', 'CA certificate without subjectKeyIdentifier (RFC 5280 §4.2.1.2)');

  // §4.2.1.9: critical basicConstraints in CA certificates; pathLen only with cA and keyCertSign.
  const bc = cert.extension(OID.basicConstraints);
  if (role !== 'leaf' && bc !== undefined && !bc.critical)
    add('PATH_INVALID', 'basicConstraints not marked critical in a CA certificate (RFC 5280 §4.2.1.9)');
  const keyCertSign = cert.keyUsage !== null && (cert.keyUsage & (1 << KEY_USAGE.keyCertSign)) !== 0;
  if (cert.basicConstraints?.pathLen != null && !(isCa && keyCertSign))
    add('PATH_INVALID', 'pathLenConstraint without cA and keyCertSign (RFC 5280 §4.2.1.9)');
  // §4.2.1.3 / §4.2.1.9: "If the keyCertSign bit is asserted, then the cA bit ... MUST also be asserted."
  if (keyCertSign && !isCa)
    add('PATH_INVALID', 'keyCertSign asserted without basicConstraints cA (RFC 5280 §4.2.1.3)');
  // §4.2.1.3: keyUsage MUST be present in certificates whose key verifies certificate signatures.
  if (role !== 'leaf' && cert.keyUsage === null)
    add('PATH_KEY_USAGE', 'CA certificate without keyUsage (RFC 5280 §4.2.1.3)');

  // §4.2.1.10: name constraints only in CA certificates, and critical.
  const nc = cert.extension(OID.nameConstraints);
  if (nc !== undefined) {
    if (!isCa) add('PATH_INVALID', 'nameConstraints in a certificate that is not a CA (RFC 5280 §4.2.1.10)');
    if (!nc.critical) add('PATH_INVALID', 'nameConstraints not marked critical (RFC 5280 §4.2.1.10)');
  }
  // §4.2.1.11 and §4.2.1.14: "Conforming CAs MUST mark this extension as critical."
  if (cert.extension(OID.policyConstraints)?.critical === false)
    add('PATH_INVALID', 'policyConstraints not marked critical (RFC 5280 §4.2.1.11)');
  if (cert.extension(OID.inhibitAnyPolicy)?.critical === false)
    add('PATH_INVALID', 'inhibitAnyPolicy not marked critical (RFC 5280 §4.2.1.14)');

  // §4.1.2.6: a CA's subject is non-empty; an empty subject needs a critical subjectAltName.
  if (cert.subject.rdns.length === 0) {
    const san = cert.extension(OID.subjectAltName);
    if (role !== 'leaf' || isCa)
      add('PATH_INVALID', 'CA certificate with an empty subject (RFC 5280 §4.1.2.6)');
    else if (!san?.critical)
      add('PATH_INVALID', 'empty subject without a critical subjectAltName (RFC 5280 §4.2.1.6)');
  }
  // §4.2.1.6: names in the forms the profile defines.
  for (const n of ext.subjectAltName ?? []) {
    const problem = altNameProblem(n);
    if (problem) add('EXTENSION_MALFORMED', `subjectAltName ${problem} (RFC 5280 §4.2.1.6)`);
  }
  return out;
}

function altNameProblem(n: GeneralName): string | null {
  switch (n.type) {
    case 'dNSName':
      return isPreferredDnsName(n.value, { wildcard: true })
        ? null
        : `dNSName "${n.value}" is not a host name`;
    case 'rfc822Name':
      return isMailbox(n.value) ? null : `rfc822Name "${n.value}" is not a mailbox`;
    case 'iPAddress':
      return isIpAddressName(n.bytes) ? null : `iPAddress of ${n.bytes.length} octets`;
    case 'uniformResourceIdentifier':
      return n.value.length > 0 ? null : 'empty uniformResourceIdentifier';
    default:
      return null;
  }
}

/** The serialNumber INTEGER content octets as encoded (sign included), read from the TBS. */
function rawSerial(cert: Certificate): Uint8Array {
  const tbs = cert.tbs;
  const fields = children(tbs, parseDer(tbs), [6, 10]);
  const t = fields[0]!.tag === 0xa0 ? fields[1]! : fields[0]!;
  return tbs.subarray(t.valueStart, t.end);
}

/** AccessDescription ::= SEQUENCE { accessMethod OBJECT IDENTIFIER, accessLocation GeneralName } */
function isAccessDescriptions(value: Uint8Array): boolean {
  try {
    const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'AuthorityInfoAccessSyntax');
    const list = children(value, seq);
    if (list.length === 0) return false;
    for (const ad of list) {
      expectTag(ad, TAG.SEQUENCE, 'AccessDescription');
      const [method, location] = children(value, ad, 2) as [Tlv, Tlv];
      readOid(value, method, 'accessMethod');
      parseGeneralName(value, location);
    }
    return true;
  } catch (err) {
    if (isProvenanceError(err)) return false;
    throw err;
  }
}
