/**
 * PEM (RFC 7468) reading and writing, strict: matching BEGIN/END labels, base64 body only.
 *
 * @example
 * const blocks = decodePem(text);               // [{ label: 'CERTIFICATE', der }, ...]
 * const text = encodePem('CERTIFICATE', der);
 */
import { fail } from './errors.js';

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

const MAX_PEM_BLOCKS = 64;
const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;

/** True when the text looks like PEM (a BEGIN line anywhere). */
export function isPem(data: Uint8Array | string): boolean {
  const text = typeof data === 'string' ? data : Buffer.from(data.subarray(0, 65536)).toString('latin1');
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/**
 * Decode every PEM block in `text`. Text outside blocks (explanatory lines, as `openssl x509
 * -text` writes) is ignored, as RFC 7468 §2 allows; inside a block only base64 is accepted.
 */
export function decodePem(text: string, maxBlocks = MAX_PEM_BLOCKS): PemBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: PemBlock[] = [];
  let label: string | null = null;
  let body: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (label === null) {
      const m = BEGIN.exec(line);
      if (m) {
        label = m[1]!;
        body = [];
      } else if (line.startsWith('-----')) {
        fail('PEM_MALFORMED', `unexpected PEM armour on line ${i + 1}`, { line: i + 1 });
      }
      continue;
    }
    if (line === `-----END ${label}-----`) {
      const b64 = body.join('');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length === 0) {
        fail('PEM_MALFORMED', `PEM block "${label}" ending on line ${i + 1} has an invalid base64 body`, {
          line: i + 1,
        });
      }
      blocks.push({ label, der: new Uint8Array(Buffer.from(b64, 'base64')) });
      if (blocks.length > maxBlocks)
        fail('DER_LIMIT_EXCEEDED', `more than ${maxBlocks} PEM blocks`, { limit: maxBlocks });
      label = null;
      continue;
    }
    if (line.startsWith('-----'))
      fail('PEM_MALFORMED', `mismatched PEM armour on line ${i + 1}`, { line: i + 1 });
    if (/^[A-Za-z-]+:/.test(line))
      fail('PEM_MALFORMED', `encapsulated headers are not supported (line ${i + 1})`, { line: i + 1 });
    body.push(line);
  }
  if (label !== null) fail('PEM_MALFORMED', `PEM block "${label}" has no END line`);
  return blocks;
}

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
