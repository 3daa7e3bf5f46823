/**
 * Name constraints (RFC 5280 §4.2.1.10), parsed strictly and checked one constraining CA at a
 * time: a name must lie within a permitted subtree of its type (when the CA lists any of that
 * type) and within no excluded subtree. Checking every CA's constraints separately is the
 * same as RFC 5280 §6.1.4 (g)'s running intersection/union, without computing subtrees.
 *
 * ```asn1
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *                                excludedSubtrees  [1] GeneralSubtrees OPTIONAL }
 * GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0,
 *                               maximum [1] BaseDistance OPTIONAL }
 * ```
 *
 * Supported forms: dNSName, rfc822Name, iPAddress, directoryName, uniformResourceIdentifier.
 * A constraint of any other form cannot be evaluated, so a certificate carrying a name of
 * that form is rejected (RFC 5280 §4.2.1.10: "If a name constraints extension that is marked
 * as critical imposes constraints on a particular name form, and an instance of that name
 * form appears in the subject field or subjectAltName extension of a subsequent certificate,
 * then the application MUST either process the constraint or reject the certificate").
 *
 * Wildcard dNSNames ('*.example.com') are read as the set of names they can match: permitted
 * only when every such name is, excluded when any such name is (the defensive reading that
 * CVE-2025-61727 asks for).
 *
 * @example
 * const nc = parseNameConstraints(ext.value);
 * checkNameConstraints(nc, namesOf(leaf, san), new NameMatcher())   // null, or why it fails
 */
import { children, expectTag, parseDer, TAG, type Tlv } from '../core/der.js';
import { fail } from '../core/errors.js';
import { OID } from '../core/oids.js';
import type { Certificate, Name } from './certificate.js';
import {
  type GeneralName,
  type GeneralNameType,
  isIpAddressName,
  isMailbox,
  isPreferredDnsName,
  parseGeneralName,
  uriHost,
} from './general-names.js';
import type { NameMatcher } from './name-match.js';

/** A decoded NameConstraints extension. */
export interface NameConstraints {
  /** Permitted subtree bases, or null when the field is absent. */
  readonly permitted: readonly GeneralName[] | null;
  /** Excluded subtree bases, or null when the field is absent. */
  readonly excluded: readonly GeneralName[] | null;
  /**
   * Name forms with a constraint that cannot be evaluated: a malformed base (outside the
   * strict mode) or a form without matching rules. A name of such a form is rejected.
   */
  readonly unusableForms: readonly GeneralNameType[];
}

/** Upper bound on name × subtree comparisons for one certificate against one CA (the nc-dos cases). */
export const MAX_NAME_CONSTRAINT_WORK = 1 << 16;

/** How strictly parseNameConstraints reads subtree bases. */
export interface ParseNameConstraintsOptions {
  /**
   * Refuse a malformed subtree base with EXTENSION_MALFORMED, and dNSName constraints with a
   * leading period ('.example.com': RFC 5280 §4.2.1.10 defines DNS constraints as host names).
   * Without it a leading period means "subdomains only", and a malformed base makes its name
   * form unusable: any name of that form below the CA is rejected, other names are not
   * affected. (Some Android attestation CAs carry the dNSName constraint
   * "invalid;email:invalid", meant to permit no name at all, above leaves that have no names.)
   */
  readonly strict?: boolean;
}

/** Parse a NameConstraints extnValue. Throws EXTENSION_MALFORMED for forms RFC 5280 forbids. */
export function parseNameConstraints(
  value: Uint8Array,
  options: ParseNameConstraintsOptions = {},
): NameConstraints {
  const seq = expectTag(parseDer(value), TAG.SEQUENCE, 'NameConstraints');
  const parts = children(value, seq, [0, 2]);
  // RFC 5280 §4.2.1.10: "Conforming CAs MUST NOT issue certificates where name constraints is an empty sequence."
  if (parts.length === 0)
    fail('EXTENSION_MALFORMED', 'NameConstraints has neither permitted nor excluded subtrees');
  let permitted: GeneralName[] | null = null;
  let excluded: GeneralName[] | null = null;
  const unusable = new Set<GeneralNameType>();
  let last = -1;
  for (const p of parts) {
    if (p.tagClass !== 2 || !p.constructed || p.tagNumber > 1 || p.tagNumber <= last)
      fail('EXTENSION_MALFORMED', 'NameConstraints: unexpected field');
    last = p.tagNumber;
    const subtrees = parseSubtrees(value, p, options, unusable);
    if (p.tagNumber === 0) permitted = subtrees;
    else excluded = subtrees;
  }
  return { permitted, excluded, unusableForms: [...unusable] };
}

