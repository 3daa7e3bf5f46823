import { describe, expect, it } from 'vitest';
import { ProvenanceError } from '../../src/core/errors.js';
import { decodeCursor, encodeCursor } from '../../src/store/index.js';

describe('pagination cursors', () => {
  it('round-trip a sort key as an opaque base64url string', () => {
    const cursor = encodeCursor([1735689600000, 'b3c1e2a4-0000-4000-8000-000000000000']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ['number', 'string'])).toEqual([
      1735689600000,
      'b3c1e2a4-0000-4000-8000-000000000000',
    ]);
  });

  it('refuse anything else with BODY_INVALID naming the cursor parameter', () => {
    const bad = [
      '',
      '!!!',
      'a'.repeat(513),
      Buffer.from('{"a":1}').toString('base64url'),
      encodeCursor([1]),
      encodeCursor(['1', 'x']),
      encodeCursor([1.5, 'x']),
      encodeCursor([2 ** 60, 'x']),
      encodeCursor([1, 'x'.repeat(201)]),
      Buffer.from('[1,"x"').toString('base64url'),
    ];
    for (const cursor of bad) {
      let err: unknown;
      try {
        decodeCursor(cursor, ['number', 'string']);
      } catch (e) {
        err = e;
      }
      expect(err, cursor).toBeInstanceOf(ProvenanceError);
      expect((err as ProvenanceError).code).toBe('BODY_INVALID');
      expect((err as ProvenanceError).details).toEqual({ parameter: 'cursor' });
    }
  });
});
