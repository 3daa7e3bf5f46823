import { beforeAll, describe, expect, it } from 'vitest';
import { parseDer } from '../../src/core/der.js';
import { der, tlv } from '../../src/core/der-writer.js';
import { ProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import type { TrustAnchor } from '../../src/pki/anchor.js';
import { parseName } from '../../src/pki/certificate.js';
import { isMailbox, isPreferredDnsName, parseGeneralNames, uriHost } from '../../src/pki/general-names.js';
import { parseNameConstraints } from '../../src/pki/name-constraints.js';
import { NameMatcher } from '../../src/pki/name-match.js';
import { type PathValidationOptions, validatePath } from '../../src/pki/path.js';
import {
  anchor,
  cn,
  dnsName,
  ecKey,
  emailName,
  ipName,
  issue,
  nameConstraints,
  type TestCert,
  type TestKey,
} from '../helpers/pki.js';

const T = Date.UTC(2025, 5, 1);

let rootKey: TestKey;
let root: TestCert;
let rootAnchor: TrustAnchor;

beforeAll(() => {
  rootKey = ecKey();
  root = issue({ subject: 'NC Root', key: rootKey, ca: {} });
  rootAnchor = anchor(root, 'nc-root');
});

/** A CA under the root with the given NameConstraints extnValue, and a leaf under it with `san`. */
function chain(nc: Uint8Array, san: readonly Uint8Array[], leafSubject: string | Uint8Array = 'Leaf') {
  const ca = issue({
    subject: 'Constrained CA',
    key: ecKey(),
    issuer: root,
    ca: {},
    extensions: [{ oid: OID.nameConstraints, critical: true, value: nc }],
  });
  const leaf = issue({
    subject: leafSubject,
    key: ecKey(),
    issuer: ca,
    ...(san.length > 0 ? { subjectAltName: san } : {}),
  });
  return { ca, leaf };
}

function outcome(leaf: TestCert, ca: TestCert, extra: Partial<PathValidationOptions> = {}): string {
  try {
    validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [ca.cert], time: T, ...extra });
    return 'ok';
  } catch (err) {
    if (err instanceof ProvenanceError) return err.code;
    throw err;
  }
}