/** Forms with matching rules here; constraints of any other form are unusable. */
const EVALUATED_FORMS: ReadonlySet<GeneralNameType> = new Set([
  'dNSName',
  'rfc822Name',
  'iPAddress',
  'directoryName',
  'uniformResourceIdentifier',
]);

function parseSubtrees(
  buf: Uint8Array,
  field: Tlv,
  options: ParseNameConstraintsOptions,
  unusable: Set<GeneralNameType>,
): GeneralName[] {
  const list = children(buf, field);
  if (list.length === 0) fail('EXTENSION_MALFORMED', 'GeneralSubtrees is empty (SIZE 1..MAX)');
  const out: GeneralName[] = [];
  for (const subtree of list) {
    expectTag(subtree, TAG.SEQUENCE, 'GeneralSubtree');
    const [baseTlv, ...rest] = children(buf, subtree, [1, 3]) as [Tlv, ...Tlv[]];
    // RFC 5280 §4.2.1.10: "the minimum MUST be zero" (so, DEFAULT, never encoded) "and maximum MUST be absent".
    if (rest.length > 0)
      fail('EXTENSION_MALFORMED', 'GeneralSubtree with minimum or maximum is not supported');
    const base = parseGeneralName(buf, baseTlv);
    const problem = constraintSyntaxProblem(base, options);
    if (problem !== null) {
      if (options.strict === true) fail('EXTENSION_MALFORMED', problem);
      unusable.add(base.type);
      continue;
    }
    if (!EVALUATED_FORMS.has(base.type)) unusable.add(base.type);
    out.push(base);
  }
  return out;
}

function constraintSyntaxProblem(base: GeneralName, options: ParseNameConstraintsOptions): string | null {
  switch (base.type) {
    case 'dNSName': {
      // An empty dNSName constraint matches every host name.
      if (base.value === '') return null;
      const host = base.value.startsWith('.') && options.strict !== true ? base.value.slice(1) : base.value;
      return isPreferredDnsName(host) ? null : `invalid dNSName constraint "${base.value}"`;
    }
    case 'rfc822Name': {
      // A mailbox, a host ("all mailboxes on it"), or ".domain" ("any host below it").
      const v = base.value;
      const ok = v.includes('@') ? isMailbox(v) : isPreferredDnsName(v.startsWith('.') ? v.slice(1) : v);
      return ok ? null : `invalid rfc822Name constraint "${v}"`;
    }
    case 'uniformResourceIdentifier': {
      const v = base.value;
      return isPreferredDnsName(v.startsWith('.') ? v.slice(1) : v)
        ? null
        : `invalid URI constraint "${v}" (must be a host or .domain)`;
    }
    case 'iPAddress': {
      // RFC 5280 §4.2.1.10: address then mask, 8 octets for IPv4, 32 for IPv6, mask in CIDR form.
      const b = base.bytes;
      if (b.length !== 8 && b.length !== 32) return 'iPAddress constraint must be 8 or 32 octets';
      return isCidrMask(b.subarray(b.length / 2)) ? null : 'iPAddress constraint mask is not CIDR';
    }
    default:
      return null;
  }
}

function isCidrMask(mask: Uint8Array): boolean {
  let seenZero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && seenZero) return false;
      if (!set) seenZero = true;
    }
  }
  return true;
}

/** The names of one certificate that name constraints apply to. */
export interface ConstrainedNames {
  /** Subject (when not empty) and directoryName SANs. */
  readonly directoryNames: readonly Name[];
  /** Every other SAN, plus emailAddress attributes of the subject as rfc822Name (RFC 5280 §4.2.1.10). */
  readonly altNames: readonly GeneralName[];
}

