/**
 * Policies that name installed anchors by catalogue id (`catalog:`), fail closed when the id is
 * not installed, and warn (policy check) when a trust entry widens its catalogue formats.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { encodePem } from '../../../src/core/pem.js';
import { anchorsForFormat } from '../../../src/pki/anchor.js';
import { KeyCache } from '../../../src/pki/keys.js';
import { validatePath } from '../../../src/pki/path.js';
import { loadPolicyFile } from '../../../src/policy/index.js';
import { catalogEntry } from '../../../src/trust/catalog/lookup.js';
import { catalogWarnings } from '../../../src/trust/catalog/policy.js';
import { nodeTrustFolderFs, TrustFolder } from '../../../src/trust/catalog/store.js';
import { runCli } from '../../helpers/cli.js';
import { available, CATALOG_VECTORS, certWithKey, requireVectors, vectorCerts } from './vectors.js';

const NOW = Date.UTC(2026, 10, 30);
const real = (id: string) => certWithKey(CATALOG_VECTORS[id]![0]!, catalogEntry(id)!.spkiSha256);

function errorOf(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected an error');
}

requireVectors('policy catalog tests');

describe.skipIf(!available)('policy trust entries with catalog:', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prov-catalog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const policyFile = (body: string) => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, `version: 1\n${body}`);
    return file;
  };

  it('loads the installed anchor from ./trust beside the policy, with the catalogue formats', () => {
    new TrustFolder(join(dir, 'trust'), nodeTrustFolderFs).add(real('yubico-piv-root-263751'), { now: NOW });
    const policy = loadPolicyFile(
      policyFile('trust:\n  - id: yubico\n    catalog: yubico-piv-root-263751\n'),
    );
    expect(policy.anchors).toHaveLength(1);
    expect(policy.anchors[0]).toMatchObject({
      id: 'yubico',
      formats: ['yubikey-piv'],
      spkiSha256: catalogEntry('yubico-piv-root-263751')!.spkiSha256,
    });
    // Vendor quirks are scoped to anchor keys, so another id is no reason to warn.
    expect(catalogWarnings(policy.anchors)).toEqual([]);
    const same = loadPolicyFile(
      policyFile('trust:\n  - id: yubico-piv-root-263751\n    catalog: yubico-piv-root-263751\n'),
    );
    expect(catalogWarnings(same.anchors)).toEqual([]);
  });

  it('validates a real Android chain to the installed Google root named by catalog: (trustDir given)', () => {
    const trustDir = join(dir, 'service-data', 'trust');
    new TrustFolder(trustDir, nodeTrustFolderFs).add(
      certWithKey(
        CATALOG_VECTORS['google-hardware-attestation-rsa']![3]!,
        catalogEntry('google-hardware-attestation-rsa')!.spkiSha256,
      ),
      { now: NOW },
    );
    const policy = loadPolicyFile(
      policyFile('trust:\n  - id: google\n    catalog: google-hardware-attestation-rsa\n'),
      {
        trustDir,
      },
    );
    const [leaf, ...pool] = vectorCerts('android-key/android-keyattestation/akita/sdk34/TEE_EC_NONE.pem');
    const time = Math.min(...[leaf!, ...pool].map((c) => c.notAfter)) - 86_400_000;
    const path = validatePath(leaf!, {
      anchors: anchorsForFormat(policy.anchors, 'android-key'),
      intermediates: pool,
      time,
      cache: new KeyCache(),
    });
    expect(path.anchor.id).toBe('google');
    // Scoped by the catalogue: the same anchor does not vouch for Apple evidence.
    expect(anchorsForFormat(policy.anchors, 'apple')).toEqual([]);
  });

  it('fails closed with TRUST_NOT_INSTALLED (and the policy line) when the id is not installed', () => {
    const file = policyFile('trust:\n  - id: apple\n    catalog: apple-app-attestation-root\n');
    const err = errorOf(() => loadPolicyFile(file));
    expect(err.code).toBe('TRUST_NOT_INSTALLED');
    expect(err.details).toMatchObject({ line: 4, id: 'apple-app-attestation-root' });
    expect(err.message).toMatch(/policy\.yaml:4:/);
  });

  it('fails closed with TRUST_FOLDER_INVALID when the installed file was swapped', () => {
    const folder = new TrustFolder(join(dir, 'trust'), nodeTrustFolderFs);
    folder.add(real('apple-webauthn-root'), { now: NOW });
    writeFileSync(
      join(dir, 'trust', 'apple-webauthn-root.pem'),
      encodePem('CERTIFICATE', real('apple-app-attestation-root').der),
    );
    const err = errorOf(() =>
      loadPolicyFile(policyFile('trust:\n  - id: a\n    catalog: apple-webauthn-root\n')),
    );
    expect(err.code).toBe('TRUST_FOLDER_INVALID');
  });

  it('rejects an entry that gives both catalog and certificates', () => {
    const err = errorOf(() =>
      loadPolicyFile(
        policyFile('trust:\n  - id: x\n    catalog: apple-webauthn-root\n    certificates: [a.pem]\n'),
      ),
    );
    expect(err.code).toBe('POLICY_INVALID');
  });

  it('keeps the policy formats when given, and policy check warns that they widen the catalogue', async () => {
    new TrustFolder(join(dir, 'trust'), nodeTrustFolderFs).add(real('yubico-piv-root-263751'), { now: NOW });
    const file = policyFile(
      'trust:\n  - id: yubico\n    catalog: yubico-piv-root-263751\n    formats: [yubikey-piv, tpm]\n',
    );
    const policy = loadPolicyFile(file);
    expect(policy.anchors[0]!.formats).toEqual(['yubikey-piv', 'tpm']);
    const run = await runCli(['policy', 'check', file]);
    expect(run.code).toBe(0);
    expect(run.err).toMatch(
      /warning: trust entry "yubico" is Yubico PIV Root CA Serial 263751 .* also vouches for tpm/,
    );
  });

  it('warns for a certificates: entry that is a catalogued root with formats beyond it', async () => {
    writeFileSync(join(dir, 'google.pem'), encodePem('CERTIFICATE', real('google-key-attestation-ca1').der));
    const file = policyFile('trust:\n  - id: google\n    certificates: [google.pem]\n    formats: any\n');
    const run = await runCli(['policy', 'check', file]);
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/"google" is Key Attestation CA1 .* also vouches for any/);
  });

  it('refuses a policy that trusts a never-trust key through certificates:, naming the line', () => {
    writeFileSync(
      join(dir, 'sw.pem'),
      encodePem('CERTIFICATE', real('android-software-attestation-root-rsa').der),
    );
    for (const formats of ['android-key', 'tpm']) {
      const file = policyFile(`trust:\n  - id: sw\n    certificates: [sw.pem]\n    formats: ${formats}\n`);
      let err: unknown;
      try {
        loadPolicyFile(file);
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string }).code).toBe('CATALOG_NEVER_TRUST');
      expect((err as Error).message).toMatch(/:4:\d+: .*"sw.pem" is .* must never be trusted/);
    }
  });
});
