/**
 * Entry roots as anchors with real authenticator chains: the metadata statements and attestation
 * x5c chains from ../shared/vectors/fido-mds/simplewebauthn/verifyAttestationWithMetadata, each
 * wrapped in a BLOB entry, validated with validatePath and decided with checkMdsEntry.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../../src/pki/certificate.js';
import { validatePath } from '../../../src/pki/path.js';
import { checkMdsEntry } from '../../../src/trust/mds/decision.js';
import { indexMdsBlob, parseMdsEntries } from '../../../src/trust/mds/entries.js';
import type { MdsIndex } from '../../../src/trust/mds/types.js';
import { MDS_VECTORS, reportMissingVectors, vectorPath } from './vectors.js';

reportMissingVectors('MDS metadata statement vector tests');

const DIR = 'simplewebauthn/verifyAttestationWithMetadata/';
const TIME = Date.parse('2025-01-01T00:00:00Z');

interface Vector {
  metadataStatement: { aaguid: string; attestationRootCertificates: string[] };
  x5c_b64: string[];
}

function load(file: string): { index: MdsIndex; vector: Vector } {
  const vector = JSON.parse(readFileSync(vectorPath(DIR + file), 'utf8')) as Vector;
  const [entry] = parseMdsEntries([
    {
      aaguid: vector.metadataStatement.aaguid,
      metadataStatement: vector.metadataStatement,
      statusReports: [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2020-01-01' }],
    },
  ]);
  const index = indexMdsBlob({
    no: 1,
    nextUpdate: '2099-01-01',
    legalHeader: null,
    digest: '',
    algorithm: 'ES256',
    signer: { subject: 'test', certificateSha256: '' },
    root: { subject: 'test', spkiSha256: '' },
    staleAllowed: null,
    entries: [entry!],
  });
  return { index, vector };
}

function decide(file: string) {
  const { index, vector } = load(file);
  const chain = vector.x5c_b64.map((c) => parseCertificate(new Uint8Array(Buffer.from(c, 'base64'))));
  const entry = index.byAaguid(vector.metadataStatement.aaguid)!;
  const path = validatePath(chain[0]!, {
    anchors: index.anchors(entry),
    intermediates: chain.slice(1),
    time: TIME,
  });
  return checkMdsEntry(index, {
    aaguid: vector.metadataStatement.aaguid,
    path: path.certificates,
    anchorSpkiSha256: path.anchor.spkiSha256,
    minLevel: 1,
  });
}

describe.skipIf(!MDS_VECTORS)('MDS entry roots with real attestation chains', () => {
  it('accepts the IDmelon (Vancosys) chain under its updated metadata root', () => {
    expect(decide('should-verify-idmelon-attestation-with-updated-root-certificate.json')).toMatchObject({
      ok: true,
      levelRank: 1,
    });
  });

  it('accepts the HID Crescendo chain whose metadata root is an intermediate CA', () => {
    expect(decide('should-verify-when-trust-anchor-is-an-intermediate-certificate.json')).toMatchObject({
      ok: true,
    });
  });

  it("does not accept one entry's chain under another entry's roots", () => {
    const hid = load('should-verify-when-trust-anchor-is-an-intermediate-certificate.json');
    const idmelon = load('should-verify-idmelon-attestation-with-updated-root-certificate.json');
    const leaf = parseCertificate(new Uint8Array(Buffer.from(idmelon.vector.x5c_b64[0]!, 'base64')));
    const anchors = hid.index.anchors(hid.index.byAaguid(hid.vector.metadataStatement.aaguid)!);
    expect(() => validatePath(leaf, { anchors, intermediates: [], time: TIME })).toThrow(
      expect.objectContaining({ code: 'PATH_NOT_FOUND' }),
    );
  });
});
