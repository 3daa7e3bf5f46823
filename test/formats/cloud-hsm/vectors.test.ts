/**
 * Real Google Cloud HSM (Marvell LiquidSecurity) attestations from ../shared/vectors/cloud-hsm
 * (MANIFEST.md §12), read in place and verified at pinned times inside every certificate's
 * validity: the EC and RSA Cloud KMS blobs and the 2024 EC blob verify through createVerifier
 * with both chains (Cavium manufacturer, Google owner); the AES blob's signature and chains
 * verify but the verifier refuses a secret key; the RSA parser-only blob parses. Skips with a
 * printed reason when the vectors are absent, except in CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePem } from '../../../src/core/pem.js';
import {
  CLOUD_HSM_ANCHOR_IDS,
  CLOUD_HSM_PATH_QUIRKS,
  checkCloudHsmEvidence,
  decodeAttestationBytes,
  describeMarvellKey,
  parseMarvellAttestation,
} from '../../../src/formats/cloud-hsm/index.js';
import type { EvidenceInput } from '../../../src/formats/types.js';
import { anchorFromCertificate } from '../../../src/pki/anchor.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';
import { publicKeyObject } from '../../../src/pki/keys.js';
import { validatePath } from '../../../src/pki/path.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { createVerifier } from '../../../src/verify/verifier.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const HSM = join(VECTORS, 'cloud-hsm');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping cloud HSM vector tests: ${reason}`);
  }
}

function certs(...parts: string[]): Certificate[] {
  return decodePem(readFileSync(join(HSM, ...parts), 'utf8')).map((b) => parseCertificate(b.der));
}

/** Roots (Cavium first, then Hawksbill) as MANIFEST lists them in marvell-roots.pem. */
function roots(): { cavium: Certificate; google: Certificate } {
  const [a, b] = certs('peculiar-attestation', 'marvell-roots.pem');
  const cavium = [a!, b!].find((c) => c.subject.text.includes('cavium'))!;
  const google = [a!, b!].find((c) => c !== cavium)!;
  return { cavium, google };
}

function policy(only?: 'cavium' | 'google') {
  const r = roots();
  const entries = [
    ['cavium', CLOUD_HSM_ANCHOR_IDS.manufacturerRoot, r.cavium],
    ['google', CLOUD_HSM_ANCHOR_IDS.ownerRoot, r.google],
  ] as const;
  const chosen = entries.filter(([k]) => only === undefined || k === only);
  const text = `version: 1\ntrust:\n${chosen
    .map(([k, id]) => `  - id: ${id}\n    certificates: [./${k}.pem]\n    formats: [cloud-hsm]\n`)
    .join('')}`;
  return parsePolicy(text, {
    source: 'test.yaml',
    baseDir: '.',
    readFile: (p) => {
      const cert = p.includes('cavium') ? r.cavium : r.google;
      return new TextEncoder().encode(
        `-----BEGIN CERTIFICATE-----\n${Buffer.from(cert.der).toString('base64')}\n-----END CERTIFICATE-----\n`,
      );
    },
  });
}

/** The KMS vectors: chain validity windows from the MANIFEST (leaf certs 2018/2019/2024 .. 2025-11-16). */
const KMS = [
  { name: 'ec', at: Date.UTC(2025, 0, 15), keyAlgorithm: 'ec-p256', keySize: 256 },
  { name: 'rsa', at: Date.UTC(2025, 0, 15), keyAlgorithm: 'rsa', keySize: 2048 },
] as const;

