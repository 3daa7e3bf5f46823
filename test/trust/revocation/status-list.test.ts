import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { decodePem } from '../../../src/core/pem.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
import {
  normaliseSerialHex,
  parseStatusList,
  STATUS_LIST_LIMITS,
  statusListSource,
} from '../../../src/trust/revocation/status-list.js';
import { NOW, party } from '../../verify/fixtures.js';

// The shared vectors sit beside the repository (../shared from its root).
const VECTORS = fileURLToPath(
  new URL('../../../../shared/vectors/android-key/google-android-key-attestation/', import.meta.url),
);
const haveVectors = existsSync(`${VECTORS}status.json`);
if (!haveVectors) {
  if (process.env['CI'] === 'true') throw new Error(`shared vectors missing at ${VECTORS}`);
  console.log(`skipping the Android status list vector tests: ${VECTORS} is absent`);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe.skipIf(!haveVectors)('Android status list: Google test vectors', () => {
  const list = () => parseStatusList(readFileSync(`${VECTORS}status.json`));
  const suspendedCert = () =>
    parseCertificate(decodePem(readFileSync(`${VECTORS}test-cert-suspended.pem`, 'latin1'))[0]!.der);

  it('reports test-cert-suspended.pem as suspended (treated like revoked)', () => {
    const cert = suspendedCert();
    const [status] = statusListSource(list(), 'android-status:status.json').check([cert], { time: NOW });
    expect(status).toMatchObject({
      position: 0,
      serial: 'cc66e9a93713b6e643b26c15879786f7',
      status: 'suspended',
      reason: 'KEY_COMPROMISE',
      source: 'android-status:status.json',
    });
  });

  it('reports a certificate whose serial is not listed as good', () => {
    const other = party('CN=Unlisted', null, { serial: Uint8Array.of(0x12, 0x34) }).cert;
    const [status] = statusListSource(list(), 's').check([other], { time: NOW });
    expect(status?.status).toBe('good');
  });

  it('reads the decimal-looking keys as hex serials', () => {
    // "6681152659205225093" is the hex serial 0x6681152659205225093, not a decimal number.
    const serial = Buffer.from('06681152659205225093', 'hex');
    const cert = party('CN=Listed', null, { serial: new Uint8Array(serial) }).cert;
    const [status] = statusListSource(list(), 's').check([cert], { time: NOW });
    expect(status).toMatchObject({ status: 'revoked', serial: '6681152659205225093' });
    expect(list().entries.size).toBe(5);
  });
});

describe('Android status list: parsing', () => {
  it('normalises keys: case folded, leading zeros dropped', () => {
    const list = parseStatusList('{"entries":{"00ABCdef":{"status":"REVOKED"}}}');
    expect([...list.entries.keys()]).toEqual(['abcdef']);
    expect(normaliseSerialHex('0000')).toBe('0');
  });

  it('matches a certificate serial with a leading zero octet against a normalised key', () => {
    const cert = party('CN=Pad', null, { serial: Uint8Array.of(0x01, 0x02) }).cert;
    const list = parseStatusList('{"entries":{"102":{"status":"SUSPENDED"}}}');
    expect(statusListSource(list, 's').check([cert], { time: NOW })[0]?.status).toBe('suspended');
  });

  it('lets REVOKED win when two keys name the same serial', () => {
    const list = parseStatusList('{"entries":{"0a":{"status":"REVOKED"},"A":{"status":"SUSPENDED"}}}');
    expect(list.entries.get('a')?.status).toBe('REVOKED');
  });

  it('rejects documents outside the schema with STATUS_LIST_INVALID', () => {
    for (const bad of [
      'not json',
      '[]',
      '{}',
      '{"entries":[]}',
      '{"entries":{"zz":{"status":"REVOKED"}}}',
      '{"entries":{"ab":{"status":"GOOD"}}}',
      '{"entries":{"ab":"REVOKED"}}',
      '{"entries":{"ab":{"status":"REVOKED","reason":"BORED"}}}',
      '{"entries":{"ab":{"status":"REVOKED","expires":"tomorrow"}}}',
    ])
      expect(
        codeOf(() => parseStatusList(bad)),
        bad,
      ).toBe('STATUS_LIST_INVALID');
    expect(codeOf(() => parseStatusList(new Uint8Array([0xff, 0xfe])))).toBe('STATUS_LIST_INVALID');
  });

  it('refuses a list above the size bound with INPUT_TOO_LARGE', () => {
    expect(codeOf(() => parseStatusList('{"entries":{}}', { maxBytes: 4 }))).toBe('INPUT_TOO_LARGE');
    expect(STATUS_LIST_LIMITS.maxBytes).toBeGreaterThan(0);
  });
});
