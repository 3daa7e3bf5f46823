/**
 * `provenance trust add|list|remove|catalog` with the real vendor roots (read in place from the
 * shared vectors): recognition by key, refusals with stable codes, stable JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePem } from '../../src/core/pem.js';
import { CATALOG } from '../../src/trust/catalog/entries.js';
import { runCli } from '../helpers/cli.js';
import { ecKey, issue } from '../helpers/pki.js';
import { available, requireVectors, vectorPath } from '../trust/catalog/vectors.js';

const NOW = Date.UTC(2026, 10, 30);
const run = (args: string[]) => runCli(args, { clock: () => NOW });

describe('trust catalog', () => {
  it('prints every catalogue entry with NEVER TRUST marks', async () => {
    const r = await run(['trust', 'catalog']);
    expect(r.code).toBe(0);
    for (const e of CATALOG) expect(r.out).toContain(e.id);
    expect(r.out).toMatch(/android-software-attestation-root-rsa .*NEVER TRUST/);
  });

  it('prints the catalogue as stable JSON', async () => {
    const r = await run(['trust', 'catalog', '--json']);
    const json = JSON.parse(r.out) as { entries: { id: string; spkiSha256: string }[] };
    expect(json.entries.map((e) => e.id)).toEqual(CATALOG.map((e) => e.id));
    expect(Object.keys(json.entries[0]!)).toEqual([
      'id',
      'vendor',
      'name',
      'formats',
      'spkiSha256',
      'certificateSha256',
      'source',
      'role',
      'notes',
    ]);
  });
});

requireVectors('trust CLI tests with real roots');

describe.skipIf(!available)('trust add / list / remove', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'prov-trust-')), 'trust');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  const FAMILIES: readonly [string, string, string][] = [
    ['yubikey-piv/piv-go/yubico-piv-root-ca-serial-263751.pem', 'yubico-piv-root-263751', 'yubikey-piv'],
    [
      'yubikey-piv/piv-go/yubico-u2f-root-ca-serial-457200631.pem',
      'yubico-u2f-root-457200631',
      'yubikey-piv, webauthn',
    ],
    [
      'yubikey-piv/smallstep-certificates/yubico-attestation-root-1.pem',
      'yubico-attestation-root-1',
      'yubikey-piv, webauthn',
    ],
    ['tpm/keylime-tpm_cert_store/INF_RSA_010RT.pem', 'infineon-optiga-rsa-root', 'tpm'],
    ['tpm/keylime-tpm_cert_store/GS_TPM_RT.pem', 'globalsign-tpm-root', 'tpm'],
    ['tpm/keylime-tpm_cert_store/NTC1.pem', 'ntc-tpm-ek-root-01', 'tpm'],
    ['tpm/keylime-tpm_cert_store/INTEL_RT.pem', 'intel-tpm-ek-root', 'tpm'],
    ['tpm/simplewebauthn/microsoft-tpm-root-ca-2014.pem', 'microsoft-tpm-root-2014', 'tpm, webauthn'],
    ['tpm/go-tpm-tools/gcp_ek_ak_ca_root.crt', 'google-gce-ek-ak-root', 'tpm'],
    [
      'android-key/simplewebauthn/Google_Hardware_Attestation_Root_3.pem',
      'google-hardware-attestation-rsa',
      'android-key, webauthn',
    ],
    [
      'android-key/smallstep-certificates/google-key-attestation-ca1-ec-p384-2025.pem',
      'google-key-attestation-ca1',
      'android-key, webauthn',
    ],
    ['apple/webauthn4j/Apple_App_Attestation_Root_CA.pem', 'apple-app-attestation-root', 'apple'],
    ['webauthn/simplewebauthn/roots/Apple_WebAuthn_Root_CA.pem', 'apple-webauthn-root', 'webauthn'],
    [
      'apple/smallstep-certificates/apple-enterprise-attestation-root-ca.pem',
      'apple-enterprise-attestation-root',
      'apple',
    ],
    ['fido-mds/webauthn4j/root-r3.crt', 'fido-mds3-root-globalsign-r3', 'webauthn'],
  ];

  it('adds one root of each family, naming it, and lists them all', async () => {
    for (const [file, id, formats] of FAMILIES) {
      const r = await run(['trust', 'add', vectorPath(file), '--dir', dir]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^added .+ \\(${id}\\): formats ${formats}\\n$`));
    }
    const list = await run(['trust', 'list', '--dir', dir]);
    expect(list.code).toBe(0);
    for (const [, id] of FAMILIES) expect(list.out).toMatch(new RegExp(`^${id}  .* catalogue ${id}$`, 'm'));
  });

  it('names the Yubico PIV root as the task describes', async () => {
    const r = await run([
      'trust',
      'add',
      vectorPath('yubikey-piv/piv-go/yubico-piv-root-ca-serial-263751.pem'),
      '--dir',
      dir,
    ]);
    expect(r.out).toBe(
      'added Yubico PIV Root CA Serial 263751 (yubico-piv-root-263751): formats yubikey-piv\n',
    );
  });

  it('adds the Cloud HSM roots from the two-certificate bundle, warning that Cavium expired', async () => {
    const r = await run([
      'trust',
      'add',
      vectorPath('cloud-hsm/peculiar-attestation/marvell-roots.pem'),
      '--dir',
      dir,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('(google-hawksbill-root-v1-prod): formats cloud-hsm');
    expect(r.out).toContain('(cavium-liquidsecurity-root): formats cloud-hsm');
    expect(r.err).toMatch(/warning: cavium-liquidsecurity-root expired on 2025-11-16/);
    const list = await run(['trust', 'list', '--dir', dir]);
    expect(list.out).toMatch(/^cavium-liquidsecurity-root .* until 2025-11-16 EXPIRED/m);
  });

  it('list --json is stable: dir and anchors with fixed keys', async () => {
    await run([
      'trust',
      'add',
      vectorPath('apple/webauthn4j/Apple_App_Attestation_Root_CA.pem'),
      '--dir',
      dir,
    ]);
    const r = await run(['trust', 'list', '--dir', dir, '--json']);
    const json = JSON.parse(r.out) as { dir: string; anchors: Record<string, unknown>[] };
    expect(json.dir).toBe(dir);
    expect(Object.keys(json.anchors[0]!)).toEqual([
      'id',
      'file',
      'formats',
      'spkiSha256',
      'certificateSha256',
      'subject',
      'notAfter',
      'catalog',
      'vendor',
      'intermediate',
    ]);
    expect(json.anchors).toEqual([
      {
        id: 'apple-app-attestation-root',
        file: 'apple-app-attestation-root.pem',
        formats: ['apple'],
        spkiSha256: '1ae751fd29896d0f1f13fe226c063f445d40d8938acc6245c251ecc0679330bd',
        certificateSha256: '1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932',
        subject: 'ST=California,O=Apple Inc.,CN=Apple App Attestation Root CA',
        notAfter: '2045-03-15T00:00:00.000Z',
        catalog: 'apple-app-attestation-root',
        vendor: 'Apple',
        intermediate: false,
      },
    ]);
  });

  it('refuses the Android software roots with CATALOG_NEVER_TRUST', async () => {
    const r = await run([
      'trust',
      'add',
      vectorPath('android-key/android-keyattestation/software-roots.pem'),
      '--dir',
      dir,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: CATALOG_NEVER_TRUST: Android Keystore Software Attestation Root/);
    expect((await run(['trust', 'list', '--dir', dir])).out).toMatch(/^no anchors installed/);
  });

  it('refuses a vendor intermediate unless --intermediate-anchor, saying why', async () => {
    const file = vectorPath('tpm/keylime-tpm_cert_store/STM_RSA_RT.pem');
    const refused = await run(['trust', 'add', file, '--dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/TRUST_ANCHOR_NOT_ROOT: .*not self-signed.*--intermediate-anchor.*keylime/);
    const ok = await run(['trust', 'add', file, '--dir', dir, '--intermediate-anchor']);
    expect(ok.out).toBe('added STM TPM EK Root CA (stm-tpm-ek-root): formats tpm [intermediate anchor]\n');
  });

  it('adds several files all or nothing: one refusal leaves the folder unchanged', async () => {
    const r = await run([
      'trust',
      'add',
      vectorPath('apple/webauthn4j/Apple_App_Attestation_Root_CA.pem'),
      vectorPath('android-key/android-keyattestation/software-roots.pem'),
      '--dir',
      dir,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/CATALOG_NEVER_TRUST/);
    expect(r.out).toBe('');
    expect((await run(['trust', 'list', '--dir', dir])).out).toMatch(/^no anchors installed/);
  });

  it('refuses a duplicate (a second Google RSA root certificate is the same key)', async () => {
    await run([
      'trust',
      'add',
      vectorPath('android-key/simplewebauthn/Google_Hardware_Attestation_Root_4.pem'),
      '--dir',
      dir,
    ]);
    const r = await run([
      'trust',
      'add',
      vectorPath('android-key/simplewebauthn/Google_Hardware_Attestation_Root_2.pem'),
      '--dir',
      dir,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/TRUST_ANCHOR_DUPLICATE: .*already installed as "google-hardware-attestation-rsa"/);
  });

  it('a look-alike with the Yubico root subject is not recognised: it needs --id and --formats', async () => {
    const { parseCertificateBundle } = await import('../../src/pki/bundle.js');
    const { readFileSync } = await import('node:fs');
    const [yubico] = parseCertificateBundle(
      new Uint8Array(readFileSync(vectorPath('yubikey-piv/piv-go/yubico-piv-root-ca-serial-263751.pem'))),
    );
    const fake = issue({ subject: yubico!.subject.der, key: ecKey(), ca: {} });
    const file = join(dir, '..', 'fake.pem');
    writeFileSync(file, encodePem('CERTIFICATE', fake.der));
    const r = await run(['trust', 'add', file, '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /USAGE: CN=Yubico PIV Root CA Serial 263751 is not in the catalogue: give --id and --formats/,
    );
    const ok = await run([
      'trust',
      'add',
      file,
      '--dir',
      dir,
      '--id',
      'lookalike',
      '--formats',
      'provenance',
    ]);
    expect(ok.out).toBe(
      'added CN=Yubico PIV Root CA Serial 263751 (lookalike): not in the catalogue: formats provenance\n',
    );
    expect((await run(['trust', 'list', '--dir', dir])).out).toMatch(/^lookalike .* not catalogued$/m);
  });

  it('rejects unknown formats and removes anchors by id', async () => {
    const file = vectorPath('apple/webauthn4j/Apple_App_Attestation_Root_CA.pem');
    const bad = await run(['trust', 'add', file, '--dir', dir, '--formats', 'apple,pgp']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/USAGE: --formats: unknown format "pgp"/);
    await run(['trust', 'add', file, '--dir', dir]);
    const removed = await run(['trust', 'remove', 'apple-app-attestation-root', '--dir', dir]);
    expect(removed.out).toMatch(/^removed apple-app-attestation-root \(sha256:1ae751fd/);
    const again = await run(['trust', 'remove', 'apple-app-attestation-root', '--dir', dir]);
    expect(again.err).toMatch(/^error: NOT_FOUND/);
  });

  it('uses $PROVENANCE_TRUST_DIR when --dir is absent', async () => {
    const r = await runCli(
      ['trust', 'add', vectorPath('webauthn/simplewebauthn/roots/Apple_WebAuthn_Root_CA.pem')],
      {
        clock: () => NOW,
        env: { PROVENANCE_TRUST_DIR: dir },
      },
    );
    expect(r.code).toBe(0);
    expect((await run(['trust', 'list', '--dir', dir, '--json'])).out).toContain('apple-webauthn-root');
  });
});

describe.skipIf(!available)('verify --trust with a never-trust root', () => {
  it('is refused whatever --format says (CATALOG_NEVER_TRUST, exit 2)', async () => {
    const sw = vectorPath('android-key/android-keyattestation/software-roots.pem');
    for (const extra of [[], ['--format', 'tpm'], ['--format', 'webauthn']]) {
      const r = await run(['verify', sw, '--trust', sw, ...extra]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('CATALOG_NEVER_TRUST');
    }
  });
});