describe('name constraints in path validation (RFC 5280 §4.2.1.10)', () => {
  it('accepts a dNSName within a permitted subtree, subdomains included', () => {
    const { ca, leaf } = chain(nameConstraints([dnsName('example.com')]), [
      dnsName('a.b.example.com'),
      dnsName('example.com'),
    ]);
    expect(outcome(leaf, ca)).toBe('ok');
  });

  it('rejects a dNSName outside the permitted subtrees, naming the leaf', () => {
    const { ca, leaf } = chain(nameConstraints([dnsName('example.com')]), [dnsName('notexample.com')]);
    try {
      validatePath(leaf.cert, { anchors: [rootAnchor], intermediates: [ca.cert], time: T });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({
        code: 'PATH_NAME_CONSTRAINTS',
        details: { position: 0, constrainedBy: 1 },
      });
    }
  });

  it('rejects a dNSName within an excluded subtree, even when also permitted', () => {
    const { ca, leaf } = chain(nameConstraints([dnsName('example.com')], [dnsName('bad.example.com')]), [
      dnsName('x.bad.example.com'),
    ]);
    expect(outcome(leaf, ca)).toBe('PATH_NAME_CONSTRAINTS');
  });

  it('reads a wildcard dNSName defensively (CVE-2025-61727)', () => {
    // Excluded bar.example.com: '*.example.com' may stand for it, so it is excluded.
    const excluded = chain(nameConstraints([], [dnsName('bar.example.com')]), [dnsName('*.example.com')]);
    expect(outcome(excluded.leaf, excluded.ca)).toBe('PATH_NAME_CONSTRAINTS');
    // Permitted foo.example.com: '*.example.com' also stands for names outside it.
    const narrow = chain(nameConstraints([dnsName('foo.example.com')]), [dnsName('*.example.com')]);
    expect(outcome(narrow.leaf, narrow.ca)).toBe('PATH_NAME_CONSTRAINTS');
    // Permitted example.com: every name '*.example.com' stands for is within it.
    const wide = chain(nameConstraints([dnsName('example.com')]), [dnsName('*.example.com')]);
    expect(outcome(wide.leaf, wide.ca)).toBe('ok');
  });

  it('checks iPAddress names against IPv4 and IPv6 CIDR subtrees', () => {
    const v4 = nameConstraints([ipName([192, 0, 2, 0, 255, 255, 255, 0])]);
    const inside = chain(v4, [ipName([192, 0, 2, 7])]);
    expect(outcome(inside.leaf, inside.ca)).toBe('ok');
    const outside = chain(v4, [ipName([192, 0, 3, 7])]);
    expect(outcome(outside.leaf, outside.ca)).toBe('PATH_NAME_CONSTRAINTS');
    const loopback = [...new Array(15).fill(0), 1];
    const v6 = nameConstraints([], [ipName([...loopback, ...new Array(16).fill(255)])]);
    const excluded = chain(v6, [ipName(loopback)]);
    expect(outcome(excluded.leaf, excluded.ca)).toBe('PATH_NAME_CONSTRAINTS');
  });

  it('checks rfc822Name mailboxes, hosts and .domains, with literal asterisks', () => {
    const cases: [string, string, string][] = [
      ['foo@example.com', 'foo@example.com', 'ok'],
      ['foo@example.com', 'bar@example.com', 'PATH_NAME_CONSTRAINTS'],
      ['example.com', 'anyone@example.com', 'ok'],
      ['example.com', 'anyone@sub.example.com', 'PATH_NAME_CONSTRAINTS'],
      ['.example.com', 'anyone@sub.example.com', 'ok'],
      ['.example.com', 'anyone@example.com', 'PATH_NAME_CONSTRAINTS'],
      ['*@example.com', '*@example.com', 'ok'],
      ['*@example.com', 'user@example.com', 'PATH_NAME_CONSTRAINTS'],
    ];
    for (const [constraint, mailbox, expected] of cases) {
      const { ca, leaf } = chain(nameConstraints([emailName(constraint)]), [emailName(mailbox)]);
      expect(`${constraint} ${mailbox} ${outcome(leaf, ca)}`).toBe(`${constraint} ${mailbox} ${expected}`);
    }
  });

  it('applies rfc822Name constraints to the emailAddress attribute of the subject', () => {
    const subject = der.seq(der.setOf(der.seq(der.oid(OID.emailAddress), der.ia5('someone@elsewhere.org'))));
    const { ca, leaf } = chain(nameConstraints([emailName('example.com')]), [], subject);
    expect(outcome(leaf, ca)).toBe('PATH_NAME_CONSTRAINTS');
  });

  it('checks the subject and directoryName SANs against directoryName subtrees', () => {
    const o = (org: string) => der.seq(der.setOf(der.seq(der.oid(OID.organizationName), der.utf8(org))));
    const inOrg = der.seq(
      der.setOf(der.seq(der.oid(OID.organizationName), der.utf8('Example'))),
      der.setOf(der.seq(der.oid(OID.commonName), der.utf8('Device 1'))),
    );
    const permitted = nameConstraints([der.explicit(4, o('Example'))]);
    const good = chain(permitted, [], inOrg);
    expect(outcome(good.leaf, good.ca)).toBe('ok');
    const bad = chain(permitted, [], 'Outsider');
    expect(outcome(bad.leaf, bad.ca)).toBe('PATH_NAME_CONSTRAINTS');
    const excludedBySan = chain(nameConstraints([], [der.explicit(4, cn('foo'))]), [
      der.explicit(4, cn('foo')),
    ]);
    expect(outcome(excludedBySan.leaf, excludedBySan.ca)).toBe('PATH_NAME_CONSTRAINTS');
  });

  it('ignores constraints of one form for names of another', () => {
    const { ca, leaf } = chain(nameConstraints([ipName([192, 0, 2, 0, 255, 255, 255, 0])]), [
      dnsName('example.com'),
    ]);
    expect(outcome(leaf, ca)).toBe('ok');
  });

  it('exempts self-issued intermediates, never the leaf (RFC 5280 §6.1.3 (b))', () => {
    const caKey = ecKey();
    const ca = issue({
      subject: 'Constrained CA',
      key: caKey,
      issuer: root,
      ca: {},
      extensions: [
        { oid: OID.nameConstraints, critical: true, value: nameConstraints([dnsName('example.com')]) },
      ],
    });
    // A rollover certificate of the CA itself, with a name outside the subtree.
    const rollover = issue({
      subject: 'Constrained CA',
      key: ecKey(),
      issuer: ca,
      ca: {},
      subjectAltName: [dnsName('other.org')],
    });
    const leaf = issue({
      subject: 'Leaf',
      key: ecKey(),
      issuer: rollover,
      subjectAltName: [dnsName('www.example.com')],
    });
    const opts = { anchors: [rootAnchor], intermediates: [ca.cert, rollover.cert], time: T };
    expect(validatePath(leaf.cert, opts).certificates).toHaveLength(4);
    const badLeaf = issue({
      subject: 'Leaf',
      key: ecKey(),
      issuer: rollover,
      subjectAltName: [dnsName('other.org')],
    });
    expect(() => validatePath(badLeaf.cert, opts)).toThrow(
      expect.objectContaining({ code: 'PATH_NAME_CONSTRAINTS' }),
    );
  });

  it('applies the anchor certificate’s own name constraints', () => {
    const ncRoot = issue({
      subject: 'NC Anchor',
      key: ecKey(),
      ca: {},
      extensions: [
        { oid: OID.nameConstraints, critical: true, value: nameConstraints([dnsName('example.com')]) },
      ],
    });
    const leaf = issue({
      subject: 'Leaf',
      key: ecKey(),
      issuer: ncRoot,
      subjectAltName: [dnsName('example.org')],
    });
    expect(() => validatePath(leaf.cert, { anchors: [anchor(ncRoot)], intermediates: [], time: T })).toThrow(
      expect.objectContaining({ code: 'PATH_NAME_CONSTRAINTS' }),
    );
  });

  it('rejects a name of a form it cannot check when the CA constrains that form (otherName)', () => {
    const otherName = (v: string) =>
      der.implicitConstructed(0, der.seq(der.oid('1.3.6.1.4.1.311.20.2.3'), der.explicit(0, der.utf8(v))));
    const withOn = chain(nameConstraints([], [otherName('x')]), [otherName('y')]);
    expect(outcome(withOn.leaf, withOn.ca)).toBe('PATH_NAME_CONSTRAINTS');
    const withoutOn = chain(nameConstraints([], [otherName('x')]), [dnsName('example.com')]);
    expect(outcome(withoutOn.leaf, withoutOn.ca)).toBe('ok');
  });

  it('treats a malformed constraint as unusable by default and as malformed in the strict profile', () => {
    // Seen on Android attestation CAs: a dNSName constraint 'invalid;email:invalid'.
    const bogus = nameConstraints([dnsName('invalid;email:invalid')]);
    const noNames = chain(bogus, []);
    expect(outcome(noNames.leaf, noNames.ca)).toBe('ok');
    expect(outcome(noNames.leaf, noNames.ca, { profile: 'strict' })).toBe('EXTENSION_MALFORMED');
    const withDns = chain(bogus, [dnsName('example.com')]);
    expect(outcome(withDns.leaf, withDns.ca)).toBe('PATH_NAME_CONSTRAINTS');
  });

  it('refuses too much name-constraint work (PATH_LIMIT_EXCEEDED), as against the nc-dos chains', () => {
    const subtrees = Array.from({ length: 300 }, (_, i) => dnsName(`d${i}.example.com`));
    const names = Array.from({ length: 300 }, (_, i) => dnsName(`h${i}.example.org`));
    const { ca, leaf } = chain(nameConstraints(subtrees), names);
    expect(outcome(leaf, ca)).toBe('PATH_LIMIT_EXCEEDED');
  });
});

