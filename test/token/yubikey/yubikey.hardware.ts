/**
 * The YubiKey driver against a real YubiKey (docs/yubikey.md, "Hardware tests"). Runs only
 * with PROVENANCE_YUBIKEY=1 — also in CI, which has no YubiKey — and skips with a printed
 * reason otherwise. It GENERATES A NEW KEY in PROVENANCE_YUBIKEY_SLOT (default retired slot
 * 95), overwriting what is there; PIN from PROVENANCE_YUBIKEY_PIN (default 123456). The
 * Yubico roots are read in place from ../shared/vectors.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodePem } from '../../../src/core/pem.js';
import { YUBICO_ANCHOR_IDS } from '../../../src/formats/yubikey-piv/index.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
import { parseCsr } from '../../../src/pki/csr.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { spawnRunner, YubiKeyAttester } from '../../../src/token/yubikey/index.js';
import { createVerifier } from '../../../src/verify/verifier.js';

const enabled = process.env['PROVENANCE_YUBIKEY'] === '1';
const YK = join(
  fileURLToPath(new URL('../../../', import.meta.url)),
  '..',
  'shared',
  'vectors',
  'yubikey-piv',
);

if (!enabled) {
  console.log(
    'skipping YubiKey hardware tests: set PROVENANCE_YUBIKEY=1 with a YubiKey plugged in (it overwrites one slot)',
  );
}

describe.skipIf(!enabled)('YubiKey hardware', () => {
  const slot = process.env['PROVENANCE_YUBIKEY_SLOT'] ?? '95';
  const yk = new YubiKeyAttester({
    runner: spawnRunner({ timeoutMs: 120_000 }),
    pin: process.env['PROVENANCE_YUBIKEY_PIN'] ?? '123456',
    ...(process.env['PROVENANCE_YUBIKEY_MGMT_KEY']
      ? { managementKey: process.env['PROVENANCE_YUBIKEY_MGMT_KEY'] }
      : {}),
  });

  it('generates, signs a CSR in the slot, and the verifier accepts it under the Yubico roots', {
    timeout: 180_000,
  }, async () => {
    const info = await yk.info();
    console.log(`YubiKey ${info.model} serial ${info.serial} firmware ${info.firmware}`);
    await yk.generateKey({ label: slot, algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    const nonce = new Uint8Array(randomBytes(32));
    const csr = parseCsr(await yk.signCsr({ label: slot, subject: 'CN=provenance hardware test', nonce }));
    expect(existsSync(YK), `Yubico roots are read from ${YK}`).toBe(true);
    const roots: Record<string, string> = {
      [YUBICO_ANCHOR_IDS.pivRoot]: join(YK, 'piv-go', 'yubico-piv-root-ca-serial-263751.pem'),
      [YUBICO_ANCHOR_IDS.u2fRoot]: join(YK, 'piv-go', 'yubico-u2f-root-ca-serial-457200631.pem'),
      [YUBICO_ANCHOR_IDS.attestationRoot1]: join(
        YK,
        'smallstep-certificates',
        'yubico-attestation-root-1.pem',
      ),
    };
    const trust = Object.entries(roots)
      .map(
        ([id, f]) => `  - id: ${id}\n    certificates: [${JSON.stringify(f)}]\n    formats: [yubikey-piv]\n`,
      )
      .join('');
    const policy = parsePolicy(`version: 1\ntrust:\n${trust}`, { source: 'hw.yaml', baseDir: YK });
    // Firmware 5.7.4+ chains need Yubico's tier-1/tier-2 intermediates (docs/yubikey.md);
    // older chains do not use them, and extra chain certificates are allowed.
    const intermediates = [
      'yubico-piv-attestation-A1_bundle.pem',
      'yubico-piv-attestation-B1_bundle.pem',
    ].flatMap((f) =>
      decodePem(readFileSync(join(YK, 'smallstep-crypto', f), 'utf8')).map((b) => parseCertificate(b.der)),
    );
    const verdict = createVerifier({ policy }).verify(
      { kind: 'csr', csr, certificates: intermediates },
      { nonce },
    );
    expect(verdict.code, verdict.message).toBe('ACCEPTED');
    expect(verdict.claims?.serial).toBe(info.serial);
  });
});
