/**
 * FIDO MDS (MANIFEST.md §6) through `provenance/trust/mds`: each BLOB through `importMdsBlob`
 * under its pinned root at its pinned time; each metadata-based attestation check as an MDS
 * entry whose roots are the anchors (`indexMdsBlob`, `validatePath`, `checkMdsEntry`); metadata
 * statements through `parseMdsEntries`; certificates and CRLs through the strict parsers.
 */
import { fail } from '../../src/core/errors.js';
import { isPem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCrl } from '../../src/pki/crl.js';
import { validatePath } from '../../src/pki/path.js';
import { importMdsBlob } from '../../src/trust/mds/blob.js';
import { checkMdsEntry } from '../../src/trust/mds/decision.js';
import { indexMdsBlob, parseMdsEntries } from '../../src/trust/mds/entries.js';
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

const M = 'fido-mds/';

/** BLOB → the root it must chain to (MANIFEST.md §6). */
const BLOB_ROOTS: Readonly<Record<string, string>> = {
  'webauthn4j/production-mds3-blob_no9_2021-11.jwt': 'webauthn4j/root-r3.crt',
  'fido2-lib/production-mds3-blob_no12_2022-02.jwt': 'go-webauthn/globalsign-root-r3_production-mds-root.pem',
  'simplewebauthn/fake-mds3-blob.jwt': 'go-webauthn/fido-mds-conformance-MDS3ROOT.pem',
  'go-webauthn/mds3-spec-example-blob.jwt': 'go-webauthn/mds3-spec-example-root.pem',
};

function blob(v: Vectors, rel: string, at: number): Actual {
  const b = importMdsBlob(v.text(M + rel).trim(), { roots: [v.cert(M + BLOB_ROOTS[rel]!)], time: at });
  return { outcome: 'accept', message: `BLOB no ${b.no}, ${b.entries.length} entries, ${b.algorithm}` };
}

interface MetadataCheck {
  metadataStatement: { aaguid: string; attestationRootCertificates: string[] } & Record<string, unknown>;
  x5c_b64: string[];
}

/** A metadata-based attestation check: the entry's roots are the anchors of the x5c path. */
function metadataCheck(v: Vectors, file: string, at: number): Actual {
  const vector = v.json<MetadataCheck>(file);
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
    signer: { subject: 'conformance:vectors', certificateSha256: '' },
    root: { subject: 'conformance:vectors', spkiSha256: '' },
    staleAllowed: null,
    entries: [entry!],
  });
  const chain = vector.x5c_b64.map((c) => parseCertificate(new Uint8Array(Buffer.from(c, 'base64'))));
  const found = index.byAaguid(vector.metadataStatement.aaguid);
  if (!found) return fail('POLICY_NO_MATCH', 'the entry is not indexed by its AAGUID');
  const path = validatePath(chain[0]!, {
    anchors: index.anchors(found),
    intermediates: chain.slice(1),
    time: at,
  });
  const d = checkMdsEntry(index, {
    aaguid: vector.metadataStatement.aaguid,
    path: path.certificates,
    anchorSpkiSha256: path.anchor.spkiSha256,
  });
  if (!d.ok) return { outcome: 'reject', code: d.code, message: d.reason };
  return { outcome: 'accept', message: `path of ${path.certificates.length} to ${path.anchor.id}` };
}

/** Run one fido-mds entry. */
export function runFidoMds(v: Vectors, file: string, exp: Expectation | null): Actual {
  return attempt(() => {
    const rel = file.slice(M.length);
    const at = exp?.at;
    if (rel in BLOB_ROOTS) {
      if (at === undefined) fail('USAGE', 'a BLOB needs a pinned time');
      return blob(v, rel, at);
    }
    if (rel.startsWith('simplewebauthn/verifyAttestationWithMetadata/')) {
      if (at === undefined) fail('USAGE', 'a metadata check needs a pinned time');
      return metadataCheck(v, file, at);
    }
    if (rel.endsWith('.crl')) {
      const bytes = v.bytes(file);
      const crl = parseCrl(
        isPem(bytes) ? Buffer.from(v.text(file).replace(/-----[^-]+-----|\s/g, ''), 'base64') : bytes,
      );
      return { outcome: 'parse', message: `CRL, ${crl.revoked.length} revoked` };
    }
    if (rel.endsWith('.json')) {
      const statement = v.json<Record<string, unknown>>(file);
      const keyIds = statement['attestationCertificateKeyIdentifiers'];
      const [entry] = parseMdsEntries([
        {
          ...(typeof statement['aaguid'] === 'string' ? { aaguid: statement['aaguid'] } : {}),
          ...(Array.isArray(keyIds) ? { attestationCertificateKeyIdentifiers: keyIds } : {}),
          metadataStatement: statement,
          statusReports: [{ status: 'FIDO_CERTIFIED', effectiveDate: '2020-01-01' }],
        },
      ]);
      return { outcome: 'parse', message: `metadata statement: ${entry?.description ?? '?'}` };
    }
    const certs = v.certs(file);
    return { outcome: 'parse', message: `${certs.length} certificate(s)` };
  });
}
