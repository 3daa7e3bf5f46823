import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../src/core/errors.js';
import type { TrustAnchor } from '../../src/pki/anchor.js';
import { type Certificate, parseCertificate } from '../../src/pki/certificate.js';
import { KeyCache } from '../../src/pki/keys.js';
import { validatePath } from '../../src/pki/path.js';
import { anchor, ecKey, issue, type TestCert } from '../helpers/pki.js';

const T = Date.UTC(2025, 5, 1);

let leaf: TestCert;
let realPath: Certificate[];
let pool: Certificate[];
let anchors: TrustAnchor[];
const cache = new KeyCache();

beforeAll(() => {
  const rootKey = ecKey();
  const root = issue({ subject: 'Prop Root', key: rootKey, ca: {} });
  const otherRoot = issue({ subject: 'Other Root', key: ecKey(), ca: {} });
  const ica = issue({ subject: 'Prop CA', key: ecKey(), issuer: root, ca: {} });
  const sub = issue({ subject: 'Prop Sub CA', key: ecKey(), issuer: ica, ca: { pathLen: 0 } });
  leaf = issue({ subject: 'Prop Leaf', key: ecKey(), issuer: sub });
  // Decoys: same names with other keys, an expired copy of the real CA, a cross-certificate
  // from an untrusted root, a CA that is not a CA, and an unrelated CA.
  const decoys = [
    issue({ subject: 'Prop Sub CA', key: ecKey(), issuer: ica, ca: {} }),
    issue({ subject: 'Prop CA', key: ecKey(), issuer: root, ca: {} }),
    issue({ subject: 'Prop CA', key: ica.key, issuer: root, ca: {}, notAfter: Date.UTC(2024, 0, 1) }),
    issue({ subject: 'Prop CA', key: ica.key, issuer: otherRoot, ca: {} }),
    issue({ subject: 'Prop Sub CA', key: sub.key, issuer: ica, notCa: true }),
    issue({ subject: 'Unrelated', key: ecKey(), issuer: otherRoot, ca: {} }),
    otherRoot,
  ];
  pool = [ica.cert, sub.cert, ...decoys.map((d) => d.cert)];
  anchors = [anchor(root, 'prop-root')];
  realPath = [leaf.cert, sub.cert, ica.cert, root.cert];
});

describe('validatePath properties', () => {
  it('finds the same path whatever the order of the pool', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }),
        (shuffled) => {
          const path = validatePath(leaf.cert, { anchors, intermediates: shuffled, time: T, cache });
          expect(path.certificates).toEqual(realPath);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never accepts a leaf with one byte changed, and fails only with ProvenanceError', () => {
    const bytes = leaf.der;
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (index, delta) => {
        const mutated = Uint8Array.from(bytes);
        mutated[index] = (mutated[index]! + delta) & 0xff;
        try {
          validatePath(parseCertificate(mutated), { anchors, intermediates: pool, time: T, cache });
        } catch (err) {
          expect(isProvenanceError(err)).toBe(true);
          return;
        }
        throw new Error(`a leaf mutated at byte ${index} validated`);
      }),
      { numRuns: 300 },
    );
  });
});
