/**
 * Shared pieces of the parser fuzz and negative tests: a fixed fast-check seed, byte-level
 * mutations of valid DER (bit flips, truncations, insertions, deletions, length-field and tag
 * corruption), a guard that lets only ProvenanceError escape, and a small X.509 builder that
 * makes the seed corpus and the hand-broken certificates of the negative catalogue.
 *
 * @example
 * fc.assert(fc.property(mutatedBytes(seeds), (m) => { outcome(() => parseDer(m.bytes)); }),
 *   fuzzParameters(500));
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { readTlv } from '../../src/core/der.js';
import { der } from '../../src/core/der-writer.js';
import { ERROR_CODES, type ErrorCode, ProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import {
  buildCertificate as buildCertificateFromTemplate,
  deriveSubjectKeyId,
} from '../../src/pki/builder.js';
import { encodeName } from '../../src/pki/name.js';
import { type Signer, signerFromKeyObject } from '../../src/pki/signer.js';

/**
 * The fast-check seed: fixed so a red run reproduces; set PROVENANCE_FUZZ_SEED to explore.
 */
export const FUZZ_SEED: number = (() => {
  const fromEnv = Number.parseInt(process.env['PROVENANCE_FUZZ_SEED'] ?? '', 10);
  return Number.isSafeInteger(fromEnv) ? fromEnv : 0x5eed_2026;
})();

/** fast-check parameters for `runs` cases with the fixed seed. */
export function fuzzParameters(runs: number): { seed: number; numRuns: number } {
  return { seed: FUZZ_SEED, numRuns: runs };
}

/**
 * Run `fn`; return 'ok' or the ProvenanceError code it threw. Anything else that escapes
 * (TypeError, RangeError, a bare Error) is a parser bug and is rethrown with its type named.
 */
export function outcome(fn: () => unknown): 'ok' | ErrorCode {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof ProvenanceError && err.code in ERROR_CODES) return err.code;
    const kind = err instanceof Error ? err.constructor.name : typeof err;
    throw new Error(`a ${kind} escaped instead of a ProvenanceError: ${String(err)}`, { cause: err });
  }
}

/** Where one TLV's header sits in a buffer: identifier at `start`, length octets after it. */
export interface HeaderPosition {
  readonly start: number;
  readonly lengthOffset: number;
  readonly lengthOctets: number;
}

/**
 * Header positions of every element of a valid DER tree (constructed elements are descended
 * into; primitive contents are not), found without recursion.
 */
export function headerPositions(buf: Uint8Array): HeaderPosition[] {
  const out: HeaderPosition[] = [];
  const ranges: { pos: number; end: number }[] = [{ pos: 0, end: buf.length }];
  while (ranges.length > 0) {
    const range = ranges.pop()!;
    while (range.pos < range.end) {
      const t = readTlv(buf, range.pos, range.end);
      // Identifier octets: one, or for high tag numbers one plus base-128 octets (X.690 §8.1.2.4).
      let idLength = 1;
      if ((buf[t.start]! & 0x1f) === 0x1f) {
        do idLength++;
        while (buf[t.start + idLength - 1]! & 0x80);
      }
      out.push({
        start: t.start,
        lengthOffset: t.start + idLength,
        lengthOctets: t.valueStart - t.start - idLength,
      });
      if (t.constructed) ranges.push({ pos: t.valueStart, end: t.end });
      range.pos = t.end;
    }
  }
  return out;
}

/** One byte-level change; positions are reduced modulo the current length when applied. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'duplicate'; readonly from: number; readonly count: number; readonly to: number }
  | { readonly kind: 'length'; readonly header: number; readonly octets: Uint8Array }
  | { readonly kind: 'tag'; readonly header: number; readonly octets: Uint8Array };

/** Length octets that break DER in the interesting ways (X.690 §8.1.3, §10.1). */
const LENGTH_CORRUPTIONS: readonly Uint8Array[] = [
  Uint8Array.of(0x80), // indefinite
  Uint8Array.of(0x81, 0x05), // long form for a short length
  Uint8Array.of(0x82, 0x00, 0x90), // leading zero octet
  Uint8Array.of(0x84, 0x80, 0x00, 0x00, 0x00), // 2^31
  Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff), // 2^32 - 1
  Uint8Array.of(0x85, 0x01, 0x00, 0x00, 0x00, 0x00), // more than 4 length octets
  Uint8Array.of(0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xff),
  Uint8Array.of(0x00),
  Uint8Array.of(0x7f),
];

