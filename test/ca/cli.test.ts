/**
 * `provenance ca init|install|show`, run in-process as the binary runs them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CA_FILES, openCa } from '../../src/ca/directory.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { buildCertificate, deriveSubjectKeyId } from '../../src/pki/builder.js';
import { parseCsr } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { signerFromKeyObject } from '../../src/pki/signer.js';
import { runCli } from '../helpers/cli.js';
import { DAY, leafKey, NOW, PASSPHRASE, tempDirs } from './fixtures.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

describe('provenance ca', () => {
  it('init --no-passphrase makes a CA, warns loudly, and refuses a second init', async () => {
    const caDir = join(await dirs.make(), 'ca');
    const run = await runCli(['ca', 'init', caDir, '--name', 'Example Bank Issuing CA', '--no-passphrase']);
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/warning: \*\*\* .*ca-key\.pem and .*root-key\.pem are NOT encrypted/);
    expect(run.out).toContain('issuing CA "Example Bank Issuing CA"');
    expect(run.out).toContain('CN=Example Bank Issuing CA Root');
    expect(run.out).toMatch(/key hash {2}sha256:[0-9a-f]{64}/);
    const again = await runCli(['ca', 'init', caDir, '--name', 'Other', '--no-passphrase']);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/^error: USAGE: .*already holds an issuing CA/);
  });

  it('init takes the passphrase from PROVENANCE_CA_PASSPHRASE, with --alg p384', async () => {
    const caDir = join(await dirs.make(), 'ca');
    const run = await runCli(['ca', 'init', caDir, '--name', 'Example Bank Issuing CA', '--alg', 'p384'], {
      env: { PROVENANCE_CA_PASSPHRASE: PASSPHRASE },
    });
    expect(run.code).toBe(0);
    expect(run.err).toBe('');
    expect(readFileSync(join(caDir, CA_FILES.key), 'utf8')).toMatch(/ENCRYPTED PRIVATE KEY/);
    const ca = await openCa(caDir, { passphrase: PASSPHRASE });
    expect(ca.record.alg).toBe('p384');
  });

  it('init asks the prompt twice when no passphrase is in the environment, and refuses a mismatch', async () => {
    const answers = [PASSPHRASE, `${PASSPHRASE}!`];
    const run = await runCli(['ca', 'init', join(await dirs.make(), 'ca'), '--name', 'X'], {
      ctx: { prompt: async () => answers.shift()! },
    });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/USAGE: the two passphrases differ/);
    const none = await runCli(['ca', 'init', join(await dirs.make(), 'ca'), '--name', 'X']);
    expect(none.err).toMatch(/USAGE: no passphrase .*PROVENANCE_CA_PASSPHRASE.*--no-passphrase/);
  });

  it('show prints the CA without a passphrase; a missing CA is CA_INVALID (exit 2)', async () => {
    const caDir = join(await dirs.make(), 'ca');
    await runCli(['ca', 'init', caDir, '--name', 'Shown CA'], {
      env: { PROVENANCE_CA_PASSPHRASE: PASSPHRASE },
    });
    const run = await runCli(['ca', 'show', caDir]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('subject   CN=Shown CA');
    expect(run.out).toContain('p256, encrypted in ca-key.pem');
    expect(run.out).toContain('chain     2 certificates');
    const missing = await runCli(['ca', 'show', join(caDir, 'nothing')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^error: CA_INVALID: /);
  });

  it('init --csr, then install with --chain: the external root flow end to end', async () => {
    const dir = await dirs.make();
    const caDir = join(dir, 'ca');
    const init = await runCli(
      ['ca', 'init', caDir, '--name', 'Example Bank Issuing CA', '--csr', '--no-passphrase'],
      {
        clock: () => NOW,
      },
    );
    expect(init.code).toBe(0);
    expect(init.out).toContain('provenance ca install');

    const rootKey = leafKey();
    const rootName = encodeName('CN=Group Root');
    const signer = signerFromKeyObject(rootKey.privateKey);
    const rootDer = buildCertificate({
      issuer: { name: rootName, signer },
      subject: rootName,
      spki: rootKey.spki,
      notBefore: NOW - DAY,
      notAfter: NOW + 3650 * DAY,
      basicConstraints: { ca: true, pathLen: 0 },
      keyUsage: ['keyCertSign', 'cRLSign'],
      authorityKeyId: false,
    });
    const csr = parseCsr(decodePem(readFileSync(join(caDir, CA_FILES.csr), 'utf8'))[0]!.der);
    const caDer = buildCertificate({
      issuer: { name: rootName, signer, subjectKeyId: deriveSubjectKeyId(rootKey.spki) },
      subject: csr.subject.der,
      spki: csr.spki,
      notBefore: NOW - DAY,
      notAfter: NOW + 365 * DAY,
      basicConstraints: { ca: true, pathLen: 0 },
      keyUsage: ['keyCertSign', 'cRLSign'],
    });
    writeFileSync(join(dir, 'issued.pem'), encodePem('CERTIFICATE', caDer));
    writeFileSync(join(dir, 'root.pem'), encodePem('CERTIFICATE', rootDer));

    const bad = await runCli(['ca', 'install', caDir, join(dir, 'root.pem')], { clock: () => NOW });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: CA_INVALID: .*another key/);

    const run = await runCli(
      ['ca', 'install', caDir, join(dir, 'issued.pem'), '--chain', join(dir, 'root.pem')],
      {
        clock: () => NOW,
      },
    );
    expect(run.code).toBe(0);
    expect(run.out).toContain('CN=Group Root (external root)');
    expect((await openCa(caDir, { passphrase: null })).record.root).toBe('external');
  });
});
