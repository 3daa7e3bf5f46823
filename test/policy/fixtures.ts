/**
 * Test-time PKI for policy tests: a manufacturer hierarchy built with the core DER writer and
 * Node's crypto (root → product line → device class → token attestation → attested key), plus
 * helpers to write policies and certificates into a temporary directory.
 */
import {
  checkPrimeSync,
  generateKeyPairSync,
  generatePrimeSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../../src/core/bytes.js';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { encodePem } from '../../src/core/pem.js';
import { type Certificate, parseCertificate } from '../../src/pki/certificate.js';
import type { PathEntry, PolicyInput } from '../../src/policy/types.js';

export interface TestKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly spki: Uint8Array;
}

export interface TestCert {
  readonly key: TestKey;
  readonly cert: Certificate;
  readonly der: Uint8Array;
  readonly pem: string;
  readonly name: Uint8Array;
}

export function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { privateKey, publicKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

export function name(cn: string, o = 'Test Maker NV'): Uint8Array {
  return der.seq(
    der.setOf(der.seq(der.oid(OID.organizationName), der.utf8(o))),
    der.setOf(der.seq(der.oid(OID.commonName), der.utf8(cn))),
  );
}

let serial = 1;

/**
 * Issue a certificate for `subjectSpki` named `cn`, signed by `issuer` (self-signed when
 * issuer is undefined). CA certificates get basicConstraints cA and keyCertSign.
 */
export function issue(
  cn: string,
  options: { issuer?: TestCert; key?: TestKey; spki?: Uint8Array; ca?: boolean } = {},
): TestCert {
  const key = options.key ?? ecKey();
  const spki = options.spki ?? key.spki;
  const subject = name(cn);
  const signerKey = options.issuer?.key ?? key;
  const issuerName = options.issuer?.name ?? subject;
  const ca = options.ca ?? true;
  const alg = der.seq(der.oid(OID.ecdsaWithSHA256));
  const extensions = [
    der.seq(
      der.oid(OID.basicConstraints),
      der.bool(true),
      der.octets(ca ? der.seq(der.bool(true)) : der.seq()),
    ),
    der.seq(der.oid(OID.keyUsage), der.bool(true), der.octets(der.namedBits(ca ? [5, 6] : [0]))),
  ];
  const tbs = der.seq(
    der.explicit(0, der.int(2)),
    der.int(serial++),
    alg,
    issuerName,
    der.seq(der.time(Date.UTC(2024, 0, 1)), der.time(Date.UTC(2044, 0, 1))),
    subject,
    spki,
    der.explicit(3, der.seq(...extensions)),
  );
  const sig = sign('sha256', tbs, signerKey.privateKey);
  const bytes = der.seq(tbs, alg, der.bitString(new Uint8Array(sig)));
  return {
    key,
    cert: parseCertificate(bytes),
    der: bytes,
    pem: encodePem('CERTIFICATE', bytes),
    name: subject,
  };
}

/** A maker hierarchy: Gemalto NV → Gemalto Smartcards → Gemalto .NET Card → token 0042. */
export interface Hierarchy {
  readonly root: TestCert;
  readonly productLine: TestCert;
  readonly model: TestCert;
  readonly token: TestCert;
  /** The key the evidence is about. */
  readonly attested: TestKey;
}

export function hierarchy(prefix = 'Gemalto', attested: TestKey = ecKey()): Hierarchy {
  const root = issue(`${prefix} NV`);
  const productLine = issue(`${prefix} Smartcards`, { issuer: root });
  const model = issue(`${prefix} .NET Card`, { issuer: productLine });
  const token = issue(`${prefix} token 0042`, { issuer: model });
  return { root, productLine, model, token, attested };
}

/** The validated path as the verify pipeline hands it over: attested key first, anchor last. */
export function pathOf(h: Hierarchy, anchorId = 'gemalto'): PathEntry[] {
  const certs = [h.token, h.model, h.productLine, h.root];
  return [
    {
      position: 0,
      role: 'attested-key',
      subject: null,
      spkiSha256: sha256Hex(h.attested.spki),
      spki: h.attested.spki,
    },
    ...certs.map((c, i): PathEntry => {
      const last = i === certs.length - 1;
      return {
        position: i + 1,
        role: i === 0 ? 'attestation-key' : last ? 'root' : 'intermediate',
        subject: c.cert.subject.text,
        spkiSha256: c.cert.spkiSha256,
        spki: c.cert.spki,
        certificateSha256: c.cert.fingerprintSha256,
        ...(last ? { anchor: anchorId } : {}),
      };
    }),
  ];
}

export function inputOf(h: Hierarchy, overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    format: 'provenance',
    path: pathOf(h),
    claims: {
      keyAlgorithm: 'ec-p256',
      generatedOnDevice: true,
      nonExportable: true,
      userPresence: 'always',
      userVerification: 'once',
      securityLevel: 'secure-element',
      firmware: '5.4.3',
    },
    freshness: 'nonce',
    anchorId: 'gemalto',
    ...overrides,
  };
}