describe.runIf(available)('cloud HSM real vectors', () => {
  for (const v of KMS) {
    it(`Cloud KMS ${v.name} attestation verifies with both chains at a pinned time`, () => {
      const input: EvidenceInput = {
        kind: 'cloud-hsm',
        attestation: readFileSync(join(HSM, 'gcp-cloudkms-smallstep', `${v.name}.dat.gz`)),
        certificates: certs('gcp-cloudkms-smallstep', `${v.name}.certs.pem`),
      };
      const verdict = createVerifier({ policy: policy() }).verify(input, { at: v.at });
      expect(verdict.findings.filter((f) => !f.ok)).toEqual([]);
      expect(verdict.code).toBe('ACCEPTED');
      expect(verdict.format).toBe('cloud-hsm');
      expect(verdict.claims).toMatchObject({
        keyAlgorithm: v.keyAlgorithm,
        keySize: v.keySize,
        generatedOnDevice: true,
        nonExportable: true,
        extractable: false,
        neverExtractable: true,
      });
      expect(verdict.path.at(-1)?.anchor).toBe(CLOUD_HSM_ANCHOR_IDS.manufacturerRoot);
      const extra = verdict.findings.find((f) => f.check === 'path.additional');
      expect(extra?.detail?.['anchor']).toBe(CLOUD_HSM_ANCHOR_IDS.ownerRoot);
      expect(verdict.quirks.map((q) => [q.id, q.position])).toEqual([
        ['cavium-v1-card-certificate', 2],
        ['cavium-v1-root-certificate', 3],
      ]);
    });
  }

  it('the attested keys are valid public keys (the ec-pub.pem and rsa-pub.pem files are other keys)', () => {
    for (const name of ['ec', 'rsa']) {
      const ev = checkCloudHsmEvidence(
        readFileSync(join(HSM, 'gcp-cloudkms-smallstep', `${name}.dat.gz`)),
        certs('gcp-cloudkms-smallstep', `${name}.certs.pem`),
      );
      // Node decodes the SPKI the blob's point / modulus produced (off-curve points would throw).
      expect(publicKeyObject(ev.key.spki!).asymmetricKeyType).toBe(name);
      const other = decodePem(
        readFileSync(join(HSM, 'gcp-cloudkms-smallstep', `${name}-pub.pem`), 'utf8'),
      )[0]!;
      expect(Buffer.from(other.der).equals(Buffer.from(ev.key.spki!))).toBe(false);
    }
  });

  it('the 2024 Marvell EC blob verifies with its chain and the two roots', () => {
    const chain = certs('peculiar-attestation', 'marvell-cloudhsm-2024.chain.pem');
    const input: EvidenceInput = {
      kind: 'cloud-hsm',
      attestation: readFileSync(join(HSM, 'peculiar-attestation', 'marvell-cloudhsm-2024.dat.gz')),
      certificates: chain,
    };
    const verdict = createVerifier({ policy: policy() }).verify(input, { at: Date.UTC(2025, 5, 1) });
    expect(verdict.findings.filter((f) => !f.ok)).toEqual([]);
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims?.keyAlgorithm).toMatch(/^ec-/);
  });

  it('the AES attestation: signature and both chains verify, the verifier refuses a secret key', () => {
    const blob = readFileSync(join(HSM, 'gcp-cloudkms-smallstep', 'aes.dat.gz'));
    const all = certs('gcp-cloudkms-smallstep', 'aes.certs.pem');
    const ev = checkCloudHsmEvidence(blob, all);
    expect(ev.key).toMatchObject({ keyAlgorithm: 'aes', keySize: 256, spki: null, local: true });
    const r = roots();
    const anchors = [
      anchorFromCertificate(r.cavium, { id: 'cavium', formats: ['cloud-hsm'] }),
      anchorFromCertificate(r.google, { id: 'google', formats: ['cloud-hsm'] }),
    ];
    const at = Date.UTC(2025, 0, 15);
    const m = validatePath(ev.manufacturerPartition, {
      anchors,
      intermediates: all,
      time: at,
      quirks: CLOUD_HSM_PATH_QUIRKS,
    });
    const o = validatePath(ev.ownerPartition, { anchors, intermediates: all, time: at });
    expect([m.anchor.id, o.anchor.id]).toEqual(['cavium', 'google']);
    const verdict = createVerifier({ policy: policy() }).verify(
      { kind: 'cloud-hsm', attestation: blob, certificates: all },
      { at },
    );
    expect(verdict.code).toBe('ATTESTATION_INVALID');
  });

  it('the parser-only RSA blob parses as an RSA key pair', () => {
    const att = parseMarvellAttestation(
      decodeAttestationBytes(readFileSync(join(HSM, 'peculiar-attestation', 'marvell-rsa.dat.gz'))),
    );
    const key = describeMarvellKey(att);
    expect(key.keyAlgorithm).toBe('rsa');
    expect(key.spki).not.toBeNull();
  });

  it('plain, base64 and base64url forms of a blob decode to the same record', () => {
    const gz = readFileSync(join(HSM, 'gcp-cloudkms-smallstep', 'ec.dat.gz'));
    const raw = gunzipSync(gz);
    for (const form of [gz, raw, Buffer.from(gz.toString('base64')), Buffer.from(gz.toString('base64url'))]) {
      expect(Buffer.from(decodeAttestationBytes(form))).toEqual(raw);
    }
  });
});
