/**
 * The strict CRL parser and the check of a CRL against its issuer (RFC 5280 §5, §6.3.3), on
 * CRLs written here byte by byte so each one breaks one rule; fuzzed so that only
 * ProvenanceError escapes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../src/core/der-writer.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import { CRL_OID, parseCrl, verifyCrl } from '../../src/pki/crl.js';
import { signerFromKeyObject } from '../../src/pki/signer.js';
import { fuzzParameters, mutatedBytes, outcome } from '../helpers/fuzz.js';
import { cn, ecKey, issue, type TestCert } from '../helpers/pki.js';

const T = Date.UTC(2026, 2, 1);
const DAY = 86_400_000;
const rootKey = ecKey();
const root = issue({ subject: 'CRL Root', key: rootKey, ca: {} });
const noCrlSign = issue({ subject: 'CRL Root', key: rootKey, ca: {}, keyUsage: ['keyCertSign'] });
const otherRoot = issue({ subject: 'Other Root', key: ecKey(), ca: {} });

function ext(oid: string, value: Uint8Array, critical = false): Uint8Array {
  return critical
    ? der.seq(der.oid(oid), der.bool(true), der.octets(value))
    : der.seq(der.oid(oid), der.octets(value));
}

function entry(serial: number, extensions?: Uint8Array[]): Uint8Array {
  return der.seq(der.int(serial), der.time(T - DAY), ...(extensions ? [der.seq(...extensions)] : []));
}

interface CrlSpec {
  readonly issuer?: TestCert;
  readonly issuerName?: Uint8Array;
  /** undefined: v2 INTEGER 1; null: omitted (v1); a number: written as given. */
  readonly version?: number | null;
  readonly nextUpdate?: number | null;
  readonly entries?: Uint8Array[] | 'empty';
  /** undefined: AKI + cRLNumber 7; [] omits the field. */
  readonly extensions?: Uint8Array[];
  readonly tbsAlgorithm?: Uint8Array;
  readonly trailing?: Uint8Array[];
}

/** A CRL signed by `spec.issuer` (the root) with one knob per test. */
function crl(spec: CrlSpec = {}): Uint8Array {
  const issuer = spec.issuer ?? root;
  const signer = signerFromKeyObject(issuer.key.privateKey);
  const extensions = spec.extensions ?? [
    ext(OID.authorityKeyIdentifier, der.seq(der.implicitPrimitive(0, issuer.keyId))),
    ext(OID.cRLNumber, der.int(7)),
  ];
  const entries = spec.entries ?? [entry(0x1001, [ext(OID.cRLReason, der.enumerated(1))]), entry(0x1002)];
  const tbs = der.seq(
    ...(spec.version === null ? [] : [der.int(spec.version ?? 1)]),
    spec.tbsAlgorithm ?? signer.algorithm,
    spec.issuerName ?? issuer.name,
    der.time(T),
    ...(spec.nextUpdate === null ? [] : [der.time(spec.nextUpdate ?? T + 7 * DAY)]),
    ...(entries === 'empty' ? [der.seq()] : entries.length > 0 ? [der.seq(...entries)] : []),
    ...(extensions.length > 0 ? [der.explicit(0, der.seq(...extensions))] : []),
    ...(spec.trailing ?? []),
  );
  return der.seq(tbs, signer.algorithm, der.bitString(signer.sign(tbs).signature));
}

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return isProvenanceError(err) ? err.code : `not a ProvenanceError: ${String(err)}`;
  }
}