/** A temporary directory with files; `cleanup()` removes it. */
export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'provenance-policy-'));

  write(relative: string, content: string | Uint8Array): string {
    const full = join(this.path, relative);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    return full;
  }

  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Write the hierarchy's certificates as PEM files: gemalto/root.pem, smartcards/cert.pem, … */
export function writeHierarchy(dir: TempDir, h: Hierarchy, base = ''): void {
  dir.write(`${base}gemalto/root.pem`, h.root.pem);
  dir.write(`${base}smartcards/cert.pem`, h.productLine.pem);
  dir.write(`${base}dotnet/cert.pem`, h.model.pem);
}

/** SubjectPublicKeyInfo for an RSA public key (RFC 8017 A.1.1, RFC 3279 §2.3.1). */
export function rsaSpki(n: bigint, e = 65537n): Uint8Array {
  return der.seq(
    der.seq(der.oid(OID.rsaEncryption), der.null()),
    der.bitString(der.seq(der.int(n), der.int(e))),
  );
}

const ROCA_M = [
  2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
]
  .concat([101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167])
  .reduce((a, p) => a * BigInt(p), 1n);

/** A prime the way Infineon RSALib made them: k·M + (65537^a mod M) (docs/standards §10.1). */
export function rocaPrime(bits: number): bigint {
  for (;;) {
    const a = BigInt(`0x${randomBytes(8).toString('hex')}`);
    let r = 1n;
    for (let x = 65537n % ROCA_M, k = a; k > 0n; k >>= 1n, x = (x * x) % ROCA_M)
      if (k & 1n) r = (r * x) % ROCA_M;
    const k = (BigInt(`0x${randomBytes(bits / 8).toString('hex')}`) >> 221n) | (1n << BigInt(bits - 222));
    const p = k * ROCA_M + r;
    if (checkPrimeSync(p)) return p;
  }
}

/** An RSA SubjectPublicKeyInfo with the ROCA fingerprint. */
export function rocaSpki(): Uint8Array {
  return rsaSpki(rocaPrime(512) * rocaPrime(512));
}

/** An RSA SubjectPublicKeyInfo whose primes are adjacent: Fermat factors it at once. */
export function fermatSpki(): Uint8Array {
  const p = generatePrimeSync(1024, { bigint: true });
  let q = p + 2n;
  while (!checkPrimeSync(q)) q += 2n;
  return rsaSpki(p * q);
}

/** Replace the key at one path position (signatures do not matter to the policy stage). */
export function withKeyAt(path: readonly PathEntry[], position: number, spki: Uint8Array): PathEntry[] {
  return path.map((e) => (e.position === position ? { ...e, spki, spkiSha256: sha256Hex(spki) } : e));
}
