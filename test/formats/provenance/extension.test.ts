import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der, tlv } from '../../../src/core/der-writer.js';
import { ProvenanceError } from '../../../src/core/errors.js';
import {
  decodeProvenanceKeyAttestation,
  encodeProvenanceKeyAttestation,
  type ProvenanceKeyAttestation,
} from '../../../src/formats/provenance/extension.js';

const NONCE = Uint8Array.from({ length: 32 }, (_, i) => i);

const FULL: ProvenanceKeyAttestation = {
  version: 1,
  nonce: NONCE,
  keyOrigin: 'generated',
  exportable: false,
  userPresence: 'always',
  userVerification: 'once',
  token: { model: 'Provenance Software Token', serial: 'SN-0042', firmware: '1.2.3' },
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The fields after version, hand-encoded, so tests can break exactly one. */
function fields(
  over: Partial<
    Record<'version' | 'nonce' | 'origin' | 'exp' | 'up' | 'uv' | 'token', Uint8Array | null>
  > = {},
) {
  const base = {
    version: der.int(1),
    nonce: der.implicitPrimitive(0, NONCE),
    origin: der.implicitPrimitive(1, Uint8Array.of(0)),
    exp: der.implicitPrimitive(2, Uint8Array.of(0)),
    up: der.implicitPrimitive(3, Uint8Array.of(2)),
    uv: der.implicitPrimitive(4, Uint8Array.of(1)),
    token: der.implicitConstructed(5, der.seq(der.utf8('Model'))),
    ...over,
  };
  return der.seq(...Object.values(base).filter((v): v is Uint8Array => v !== null));
}

function malformed(fragment: string) {
  return expect.objectContaining({
    code: 'ATTESTATION_MALFORMED',
    message: expect.stringContaining(fragment),
  });
}

describe('ProvenanceKeyAttestation', () => {
  it('round-trips every field', () => {
    const decoded = decodeProvenanceKeyAttestation(encodeProvenanceKeyAttestation(FULL));
    expect(decoded).toEqual(FULL);
  });

  it('round-trips the minimal form without nonce and token', () => {
    const minimal: ProvenanceKeyAttestation = {
      ...FULL,
      nonce: null,
      token: null,
      keyOrigin: 'imported',
      exportable: true,
      userPresence: 'never',
      userVerification: 'never',
    };
    const bytes = encodeProvenanceKeyAttestation(minimal);
    expect(hex(bytes)).toBe('300f' + '020101' + '810101' + '8201ff' + '830100' + '840100');
    expect(decodeProvenanceKeyAttestation(bytes)).toEqual(minimal);
    expect(
      decodeProvenanceKeyAttestation(encodeProvenanceKeyAttestation({ ...FULL, token: { model: 'M' } })),
    ).toEqual({
      ...FULL,
      token: { model: 'M' },
    });
  });

  it('writes the exact DER the ASN.1 module specifies (IMPLICIT tags, DER BOOLEAN)', () => {
    const bytes = encodeProvenanceKeyAttestation({
      ...FULL,
      nonce: new Uint8Array(8),
      token: { model: 'M', serial: 'S', firmware: 'F' },
    });
    expect(hex(bytes)).toBe(
      '3024' +
        '020101' + // version v1
        '80080000000000000000' + // [0] nonce
        '810100' + // [1] keyOrigin generated
        '820100' + // [2] exportable FALSE
        '830102' + // [3] userPresence always
        '840101' + // [4] userVerification once
        'a5090c014d800153810146', // [5] TokenInfo { model, [0] serial, [1] firmware }
    );
    expect(hex(fields({ exp: der.implicitPrimitive(2, Uint8Array.of(0xff)) }))).toContain('8201ff');
  });

  it('decodes a hand-built encoding', () => {
    expect(decodeProvenanceKeyAttestation(fields())).toEqual({
      version: 1,
      nonce: NONCE,
      keyOrigin: 'generated',
      exportable: false,
      userPresence: 'always',
      userVerification: 'once',
      token: { model: 'Model' },
    });
  });

  it('returns a nonce that does not alias the input buffer', () => {
    const bytes = fields();
    const a = decodeProvenanceKeyAttestation(bytes);
    bytes.fill(0);
    expect(a.nonce).toEqual(NONCE);
  });

  it('rejects a version other than 1', () => {
    expect(() => decodeProvenanceKeyAttestation(fields({ version: der.int(2) }))).toThrow(
      malformed('version must be 1'),
    );
    expect(() => decodeProvenanceKeyAttestation(fields({ version: Uint8Array.of(2, 2, 0, 1) }))).toThrow(
      malformed('version'),
    );
    expect(() => decodeProvenanceKeyAttestation(fields({ version: null }))).toThrow(malformed('version'));
  });

  it('rejects a nonce outside 8..64 bytes', () => {
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ nonce: der.implicitPrimitive(0, new Uint8Array(7)) })),
    ).toThrow(malformed('nonce must be 8..64 bytes, not 7'));
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ nonce: der.implicitPrimitive(0, new Uint8Array(65)) })),
    ).toThrow(malformed('nonce'));
    expect(() => encodeProvenanceKeyAttestation({ ...FULL, nonce: new Uint8Array(4) })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });

  it('rejects a constructed nonce', () => {
    const constructed = der.implicitConstructed(0, der.seq(der.octets(NONCE)));
    expect(() => decodeProvenanceKeyAttestation(fields({ nonce: constructed }))).toThrow(
      malformed('keyOrigin'),
    );
  });

  it('rejects enumerated values out of range and non-minimal encodings', () => {
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ origin: der.implicitPrimitive(1, Uint8Array.of(2)) })),
    ).toThrow(malformed('keyOrigin: value 2'));
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ up: der.implicitPrimitive(3, Uint8Array.of(3)) })),
    ).toThrow(malformed('userPresence: value 3'));
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ uv: der.implicitPrimitive(4, Uint8Array.of(0xff)) })),
    ).toThrow(malformed('userVerification: value -1'));
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ uv: der.implicitPrimitive(4, Uint8Array.of(0, 1)) })),
    ).toThrow(malformed('userVerification'));
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ origin: der.implicitPrimitive(1, new Uint8Array(0)) })),
    ).toThrow(malformed('keyOrigin'));
  });

  it('rejects a BOOLEAN that is not DER (0x01) or not one octet', () => {
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ exp: der.implicitPrimitive(2, Uint8Array.of(1)) })),
    ).toThrow(malformed('exportable'));
    expect(() =>
      decodeProvenanceKeyAttestation(fields({ exp: der.implicitPrimitive(2, Uint8Array.of(0, 0)) })),
    ).toThrow(malformed('exportable'));
  });

  it('rejects missing required fields and fields out of order, naming the field', () => {
    expect(() => decodeProvenanceKeyAttestation(fields({ exp: null }))).toThrow(
      malformed('exportable: expected tag 0x82'),
    );
    expect(() => decodeProvenanceKeyAttestation(fields({ uv: null, token: null }))).toThrow(
      malformed('userVerification is missing'),
    );
    const swapped = der.seq(
      der.int(1),
      der.implicitPrimitive(2, Uint8Array.of(0)),
      der.implicitPrimitive(1, Uint8Array.of(0)),
      der.implicitPrimitive(3, Uint8Array.of(0)),
      der.implicitPrimitive(4, Uint8Array.of(0)),
    );
    expect(() => decodeProvenanceKeyAttestation(swapped)).toThrow(malformed('keyOrigin'));
  });

  it('rejects unknown fields, also inside TokenInfo', () => {
    const extra = der.seq(
      ...[fields()].map((f) => f.subarray(2)),
      der.implicitPrimitive(6, Uint8Array.of(0)),
    );
    expect(() => decodeProvenanceKeyAttestation(extra)).toThrow(malformed('unexpected field after token'));
    const tokenExtra = der.implicitConstructed(
      5,
      der.seq(der.utf8('M'), der.implicitPrimitive(2, Uint8Array.of(0))),
    );
    expect(() => decodeProvenanceKeyAttestation(fields({ token: tokenExtra }))).toThrow(
      malformed('token: unexpected field'),
    );
    const tokenSwapped = der.implicitConstructed(
      5,
      der.seq(
        der.utf8('M'),
        der.implicitPrimitive(1, Uint8Array.of(0x31)),
        der.implicitPrimitive(0, Uint8Array.of(0x31)),
      ),
    );
    expect(() => decodeProvenanceKeyAttestation(fields({ token: tokenSwapped }))).toThrow(malformed('token'));
  });

  it('rejects a TokenInfo with a wrong model type, invalid UTF-8, control characters or overlong strings', () => {
    const token = (...items: Uint8Array[]) => ({ token: der.implicitConstructed(5, der.seq(...items)) });
    expect(() => decodeProvenanceKeyAttestation(fields(token(der.printable('M'))))).toThrow(
      malformed('token.model must be a UTF8String'),
    );
    expect(() => decodeProvenanceKeyAttestation(fields(token(tlv(0x0c, Uint8Array.of(0xc3, 0x28)))))).toThrow(
      malformed('token.model is not valid UTF-8'),
    );
    expect(() => decodeProvenanceKeyAttestation(fields(token(der.utf8('M\u0000'))))).toThrow(
      malformed('token.model contains a control character'),
    );
    expect(() => decodeProvenanceKeyAttestation(fields(token(der.utf8('é'.repeat(129)))))).toThrow(
      malformed('token.model is 129 characters long, the limit is 128'),
    );
    expect(
      decodeProvenanceKeyAttestation(fields(token(der.utf8('é'.repeat(128))))).token?.model,
    ).toHaveLength(128);
    expect(() =>
      decodeProvenanceKeyAttestation(
        fields(token(der.utf8('M'), der.implicitPrimitive(0, new Uint8Array(65).fill(0x41)))),
      ),
    ).toThrow(malformed('token.serial is 65 characters long'));
    expect(() =>
      decodeProvenanceKeyAttestation(
        fields(token(der.utf8('M'), der.implicitPrimitive(1, new Uint8Array(33).fill(0x41)))),
      ),
    ).toThrow(malformed('token.firmware is 33 characters long'));
    expect(() => decodeProvenanceKeyAttestation(fields(token(der.utf8(''))))).toThrow(
      malformed('token.model is empty'),
    );
    expect(() => decodeProvenanceKeyAttestation(fields(token()))).toThrow(malformed('token'));
  });

  it('rejects trailing bytes, truncation, a wrong outer tag and oversized input', () => {
    const good = fields();
    expect(() => decodeProvenanceKeyAttestation(Uint8Array.of(...good, 0))).toThrow(malformed('follow'));
    expect(() => decodeProvenanceKeyAttestation(good.subarray(0, good.length - 1))).toThrow(
      expect.objectContaining({ code: 'ATTESTATION_MALFORMED' }),
    );
    expect(() => decodeProvenanceKeyAttestation(Uint8Array.of(0x31, 0))).toThrow(
      malformed('expected tag 0x30'),
    );
    expect(() => decodeProvenanceKeyAttestation(new Uint8Array(0))).toThrow(
      malformed('ProvenanceKeyAttestation'),
    );
    expect(() => decodeProvenanceKeyAttestation(new Uint8Array(4096))).toThrow(malformed('exceeds'));
  });

  it('refuses to encode values a verifier would refuse', () => {
    const usage = expect.objectContaining({ code: 'USAGE' });
    expect(() => encodeProvenanceKeyAttestation({ ...FULL, keyOrigin: 'cloned' as 'generated' })).toThrow(
      usage,
    );
    expect(() => encodeProvenanceKeyAttestation({ ...FULL, userPresence: 'sometimes' as 'never' })).toThrow(
      usage,
    );
    expect(() => encodeProvenanceKeyAttestation({ ...FULL, token: { model: 'x'.repeat(129) } })).toThrow(
      usage,
    );
    expect(() => encodeProvenanceKeyAttestation({ ...FULL, token: { model: 'M', firmware: '' } })).toThrow(
      usage,
    );
    expect(() => encodeProvenanceKeyAttestation({ ...FULL, token: { model: 'M\ud800' } })).toThrow(usage);
    expect(() => encodeProvenanceKeyAttestation({ ...FULL, version: 2 as 1 })).toThrow(usage);
  });

  it('round-trips any valid attestation (property)', () => {
    const text = (max: number) =>
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }).filter((s) => {
        const n = [...s].length;
        return n >= 1 && n <= max && !/[\x00-\x1f\x7f-\x9f]/.test(s);
      });
    const attestation = fc.record({
      version: fc.constant(1 as const),
      nonce: fc.option(fc.uint8Array({ minLength: 8, maxLength: 64 }), { nil: null }),
      keyOrigin: fc.constantFrom('generated' as const, 'imported' as const),
      exportable: fc.boolean(),
      userPresence: fc.constantFrom('never' as const, 'cached' as const, 'always' as const),
      userVerification: fc.constantFrom('never' as const, 'once' as const, 'always' as const),
      token: fc.option(
        fc.record({ model: text(128), serial: text(64), firmware: text(32) }, { requiredKeys: ['model'] }),
        { nil: null },
      ),
    });
    fc.assert(
      fc.property(attestation, (a) => {
        expect(decodeProvenanceKeyAttestation(encodeProvenanceKeyAttestation(a))).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but ATTESTATION_MALFORMED on random or mutated bytes (property)', () => {
    const valid = encodeProvenanceKeyAttestation(FULL);
    const mutated = fc
      .tuple(
        fc.nat({ max: valid.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: valid.length }),
      )
      .map(([pos, byte, cut]) => {
        const b = Uint8Array.from(valid);
        b[pos] = byte;
        return b.subarray(0, Math.max(cut, pos + 1));
      });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      mutated,
      fc.uint8Array({ maxLength: 40 }).map((tail) => Uint8Array.of(0x30, tail.length, ...tail)),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          decodeProvenanceKeyAttestation(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(ProvenanceError);
          expect((err as ProvenanceError).code).toBe('ATTESTATION_MALFORMED');
        }
      }),
      { numRuns: 2000, seed: 0x5eed },
    );
  });
});
