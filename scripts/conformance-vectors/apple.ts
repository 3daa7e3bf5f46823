/**
 * apple (MANIFEST.md): the format is being written; until it lands, support files parse and
 * every evidence file reports FORMAT_UNAVAILABLE (unexpected), so nothing is faked.
 */
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

/** Run one apple entry. */
export function runApple(v: Vectors, file: string, exp: Expectation | null): Actual {
  return attempt(() => {
    if (exp?.outcome === 'parse') {
      if (file.endsWith('.json')) v.json(file);
      else v.certs(file);
      return { outcome: 'parse' };
    }
    return { outcome: 'error', code: 'FORMAT_UNAVAILABLE', message: 'the apple runner has not landed' };
  });
}
