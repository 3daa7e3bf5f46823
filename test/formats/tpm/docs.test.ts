import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodePem } from '../../../src/core/pem.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { ecKey, issue } from '../../helpers/pki.js';

const DOC = fileURLToPath(new URL('../../../docs/tpm.md', import.meta.url));

describe('docs/tpm.md', () => {
  it('the example policy loads, with every anchor scoped to tpm', () => {
    const blocks = [...readFileSync(DOC, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((b) => b.startsWith('version: 1'));
    expect(blocks).toHaveLength(1);
    const policy = parsePolicy(blocks[0]!, {
      source: 'tpm.md',
      baseDir: '/docs',
      readFile: (path) =>
        new TextEncoder().encode(
          encodePem('CERTIFICATE', issue({ subject: path, key: ecKey(), ca: {} }).der),
        ),
    });
    expect(policy.anchors.map((a) => a.formats)).toEqual([['tpm'], ['tpm']]);
  });
});
