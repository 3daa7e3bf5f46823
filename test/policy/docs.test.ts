import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/load.js';
import { issue } from './fixtures.js';

const DOC = fileURLToPath(new URL('../../docs/policy.md', import.meta.url));

describe('docs/policy.md', () => {
  it('every example policy in the reference loads', () => {
    const blocks = [...readFileSync(DOC, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((b) => b.startsWith('version: 1'));
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const yaml of blocks) {
      // Each certificate path the example names gets its own freshly issued certificate.
      const files = new Map<string, Uint8Array>();
      const policy = parsePolicy(yaml, {
        source: 'policy.md',
        baseDir: '/docs',
        readFile: (path) => {
          if (!files.has(path)) files.set(path, new TextEncoder().encode(issue(path).pem));
          return files.get(path)!;
        },
      });
      expect(policy.anchors.length).toBeGreaterThan(0);
    }
  });
});
