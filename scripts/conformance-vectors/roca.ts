/**
 * ROCA (MANIFEST.md §8, crocs-muni/roca): every RSA modulus in a file goes through
 * `hasRocaFingerprint` (the discrete-log test of Nemec et al., CCS'17 §2.3), reached the way
 * the pipeline reaches it: certificates and requests through `parseCertificate` / `parseCsr`
 * and `describeKey`. A file with a fingerprinted modulus is a reject with KEY_ROCA_VULNERABLE
 * (the code `deny.roca` gives in a verdict); a file whose moduli are all clean is an accept.
 * The key containers the project never takes as evidence (OpenSSH, OpenPGP, PKCS#7, PKCS#1,
 * PKCS#8, bare moduli) are opened here, by hand, only to reach their moduli.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { fail, isProvenanceError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { parseCsr } from '../../src/pki/csr.js';
import { describeKey } from '../../src/pki/keys.js';
import { hasRocaFingerprint } from '../../src/pki/roca.js';
import { type Actual, attempt } from './model.js';
import type { Vectors } from './vectors.js';

/** Moduli above this many bits are not RSA keys anyone deploys (bounds the bigint work). */
const MAX_MODULUS_BITS = 16_384;

const big = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`));

function modulusOfSpki(spki: Uint8Array): bigint {
  const d = describeKey(spki);
  if (d.rsaModulus === undefined) fail('KEY_MALFORMED', `not an RSA key: ${d.keyAlgorithm}`);
  return d.rsaModulus;
}

/** `ssh-rsa` lines: string "ssh-rsa", mpint e, mpint n (RFC 4253 §6.6). */
function sshModuli(text: string): bigint[] {
  const out: bigint[] = [];
  for (const line of text.split('\n')) {
    const [type, b64] = line.trim().split(/\s+/);
    if (type !== 'ssh-rsa' || !b64) continue;
    const blob = Buffer.from(b64, 'base64');
    const fields: Buffer[] = [];
    for (let pos = 0; pos + 4 <= blob.length && fields.length < 3; ) {
      const len = blob.readUInt32BE(pos);
      if (pos + 4 + len > blob.length) fail('KEY_MALFORMED', 'truncated OpenSSH key blob');
      fields.push(blob.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    if (fields.length !== 3) fail('KEY_MALFORMED', 'OpenSSH RSA key blob needs type, e and n');
    out.push(big(fields[2]!));
  }
  return out;
}

/** RSA moduli of the key and subkey packets of an armoured OpenPGP key (RFC 4880 §4.2, §5.5.2). */
function pgpModuli(text: string): bigint[] {
  const lines = text.split(/\r?\n/);
  let i = lines.findIndex((l) => /^-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK/.test(l));
  if (i < 0) fail('KEY_MALFORMED', 'no OpenPGP armour');
  while (i < lines.length && lines[i]!.trim() !== '') i++; // armour headers end at a blank line
  const body: string[] = [];
  for (i++; i < lines.length && !lines[i]!.startsWith('=') && !lines[i]!.startsWith('-----'); i++)
    body.push(lines[i]!.trim());
  const data = Buffer.from(body.join(''), 'base64');
  const out: bigint[] = [];
  const need = (pos: number, n: number) => {
    if (pos + n > data.length) fail('KEY_MALFORMED', 'truncated OpenPGP packet');
  };
  for (let pos = 0; pos < data.length; ) {
    const h = data[pos++]!;
    if ((h & 0x80) === 0) fail('KEY_MALFORMED', 'bad OpenPGP packet header');
    let tag: number;
    let len: number;
    if (h & 0x40) {
      tag = h & 0x3f;
      need(pos, 1);
      const o1 = data[pos++]!;
      if (o1 < 192) len = o1;
      else if (o1 < 224) {
        need(pos, 1);
        len = ((o1 - 192) << 8) + data[pos++]! + 192;
      } else if (o1 === 255) {
        need(pos, 4);
        len = data.readUInt32BE(pos);
        pos += 4;
      } else return fail('KEY_MALFORMED', 'partial OpenPGP body lengths are not expected in key packets');
    } else {
      tag = (h >> 2) & 0x0f;
      const lt = h & 3;
      const n = [1, 2, 4, 0][lt]!;
      need(pos, n);
      len =
        lt === 0
          ? data[pos]!
          : lt === 1
            ? data.readUInt16BE(pos)
            : lt === 2
              ? data.readUInt32BE(pos)
              : data.length - pos;
      pos += n;
    }
    need(pos, len);
    const packet = data.subarray(pos, pos + len);
    pos += len;
    // Public key (6) and subkey (14); secret key (5) and subkey (7) start with the public part.
    if (![5, 6, 7, 14].includes(tag) || packet.length < 8) continue;
    let p = packet[0] === 4 ? 5 : 7; // v4: version, time; v3: + validity days
    const algorithm = packet[p++]!;
    if (algorithm < 1 || algorithm > 3) continue; // RSA only (RFC 4880 §9.1)
    if (p + 2 > packet.length) fail('KEY_MALFORMED', 'truncated OpenPGP key packet');
    const bits = packet.readUInt16BE(p);
    if (bits > MAX_MODULUS_BITS) fail('KEY_MALFORMED', `OpenPGP RSA modulus of ${bits} bits`);
    out.push(big(packet.subarray(p + 2, p + 2 + Math.ceil(bits / 8))));
  }
  return out;
}

/**
 * Certificates inside a BER PKCS#7 SignedData (indefinite lengths, which the strict DER reader
 * rightly refuses): each embedded certificate is DER, so they are found by shape and parsed.
 */
function pkcs7Moduli(text: string): bigint[] {
  const [block] = decodePem(text);
  if (!block) fail('PEM_MALFORMED', 'no PKCS#7 block');
  const der = block.der;
  const out: bigint[] = [];
  for (let pos = 0; pos + 4 < der.length; pos++) {
    if (der[pos] !== 0x30 || der[pos + 1] !== 0x82 || der[pos + 4] !== 0x30) continue;
    const len = ((der[pos + 2]! << 8) | der[pos + 3]!) + 4;
    if (pos + len > der.length) continue;
    try {
      out.push(modulusOfSpki(parseCertificate(der.subarray(pos, pos + len)).spki));
      pos += len - 1;
    } catch (e) {
      if (!isProvenanceError(e)) throw e; // not a certificate at this offset
    }
  }
  return out;
}

function spkiOfKeyObject(der: Uint8Array, type: 'pkcs1' | 'pkcs8' | 'pkcs1-private'): Uint8Array {
  try {
    const key =
      type === 'pkcs1'
        ? createPublicKey({ key: Buffer.from(der), format: 'der', type: 'pkcs1' })
        : createPublicKey(
            createPrivateKey({
              key: Buffer.from(der),
              format: 'der',
              type: type === 'pkcs8' ? 'pkcs8' : 'pkcs1',
            }),
          );
    return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  } catch (e) {
    // Node's decoder throws plain errors for bad key encodings: one stable code instead.
    return fail(
      'KEY_MALFORMED',
      `${type} key does not decode: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

