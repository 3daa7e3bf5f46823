/**
 * The android-key policy template: it loads with the Google roots beside it, verifies a real RKP
 * chain through the default format registry, and fails closed (REVOCATION_UNAVAILABLE) while the
 * status list URL is not fetched; with the status list as a file it accepts.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePem } from '../../../src/core/pem.js';
import { androidKeyFormat } from '../../../src/formats/android-key/index.js';
import {
  ANDROID_KEY_POLICY_TEMPLATE,
  ANDROID_STATUS_LIST_URL,
} from '../../../src/formats/android-key/policy-template.js';
import { DEFAULT_FORMATS } from '../../../src/formats/registry.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { ANDROID, available, KA, manifestTime, pemCerts, readJsonc, requireVectors } from './vectors.js';

requireVectors('android-key policy template');

const tmp = mkdtempSync(join(tmpdir(), 'provenance-android-template-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('android-key policy template', () => {
  it('is registered as a default format', () => {
    expect(DEFAULT_FORMATS).toContain(androidKeyFormat);
  });

  it.skipIf(!available)('verifies a real chain, failing closed until the status list is available', () => {
    copyFileSync(
      join(ANDROID, 'simplewebauthn', 'Google_Hardware_Attestation_Root_4.pem'),
      join(tmp, 'google-hardware-attestation-root.pem'),
    );
    copyFileSync(
      join(ANDROID, 'smallstep-certificates', 'google-key-attestation-ca1-ec-p384-2025.pem'),
      join(tmp, 'google-key-attestation-ca1.pem'),
    );
    const rel = 'tegu/sdk36/TEE_EC_2026_ROOT.pem';
    const pem = pemCerts(join(KA, rel))
      .map((c) => encodePem('CERTIFICATE', c.der))
      .join('');
    const nonce = new Uint8Array(
      Buffer.from(String(readJsonc(join(KA, rel.replace(/\.pem$/, '.json'))).attestationChallenge), 'base64'),
    );
    const at = manifestTime(rel)!;

    const remote = createVerifier({
      policy: parsePolicy(ANDROID_KEY_POLICY_TEMPLATE, { source: 't.yaml', baseDir: tmp }),
    });
    const unfetched = remote.verifyBytes(new TextEncoder().encode(pem), { at, nonce });
    expect(unfetched.format).toBe('android-key');
    expect(unfetched.code).toBe('REVOCATION_UNAVAILABLE');

    writeFileSync(join(tmp, 'status.json'), '{"entries":{}}');
    const local = ANDROID_KEY_POLICY_TEMPLATE.replaceAll(ANDROID_STATUS_LIST_URL, './status.json');
    const verdict = createVerifier({
      policy: parsePolicy(local, { source: 't.yaml', baseDir: tmp }),
    }).verifyBytes(new TextEncoder().encode(pem), { at, nonce });
    expect(verdict.code, verdict.message).toBe('ACCEPTED');
    expect(verdict.claims?.securityLevel).toBe('tee');
  });
});