/** Identifier octets that break DER: high-tag forms, EOC, constructed strings, primitive SEQUENCE. */
const TAG_CORRUPTIONS: readonly Uint8Array[] = [
  Uint8Array.of(0x00),
  Uint8Array.of(0x1f),
  Uint8Array.of(0x1f, 0x1e), // high-tag form for a low tag
  Uint8Array.of(0x9f, 0x80, 0x01), // non-minimal high tag
  Uint8Array.of(0xbf, 0xff, 0xff, 0xff, 0x7f), // tag number too large
  Uint8Array.of(0x10), // primitive SEQUENCE
  Uint8Array.of(0x24), // constructed OCTET STRING
  Uint8Array.of(0x23), // constructed BIT STRING
];

/**
 * A fast-check arbitrary of single mutations; `derAware` adds the length- and tag-octet
 * corruptions, which need the seed to be DER.
 */
export function mutation(derAware = true): fc.Arbitrary<Mutation> {
  const at = fc.nat();
  const byteLevel: fc.Arbitrary<Mutation>[] = [
    fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at }),
    fc.record({
      kind: fc.constant('insert' as const),
      at,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 16 }) }),
    fc.record({
      kind: fc.constant('duplicate' as const),
      from: at,
      count: fc.integer({ min: 1, max: 64 }),
      to: fc.nat(),
    }),
  ];
  if (!derAware) return fc.oneof(...byteLevel);
  return fc.oneof(
    ...byteLevel,
    fc.record({
      kind: fc.constant('length' as const),
      header: fc.nat(),
      octets: fc.oneof(
        fc.constantFrom(...LENGTH_CORRUPTIONS),
        fc.integer({ min: 0, max: 0x7f }).map((n) => Uint8Array.of(n)),
        fc.uint8Array({ minLength: 1, maxLength: 5 }),
      ),
    }),
    fc.record({
      kind: fc.constant('tag' as const),
      header: fc.nat(),
      octets: fc.oneof(
        fc.constantFrom(...TAG_CORRUPTIONS),
        fc.integer({ min: 0, max: 255 }).map((n) => Uint8Array.of(n)),
      ),
    }),
  );
}

function splice(buf: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(buf.length - remove + insert.length);
  out.set(buf.subarray(0, at), 0);
  out.set(insert, at);
  out.set(buf.subarray(at + remove), at + insert.length);
  return out;
}

/**
 * Apply `mutations` in order to a copy of `seed`. Header-targeted mutations use the header
 * map of the original seed and fall back to a byte flip once earlier edits moved things.
 */
export function applyMutations(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let headers: HeaderPosition[] | null = null;
  let buf: Uint8Array = Uint8Array.from(seed);
  let pristine = true;
  for (const m of mutations) {
    const n = buf.length;
    switch (m.kind) {
      case 'flip':
        if (n > 0) buf[m.at % n]! ^= 1 << m.bit;
        break;
      case 'set':
        if (n > 0) buf[m.at % n] = m.value;
        break;
      case 'truncate':
        buf = buf.slice(0, n === 0 ? 0 : m.at % n);
        break;
      case 'insert':
        buf = splice(buf, m.at % (n + 1), 0, m.bytes);
        break;
      case 'delete': {
        const at = n === 0 ? 0 : m.at % n;
        buf = splice(buf, at, Math.min(m.count, n - at), new Uint8Array(0));
        break;
      }
      case 'duplicate': {
        if (n === 0) break;
        const from = m.from % n;
        const chunk = buf.slice(from, Math.min(n, from + m.count));
        buf = splice(buf, m.to % (n + 1), 0, chunk);
        break;
      }
      case 'length':
      case 'tag': {
        if (!pristine) {
          if (n > 0) buf[m.header % n]! ^= 0x80;
          break;
        }
        headers ??= headerPositions(seed);
        const h = headers[m.header % headers.length]!;
        buf =
          m.kind === 'length'
            ? splice(buf, h.lengthOffset, h.lengthOctets, m.octets)
            : splice(buf, h.start, h.lengthOffset - h.start, m.octets);
        break;
      }
    }
    pristine = false;
  }
  return buf;
}

