/**
 * The provenance summary extension: encoding round trip, and a decoder that refuses every
 * deviation from the ASN.1 (DER, version, sizes, string types, trailing bytes), fuzzed so that
 * only ProvenanceError ever escapes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assurancePolicyOid,
  decodeProvenanceSummary,
  encodeProvenanceSummary,
  type ProvenanceSummary,
} from '../../src/ca/summary.js';
import { der } from '../../src/core/der-writer.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { PROVENANCE_ARC } from '../../src/core/oids.js';
import { fuzzParameters, mutatedBytes, outcome } from '../helpers/fuzz.js';

const base = {
  ruleId: 'gemalto-cards',
  format: 'provenance',
  anchorSpkiSha256: '0f'.repeat(32),
  policyDigest: 'e1'.repeat(32),
};

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return isProvenanceError(err) ? err.code : `not a ProvenanceError: ${String(err)}`;
  }
}

/** A ProvenanceSummary with hand-chosen fields (to break one at a time). */
function summary(
  fields: Partial<Record<'version' | 'ruleId' | 'format' | 'anchor' | 'digest', Uint8Array>>,
  extra: Uint8Array[] = [],
): Uint8Array {
  return der.seq(
    fields.version ?? der.int(1),
    fields.ruleId ?? der.utf8('r'),
    fields.format ?? der.utf8('provenance'),
    fields.anchor ?? der.octets(new Uint8Array(32)),
    fields.digest ?? der.octets(new Uint8Array(32)),
    ...extra,
  );
}

describe('ProvenanceSummary', () => {
  it('round-trips without the device serial', () => {
    const value = encodeProvenanceSummary(base);
    expect(decodeProvenanceSummary(value)).toEqual({ version: 1, ...base } satisfies ProvenanceSummary);
  });

  it('round-trips with a device serial in non-ASCII UTF-8', () => {
    const value = encodeProvenanceSummary({ ...base, deviceSerial: 'Σειρά-0042', ruleId: 'règle' });
    expect(decodeProvenanceSummary(value)).toEqual({
      version: 1,
      ...base,
      ruleId: 'règle',
      deviceSerial: 'Σειρά-0042',
    });
  });

  it('encodes exactly the ASN.1 of the design', () => {
    const value = encodeProvenanceSummary({ ...base, deviceSerial: 'S1' });
    const expected = der.seq(
      der.int(1),
      der.utf8(base.ruleId),
      der.utf8(base.format),
      der.octets(new Uint8Array(32).fill(0x0f)),
      der.octets(new Uint8Array(32).fill(0xe1)),
      der.implicitPrimitive(0, new TextEncoder().encode('S1')),
    );
    expect(value).toEqual(expected);
  });

  it('refuses to encode empty or over-long text and hashes that are not 32 bytes (USAGE)', () => {
    expect(code(() => encodeProvenanceSummary({ ...base, ruleId: '' }))).toBe('USAGE');
    expect(code(() => encodeProvenanceSummary({ ...base, format: 'x'.repeat(129) }))).toBe('USAGE');
    expect(code(() => encodeProvenanceSummary({ ...base, deviceSerial: 'a\nb' }))).toBe('USAGE');
    expect(code(() => encodeProvenanceSummary({ ...base, anchorSpkiSha256: 'ab'.repeat(31) }))).toBe('USAGE');
  });

  it.each([
    ['version 2', summary({ version: der.int(2) })],
    ['version 0', summary({ version: der.int(0) })],
    ['a PrintableString ruleId', summary({ ruleId: der.printable('r') })],
    ['an IA5String format', summary({ format: der.ia5('provenance') })],
    ['a 31-byte anchorSpki', summary({ anchor: der.octets(new Uint8Array(31)) })],
    ['a 33-byte policyDigest', summary({ digest: der.octets(new Uint8Array(33)) })],
    ['a BIT STRING anchorSpki', summary({ anchor: der.bitString(new Uint8Array(32)) })],
    ['a constructed [0] deviceSerial', summary({}, [der.explicit(0, der.utf8('S'))])],
    ['a [1] after policyDigest', summary({}, [der.implicitPrimitive(1, Uint8Array.of(0x41))])],
    ['a seventh field', summary({}, [der.implicitPrimitive(0, Uint8Array.of(0x41)), der.null()])],
    ['invalid UTF-8 in ruleId', summary({ ruleId: Uint8Array.of(0x0c, 0x02, 0xc3, 0x28) })],
    ['invalid UTF-8 in deviceSerial', summary({}, [der.implicitPrimitive(0, Uint8Array.of(0xff))])],
    ['four fields', der.seq(der.int(1), der.utf8('r'), der.utf8('f'), der.octets(new Uint8Array(32)))],
    ['a SET instead of a SEQUENCE', Uint8Array.from([0x31, ...summary({}).subarray(1)])],
  ])('refuses %s (EXTENSION_MALFORMED)', (_name, value) => {
    expect(code(() => decodeProvenanceSummary(value))).toBe('EXTENSION_MALFORMED');
  });

  it('refuses trailing bytes, truncation and a non-minimal length', () => {
    const value = encodeProvenanceSummary(base);
    expect(code(() => decodeProvenanceSummary(Uint8Array.from([...value, 0])))).toBe('EXTENSION_MALFORMED');
    expect(code(() => decodeProvenanceSummary(value.subarray(0, value.length - 1)))).toBe(
      'EXTENSION_MALFORMED',
    );
    const long = Uint8Array.from([0x30, 0x81, value[1]!, ...value.subarray(2)]);
    expect(code(() => decodeProvenanceSummary(long))).toBe('EXTENSION_MALFORMED');
  });

  it('throws only ProvenanceError for mutated encodings', () => {
    const seeds = [encodeProvenanceSummary(base), encodeProvenanceSummary({ ...base, deviceSerial: 'S-1' })];
    fc.assert(
      fc.property(mutatedBytes(seeds), (m) => {
        const result = outcome(() => decodeProvenanceSummary(m.bytes));
        expect(['ok', 'EXTENSION_MALFORMED']).toContain(result);
      }),
      fuzzParameters(500),
    );
  });

  it('names assurance levels under the project arc, 0 to 255', () => {
    expect(assurancePolicyOid(3)).toBe(`${PROVENANCE_ARC}.3.3`);
    expect(code(() => assurancePolicyOid(256))).toBe('USAGE');
    expect(code(() => assurancePolicyOid(1.5))).toBe('USAGE');
  });
});
