/**
 * Property tests for the DER reader and PEM decoder: whatever the bytes, the only thing that
 * escapes is a ProvenanceError; and every tree the writer builds is accepted by walkDer and
 * read back to the values it was built from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bitIsSet,
  children,
  decodeOidBytes,
  encodingOf,
  parseDer,
  readBigInt,
  readBitString,
  readBoolean,
  readNull,
  readOctetString,
  readOid,
  readSmallInt,
  readString,
  readTime,
  readTlv,
  readUnsignedBytes,
  TAG,
  type Tlv,
  walkDer,
} from '../../src/core/der.js';
import { compareBytes, der, tlv, tlvHighTag } from '../../src/core/der-writer.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { fuzzParameters, mutatedBytes, outcome } from '../helpers/fuzz.js';

const TIMEOUT = { timeout: 10_000 };

/** A universal or context tag octet biased towards the ones certificates use. */
const tagOctet = fc.oneof(
  fc.constantFrom(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x30, 0x31),
  fc.constantFrom(0x80, 0x81, 0x82, 0xa0, 0xa3, 0x1f, 0x9f, 0xbf, 0x00, 0x24),
  fc.integer({ min: 0, max: 255 }),
);

/** Every reader applied to one element; each may fail, but only with a ProvenanceError. */
function readEveryWay(buf: Uint8Array, t: Tlv): Set<'ok' | ErrorCode> {
  const readers: ((b: Uint8Array, x: Tlv) => unknown)[] = [
    readBigInt,
    readSmallInt,
    (b, x) => readSmallInt(b, x, 'e', TAG.ENUMERATED),
    readUnsignedBytes,
    (b, x) => readUnsignedBytes(b, x, 'serial', true),
    readBoolean,
    (b, x) => readBoolean(b, x, 'implicit', x.tag),
    (_b, x) => readNull(x),
    readBitString,
    (b, x) => readBitString(b, x, 'implicit', x.tag),
    readOctetString,
    readOid,
    readString,
    readTime,
    (b, x) => children(b, x),
  ];
  return new Set(readers.map((read) => outcome(() => read(buf, t))));
}

describe('DER reader on arbitrary bytes', () => {
  it('parseDer and walkDer only ever throw ProvenanceError on random bytes', TIMEOUT, () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(tagOctet, fc.uint8Array({ maxLength: 300 })).map(([t, rest]) => Uint8Array.of(t, ...rest)),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        outcome(() => parseDer(bytes));
        outcome(() => walkDer(bytes));
        outcome(() => walkDer(bytes, { maxDepth: 3, maxNodes: 5 }));
      }),
      fuzzParameters(3000),
    );
  });

  it('readTlv only ever throws ProvenanceError at any position and limit', TIMEOUT, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(50), fc.nat(50), (bytes, pos, limit) => {
        outcome(() => readTlv(bytes, pos, limit));
      }),
      fuzzParameters(2000),
    );
  });

  it('every typed reader only ever throws ProvenanceError on a well-framed element', TIMEOUT, () => {
    fc.assert(
      fc.property(tagOctet, fc.uint8Array({ maxLength: 24 }), (tag, content) => {
        if ((tag & 0x1f) === 0x1f) return; // the framing below is for low tag numbers
        const bytes = tlv(tag, content);
        let t: Tlv;
        try {
          t = readTlv(bytes, 0);
        } catch {
          expect(outcome(() => readTlv(bytes, 0))).toBe('DER_MALFORMED'); // primitive SEQUENCE/SET
          return;
        }
        for (const code of readEveryWay(bytes, t)) {
          expect(['ok', 'DER_MALFORMED', 'DER_TRUNCATED', 'DER_LIMIT_EXCEEDED']).toContain(code);
        }
      }),
      fuzzParameters(3000),
    );
  });

  it('decodeOidBytes only ever throws ProvenanceError', TIMEOUT, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 140 }), (content) => {
        outcome(() => decodeOidBytes(content));
      }),
      fuzzParameters(2000),
    );
  });
});

// --- random well-formed trees ------------------------------------------------------------------

type DerNode =
  | { readonly t: 'int'; readonly v: bigint }
  | { readonly t: 'enum'; readonly v: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'null' }
  | { readonly t: 'oid'; readonly v: string }
  | { readonly t: 'octets'; readonly v: Uint8Array }
  | { readonly t: 'bits'; readonly v: readonly number[] }
  | { readonly t: 'utf8' | 'printable' | 'ia5'; readonly v: string }
  | { readonly t: 'time'; readonly v: number }
  | { readonly t: 'seq' | 'set'; readonly items: readonly DerNode[] }
  | { readonly t: 'explicit'; readonly n: number; readonly inner: DerNode }
  | { readonly t: 'high'; readonly n: number; readonly inner: DerNode };

const PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?";

const oidArb = fc
  .tuple(
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 0, max: 39 }),
    fc.array(fc.oneof(fc.nat(200), fc.bigInt({ min: 0n, max: (1n << 130n) - 1n })), { maxLength: 6 }),
  )
  .map(([a, b, rest]) => [a, b, ...rest].join('.'));

/** Times the writer can encode: whole seconds, years 0000..9999 (-62167219200 s is 0000-01-01). */
const timeArb = fc
  .integer({ min: -62_167_219_200, max: Date.UTC(9999, 11, 31, 23, 59, 59) / 1000 })
  .map((s) => s * 1000);

const leafArb: fc.Arbitrary<DerNode> = fc.oneof(
  fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }).map((v) => ({ t: 'int' as const, v })),
  fc.integer({ min: -1000, max: 1000 }).map((v) => ({ t: 'int' as const, v: BigInt(v) })),
  fc.integer({ min: 0, max: 1_000_000 }).map((v) => ({ t: 'enum' as const, v })),
  fc.boolean().map((v) => ({ t: 'bool' as const, v })),
  fc.constant({ t: 'null' as const }),
  oidArb.map((v) => ({ t: 'oid' as const, v })),
  fc.uint8Array({ maxLength: 200 }).map((v) => ({ t: 'octets' as const, v })),
  fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 8 }).map((v) => ({ t: 'bits' as const, v })),
  fc.string({ unit: 'binary', maxLength: 20 }).map((v) => ({ t: 'utf8' as const, v })),
  fc
    .string({ unit: fc.constantFrom(...PRINTABLE), maxLength: 20 })
    .map((v) => ({ t: 'printable' as const, v })),
  fc
    .string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 20 })
    .map((v) => ({ t: 'ia5' as const, v })),
  timeArb.map((v) => ({ t: 'time' as const, v })),
);

const treeArb: fc.Arbitrary<DerNode> = fc.letrec<{ node: DerNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 6, depthIdentifier: 'der-tree' },
    leafArb,
    fc.array(tie('node'), { maxLength: 5 }).map((items) => ({ t: 'seq' as const, items })),
    fc.array(tie('node'), { maxLength: 5 }).map((items) => ({ t: 'set' as const, items })),
    fc
      .tuple(fc.integer({ min: 0, max: 30 }), tie('node'))
      .map(([n, inner]) => ({ t: 'explicit' as const, n, inner })),
    fc
      .tuple(fc.integer({ min: 31, max: 100_000 }), tie('node'))
      .map(([n, inner]) => ({ t: 'high' as const, n, inner })),
  ),
})).node;

function encode(node: DerNode): Uint8Array {
  switch (node.t) {
    case 'int':
      return der.int(node.v);
    case 'enum':
      return der.enumerated(node.v);
    case 'bool':
      return der.bool(node.v);
    case 'null':
      return der.null();
    case 'oid':
      return der.oid(node.v);
    case 'octets':
      return der.octets(node.v);
    case 'bits':
      return der.namedBits(node.v);
    case 'utf8':
      return der.utf8(node.v);
    case 'printable':
      return der.printable(node.v);
    case 'ia5':
      return der.ia5(node.v);
    case 'time':
      return der.time(node.v);
    case 'seq':
      return der.seq(...node.items.map(encode));
    case 'set':
      return der.setOf(...node.items.map(encode));
    case 'explicit':
      return der.explicit(node.n, encode(node.inner));
    case 'high':
      return tlvHighTag(2, true, node.n, encode(node.inner));
  }
}

function count(node: DerNode): number {
  if (node.t === 'seq' || node.t === 'set') return 1 + node.items.reduce((n, c) => n + count(c), 0);
  if (node.t === 'explicit' || node.t === 'high') return 1 + count(node.inner);
  return 1;
}

function depth(node: DerNode): number {
  if (node.t === 'seq' || node.t === 'set') return 1 + Math.max(0, ...node.items.map(depth));
  if (node.t === 'explicit' || node.t === 'high') return 1 + depth(node.inner);
  return 1;
}