describe('NameConstraints and GeneralName parsing', () => {
  it('refuses an empty NameConstraints, empty subtrees, and minimum/maximum', () => {
    expect(() => parseNameConstraints(der.seq())).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
    expect(() => parseNameConstraints(der.seq(der.implicitConstructed(0, der.seq())))).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
    const withMax = der.seq(
      der.implicitConstructed(
        0,
        der.seq(der.seq(dnsName('a.com'), der.implicitPrimitive(1, Uint8Array.of(1)))),
      ),
    );
    expect(() => parseNameConstraints(withMax)).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
  });

  it('refuses a non-CIDR iPAddress constraint and a leading-period dNSName constraint in strict mode', () => {
    const notCidr = nameConstraints([ipName([10, 0, 0, 0, 255, 0, 255, 0])]);
    expect(() => parseNameConstraints(notCidr, { strict: true })).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
    expect(parseNameConstraints(notCidr).unusableForms).toEqual(['iPAddress']);
    const leadingDot = nameConstraints([dnsName('.example.com')]);
    expect(parseNameConstraints(leadingDot).unusableForms).toEqual([]);
    expect(() => parseNameConstraints(leadingDot, { strict: true })).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
  });

  it('parses every GeneralName form and refuses non-IA5 and empty lists', () => {
    const names = parseGeneralNames(
      der.seq(
        dnsName('example.com'),
        emailName('a@example.com'),
        ipName([127, 0, 0, 1]),
        der.explicit(4, cn('X')),
      ),
    );
    expect(names.map((n) => n.type)).toEqual(['dNSName', 'rfc822Name', 'iPAddress', 'directoryName']);
    expect(() => parseGeneralNames(der.seq())).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
    expect(() => parseGeneralNames(der.seq(der.implicitPrimitive(2, Uint8Array.of(0xc3, 0xa9))))).toThrow(
      expect.objectContaining({ code: 'EXTENSION_MALFORMED' }),
    );
  });

  it('knows the preferred name syntax, mailboxes and URI hosts', () => {
    expect(isPreferredDnsName('foo-1.example.com')).toBe(true);
    expect(isPreferredDnsName('foo_bar.example.com')).toBe(false);
    expect(isPreferredDnsName('8.8.8.8')).toBe(false);
    expect(isPreferredDnsName('*.example.com')).toBe(false);
    expect(isPreferredDnsName('*.example.com', { wildcard: true })).toBe(true);
    expect(isPreferredDnsName('.example.com')).toBe(false);
    expect(isMailbox('user*@example.com')).toBe(true);
    expect(isMailbox('invalid@address@example.com')).toBe(false);
    expect(uriHost('https://user@Host.Example.com:8443/p?q')).toBe('host.example.com');
    expect(uriHost('urn:uuid:1234')).toBeNull();
  });
});

