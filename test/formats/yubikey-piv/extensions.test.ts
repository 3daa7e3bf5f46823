/**
 * Strict decoding of the Yubico PIV extensions (standards.md §1.2): exact lengths, the serial
 * as a positive uint32 DER INTEGER, unknown values reported raw; and a fuzz property that any
 * bytes only ever give a value or a ProvenanceError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import {
  decodeFirmware,
  decodeFormFactor,
  decodePolicies,
  decodeSerial,
  decodeStatementSlot,
  modelName,
} from '../../../src/formats/yubikey-piv/index.js';
import { fuzzParameters, outcome } from '../../helpers/fuzz.js';

const b = (...x: number[]) => Uint8Array.from(x);

describe('Yubico PIV extension decoders', () => {
  it('firmware: exactly 3 raw bytes', () => {
    expect(decodeFirmware(b(5, 7, 4))).toBe('5.7.4');
    for (const bad of [b(), b(5, 7), b(5, 7, 4, 0), b(0x04, 0x03, 5, 7, 4)]) {
      expect(outcome(() => decodeFirmware(bad))).toBe('EXTENSION_MALFORMED');
    }
  });

  it('serial: a DER INTEGER of any length form, positive, uint32', () => {
    expect(decodeSerial(b(0x02, 0x04, 0x01, 0xb3, 0xbe, 0xf6))).toBe('28557046');
    expect(decodeSerial(b(0x02, 0x03, 0x5b, 0x1a, 0x2e))).toBe('5970478');
    expect(decodeSerial(b(0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff))).toBe('4294967295');
    const bad = [
      b(0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00), // > uint32
      b(0x02, 0x01, 0x00), // zero
      b(0x02, 0x01, 0xff), // negative
      b(0x02, 0x02, 0x00, 0x01), // non-minimal
      b(0x04, 0x01, 0x01), // wrong tag
      b(0x02, 0x01, 0x01, 0x00), // trailing byte
      b(0x02, 0x04, 0x01, 0xb3), // truncated
      b(0x01, 0xb3, 0xbe, 0xf6), // raw bytes, not DER
    ];
    for (const v of bad) expect(outcome(() => decodeSerial(v))).toBe('EXTENSION_MALFORMED');
  });

  it('policy: exactly 2 raw bytes; unknown values are reported, not guessed', () => {
    expect(decodePolicies(b(0x03, 0x01))).toMatchObject({ pinPolicy: 'always', touchPolicy: 'never' });
    expect(decodePolicies(b(0x02, 0x03))).toMatchObject({ pinPolicy: 'once', touchPolicy: 'cached' });
    expect(decodePolicies(b(0x05, 0x20))).toMatchObject({
      pinPolicy: 'match-always',
      touchPolicy: 'default',
    });
    expect(decodePolicies(b(0x09, 0x7f))).toEqual({
      pinPolicy: 'unknown',
      touchPolicy: 'unknown',
      pinPolicyRaw: 9,
      touchPolicyRaw: 0x7f,
    });
    for (const bad of [b(), b(3), b(3, 1, 0)])
      expect(outcome(() => decodePolicies(bad))).toBe('EXTENSION_MALFORMED');
  });

  it('form factor: exactly 1 raw byte with FIPS and Security Key bits', () => {
    expect(decodeFormFactor(b(0x04))).toMatchObject({ formFactor: 'usb-c-nano', fipsSeries: false });
    expect(decodeFormFactor(b(0x81))).toMatchObject({ formFactor: 'usb-a-keychain', fipsSeries: true });
    expect(decodeFormFactor(b(0x43))).toMatchObject({
      formFactor: 'usb-c-keychain',
      securityKeySeries: true,
    });
    expect(decodeFormFactor(b(0x0e))).toMatchObject({ formFactor: 'unknown', raw: 0x0e });
    for (const bad of [b(), b(1, 1)])
      expect(outcome(() => decodeFormFactor(bad))).toBe('EXTENSION_MALFORMED');
  });

  it('model names are display data from firmware and form factor', () => {
    expect(modelName('5.7.4', decodeFormFactor(b(0x01)))).toBe('YubiKey 5 NFC');
    expect(modelName('5.4.3', decodeFormFactor(b(0x04)))).toBe('YubiKey 5C Nano');
    expect(modelName('4.3.5', undefined)).toBe('YubiKey 4');
    expect(modelName(undefined, undefined)).toBe('YubiKey');
  });

  it('statement slot: OCTET STRING of one byte', () => {
    expect(decodeStatementSlot(der.octets(b(0x9a)))).toBe('9a');
    expect(decodeStatementSlot(der.octets(b(0x82)))).toBe('82');
    for (const bad of [der.octets(b()), der.octets(b(0x9a, 0x9c)), der.int(0x9a), b(0x04, 0x02, 0x9a)]) {
      expect(outcome(() => decodeStatementSlot(bad))).toBe('ATTESTATION_MALFORMED');
    }
  });

  it('fuzz: random bytes only ever decode or throw ProvenanceError', () => {
    const decoders = [decodeFirmware, decodeSerial, decodePolicies, decodeFormFactor, decodeStatementSlot];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat(decoders.length - 1), (bytes, i) => {
        outcome(() => decoders[i]!(bytes));
      }),
      fuzzParameters(2000),
    );
  });

  it('fuzz: mutated valid serial encodings only ever decode or throw ProvenanceError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffff_ffff }), fc.nat(7), fc.nat(255), (n, pos, byte) => {
        const v = der.int(n);
        const m = Uint8Array.from(v);
        m[pos % m.length] = byte;
        const r = outcome(() => decodeSerial(m));
        expect(['ok', 'EXTENSION_MALFORMED']).toContain(r);
        expect(outcome(() => decodeSerial(v))).toBe('ok');
      }),
      fuzzParameters(1000),
    );
  });
});
