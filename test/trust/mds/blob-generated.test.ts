/**
 * importMdsBlob over BLOBs made at test time (a root → intermediate → signer hierarchy from the
 * test PKI builder, JWS signed with Node's crypto, CRLs from the CA's buildCrl): the negative
 * cases the real vectors cannot show.
 */
import { constants, type KeyObject, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCrl } from '../../../src/ca/crl.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { signerFromKeyObject } from '../../../src/pki/signer.js';
import { type ImportMdsOptions, importMdsBlob } from '../../../src/trust/mds/blob.js';
import { indexMdsBlob } from '../../../src/trust/mds/entries.js';
import { ecKey, issue, rsaKey, type TestCert, type TestKey } from '../../helpers/pki.js';

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
const AAGUID = '0bb43545-fd2c-4185-87dd-feb0b2916ace';

interface Hierarchy {
  root: TestCert;
  intermediate: TestCert;
  signer: TestCert;
}

function hierarchy(signerKey: TestKey = ecKey()): Hierarchy {
  const root = issue({ subject: 'Test MDS Root', key: ecKey(), ca: {} });
  const intermediate = issue({ subject: 'Test MDS CA-1', key: ecKey(), issuer: root, ca: { pathLen: 0 } });
  const signer = issue({
    subject: 'Test MDS Signer',
    key: signerKey,
    issuer: intermediate,
    keyUsage: ['digitalSignature'],
  });
  return { root, intermediate, signer };
}

function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aaguid: AAGUID,
    metadataStatement: { description: 'Test Key', protocolFamily: 'fido2', attestationRootCertificates: [] },
    statusReports: [{ status: 'FIDO_CERTIFIED_L2', effectiveDate: '2025-01-01' }],
    timeOfLastStatusChange: '2025-01-01',
    ...overrides,
  };
}

function payload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { legalHeader: 'test', no: 7, nextUpdate: '2026-07-01', entries: [entry()], ...overrides };
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Sign `body` as a compact JWS with `alg` using `key`, with the hierarchy's x5c. */
function jwt(
  h: Hierarchy,
  body: unknown = payload(),
  options: { alg?: string; key?: KeyObject; header?: Record<string, unknown> } = {},
): string {
  const alg = options.alg ?? 'ES256';
  const header = {
    alg,
    typ: 'JWT',
    x5c: [h.signer.der, h.intermediate.der].map((d) => Buffer.from(d).toString('base64')),
    ...options.header,
  };
  const input = `${b64url(header)}.${b64url(body)}`;
  const key = options.key ?? h.signer.key.privateKey;
  const data = Buffer.from(input);
  const signature =
    alg === 'ES256'
      ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
      : alg === 'PS256'
        ? sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
        : sign('sha256', data, key);
  return `${input}.${signature.toString('base64url')}`;
}

function options(h: Hierarchy, overrides: Partial<ImportMdsOptions> = {}): ImportMdsOptions {
  return { roots: [h.root.cert], time: NOW, ...overrides };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a ProvenanceError');
}

function crl(
  issuer: TestCert,
  revokedSerials: readonly string[] = [],
  opts: { signWith?: TestKey; at?: number } = {},
) {
  const at = opts.at ?? NOW - DAY;
  const key = { ...signerFromKeyObject((opts.signWith ?? issuer.key).privateKey), kind: 'test' };
  return buildCrl({
    ca: { certificate: issuer.cert, chain: [issuer.cert], key },
    revoked: revokedSerials.map((serial) => ({ serial, revokedAt: at, reason: 'keyCompromise' })),
    thisUpdate: at,
    nextUpdate: at + 7 * DAY,
    crlNumber: 1,
  });
}

