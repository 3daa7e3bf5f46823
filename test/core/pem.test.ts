import { describe, expect, it } from 'vitest';
import { decodePem, encodePem, isPem } from '../../src/core/pem.js';
import { outcome } from '../helpers/fuzz.js';

const bytes = (n: number, seed = 1): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('encodePem (RFC 7468 §2)', () => {
  it('wraps base64 at 64 columns between BEGIN and END lines', () => {
    const text = encodePem('CERTIFICATE', bytes(100));
    const lines = text.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines[1]).toHaveLength(64);
    expect(lines.at(-2)).toBe('-----END CERTIFICATE-----');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('encodes a subarray view, not its whole buffer', () => {
    const whole = bytes(32);
    const [block] = decodePem(encodePem('X', whole.subarray(8, 12)));
    expect([...block!.der]).toEqual([...whole.subarray(8, 12)]);
  });
});

describe('decodePem', () => {
  it('round-trips what encodePem writes', () => {
    for (const n of [1, 2, 3, 47, 48, 49, 1000]) {
      const [block] = decodePem(encodePem('CERTIFICATE', bytes(n)));
      expect(block!.label).toBe('CERTIFICATE');
      expect([...block!.der]).toEqual([...bytes(n)]);
    }
  });

  it('returns every block in order, with its label', () => {
    const text =
      encodePem('CERTIFICATE', bytes(10, 1)) +
      encodePem('X509 CRL', bytes(20, 2)) +
      encodePem('CERTIFICATE', bytes(30, 3));
    const blocks = decodePem(text);
    expect(blocks.map((b) => [b.label, b.der.length])).toEqual([
      ['CERTIFICATE', 10],
      ['X509 CRL', 20],
      ['CERTIFICATE', 30],
    ]);
  });

  it('ignores explanatory text around blocks, as openssl x509 -text writes (§2)', () => {
    const text = [
      'Certificate:',
      '    Data:',
      '        Version: 3 (0x2)',
      '        Issuer: CN = Test',
      encodePem('CERTIFICATE', bytes(40)).trimEnd(),
      'subject=CN = Next',
      '',
      encodePem('CERTIFICATE', bytes(41)),
      'trailing words',
    ].join('\n');
    expect(decodePem(text).map((b) => b.der.length)).toEqual([40, 41]);
  });

  it('accepts CRLF line endings and indented lines', () => {
    const text = encodePem('CERTIFICATE', bytes(90))
      .split('\n')
      .map((l) => `  ${l}  `)
      .join('\r\n');
    expect(decodePem(text)[0]!.der).toEqual(bytes(90));
  });

  it('accepts base64 lines of any width', () => {
    const b64 = Buffer.from(bytes(60)).toString('base64');
    const text = `-----BEGIN CERTIFICATE-----\n${b64.slice(0, 7)}\n${b64.slice(7, 50)}\n${b64.slice(50)}\n-----END CERTIFICATE-----`;
    expect(decodePem(text)[0]!.der).toEqual(bytes(60));
  });

  it('returns nothing for text without blocks', () => {
    expect(decodePem('')).toEqual([]);
    expect(decodePem('just some words\nand more')).toEqual([]);
  });

  it('rejects an END label that does not match its BEGIN, naming the line', () => {
    const text = encodePem('CERTIFICATE', bytes(10)).replace('END CERTIFICATE', 'END PUBLIC KEY');
    const err = (() => {
      try {
        decodePem(text);
      } catch (e) {
        return e as { code: string; details: { line: number } };
      }
      return null;
    })();
    expect(err?.code).toBe('PEM_MALFORMED');
    expect(err?.details.line).toBe(3);
  });

  it('rejects a block with no END line', () => {
    const text = encodePem('CERTIFICATE', bytes(10)).replace('-----END CERTIFICATE-----', '');
    expect(outcome(() => decodePem(text))).toBe('PEM_MALFORMED');
  });

  it('rejects an END line with no BEGIN', () => {
    expect(outcome(() => decodePem('-----END CERTIFICATE-----\n'))).toBe('PEM_MALFORMED');
  });

  it('rejects a BEGIN inside an open block', () => {
    const inner = encodePem('CERTIFICATE', bytes(10));
    const text = inner.replace('-----END CERTIFICATE-----\n', '') + inner;
    expect(outcome(() => decodePem(text))).toBe('PEM_MALFORMED');
  });

  it('rejects armour it cannot read (lower case, missing dashes)', () => {
    expect(outcome(() => decodePem('-----BEGIN certificate-----\nAAAA\n-----END certificate-----'))).toBe(
      'PEM_MALFORMED',
    );
    expect(outcome(() => decodePem('-----BEGIN CERTIFICATE----\nAAAA\n-----END CERTIFICATE-----'))).toBe(
      'PEM_MALFORMED',
    );
  });

  it.each([
    ['a character outside base64', 'AAA*'],
    ['base64url characters', 'AA-_'],
    ['a length that is not a multiple of 4', 'AAAAA'],
    ['padding in the middle', 'AA==\nAAAA'],
    ['three padding characters', 'A==='],
    ['a space inside a line', 'AA AA'],
    ['an empty body', ''],
  ])('rejects a body with %s', (_what, body) => {
    const text = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
    expect(outcome(() => decodePem(text))).toBe('PEM_MALFORMED');
  });

  it('rejects RFC 1421 encapsulated headers (encrypted PEM)', () => {
    const text =
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----';
    expect(outcome(() => decodePem(text))).toBe('PEM_MALFORMED');
  });

  it('stops at the block limit', () => {
    const one = encodePem('CERTIFICATE', bytes(3));
    expect(decodePem(one.repeat(64))).toHaveLength(64);
    expect(outcome(() => decodePem(one.repeat(65)))).toBe('DER_LIMIT_EXCEEDED');
    expect(outcome(() => decodePem(one.repeat(3), 2))).toBe('DER_LIMIT_EXCEEDED');
  });
});

describe('isPem', () => {
  it('finds a BEGIN line in text or bytes', () => {
    const text = `intro\n${encodePem('CERTIFICATE', bytes(3))}`;
    expect(isPem(text)).toBe(true);
    expect(isPem(new TextEncoder().encode(text))).toBe(true);
  });

  it('says no to DER and plain text', () => {
    expect(isPem(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toBe(false);
    expect(isPem('-----BEGIN lowercase-----')).toBe(false);
  });

  it('only looks at the first 64 KiB of bytes', () => {
    const padded = new TextEncoder().encode(`${' '.repeat(70_000)}${encodePem('CERTIFICATE', bytes(3))}`);
    expect(isPem(padded)).toBe(false);
  });
});