describe('parseCrl', () => {
  it('reads a v2 CRL: issuer, times, entries with reasons, cRLNumber and AKI', () => {
    const parsed = parseCrl(crl());
    expect(parsed.version).toBe(2);
    expect(parsed.issuer.text).toBe('CN=CRL Root');
    expect(parsed.thisUpdate).toBe(T);
    expect(parsed.nextUpdate).toBe(T + 7 * DAY);
    expect(parsed.crlNumber).toBe(7n);
    expect(parsed.authorityKeyId).toEqual(root.keyId);
    expect(parsed.revoked.map((r) => [r.serialHex, r.reason])).toEqual([
      ['1001', 'keyCompromise'],
      ['1002', null],
    ]);
    expect(parsed.isRevoked('1001')?.revocationDate).toBe(T - DAY);
  });

  it('reads a v1 CRL without extensions, and one without nextUpdate', () => {
    const v1 = parseCrl(crl({ version: null, extensions: [], entries: [entry(5)] }));
    expect(v1.version).toBe(1);
    expect(v1.crlNumber).toBeNull();
    expect(parseCrl(crl({ nextUpdate: null })).nextUpdate).toBeNull();
  });

  it('reads the invalidityDate entry extension', () => {
    const parsed = parseCrl(
      crl({ entries: [entry(9, [ext(CRL_OID.invalidityDate, der.time(Date.UTC(2060, 0, 1)))])] }),
    );
    expect(parsed.revoked[0]?.invalidityDate).toBe(Date.UTC(2060, 0, 1));
  });

  it.each([
    ['an explicit v1 version', { version: 0 }],
    ['version 3', { version: 2 }],
    ['an empty revokedCertificates list', { entries: 'empty' as const }],
    ['crlExtensions in a v1 CRL', { version: null }],
    [
      'entry extensions in a v1 CRL',
      { version: null, extensions: [], entries: [entry(1, [ext(OID.cRLReason, der.enumerated(1))])] },
    ],
    ['an empty crlExtensions', { extensions: [] as Uint8Array[], trailing: [der.explicit(0, der.seq())] }],
    [
      'a TBS signature algorithm that differs from the outer one',
      { tbsAlgorithm: der.seq(der.oid(OID.ecdsaWithSHA384)) },
    ],
    ['an unknown CRLReason', { entries: [entry(1, [ext(OID.cRLReason, der.enumerated(7))])] }],
    ['an invalidityDate in UTCTime', { entries: [entry(1, [ext(CRL_OID.invalidityDate, der.time(T))])] }],
    ['nextUpdate before thisUpdate', { nextUpdate: T - DAY }],
    ['an empty issuer name', { issuerName: der.seq() }],
    ['a field after crlExtensions', { trailing: [der.null()] }],
    ['cRLNumber twice', { extensions: [ext(OID.cRLNumber, der.int(1)), ext(OID.cRLNumber, der.int(2))] }],
    ['a negative cRLNumber', { extensions: [ext(OID.cRLNumber, der.int(-1))] }],
    ['a 21-octet cRLNumber', { extensions: [ext(OID.cRLNumber, der.int(1n << 160n))] }],
  ])('refuses %s (CRL_MALFORMED)', (_name, spec) => {
    expect(code(() => parseCrl(crl(spec as CrlSpec)))).toBe('CRL_MALFORMED');
  });

  it.each([
    ['an unknown critical CRL extension', { extensions: [ext('1.3.6.1.4.1.99999.9', der.null(), true)] }],
    [
      'a critical issuingDistributionPoint (a partitioned CRL)',
      { extensions: [ext(CRL_OID.issuingDistributionPoint, der.seq(), true)] },
    ],
    ['a deltaCRLIndicator (a delta CRL)', { extensions: [ext(CRL_OID.deltaCRLIndicator, der.int(3), true)] }],
    [
      'a certificateIssuer entry extension (an indirect CRL)',
      {
        entries: [entry(1, [ext(CRL_OID.certificateIssuer, der.seq(der.explicit(4, cn('Someone'))), true)])],
      },
    ],
  ])('refuses %s as unusable (CRL_INVALID, RFC 5280 §5.2, §5.3)', (_name, spec) => {
    expect(code(() => parseCrl(crl(spec as CrlSpec)))).toBe('CRL_INVALID');
  });

  it('ignores unknown non-critical extensions', () => {
    expect(code(() => parseCrl(crl({ extensions: [ext('1.3.6.1.4.1.99999.9', der.null())] })))).toBe('ok');
  });

  it('refuses trailing bytes and truncation with DER codes, and inputs above the limits', () => {
    const good = crl();
    expect(code(() => parseCrl(Uint8Array.from([...good, 0])))).toBe('DER_TRAILING_DATA');
    expect(code(() => parseCrl(good.subarray(0, good.length - 3)))).toBe('DER_TRUNCATED');
    expect(code(() => parseCrl(good, { maxBytes: 100 }))).toBe('INPUT_TOO_LARGE');
    expect(code(() => parseCrl(good, { maxEntries: 1 }))).toBe('DER_LIMIT_EXCEEDED');
  });

  it('reads more entries than a generic constructed element may hold (20 000)', () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => entry(i + 1));
    const parsed = parseCrl(crl({ entries }));
    expect(parsed.revoked).toHaveLength(20_000);
    expect(parsed.isRevoked((20_000).toString(16))).toBeDefined();
  });

  it('throws only ProvenanceError for mutated CRLs', () => {
    const seeds = [crl(), crl({ version: null, extensions: [], entries: [] })];
    fc.assert(
      fc.property(mutatedBytes(seeds), (m) => {
        outcome(() => verifyCrl(parseCrl(m.bytes), root.cert, { time: T }));
      }),
      fuzzParameters(1000),
    );
  });
});

describe('verifyCrl', () => {
  it('accepts a CRL signed by its issuer while it is current', () => {
    expect(code(() => verifyCrl(parseCrl(crl()), root.cert, { time: T + DAY }))).toBe('ok');
    expect(code(() => verifyCrl(parseCrl(crl()), root.cert))).toBe('ok');
  });

  it('refuses a CRL whose signature does not verify (SIGNATURE_INVALID)', () => {
    const good = crl();
    const bad = Uint8Array.from(good);
    bad[bad.length - 5]! ^= 0x01;
    expect(code(() => verifyCrl(parseCrl(bad), root.cert))).toBe('SIGNATURE_INVALID');
  });

  it('refuses a CRL of another issuer name, an issuer without cRLSign, and another AKI (CRL_INVALID)', () => {
    expect(code(() => verifyCrl(parseCrl(crl()), otherRoot.cert))).toBe('CRL_INVALID');
    expect(code(() => verifyCrl(parseCrl(crl()), noCrlSign.cert))).toBe('CRL_INVALID');
    const wrongAki = crl({
      extensions: [
        ext(OID.authorityKeyIdentifier, der.seq(der.implicitPrimitive(0, new Uint8Array(20).fill(1)))),
      ],
    });
    expect(code(() => verifyCrl(parseCrl(wrongAki), root.cert))).toBe('CRL_INVALID');
  });

  it('refuses a CRL that is out of date, not yet issued, or cannot say (no nextUpdate)', () => {
    expect(code(() => verifyCrl(parseCrl(crl()), root.cert, { time: T + 8 * DAY }))).toBe('CRL_INVALID');
    expect(code(() => verifyCrl(parseCrl(crl()), root.cert, { time: T - DAY }))).toBe('CRL_INVALID');
    expect(code(() => verifyCrl(parseCrl(crl({ nextUpdate: null })), root.cert, { time: T }))).toBe(
      'CRL_INVALID',
    );
  });
});
