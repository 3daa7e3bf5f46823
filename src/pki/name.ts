/**
 * Distinguished names from text: RFC 4514 string representation to a DER Name (RFC 5280 §4.1.2.4).
 *
 * ```asn1
 * Name ::= RDNSequence
 * RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue }
 * ```
 *
 * The text is written most specific first ('CN=Alice,O=Example Bank,C=GB', RFC 4514 §2.1), so
 * the DER RDNSequence is the reverse order (C first). `parseName`/`formatName` in
 * certificate.ts go the other way.
 *
 * Accepted beyond the strict RFC 4514 grammar, as RFC 4514 §3 permits and as RFC 1779 text
 * does: unescaped spaces around keywords, '=' and the ',' / '+' separators are ignored (a
 * value's own leading or trailing space must be escaped as '\ ').
 *
 * @example
 * const subject = encodeName('CN=Alice,O=Example Bank,C=GB');
 * parseName(subject, parseDer(subject)).text   // 'CN=Alice,O=Example Bank,C=GB'
 */
import { parseDer } from '../core/der.js';
import { concat, der } from '../core/der-writer.js';
import { fail, isProvenanceError } from '../core/errors.js';
import { OID } from '../core/oids.js';

/** How an attribute's value is encoded. */
type ValueSyntax =
  /** DirectoryString: PrintableString when the value fits, else UTF8String (RFC 5280 §4.1.2.4). */
  | 'directory'
  /** PrintableString only (X.520 serialNumber). */
  | 'printable'
  /** PrintableString of exactly two letters (X.520 countryName, ISO 3166 alpha-2). */
  | 'country'
  /** IA5String (RFC 5280 Appendix A emailAddress; RFC 4519 §2.4 domainComponent). */
  | 'ia5';

interface AttributeRule {
  readonly oid: string;
  readonly syntax: ValueSyntax;
  /** Upper bound in characters (RFC 5280 Appendix A `ub-*` values). */
  readonly max: number;
}

/** RFC 5280 Appendix A: ub-name, the bound of any X520name; used for attributes without their own. */
const UB_NAME = 32768;

const RULES: readonly (readonly [keyword: string, rule: AttributeRule])[] = [
  ['CN', { oid: OID.commonName, syntax: 'directory', max: 64 }],
  ['O', { oid: OID.organizationName, syntax: 'directory', max: 64 }],
  ['OU', { oid: OID.organizationalUnitName, syntax: 'directory', max: 64 }],
  ['C', { oid: OID.countryName, syntax: 'country', max: UB_NAME }], // SIZE (2): checked by its syntax
  ['L', { oid: OID.localityName, syntax: 'directory', max: 128 }],
  ['ST', { oid: OID.stateOrProvinceName, syntax: 'directory', max: 128 }],
  ['STREET', { oid: OID.streetAddress, syntax: 'directory', max: 128 }],
  ['SN', { oid: OID.surname, syntax: 'directory', max: UB_NAME }],
  ['GN', { oid: OID.givenName, syntax: 'directory', max: UB_NAME }],
  ['serialNumber', { oid: OID.serialNumber, syntax: 'printable', max: 64 }],
  ['DC', { oid: OID.domainComponent, syntax: 'ia5', max: UB_NAME }],
  ['UID', { oid: OID.userId, syntax: 'directory', max: 256 }],
  ['emailAddress', { oid: OID.emailAddress, syntax: 'ia5', max: 255 }],
  ['title', { oid: OID.title, syntax: 'directory', max: 64 }],
];

/** Attribute keywords are case-insensitive (RFC 4512 §1.4 descr). */
const BY_KEYWORD = new Map(RULES.map(([k, r]) => [k.toLowerCase(), r]));
const BY_OID = new Map(RULES.map(([, r]) => [r.oid, r]));

