import { createPrivateKey, KeyObject, verify, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../../../src/core/oids.js';
import { decodeProvenanceKeyAttestation } from '../../../src/formats/provenance/extension.js';
import { personaliseToken } from '../../../src/maker/personalise.js';
import {
  type Certificate,
  KEY_USAGE,
  nameAttribute,
  parseCertificate,
} from '../../../src/pki/certificate.js';
import { parseCsr, verifyCsrSignature } from '../../../src/pki/csr.js';
import { publicKeyObject } from '../../../src/pki/keys.js';
import { verifySignature } from '../../../src/pki/signature.js';
import type { KeyAlgorithm } from '../../../src/token/attester.js';
import type { FileAccess } from '../../../src/token/software/file-access.js';
import { nodeFileAccess } from '../../../src/token/software/file-access.js';
import { derivePinKeys } from '../../../src/token/software/pin-kdf.js';
import { SoftwareToken, TOUCH_CACHE_MS } from '../../../src/token/software/token.js';
import { openBody, parseTokenFile } from '../../../src/token/software/token-file.js';
import {
  type Hierarchy,
  makeHierarchy,
  makerIo,
  movableClock,
  TEST_KDF,
  TEST_KDF_FLOOR,
  tempDirs,
} from '../../maker/fixtures.js';
import { batchToken, openToken, PIN, perTokenToken, pinSource, tokenOptions, touch } from './fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: the tampering tests edit parsed JSON freely
type Json = any;

const dirs = tempDirs();
let h: Hierarchy;
let dir: string;
const nonce = new Uint8Array(32).fill(0xa5);

beforeAll(async () => {
  dir = await dirs.make();
  h = await makeHierarchy(join(dir, 'makers'));
});
afterAll(() => dirs.cleanup());

let counter = 0;
async function freshToken(kind: 'per-token' | 'batch' = 'per-token'): Promise<string> {
  counter++;
  return kind === 'batch'
    ? batchToken(h, dir, `batch-${counter}.json`, `B${counter}`)
    : perTokenToken(h, dir, `token-${counter}.json`, `S${counter}`);
}

/** Check each certificate is issued by the next with Node's own X.509 code. */
function nodeChainVerifies(chain: readonly Uint8Array[]): boolean {
  const xs = chain.map((c) => new X509Certificate(c));
  for (let i = 0; i < xs.length; i++) {
    const issuer = xs[i + 1] ?? xs[i]!;
    if (!xs[i]!.checkIssued(issuer) || !xs[i]!.verify(issuer.publicKey)) return false;
  }
  return true;
}

describe('personalisation', () => {
  it('makes a per-token attestation certificate: CA, pathLen 0, keyCertSign only, named for the unit', async () => {
    const token = await openToken(await freshToken());
    const info = await token.info();
    expect(info).toMatchObject({ model: 'Gemalto .NET Card', firmware: '2.1.0', attestation: 'per-token' });
    expect(info.pinRetriesLeft).toBe(8);
    expect(info.locked).toBe(false);
    expect(token.maker).toBe('Gemalto NV');
    const chain = token.attestationChain().map(parseCertificate);
    expect(chain).toHaveLength(3);
    const att = chain[0]!;
    expect(att.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(att.keyUsage).toBe(1 << KEY_USAGE.keyCertSign);
    expect(nameAttribute(att.subject, OID.commonName)).toBe('Gemalto .NET Card attestation');
    expect(nameAttribute(att.subject, OID.serialNumber)).toBe(info.serial);
    expect(nameAttribute(att.subject, OID.organizationName)).toBe('Gemalto NV');
    expect(att.issuer.text).toBe(h.ca.certificate.subject.text);
    expect(att.notAfter).toBeLessThanOrEqual(h.ca.certificate.notAfter);
    expect(chain[1]!.fingerprintSha256).toBe(h.ca.certificate.fingerprintSha256);
    expect(chain[2]!.fingerprintSha256).toBe(h.root.certificate.fingerprintSha256);
    expect(nodeChainVerifies(token.attestationChain())).toBe(true);
  });

  it('installs the batch key and chain for a batch token', async () => {
    const token = await openToken(await freshToken('batch'));
    expect((await token.info()).attestation).toBe('batch');
    const chain = token.attestationChain().map(parseCertificate);
    expect(chain[0]!.spkiSha256).toBe(h.batch.certificate.spkiSha256);
    expect(chain).toHaveLength(3);
  });

  it('refuses to overwrite an existing token file (USAGE)', async () => {
    const path = await freshToken();
    await expect(
      personaliseToken(
        path,
        {
          parent: h.caAuthority,
          model: 'M',
          serial: '9',
          pin: PIN,
          kdfCost: TEST_KDF,
          minKdfLog2N: TEST_KDF_FLOOR,
        },
        makerIo(),
      ),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('refuses a batch key as the parent of a per-token certificate, and a batch from another parent (USAGE)', async () => {
    const base = { model: 'M', serial: '9', pin: PIN, kdfCost: TEST_KDF, minKdfLog2N: TEST_KDF_FLOOR };
    await expect(
      personaliseToken(join(dir, 'under-batch.json'), { ...base, parent: h.batchAuthority }, makerIo()),
    ).rejects.toMatchObject({ code: 'USAGE' });
    await expect(
      personaliseToken(
        join(dir, 'wrong-parent.json'),
        { ...base, parent: h.rootAuthority, batch: h.batchAuthority },
        makerIo(),
      ),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('refuses a PIN shorter than 6 characters (USAGE)', async () => {
    await expect(
      personaliseToken(
        join(dir, 'short-pin.json'),
        {
          parent: h.caAuthority,
          model: 'M',
          serial: '9',
          pin: '123',
          kdfCost: TEST_KDF,
          minKdfLog2N: TEST_KDF_FLOOR,
        },
        makerIo(),
      ),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('writes the production scrypt cost by default, and refuses to open a file below the floor', async () => {
    const path = join(dir, 'production.json');
    await personaliseToken(path, { parent: h.caAuthority, model: 'M', serial: '10', pin: PIN }, makerIo());
    const file = parseTokenFile(await readFile(path));
    expect(file.header.pin.kdf).toMatchObject({ log2N: 15, r: 8, p: 1 });
    const weak = await freshToken();
    await expect(
      SoftwareToken.open(weak, { files: nodeFileAccess(), clock: () => 0, pin: () => PIN }),
    ).rejects.toMatchObject({ code: 'TOKEN_FILE_INVALID' });
  });
});

describe('keys', () => {
  it('generates keys of every algorithm and lists them with their policies', async () => {
    const token = await openToken(await freshToken());
    const algorithms: KeyAlgorithm[] = ['p256', 'p384', 'ed25519', 'rsa2048'];
    for (const algorithm of algorithms)
      await token.generateKey({
        label: `k-${algorithm}`,
        algorithm,
        pinPolicy: 'once',
        touchPolicy: 'never',
      });
    const keys = await token.listKeys();
    expect(keys.map((k) => k.label)).toEqual(algorithms.map((a) => `k-${a}`));
    const reopened = await openToken(token.path);
    expect((await reopened.listKeys()).map((k) => k.spki)).toEqual(keys.map((k) => k.spki));
  });

  it('refuses a second key with the same label: TOKEN_KEY_EXISTS', async () => {
    const token = await openToken(await freshToken());
    await token.generateKey({ label: 'signing', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    await expect(
      token.generateKey({ label: 'signing', algorithm: 'p384', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toMatchObject({ code: 'TOKEN_KEY_EXISTS' });
  });

  it('refuses a bad label, algorithm or policy (USAGE) and an unknown label (TOKEN_KEY_NOT_FOUND)', async () => {
    const token = await openToken(await freshToken());
    const base = { algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' } as const;
    await expect(token.generateKey({ ...base, label: '' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(token.generateKey({ ...base, label: 'bad\nlabel' })).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(
      token.generateKey({ ...base, label: 'x', algorithm: 'p521' as never }),
    ).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(
      token.generateKey({ ...base, label: 'x', touchPolicy: 'sometimes' as never }),
    ).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(token.attest('missing', nonce)).rejects.toMatchObject({ code: 'TOKEN_KEY_NOT_FOUND' });
    await expect(token.sign('missing', nonce)).rejects.toMatchObject({ code: 'TOKEN_KEY_NOT_FOUND' });
  });

  it('signs data that verifies against the listed public key, for every algorithm', async () => {
    const token = await openToken(await freshToken());
    const data = new TextEncoder().encode('hello provenance');
    for (const algorithm of ['p256', 'p384', 'ed25519', 'rsa2048'] as const) {
      const key = await token.generateKey({
        label: algorithm,
        algorithm,
        pinPolicy: 'once',
        touchPolicy: 'never',
      });
      const signature = await token.sign(algorithm, data);
      const hash = algorithm === 'p384' ? 'sha384' : algorithm === 'ed25519' ? null : 'sha256';
      expect(verify(hash, data, publicKeyObject(key.spki), signature)).toBe(true);
    }
  });
});

describe('attest', () => {
  let token: SoftwareToken;
  let evidence: Uint8Array[];
  let provenance: Certificate;

  beforeAll(async () => {
    token = await openToken(await freshToken());
    await token.generateKey({
      label: 'alice@bank',
      algorithm: 'p256',
      pinPolicy: 'always',
      touchPolicy: 'cached',
    });
    evidence = await token.attest('alice@bank', nonce);
    provenance = parseCertificate(evidence[0]!);
  });

  it('returns the certificate of provenance, the attestation certificate and the chain up to the root', () => {
    expect(evidence).toHaveLength(4);
    expect(evidence.slice(1)).toEqual(token.attestationChain());
  });

  it('issues a certificate of provenance that parses and whose signature verifies with the token key', () => {
    const issuer = parseCertificate(evidence[1]!);
    expect(
      verifySignature(provenance.signatureAlgorithm, provenance.tbs, provenance.signature, issuer.spki),
    ).toBe(true);
    expect(provenance.issuer.text).toBe(issuer.subject.text);
    expect(provenance.authorityKeyId).toEqual(issuer.subjectKeyId);
    expect(nodeChainVerifies(evidence)).toBe(true);
  });

  it('certifies the key, copies the validity of the issuer, is no CA, and keeps the label private', async () => {
    const [key] = await token.listKeys();
    const issuer = parseCertificate(evidence[1]!);
    expect(provenance.spki).toEqual(key!.spki);
    expect(provenance.notBefore).toBe(issuer.notBefore);
    expect(provenance.notAfter).toBe(issuer.notAfter);
    expect(provenance.basicConstraints).toEqual({ ca: false, pathLen: null });
    expect(provenance.keyUsage).toBe(1 << KEY_USAGE.digitalSignature);
    expect(provenance.subject.text).toBe('CN=Attested key');
    expect(Buffer.from(evidence[0]!).includes(Buffer.from('alice@bank'))).toBe(false);
  });

  it('carries the claims: nonce, generated, not exportable, touch and PIN policies, token with serial', async () => {
    const ext = provenance.extension(OID.provenanceKeyAttestation);
    expect(ext?.critical).toBe(false);
    const claims = decodeProvenanceKeyAttestation(ext!.value);
    expect(claims).toEqual({
      version: 1,
      nonce,
      keyOrigin: 'generated',
      exportable: false,
      userPresence: 'cached',
      userVerification: 'always',
      token: { model: 'Gemalto .NET Card', serial: (await token.info()).serial, firmware: '2.1.0' },
    });
  });

  it('makes a fresh certificate (new serial, new nonce) for each call', async () => {
    const other = new Uint8Array(8).fill(1);
    const again = parseCertificate((await token.attest('alice@bank', other))[0]!);
    expect(again.serialHex).not.toBe(provenance.serialHex);
    expect(
      decodeProvenanceKeyAttestation(again.extension(OID.provenanceKeyAttestation)!.value).nonce,
    ).toEqual(other);
  });

  it('refuses a nonce shorter than 8 or longer than 64 bytes (USAGE)', async () => {
    await expect(token.attest('alice@bank', new Uint8Array(7))).rejects.toMatchObject({ code: 'USAGE' });
    await expect(token.attest('alice@bank', new Uint8Array(65))).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('omits the serial from batch attestations (privacy) and chains to the batch key', async () => {
    const batch = await openToken(await freshToken('batch'));
    await batch.generateKey({ label: 'k', algorithm: 'ed25519', pinPolicy: 'never', touchPolicy: 'never' });
    const ev = await batch.attest('k', nonce);
    const cop = parseCertificate(ev[0]!);
    expect(cop.issuer.text).toBe(h.batch.certificate.subject.text);
    const claims = decodeProvenanceKeyAttestation(cop.extension(OID.provenanceKeyAttestation)!.value);
    expect(claims.token).toEqual({ model: 'Gemalto .NET Card', firmware: '2.1.0' });
    expect(claims.userVerification).toBe('never');
    const serial = (await batch.info()).serial;
    expect(Buffer.from(ev[0]!).includes(Buffer.from(serial))).toBe(false);
    expect(nodeChainVerifies(ev)).toBe(true);
  });

  it('refuses to attest on a token without an attestation key: TOKEN_NOT_PERSONALISED', async () => {
    const path = join(dir, 'unpersonalised.json');
    const token = await SoftwareToken.create(path, tokenOptions(), {
      model: 'Blank',
      serial: '0',
      firmware: '0',
      maker: 'Nobody',
      newPin: PIN,
      attestation: null,
      kdfCost: TEST_KDF,
    });
    await token.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    expect((await token.info()).attestation).toBe('none');
    await expect(token.attest('k', nonce)).rejects.toMatchObject({ code: 'TOKEN_NOT_PERSONALISED' });
  });
});

describe('signCsr', () => {
  it('builds a CSR signed by the key, carrying the certificate of provenance, the chain and the nonce', async () => {
    const token = await openToken(await freshToken());
    const key = await token.generateKey({
      label: 'csr',
      algorithm: 'p384',
      pinPolicy: 'once',
      touchPolicy: 'never',
    });
    const der = await token.signCsr({ label: 'csr', subject: 'CN=Alice,O=Example Bank', nonce });
    const csr = parseCsr(der);
    verifyCsrSignature(csr);
    expect(csr.spki).toEqual(key.spki);
    expect(csr.subject.text).toBe('CN=Alice,O=Example Bank');
    expect(csr.nonce).toEqual(nonce);
    expect(csr.attestation?.statements).toHaveLength(1);
    const statement = csr.attestation!.statements[0]!;
    expect(statement.type).toBe(OID.provenanceStatementType);
    const cop = parseCertificate(statement.stmt);
    expect(cop.spki).toEqual(key.spki);
    expect(decodeProvenanceKeyAttestation(cop.extension(OID.provenanceKeyAttestation)!.value).nonce).toEqual(
      nonce,
    );
    expect(csr.attestation!.certificates.map((c) => c.der)).toEqual(token.attestationChain());
  });

  it('refuses a malformed subject (USAGE)', async () => {
    const token = await openToken(await freshToken());
    await token.generateKey({ label: 'csr', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    await expect(token.signCsr({ label: 'csr', subject: 'Alice', nonce })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});

describe('PIN', () => {
  it('counts wrong PINs down with the retries left in details, then locks the token for good', async () => {
    const path = await freshToken();
    for (let expected = 7; expected >= 1; expected--) {
      const token = await openToken(path, { pin: pinSource('000000') });
      await expect(token.attest('nope', nonce)).rejects.toMatchObject({ code: 'TOKEN_KEY_NOT_FOUND' });
      await expect(
        token.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
      ).rejects.toMatchObject({ code: 'TOKEN_PIN_INCORRECT', details: { retriesLeft: expected } });
      expect((await (await openToken(path)).info()).pinRetriesLeft).toBe(expected);
    }
    const last = await openToken(path, { pin: pinSource('000000') });
    await expect(
      last.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toMatchObject({ code: 'TOKEN_LOCKED', details: { retriesLeft: 0 } });
    const right = await openToken(path, { pin: pinSource(PIN) });
    expect(await right.info()).toMatchObject({ pinRetriesLeft: 0, locked: true });
    await expect(
      right.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toMatchObject({ code: 'TOKEN_LOCKED' });
  });

  it('resets the counter after the right PIN', async () => {
    const path = await freshToken();
    const wrong = await openToken(path, { pin: pinSource('000000') });
    await expect(
      wrong.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toMatchObject({ code: 'TOKEN_PIN_INCORRECT' });
    await expect(
      wrong.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toMatchObject({ details: { retriesLeft: 6 } });
    const right = await openToken(path);
    await right.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    expect((await right.info()).pinRetriesLeft).toBe(8);
    expect(parseTokenFile(await readFile(path)).state.pinRetriesLeft).toBe(8);
  });

  it('records the try before checking the PIN: a crash after counting leaves the try counted', async () => {
    const path = await freshToken();
    const real = nodeFileAccess();
    let writes = 0;
    const crashing: FileAccess = {
      ...real,
      async writeFileAtomic(p, data, options) {
        writes++;
        if (writes > 1) throw new Error('simulated crash');
        return real.writeFileAtomic(p, data, options);
      },
    };
    const token = await openToken(path, { files: crashing });
    await expect(
      token.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toThrow('simulated crash');
    expect(parseTokenFile(await readFile(path)).state.pinRetriesLeft).toBe(7);
  });

  it("asks the PIN once per session for 'once' keys and before every use of 'always' keys", async () => {
    const path = await freshToken();
    const setup = await openToken(path);
    await setup.generateKey({ label: 'once', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    await setup.generateKey({
      label: 'always',
      algorithm: 'p256',
      pinPolicy: 'always',
      touchPolicy: 'never',
    });
    await setup.generateKey({ label: 'never', algorithm: 'p256', pinPolicy: 'never', touchPolicy: 'never' });

    const pin = pinSource(PIN);
    const token = await openToken(path, { pin });
    await token.sign('once', nonce);
    await token.sign('once', nonce);
    await token.sign('never', nonce);
    expect(pin.requests.map((r) => r.reason)).toEqual(['unlock']);
    await token.sign('always', nonce);
    await token.sign('always', nonce);
    expect(pin.requests.map((r) => r.reason)).toEqual(['unlock', 'key-use', 'key-use']);
    expect(pin.requests[1]).toMatchObject({ label: 'always', retriesLeft: 8 });

    // The first use of an always-PIN key in a session counts the unlock PIN as its check.
    const pin2 = pinSource(PIN);
    const token2 = await openToken(path, { pin: pin2 });
    await token2.sign('always', nonce);
    expect(pin2.requests).toHaveLength(1);
  });

  it("refuses a wrong PIN for an 'always' key even inside an unlocked session", async () => {
    const path = await freshToken();
    const setup = await openToken(path);
    await setup.generateKey({
      label: 'always',
      algorithm: 'p256',
      pinPolicy: 'always',
      touchPolicy: 'never',
    });
    const token = await openToken(path, { pin: pinSource(PIN, '999999') });
    await token.sign('always', nonce);
    await expect(token.sign('always', nonce)).rejects.toMatchObject({
      code: 'TOKEN_PIN_INCORRECT',
      details: { retriesLeft: 7 },
    });
  });
});

describe('touch', () => {
  it('refuses a touch-always key without a touch callback: TOKEN_USER_PRESENCE_DENIED', async () => {
    const path = await freshToken();
    const token = await openToken(path);
    await token.generateKey({ label: 't', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'always' });
    await expect(token.sign('t', nonce)).rejects.toMatchObject({ code: 'TOKEN_USER_PRESENCE_DENIED' });
  });

  it('refuses when the touch is declined: TOKEN_USER_PRESENCE_DENIED', async () => {
    const path = await freshToken();
    const setup = await openToken(path);
    await setup.generateKey({ label: 't', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'always' });
    const declined = touch(false);
    const token = await openToken(path, { confirmTouch: declined });
    await expect(token.sign('t', nonce)).rejects.toMatchObject({ code: 'TOKEN_USER_PRESENCE_DENIED' });
    await expect(token.signCsr({ label: 't', subject: 'CN=A', nonce })).rejects.toMatchObject({
      code: 'TOKEN_USER_PRESENCE_DENIED',
    });
    expect(declined.asked).toHaveLength(2);
    expect(declined.asked[0]).toContain('"t"');
  });

  it("asks for every use of an 'always' key, and once per 15 s for a 'cached' key", async () => {
    const path = await freshToken();
    const setup = await openToken(path);
    await setup.generateKey({ label: 'always', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'always' });
    await setup.generateKey({ label: 'cached', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'cached' });
    const clock = movableClock();
    const confirm = touch(true);
    const token = await openToken(path, { clock, confirmTouch: confirm });
    await token.sign('always', nonce);
    await token.sign('always', nonce);
    expect(confirm.asked).toHaveLength(2);
    await token.sign('cached', nonce);
    clock.advance(TOUCH_CACHE_MS - 1);
    await token.sign('cached', nonce);
    expect(confirm.asked).toHaveLength(3);
    clock.advance(1);
    await token.sign('cached', nonce);
    expect(confirm.asked).toHaveLength(4);
  });

  it('does not ask for a touch to attest (attestation does not use the key)', async () => {
    const path = await freshToken();
    const setup = await openToken(path);
    await setup.generateKey({ label: 'always', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'always' });
    await expect((await openToken(path)).attest('always', nonce)).resolves.toHaveLength(4);
  });
});

describe('tampering', () => {
  async function editFile(path: string, edit: (json: Json) => void) {
    const json = JSON.parse(await readFile(path, 'utf8'));
    edit(json);
    await writeFile(path, JSON.stringify(json, null, 2));
  }

  it('detects a swapped SPKI in the header: TOKEN_FILE_INVALID', async () => {
    const path = await freshToken();
    const setup = await openToken(path);
    await setup.generateKey({ label: 'a', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    await setup.generateKey({ label: 'b', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
    await editFile(path, (j) => {
      [j.header.keys[0].spki, j.header.keys[1].spki] = [j.header.keys[1].spki, j.header.keys[0].spki];
    });
    await expect((await openToken(path)).sign('a', nonce)).rejects.toMatchObject({
      code: 'TOKEN_FILE_INVALID',
    });
  });

  it("detects a weakened policy (touch 'always' edited to 'never'): TOKEN_FILE_INVALID", async () => {
    const path = await freshToken();
    const setup = await openToken(path);
    await setup.generateKey({ label: 'a', algorithm: 'p256', pinPolicy: 'always', touchPolicy: 'always' });
    await editFile(path, (j) => {
      j.header.keys[0].touchPolicy = 'never';
      j.header.keys[0].pinPolicy = 'never';
    });
    await expect((await openToken(path)).sign('a', nonce)).rejects.toMatchObject({
      code: 'TOKEN_FILE_INVALID',
    });
  });

  it('detects a replaced attestation chain: TOKEN_FILE_INVALID', async () => {
    const path = await freshToken();
    const other = parseTokenFile(await readFile(await freshToken('batch')));
    const otherJson = JSON.parse(await readFile(join(dir, `batch-${counter}.json`), 'utf8'));
    expect(other.header.attestation?.kind).toBe('batch');
    await editFile(path, (j) => {
      j.header.attestation = otherJson.header.attestation;
    });
    const token = await openToken(path);
    expect((await token.info()).attestation).toBe('batch');
    await expect(
      token.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toMatchObject({ code: 'TOKEN_FILE_INVALID' });
  });

  it('refuses a retry counter raised above the limit before asking for the PIN: TOKEN_FILE_INVALID', async () => {
    const path = await freshToken();
    await editFile(path, (j) => {
      j.state.pinRetriesLeft = 20;
    });
    await expect(openToken(path)).rejects.toMatchObject({ code: 'TOKEN_FILE_INVALID' });
  });

  it('treats edited KDF parameters as unusable: the derived key fails the PIN check', async () => {
    const path = await freshToken();
    await editFile(path, (j) => {
      j.header.pin.kdf.r = 4;
    });
    const token = await openToken(path);
    await expect(
      token.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    ).rejects.toMatchObject({ code: 'TOKEN_PIN_INCORRECT' });
  });
});

describe('no private key leaves the token', () => {
  it('stores no private key in clear: no PEM, no PKCS#8 bytes, no raw scalar, in binary or base64', async () => {
    const path = await freshToken();
    const token = await openToken(path);
    for (const algorithm of ['p256', 'ed25519', 'rsa2048'] as const)
      await token.generateKey({ label: algorithm, algorithm, pinPolicy: 'once', touchPolicy: 'never' });
    const bytes = await readFile(path);
    const text = bytes.toString('utf8');
    expect(text).not.toContain('PRIVATE KEY');

    // Decrypt the body as the format documents it, to learn the secrets the file must hide.
    const file = parseTokenFile(bytes);
    const { encryptionKey } = await derivePinKeys(PIN, file.header.pin.kdf);
    const secrets = openBody(file, encryptionKey);
    const all = [secrets.attestationKey!, ...secrets.keys.map((k) => k.pkcs8)];
    expect(all).toHaveLength(4);
    for (const pkcs8 of all) {
      const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
      const jwk = key.export({ format: 'jwk' });
      const scalar = Buffer.from(jwk.d!, 'base64url');
      for (const needle of [Buffer.from(pkcs8), scalar]) {
        expect(bytes.includes(needle)).toBe(false);
        expect(text.includes(needle.toString('base64'))).toBe(false);
        expect(text.includes(needle.toString('hex'))).toBe(false);
      }
    }
  });

  it('keeps the batch key encrypted in the token file too', async () => {
    const path = await freshToken('batch');
    const bytes = await readFile(path);
    const pkcs8 = h.batchAuthority.privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(bytes.includes(pkcs8)).toBe(false);
    expect(bytes.toString('utf8').includes(pkcs8.toString('base64'))).toBe(false);
  });

  it('returns no private key from any method and exposes none as a property', async () => {
    const path = await freshToken();
    const token = await openToken(path);
    const results: unknown[] = [];
    results.push(
      await token.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' }),
    );
    results.push(await token.info(), await token.listKeys(), token.attestationChain());
    results.push(await token.attest('k', nonce), await token.signCsr({ label: 'k', subject: 'CN=A', nonce }));
    results.push(await token.sign('k', nonce));
    const seen = new Set<unknown>();
    const walk = (v: unknown): void => {
      if (v === null || typeof v !== 'object' || seen.has(v)) {
        if (typeof v === 'string') expect(v).not.toContain('PRIVATE KEY');
        return;
      }
      seen.add(v);
      expect(v).not.toBeInstanceOf(KeyObject);
      if (v instanceof Uint8Array) {
        expect(Buffer.from(v).toString('latin1')).not.toContain('PRIVATE KEY');
        return;
      }
      for (const value of Object.values(v)) walk(value);
    };
    walk(results);
    walk(token);
    expect(JSON.stringify(token)).not.toMatch(/PRIVATE|pkcs8|encryptionKey/);
    expect(Object.keys(token)).toEqual(['path']);
  });
});