describe('NameMatcher (RFC 5280 §7.1)', () => {
  const name = (bytes: Uint8Array) => parseName(bytes, parseDer(bytes));
  const atv = (type: string, value: Uint8Array) => der.seq(der.oid(type), value);

  it('matches DirectoryString values across case, spacing and string type', () => {
    const a = name(der.seq(der.setOf(atv(OID.commonName, der.utf8('  Example   Root CA ')))));
    const b = name(der.seq(der.setOf(atv(OID.commonName, der.printable('example root ca')))));
    expect(new NameMatcher().matches(a, b)).toBe(true);
  });

  it('matches multi-valued RDNs whatever the order of their members', () => {
    const a = name(
      der.seq(tlv(0x31, atv(OID.commonName, der.utf8('A')), atv(OID.organizationName, der.utf8('B')))),
    );
    const b = name(
      der.seq(tlv(0x31, atv(OID.organizationName, der.utf8('b')), atv(OID.commonName, der.utf8('a')))),
    );
    expect(new NameMatcher().matches(a, b)).toBe(true);
  });

  it('does not match different attribute types, RDN counts or values', () => {
    const m = new NameMatcher();
    const base = name(der.seq(der.setOf(atv(OID.commonName, der.utf8('A')))));
    expect(m.matches(base, name(der.seq(der.setOf(atv(OID.organizationName, der.utf8('A'))))))).toBe(false);
    expect(m.matches(base, name(der.seq(der.setOf(atv(OID.commonName, der.utf8('B'))))))).toBe(false);
    expect(
      m.matches(
        base,
        name(
          der.seq(
            der.setOf(atv(OID.commonName, der.utf8('A'))),
            der.setOf(atv(OID.commonName, der.utf8('A'))),
          ),
        ),
      ),
    ).toBe(false);
  });
});