/** A seed picked from `seeds` with 1..4 mutations applied; the value shows how it was made. */
export interface MutatedInput {
  readonly seedIndex: number;
  readonly mutations: readonly Mutation[];
  readonly bytes: Uint8Array;
}

/**
 * Arbitrary of mutated copies of `seeds` (shrinks towards fewer, simpler mutations). Set
 * `derAware` to false when the seeds are not DER (PEM text).
 */
export function mutatedBytes(seeds: readonly Uint8Array[], derAware = true): fc.Arbitrary<MutatedInput> {
  return fc
    .record({
      seedIndex: fc.integer({ min: 0, max: seeds.length - 1 }),
      mutations: fc.array(mutation(derAware), { minLength: 1, maxLength: 4 }),
    })
    .map(({ seedIndex, mutations }) => ({
      seedIndex,
      mutations,
      bytes: applyMutations(seeds[seedIndex]!, mutations),
    }));
}

// --- a small certificate builder ---------------------------------------------------------------

/** A fresh signing key and its Signer (the repo's own, src/pki/signer.ts). */
export function testSigner(
  type: 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'ed25519' = 'ec-p256',
): Signer & { privateKey: KeyObject } {
  const { privateKey } =
    type === 'rsa-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: type === 'ec-p384' ? 'P-384' : 'P-256' });
  return Object.assign(signerFromKeyObject(privateKey), { privateKey });
}