/** numericoid (RFC 4512 §1.4): no leading zeros in any arc. */
const NUMERIC_OID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;
/** X.680 §41.4 PrintableString repertoire. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
/** RFC 4514 §2.4: characters that may follow a backslash literally. */
const ESCAPABLE = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);
/** RFC 4514 §3 `string`: these must not appear unescaped inside a value. */
const MUST_ESCAPE = new Set(['"', ';', '<', '>']);
const HEX = /^[0-9a-fA-F]$/;

type ParsedValue =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'der'; readonly der: Uint8Array };

interface ParsedAttribute {
  readonly type: string;
  /** The attribute as written, for error messages. */
  readonly label: string;
  readonly value: ParsedValue;
}

/**
 * Encode RFC 4514 text ('CN=Alice+UID=42,O=Example Bank,C=GB') as a DER Name.
 * Throws USAGE naming the bad part (keyword, escape, value) when the text is not a valid name.
 *
 * @example
 * const issuer = encodeName('CN=Gemalto Smartcards,O=Gemalto NV,C=NL');
 */
export function encodeName(text: string): Uint8Array {
  const rdns = parseDnText(text);
  const encoded: Uint8Array[] = [];
  // RFC 4514 §2.1: the text starts with the last RDN of the sequence.
  for (let r = rdns.length - 1; r >= 0; r--) {
    const rdn = rdns[r]!;
    const seen = new Set<string>();
    const atvs = rdn.map((a) => {
      // X.501 §9.3: the attributes of one RDN have distinct types.
      if (seen.has(a.type)) usage(text, `attribute ${a.label} appears twice in one RDN`);
      seen.add(a.type);
      return der.seq(der.oid(a.type), encodeValue(text, a));
    });
    encoded.push(der.setOf(...atvs));
  }
  return der.seq(...encoded);
}

function usage(text: string, message: string): never {
  return fail('USAGE', `name "${text}": ${message}`, { name: text });
}

function encodeValue(text: string, a: ParsedAttribute): Uint8Array {
  if (a.value.kind === 'der') return a.value.der;
  const v = a.value.text;
  const rule = BY_OID.get(a.type) ?? { oid: a.type, syntax: 'directory', max: UB_NAME };
  const length = [...v].length;
  // DirectoryString and the IA5 attributes are all SIZE (1..ub) (RFC 5280 Appendix A).
  if (length === 0) usage(text, `${a.label} has an empty value`);
  if (length > rule.max) usage(text, `${a.label} is ${length} characters long, the limit is ${rule.max}`);
  // Control characters in names are a classic spoofing vector (embedded NUL); no real name needs them.
  if (/[\x00-\x1f\x7f]/.test(v)) usage(text, `${a.label} contains a control character`);
  switch (rule.syntax) {
    case 'country':
      // X.520 countryName: PrintableString (SIZE (2)), an ISO 3166 alpha-2 code.
      if (!/^[A-Za-z]{2}$/.test(v)) usage(text, `${a.label} must be a two-letter country code, not "${v}"`);
      return der.printable(v);
    case 'printable':
      // X.520 serialNumber is PrintableString only.
      if (!PRINTABLE.test(v)) usage(text, `${a.label} must use PrintableString characters only`);
      return der.printable(v);
    case 'ia5':
      if (!/^[\x20-\x7e]*$/.test(v)) usage(text, `${a.label} must be ASCII (IA5String)`);
      return der.ia5(v);
    case 'directory':
      return PRINTABLE.test(v) ? der.printable(v) : der.utf8(v);
  }
}

