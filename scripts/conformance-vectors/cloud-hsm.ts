/**
 * Google Cloud HSM / Marvell (MANIFEST.md §7): each attestation blob with the certificates
 * delivered with it through `createVerifier(...).verify({ kind: 'cloud-hsm', … })` under a
 * policy that trusts the manufacturer (Cavium) and owner (Google Hawksbill) roots for
 * `cloud-hsm`; each certificates file is checked on its own: the blob's partition certificates
 * found (`checkCloudHsmEvidence`) and both chains validated to the two roots.
 */

import { fail } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { decodeAttestationBytes, parseMarvellAttestation } from '../../src/formats/cloud-hsm/blob.js';
import {
  CLOUD_HSM_ANCHOR_IDS,
  CLOUD_HSM_PATH_QUIRKS,
  checkCloudHsmEvidence,
} from '../../src/formats/cloud-hsm/index.js';
import { anchorFromCertificate } from '../../src/pki/anchor.js';
import type { Certificate } from '../../src/pki/certificate.js';
import { describeKey } from '../../src/pki/keys.js';
import { validatePath } from '../../src/pki/path.js';
import { policyFromOptions } from '../../src/policy/from-options.js';
import { createVerifier } from '../../src/verify/verifier.js';
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

const H = 'cloud-hsm/';
const ROOTS = `${H}peculiar-attestation/marvell-roots.pem`;

/** blob → the certificates delivered with it. */
const BLOBS: Readonly<Record<string, string>> = {
  'gcp-cloudkms-smallstep/ec.dat.gz': 'gcp-cloudkms-smallstep/ec.certs.pem',
  'gcp-cloudkms-smallstep/rsa.dat.gz': 'gcp-cloudkms-smallstep/rsa.certs.pem',
  'gcp-cloudkms-smallstep/aes.dat.gz': 'gcp-cloudkms-smallstep/aes.certs.pem',
  'peculiar-attestation/marvell-cloudhsm-2024.dat.gz': 'peculiar-attestation/marvell-cloudhsm-2024.chain.pem',
};

function roots(v: Vectors): { cavium: Certificate; google: Certificate } {
  const all = v.certs(ROOTS);
  const cavium = all.find((c) => c.subject.text.toLowerCase().includes('cavium'));
  const google = all.find((c) => c !== cavium);
  if (!cavium || !google)
    return fail('TRUST_NO_ANCHORS', 'marvell-roots.pem must hold the Cavium and Google roots');
  return { cavium, google };
}

function atOf(exp: Expectation | null): number {
  return exp?.at ?? fail('USAGE', 'this vector needs a pinned time in the expectations');
}

function verifyBlob(v: Vectors, blob: string, at: number): Actual {
  const r = roots(v);
  const policy = policyFromOptions({
    trust: [
      { certificate: r.cavium, id: CLOUD_HSM_ANCHOR_IDS.manufacturerRoot, formats: ['cloud-hsm'] },
      { certificate: r.google, id: CLOUD_HSM_ANCHOR_IDS.ownerRoot, formats: ['cloud-hsm'] },
    ],
    source: 'conformance:vectors cloud-hsm',
  });
  const verdict = createVerifier({ policy }).verify(
    { kind: 'cloud-hsm', attestation: v.bytes(H + blob), certificates: v.certs(H + BLOBS[blob]!) },
    { at },
  );
  const quirks = verdict.quirks.map((q) => q.id).join(', ');
  return verdict.accepted
    ? { outcome: 'accept', message: `${verdict.claims?.keyAlgorithm} key; quirks: ${quirks || 'none'}` }
    : { outcome: 'reject', code: verdict.code, message: verdict.message };
}

function chains(v: Vectors, certsFile: string, at: number): Actual {
  const blob = Object.entries(BLOBS).find(([, c]) => c === certsFile)![0];
  const all = v.certs(H + certsFile);
  const ev = checkCloudHsmEvidence(v.bytes(H + blob), all);
  const r = roots(v);
  const anchors = [
    anchorFromCertificate(r.cavium, { id: CLOUD_HSM_ANCHOR_IDS.manufacturerRoot, formats: ['cloud-hsm'] }),
    anchorFromCertificate(r.google, { id: CLOUD_HSM_ANCHOR_IDS.ownerRoot, formats: ['cloud-hsm'] }),
  ];
  const m = validatePath(ev.manufacturerPartition, {
    anchors,
    intermediates: all,
    time: at,
    quirks: CLOUD_HSM_PATH_QUIRKS,
  });
  const o = validatePath(ev.ownerPartition, { anchors, intermediates: all, time: at });
  if (m.anchor.id === o.anchor.id) fail('PATH_INVALID', 'both chains end at the same anchor');
  return { outcome: 'accept', message: `manufacturer chain → ${m.anchor.id}, owner chain → ${o.anchor.id}` };
}

/** Run one cloud-hsm entry. */
export function runCloudHsm(v: Vectors, file: string, exp: Expectation | null): Actual {
  return attempt(() => {
    const rel = file.slice(H.length);
    if (rel in BLOBS) return verifyBlob(v, rel, atOf(exp));
    if (Object.values(BLOBS).includes(rel)) return chains(v, rel, atOf(exp));
    if (rel.endsWith('.dat.gz')) {
      const att = parseMarvellAttestation(decodeAttestationBytes(v.bytes(file)));
      return { outcome: 'parse', message: `Marvell attestation, ${att.signedData.length} signed bytes` };
    }
    if (rel.endsWith('-pub.pem')) {
      const d = describeKey(decodePem(v.text(file))[0]!.der);
      return { outcome: 'parse', message: `SubjectPublicKeyInfo, ${d.keyAlgorithm}` };
    }
    return { outcome: 'parse', message: `${v.certs(file).length} certificate(s)` };
  });
}
