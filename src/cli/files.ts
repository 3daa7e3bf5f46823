/**
 * File helpers shared by CLI commands: read with a clear IO_ERROR, parse hex options.
 */
import { readFileSync } from 'node:fs';
import { fail, ProvenanceError } from '../core/errors.js';

/** Read a file or throw IO_ERROR naming it (exit code 2 in the CLI). */
export function readInputFile(path: string, what = 'file'): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ProvenanceError('IO_ERROR', `cannot read ${what} ${path}: ${reason}`, { path }, { cause: err });
  }
}

/** A nonce given as hex on the command line: 8..64 bytes. */
export function parseNonceOption(hex: string, option = '--nonce'): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0)
    fail('USAGE', `${option} must be hex (an even number of 0-9a-f digits)`);
  const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
  if (bytes.length < 8 || bytes.length > 64)
    fail('USAGE', `${option} must be 8 to 64 bytes (16 to 128 hex digits), got ${bytes.length}`);
  return bytes;
}

/** An ISO 8601 instant for --at. */
export function parseTimeOption(text: string, option = '--at'): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms))
    fail('USAGE', `${option} must be an ISO 8601 time such as 2024-05-01T12:00:00Z`);
  return ms;
}