/** Split RFC 4514 text into RDNs (in text order) of attribute type/value pairs. */
function parseDnText(text: string): ParsedAttribute[][] {
  const rdns: ParsedAttribute[][] = [];
  if (text.trim() === '') return rdns; // the empty DN (RFC 4514 §2.1)
  let i = 0;
  let rdn: ParsedAttribute[] = [];
  for (;;) {
    // attributeType '='
    let eq = i;
    while (eq < text.length && text[eq] !== '=' && text[eq] !== ',' && text[eq] !== '+') eq++;
    if (text[eq] !== '=') {
      const before = text.slice(i, eq).trim();
      usage(text, before === '' ? `an empty RDN at offset ${i}` : `missing '=' after "${before}"`);
    }
    const keyword = text.slice(i, eq).trim();
    const type = attributeType(text, keyword);
    i = eq + 1;
    while (text[i] === ' ') i++;
    // attributeValue
    let value: ParsedValue;
    if (text[i] === '#') {
      const r = readHexValue(text, i + 1, keyword);
      value = r.value;
      i = r.end;
    } else {
      const r = readStringValue(text, i, keyword);
      value = r.value;
      i = r.end;
    }
    rdn.push({ type, label: keyword, value });
    if (i >= text.length) break;
    const sep = text[i]!;
    i++;
    if (sep === ',') {
      rdns.push(rdn);
      rdn = [];
    }
    if (text.slice(i).trim() === '') usage(text, `nothing follows the final '${sep}'`);
  }
  rdns.push(rdn);
  return rdns;
}

function attributeType(text: string, keyword: string): string {
  if (keyword === '') usage(text, 'an attribute type is missing before "="');
  const rule = BY_KEYWORD.get(keyword.toLowerCase());
  if (rule) return rule.oid;
  if (NUMERIC_OID.test(keyword)) {
    try {
      der.oid(keyword);
    } catch {
      usage(text, `"${keyword}" is not a valid object identifier`);
    }
    return keyword;
  }
  const known = RULES.map(([k]) => k).join(', ');
  return usage(text, `unknown attribute type "${keyword}" (use one of ${known}, or a dotted OID)`);
}

/** RFC 4514 §2.4 hexstring: '#' then the hex of the value's BER (here: DER) encoding. */
function readHexValue(text: string, start: number, keyword: string): { value: ParsedValue; end: number } {
  let i = start;
  while (i < text.length && text[i] !== ',' && text[i] !== '+') i++;
  const hex = text.slice(start, i).trim();
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    usage(text, `${keyword}: "#${hex}" is not an even number of hex digits`);
  }
  const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
  try {
    parseDer(bytes);
  } catch (err) {
    if (isProvenanceError(err)) usage(text, `${keyword}: "#${hex}" is not one DER element (${err.message})`);
    throw err;
  }
  return { value: { kind: 'der', der: bytes }, end: i };
}

/**
 * RFC 4514 §3 string: runs to an unescaped ',' or '+'. Hex escapes are bytes of UTF-8
 * (several may form one character), other escapes stand for the character itself.
 */
function readStringValue(text: string, start: number, keyword: string): { value: ParsedValue; end: number } {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  /** Bytes collected so far that must be kept: trailing unescaped spaces are dropped at the end. */
  let keepParts = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ',' || c === '+') break;
    if (c === '\\') {
      const a = text[i + 1];
      const b = text[i + 2];
      if (a !== undefined && b !== undefined && HEX.test(a) && HEX.test(b)) {
        parts.push(Uint8Array.of(Number.parseInt(a + b, 16)));
        i += 3;
      } else if (a !== undefined && ESCAPABLE.has(a)) {
        parts.push(encoder.encode(a));
        i += 2;
      } else {
        usage(text, `${keyword}: bad escape "\\${a ?? ''}" (escape one of  "#+,;<=>\\ or two hex digits)`);
      }
      keepParts = parts.length;
      continue;
    }
    if (MUST_ESCAPE.has(c)) usage(text, `${keyword}: '${c}' must be escaped as '\\${c}'`);
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    // A lone surrogate would silently become U+FFFD in UTF-8.
    if (cp >= 0xd800 && cp <= 0xdfff) usage(text, `${keyword}: the value holds a lone UTF-16 surrogate`);
    parts.push(encoder.encode(ch));
    if (c !== ' ') keepParts = parts.length;
    i += ch.length;
  }
  const bytes = concat(parts.slice(0, keepParts));
  let value: string;
  try {
    value = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return usage(text, `${keyword}: the hex escapes do not form valid UTF-8`);
  }
  return { value: { kind: 'text', text: value }, end: i };
}
