/**
 * `provenance verify` with WebAuthn evidence: registration JSON and a bare attestation object,
 * --challenge/--origin/--rp-id, --trust with --format webauthn, and --mds with an index that
 * `provenance mds import` wrote from the real production BLOB.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { ecKey } from '../../helpers/pki.js';
import { BLOBS, MDS_VECTORS, vectorPath } from '../../trust/mds/vectors.js';
import {
  AAGUID_A,
  aaguidBytes,
  attestationObject,
  authData,
  CHALLENGE,
  clientDataJSON,
  ORIGIN,
  packedBasic,
  RP_ID,
  registrationJson,
  vendor,
} from './builder.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'provenance-webauthn-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const pem = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;

describe('provenance verify (WebAuthn)', () => {
  const v = vendor({ aaguidExt: AAGUID_A });
  const cred = ecKey();
  const cdj = clientDataJSON();
  const ad = authData({ aaguid: aaguidBytes(AAGUID_A) }, cred);
  const ao = attestationObject('packed', packedBasic(ad, cdj, v), ad);

  function files() {
    const dir = tempDir();
    const root = join(dir, 'root.pem');
    writeFileSync(root, pem(v.root.der));
    const reg = join(dir, 'registration.json');
    writeFileSync(reg, registrationJson(ao, cdj));
    const bare = join(dir, 'attestation.cbor');
    writeFileSync(bare, ao);
    return { root, reg, bare };
  }
  const expectations = [
    '--challenge',
    Buffer.from(CHALLENGE).toString('base64url'),
    '--origin',
    ORIGIN,
    '--rp-id',
    RP_ID,
  ];

  it('accepts a registration with the expected challenge, origin and RP ID, and prints the chain', async () => {
    const f = files();
    const r = await runCli(['verify', f.reg, '--trust', f.root, '--format', 'webauthn', ...expectations]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Vendor A FIDO Root');
    const json = await runCli([
      'verify',
      f.reg,
      '--trust',
      f.root,
      '--format',
      'webauthn',
      ...expectations,
      '--json',
    ]);
    expect(JSON.parse(json.out)).toMatchObject({
      accepted: true,
      format: 'webauthn',
      freshness: 'nonce',
      claims: { aaguid: AAGUID_A, attestationType: 'basic' },
    });
  });

  it('rejects another origin (exit 1, ORIGIN_MISMATCH) and another challenge (NONCE_MISMATCH)', async () => {
    const f = files();
    const origin = await runCli([
      'verify',
      f.reg,
      '--trust',
      f.root,
      '--format',
      'webauthn',
      '--origin',
      'https://evil.example',
      '--json',
    ]);
    expect(origin.code).toBe(1);
    expect(JSON.parse(origin.out).code).toBe('ORIGIN_MISMATCH');
    const challenge = await runCli([
      'verify',
      f.reg,
      '--trust',
      f.root,
      '--format',
      'webauthn',
      '--challenge',
      'AAAA',
      '--json',
    ]);
    expect(JSON.parse(challenge.out).code).toBe('NONCE_MISMATCH');
  });

  it('a bare attestation object without its client data is refused (WEBAUTHN_MALFORMED)', async () => {
    const f = files();
    const r = await runCli(['verify', f.bare, '--trust', f.root, '--format', 'webauthn', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).code).toBe('WEBAUTHN_MALFORMED');
  });
});

describe.skipIf(!MDS_VECTORS)('provenance verify --mds (real production BLOB)', () => {
  it('a real YubiKey registration validates to its MDS entry, with the model', async () => {
    const dir = tempDir();
    const imported = await runCli([
      'mds',
      'import',
      vectorPath(BLOBS.production12.file),
      '--root',
      vectorPath(BLOBS.production12.root),
      '--at',
      new Date(BLOBS.production12.time).toISOString(),
      '--out',
      join(dir, 'mds'),
    ]);
    expect(imported.code).toBe(0);
    const fixture = JSON.parse(
      readFileSync(
        new URL(
          '../../../../shared/vectors/webauthn/py_webauthn/packed__verify_attestation_from_yubikey_firefox.json',
          import.meta.url,
        ),
        'utf8',
      ),
    );
    const reg = join(dir, 'registration.json');
    writeFileSync(reg, JSON.stringify(fixture.response));
    const r = await runCli([
      'verify',
      reg,
      '--mds',
      join(dir, 'mds'),
      '--challenge',
      fixture.expectedChallenge_b64url,
      '--origin',
      fixture.expectedOrigin,
      '--rp-id',
      fixture.expectedRPID,
      '--at',
      new Date(BLOBS.production12.time).toISOString(),
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({
      accepted: true,
      claims: { model: 'Security Key by Yubico with NFC', mdsStatus: 'FIDO_CERTIFIED_L1' },
    });
  });
});