/** Name ::= RDNSequence with one CN (UTF8String) and, optionally, an O. */
export function testName(cn: string, o?: string): Uint8Array {
  const rdns = [der.setOf(der.seq(der.oid(OID.commonName), der.utf8(cn)))];
  if (o !== undefined) rdns.unshift(der.setOf(der.seq(der.oid(OID.organizationName), der.utf8(o))));
  return der.seq(...rdns);
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function extension(oid: string, value: Uint8Array, critical = false): Uint8Array {
  return critical
    ? der.seq(der.oid(oid), der.bool(true), der.octets(value))
    : der.seq(der.oid(oid), der.octets(value));
}

/** basicConstraints for a CA (cA TRUE, optional pathLen) or an end entity (empty SEQUENCE). */
export function basicConstraints(ca: boolean, pathLen?: number): Uint8Array {
  const fields: Uint8Array[] = [];
  if (ca) fields.push(der.bool(true));
  if (pathLen !== undefined) fields.push(der.int(pathLen));
  return extension(OID.basicConstraints, der.seq(...fields), true);
}

/** keyUsage with the named bits set (RFC 5280 §4.2.1.3 bit numbers). */
export function keyUsage(bits: readonly number[]): Uint8Array {
  return extension(OID.keyUsage, der.namedBits(bits), true);
}

/**
 * The parts of a certificate, each overridable with raw DER so tests can break one field.
 * Defaults make a valid v3 self-issued certificate signed by `signer`.
 */
export interface CertificateParts {
  /** The whole `[0] EXPLICIT Version` field, or null to omit it (v1). Default v3. */
  readonly version?: Uint8Array | null;
  readonly serial?: Uint8Array;
  /** TBSCertificate.signature; default the signer's algorithm. */
  readonly signature?: Uint8Array;
  readonly issuer?: Uint8Array;
  readonly validity?: Uint8Array;
  readonly subject?: Uint8Array;
  /** SubjectPublicKeyInfo; default the signer's own key (self-signed). */
  readonly spki?: Uint8Array;
  /** Fields between SPKI and extensions (issuerUniqueID, subjectUniqueID). */
  readonly uniqueIds?: readonly Uint8Array[];
  /** Extension SEQUENCEs placed in `[3]`, or null for no extensions field. */
  readonly extensions?: readonly Uint8Array[] | null;
  /** Raw replacement for the whole `[3]` field (e.g. an empty Extensions). */
  readonly extensionsField?: Uint8Array;
  /** Certificate.signatureAlgorithm; default the same bytes as TBSCertificate.signature. */
  readonly outerAlgorithm?: Uint8Array;
  /** Replace the signatureValue BIT STRING. */
  readonly signatureValue?: Uint8Array;
}

/** Encode TBSCertificate from parts (RFC 5280 §4.1). */
export function buildTbs(signer: Signer, parts: CertificateParts = {}): Uint8Array {
  const name = testName('Provenance Test CA', 'Provenance Tests');
  const fields: Uint8Array[] = [];
  const version = parts.version === undefined ? der.explicit(0, der.int(2)) : parts.version;
  if (version !== null) fields.push(version);
  fields.push(
    parts.serial ?? der.int(0x1234_5678),
    parts.signature ?? signer.algorithm,
    parts.issuer ?? name,
    parts.validity ?? der.seq(der.time(Date.UTC(2024, 0, 1)), der.time(Date.UTC(2034, 0, 1))),
    parts.subject ?? name,
    parts.spki ?? signer.spki,
    ...(parts.uniqueIds ?? []),
  );
  if (parts.extensionsField) fields.push(parts.extensionsField);
  else {
    const extensions =
      parts.extensions === undefined ? [basicConstraints(true), keyUsage([5, 6])] : parts.extensions;
    if (extensions !== null) fields.push(der.explicit(3, der.seq(...extensions)));
  }
  return der.seq(...fields);
}

/** Encode and sign a certificate from parts. */
export function buildCertificate(signer: Signer, parts: CertificateParts = {}): Uint8Array {
  const tbs = buildTbs(signer, parts);
  const { signature } = signer.sign(tbs);
  return der.seq(
    tbs,
    parts.outerAlgorithm ?? parts.signature ?? signer.algorithm,
    parts.signatureValue ?? der.bitString(signature),
  );
}

/**
 * A typical three-certificate attestation chain (root → device-class CA → token attestation
 * certificate), all P-256, made with the repo's own builder (src/pki/builder.ts). Leaf first.
 */
export function testChain(): Uint8Array[] {
  const rootKey = testSigner();
  const caKey = testSigner();
  const leafKey = testSigner();
  const rootName = encodeName('CN=Provenance Test Root,O=Provenance Tests');
  const caName = encodeName('CN=Provenance Test Device CA,O=Provenance Tests');
  const rootKeyId = deriveSubjectKeyId(rootKey.spki);
  const caKeyId = deriveSubjectKeyId(caKey.spki);
  const validity = { notBefore: Date.UTC(2024, 0, 1), notAfter: Date.UTC(2049, 0, 1) };
  const root = buildCertificateFromTemplate({
    issuer: { name: rootName, signer: rootKey },
    subject: rootName,
    spki: rootKey.spki,
    ...validity,
    basicConstraints: { ca: true, pathLen: 1 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const ca = buildCertificateFromTemplate({
    issuer: { name: rootName, signer: rootKey, subjectKeyId: rootKeyId },
    subject: caName,
    spki: caKey.spki,
    ...validity,
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const leaf = buildCertificateFromTemplate({
    issuer: { name: caName, signer: caKey, subjectKeyId: caKeyId },
    subject: encodeName('CN=Token 0001,serialNumber=0001,O=Provenance Tests'),
    spki: leafKey.spki,
    ...validity,
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign'],
    extKeyUsage: ['1.3.6.1.5.5.7.3.2'],
  });
  return [leaf, ca, root];
}
