/**
 * Distinguished-name comparison for path building (RFC 5280 §7.1).
 *
 * RFC 5280 §7.1 asks for the RFC 4518 string preparation when comparing DirectoryString
 * values: transcode to Unicode, case-fold, normalise (NFKC) and treat runs of spaces as one,
 * ignoring leading and trailing space. Byte-identical names (the common case) match without
 * any of that work. Non-string attribute values compare by their exact encoding.
 *
 * Name matching only selects candidate issuers: trust always comes from a signature by the
 * issuer's key, so a looser match can never make an untrusted key trusted.
 *
 * @example
 * const matcher = new NameMatcher();
 * matcher.matches(child.issuer, candidate.subject)   // true for 'CN=Example  CA' vs 'cn=example ca'
 */
import type { AttributeTypeAndValue, Name } from './certificate.js';

/** Universal tags of the DirectoryString choices (RFC 5280 §4.1.2.4): UTF8, Printable, Teletex, Universal, BMP. */
const DIRECTORY_STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x1c, 0x1e]);
/** IA5String: domainComponent and emailAddress, matched case-insensitively (RFC 4519 §2.4, PKCS #9). */
const IA5_TAG = 0x16;

/**
 * Compares names with RFC 5280 §7.1 rules. Keeps a memo of prepared values, so make one per
 * validation (it is not shared state: nothing outlives the object).
 */
export class NameMatcher {
  private readonly prepared = new Map<AttributeTypeAndValue, string>();

  /** True when `a` and `b` are the same distinguished name under RFC 5280 §7.1. */
  matches(a: Name, b: Name): boolean {
    if (sameBytes(a.der, b.der)) return true;
    if (a.rdns.length !== b.rdns.length) return false;
    for (let i = 0; i < a.rdns.length; i++) {
      if (!this.rdnMatches(a.rdns[i]!, b.rdns[i]!)) return false;
    }
    return true;
  }

  /**
   * True when the first RDNs of `name` match all the RDNs of `prefix`: the directoryName
   * subtree test of RFC 5280 §4.2.1.10 ("within the subtree").
   */
  hasPrefix(name: Name, prefix: Name): boolean {
    if (prefix.rdns.length > name.rdns.length) return false;
    for (let i = 0; i < prefix.rdns.length; i++) {
      if (!this.rdnMatches(name.rdns[i]!, prefix.rdns[i]!)) return false;
    }
    return true;
  }

  /** A RelativeDistinguishedName is a SET: every member must match a distinct member of the other. */
  private rdnMatches(a: readonly AttributeTypeAndValue[], b: readonly AttributeTypeAndValue[]): boolean {
    if (a.length !== b.length) return false;
    if (a.length === 1) return this.atvMatches(a[0]!, b[0]!);
    const used = new Array<boolean>(b.length).fill(false);
    outer: for (const x of a) {
      for (let j = 0; j < b.length; j++) {
        if (!used[j] && this.atvMatches(x, b[j]!)) {
          used[j] = true;
          continue outer;
        }
      }
      return false;
    }
    return true;
  }

  private atvMatches(x: AttributeTypeAndValue, y: AttributeTypeAndValue): boolean {
    if (x.type !== y.type) return false;
    if (x.valueTag === y.valueTag && x.value === y.value) return true;
    const xs = DIRECTORY_STRING_TAGS.has(x.valueTag);
    const ys = DIRECTORY_STRING_TAGS.has(y.valueTag);
    if (xs && ys) return this.prep(x) === this.prep(y);
    if (x.valueTag === IA5_TAG && y.valueTag === IA5_TAG) return this.prep(x) === this.prep(y);
    return false;
  }

  private prep(atv: AttributeTypeAndValue): string {
    let p = this.prepared.get(atv);
    if (p === undefined) {
      p = prepareString(atv.value);
      this.prepared.set(atv, p);
    }
    return p;
  }
}

const SIMPLE_ASCII = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/**
 * RFC 4518 §2 in the subset that matters for certificate names: case folding, NFKC, and
 * insignificant-space handling (runs of white space become one space; ends are trimmed).
 * Non-string values ('#…' hex, RFC 4514 §2.4) never reach this function.
 */
export function prepareString(value: string): string {
  // Printable ASCII words separated by single spaces (nearly every real name): NFKC is the
  // identity and there is no space to fold, so lower-casing is the whole preparation.
  if (SIMPLE_ASCII.test(value)) return value.toLowerCase();
  return value
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[\u00ad\u200b\u2060\ufeff]/g, '') // RFC 4518 §2.2: mapped to nothing
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when the Name has no RDNs (an empty SEQUENCE). */
export function isEmptyName(name: Name): boolean {
  return name.rdns.length === 0;
}

/** Byte equality without allocation (not constant time: names and keys are public). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
