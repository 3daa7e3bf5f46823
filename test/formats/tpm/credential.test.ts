/**
 * Credential activation in software: KDFa/KDFe, MakeCredential round trips with Node keys
 * (RSA-2048, RSA-3072, P-256, P-384), tpm2-tools' own `tpm2_makecredential -T none` output
 * activated by our code (an independent implementation of every step), the tpm2-tools file
 * form, and the strict readers under random input.
 */
import { spawnSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import {
  activateCredentialWithPrivateKey,
  defaultProtectorForKey,
  encodeTpm2ToolsCredential,
  makeCredential,
  parseTpm2ToolsCredential,
  readTpmPublicArea,
  tpmObjectName,
} from '../../../src/formats/tpm/credential.js';
import { kdfa, kdfe, TPM_ALG_SHA1, TPM_ALG_SHA256 } from '../../../src/formats/tpm/kdf.js';
import { fuzzParameters, outcome } from '../../helpers/fuzz.js';
import { needTool } from '../../helpers/tools.js';

const akName = (fill = 0x11): Uint8Array => Uint8Array.from([0x00, 0x0b, ...new Array(32).fill(fill)]);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

describe('KDFa and KDFe (TPM 2.0 Part 1 §11.4.10)', () => {
  it('KDFa is HMAC(key, BE32(i) || label || 00 || U || V || BE32(bits)), concatenated and truncated', () => {
    const key = Buffer.from('seed-bytes');
    const u = Buffer.from('U');
    const v = Buffer.from('V');
    const block = (i: number) =>
      createHmac('sha256', key)
        .update(Buffer.from([0, 0, 0, i]))
        .update(Buffer.from('STORAGE\0'))
        .update(u)
        .update(v)
        .update(Buffer.from([0, 0, 0x01, 0x80]))
        .digest();
    const expected = Buffer.concat([block(1), block(2)]).subarray(0, 48);
    expect(Buffer.from(kdfa(TPM_ALG_SHA256, key, 'STORAGE', u, v, 384))).toEqual(expected);
  });

  it('masks the first byte when bits is not a multiple of 8', () => {
    const out = kdfa(TPM_ALG_SHA1, Buffer.from('k'), 'X', new Uint8Array(0), new Uint8Array(0), 12);
    expect(out.length).toBe(2);
    expect((out[0] ?? 0) & 0xf0).toBe(0);
  });

  it('KDFe has no bit count term and a NUL-terminated use label', () => {
    const a = kdfe(TPM_ALG_SHA256, Buffer.from('z'), 'IDENTITY', Buffer.from('u'), Buffer.from('v'), 256);
    const b = kdfe(TPM_ALG_SHA256, Buffer.from('z'), 'IDENTITY', Buffer.from('u'), Buffer.from('v'), 128);
    expect(Buffer.from(b)).toEqual(Buffer.from(a).subarray(0, 16));
  });

  it('refuses an unknown hash and an out-of-range size', () => {
    expect(codeOf(() => kdfa(0x0012, Buffer.from('k'), 'L', new Uint8Array(0), new Uint8Array(0), 8))).toBe(
      'ALGORITHM_UNSUPPORTED',
    );
    expect(
      codeOf(() => kdfa(TPM_ALG_SHA256, Buffer.from('k'), 'L', new Uint8Array(0), new Uint8Array(0), 0)),
    ).toBe('USAGE');
  });
});

const EK_KEYS: [string, () => { publicKey: KeyObject; privateKey: KeyObject }][] = [
  ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['RSA-3072', () => generateKeyPairSync('rsa', { modulusLength: 3072 })],
  ['ECC P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ['ECC P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
];

describe('makeCredential round trip (software ActivateCredential)', () => {
  for (const [label, generate] of EK_KEYS) {
    it(`recovers the secret for a ${label} EK, and only under the right AK Name`, () => {
      const { publicKey, privateKey } = generate();
      const protector = defaultProtectorForKey(publicKey);
      const secret = randomBytes(32);
      const credential = makeCredential({ ek: protector, akName: akName(), secret });
      const cv = activateCredentialWithPrivateKey({
        ekPrivate: privateKey,
        protector,
        akName: akName(),
        credential,
      });
      expect(Buffer.from(cv)).toEqual(secret);
      expect(
        codeOf(() =>
          activateCredentialWithPrivateKey({
            ekPrivate: privateKey,
            protector,
            akName: akName(0x22),
            credential,
          }),
        ),
      ).toBe('ATTESTATION_INVALID');
    });
  }

  it('uses the default EK templates: SHA-256/AES-128 low range, SHA-384/AES-256 for P-384 and RSA-3072', () => {
    const p256 = defaultProtectorForKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const p384 = defaultProtectorForKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    expect([p256.hashAlg, p256.symKeyBits]).toEqual([0x000b, 128]);
    expect([p384.hashAlg, p384.symKeyBits]).toEqual([0x000c, 256]);
    expect(codeOf(() => defaultProtectorForKey(generateKeyPairSync('ed25519').publicKey))).toBe(
      'ALGORITHM_UNSUPPORTED',
    );
  });

  it('refuses a secret longer than the digest and a malformed AK Name', () => {
    const protector = defaultProtectorForKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    expect(
      codeOf(() => makeCredential({ ek: protector, akName: akName(), secret: new Uint8Array(33) })),
    ).toBe('USAGE');
    expect(
      codeOf(() =>
        makeCredential({
          ek: protector,
          akName: Uint8Array.from([0, 0x0b, 1, 2, 3]),
          secret: new Uint8Array(8),
        }),
      ),
    ).toBe('USAGE');
  });
});

describe('tpm2-tools credential file', () => {
  it('encodes BE32 0xBADCC0DE || BE32 1 || TPM2B || TPM2B and parses it back strictly', () => {
    const protector = defaultProtectorForKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const credential = makeCredential({ ek: protector, akName: akName(), secret: randomBytes(32) });
    const file = encodeTpm2ToolsCredential(credential);
    expect(Buffer.from(file.subarray(0, 8)).toString('hex')).toBe('badcc0de00000001');
    const back = parseTpm2ToolsCredential(file);
    expect(Buffer.from(back.credentialBlob)).toEqual(Buffer.from(credential.credentialBlob));
    expect(Buffer.from(back.encryptedSecret)).toEqual(Buffer.from(credential.encryptedSecret));
    expect(codeOf(() => parseTpm2ToolsCredential(Buffer.concat([file, Buffer.from([0])])))).toBe(
      'TPM_MALFORMED',
    );
    const badMagic = Buffer.from(file);
    badMagic[0] = 0;
    expect(codeOf(() => parseTpm2ToolsCredential(badMagic))).toBe('TPM_MALFORMED');
  });

  it('random and truncated input only ever throws ProvenanceError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        outcome(() => parseTpm2ToolsCredential(bytes));
        outcome(() =>
          parseTpm2ToolsCredential(Buffer.concat([Buffer.from('badcc0de00000001', 'hex'), bytes])),
        );
        outcome(() => readTpmPublicArea(bytes));
        outcome(() => readTpmPublicArea(Buffer.concat([Buffer.from('00230004', 'hex'), bytes])));
      }),
      fuzzParameters(500),
    );
  });
});

