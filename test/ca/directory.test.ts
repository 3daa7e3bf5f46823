/**
 * The CA directory: `initCa` writes the design's layout (keys encrypted or 0600), `openCa`
 * refuses a wrong passphrase and every kind of tampering, and the `--csr` flow installs a
 * certificate from an external root made in the test.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CA_FILES,
  caDirectoryState,
  initCa,
  initCaCsr,
  installCaCertificate,
  type OpenedCa,
  openCa,
  readCa,
} from '../../src/ca/directory.js';
import { issueCertificate } from '../../src/ca/issue.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { anchorFromCertificate } from '../../src/pki/anchor.js';
import { buildCertificate, deriveSubjectKeyId } from '../../src/pki/builder.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCsr, verifyCsrSignature } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { validatePath } from '../../src/pki/path.js';
import { signerFromKeyObject } from '../../src/pki/signer.js';
import { needTool } from '../helpers/tools.js';
import { DAY, leafKey, makeCa, NOW, PASSPHRASE, request, tempDirs } from './fixtures.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return isProvenanceError(err) ? err.code : `not a ProvenanceError: ${String(err)}`;
  }
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');

describe('initCa and openCa', () => {
  let dir: string;
  let caDir: string;
  let ca: OpenedCa;
  beforeAll(async () => {
    dir = await dirs.make();
    caDir = join(dir, 'ca');
    ca = await makeCa(dir, { passphrase: PASSPHRASE });
  });

  it('writes root.pem, ca.pem, chain.pem, both keys encrypted (0600) and ca.json', () => {
    for (const name of Object.values(CA_FILES).filter((n) => n !== CA_FILES.csr)) {
      expect(statSync(join(caDir, name)).isFile(), name).toBe(true);
    }
    for (const key of [CA_FILES.key, CA_FILES.rootKey]) {
      expect(read(caDir, key)).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      expect(statSync(join(caDir, key)).mode & 0o777).toBe(0o600);
    }
    const record = JSON.parse(read(caDir, CA_FILES.record));
    expect(record).toMatchObject({
      format: 'provenance-ca',
      version: 1,
      name: 'Example Bank Issuing CA',
      alg: 'p256',
      root: 'self-signed',
      spkiSha256: ca.certificate.spkiSha256,
      rootSpkiSha256: ca.root.spkiSha256,
      installed: null,
    });
    expect(ca.warnings).toEqual([]);
    expect(ca.keyEncrypted).toBe(true);
    expect(ca.key.kind).toBe('file');
    expect(JSON.stringify(ca.key)).not.toContain('PRIVATE');
  });

  it('makes a root with pathLen 1 and an issuing CA with pathLen 0, both keyCertSign + cRLSign', () => {
    const [issuing, root] = ca.chain;
    expect(root!.subject.text).toBe('CN=Example Bank Issuing CA Root');
    expect(root!.basicConstraints).toEqual({ ca: true, pathLen: 1 });
    expect(issuing!.subject.text).toBe('CN=Example Bank Issuing CA');
    expect(issuing!.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    for (const cert of [root!, issuing!]) {
      expect(cert.allowsKeyUsage('keyCertSign') && cert.allowsKeyUsage('cRLSign')).toBe(true);
      expect(cert.allowsKeyUsage('digitalSignature')).toBe(false);
    }
    expect(issuing!.authorityKeyId).toEqual(root!.subjectKeyId);
    expect(new Date(root!.notAfter).getUTCFullYear() - new Date(root!.notBefore).getUTCFullYear()).toBe(20);
    expect(new Date(issuing!.notAfter).getUTCFullYear() - new Date(issuing!.notBefore).getUTCFullYear()).toBe(
      10,
    );
    expect(
      decodePem(read(caDir, CA_FILES.chain)).map((b) => parseCertificate(b.der).fingerprintSha256),
    ).toEqual(ca.chain.map((c) => c.fingerprintSha256));
  });

  it('issues certificates whose path validates to the root (our validator and openssl)', (ctx) => {
    const leaf = parseCertificate(issueCertificate(request(ca)).der);
    const path = validatePath(leaf, {
      anchors: [anchorFromCertificate(ca.root, { id: 'root', formats: 'any' })],
      intermediates: [ca.certificate],
      time: NOW,
      profile: 'strict',
    });
    expect(path.certificates.map((c) => c.subject.text)).toEqual([
      leaf.subject.text,
      'CN=Example Bank Issuing CA',
      'CN=Example Bank Issuing CA Root',
    ]);
    needTool(ctx, 'openssl');
    writeFileSync(join(dir, 'leaf.pem'), encodePem('CERTIFICATE', leaf.der));
    const result = spawnSync(
      'openssl',
      [
        'verify',
        '-x509_strict',
        '-attime',
        String(NOW / 1000),
        '-CAfile',
        join(caDir, 'root.pem'),
        '-untrusted',
        join(caDir, 'chain.pem'),
        join(dir, 'leaf.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(result.stdout.trim()).toBe(`${join(dir, 'leaf.pem')}: OK`);
  });

  it('opens again with the passphrase, and gives a key that signs as the CA', async () => {
    const again = await openCa(caDir, { passphrase: PASSPHRASE, clock: () => NOW });
    expect(again.certificate.fingerprintSha256).toBe(ca.certificate.fingerprintSha256);
    expect(again.key.spki).toEqual(ca.certificate.spki);
    expect(again.warnings).toEqual([]);
    expect(parseCertificate(issueCertificate(request(again)).der).authorityKeyId).toEqual(
      ca.certificate.subjectKeyId,
    );
  });

  it('refuses a wrong or missing passphrase (CA_KEY_LOCKED)', async () => {
    expect(await codeOf(() => openCa(caDir, { passphrase: 'wrong passphrase!' }))).toBe('CA_KEY_LOCKED');
    expect(await codeOf(() => openCa(caDir, { passphrase: null }))).toBe('CA_KEY_LOCKED');
  });

  it('refuses to initialise over an existing CA (USAGE)', async () => {
    expect(await codeOf(() => makeCa(dir))).toBe('USAGE');
    expect(await caDirectoryState(caDir)).toBe('ready');
  });

  it('warns about an expiring or expired issuing certificate', async () => {
    const soon = await openCa(caDir, {
      passphrase: PASSPHRASE,
      clock: () => ca.certificate.notAfter - 5 * DAY,
    });
    expect(soon.warnings.join()).toMatch(/expires on/);
    const late = await openCa(caDir, { passphrase: PASSPHRASE, clock: () => ca.certificate.notAfter + DAY });
    expect(late.warnings.join()).toMatch(/expired on/);
  });
});

describe('initCa without a passphrase', () => {
  it('writes unencrypted keys with mode 0600 and returns a loud warning', async () => {
    const dir = await dirs.make();
    const ca = await makeCa(dir, { passphrase: null });
    expect(read(join(dir, 'ca'), CA_FILES.key)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(dir, 'ca', CA_FILES.key)).mode & 0o777).toBe(0o600);
    expect(ca.warnings).toHaveLength(1);
    expect(ca.warnings[0]).toMatch(/NOT encrypted.*PROVENANCE_CA_PASSPHRASE/);
    const opened = await openCa(join(dir, 'ca'), { passphrase: null });
    expect(opened.warnings[0]).toMatch(/NOT encrypted/);
  });

  it('refuses bad names, algorithms and short passphrases (USAGE)', async () => {
    const dir = await dirs.make();
    const base = { clock: () => NOW, passphrase: null };
    expect(await codeOf(() => initCa(join(dir, 'a'), { ...base, name: '' }))).toBe('USAGE');
    expect(await codeOf(() => initCa(join(dir, 'b'), { ...base, name: 'x'.repeat(60) }))).toBe('USAGE');
    expect(await codeOf(() => initCa(join(dir, 'c'), { ...base, name: 'X', alg: 'ed25519' as 'p256' }))).toBe(
      'USAGE',
    );
    expect(await codeOf(() => initCa(join(dir, 'd'), { ...base, name: 'X', passphrase: 'short' }))).toBe(
      'USAGE',
    );
    expect(await caDirectoryState(join(dir, 'd'))).toBe('absent');
  });
});

describe('a tampered CA directory', () => {
  let pristine: string;
  let other: string;
  beforeAll(async () => {
    pristine = await dirs.make();
    await makeCa(pristine);
    other = await dirs.make();
    await makeCa(other);
  });

  /** A copy of the pristine CA directory with `tamper` applied to it. */
  async function tampered(tamper: (caDir: string) => void): Promise<string> {
    const dir = join(await dirs.make(), 'ca');
    spawnSync('cp', ['-r', join(pristine, 'ca'), dir]);
    tamper(dir);
    return dir;
  }

  it.each([
    ['ca.pem from another CA', (d: string) => copyFileSync(join(other, 'ca', 'ca.pem'), join(d, 'ca.pem'))],
    [
      'root.pem from another CA',
      (d: string) => copyFileSync(join(other, 'ca', 'root.pem'), join(d, 'root.pem')),
    ],
    [
      'chain.pem from another CA',
      (d: string) => copyFileSync(join(other, 'ca', 'chain.pem'), join(d, 'chain.pem')),
    ],
    [
      'chain.pem without the root',
      (d: string) =>
        writeFileSync(
          join(d, 'chain.pem'),
          read(d, 'chain.pem').split(/(?<=-----END CERTIFICATE-----\n)/)[0]!,
        ),
    ],
    [
      'a key hash edited in ca.json',
      (d: string) =>
        writeFileSync(
          join(d, 'ca.json'),
          read(d, 'ca.json').replace(/"spkiSha256": "[0-9a-f]/, '"spkiSha256": "0'),
        ),
    ],
    [
      'an unknown field in ca.json',
      (d: string) => writeFileSync(join(d, 'ca.json'), read(d, 'ca.json').replace('{', '{"extra":1,')),
    ],
    ['ca.json that is not JSON', (d: string) => writeFileSync(join(d, 'ca.json'), '{')],
    ['ca.json deleted', (d: string) => unlinkSync(join(d, 'ca.json'))],
    ['ca.pem deleted', (d: string) => unlinkSync(join(d, 'ca.pem'))],
    [
      'the root key in place of the issuing key',
      (d: string) => copyFileSync(join(d, 'root-key.pem'), join(d, 'ca-key.pem')),
    ],
    [
      'a certificate in place of the key',
      (d: string) => copyFileSync(join(d, 'ca.pem'), join(d, 'ca-key.pem')),
    ],
    [
      'one flipped base64 character in ca.pem',
      (d: string) => {
        const text = read(d, 'ca.pem');
        const i = text.indexOf('\n') + 40;
        writeFileSync(
          join(d, 'ca.pem'),
          text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1),
        );
      },
    ],
  ])('refuses %s (CA_INVALID)', async (_name, tamper) => {
    const dir = await tampered(tamper);
    expect(await codeOf(() => openCa(dir, { passphrase: null }))).toBe('CA_INVALID');
  });

  it('refuses a directory with no CA, and says so', async () => {
    const dir = await dirs.make();
    let message = '';
    try {
      await readCa(dir);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/no issuing CA here: run `provenance ca init`/);
  });
});