/** Read `t` back according to the model and compare every value. */
function check(buf: Uint8Array, t: Tlv, node: DerNode): void {
  switch (node.t) {
    case 'int':
      expect(readBigInt(buf, t)).toBe(node.v);
      return;
    case 'enum':
      expect(readSmallInt(buf, t, 'e', TAG.ENUMERATED)).toBe(node.v);
      return;
    case 'bool':
      expect(readBoolean(buf, t)).toBe(node.v);
      return;
    case 'null':
      readNull(t);
      return;
    case 'oid':
      expect(readOid(buf, t)).toBe(node.v);
      return;
    case 'octets':
      expect(readOctetString(buf, t)).toEqual(node.v);
      return;
    case 'bits': {
      const bits = readBitString(buf, t);
      const set = Array.from({ length: 48 }, (_, n) => n).filter((n) => bitIsSet(bits, n));
      expect(set).toEqual([...node.v].sort((a, b) => a - b));
      return;
    }
    case 'utf8':
    case 'printable':
    case 'ia5':
      expect(t.tag).toBe(
        { utf8: TAG.UTF8_STRING, printable: TAG.PRINTABLE_STRING, ia5: TAG.IA5_STRING }[node.t],
      );
      expect(readString(buf, t)).toBe(node.v);
      return;
    case 'time':
      expect(readTime(buf, t)).toBe(node.v);
      return;
    case 'seq': {
      expect(t.tag).toBe(TAG.SEQUENCE);
      const kids = children(buf, t, node.items.length);
      for (const [i, item] of node.items.entries()) check(buf, kids[i]!, item);
      return;
    }
    case 'set': {
      // X.690 §11.6: the components come out in ascending order of their encodings.
      expect(t.tag).toBe(TAG.SET);
      const kids = children(buf, t, node.items.length);
      const sorted = [...node.items].sort((a, b) => compareBytes(encode(a), encode(b)));
      for (let i = 1; i < kids.length; i++) {
        expect(compareBytes(encodingOf(buf, kids[i - 1]!), encodingOf(buf, kids[i]!))).toBeLessThanOrEqual(0);
      }
      for (const [i, item] of sorted.entries()) check(buf, kids[i]!, item);
      return;
    }
    case 'explicit': {
      expect([t.tagClass, t.constructed, t.tagNumber]).toEqual([2, true, node.n]);
      check(buf, children(buf, t, 1)[0]!, node.inner);
      return;
    }
    case 'high': {
      expect([t.tagClass, t.constructed, t.tagNumber]).toEqual([2, true, node.n]);
      check(buf, children(buf, t, 1)[0]!, node.inner);
      return;
    }
  }
}

describe('writer → reader round trip on random trees', () => {
  it('walkDer accepts every tree the writer builds and reports its size and depth', TIMEOUT, () => {
    fc.assert(
      fc.property(treeArb, (node) => {
        const bytes = encode(node);
        expect(walkDer(bytes)).toEqual({ nodes: count(node), depth: depth(node) });
        expect(walkDer(bytes, { maxDepth: depth(node) }).depth).toBe(depth(node));
      }),
      fuzzParameters(1500),
    );
  });

  it('the reader reproduces every value the writer encoded', TIMEOUT, () => {
    fc.assert(
      fc.property(treeArb, (node) => {
        const bytes = encode(node);
        check(bytes, parseDer(bytes), node);
      }),
      fuzzParameters(1500),
    );
  });

  it('parseDer and walkDer only ever throw ProvenanceError on mutated trees', TIMEOUT, () => {
    const seeds = fc.sample(treeArb.map(encode), { seed: 7, numRuns: 40 }).filter((b) => b.length > 4);
    fc.assert(
      fc.property(mutatedBytes(seeds), ({ bytes }) => {
        outcome(() => parseDer(bytes));
        outcome(() => walkDer(bytes));
      }),
      fuzzParameters(3000),
    );
  });
});

describe('PEM decoder on arbitrary text', () => {
  const allowed: readonly ('ok' | ErrorCode)[] = ['ok', 'PEM_MALFORMED', 'DER_LIMIT_EXCEEDED'];

  it('decodePem only ever throws PEM_MALFORMED or DER_LIMIT_EXCEEDED on random text', TIMEOUT, () => {
    const pemish = fc.string({
      unit: fc.constantFrom(
        '-',
        '-----BEGIN ',
        '-----END ',
        'CERTIFICATE',
        '-----',
        '\n',
        '\r\n',
        ' ',
        '=',
        'A',
        '+',
        '/',
        'Proc-Type: ',
        'z',
      ),
      maxLength: 40,
    });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), pemish), (text) => {
        expect(allowed).toContain(outcome(() => decodePem(text)));
      }),
      fuzzParameters(3000),
    );
  });

  it('decodePem only ever throws PEM_MALFORMED or DER_LIMIT_EXCEEDED on mutated bundles', TIMEOUT, () => {
    const bundle = `subject=CN=Root\n${encodePem('CERTIFICATE', der.seq(der.int(1), der.octets(new Uint8Array(90))))}text\n${encodePem('X509 CRL', der.seq(der.null()))}`;
    const seeds = [new TextEncoder().encode(bundle)];
    fc.assert(
      fc.property(mutatedBytes(seeds, false), ({ bytes }) => {
        const text = Buffer.from(bytes).toString('latin1');
        expect(allowed).toContain(outcome(() => decodePem(text)));
      }),
      fuzzParameters(2000),
    );
  });
});