/** Collect the names of `cert` that name constraints restrict (subject DN and subjectAltName). */
export function constrainedNames(cert: Certificate, san: readonly GeneralName[] | null): ConstrainedNames {
  const directoryNames: Name[] = [];
  const altNames: GeneralName[] = [];
  if (cert.subject.rdns.length > 0) directoryNames.push(cert.subject);
  for (const rdn of cert.subject.rdns) {
    for (const atv of rdn) {
      // "the rfc822Name constraint MUST be applied to the attribute of type emailAddress in the subject"
      if (atv.type === OID.emailAddress) altNames.push({ type: 'rfc822Name', value: atv.value });
    }
  }
  for (const n of san ?? []) {
    if (n.type === 'directoryName') directoryNames.push(n.name);
    else altNames.push(n);
  }
  return { directoryNames, altNames };
}

/**
 * Check `names` against one CA's constraints. Returns null when they hold, else a sentence
 * saying which name breaks which rule. Throws PATH_LIMIT_EXCEEDED when the comparison count
 * would pass MAX_NAME_CONSTRAINT_WORK.
 */
export function checkNameConstraints(
  nc: NameConstraints,
  names: ConstrainedNames,
  matcher: NameMatcher,
): string | null {
  const subtrees = (nc.permitted?.length ?? 0) + (nc.excluded?.length ?? 0);
  const total = names.directoryNames.length + names.altNames.length;
  if (subtrees * total > MAX_NAME_CONSTRAINT_WORK) {
    fail(
      'PATH_LIMIT_EXCEEDED',
      `name constraints: ${total} names against ${subtrees} subtrees is too much work`,
      {
        names: total,
        subtrees,
      },
    );
  }
  for (const dn of names.directoryNames) {
    if (nc.unusableForms.includes('directoryName'))
      return `directoryName "${dn.text}" cannot be checked: the CA's directoryName constraints are malformed`;
    const r = checkOne(nc, 'directoryName', (base) =>
      base.type === 'directoryName' ? withinDirectory(dn, base.name, matcher) : NO,
    );
    if (r) return `directoryName "${dn.text}" ${r}`;
  }
  for (const name of names.altNames) {
    const r = checkAltName(nc, name);
    if (r) return r;
  }
  return null;
}

/** Result of testing one name against one base: [within for permitted, within for excluded]. */
type Within = readonly [permitted: boolean, excluded: boolean];
const NO: Within = [false, false];
const YES: Within = [true, true];

function checkOne(
  nc: NameConstraints,
  type: GeneralNameType,
  within: (base: GeneralName) => Within,
): string | null {
  const permitted = nc.permitted?.filter((b) => b.type === type) ?? [];
  if (permitted.length > 0 && !permitted.some((b) => within(b)[0]))
    return 'is not within any permitted subtree';
  for (const b of nc.excluded ?? [])
    if (b.type === type && within(b)[1]) return 'is within an excluded subtree';
  return null;
}

