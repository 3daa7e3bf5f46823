/**
 * The cloud-hsm format on synthetic blobs and PKIs (build.ts): both chains must validate to
 * different anchor keys; every check has a negative that names its code (flipped signature
 * byte, truncated blob, wrong root, missing owner chain, same anchor twice, key substitution in
 * a CSR, nonce without a CSR, v1 intermediates outside the Cavium scope); the blob parser and
 * container decoder only ever throw ProvenanceError on mutated input.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePem } from '../../../src/core/pem.js';
import {
  CLOUD_HSM_STATEMENT_TYPE,
  cloudHsmFormat,
  decodeAttestationBytes,
  decodeCloudHsmStatement,
  describeMarvellKey,
  encodeCloudHsmStatement,
  MARVELL_ATTR,
  MARVELL_LIMITS,
  parseMarvellAttestation,
} from '../../../src/formats/cloud-hsm/index.js';
import type { EvidenceInput } from '../../../src/formats/types.js';
import { buildCsr, parseCsr } from '../../../src/pki/csr.js';
import { encodeName } from '../../../src/pki/name.js';
import { signerFromKeyObject } from '../../../src/pki/signer.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { fuzzParameters, mutatedBytes, outcome } from '../../helpers/fuzz.js';
import { ecKey, issue, rsaKey, type TestCert } from '../../helpers/pki.js';
import { ecBlob, ecPairAttrs, hsmPki, pointOf, record, signRecord } from './build.js';

const AT = Date.UTC(2026, 0, 15);

function policyFor(...roots: TestCert[]) {
  const text = `version: 1\ntrust:\n${roots
    .map((_, i) => `  - id: root-${i}\n    certificates: [./root-${i}.pem]\n    formats: [cloud-hsm]\n`)
    .join('')}`;
  return parsePolicy(text, {
    source: 'test.yaml',
    baseDir: '.',
    readFile: (p) => {
      const i = Number(/root-(\d+)/.exec(p)![1]);
      return new TextEncoder().encode(encodePem('CERTIFICATE', roots[i]!.der));
    },
  });
}

const pki = hsmPki();
const key = ecKey();
const chain = [pki.partition.cert, pki.card.cert, pki.ownerPartition.cert];

function evidence(blob: Uint8Array, certificates = chain): EvidenceInput {
  return { kind: 'cloud-hsm', attestation: blob, certificates };
}

function verify(input: EvidenceInput, roots = [pki.root, pki.ownerRoot], nonce?: Uint8Array) {
  return createVerifier({ policy: policyFor(...roots) }).verify(input, {
    at: AT,
    ...(nonce === undefined ? {} : { nonce }),
  });
}

describe('cloud-hsm format', () => {
  it('accepts a blob signed by the partition key with both chains, and reports both', () => {
    const v = verify(evidence(ecBlob(pki, key)));
    expect(v.code).toBe('ACCEPTED');
    expect(v.path.map((e) => e.role)).toEqual(['attested-key', 'attestation-key', 'intermediate', 'root']);
    expect(v.path[0]?.spkiSha256).toBe(createHash('sha256').update(key.spki).digest('hex'));
    expect(v.findings.find((f) => f.check === 'path.additional')).toMatchObject({ ok: true });
    expect(v.claims).toMatchObject({ keyAlgorithm: 'ec-p256', generatedOnDevice: true, nonExportable: true });
    expect(v.freshness).toBe('none');
  });

  it('detects its own kind and CSRs with its statement only', () => {
    expect(cloudHsmFormat.detect(evidence(Uint8Array.of(1)))).toBe(true);
    expect(cloudHsmFormat.detect({ kind: 'certificates', certificates: chain })).toBe(false);
  });

  it('an imported or exportable key says so in the claims', () => {
    const v = verify(
      evidence(ecBlob(pki, key, { local: false, extractable: true, neverExtractable: false })),
    );
    expect(v.claims).toMatchObject({ generatedOnDevice: false, nonExportable: false, extractable: true });
  });

  it('a flipped signature byte: SIGNATURE_INVALID', () => {
    const raw = gunzipSync(ecBlob(pki, key));
    raw[raw.length - 1]! ^= 1;
    expect(verify(evidence(raw)).code).toBe('SIGNATURE_INVALID');
  });

  it('a flipped byte in the signed header: SIGNATURE_INVALID', () => {
    const raw = gunzipSync(ecBlob(pki, key));
    raw[5]! ^= 1; // the request flags: not interpreted, but signed
    expect(verify(evidence(raw)).code).toBe('SIGNATURE_INVALID');
  });

  it('a truncated blob: ATTESTATION_MALFORMED', () => {
    const raw = gunzipSync(ecBlob(pki, key));
    expect(verify(evidence(raw.subarray(0, raw.length - 1))).code).toBe('ATTESTATION_MALFORMED');
    expect(verify(evidence(raw.subarray(0, 40))).code).toBe('ATTESTATION_MALFORMED');
    const gz = ecBlob(pki, key);
    expect(verify(evidence(gz.subarray(0, gz.length - 8))).code).toBe('ATTESTATION_MALFORMED');
  });

  it('a trailing byte: ATTESTATION_MALFORMED', () => {
    const raw = gunzipSync(ecBlob(pki, key));
    expect(verify(evidence(Buffer.concat([raw, Buffer.of(0)]))).code).toBe('ATTESTATION_MALFORMED');
  });

  it('a wrong manufacturer root: the main path fails', () => {
    const other = issue({ subject: 'Test HSM Maker Root', key: ecKey('P-384'), ca: {} });
    expect(verify(evidence(ecBlob(pki, key)), [other, pki.ownerRoot]).code).toBe('PATH_SIGNATURE_INVALID');
  });

  it('a wrong owner root: the additional path fails, named in the findings', () => {
    const other = issue({ subject: 'Test Cloud Owner Root', key: ecKey('P-384'), ca: {} });
    const v = verify(evidence(ecBlob(pki, key)), [pki.root, other]);
    expect(v.code).toBe('PATH_SIGNATURE_INVALID');
    expect(v.findings.find((f) => f.check === 'path.additional')).toMatchObject({ ok: false });
  });

  it('no owner certificate: ATTESTATION_INVALID (both chains are required)', () => {
    expect(verify(evidence(ecBlob(pki, key), [pki.partition.cert, pki.card.cert])).code).toBe(
      'ATTESTATION_INVALID',
    );
  });

  it('both partition certificates under one anchor key: PATH_NOT_FOUND', () => {
    const second = issue({ subject: 'HSM:TEST-CARD:PARTN:1', key: pki.partitionKey, issuer: pki.root });
    const v = verify(evidence(ecBlob(pki, key), [pki.partition.cert, pki.card.cert, second.cert]), [
      pki.root,
    ]);
    expect(v.code).toBe('PATH_NOT_FOUND');
  });

  it('a signature by another key: SIGNATURE_INVALID', () => {
    const other = hsmPkiWithKey();
    expect(verify(evidence(ecBlob(other, key))).code).toBe('SIGNATURE_INVALID');
  });

  it('X.509 v1 intermediates outside the Cavium root key scope: PATH_NOT_CA', () => {
    const card = issue({ subject: 'HSM:V1-CARD', key: ecKey(), issuer: pki.root, version: 1 });
    const partition = issue({ subject: 'HSM:V1-CARD:PARTN:1', key: pki.partitionKey, issuer: card });
    const v = verify(evidence(ecBlob(pki, key), [partition.cert, card.cert, pki.ownerPartition.cert]));
    expect(v.code).toBe('PATH_NOT_CA');
  });

  it('an expected nonce without a CSR: NONCE_MISSING', () => {
    expect(verify(evidence(ecBlob(pki, key)), undefined, new Uint8Array(16)).code).toBe('NONCE_MISSING');
  });

  it('a symmetric key: ATTESTATION_INVALID', () => {
    const attrs = [
      [MARVELL_ATTR.class, Uint8Array.of(4)],
      [MARVELL_ATTR.keyType, Uint8Array.of(0x1f)],
      [MARVELL_ATTR.valueLen, Uint8Array.of(0, 0, 0, 32)],
      [MARVELL_ATTR.extractable, Uint8Array.of(0)],
      [MARVELL_ATTR.neverExtractable, Uint8Array.of(1)],
      [MARVELL_ATTR.local, Uint8Array.of(1)],
      [MARVELL_ATTR.sensitive, Uint8Array.of(1)],
    ] as const;
    const blob = signRecord(record([{ handle: 7, attrs }]), pki.partitionKey);
    expect(describeMarvellKey(parseMarvellAttestation(blob))).toMatchObject({
      keyAlgorithm: 'aes',
      keySize: 256,
    });
    expect(verify(evidence(blob)).code).toBe('ATTESTATION_INVALID');
  });

  it('refuses malformed attributes: a non-boolean flag, a duplicate, a missing never-extractable', () => {
    const { pub, priv } = ecPairAttrs(pointOf(key));
    const sign = (privAttrs: typeof priv) =>
      signRecord(
        record([
          { handle: 1, attrs: pub },
          { handle: 2, attrs: privAttrs },
        ]),
        pki.partitionKey,
      );
    const flag2 = priv.map(([t, v]) => [t, t === MARVELL_ATTR.local ? Uint8Array.of(2) : v] as const);
    expect(outcome(() => describeMarvellKey(parseMarvellAttestation(sign(flag2))))).toBe(
      'ATTESTATION_MALFORMED',
    );
    const dup = [...priv, priv[0]!];
    expect(outcome(() => parseMarvellAttestation(sign(dup)))).toBe('ATTESTATION_MALFORMED');
    const missing = priv.filter(([t]) => t !== MARVELL_ATTR.neverExtractable);
    expect(outcome(() => describeMarvellKey(parseMarvellAttestation(sign(missing))))).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('container: junk text, bad gzip, a gzip bomb', () => {
    expect(outcome(() => decodeAttestationBytes(Buffer.from('a')))).toBe('ATTESTATION_MALFORMED');
    expect(
      outcome(() => parseMarvellAttestation(decodeAttestationBytes(Buffer.from('not base64 at all!')))),
    ).toBe('ATTESTATION_MALFORMED');
    expect(outcome(() => decodeAttestationBytes(Buffer.from([0x1f, 0x8b, 1, 2, 3])))).toBe(
      'ATTESTATION_MALFORMED',
    );
    const bomb = gzipSync(Buffer.alloc(MARVELL_LIMITS.maxBytes + 1));
    expect(outcome(() => decodeAttestationBytes(bomb))).toBe('INPUT_TOO_LARGE');
  });

  describe('in a CSR', () => {
    function csrWith(blob: Uint8Array, signerKey = key, nonce?: Uint8Array): EvidenceInput {
      const der = buildCsr({
        subject: encodeName('CN=hsm key'),
        signer: signerFromKeyObject(signerKey.privateKey),
        attestation: {
          statements: [{ type: CLOUD_HSM_STATEMENT_TYPE, stmt: encodeCloudHsmStatement(blob) }],
          certificates: chain.map((c) => c.der),
        },
        ...(nonce === undefined ? {} : { nonce }),
      });
      return { kind: 'csr', csr: parseCsr(der), certificates: [] };
    }

    it('the attested key signs the CSR with the nonce: accepted with possession freshness', () => {
      const nonce = new Uint8Array(16).fill(7);
      const v = verify(csrWith(ecBlob(pki, key), key, nonce), undefined, nonce);
      expect(v.code).toBe('ACCEPTED');
      expect(v.freshness).toBe('possession');
    });

    it('another key in the CSR: KEY_MISMATCH', () => {
      expect(verify(csrWith(ecBlob(pki, key), ecKey())).code).toBe('KEY_MISMATCH');
    });

    it('a different nonce: NONCE_MISMATCH', () => {
      const v = verify(
        csrWith(ecBlob(pki, key), key, new Uint8Array(16)),
        undefined,
        new Uint8Array(16).fill(1),
      );
      expect(v.code).toBe('NONCE_MISMATCH');
    });

    it('a statement that is not an OCTET STRING: ATTESTATION_MALFORMED', () => {
      expect(outcome(() => decodeCloudHsmStatement(Uint8Array.of(0x30, 0)))).toBe('ATTESTATION_MALFORMED');
      expect(outcome(() => decodeCloudHsmStatement(Uint8Array.of(0x04)))).toBe('ATTESTATION_MALFORMED');
    });
  });

  it('fuzz: mutated blobs (raw and gzip) only ever throw ProvenanceError', () => {
    const raw = gunzipSync(ecBlob(pki, key));
    fc.assert(
      fc.property(mutatedBytes([raw], false), (m) => {
        outcome(() => describeMarvellKey(parseMarvellAttestation(decodeAttestationBytes(m.bytes))));
      }),
      fuzzParameters(400),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        outcome(() => describeMarvellKey(parseMarvellAttestation(decodeAttestationBytes(bytes))));
      }),
      fuzzParameters(300),
    );
  });
});

/** The same certificates, but blobs signed by an RSA key the partition certificates do not carry. */
function hsmPkiWithKey() {
  return { ...pki, partitionKey: rsaKey(2048) };
}
