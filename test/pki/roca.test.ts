import { checkPrimeSync, createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { children, encodingOf, expectTag, parseDer, TAG, type Tlv } from '../../src/core/der.js';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { describeKey } from '../../src/pki/keys.js';
import { hasRocaFingerprint, hasRocaResidues, ROCA_GENERATOR_ORDER } from '../../src/pki/roca.js';

const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const VECTORS = `${SHARED}vectors/roca/crocs-muni-roca/`;
const MANIFEST = `${SHARED}vectors/MANIFEST.md`;
const haveVectors = existsSync(VECTORS) && existsSync(MANIFEST);
if (!haveVectors) {
  if (process.env.CI === 'true') throw new Error(`ROCA vectors missing at ${VECTORS} (required in CI)`);
  console.warn(`skipping ROCA vector tests: ${VECTORS} is absent (the shared vectors are not checked out)`);
}

const SMALL_PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79];
const M = [...SMALL_PRIMES, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167]
  .map(BigInt)
  .reduce((a, b) => a * b, 1n);

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
}

function randomBig(bits: number): bigint {
  return (
    BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) >> BigInt(8 * Math.ceil(bits / 8) - bits)
  );
}

/** A prime of RSALib's shape p = k·M + (65537^a mod M), as Infineon's library made them. */
function rocaPrime(bits: number): bigint {
  for (;;) {
    const a = randomBig(60);
    const k = randomBig(bits - 221) | (1n << BigInt(bits - 222));
    const p = k * M + modPow(65537n, a, M);
    if (checkPrimeSync(p)) return p;
  }
}

describe('hasRocaFingerprint', () => {
  it('derives the order of 65537 modulo the primorial from the definition (§10.2)', () => {
    expect(ROCA_GENERATOR_ORDER).toBe(2454106387091158800n);
  });

  it('flags a modulus whose primes have the RSALib form k·M + 65537^a mod M', () => {
    const n = rocaPrime(512) * rocaPrime(512);
    expect(hasRocaFingerprint(n)).toBe(true);
  });

  it('does not flag random odd 2048-bit moduli', () => {
    for (let i = 0; i < 20; i++) {
      const n = randomBig(2048) | 1n;
      expect(hasRocaFingerprint(n)).toBe(false);
    }
  });

  it('ignores moduli below 2^256 even when they have the structure', () => {
    const small = modPow(65537n, 12345n, M); // < M < 2^221, in ⟨65537⟩ by construction
    expect(hasRocaResidues(small)).toBe(true);
    expect(hasRocaFingerprint(small)).toBe(false);
    expect(hasRocaFingerprint(small + M * (1n << 40n))).toBe(true);
  });

  it('rejects a modulus that passes every residue test but has no discrete log mod M', () => {
    // N ≡ 1 (mod 3) needs an even exponent (ord_3(65537) = 2); N ≡ 65537 ≡ 2 (mod 5) needs an
    // exponent ≡ 1 (mod 4) (ord_5(65537) = 4). Each residue is in ⟨65537⟩, but no single x fits
    // both. N ≡ 1 modulo every other prime of M, so every residue test passes.
    const rest = M / 15n;
    let n = 0n;
    for (let k = 0n; k < 15n; k++) {
      const candidate = 1n + k * rest;
      if (candidate % 3n === 1n && candidate % 5n === 2n) n = candidate;
    }
    const big = n + M * (1n << 100n);
    expect(hasRocaResidues(big)).toBe(true);
    expect(hasRocaFingerprint(big)).toBe(false);
  });
});

// ----------------------------------------------------------------------------------------------
// The crocs-muni/roca test vectors, read in place from ../shared (MANIFEST.md §8).

type Outcome = 'vulnerable' | 'not-vulnerable';

