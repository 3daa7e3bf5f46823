/**
 * `provenance policy template tpm|webauthn`: each template is listed, and parses with
 * `policy check` once the files it names exist (dummy roots, a generated MDS index); the
 * WebAuthn template then verifies a registration with `verify --policy` and no `--mds`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { POLICY_TEMPLATES } from '../../src/cli/policy.js';
import {
  AAGUID_A,
  AAGUID_B,
  aaguidBytes,
  attestationObject,
  authData,
  CHALLENGE,
  clientDataJSON,
  ORIGIN,
  packedBasic,
  RP_ID,
  registrationJson,
  type Vendor,
} from '../formats/webauthn/builder.js';
import { runCli } from '../helpers/cli.js';
import { ecKey, issue } from '../helpers/pki.js';
import { MDS_NOW, pem, vendorA, writeMdsIndex } from '../policy/mds-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'provenance-policy-templates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function registration(v: Vendor, aaguid: string, userVerified: boolean): Uint8Array {
  const cdj = clientDataJSON();
  // Flags UP | AT, plus UV (0x04) when the user was verified (WebAuthn §6.1).
  const ad = authData({ aaguid: aaguidBytes(aaguid), flags: userVerified ? 0x45 : 0x41 }, ecKey());
  return registrationJson(attestationObject('packed', packedBasic(ad, cdj, v), ad), cdj);
}

describe('policy template tpm and webauthn', () => {
  it('lists both templates', async () => {
    const r = await runCli(['policy', 'template']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^tpm\s/m);
    expect(r.out).toMatch(/^webauthn\s/m);
    expect(Object.keys(POLICY_TEMPLATES)).toEqual(expect.arrayContaining(['tpm', 'webauthn']));
  });

  it('the tpm template parses once its two root files exist and requires nonce, on-device, non-exportable', async () => {
    const sub = join(dir, 'tpm');
    const printed = await runCli(['policy', 'template', 'tpm']);
    expect(printed.code).toBe(0);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'policy.yaml'), printed.out);
    // Without its files the template fails closed at the line naming the first one.
    const missing = await runCli(['policy', 'check', join(sub, 'policy.yaml'), '--json']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.out).error.code).toBe('POLICY_INVALID');
    writeFileSync(join(sub, 'ak-ca.pem'), pem(issue({ subject: 'Test AK CA', key: ecKey(), ca: {} })));
    writeFileSync(
      join(sub, 'tpm-ek-roots.pem'),
      pem(issue({ subject: 'Test EK Root', key: ecKey(), ca: {} })),
    );
    const r = await runCli(['policy', 'check', join(sub, 'policy.yaml'), '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.trust.map((t: { id: string; formats: string[] }) => [t.id, t.formats])).toEqual([
      ['ak-ca', ['tpm']],
      ['tpm-ek-roots', ['tpm']],
    ]);
    expect(summary.require).toEqual({ freshness: 'nonce', generatedOnDevice: true, nonExportable: true });
  });

  it('the webauthn template parses with a generated MDS index and policy check summarises it', async () => {
    const sub = join(dir, 'webauthn');
    const printed = await runCli(['policy', 'template', 'webauthn']);
    expect(printed.code).toBe(0);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'policy.yaml'), printed.out);
    const missing = await runCli(['policy', 'check', join(sub, 'policy.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/POLICY_INVALID: .*policy\.yaml:\d+:\d+: mds\.index/);
    const blob = writeMdsIndex(join(sub, 'mds'), 7);
    const r = await runCli(['policy', 'check', join(sub, 'policy.yaml')], { clock: () => MDS_NOW });
    expect(r.code).toBe(0);
    expect(r.out).toContain('FIDO MDS  ./mds  BLOB no. 7, 2 entries, next update 2026-07-01');
    expect(r.out).toContain('minimum certification: FIDO_CERTIFIED_L1');
    expect(r.err).toBe('');
    const json = JSON.parse((await runCli(['policy', 'check', join(sub, 'policy.yaml'), '--json'])).out);
    expect(json.mds).toMatchObject({ blobNo: 7, blobDigest: blob.digest, entries: 2 });
    expect(json.require).toMatchObject({
      freshness: 'nonce',
      userPresence: ['always'],
      userVerification: ['once'],
    });
    // After nextUpdate, policy check warns that the index should be imported again.
    const late = await runCli(['policy', 'check', join(sub, 'policy.yaml')], {
      clock: () => Date.UTC(2026, 7, 1),
    });
    expect(late.code).toBe(0);
    expect(late.err).toMatch(/past its nextUpdate 2026-07-01/);
  });

  it('verify --policy uses the policy mds index without --mds', async () => {
    const sub = join(dir, 'webauthn');
    const args = (file: string) => [
      'verify',
      file,
      '--policy',
      join(sub, 'policy.yaml'),
      '--challenge',
      Buffer.from(CHALLENGE).toString('base64url'),
      '--origin',
      ORIGIN,
      '--rp-id',
      RP_ID,
      '--at',
      new Date(MDS_NOW).toISOString(),
    ];
    const good = join(sub, 'good.json');
    writeFileSync(good, registration(vendorA, AAGUID_A, true));
    const ok = await runCli(args(good));
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    // Vendor A's chain claiming vendor B's AAGUID: not vendor B's roots.
    const spoof = join(sub, 'spoof.json');
    writeFileSync(spoof, registration(vendorA, AAGUID_B, true));
    const refused = await runCli([...args(spoof), '--json']);
    expect(refused.code).not.toBe(0);
    expect(JSON.parse(refused.out).code).toBe('PATH_NOT_FOUND');
    // The template requires user verification: a registration without UV is refused.
    const noUv = join(sub, 'no-uv.json');
    writeFileSync(noUv, registration(vendorA, AAGUID_A, false));
    const unverified = await runCli([...args(noUv), '--json']);
    expect(unverified.code).not.toBe(0);
    expect(JSON.parse(unverified.out).accepted).toBe(false);
  });
});