describe('the --csr flow with an external root', () => {
  const rootKey = leafKey('p384');
  const rootName = encodeName('CN=External Root,O=Example Bank Group');
  const rootSigner = signerFromKeyObject(rootKey.privateKey);
  const rootKeyId = deriveSubjectKeyId(rootKey.spki);
  const rootDer = buildCertificate({
    issuer: { name: rootName, signer: rootSigner },
    subject: rootName,
    spki: rootKey.spki,
    notBefore: NOW - 10 * DAY,
    notAfter: NOW + 3650 * DAY,
    basicConstraints: { ca: true, pathLen: 1 },
    keyUsage: ['keyCertSign', 'cRLSign'],
    authorityKeyId: false,
  });
  const rootPem = encodePem('CERTIFICATE', rootDer);

  /** What the external root would issue for the request in `caDir`. */
  function signRequest(
    caDir: string,
    options: {
      ca?: boolean;
      keyUsage?: ('keyCertSign' | 'cRLSign' | 'digitalSignature')[];
      notAfter?: number;
      spki?: Uint8Array;
    } = {},
  ): string {
    const csr = parseCsr(decodePem(read(caDir, CA_FILES.csr))[0]!.der);
    const der = buildCertificate({
      issuer: { name: rootName, signer: rootSigner, subjectKeyId: rootKeyId },
      subject: csr.subject.der,
      spki: options.spki ?? csr.spki,
      notBefore: NOW - DAY,
      notAfter: options.notAfter ?? NOW + 1000 * DAY,
      basicConstraints: options.ca === false ? { ca: false } : { ca: true, pathLen: 0 },
      keyUsage: options.keyUsage ?? ['keyCertSign', 'cRLSign'],
    });
    return encodePem('CERTIFICATE', der);
  }

  async function requested(passphrase: string | null = null): Promise<string> {
    const caDir = join(await dirs.make(), 'ca');
    await initCaCsr(caDir, { name: 'Example Bank Issuing CA', alg: 'p256', passphrase, clock: () => NOW });
    return caDir;
  }

  it('writes only the key and a signed request asking for a pathLen-0 CA with keyCertSign and cRLSign', async () => {
    const caDir = await requested();
    expect(await caDirectoryState(caDir)).toBe('awaiting-certificate');
    expect(statSync(join(caDir, CA_FILES.key)).mode & 0o777).toBe(0o600);
    for (const name of [
      CA_FILES.certificate,
      CA_FILES.chain,
      CA_FILES.root,
      CA_FILES.record,
      CA_FILES.rootKey,
    ]) {
      expect(() => statSync(join(caDir, name))).toThrow();
    }
    const csr = parseCsr(decodePem(read(caDir, CA_FILES.csr))[0]!.der);
    verifyCsrSignature(csr);
    expect(csr.subject.text).toBe('CN=Example Bank Issuing CA');
    expect(csr.extensions.map((e) => [e.oid, e.critical])).toEqual([
      [OID.basicConstraints, true],
      [OID.keyUsage, true],
    ]);
    expect(await codeOf(() => openCa(caDir, { passphrase: null }))).toBe('CA_INVALID');
  });

  it('installs the issued certificate with the root as the chain, then opens and issues', async (ctx) => {
    const caDir = await requested(PASSPHRASE);
    const info = await installCaCertificate(caDir, signRequest(caDir), rootPem, {
      clock: () => NOW,
      passphrase: PASSPHRASE,
    });
    expect(info.record).toMatchObject({ root: 'external', name: 'Example Bank Issuing CA', alg: 'p256' });
    expect(info.chain.map((c) => c.subject.text)).toEqual([
      'CN=Example Bank Issuing CA',
      'CN=External Root,O=Example Bank Group',
    ]);
    expect(read(caDir, CA_FILES.root)).toBe(rootPem);
    const ca = await openCa(caDir, { passphrase: PASSPHRASE });
    const leaf = issueCertificate(request(ca));
    needTool(ctx, 'openssl');
    writeFileSync(join(caDir, 'leaf.pem'), encodePem('CERTIFICATE', leaf.der));
    const result = spawnSync(
      'openssl',
      [
        'verify',
        '-attime',
        String(NOW / 1000),
        '-CAfile',
        join(caDir, 'root.pem'),
        '-untrusted',
        join(caDir, 'ca.pem'),
        join(caDir, 'leaf.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(result.stdout.trim()).toBe(`${join(caDir, 'leaf.pem')}: OK`);
  });

  it('accepts the chain bundled after the certificate in one file', async () => {
    const caDir = await requested();
    const info = await installCaCertificate(caDir, signRequest(caDir) + rootPem, undefined, {
      clock: () => NOW,
    });
    expect(info.chain).toHaveLength(2);
  });

  it('refuses to install twice (USAGE), and where no request was made (USAGE)', async () => {
    const caDir = await requested();
    const cert = signRequest(caDir);
    await installCaCertificate(caDir, cert, rootPem, { clock: () => NOW });
    expect(await codeOf(() => installCaCertificate(caDir, cert, rootPem, { clock: () => NOW }))).toBe(
      'USAGE',
    );
    expect(
      await codeOf(async () => installCaCertificate(await dirs.make(), cert, rootPem, { clock: () => NOW })),
    ).toBe('USAGE');
  });

  it.each([
    ['a certificate for another key', { spki: leafKey().spki }, true],
    ['a certificate that is not a CA', { ca: false, keyUsage: ['digitalSignature'] as const }, true],
    ['a CA certificate without cRLSign', { keyUsage: ['keyCertSign'] as const }, true],
    ['no root in the chain', {}, false],
    ['a certificate that has expired', { notAfter: NOW - 1000 }, true],
  ])('refuses %s (CA_INVALID) and writes nothing', async (_name, options, withRoot) => {
    const caDir = await requested();
    const cert = signRequest(caDir, options as Parameters<typeof signRequest>[1]);
    expect(
      await codeOf(() =>
        installCaCertificate(caDir, cert, withRoot ? rootPem : undefined, { clock: () => NOW }),
      ),
    ).toBe('CA_INVALID');
    expect(await caDirectoryState(caDir)).toBe('awaiting-certificate');
  });

  it('refuses a chain that leads to another root (CA_INVALID)', async () => {
    const caDir = await requested();
    const otherKey = leafKey();
    const otherSigner = signerFromKeyObject(otherKey.privateKey);
    const impostorRoot = buildCertificate({
      issuer: { name: rootName, signer: otherSigner },
      subject: rootName,
      spki: otherKey.spki,
      notBefore: NOW - DAY,
      notAfter: NOW + 100 * DAY,
      basicConstraints: { ca: true },
      keyUsage: ['keyCertSign', 'cRLSign'],
      authorityKeyId: false,
    });
    expect(
      await codeOf(() =>
        installCaCertificate(caDir, signRequest(caDir), encodePem('CERTIFICATE', impostorRoot), {
          clock: () => NOW,
        }),
      ),
    ).toBe('CA_INVALID');
  });
});
