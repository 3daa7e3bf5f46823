import { AsnConvert } from '@peculiar/asn1-schema';
import { Name as AsnName } from '@peculiar/asn1-x509';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDer, TAG } from '../../src/core/der.js';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { type AttributeTypeAndValue, formatName, type Name, parseName } from '../../src/pki/certificate.js';
import { encodeName } from '../../src/pki/name.js';

function decode(text: string): Name {
  const bytes = encodeName(text);
  return parseName(bytes, parseDer(bytes));
}

function usageError(fragment: string) {
  return expect.objectContaining({ code: 'USAGE', message: expect.stringContaining(fragment) });
}

describe('encodeName', () => {
  it('writes the RDNSequence in reverse text order and round-trips through parseName', () => {
    const name = decode('CN=Alice,O=Example Bank,C=GB');
    expect(name.rdns.map((r) => r[0]!.type)).toEqual([OID.countryName, OID.organizationName, OID.commonName]);
    expect(name.text).toBe('CN=Alice,O=Example Bank,C=GB');
  });

  it('matches the encoding an independent ASN.1 library reads', () => {
    const bytes = encodeName('CN=Zoë Müller,OU=Tokens,O=Example Bank,C=GB');
    const asn = AsnConvert.parse(bytes, AsnName);
    const flat = asn.map((rdn) => [rdn[0]!.type, rdn[0]!.value.toString()]);
    expect(flat).toEqual([
      [OID.countryName, 'GB'],
      [OID.organizationName, 'Example Bank'],
      [OID.organizationalUnitName, 'Tokens'],
      [OID.commonName, 'Zoë Müller'],
    ]);
  });

  it('encodes the empty name as an empty SEQUENCE', () => {
    expect(Buffer.from(encodeName('')).toString('hex')).toBe('3000');
  });

  it('uses PrintableString when the value fits and UTF8String otherwise (RFC 5280 §4.1.2.4)', () => {
    const name = decode('CN=Zoë,O=A&B Ltd,OU=Plain (unit) 1');
    const tags = Object.fromEntries(name.rdns.map((r) => [r[0]!.type, r[0]!.valueTag]));
    expect(tags[OID.commonName]).toBe(TAG.UTF8_STRING);
    expect(tags[OID.organizationName]).toBe(TAG.UTF8_STRING);
    expect(tags[OID.organizationalUnitName]).toBe(TAG.PRINTABLE_STRING);
  });

  it('always writes C and serialNumber as PrintableString, DC and emailAddress as IA5String', () => {
    const name = decode('emailAddress=a@example.com,serialNumber=ABC-123,DC=example,C=GB');
    const tags = Object.fromEntries(name.rdns.map((r) => [r[0]!.type, r[0]!.valueTag]));
    expect(tags).toEqual({
      [OID.countryName]: TAG.PRINTABLE_STRING,
      [OID.domainComponent]: TAG.IA5_STRING,
      [OID.serialNumber]: TAG.PRINTABLE_STRING,
      [OID.emailAddress]: TAG.IA5_STRING,
    });
  });

  it('accepts every documented keyword, case-insensitively', () => {
    const text =
      'cn=a,o=b,ou=c,c=GB,l=d,st=e,street=f,sn=g,gn=h,SERIALNUMBER=i,dc=j,uid=k,EMAILADDRESS=l@m,TITLE=n';
    const types = decode(text).rdns.map((r) => r[0]!.type);
    expect(types.reverse()).toEqual([
      OID.commonName,
      OID.organizationName,
      OID.organizationalUnitName,
      OID.countryName,
      OID.localityName,
      OID.stateOrProvinceName,
      OID.streetAddress,
      OID.surname,
      OID.givenName,
      OID.serialNumber,
      OID.domainComponent,
      OID.userId,
      OID.emailAddress,
      OID.title,
    ]);
  });

  it('accepts a dotted OID as the attribute type and applies its rules when it is a known one', () => {
    const name = decode('2.5.4.3=Alice,1.3.6.1.4.1.99999.1=custom value,2.5.4.6=NL');
    expect(name.rdns[0]![0]).toEqual({ type: OID.countryName, valueTag: TAG.PRINTABLE_STRING, value: 'NL' });
    expect(name.rdns[1]![0]!.type).toBe('1.3.6.1.4.1.99999.1');
    expect(name.text).toBe('CN=Alice,1.3.6.1.4.1.99999.1=custom value,C=NL');
    expect(() => encodeName('2.5.4.6=GBR')).toThrow(usageError('two-letter'));
  });

  it('unescapes \\, \\+ \\\\ \\" and the other RFC 4514 specials', () => {
    const name = decode('CN=Smith\\, John \\+ \\"Jr\\" \\\\ \\<x\\> \\; \\=,O=Example');
    expect(name.rdns[1]![0]!.value).toBe('Smith, John + "Jr" \\ <x> ; =');
  });

  it('decodes \\XX hex escapes as UTF-8 bytes, several forming one character', () => {
    expect(decode('CN=Caf\\C3\\A9 \\e2\\82\\ac').rdns[0]![0]!.value).toBe('Café €');
    expect(decode('CN=\\41\\42C').rdns[0]![0]!.value).toBe('ABC');
  });

  it('keeps escaped leading and trailing spaces and a leading \\#, drops unescaped padding', () => {
    expect(decode('CN=\\ padded\\ ').rdns[0]![0]!.value).toBe(' padded ');
    expect(decode('CN=\\#hash').rdns[0]![0]!.value).toBe('#hash');
    const spaced = decode(' CN = Alice , O = Example Bank ');
    expect(spaced.text).toBe('CN=Alice,O=Example Bank');
  });

  it('builds a multi-valued RDN from "+", as one DER-sorted SET', () => {
    const bytes = encodeName('CN=Alice+UID=42,O=Example');
    const name = parseName(bytes, parseDer(bytes));
    expect(name.rdns).toHaveLength(2);
    const multi = name.rdns[1]!;
    expect(multi.map((a) => a.type).sort()).toEqual([OID.userId, OID.commonName].sort());
    // DER SET OF: elements in ascending order of their encodings (X.690 §11.6).
    const expected = der.seq(
      der.setOf(der.seq(der.oid(OID.organizationName), der.printable('Example'))),
      der.setOf(
        der.seq(der.oid(OID.commonName), der.printable('Alice')),
        der.seq(der.oid(OID.userId), der.printable('42')),
      ),
    );
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
  });

  it('takes #hex values as the DER encoding of the value', () => {
    const name = decode('CN=#0c03416263,O=Example');
    expect(name.rdns[1]![0]).toEqual({ type: OID.commonName, valueTag: TAG.UTF8_STRING, value: 'Abc' });
    const intValue = decode('1.2.3.4=#020101');
    expect(intValue.text).toBe('1.2.3.4=#020101');
    expect(() => encodeName('CN=#0c05ab')).toThrow(usageError('not one DER element'));
    expect(() => encodeName('CN=#0c0')).toThrow(usageError('hex digits'));
  });

  it('rejects an unknown attribute keyword, naming it', () => {
    expect(() => encodeName('CN=Alice,XYZ=1')).toThrow(usageError('unknown attribute type "XYZ"'));
    expect(() => encodeName('1.02.3=x')).toThrow(usageError('"1.02.3"'));
    expect(() => encodeName('=x')).toThrow(usageError('attribute type is missing'));
  });

  it('rejects a missing "=", naming the text before it', () => {
    expect(() => encodeName('CN=Alice,Example')).toThrow(usageError('missing \'=\' after "Example"'));
    expect(() => encodeName('CN=a,b,O=c')).toThrow(usageError('after "b"'));
  });

  it('rejects bad escapes and unescaped specials', () => {
    expect(() => encodeName('CN=a\\qb')).toThrow(usageError('bad escape "\\q"'));
    expect(() => encodeName('CN=a\\')).toThrow(usageError('bad escape'));
    expect(() => encodeName('CN=a;b')).toThrow(usageError("';' must be escaped"));
    expect(() => encodeName('CN="quoted"')).toThrow(usageError('must be escaped'));
    expect(() => encodeName('CN=\\ff\\fe')).toThrow(usageError('valid UTF-8'));
    expect(() => encodeName('CN=a\ud800b')).toThrow(usageError('surrogate'));
  });

  it('rejects empty values, empty RDNs and a trailing separator', () => {
    expect(() => encodeName('CN=,O=x')).toThrow(usageError('CN has an empty value'));
    expect(() => encodeName('CN=a,')).toThrow(usageError("nothing follows the final ','"));
    expect(() => encodeName('CN=a+')).toThrow(usageError("final '+'"));
    expect(() => encodeName('CN=a,,O=b')).toThrow(usageError('an empty RDN'));
  });

  it('rejects a repeated attribute type inside one RDN (X.501 §9.3)', () => {
    expect(() => encodeName('CN=a+CN=b')).toThrow(usageError('CN appears twice'));
  });

  it('enforces the attribute repertoires and RFC 5280 upper bounds', () => {
    expect(() => encodeName('C=GBR')).toThrow(usageError('two-letter country code'));
    expect(() => encodeName('C=1A')).toThrow(usageError('two-letter'));
    expect(() => encodeName('serialNumber=A@B')).toThrow(usageError('PrintableString'));
    expect(() => encodeName('emailAddress=zoë@example.com')).toThrow(usageError('ASCII'));
    expect(() => encodeName(`CN=${'x'.repeat(65)}`)).toThrow(
      usageError('65 characters long, the limit is 64'),
    );
    expect(encodeName(`CN=${'é'.repeat(64)}`).length).toBeGreaterThan(128);
    expect(() => encodeName('CN=a\\00b')).toThrow(usageError('control character'));
  });

  it('round-trips arbitrary values through formatName and parseName', () => {
    const keywords = ['CN', 'O', 'OU', 'L', 'ST', 'title', 'UID', 'GN', 'SN'] as const;
    const typeOf: Record<string, string> = {
      CN: OID.commonName,
      O: OID.organizationName,
      OU: OID.organizationalUnitName,
      L: OID.localityName,
      ST: OID.stateOrProvinceName,
      title: OID.title,
      UID: OID.userId,
      GN: OID.givenName,
      SN: OID.surname,
    };
    const char = fc.constantFrom(...'aZ09 ,+"\\<>;=#-.\'()é€😀'.split(/(?:)/u));
    // formatName shows a string value that starts with '#' unescaped (see report), so avoid it here.
    const value = fc
      .array(char, { minLength: 1, maxLength: 20 })
      .map((cs) => cs.join(''))
      .filter((v) => !v.startsWith('#') && v.trim() !== '');
    const atv = fc.record({ keyword: fc.constantFrom(...keywords), value });
    const rdn = fc.uniqueArray(atv, { minLength: 1, maxLength: 3, selector: (a) => a.keyword });
    fc.assert(
      fc.property(fc.array(rdn, { minLength: 1, maxLength: 4 }), (rdnsInTextOrder) => {
        const rdns: AttributeTypeAndValue[][] = [...rdnsInTextOrder]
          .reverse()
          .map((r) => r.map((a) => ({ type: typeOf[a.keyword]!, valueTag: 0, value: a.value })));
        const text = formatName(rdns);
        const parsed = decode(text);
        const norm = (list: readonly (readonly AttributeTypeAndValue[])[]) =>
          list.map((r) => r.map((a) => `${a.type}=${a.value}`).sort());
        expect(norm(parsed.rdns)).toEqual(norm(rdns));
      }),
      { numRuns: 300 },
    );
  });
});