function pemModuli(text: string): bigint[] {
  return decodePem(text).map(({ label, der }) => {
    switch (label) {
      case 'CERTIFICATE':
        return modulusOfSpki(parseCertificate(der).spki);
      case 'CERTIFICATE REQUEST':
        return modulusOfSpki(parseCsr(der).spki);
      case 'PUBLIC KEY':
        return modulusOfSpki(der);
      case 'RSA PUBLIC KEY':
        return modulusOfSpki(spkiOfKeyObject(der, 'pkcs1'));
      case 'PRIVATE KEY':
        return modulusOfSpki(spkiOfKeyObject(der, 'pkcs8'));
      case 'RSA PRIVATE KEY':
        return modulusOfSpki(spkiOfKeyObject(der, 'pkcs1-private'));
      default:
        return fail('PEM_MALFORMED', `unexpected PEM label ${label}`);
    }
  });
}

/** Every RSA modulus of one ROCA vector file, by its container. */
export function rocaModuli(v: Vectors, file: string): bigint[] {
  return rocaModuliOf(file.slice(file.lastIndexOf('/') + 1), v.text(file));
}

/**
 * Every RSA modulus in `text`, read as the container its file `name` says (.txt moduli, .pub
 * OpenSSH, .pgp OpenPGP, .p7s PKCS#7, .pem). Throws only ProvenanceError.
 */
export function rocaModuliOf(name: string, text: string): bigint[] {
  if (name.endsWith('.txt'))
    return text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(l)) fail('KEY_MALFORMED', `not a modulus: ${l.slice(0, 20)}…`);
        return BigInt(l);
      });
  if (name.endsWith('.pub')) return sshModuli(text);
  if (name.endsWith('.pgp')) return pgpModuli(text);
  if (name.endsWith('.p7s')) return pkcs7Moduli(text);
  if (name.endsWith('.pem')) return pemModuli(text);
  return fail('INPUT_UNRECOGNIZED', `no reader for ${name}`);
}

/** Run one ROCA vector: reject KEY_ROCA_VULNERABLE when any modulus is fingerprinted, else accept. */
export function runRoca(v: Vectors, file: string): Actual {
  return attempt(() => {
    const moduli = rocaModuli(v, file);
    if (moduli.length === 0) fail('KEY_MALFORMED', 'no RSA modulus found');
    const hit = moduli.findIndex((n) => n.toString(2).length <= MAX_MODULUS_BITS && hasRocaFingerprint(n));
    if (hit >= 0)
      return {
        outcome: 'reject',
        code: 'KEY_ROCA_VULNERABLE',
        message: `modulus ${hit + 1} of ${moduli.length} has the ROCA fingerprint`,
      };
    return { outcome: 'accept', message: `${moduli.length} modulus(es), none fingerprinted` };
  });
}
