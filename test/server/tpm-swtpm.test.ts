/**
 * The activation routes against a real software TPM: swtpm manufactured with a local CA
 * (test/helpers/swtpm.ts) holds an EK and its certificate in NV; tpm2-tools makes an AK under
 * the EK; the service validates the real EK certificate chain to the local CA root (a 'tpm'
 * anchor), wraps a secret, `tpm2_activatecredential` recovers it, and the service binds the AK.
 * RSA-2048 (low range) and ECC P-384 (high range) EKs. Skipped with the reason without swtpm/tpm2-tools; fails in CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { decodePem } from '../../src/core/pem.js';
import { encodeTpm2ToolsCredential } from '../../src/formats/tpm/credential.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { buildApp } from '../../src/server/app.js';
import { boundKeysForCode } from '../../src/server/tpm.js';
import { openStore } from '../../src/store/index.js';
import { needSwtpm, type Swtpm, startSwtpm } from '../helpers/swtpm.js';
import { needTool } from '../helpers/tools.js';
import { addAdminToken, FakeCa, testConfig } from './fakes.js';
import { createCode } from './fixtures.js';

function tool(tpm: Swtpm, args: string[]): void {
  const [cmd, ...rest] = args;
  const run = spawnSync(cmd ?? '', rest, {
    cwd: tpm.dir,
    encoding: 'utf8',
    env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  // No resource manager: flush what each tool left loaded (TPM_RC_OBJECT_MEMORY otherwise).
  if (cmd !== 'tpm2_flushcontext') tool(tpm, ['tpm2_flushcontext', '-t']);
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

describe('TPM activation routes with swtpm and tpm2-tools', () => {
  for (const [ecc, sendEkPublic] of [
    [false, false],
    [true, true],
    [true, false],
  ] as const) {
    const ek = ecc ? 'ECC P-384 (high range)' : 'RSA-2048';
    const template = sendEkPublic ? 'the EK public area sent' : 'the default EK template';
    it(`binds a real AK under a real ${ek} EK certificate, with ${template}`, async (ctx) => {
      needSwtpm(ctx);
      needTool(ctx, 'tpm2_activatecredential', ['-v']);
      const tpm = await startSwtpm({ ecc });
      const policyDir = mkdtempSync(join(tmpdir(), 'provenance-tpm-swtpm-policy-'));
      const store = await openStore('sqlite::memory:');
      try {
        writeFileSync(join(policyDir, 'root.pem'), tpm.caRootPem);
        writeFileSync(
          join(policyDir, 'policy.yaml'),
          'version: 1\ntrust:\n  - id: swtpm-localca\n    certificates: [./root.pem]\n    formats: [tpm]\nallow:\n  - id: swtpm\n    entry: ./root.pem\n    level: 1\n',
        );
        const app = buildApp({
          store,
          ca: new FakeCa(Date.now()),
          policy: loadPolicyFile(join(policyDir, 'policy.yaml')),
          config: testConfig(),
          clock: () => Date.now(),
          logger: pino({ level: 'silent' }),
        });
        const { code, id: codeId } = await createCode(app, await addAdminToken(store));

        // swtpm_setup --ecc manufactures a high-range ECC P-384 EK (H-3, NV 0x01C00016): SHA-384,
        // AES-256-CFB, userWithAuth set (standards.md §2.4); the RSA EK is the low-range L-1.
        const alg = ecc ? 'ecc384' : 'rsa';
        tool(tpm, ['tpm2_createek', '-c', 'ek.ctx', '-G', alg, '-u', 'ek.pub']);
        tool(tpm, ['tpm2_nvread', ecc ? '0x01c00016' : '0x01c00002', '-C', 'o', '-o', 'ek.der']);
        tool(
          tpm,
          [
            'tpm2_createak',
            '-C',
            'ek.ctx',
            '-c',
            'ak.ctx',
            '-G',
            'ecc',
            '-g',
            'sha256',
            '-s',
            'ecdsa',
          ].concat(['-u', 'ak.pub', '-n', 'ak.name']),
        );

        const ekCertificate = trimDer(readFileSync(join(tpm.dir, 'ek.der')));
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/tpm/activations',
          headers: { authorization: `Enroll ${code}` },
          payload: {
            ekCertificate: b64(ekCertificate),
            ekChain: tpm.caCerts.map((pem) => b64(decodePem(pem)[0]!.der)),
            akPublic: b64(readFileSync(join(tpm.dir, 'ak.pub'))),
            // With the EK public area its template replaces the defaults (the key must match the certificate).
            ...(sendEkPublic ? { ekPublic: b64(readFileSync(join(tpm.dir, 'ek.pub'))) } : {}),
          },
        });
        expect(res.statusCode, res.body).toBe(201);
        const started = res.json();
        expect(Buffer.from(started.akName, 'base64')).toEqual(readFileSync(join(tpm.dir, 'ak.name')));

        writeFileSync(
          join(tpm.dir, 'cred.out'),
          encodeTpm2ToolsCredential({
            credentialBlob: Buffer.from(started.credentialBlob, 'base64'),
            encryptedSecret: Buffer.from(started.encryptedSecret, 'base64'),
          }),
        );
        const activate = [
          'tpm2_activatecredential',
          '-c',
          'ak.ctx',
          '-C',
          'ek.ctx',
          '-i',
          'cred.out',
          '-o',
          'secret.out',
        ];
        if (ecc) {
          // High range: userWithAuth, so the EK's USER role takes its (empty) authValue.
          tool(tpm, activate);
        } else {
          // Low range: adminWithPolicy and no userWithAuth: PolicySecret(TPM_RH_ENDORSEMENT).
          tool(tpm, ['tpm2_startauthsession', '--policy-session', '-S', 's.ctx']);
          tool(tpm, ['tpm2_policysecret', '-S', 's.ctx', '-c', 'e']);
          tool(tpm, [...activate, '-P', 'session:s.ctx']);
          tool(tpm, ['tpm2_flushcontext', 's.ctx']);
        }

        const done = await app.inject({
          method: 'POST',
          url: `/api/v1/tpm/activations/${started.id}/complete`,
          headers: { authorization: `Enroll ${code}` },
          payload: { secret: b64(readFileSync(join(tpm.dir, 'secret.out'))) },
        });
        expect(done.statusCode, done.body).toBe(201);
        const keys = await boundKeysForCode(store, codeId);
        expect(keys.map((k) => k.id)).toEqual([done.json().akId]);
        await app.close();
      } finally {
        await store.close();
        rmSync(policyDir, { recursive: true, force: true });
        await tpm.stop();
      }
    }, 120_000);
  }
});

/** NV indices may be larger than the certificate: keep exactly the outer DER SEQUENCE. */
function trimDer(bytes: Uint8Array): Uint8Array {
  if (bytes[0] !== 0x30 || bytes[1] !== 0x82) return bytes;
  return bytes.subarray(0, 4 + (((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)));
}