function checkAltName(nc: NameConstraints, name: GeneralName): string | null {
  if (nc.unusableForms.includes(name.type)) {
    return `${name.type} cannot be checked: the CA's ${name.type} constraints are malformed or of an unsupported form`;
  }
  switch (name.type) {
    case 'dNSName': {
      const v = name.value.toLowerCase();
      if (!hasConstraints(nc, 'dNSName')) return null;
      // RFC 5280 §4.2.1.6: a dNSName must be in the preferred name syntax to be compared at all.
      if (!isPreferredDnsName(v, { wildcard: true })) return `dNSName "${name.value}" is malformed`;
      const r = checkOne(nc, 'dNSName', (b) =>
        b.type === 'dNSName' ? withinDns(v, b.value.toLowerCase()) : NO,
      );
      return r && `dNSName "${name.value}" ${r}`;
    }
    case 'rfc822Name': {
      if (!hasConstraints(nc, 'rfc822Name')) return null;
      if (!isMailbox(name.value)) return `rfc822Name "${name.value}" is malformed`;
      const r = checkOne(nc, 'rfc822Name', (b) =>
        b.type === 'rfc822Name' ? withinEmail(name.value, b.value) : NO,
      );
      return r && `rfc822Name "${name.value}" ${r}`;
    }
    case 'iPAddress': {
      if (!hasConstraints(nc, 'iPAddress')) return null;
      if (!isIpAddressName(name.bytes)) return 'iPAddress of a length other than 4 or 16 octets';
      const r = checkOne(nc, 'iPAddress', (b) =>
        b.type === 'iPAddress' ? withinIp(name.bytes, b.bytes) : NO,
      );
      return r && `iPAddress ${formatIp(name.bytes)} ${r}`;
    }
    case 'uniformResourceIdentifier': {
      if (!hasConstraints(nc, 'uniformResourceIdentifier')) return null;
      const host = uriHost(name.value);
      if (host === null) return `URI "${name.value}" has no host name to check against URI constraints`;
      const r = checkOne(nc, 'uniformResourceIdentifier', (b) =>
        b.type === 'uniformResourceIdentifier' ? withinHost(host, b.value.toLowerCase()) : NO,
      );
      return r && `URI "${name.value}" ${r}`;
    }
    case 'directoryName':
      return null; // handled with the subject
    default:
      // otherName, x400Address, ediPartyName, registeredID: any constraint of these forms is
      // in unusableForms (above); without one the name is not constrained.
      return null;
  }
}

function hasConstraints(nc: NameConstraints, type: GeneralNameType): boolean {
  return (
    (nc.permitted?.some((b) => b.type === type) ?? false) ||
    (nc.excluded?.some((b) => b.type === type) ?? false)
  );
}

function withinDirectory(name: Name, base: Name, matcher: NameMatcher): Within {
  return matcher.hasPrefix(name, base) ? YES : NO;
}

/** `name` equals `base` or is below it, label-wise. */
function dnsWithin(name: string, base: string): boolean {
  if (base === '') return true;
  if (base.startsWith('.')) return name.endsWith(base) && name.length > base.length;
  return name === base || (name.endsWith(base) && name[name.length - base.length - 1] === '.');
}

function withinDns(name: string, base: string): Within {
  if (!name.startsWith('*.')) {
    const w = dnsWithin(name, base);
    return [w, w];
  }
  // '*.rest' stands for every 'x.rest'. All of them are within base iff 'rest' is within it
  // as a parent domain; some of them are iff that holds or base is itself one 'x.rest'.
  const rest = name.slice(2);
  const all = base === '' || dnsWithin(`x.${rest}`, base);
  const suffix = `.${rest}`;
  const some =
    all ||
    (base.endsWith(suffix) &&
      !base.startsWith('.') &&
      !base.slice(0, base.length - suffix.length).includes('.') &&
      base.length > suffix.length);
  return [all, some];
}

function withinEmail(mailbox: string, base: string): Within {
  const at = mailbox.lastIndexOf('@');
  const host = mailbox.slice(at + 1).toLowerCase();
  let w: boolean;
  if (base.includes('@')) {
    // A particular mailbox: the local part is compared exactly, the host without case.
    const bAt = base.lastIndexOf('@');
    w = mailbox.slice(0, at) === base.slice(0, bAt) && host === base.slice(bAt + 1).toLowerCase();
  } else if (base.startsWith('.')) {
    w = host.endsWith(base.toLowerCase()) && host.length > base.length;
  } else {
    w = host === base.toLowerCase();
  }
  return [w, w];
}

function withinHost(host: string, base: string): Within {
  const w = base.startsWith('.') ? host.endsWith(base) && host.length > base.length : host === base;
  return [w, w];
}

function withinIp(addr: Uint8Array, base: Uint8Array): Within {
  if (base.length !== addr.length * 2) return NO;
  for (let i = 0; i < addr.length; i++) {
    const mask = base[addr.length + i]!;
    if ((addr[i]! & mask) !== (base[i]! & mask)) return NO;
  }
  return YES;
}

function formatIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const parts: string[] = [];
  for (let i = 0; i < b.length; i += 2) parts.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return parts.join(':');
}
