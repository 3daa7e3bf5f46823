import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TOKEN_LIST_LIMITS, tokenListSchema } from '../../../src/trust/lists/schema.js';
import { TOKEN_LIST_STATUSES } from '../../../src/trust/lists/types.js';
import { entry, list } from './fixtures.js';

const schema = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../docs/token-list.schema.json', import.meta.url)), 'utf8'),
);

describe('docs/token-list.schema.json agrees with the zod schema', () => {
  it('names the same top-level and entry fields, statuses and limits', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(tokenListSchema.shape).sort());
    expect(schema.required.sort()).toEqual([
      'entries',
      'issuedAt',
      'nextUpdate',
      'publisher',
      'revoked',
      'sequence',
    ]);
    expect(schema.$defs.entry.properties.status.enum).toEqual([...TOKEN_LIST_STATUSES]);
    expect(schema.properties.entries.maxItems).toBe(TOKEN_LIST_LIMITS.maxEntries);
    expect(schema.properties.revoked.maxItems).toBe(TOKEN_LIST_LIMITS.maxRevoked);
    expect(schema.$defs.entry.properties.anchors.maxItems).toBe(TOKEN_LIST_LIMITS.maxAnchorsPerEntry);
    const entryKeys = Object.keys(
      entry('a', 'b'.repeat(64), { model: 'm', notes: 'n', firmware: { denied: [] } }),
    );
    expect(Object.keys(schema.$defs.entry.properties).sort()).toEqual(entryKeys.sort());
  });

  it('a list the zod schema accepts uses only fields the JSON Schema names', () => {
    const doc = list({ entries: [entry('a', 'c'.repeat(64))] });
    expect(tokenListSchema.safeParse(doc).success).toBe(true);
    for (const key of Object.keys(doc)) expect(schema.properties).toHaveProperty(key);
  });
});
