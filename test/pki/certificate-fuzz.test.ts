/**
 * Mutation fuzzing of the certificate parser: bit flips, truncations, insertions, deletions,
 * duplicated chunks and corrupted length/tag octets of valid certificates (EC, RSA, Ed25519;
 * v1 and v3) must end in a certificate or a ProvenanceError with an input-fault code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { walkDer } from '../../src/core/der.js';
import { der } from '../../src/core/der-writer.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import {
  basicConstraints,
  buildCertificate,
  extension,
  fuzzParameters,
  keyUsage,
  mutatedBytes,
  outcome,
  testChain,
  testName,
  testSigner,
} from '../helpers/fuzz.js';

const TIMEOUT = { timeout: 15_000 };

/** Codes a malformed certificate may legitimately produce. */
const INPUT_FAULTS: readonly ('ok' | ErrorCode)[] = [
  'ok',
  'DER_MALFORMED',
  'DER_TRUNCATED',
  'DER_TRAILING_DATA',
  'DER_LIMIT_EXCEEDED',
  'CERT_MALFORMED',
  'EXTENSION_MALFORMED',
  'KEY_MALFORMED',
  'INPUT_TOO_LARGE',
];

function seedCertificates(): Uint8Array[] {
  const rsa = testSigner('rsa-2048');
  const ed = testSigner('ed25519');
  const p384 = testSigner('ec-p384');
  return [
    ...testChain(),
    buildCertificate(rsa, {
      serial: der.uintBytes(new Uint8Array(20).fill(0xa5)),
      subject: der.seq(
        der.setOf(der.seq(der.oid(OID.countryName), der.printable('DE'))),
        der.setOf(
          der.seq(der.oid(OID.organizationName), der.printable('Example')),
          der.seq(der.oid(OID.organizationalUnitName), der.utf8('Tokens ✓')),
        ),
        der.setOf(der.seq(der.oid(OID.emailAddress), der.ia5('ca@example.com'))),
      ),
      validity: der.seq(der.time(Date.UTC(2020, 0, 1)), der.time(Date.UTC(2099, 0, 1))),
      extensions: [
        basicConstraints(true, 3),
        keyUsage([0, 5, 6]),
        extension(OID.subjectKeyIdentifier, der.octets(new Uint8Array(20).fill(7))),
        extension(OID.authorityKeyIdentifier, der.seq(der.implicitPrimitive(0, new Uint8Array(20).fill(7)))),
        extension('1.3.6.1.4.1.41482.3.3', der.octets(Uint8Array.of(5, 7, 4))),
      ],
    }),
    buildCertificate(ed, {
      version: null,
      extensions: null,
      issuer: testName('v1 CA'),
      subject: testName('v1'),
    }),
    buildCertificate(p384, {
      uniqueIds: [der.implicitPrimitive(1, Uint8Array.of(0, 1, 2))],
      extensions: [
        basicConstraints(false),
        extension(OID.extKeyUsage, der.seq(der.oid('1.3.6.1.5.5.7.3.2'))),
      ],
    }),
  ];
}

describe('parseCertificate under mutation', () => {
  const seeds = seedCertificates();

  it('parses every seed certificate before mutation', () => {
    for (const seed of seeds) expect(parseCertificate(seed).der).toBe(seed);
  });

  it('ends every mutated certificate in a certificate or an input-fault ProvenanceError', TIMEOUT, () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(mutatedBytes(seeds), ({ bytes }) => {
        const code = outcome(() => parseCertificate(bytes));
        seen.add(code);
        expect(INPUT_FAULTS).toContain(code);
      }),
      fuzzParameters(10_000),
    );
    // The mutations reach past the outer framing into the fields (not only DER_TRUNCATED).
    expect(seen).toContain('CERT_MALFORMED');
    expect(seen).toContain('DER_TRAILING_DATA');
  });

  it('keeps what it accepts self-consistent', TIMEOUT, () => {
    fc.assert(
      fc.property(mutatedBytes(seeds), ({ bytes }) => {
        let cert: ReturnType<typeof parseCertificate>;
        try {
          cert = parseCertificate(bytes);
        } catch {
          return;
        }
        // Views into the input: the TBS and SPKI are sub-ranges of the certificate bytes.
        expect(cert.tbs.buffer).toBe(bytes.buffer);
        expect(cert.tbs.byteOffset - bytes.byteOffset).toBeGreaterThan(0);
        expect(cert.spki.byteOffset).toBeGreaterThan(cert.tbs.byteOffset);
        expect([1, 2, 3]).toContain(cert.version);
        expect(Number.isFinite(cert.notBefore) && Number.isFinite(cert.notAfter)).toBe(true);
        if (cert.version < 3) expect(cert.extensions).toEqual([]);
      }),
      fuzzParameters(2000),
    );
  });

  it('walkDer only ever throws ProvenanceError on mutated certificates', TIMEOUT, () => {
    fc.assert(
      fc.property(mutatedBytes(seeds), ({ bytes }) => {
        expect(INPUT_FAULTS).toContain(outcome(() => walkDer(bytes)));
      }),
      fuzzParameters(2000),
    );
  });

  it('only ever throws ProvenanceError on random bytes behind a certificate header', TIMEOUT, () => {
    const input = fc
      .uint8Array({ minLength: 0, maxLength: 600 })
      .map((body) => Uint8Array.of(0x30, 0x82, body.length >> 8, body.length & 0xff, ...body));
    fc.assert(
      fc.property(input, (bytes) => {
        expect(INPUT_FAULTS).toContain(outcome(() => parseCertificate(bytes)));
      }),
      fuzzParameters(2000),
    );
  });
});

describe('PEM-wrapped certificates under mutation', () => {
  it('decodePem then parseCertificate only ever throw ProvenanceError', TIMEOUT, () => {
    const bundle = testChain()
      .map((c) => encodePem('CERTIFICATE', c))
      .join('subject=CN=next\n');
    const seeds = [new TextEncoder().encode(bundle)];
    fc.assert(
      fc.property(mutatedBytes(seeds, false), ({ bytes }) => {
        const code = outcome(() => {
          for (const block of decodePem(Buffer.from(bytes).toString('latin1'))) parseCertificate(block.der);
        });
        expect([...INPUT_FAULTS, 'PEM_MALFORMED']).toContain(code);
      }),
      fuzzParameters(1500),
    );
  });
});
