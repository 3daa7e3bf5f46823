/**
 * Real YubiKey PIV attestations from ../shared/vectors/yubikey-piv (MANIFEST.md §1), read in
 * place: every slot + F9 pair verifies through createVerifier under a policy trusting the three
 * Yubico roots for 'yubikey-piv', with the right claims and only the quirks the MANIFEST
 * documents; the mismatched pairs fail; the OpenSSH keys match the slot keys; and one bundle
 * verifies end to end through `provenance verify`. Skips with a printed reason when the vectors
 * are absent, except in CI.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePem } from '../../../src/core/pem.js';
import type { EvidenceInput } from '../../../src/formats/types.js';
import { YUBICO_ANCHOR_IDS } from '../../../src/formats/yubikey-piv/index.js';
import { YUBIKEY_POLICY_TEMPLATE } from '../../../src/formats/yubikey-piv/policy-template.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';
import { describeKey } from '../../../src/pki/keys.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { runCli } from '../../helpers/cli.js';

const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
const YK = join(VECTORS, 'yubikey-piv');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping YubiKey PIV vector tests: ${reason}`);
  }
}

/** Pinned time: inside every chain's validity (MANIFEST: 2016-2052, 2014-2050, 2024-12-01-9999). */
const AT = Date.UTC(2026, 0, 15);

const ROOT_FILES = {
  [YUBICO_ANCHOR_IDS.pivRoot]: join(YK, 'piv-go', 'yubico-piv-root-ca-serial-263751.pem'),
  [YUBICO_ANCHOR_IDS.u2fRoot]: join(YK, 'piv-go', 'yubico-u2f-root-ca-serial-457200631.pem'),
  [YUBICO_ANCHOR_IDS.attestationRoot1]: join(YK, 'smallstep-certificates', 'yubico-attestation-root-1.pem'),
};

function pemText(...parts: string[]): string {
  return readFileSync(join(YK, ...parts), 'utf8');
}

function certs(...parts: string[]): Certificate[] {
  return decodePem(pemText(...parts)).map((b) => parseCertificate(b.der));
}

function policyText(extra = ''): string {
  const trust = Object.entries(ROOT_FILES)
    .map(
      ([id, file]) =>
        `  - id: ${id}\n    certificates: [${JSON.stringify(file)}]\n    formats: [yubikey-piv]\n`,
    )
    .join('');
  return `version: 1\ntrust:\n${trust}deny:\n  roca: true\n  firmware: [">=4.2.6 <4.3.5"]\n${extra}`;
}

const policy = () => parsePolicy(policyText(), { source: 'yubico.yaml', baseDir: YK });

interface Case {
  readonly dir: string;
  readonly slot: string;
  readonly f9: string;
  readonly extra?: readonly Certificate[];
  readonly anchor: string;
  readonly quirks: readonly string[];
  readonly claims: Record<string, unknown>;
}

const cases = (): Case[] => [
  {
    dir: 'ovh-yubico-piv-checker',
    slot: 'yk-fw4.3.5-sn5970478_9a-slot-attestation.pem',
    f9: 'yk-fw4.3.5-sn5970478_f9-intermediate.pem',
    anchor: YUBICO_ANCHOR_IDS.pivRoot,
    quirks: ['yubikey-f9-no-basic-constraints'],
    claims: {
      serial: '5970478',
      firmware: '4.3.5',
      pinPolicy: 'always',
      touchPolicy: 'never',
      keyAlgorithm: 'rsa',
      keySize: 2048,
      slot: '9a',
    },
  },
  {
    dir: 'ovh-yubico-piv-checker',
    slot: 'yk-fw5.7.4-sn32718477_9a-slot-attestation.pem',
    f9: 'yk-fw5.7.4-sn32718477_f9-intermediate.pem',
    // Tier-1/tier-2 intermediates are not on the device (standards.md §1.3): appended.
    extra: certs('smallstep-crypto', 'yubico-piv-attestation-B1_bundle.pem'),
    anchor: YUBICO_ANCHOR_IDS.attestationRoot1,
    quirks: [],
    claims: {
      serial: '32718477',
      firmware: '5.7.4',
      pinPolicy: 'always',
      touchPolicy: 'never',
      formFactor: 'usb-c-nano',
      keyAlgorithm: 'rsa',
      keySize: 2048,
    },
  },
  {
    dir: 'piv-go',
    slot: 'yk-a_2016-piv-root_9a-slot-attestation.pem',
    f9: 'yk-a_2016-piv-root_f9-intermediate.pem',
    anchor: YUBICO_ANCHOR_IDS.pivRoot,
    quirks: [],
    // The extension says 5.4.3 (05 04 03), whatever the MANIFEST prose says.
    claims: {
      serial: '15732500',
      firmware: '5.4.3',
      pinPolicy: 'once',
      touchPolicy: 'never',
      keyAlgorithm: 'ec-p256',
    },
  },
  {
    dir: 'piv-go',
    slot: 'yk-b_2018-u2f-root_9a-slot-attestation.pem',
    f9: 'yk-b_2018-u2f-root_f9-intermediate_no-basicConstraints.pem',
    anchor: YUBICO_ANCHOR_IDS.u2fRoot,
    quirks: ['yubikey-f9-no-basic-constraints', 'yubikey-u2f-root-path-length'],
    claims: { firmware: '4.3.7', pinPolicy: 'once', touchPolicy: 'never', keyAlgorithm: 'ec-p256' },
  },
];