function manifestOutcomes(): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const line of readFileSync(MANIFEST, 'utf8').split('\n')) {
    const m = /^\| `roca\/crocs-muni-roca\/([^`]+)`.*\| (VULNERABLE|NOT vulnerable)/.exec(line);
    if (m) out.set(m[1]!, m[2] === 'VULNERABLE' ? 'vulnerable' : 'not-vulnerable');
  }
  return out;
}

const hexToBig = (hex: string): bigint => BigInt(`0x${hex}`);
const bytesToBig = (b: Uint8Array): bigint =>
  b.length === 0 ? 0n : hexToBig(Buffer.from(b).toString('hex'));

function modulusOfSpki(spki: Uint8Array): bigint {
  const d = describeKey(spki);
  if (d.rsaModulus === undefined) throw new Error(`not an RSA key: ${d.keyAlgorithm}`);
  return d.rsaModulus;
}

/** SubjectPublicKeyInfo of a PKCS#10 request: CertificationRequestInfo's third field (RFC 2986 §4.1). */
function csrSpki(der: Uint8Array): Uint8Array {
  const root = expectTag(parseDer(der), TAG.SEQUENCE, 'CertificationRequest');
  const [info] = children(der, root) as [Tlv];
  const [, , spki] = children(der, info) as [Tlv, Tlv, Tlv];
  return encodingOf(der, spki);
}

/** OpenSSH "ssh-rsa" public key line: string type, mpint e, mpint n (RFC 4253 §6.6). */
function sshModuli(text: string): bigint[] {
  const out: bigint[] = [];
  for (const line of text.split('\n')) {
    const [type, b64] = line.trim().split(/\s+/);
    if (type !== 'ssh-rsa' || !b64) continue;
    const blob = Buffer.from(b64, 'base64');
    const fields: Buffer[] = [];
    for (let pos = 0; pos < blob.length; ) {
      const len = blob.readUInt32BE(pos);
      fields.push(blob.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    out.push(bytesToBig(fields[2]!));
  }
  return out;
}

/** RSA moduli of every key and subkey packet in an armoured OpenPGP key (RFC 4880 §4, §5.5.2, §5.5.3). */
function pgpModuli(text: string): bigint[] {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK/.test(l));
  let i = start + 1;
  while (lines[i]!.trim() !== '') i++; // armour headers end at a blank line
  const body: string[] = [];
  for (i++; i < lines.length && !lines[i]!.startsWith('=') && !lines[i]!.startsWith('-----'); i++)
    body.push(lines[i]!.trim());
  const data = Buffer.from(body.join(''), 'base64');
  const out: bigint[] = [];
  for (let pos = 0; pos < data.length; ) {
    const h = data[pos++]!;
    if ((h & 0x80) === 0) throw new Error('bad OpenPGP packet header');
    let tag: number;
    let len: number;
    if (h & 0x40) {
      tag = h & 0x3f;
      const o1 = data[pos++]!;
      if (o1 < 192) len = o1;
      else if (o1 < 224) len = ((o1 - 192) << 8) + data[pos++]! + 192;
      else if (o1 === 255) {
        len = data.readUInt32BE(pos);
        pos += 4;
      } else throw new Error('partial body lengths are not expected in key packets');
    } else {
      tag = (h >> 2) & 0x0f;
      const lt = h & 3;
      if (lt === 0) len = data[pos++]!;
      else if (lt === 1) {
        len = data.readUInt16BE(pos);
        pos += 2;
      } else if (lt === 2) {
        len = data.readUInt32BE(pos);
        pos += 4;
      } else len = data.length - pos;
    }
    const packet = data.subarray(pos, pos + len);
    pos += len;
    // Public key (6), public subkey (14); secret key (5) and subkey (7) begin with the public part.
    if (![5, 6, 7, 14].includes(tag)) continue;
    const version = packet[0]!;
    let p = version === 4 ? 5 : 7; // v4: version, time(4); v3: + validity(2)
    const algorithm = packet[p++]!;
    if (algorithm < 1 || algorithm > 3) continue; // RSA (1, 2, 3) only
    const bits = packet.readUInt16BE(p);
    out.push(bytesToBig(packet.subarray(p + 2, p + 2 + Math.ceil(bits / 8))));
  }
  return out;
}

/**
 * Certificates inside a BER PKCS#7 SignedData: the container uses indefinite lengths (which a
 * DER reader rightly refuses), but each embedded certificate is DER, so find them by shape.
 */
function pkcs7Moduli(text: string): bigint[] {
  const [block] = decodePem(text);
  const der = Buffer.from(block!.der);
  const out: bigint[] = [];
  for (let pos = 0; pos + 4 < der.length; pos++) {
    if (der[pos] !== 0x30 || der[pos + 1] !== 0x82) continue;
    const len = der.readUInt16BE(pos + 2) + 4;
    if (pos + len > der.length || der[pos + 4] !== 0x30) continue;
    try {
      const cert = new X509Certificate(der.subarray(pos, pos + len));
      out.push(
        hexToBig(Buffer.from(cert.publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex')),
      );
      pos += len - 1;
    } catch {
      // not a certificate at this offset
    }
  }
  return out;
}

function pemModuli(text: string): bigint[] {
  return decodePem(text).map(({ label, der }) => {
    switch (label) {
      case 'CERTIFICATE':
        return modulusOfSpki(parseCertificate(der).spki);
      case 'CERTIFICATE REQUEST':
        return modulusOfSpki(csrSpki(der));
      case 'PUBLIC KEY':
        return modulusOfSpki(der);
      case 'RSA PUBLIC KEY': {
        const key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'pkcs1' });
        return modulusOfSpki(new Uint8Array(key.export({ type: 'spki', format: 'der' })));
      }
      case 'PRIVATE KEY':
      case 'RSA PRIVATE KEY': {
        const priv = createPrivateKey({
          key: Buffer.from(der),
          format: 'der',
          type: label === 'PRIVATE KEY' ? 'pkcs8' : 'pkcs1',
        });
        return modulusOfSpki(new Uint8Array(createPublicKey(priv).export({ type: 'spki', format: 'der' })));
      }
      default:
        throw new Error(`unexpected PEM label ${label}`);
    }
  });
}

/** Every RSA modulus in one vector file, by its format. */
function moduliOf(file: string): bigint[] {
  const text = readFileSync(VECTORS + file, 'utf8');
  if (file === 'fake_moduli_decimal.txt') return [];
  if (/^mod\d+\.txt$/.test(file)) return [BigInt(text.trim())];
  if (file.endsWith('.pub')) return sshModuli(text);
  if (file.endsWith('.pgp')) return pgpModuli(text);
  if (file.endsWith('.p7s')) return pkcs7Moduli(text);
  if (file.endsWith('.pem')) return pemModuli(text);
  throw new Error(`no reader for ${file}`);
}

function fakeModuli(): bigint[] {
  return readFileSync(`${VECTORS}fake_moduli_decimal.txt`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => BigInt(l));
}

describe.skipIf(!haveVectors)('ROCA vectors from crocs-muni/roca (shared/vectors MANIFEST §8)', () => {
  it('has an expected outcome in the manifest for every vector file', () => {
    const outcomes = manifestOutcomes();
    const files = readdirSync(VECTORS).sort();
    expect(files.length).toBeGreaterThanOrEqual(35);
    expect(files.filter((f) => !outcomes.has(f))).toEqual([]);
  });

  it('gives the manifest verdict for every certificate, CSR, key, modulus, SSH, PGP and PKCS#7 file', () => {
    const outcomes = manifestOutcomes();
    const results: Record<string, Outcome> = {};
    const expected: Record<string, Outcome> = {};
    for (const file of readdirSync(VECTORS).sort()) {
      if (file === 'fake_moduli_decimal.txt') continue;
      const moduli = moduliOf(file);
      expect(moduli.length, `${file} should hold at least one RSA modulus`).toBeGreaterThan(0);
      results[file] = moduli.some(hasRocaFingerprint) ? 'vulnerable' : 'not-vulnerable';
      expected[file] = outcomes.get(file)!;
    }
    expect(results).toEqual(expected);
    expect(Object.values(results).filter((o) => o === 'vulnerable').length).toBeGreaterThanOrEqual(12);
  });

  it('does not flag the 10 fake moduli that fool residue-only detectors', () => {
    const fakes = fakeModuli();
    expect(fakes).toHaveLength(10);
    expect(fakes.map(hasRocaFingerprint)).toEqual(Array(10).fill(false));
  });

  it('shows why: the residue test alone flags every fake modulus', () => {
    expect(fakeModuli().map(hasRocaResidues)).toEqual(Array(10).fill(true));
  });

  it('takes well under a millisecond per modulus', () => {
    const moduli = [
      ...fakeModuli(),
      ...readdirSync(VECTORS)
        .filter((f) => f !== 'fake_moduli_decimal.txt')
        .flatMap(moduliOf),
    ];
    const rounds = 20;
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) for (const n of moduli) hasRocaFingerprint(n);
    const perModulusMs = Number(process.hrtime.bigint() - start) / 1e6 / (rounds * moduli.length);
    console.info(`ROCA dlog test: ${perModulusMs.toFixed(4)} ms per modulus over ${moduli.length} moduli`);
    // ~0.1 ms on a laptop; the bound leaves room for a loaded shared CI machine.
    expect(perModulusMs).toBeLessThan(5);
  });
});
