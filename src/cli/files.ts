/**
 * File helpers shared by CLI commands: read with a clear IO_ERROR, parse hex options.
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '../core/bytes.js';
import { fail, ProvenanceError } from '../core/errors.js';
import { PROVENANCE_NONCE_BYTES } from '../formats/provenance/extension.js';

/** Read a file or throw IO_ERROR naming it (exit code 2 in the CLI). */
export function readInputFile(path: string, what = 'file'): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ProvenanceError('IO_ERROR', `cannot read ${what} ${path}: ${reason}`, { path }, { cause: err });
  }
}

/** --nonce: hex of 8 to 64 bytes (the bounds of the native format's nonce), else USAGE. */
export function parseNonceHex(hex: string, option = '--nonce'): Uint8Array {
  const nonce = fromHex(hex, option);
  if (nonce.length < PROVENANCE_NONCE_BYTES.min || nonce.length > PROVENANCE_NONCE_BYTES.max) {
    fail(
      'USAGE',
      `${option} must be ${PROVENANCE_NONCE_BYTES.min} to ${PROVENANCE_NONCE_BYTES.max} bytes (${2 * PROVENANCE_NONCE_BYTES.min} to ${2 * PROVENANCE_NONCE_BYTES.max} hex digits), got ${nonce.length}`,
    );
  }
  return nonce;
}

/** An ISO 8601 instant for --at. */
export function parseTimeOption(text: string, option = '--at'): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms))
    fail('USAGE', `${option} must be an ISO 8601 time such as 2024-05-01T12:00:00Z`);
  return ms;
}
