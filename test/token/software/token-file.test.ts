import { describe, expect, it } from 'vitest';
import {
  checkKdfCost,
  derivePinKeys,
  newKdfParams,
  pinCheckMatches,
} from '../../../src/token/software/pin-kdf.js';
import {
  headerAad,
  openBody,
  parseTokenFile,
  sealBody,
  serializeTokenFile,
  type TokenFile,
  type TokenHeader,
} from '../../../src/token/software/token-file.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests edit parsed JSON freely
type Json = any;

const TEST_COST = { log2N: 10, r: 8, p: 1 };

async function sampleFile(pin = '123456'): Promise<{ file: TokenFile; key: Buffer }> {
  const kdf = newKdfParams(TEST_COST);
  const { encryptionKey, pinCheck } = await derivePinKeys(pin, kdf);
  const header: TokenHeader = {
    model: 'Test Card',
    serial: '0001',
    firmware: '1.0.0',
    maker: 'Test Maker',
    createdAt: '2026-03-01T12:00:00.000Z',
    attestation: null,
    keys: [
      {
        label: 'signing',
        algorithm: 'p256',
        pinPolicy: 'once',
        touchPolicy: 'never',
        spki: Uint8Array.of(1, 2, 3),
        createdAt: '2026-03-01T12:00:00.000Z',
      },
    ],
    pin: { maxRetries: 8, kdf, check: pinCheck },
  };
  const body = sealBody(
    { attestationKey: null, keys: [{ label: 'signing', pkcs8: Uint8Array.of(9, 9, 9) }] },
    header,
    encryptionKey,
  );
  return { file: { header, state: { pinRetriesLeft: 8 }, body }, key: encryptionKey };
}

function reparse(file: TokenFile, edit: (json: Json) => void = () => {}): TokenFile {
  const json = JSON.parse(serializeTokenFile(file));
  edit(json);
  return parseTokenFile(new TextEncoder().encode(JSON.stringify(json)));
}

describe('token file format', () => {
  it('round-trips through JSON and decrypts with the PIN-derived key', async () => {
    const { file, key } = await sampleFile();
    const again = reparse(file);
    expect(again.header.keys[0]!.spki).toEqual(Uint8Array.of(1, 2, 3));
    expect(openBody(again, key).keys[0]!.pkcs8).toEqual(Uint8Array.of(9, 9, 9));
  });

  it('detects a swapped SPKI in the header: TOKEN_FILE_INVALID', async () => {
    const { file, key } = await sampleFile();
    const edited = reparse(file, (j) => {
      j.header.keys[0].spki = Buffer.from([7, 7, 7]).toString('base64');
    });
    expect(() => openBody(edited, key)).toThrow(expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }));
  });

  it('detects a changed PIN policy or retry limit in the header: TOKEN_FILE_INVALID', async () => {
    const { file, key } = await sampleFile();
    for (const edit of [
      (j: Json) => {
        j.header.keys[0].pinPolicy = 'never';
      },
      (j: Json) => {
        j.header.pin.maxRetries = 32;
      },
      (j: Json) => {
        j.header.model = 'Other Card';
      },
    ]) {
      expect(() => openBody(reparse(file, edit), key)).toThrow(
        expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }),
      );
    }
  });

  it('binds the header canonically: key order in the JSON does not matter', async () => {
    const { file, key } = await sampleFile();
    const reordered = reparse(file, (j) => {
      const { pin, ...rest } = j.header;
      j.header = { pin, ...rest };
    });
    expect(headerAad(reordered.header)).toEqual(headerAad(file.header));
    expect(() => openBody(reordered, key)).not.toThrow();
  });

  it('refuses a retry counter above the retry limit, unknown fields, and non-JSON: TOKEN_FILE_INVALID', async () => {
    const { file } = await sampleFile();
    expect(() =>
      reparse(file, (j) => {
        j.state.pinRetriesLeft = 9;
      }),
    ).toThrow(expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }));
    expect(() =>
      reparse(file, (j) => {
        j.header.extra = true;
      }),
    ).toThrow(expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }));
    expect(() => parseTokenFile(new TextEncoder().encode('{"format":'))).toThrow(
      expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }),
    );
  });

  it('refuses duplicate labels: TOKEN_FILE_INVALID', async () => {
    const { file } = await sampleFile();
    expect(() =>
      reparse(file, (j) => {
        j.header.keys.push({ ...j.header.keys[0] });
      }),
    ).toThrow(expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }));
  });

  it('refuses an oversized file with INPUT_TOO_LARGE', () => {
    expect(() => parseTokenFile(new Uint8Array(1024 * 1024 + 1))).toThrow(
      expect.objectContaining({ code: 'INPUT_TOO_LARGE' }),
    );
  });
});

describe('PIN key derivation', () => {
  it('gives the same check value for the same PIN and a different one for another PIN', async () => {
    const kdf = newKdfParams(TEST_COST);
    const a = await derivePinKeys('123456', kdf);
    const b = await derivePinKeys('123456', kdf);
    const c = await derivePinKeys('654321', kdf);
    expect(pinCheckMatches(a.pinCheck, b.pinCheck)).toBe(true);
    expect(pinCheckMatches(a.pinCheck, c.pinCheck)).toBe(false);
    expect(a.encryptionKey).toEqual(b.encryptionKey);
  });

  it('refuses costs below the floor or above the ceiling: TOKEN_FILE_INVALID', () => {
    expect(() => checkKdfCost({ log2N: 14, r: 8, p: 1 }, 15)).toThrow(
      expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }),
    );
    expect(() => checkKdfCost({ log2N: 9, r: 8, p: 1 }, 0)).toThrow(
      expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }),
    );
    expect(() => checkKdfCost({ log2N: 21, r: 8, p: 1 }, 15)).toThrow(
      expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }),
    );
    expect(() => checkKdfCost({ log2N: 15, r: 64, p: 1 }, 15)).toThrow(
      expect.objectContaining({ code: 'TOKEN_FILE_INVALID' }),
    );
    expect(() => checkKdfCost({ log2N: 15, r: 8, p: 1 }, 15)).not.toThrow();
  });

  it('unlocks at the production cost (N = 2^15, r = 8) well under a second', async () => {
    const kdf = newKdfParams();
    const start = performance.now();
    await derivePinKeys('123456', kdf);
    const ms = performance.now() - start;
    console.info(`scrypt N=2^15 r=8 p=1: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
  });
});
