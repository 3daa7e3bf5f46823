/**
 * Cloud HSM evidence files through `provenance verify` and decodeEvidence: Cloud KMS JSON (a
 * KeyOperationAttestation and a CryptoKeyVersion holding one) and a PEM bundle with a MARVELL
 * ATTESTATION block, built in a temporary directory from the real vectors (../shared, read in
 * place) and verified at a pinned time under the `cloud-hsm` policy template; the template is
 * listed by `provenance policy template`. The human output shows the owner chain as a second
 * chain line next to the manufacturer chain (the `path.additional` finding). Skips with a printed reason when the vectors are
 * absent, except in CI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { additionalChainLines } from '../../../src/cli/render-verdict.js';
import { decodePem, encodePem } from '../../../src/core/pem.js';
import { CLOUD_HSM_POLICY_TEMPLATE } from '../../../src/formats/cloud-hsm/policy-template.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
import { decodeEvidence } from '../../../src/verify/input.js';
import type { Verdict } from '../../../src/verify/verifier.js';
import { runCli } from '../../helpers/cli.js';
import { outcome } from '../../helpers/fuzz.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const HSM = join(VECTORS, 'cloud-hsm');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping cloud HSM CLI tests: ${reason}`);
  }
}

const AT = new Date(Date.UTC(2025, 0, 15)).toISOString();

it('policy template cloud-hsm prints the template and the list names it', async () => {
  const list = await runCli(['policy', 'template']);
  expect(list.out).toContain('cloud-hsm');
  const one = await runCli(['policy', 'template', 'cloud-hsm']);
  expect(one.code).toBe(0);
  expect(one.out).toBe(CLOUD_HSM_POLICY_TEMPLATE);
});

it('additionalChainLines: names by CN, falls back to the anchor id, skips failed paths', () => {
  const verdict = {
    findings: [
      {
        check: 'path.additional',
        ok: true,
        message: 'owner path of 2 certificates validated',
        detail: { label: 'owner', anchor: 'g', subjects: ['CN=Partition\\, owner,O=X', 'O=Only Org'] },
      },
      { check: 'path.additional', ok: true, message: 'old verdict', detail: { label: 'owner', anchor: 'g' } },
      { check: 'path.additional', ok: false, code: 'PATH_NOT_FOUND', message: 'failed', detail: {} },
      { check: 'path', ok: true, message: 'main' },
    ],
  } as unknown as Verdict;
  expect(additionalChainLines(verdict)).toEqual([
    'also validated (owner path): Partition, owner → O=Only Org',
    'also validated (owner path): … → trust anchor "g"',
  ]);
});

describe.runIf(available)('cloud HSM evidence files', () => {
  const dir = available ? mkdtempSync(join(tmpdir(), 'hsm-cli-')) : '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function setup(): string {
    const roots = decodePem(readFileSync(join(HSM, 'peculiar-attestation', 'marvell-roots.pem'), 'utf8'));
    for (const r of roots) {
      const cert = parseCertificate(r.der);
      const name = cert.subject.text.includes('cavium')
        ? 'cavium-liquidsecurity-root'
        : 'google-hawksbill-root-v1-prod';
      writeFileSync(join(dir, `${name}.pem`), encodePem('CERTIFICATE', r.der));
    }
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, CLOUD_HSM_POLICY_TEMPLATE);
    return policy;
  }

  /** Cloud KMS's chain groups: certs [0..2] Cavium, [3] Google root (not delivered), [4] card, [5] partition. */
  function kmsJson(name: string, wrap: boolean): string {
    const blocks = decodePem(readFileSync(join(HSM, 'gcp-cloudkms-smallstep', `${name}.certs.pem`), 'utf8'));
    const pem = (i: number) => encodePem('CERTIFICATE', blocks[i]!.der);
    const attestation = {
      format: 'CAVIUM_V2_COMPRESSED',
      content: readFileSync(join(HSM, 'gcp-cloudkms-smallstep', `${name}.dat.gz`)).toString('base64'),
      certChains: {
        caviumCerts: [pem(2), pem(1)],
        googleCardCerts: [pem(4)],
        googlePartitionCerts: [pem(5)],
      },
    };
    return JSON.stringify(
      wrap
        ? { name: 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1', attestation }
        : attestation,
    );
  }

  it('verifies Cloud KMS JSON (bare and inside a CryptoKeyVersion) with the template', async () => {
    const policy = setup();
    for (const [name, wrap] of [
      ['ec', false],
      ['rsa', true],
    ] as const) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, kmsJson(name, wrap));
      const run = await runCli(['verify', file, '--policy', policy, '--at', AT, '--json']);
      expect(run.err).toBe('');
      const verdict = JSON.parse(run.out);
      // The template asks for possession freshness (a CSR): a bare attestation is refused by policy.
      expect(verdict.format).toBe('cloud-hsm');
      expect(verdict.code).toBe('NONCE_MISSING');
      expect(verdict.findings.find((f: { check: string }) => f.check === 'path.additional').ok).toBe(true);
      const relaxed = join(dir, 'relaxed.yaml');
      writeFileSync(relaxed, CLOUD_HSM_POLICY_TEMPLATE.replace('freshness: possession', 'freshness: none'));
      const ok = await runCli(['verify', file, '--policy', relaxed, '--at', AT, '--json']);
      expect(ok.code, ok.out).toBe(0);
      expect(JSON.parse(ok.out).claims.nonExportable).toBe(true);
    }
  });

  it('the human output shows the owner chain as a second line, also on a policy rejection', async () => {
    const policy = setup();
    const file = join(dir, 'ec-human.json');
    writeFileSync(file, kmsJson('ec', false));
    const relaxed = join(dir, 'relaxed-human.yaml');
    writeFileSync(relaxed, CLOUD_HSM_POLICY_TEMPLATE.replace('freshness: possession', 'freshness: none'));
    const ok = await runCli(['verify', file, '--policy', relaxed, '--at', AT]);
    expect(ok.code, ok.out).toBe(0);
    const lines = ok.out.split('\n');
    const main = lines.findIndex((l) => l.trimStart().startsWith('[new key] → '));
    expect(main, ok.out).toBeGreaterThan(0);
    // The second chain line follows the main one and ends at Google's owner root.
    const also = lines[main + 1]!;
    expect(also).toMatch(/^ {2}also validated \(owner path\): .+ → Hawksbill Root v1 prod$/);
    expect(lines[main]).not.toContain('Hawksbill');
    const refused = await runCli(['verify', file, '--policy', policy, '--at', AT]);
    expect(refused.out).toContain('REJECT  NONCE_MISSING');
    expect(refused.out).toMatch(/also validated \(owner path\): .+ → Hawksbill Root v1 prod/);
  });

  it('decodes a PEM bundle with a MARVELL ATTESTATION block', () => {
    const pem =
      encodePem('MARVELL ATTESTATION', readFileSync(join(HSM, 'gcp-cloudkms-smallstep', 'ec.dat.gz'))) +
      readFileSync(join(HSM, 'gcp-cloudkms-smallstep', 'ec.certs.pem'), 'utf8');
    const input = decodeEvidence(new TextEncoder().encode(pem));
    expect(input.kind).toBe('cloud-hsm');
    expect(input.certificates).toHaveLength(6);
  });

  it('refuses an unsupported Cloud KMS format and a second blob', () => {
    const bad = JSON.stringify({ format: 'CAVIUM_V9', content: 'AAAA', certChains: {} });
    expect(outcome(() => decodeEvidence(new TextEncoder().encode(bad)))).toBe('ATTESTATION_MALFORMED');
    const two =
      encodePem('MARVELL ATTESTATION', Uint8Array.of(1)) + encodePem('MARVELL ATTESTATION', Uint8Array.of(2));
    expect(outcome(() => decodeEvidence(new TextEncoder().encode(two)))).toBe('INPUT_UNRECOGNIZED');
  });
});
