import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../../src/core/oids.js';
import { openMaker } from '../../src/maker/directory.js';
import {
  createBatch,
  createIntermediate,
  initRoot,
  unlockMaker,
  validityWindow,
} from '../../src/maker/hierarchy.js';
import { KEY_USAGE, nameAttribute } from '../../src/pki/certificate.js';
import { type Hierarchy, makeHierarchy, makerIo, NOW, PASSPHRASE, tempDirs } from './fixtures.js';

const dirs = tempDirs();
const io = makerIo();
let base: string;
let h: Hierarchy;

beforeAll(async () => {
  base = await dirs.make();
  h = await makeHierarchy(base, io);
});
afterAll(() => dirs.cleanup());

const bit = (name: keyof typeof KEY_USAGE) => 1 << KEY_USAGE[name];

describe('maker init (root)', () => {
  it('writes a self-signed CA root with keyCertSign and cRLSign, no pathLen, valid 20 years', async () => {
    const { root } = h;
    expect(root.record).toMatchObject({ kind: 'root', name: 'Gemalto NV', maker: 'Gemalto NV', alg: 'p256' });
    expect(root.record.parentSpkiSha256).toBeNull();
    expect(root.record.spkiSha256).toBe(root.certificate.spkiSha256);
    expect(root.certificate.subject.text).toBe('CN=Gemalto NV,O=Gemalto NV');
    expect(root.certificate.basicConstraints).toEqual({ ca: true, pathLen: null });
    expect(root.certificate.keyUsage).toBe(bit('keyCertSign') | bit('cRLSign'));
    expect(root.certificate.notBefore).toBe(NOW);
    expect(root.certificate.notAfter).toBe(Date.UTC(2046, 2, 1, 12, 0, 0));
    const x = new X509Certificate(root.certificate.der);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.ca).toBe(true);
  });

  it('encrypts key.pem (PKCS#8 PBES2) and keeps it private to the owner', async () => {
    const pem = await readFile(join(base, 'root', 'key.pem'), 'utf8');
    expect(pem.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----')).toBe(true);
    expect(h.root.keyEncrypted).toBe(true);
    const { stat } = await import('node:fs/promises');
    expect((await stat(join(base, 'root', 'key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('rejects a wrong passphrase with MAKER_KEY_LOCKED', async () => {
    await expect(unlockMaker(h.root, 'not the passphrase', io)).rejects.toMatchObject({
      code: 'MAKER_KEY_LOCKED',
    });
  });

  it('rejects a missing passphrase for an encrypted key with MAKER_KEY_LOCKED', async () => {
    await expect(unlockMaker(h.root, null, io)).rejects.toMatchObject({ code: 'MAKER_KEY_LOCKED' });
  });

  it('writes an unencrypted key when asked (passphrase null) and unlocks it without one', async () => {
    const dir = join(base, 'plain-root');
    const ca = await initRoot(dir, { name: 'Plain Maker', passphrase: null }, io);
    expect(ca.keyEncrypted).toBe(false);
    expect(await readFile(join(dir, 'key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const authority = await unlockMaker(ca, null, io);
    expect(authority.signer.spki).toEqual(ca.certificate.spki);
  });

  it('refuses a passphrase shorter than 8 characters with USAGE', async () => {
    await expect(
      initRoot(join(base, 'short'), { name: 'Short', passphrase: 'abc' }, io),
    ).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it("refuses to overwrite an existing directory's key with USAGE, and replaces it with force", async () => {
    const dir = join(base, 'overwrite');
    const first = await initRoot(dir, { name: 'First', passphrase: PASSPHRASE }, io);
    await expect(initRoot(dir, { name: 'Second', passphrase: PASSPHRASE }, io)).rejects.toMatchObject({
      code: 'USAGE',
    });
    expect((await openMaker(dir, io.files)).certificate.spkiSha256).toBe(first.certificate.spkiSha256);
    const second = await initRoot(dir, { name: 'Second', passphrase: PASSPHRASE, force: true }, io);
    expect(second.certificate.spkiSha256).not.toBe(first.certificate.spkiSha256);
    expect((await openMaker(dir, io.files)).record.name).toBe('Second');
  });

  it('makes roots with each algorithm: p384, ed25519 and rsa3072', async () => {
    const expected = { p384: 'ec-p384', ed25519: 'ed25519', rsa3072: 'rsa' } as const;
    for (const alg of ['p384', 'ed25519', 'rsa3072'] as const) {
      const ca = await initRoot(
        join(base, `alg-${alg}`),
        { name: `Maker ${alg}`, alg, passphrase: PASSPHRASE },
        io,
      );
      expect(ca.record.alg).toBe(alg);
      const x = new X509Certificate(ca.certificate.der);
      expect(x.verify(x.publicKey)).toBe(true);
      const { describeKey } = await import('../../src/pki/keys.js');
      expect(describeKey(ca.certificate.spki).keyAlgorithm).toBe(expected[alg]);
      await expect(unlockMaker(ca, PASSPHRASE, io)).resolves.toBeDefined();
    }
  });

  it('refuses an unknown algorithm and an out-of-range validity with USAGE', async () => {
    await expect(
      initRoot(join(base, 'bad-alg'), { name: 'X', alg: 'p521' as never, passphrase: PASSPHRASE }, io),
    ).rejects.toMatchObject({ code: 'USAGE' });
    await expect(
      initRoot(join(base, 'bad-years'), { name: 'X', passphrase: PASSPHRASE, validityYears: 0 }, io),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('maker ca (intermediate)', () => {
  it('issues a CA under the root with keyCertSign+cRLSign, chain.pem up to the root, validity inside the parent', () => {
    const { ca, root } = h;
    expect(ca.record).toMatchObject({ kind: 'ca', name: 'Gemalto Smartcards', maker: 'Gemalto NV' });
    expect(ca.record.parentSpkiSha256).toBe(root.certificate.spkiSha256);
    expect(ca.certificate.subject.text).toBe('CN=Gemalto Smartcards,O=Gemalto NV');
    expect(ca.certificate.issuer.text).toBe(root.certificate.subject.text);
    expect(ca.certificate.basicConstraints).toEqual({ ca: true, pathLen: null });
    expect(ca.certificate.keyUsage).toBe(bit('keyCertSign') | bit('cRLSign'));
    expect(ca.certificate.authorityKeyId).toEqual(root.certificate.subjectKeyId);
    expect(ca.chain.map((c) => c.fingerprintSha256)).toEqual([
      ca.certificate.fingerprintSha256,
      root.certificate.fingerprintSha256,
    ]);
    expect(ca.certificate.notAfter).toBeLessThanOrEqual(root.certificate.notAfter);
    const x = new X509Certificate(ca.certificate.der);
    expect(x.verify(new X509Certificate(root.certificate.der).publicKey)).toBe(true);
    expect(x.checkIssued(new X509Certificate(root.certificate.der))).toBe(true);
  });

  it("takes the parent's pathLen − 1, and refuses a child of a pathLen-0 CA with USAGE", async () => {
    const root = await initRoot(
      join(base, 'pl-root'),
      { name: 'Depth Maker', passphrase: PASSPHRASE, pathLen: 1 },
      io,
    );
    expect(root.certificate.basicConstraints).toEqual({ ca: true, pathLen: 1 });
    const rootAuthority = await unlockMaker(root, PASSPHRASE, io);
    const ca = await createIntermediate(
      join(base, 'pl-ca'),
      { name: 'Depth Line', parent: rootAuthority, passphrase: PASSPHRASE },
      io,
    );
    expect(ca.certificate.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    const caAuthority = await unlockMaker(ca, PASSPHRASE, io);
    await expect(
      createIntermediate(
        join(base, 'pl-sub'),
        { name: 'Too Deep', parent: caAuthority, passphrase: PASSPHRASE },
        io,
      ),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('pathLen 0') });
    await expect(
      createBatch(
        join(base, 'pl-batch'),
        { name: 'Too Deep', parent: caAuthority, passphrase: PASSPHRASE },
        io,
      ),
    ).rejects.toMatchObject({ code: 'USAGE' });
    // An explicit pathLen above what the parent allows is refused too.
    await expect(
      createIntermediate(
        join(base, 'pl-wide'),
        { name: 'Too Wide', parent: rootAuthority, passphrase: PASSPHRASE, pathLen: 1 },
        io,
      ),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('clamps the validity to the parent and refuses an expired parent with USAGE', async () => {
    const short = await initRoot(
      join(base, 'short-root'),
      { name: 'Short Lived', passphrase: PASSPHRASE, validityYears: 2 },
      io,
    );
    const parent = await unlockMaker(short, PASSPHRASE, io);
    const child = await createIntermediate(
      join(base, 'short-child'),
      { name: 'Child', parent, passphrase: PASSPHRASE, validityYears: 10 },
      io,
    );
    expect(child.certificate.notAfter).toBe(short.certificate.notAfter);
    const late = makerIo(() => short.certificate.notAfter + 1000);
    await expect(
      createIntermediate(join(base, 'late-child'), { name: 'Late', parent, passphrase: PASSPHRASE }, late),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('expired') });
  });

  it('validityWindow keeps a child inside a parent that starts later than now', () => {
    const parent = { notBefore: NOW + 86_400_000, notAfter: NOW + 2 * 86_400_000 } as never;
    expect(validityWindow(NOW, 5, parent)).toEqual({
      notBefore: NOW + 86_400_000,
      notAfter: NOW + 2 * 86_400_000,
    });
  });
});

describe('maker batch', () => {
  it('issues a batch attestation key: CA, pathLen 0, keyCertSign only, subject names the batch', () => {
    const { batch, ca } = h;
    expect(batch.record).toMatchObject({ kind: 'batch', batchId: 'B2026-03', maker: 'Gemalto NV' });
    expect(batch.certificate.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(batch.certificate.keyUsage).toBe(bit('keyCertSign'));
    expect(nameAttribute(batch.certificate.subject, OID.commonName)).toBe('Gemalto .NET Card batch');
    expect(nameAttribute(batch.certificate.subject, OID.serialNumber)).toBe('B2026-03');
    expect(batch.chain).toHaveLength(3);
    expect(batch.record.parentSpkiSha256).toBe(ca.certificate.spkiSha256);
  });

  it('cannot be the parent of a CA (USAGE)', async () => {
    await expect(
      createIntermediate(
        join(base, 'under-batch'),
        { name: 'Nope', parent: h.batchAuthority, passphrase: PASSPHRASE },
        io,
      ),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('batch') });
  });

  it('makes a random batch id when none is given', async () => {
    const b = await createBatch(
      join(base, 'batch-random'),
      { name: 'Random', parent: h.caAuthority, passphrase: PASSPHRASE },
      io,
    );
    expect(b.record.batchId).toMatch(/^[0-9A-F]{16}$/);
  });
});

describe('openMaker', () => {
  it('refuses a directory without maker files (MAKER_DIR_INVALID)', async () => {
    await expect(openMaker(join(base, 'nothing-here'), io.files)).rejects.toMatchObject({
      code: 'MAKER_DIR_INVALID',
    });
  });

  it('refuses a maker.json that names another key (MAKER_DIR_INVALID)', async () => {
    const dir = join(base, 'tampered-record');
    await initRoot(dir, { name: 'Tampered', passphrase: PASSPHRASE }, io);
    const path = join(dir, 'maker.json');
    const record = JSON.parse(await readFile(path, 'utf8'));
    record.spkiSha256 = '00'.repeat(32);
    await writeFile(path, JSON.stringify(record));
    await expect(openMaker(dir, io.files)).rejects.toMatchObject({ code: 'MAKER_DIR_INVALID' });
  });

  it('refuses a chain.pem whose issuer is not the next certificate (MAKER_DIR_INVALID)', async () => {
    const dir = join(base, 'mixed-chain');
    const ca = await createIntermediate(
      dir,
      { name: 'Mixed', parent: h.rootAuthority, passphrase: PASSPHRASE },
      io,
    );
    await initRoot(join(base, 'other-root'), { name: 'Other Maker', passphrase: null }, io);
    const other = await readFile(join(base, 'other-root', 'cert.pem'), 'utf8');
    const mine = await readFile(join(dir, 'cert.pem'), 'utf8');
    await writeFile(join(dir, 'chain.pem'), mine + other);
    expect(ca.chain).toHaveLength(2);
    await expect(openMaker(dir, io.files)).rejects.toMatchObject({ code: 'MAKER_DIR_INVALID' });
  });

  it("refuses a key.pem that is not the certificate's key (MAKER_DIR_INVALID)", async () => {
    const dir = join(base, 'swapped-key');
    const ca = await initRoot(dir, { name: 'Swapped', passphrase: PASSPHRASE }, io);
    await writeFile(join(dir, 'key.pem'), await readFile(join(base, 'root', 'key.pem')));
    await expect(unlockMaker(ca, PASSPHRASE, io)).rejects.toMatchObject({ code: 'MAKER_DIR_INVALID' });
  });
});