describe('importMdsBlob with a generated hierarchy', () => {
  let h: Hierarchy;
  beforeAll(() => {
    h = hierarchy();
  });

  it('accepts an ES256 BLOB whose x5c chains to the pinned root', () => {
    const blob = importMdsBlob(jwt(h), options(h));
    expect(blob).toMatchObject({ no: 7, nextUpdate: '2026-07-01', algorithm: 'ES256', staleAllowed: null });
    expect(blob.signer.subject).toContain('Test MDS Signer');
    expect(indexMdsBlob(blob).byAaguid(AAGUID)?.status.level).toBe('FIDO_CERTIFIED_L2');
  });

  it('accepts RS256 and PS256 BLOBs signed by an RSA key', () => {
    const rsa = hierarchy(rsaKey(2048));
    expect(importMdsBlob(jwt(rsa, payload(), { alg: 'RS256' }), options(rsa)).algorithm).toBe('RS256');
    expect(importMdsBlob(jwt(rsa, payload(), { alg: 'PS256' }), options(rsa)).algorithm).toBe('PS256');
    // An ES256 header over an RSA signer never verifies.
    expect(
      codeOf(() =>
        importMdsBlob(jwt(rsa, payload(), { alg: 'RS256', header: { alg: 'ES256' } }), options(rsa)),
      ),
    ).toBe('SIGNATURE_INVALID');
  });

  it('refuses alg none, HS256 and any algorithm outside RS256/ES256/PS256', () => {
    for (const alg of ['none', 'HS256', 'ES384', 'EdDSA']) {
      const [, p] = jwt(h).split('.');
      const forged = `${b64url({ alg, typ: 'JWT', x5c: [Buffer.from(h.signer.der).toString('base64')] })}.${p}.`;
      expect(codeOf(() => importMdsBlob(forged, options(h)))).toBe('ALGORITHM_NOT_ALLOWED');
    }
  });

  it('refuses keys or key URLs in the header and unknown critical header parameters', () => {
    for (const header of [
      { jwk: { kty: 'EC' } },
      { x5u: 'https://example.com/chain' },
      { jku: 'https://x' },
      { crit: ['exp'] },
    ]) {
      expect(codeOf(() => importMdsBlob(jwt(h, payload(), { header }), options(h)))).toBe('MDS_MALFORMED');
    }
    expect(codeOf(() => importMdsBlob(jwt(h, payload(), { header: { x5c: [] } }), options(h)))).toBe(
      'MDS_MALFORMED',
    );
    expect(codeOf(() => importMdsBlob(jwt(h, payload(), { header: { typ: 'JOSE+JSON' } }), options(h)))).toBe(
      'MDS_MALFORMED',
    );
  });

  it('refuses text that is not a compact JWS', () => {
    for (const text of [
      '',
      'a.b',
      'a.b.c.d',
      `${jwt(h)} `,
      `${jwt(h).replace('.', '.=')}`,
      `${jwt(h)}\n\n`,
    ]) {
      expect(codeOf(() => importMdsBlob(text, options(h)))).toBe('MDS_MALFORMED');
    }
  });

  it('refuses a BLOB signed by a key other than the x5c leaf', () => {
    expect(codeOf(() => importMdsBlob(jwt(h, payload(), { key: ecKey().privateKey }), options(h)))).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('trusts the root by key: a root with the same name and another key does not anchor the chain', () => {
    const impostor = issue({ subject: 'Test MDS Root', key: ecKey(), ca: {} });
    expect(codeOf(() => importMdsBlob(jwt(h), options(h, { roots: [impostor.cert] })))).toMatch(/^PATH_/);
  });

  it('fails early on missing roots (TypeError names the option)', () => {
    expect(() => importMdsBlob(jwt(h), { roots: [], time: NOW })).toThrow(/options\.roots/);
    expect(() => importMdsBlob(jwt(h), options(h, { allowStale: ' ' }))).toThrow(/allowStale/);
  });

  it('bounds the BLOB size and the entry count', () => {
    expect(codeOf(() => importMdsBlob(jwt(h), options(h, { maxBytes: 100 })))).toBe('INPUT_TOO_LARGE');
    const many = payload({ entries: [entry(), entry({ aaguid: '11111111-2222-3333-4444-555555555555' })] });
    expect(codeOf(() => importMdsBlob(jwt(h, many), options(h, { maxEntries: 1 })))).toBe('INPUT_TOO_LARGE');
  });

  it('refuses a payload that breaks the MDS3 schema, naming the entry', () => {
    const cases = [
      payload({ no: -1 }),
      payload({ nextUpdate: '2026-02-30' }),
      payload({ entries: 'none' }),
      payload({ entries: [entry({ aaguid: 'not-a-uuid' })] }),
      payload({ entries: [entry({ statusReports: undefined })] }),
      payload({ entries: [entry(), entry()] }),
      payload({ entries: [entry({ aaguid: undefined })] }),
    ];
    for (const body of cases)
      expect(codeOf(() => importMdsBlob(jwt(h, body), options(h)))).toBe('MDS_MALFORMED');
  });

  it('refuses a lower no than the last accepted one (rollback)', () => {
    expect(codeOf(() => importMdsBlob(jwt(h), options(h, { lastNo: 8 })))).toBe('MDS_ROLLBACK');
    expect(importMdsBlob(jwt(h), options(h, { lastNo: 7 })).no).toBe(7);
  });

  it('is stale from nextUpdate on, unless within grace or explicitly allowed', () => {
    const at = Date.parse('2026-07-01T00:00:00Z');
    expect(importMdsBlob(jwt(h), options(h, { time: at - 1 })).staleAllowed).toBeNull();
    expect(codeOf(() => importMdsBlob(jwt(h), options(h, { time: at })))).toBe('MDS_STALE');
    expect(importMdsBlob(jwt(h), options(h, { time: at, graceMs: DAY })).staleAllowed).toBeNull();
    expect(importMdsBlob(jwt(h), options(h, { time: at, allowStale: 'mirror down' })).staleAllowed).toBe(
      'mirror down',
    );
  });

  describe('CRLs of the signing chain', () => {
    it('accepts when each chain certificate has a current CRL from its issuer that does not list it', () => {
      const crls = [crl(h.intermediate), crl(h.root)];
      expect(importMdsBlob(jwt(h), options(h, { crls })).no).toBe(7);
    });

    it('rejects a signer revoked by the intermediate CRL', () => {
      const crls = [crl(h.intermediate, [h.signer.cert.serialHex]), crl(h.root)];
      expect(codeOf(() => importMdsBlob(jwt(h), options(h, { crls })))).toBe('MDS_CHAIN_REVOKED');
    });

    it('rejects an intermediate revoked by the root CRL', () => {
      const crls = [crl(h.intermediate), crl(h.root, [h.intermediate.cert.serialHex])];
      expect(codeOf(() => importMdsBlob(jwt(h), options(h, { crls })))).toBe('MDS_CHAIN_REVOKED');
    });

    it('rejects a CRL with a bad signature: it never counts as "not revoked"', () => {
      const crls = [crl(h.intermediate, [], { signWith: ecKey() }), crl(h.root)];
      expect(codeOf(() => importMdsBlob(jwt(h), options(h, { crls })))).toBe('SIGNATURE_INVALID');
    });

    it('rejects when a chain certificate has no CRL, or its CRL is out of date', () => {
      expect(codeOf(() => importMdsBlob(jwt(h), options(h, { crls: [crl(h.intermediate)] })))).toBe(
        'CRL_INVALID',
      );
      const old = [crl(h.intermediate, [], { at: NOW - 30 * DAY }), crl(h.root)];
      expect(codeOf(() => importMdsBlob(jwt(h), options(h, { crls: old })))).toBe('CRL_INVALID');
    });

    it('reads PEM CRLs and refuses bytes that are not a CRL', () => {
      const pem = (der: Uint8Array) =>
        new Uint8Array(
          Buffer.from(
            `-----BEGIN X509 CRL-----\n${Buffer.from(der).toString('base64')}\n-----END X509 CRL-----\n`,
          ),
        );
      expect(
        importMdsBlob(jwt(h), options(h, { crls: [pem(crl(h.intermediate)), pem(crl(h.root))] })).no,
      ).toBe(7);
      expect(codeOf(() => importMdsBlob(jwt(h), options(h, { crls: [Uint8Array.of(1, 2, 3)] })))).toMatch(
        /^(CRL|DER)_/,
      );
    });
  });

  it('exposes each entry root as a webauthn-only anchor named after the entry', () => {
    const attestationRoot = issue({ subject: 'Vendor Attestation Root', key: ecKey(), ca: {} });
    const body = payload({
      entries: [
        entry({
          metadataStatement: {
            description: 'Vendor key',
            attestationRootCertificates: [Buffer.from(attestationRoot.der).toString('base64'), 'AAAA'],
          },
        }),
        entry({
          aaguid: undefined,
          attestationCertificateKeyIdentifiers: ['0123456789abcdef0123456789abcdef01234567'],
        }),
      ],
    });
    const index = indexMdsBlob(importMdsBlob(jwt(h, body), options(h)));
    const anchors = index.anchors(index.byAaguid(AAGUID)!);
    expect(anchors).toHaveLength(1);
    expect(anchors[0]).toMatchObject({
      id: `mds:${AAGUID}`,
      formats: ['webauthn'],
      spkiSha256: attestationRoot.cert.spkiSha256,
    });
    expect(index.byKeyIdentifier('0123456789ABCDEF0123456789ABCDEF01234567')?.anchorId).toBe(
      'mds:0123456789abcdef0123456789abcdef01234567',
    );
  });
});