function input(c: { dir: string; slot: string; f9: string; extra?: readonly Certificate[] }): EvidenceInput {
  return {
    kind: 'certificates',
    certificates: [...certs(c.dir, c.f9), ...certs(c.dir, c.slot), ...(c.extra ?? [])],
  };
}

describe.skipIf(!available)('YubiKey PIV vectors through createVerifier', () => {
  for (const c of available ? cases() : []) {
    it(`accepts ${c.slot} under ${c.anchor}${c.quirks.length ? ` with ${c.quirks.join(', ')}` : ''}`, () => {
      const verdict = createVerifier({ policy: policy() }).verify(input(c), { at: AT });
      expect(verdict.code, verdict.message).toBe('ACCEPTED');
      expect(verdict.format).toBe('yubikey-piv');
      expect(verdict.path.at(-1)?.anchor).toBe(c.anchor);
      expect(verdict.quirks.map((q) => q.id)).toEqual(c.quirks);
      expect(verdict.claims).toMatchObject({ ...c.claims, generatedOnDevice: true, nonExportable: true });
      expect(verdict.freshness).toBe('none');
      // The ROCA firmware range and the ROCA modulus test ran and passed (fw 4.3.5 is the fix).
      expect(verdict.findings.find((f) => f.check === 'deny.firmware')?.ok).toBe(true);
      expect(verdict.findings.find((f) => f.check === 'deny.roca')?.ok).toBe(true);
    });
  }

  it('the quirks follow the Yubico keys: the real chains verify under any trust id', () => {
    const text = policyText().replaceAll('id: yubico-', 'id: other-');
    const v = createVerifier({ policy: parsePolicy(text, { source: 'other.yaml', baseDir: YK }) });
    const c = cases()[0]!;
    const verdict = v.verify(input(c), { at: AT });
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.quirks.map((q) => q.id)).toEqual(c.quirks);
  });

  it('rejects the documented mismatched pairs (slot of one key, F9 of another)', () => {
    const v = createVerifier({ policy: policy() });
    const a = v.verify(
      input({
        dir: 'piv-go',
        slot: 'yk-a_2016-piv-root_9a-slot-attestation.pem',
        f9: 'yk-b_2018-u2f-root_f9-intermediate_no-basicConstraints.pem',
      }),
      { at: AT },
    );
    const b = v.verify(
      input({
        dir: 'piv-go',
        slot: 'yk-b_2018-u2f-root_9a-slot-attestation.pem',
        f9: 'yk-a_2016-piv-root_f9-intermediate.pem',
      }),
      { at: AT },
    );
    for (const verdict of [a, b]) {
      expect(verdict.accepted).toBe(false);
      expect(verdict.code).toBe('PATH_SIGNATURE_INVALID');
    }
  });

  it('the 5.7.4 chain without the Yubico intermediates finds no path', () => {
    const v = createVerifier({ policy: policy() });
    const { extra: _extra, ...c } = cases()[1]!;
    expect(v.verify(input(c), { at: AT }).code).toBe('PATH_NOT_FOUND');
  });

  it('the policy template loads the real roots; a bare bundle then fails freshness, not firmware', () => {
    const files: Record<string, string> = {
      'yubico-piv-root-ca-serial-263751.pem': ROOT_FILES[YUBICO_ANCHOR_IDS.pivRoot],
      'yubico-u2f-root-ca-serial-457200631.pem': ROOT_FILES[YUBICO_ANCHOR_IDS.u2fRoot],
      'yubico-attestation-root-1.pem': ROOT_FILES[YUBICO_ANCHOR_IDS.attestationRoot1],
    };
    const p = parsePolicy(YUBIKEY_POLICY_TEMPLATE, {
      source: 'template.yaml',
      baseDir: '.',
      readFile: (path) => readFileSync(files[path.split(/[\\/]/).at(-1)!]!),
    });
    const verdict = createVerifier({ policy: p }).verify(input(cases()[0]!), { at: AT });
    expect(verdict.code).toBe('NONCE_MISSING');
    expect(verdict.findings.find((f) => f.check === 'deny.firmware')?.ok).toBe(true);
    expect(verdict.findings.find((f) => f.check === 'deny.roca')?.ok).toBe(true);
  });

  it('the OpenSSH public keys match the slot keys (SHA256 fingerprints from the MANIFEST)', () => {
    const expected: [string, string, string][] = [
      [
        'yk-fw4.3.5-sn5970478_ssh-pubkey.txt',
        'yk-fw4.3.5-sn5970478_9a-slot-attestation.pem',
        'SHA256:V0yDye/t5QVSC6nAnQ8MsgYUS/bZZKQmB0cYk6+UgqI',
      ],
      [
        'yk-fw5.7.4-sn32718477_ssh-pubkey.txt',
        'yk-fw5.7.4-sn32718477_9a-slot-attestation.pem',
        'SHA256:7bhN1DGrz1RfrP4XFxofylRN8ePE6cDdgwguu5cqFKU',
      ],
    ];
    for (const [sshFile, slotFile, fingerprint] of expected) {
      const [type, b64] = pemText('ovh-yubico-piv-checker', sshFile).trim().split(/\s+/);
      expect(type).toBe('ssh-rsa');
      const blob = Buffer.from(b64!, 'base64');
      const digest = createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
      expect(`SHA256:${digest}`).toBe(fingerprint);
      // RFC 4253 §6.6: string "ssh-rsa", mpint e, mpint n.
      const fields: Buffer[] = [];
      for (let pos = 0; pos < blob.length; ) {
        const len = blob.readUInt32BE(pos);
        fields.push(blob.subarray(pos + 4, pos + 4 + len));
        pos += 4 + len;
      }
      const big = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
      const key = describeKey(certs('ovh-yubico-piv-checker', slotFile)[0]!.spki);
      expect(fields[0]!.toString()).toBe('ssh-rsa');
      expect(big(fields[1]!)).toBe(key.rsaExponent);
      expect(big(fields[2]!)).toBe(key.rsaModulus);
    }
  });

  describe('provenance verify (CLI)', () => {
    const dir = available ? mkdtempSync(join(tmpdir(), 'yk-cli-')) : '';
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('accepts slot.pem + f9.pem concatenated into one bundle', async () => {
      const bundle = join(dir, 'bundle.pem');
      writeFileSync(
        bundle,
        pemText('piv-go', 'yk-a_2016-piv-root_9a-slot-attestation.pem') +
          pemText('piv-go', 'yk-a_2016-piv-root_f9-intermediate.pem'),
      );
      const policyFile = join(dir, 'policy.yaml');
      writeFileSync(policyFile, policyText());
      const run = await runCli([
        'verify',
        bundle,
        '--policy',
        policyFile,
        '--at',
        new Date(AT).toISOString(),
        '--json',
      ]);
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      const verdict = JSON.parse(run.out);
      expect(verdict.format).toBe('yubikey-piv');
      expect(verdict.claims.serial).toBe('15732500');
    });

    it('--trust with a root the catalogue recognises needs no policy: catalogue id and formats', async () => {
      const bundle = join(dir, 'bundle2.pem');
      writeFileSync(
        bundle,
        pemText('piv-go', 'yk-a_2016-piv-root_9a-slot-attestation.pem') +
          pemText('piv-go', 'yk-a_2016-piv-root_f9-intermediate.pem'),
      );
      const at = ['--at', new Date(AT).toISOString(), '--json'];
      const run = await runCli(['verify', bundle, '--trust', ROOT_FILES[YUBICO_ANCHOR_IDS.pivRoot], ...at]);
      expect(run.code, run.err).toBe(0);
      const verdict = JSON.parse(run.out);
      expect(verdict.format).toBe('yubikey-piv');
      expect(verdict.path.at(-1).anchor).toBe(YUBICO_ANCHOR_IDS.pivRoot);
      // --format narrows the anchor to another format: fail closed.
      const narrowed = await runCli([
        'verify',
        bundle,
        '--trust',
        ROOT_FILES[YUBICO_ANCHOR_IDS.pivRoot],
        '--format',
        'provenance',
        ...at,
      ]);
      expect(narrowed.code).toBe(1);
      expect(JSON.parse(narrowed.out).code).toBe('TRUST_NO_ANCHORS');
    });

    it('prints the chain with the F9 key named by its subject, and the Yubico claims', async () => {
      const bundle = join(dir, 'bundle3.pem');
      writeFileSync(
        bundle,
        pemText('piv-go', 'yk-b_2018-u2f-root_9a-slot-attestation.pem') +
          pemText('piv-go', 'yk-b_2018-u2f-root_f9-intermediate_no-basicConstraints.pem'),
      );
      const run = await runCli([
        'verify',
        bundle,
        '--trust',
        ROOT_FILES[YUBICO_ANCHOR_IDS.u2fRoot],
        '--at',
        new Date(AT).toISOString(),
      ]);
      expect(run.code, run.err).toBe(0);
      expect(run.out).toContain('[new key] → Yubico PIV Attestation → Yubico U2F Root CA Serial 457200631');
      expect(run.out).not.toContain('[batch]');
      expect(run.out).toMatch(/pinPolicy\s+once/);
      expect(run.out).toMatch(/touchPolicy\s+never/);
      expect(run.out).toContain('accepted quirk yubikey-u2f-root-path-length');
    });
  });
});
