import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ProvenanceError } from '../../src/core/errors.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');

describe('docs/errors.md', () => {
  it.each(Object.entries(ERROR_CODES))('documents %s with its HTTP status', (code, info) => {
    expect(doc).toContain(`| \`${code}\` | ${info.status} |`);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((c) => !(c! in ERROR_CODES))).toEqual([]);
  });
});

describe('ProvenanceError', () => {
  it('carries code, details, status and problem type', () => {
    const e = new ProvenanceError('NONCE_MISMATCH', 'differs', { a: 1 });
    expect(e.code).toBe('NONCE_MISMATCH');
    expect(e.status).toBe(422);
    expect(e.type).toBe('urn:provenance:error:NONCE_MISMATCH');
    expect(e.toJSON()).toEqual({ code: 'NONCE_MISMATCH', message: 'differs', details: { a: 1 } });
    expect(e).toBeInstanceOf(Error);
  });
});