describe('interoperability with tpm2-tools (tpm2_makecredential -T none)', () => {
  for (const [label, curve] of [
    ['RSA-2048', null],
    ['ECC P-256', 'P-256'],
  ] as const) {
    it(`activates, in software, the credential tpm2-tools made for a ${label} EK`, (ctx) => {
      needTool(ctx, 'tpm2_makecredential', ['-v']);
      const pair =
        curve === null
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: curve });
      const dir = mkdtempSync(join(tmpdir(), 'provenance-mc-'));
      try {
        const secret = randomBytes(32);
        writeFileSync(join(dir, 'ek.pem'), pair.publicKey.export({ format: 'pem', type: 'spki' }));
        writeFileSync(join(dir, 'secret.bin'), secret);
        const name = akName(0x5a);
        const run = spawnSync(
          'tpm2_makecredential',
          [
            '-T',
            'none',
            '-G',
            curve === null ? 'rsa' : 'ecc',
            '-u',
            join(dir, 'ek.pem'),
            '-s',
            join(dir, 'secret.bin'),
          ].concat(['-n', Buffer.from(name).toString('hex'), '-o', join(dir, 'cred.out')]),
          { encoding: 'utf8' },
        );
        expect(run.status, run.stderr).toBe(0);
        const credential = parseTpm2ToolsCredential(readFileSync(join(dir, 'cred.out')));
        const protector = defaultProtectorForKey(pair.publicKey);
        const cv = activateCredentialWithPrivateKey({
          ekPrivate: pair.privateKey,
          protector,
          akName: name,
          credential,
        });
        expect(Buffer.from(cv)).toEqual(secret);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('TPMT_PUBLIC reading', () => {
  it('reads the default tpm2_createek ECC template and computes its Name', () => {
    // L-2 ECC P-256 EK template (standards.md §2.4) with a zero unique, as TPMT_PUBLIC bytes.
    const policy = '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa';
    const hex = `0023000b000300b20020${policy}0006008000430010000300100020${'00'.repeat(32)}0020${'00'.repeat(32)}`;
    const area = readTpmPublicArea(Buffer.from(hex, 'hex'));
    expect(area.objectAttributes.raw).toBe(0x000300b2);
    expect(area.symmetric).toEqual({ algorithm: 6, keyBits: 128, mode: 0x43 });
    expect(tpmObjectName(area).length).toBe(34);
    // The same bytes wrapped as TPM2B_PUBLIC read the same.
    const wrapped = Buffer.concat([Buffer.from([0, hex.length / 2]), Buffer.from(hex, 'hex')]);
    expect(Buffer.from(readTpmPublicArea(wrapped).bytes)).toEqual(Buffer.from(area.bytes));
    expect(codeOf(() => readTpmPublicArea(Buffer.concat([Buffer.from(hex, 'hex'), Buffer.from([0])])))).toBe(
      'TPM_MALFORMED',
    );
  });
});
