/**
 * The real proof of MakeCredential: a software TPM (swtpm) makes an EK (RSA-2048 and ECC
 * P-256, default templates) and an AK under it with tpm2-tools; our TypeScript makeCredential
 * wraps a secret for (EK public area, AK Name we compute); `tpm2_activatecredential` on the
 * TPM returns that secret (TPM 2.0 Part 1 §24; standards.md §2.6, §2.9).
 *
 * Needs swtpm and tpm2-tools: skipped with the reason locally, a failure in CI.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encodeTpm2ToolsCredential,
  makeCredential,
  readTpmPublicArea,
  tpmObjectName,
} from '../../../src/formats/tpm/credential.js';
import { needSwtpm, type Swtpm, startSwtpm } from '../../helpers/swtpm.js';
import { needTool } from '../../helpers/tools.js';

function tool(tpm: Swtpm, args: string[]): void {
  const [cmd, ...rest] = args;
  const run = spawnSync(cmd ?? '', rest, {
    cwd: tpm.dir,
    encoding: 'utf8',
    env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  // No resource manager sits in front of swtpm: each tool leaves its transient objects
  // loaded, so flush them or the TPM runs out of object slots (TPM_RC_OBJECT_MEMORY).
  if (cmd !== 'tpm2_flushcontext') tool(tpm, ['tpm2_flushcontext', '-t']);
}

describe('MakeCredential against a software TPM (swtpm + tpm2-tools)', () => {
  for (const ekAlg of ['rsa', 'ecc'] as const) {
    it(`tpm2_activatecredential returns the secret wrapped in TypeScript for a ${ekAlg.toUpperCase()} EK`, async (ctx) => {
      needSwtpm(ctx);
      needTool(ctx, 'tpm2_activatecredential', ['-v']);
      const tpm = await startSwtpm();
      try {
        tool(tpm, ['tpm2_createek', '-c', 'ek.ctx', '-G', ekAlg, '-u', 'ek.pub']);
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
        const ak = readTpmPublicArea(readFileSync(join(tpm.dir, 'ak.pub')));
        // The verifier checks the AK attributes before wrapping (standards.md §2.6).
        for (const bit of ['restricted', 'sign', 'fixedTPM', 'fixedParent', 'sensitiveDataOrigin'] as const)
          expect(ak.objectAttributes[bit], bit).toBe(true);
        const akName = tpmObjectName(ak);
        expect(Buffer.from(akName)).toEqual(readFileSync(join(tpm.dir, 'ak.name')));

        const secret = randomBytes(32);
        const credential = makeCredential({ ek: readFileSync(join(tpm.dir, 'ek.pub')), akName, secret });
        writeFileSync(join(tpm.dir, 'cred.out'), encodeTpm2ToolsCredential(credential));

        // The EK has adminWithPolicy: authorise it with PolicySecret(TPM_RH_ENDORSEMENT).
        tool(tpm, ['tpm2_startauthsession', '--policy-session', '-S', 's.ctx']);
        tool(tpm, ['tpm2_policysecret', '-S', 's.ctx', '-c', 'e']);
        tool(
          tpm,
          [
            'tpm2_activatecredential',
            '-c',
            'ak.ctx',
            '-C',
            'ek.ctx',
            '-i',
            'cred.out',
            '-o',
            'secret.out',
          ].concat(['-P', 'session:s.ctx']),
        );
        tool(tpm, ['tpm2_flushcontext', 's.ctx']);
        expect(readFileSync(join(tpm.dir, 'secret.out'))).toEqual(secret);

        // Bound to the AK Name: a credential made for another Name does not activate.
        const other = Uint8Array.from(akName);
        other[5] = (other[5] ?? 0) ^ 1;
        writeFileSync(
          join(tpm.dir, 'cred2.out'),
          encodeTpm2ToolsCredential(
            makeCredential({ ek: readFileSync(join(tpm.dir, 'ek.pub')), akName: other, secret }),
          ),
        );
        tool(tpm, ['tpm2_startauthsession', '--policy-session', '-S', 's2.ctx']);
        tool(tpm, ['tpm2_policysecret', '-S', 's2.ctx', '-c', 'e']);
        expect(() =>
          tool(
            tpm,
            [
              'tpm2_activatecredential',
              '-c',
              'ak.ctx',
              '-C',
              'ek.ctx',
              '-i',
              'cred2.out',
              '-o',
              'x.out',
            ].concat(['-P', 'session:s2.ctx']),
          ),
        ).toThrow(/failed/);
      } finally {
        await tpm.stop();
      }
    }, 60_000);
  }
});
