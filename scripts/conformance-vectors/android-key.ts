/**
 * Android Key Attestation (MANIFEST.md §3): each device chain through
 * `createVerifier({ formats: [androidKeyFormat] }).verify` under a policy that trusts the Google
 * roots (the four RSA certificates of one key, and the P-384 "Key Attestation CA1") for
 * `android-key` with the sample status list, at the chain's pinned time and with its challenge.
 * The google/android-key-attestation chains are cert0..cert3 of a folder: every file of a folder
 * runs the folder's case. Expected-KeyDescription JSON files are compared with the parser's
 * challenge; lone leaves parse their KeyDescription; roots, status list and JSON parse.
 */
import { fail } from '../../src/core/errors.js';
import {
  androidKeyFormat,
  KEY_DESCRIPTION_OID,
  parseKeyDescription,
} from '../../src/formats/android-key/index.js';
import { anchorFromCertificate } from '../../src/pki/anchor.js';
import { validatePath } from '../../src/pki/path.js';
import { parsePolicy } from '../../src/policy/load.js';
import { normaliseSerialHex, parseStatusList } from '../../src/trust/revocation/status-list.js';
import { createVerifier } from '../../src/verify/verifier.js';
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

const A = 'android-key/';
const KA = `${A}android-keyattestation/`;
const GAKA = `${A}google-android-key-attestation/`;

function policy(v: Vectors) {
  const list = (xs: string[]) => xs.map((x) => JSON.stringify(v.path(A + x))).join(', ');
  const status = JSON.stringify(v.path(`${GAKA}status.json`));
  const text = `version: 1
trust:
  - id: google-hardware-attestation-rsa
    certificates: [${list([1, 2, 3, 4].map((n) => `simplewebauthn/Google_Hardware_Attestation_Root_${n}.pem`))}]
    formats: [android-key]
    statusList: ${status}
  - id: google-key-attestation-ca1
    certificates: [${list(['smallstep-certificates/google-key-attestation-ca1-ec-p384-2025.pem'])}]
    formats: [android-key]
    statusList: ${status}
`;
  return parsePolicy(text, { source: 'conformance:vectors android-key', baseDir: v.path(A) });
}

/** JSON with `//` line comments (android/keyattestation's expected files). */
function jsonc(v: Vectors, file: string): Record<string, unknown> {
  const text = v.text(file).replace(/^\s*\/\/.*$/gm, '');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return fail('INPUT_UNRECOGNIZED', `${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function verifyChain(v: Vectors, files: string[], exp: Expectation | null): Actual {
  const certificates = files.flatMap((f) => v.certs(f));
  const nonce =
    exp?.challenge === undefined ? undefined : new Uint8Array(Buffer.from(exp.challenge, 'base64url'));
  const verdict = createVerifier({ policy: policy(v), formats: [androidKeyFormat] }).verify(
    { kind: 'certificates', certificates },
    { ...(exp?.at === undefined ? {} : { at: exp.at }), ...(nonce ? { nonce } : {}) },
  );
  const quirks = [...new Set(verdict.quirks.map((q) => q.id))].join(', ');
  return verdict.accepted
    ? {
        outcome: 'accept',
        message: `${verdict.claims?.securityLevel}, ${verdict.claims?.keyAlgorithm}${quirks ? `; quirks: ${quirks}` : ''}`,
      }
    : { outcome: 'reject', code: verdict.code, message: verdict.message };
}

function leafKeyDescription(v: Vectors, file: string) {
  const leaf = v.cert(file);
  const ext = leaf.extension(KEY_DESCRIPTION_OID);
  if (!ext) return fail('ATTESTATION_MISSING', 'no KeyDescription extension in the leaf');
  return parseKeyDescription(ext.value);
}

/** Run one android-key entry. */
export function runAndroidKey(v: Vectors, file: string, exp: Expectation | null): Actual {
  return attempt(() => {
    if (file.startsWith(GAKA) && /\/cert[0-3]\.pem$/.test(file)) {
      const dir = file.slice(0, file.lastIndexOf('/'));
      return verifyChain(
        v,
        [0, 1, 2, 3].map((i) => `${dir}/cert${i}.pem`),
        exp,
      );
    }
    if (file.startsWith(KA) && /\/sdk\d+\/[^/]+\.pem$/.test(file)) return verifyChain(v, [file], exp);
    if (file.startsWith(`${KA}invalid/`)) return verifyChain(v, [file], exp);
    if (file.startsWith(KA) && /\/sdk\d+\/[^/]+\.json$/.test(file)) {
      // The expected KeyDescription: its challenge must be the one the parser reads from the leaf.
      const expected = jsonc(v, file);
      const kd = leafKeyDescription(v, file.replace(/\.json$/, '.pem'));
      const want = Buffer.from(String(expected['attestationChallenge'] ?? ''), 'base64');
      if (!want.equals(Buffer.from(kd.attestationChallenge)))
        fail('NONCE_MISMATCH', 'the parsed attestationChallenge differs from the expected JSON');
      return { outcome: 'parse', message: 'expected KeyDescription agrees on the challenge' };
    }
    if (file === `${KA}allow_while_on_body.pem`) {
      const kd = leafKeyDescription(v, file);
      return { outcome: 'parse', message: `KeyDescription v${kd.attestationVersion}` };
    }
    if (file === `${KA}p256_sha384_intermediate.pem`) {
      const chain = v.certs(file);
      const root = chain[chain.length - 1]!;
      const path = validatePath(chain[0]!, {
        anchors: [anchorFromCertificate(root, { id: 'test-root', formats: 'any' })],
        intermediates: chain.slice(1, -1),
        time: exp?.at ?? fail('USAGE', 'needs a pinned time'),
      });
      return { outcome: 'accept', message: `path of ${path.certificates.length} to its last certificate` };
    }
    if (file === `${GAKA}test-cert-suspended.pem`) {
      // The status list (Android's revocation mechanism) marks this certificate: refused.
      const list = parseStatusList(v.bytes(`${GAKA}status.json`));
      const serial = normaliseSerialHex(v.cert(file).serialHex);
      const entry = list.entries.get(serial);
      if (entry) fail('CERT_REVOKED', `status list: ${entry.status} (${entry.reason ?? 'no reason'})`);
      return { outcome: 'accept', message: 'not in the status list' };
    }
    if (file === `${GAKA}status.json`) {
      const list = parseStatusList(v.bytes(file));
      return { outcome: 'parse', message: `status list, ${list.entries.size} entries` };
    }
    if (file.endsWith('.json')) {
      jsonc(v, file);
      return { outcome: 'parse', message: 'JSON' };
    }
    if (file.endsWith('.txt')) {
      if (v.text(file).trim() === '') fail('INPUT_UNRECOGNIZED', 'empty');
      return { outcome: 'parse', message: 'text' };
    }
    return { outcome: 'parse', message: `${v.certs(file).length} certificate(s)` };
  });
}
