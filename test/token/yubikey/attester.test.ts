/**
 * The YubiKey driver against a recorded fake of ykman and yubico-piv-tool: the command lines
 * it sends (transcript), parsing of their output, error mapping to stable codes, and the
 * end-to-end path: generate → signCsr → createVerifier accepts with possession freshness.
 */
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { encodePem } from '../../../src/core/pem.js';
import { YUBICO_ANCHOR_IDS } from '../../../src/formats/yubikey-piv/index.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
import { parseCsr } from '../../../src/pki/csr.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { slotOf, YubiKeyAttester } from '../../../src/token/yubikey/index.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { ecKey } from '../../helpers/pki.js';
import { FakeYubiKey } from './fake-yubikey.js';

const NONCE = Uint8Array.from({ length: 32 }, (_, i) => i);
const NOW = Date.UTC(2030, 0, 1);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

function setup(options: { pin?: string; serial?: string } = {}) {
  const fake = new FakeYubiKey();
  const yk = new YubiKeyAttester({
    runner: fake.runner,
    pin: options.pin ?? '123456',
    clock: () => NOW,
    ...(options.serial ? { serial: options.serial } : {}),
  });
  return { fake, yk };
}

describe('YubiKeyAttester with a recorded fake runner', () => {
  it('info parses ykman info and ykman piv info', async () => {
    const { fake, yk } = setup({ serial: '15732500' });
    expect(await yk.info()).toEqual({
      model: 'YubiKey 5 NFC',
      serial: '15732500',
      firmware: '5.4.3',
      attestation: 'per-token',
      pinRetriesLeft: 3,
      locked: false,
    });
    expect(fake.transcript()).toEqual(['ykman --device 15732500 info', 'ykman --device 15732500 piv info']);
  });

  it('generates with the policies, attests, and lists the attested slots', async () => {
    const { fake, yk } = setup();
    const key = await yk.generateKey({
      label: '9A',
      algorithm: 'p256',
      pinPolicy: 'once',
      touchPolicy: 'cached',
    });
    expect(key).toMatchObject({ label: '9a', algorithm: 'p256', createdAt: new Date(NOW).toISOString() });
    const [slotDer, f9Der] = await yk.attest('9a', NONCE);
    expect(parseCertificate(slotDer!).spki).toEqual(key.spki);
    expect(f9Der).toEqual(fake.f9.der);
    const keys = await yk.listKeys();
    expect(keys.map((k) => [k.label, k.algorithm, k.pinPolicy, k.touchPolicy])).toEqual([
      ['9a', 'p256', 'once', 'cached'],
    ]);
    expect(fake.transcript()).toEqual([
      'ykman piv keys generate --algorithm ECCP256 --pin-policy ONCE --touch-policy CACHED --pin 123456 9a -',
      'ykman piv keys attest 9a -',
      'ykman piv certificates export f9 -',
      'ykman piv keys attest 9a -',
      'ykman piv keys attest 9c -',
      'ykman piv keys attest 9d -',
      'ykman piv keys attest 9e -',
    ]);
  });

  it('signCsr: a CSR signed in the slot, accepted by the verifier with possession freshness', async () => {
    const { fake, yk } = setup();
    await yk.generateKey({ label: '9c', algorithm: 'p256', pinPolicy: 'always', touchPolicy: 'always' });
    const der = await yk.signCsr({ label: '9c', subject: 'CN=alice', nonce: NONCE });
    const csr = parseCsr(der);
    expect(csr.nonce).toEqual(NONCE);
    expect(fake.transcript().at(-1)).toBe(
      'yubico-piv-tool -a verify-pin -P ****** -a sign -s 9c -A ECCP256 -H SHA256 -i - -o -',
    );
    const policy = parsePolicy(
      `version: 1\ntrust:\n  - id: ${YUBICO_ANCHOR_IDS.pivRoot}\n    certificates: [root.pem]\n    formats: [yubikey-piv]\nrequire:\n  freshness: possession\n`,
      {
        source: 'p.yaml',
        baseDir: '.',
        readFile: () => new TextEncoder().encode(encodePem('CERTIFICATE', fake.root.der)),
      },
    );
    const verdict = createVerifier({ policy }).verify(
      { kind: 'csr', csr, certificates: [] },
      { at: NOW, nonce: NONCE },
    );
    expect(verdict.code, verdict.message).toBe('ACCEPTED');
    expect(verdict.freshness).toBe('possession');
    expect(verdict.claims).toMatchObject({
      slot: '9c',
      userPresence: 'always',
      userVerification: 'always',
      serial: '15732500',
    });
  });

  it('signCsr works for RSA-2048 slots (sha256WithRSAEncryption)', async () => {
    const { yk } = setup();
    await yk.generateKey({ label: '9d', algorithm: 'rsa2048', pinPolicy: 'once', touchPolicy: 'never' });
    const csr = parseCsr(await yk.signCsr({ label: '9d', subject: 'CN=bob', nonce: NONCE }));
    expect(csr.signatureAlgorithm.oid).toBe('1.2.840.113549.1.1.11');
  });

  it('fails closed when the tool returns a signature that does not verify', async () => {
    const { fake, yk } = setup();
    await yk.generateKey({ label: '9a', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    fake.signWith = ecKey().privateKey;
    expect(await codeOf(yk.signCsr({ label: '9a', subject: 'CN=x', nonce: NONCE }))).toBe(
      'YUBIKEY_TOOL_FAILED',
    );
  });

  it('maps a wrong PIN, a blocked PIN, an empty slot and bad labels to stable codes', async () => {
    const { fake, yk } = setup({ pin: '000000' });
    fake.slots.set('9a', { key: ecKey(), pin: 2, touch: 1, alg: 'ECCP256' });
    expect(await codeOf(yk.sign('9a', NONCE))).toBe('TOKEN_PIN_INCORRECT');
    fake.triesLeft = 0;
    expect(await codeOf(yk.sign('9a', NONCE))).toBe('TOKEN_LOCKED');
    expect(await codeOf(yk.attest('9c', NONCE))).toBe('YUBIKEY_TOOL_FAILED');
    expect(await codeOf(yk.attest('f9', NONCE))).toBe('USAGE');
    expect(await codeOf(yk.attest('9a', new Uint8Array(4)))).toBe('USAGE');
    expect(await codeOf(new YubiKeyAttester({ runner: fake.runner }).sign('9a', NONCE))).toBe('USAGE');
  });

  it('refuses output that is not what was asked for', async () => {
    const fake = new FakeYubiKey();
    const yk = new YubiKeyAttester({
      runner: async (cmd, args, stdin) =>
        args.includes('f9')
          ? { code: 0, stdout: new TextEncoder().encode('garbage'), stderr: '' }
          : fake.runner(cmd, args, stdin),
      pin: '123456',
    });
    fake.slots.set('9a', { key: ecKey(), pin: 2, touch: 1, alg: 'ECCP256' });
    expect(await codeOf(yk.attest('9a', NONCE))).toBe('YUBIKEY_TOOL_FAILED');
  });

  it('slotOf accepts PIV key slots only', () => {
    expect(['9a', '9C', '82', '8f', '95'].map(slotOf)).toEqual(['9a', '9c', '82', '8f', '95']);
    for (const bad of ['f9', '96', '81', 'signing', '']) {
      expect(() => slotOf(bad)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });
});
