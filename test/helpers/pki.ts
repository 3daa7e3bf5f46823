/**
 * Test-only PKI builder for path validation tests: certificates written with the core DER
 * writer and signed with Node's crypto, with knobs for the faults the tests need (missing or
 * wrong extensions, forged signatures, SHA-1, v1 certificates, odd criticality).
 *
 * @example
 * const root = issue({ subject: 'Root', key: rootKey, ca: {} });
 * const leaf = issue({ subject: 'Leaf', key: leafKey, issuer: root });
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { anchorFromCertificate, type TrustAnchor } from '../../src/pki/anchor.js';
import {
  type Certificate,
  KEY_USAGE,
  type KeyUsageName,
  parseCertificate,
} from '../../src/pki/certificate.js';

/** A key pair for tests: the private KeyObject and the public SPKI DER. */
export interface TestKey {
  readonly privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
}

/** A fresh EC key (P-256 by default). */
export function ecKey(namedCurve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
  return { privateKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

/** A fresh RSA key (slow: generate once per test file). */
export function rsaKey(modulusLength: number): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength });
  return { privateKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

/** A certificate built by `issue`, with what is needed to issue below it. */
export interface TestCert {
  readonly der: Uint8Array;
  readonly cert: Certificate;
  /** Subject Name DER. */
  readonly name: Uint8Array;
  readonly key: TestKey;
  readonly keyId: Uint8Array;
}

/** An extra extension to write as given. */
export interface ExtensionSpec {
  readonly oid: string;
  readonly critical?: boolean;
  /** extnValue content (normally a DER element). */
  readonly value: Uint8Array;
}

/** What `issue` should build; every field but subject and key is optional. */
export interface CertSpec {
  /** CN of the subject, or a full Name DER. */
  readonly subject: string | Uint8Array;
  readonly key: TestKey;
  /** The issuing certificate; self-signed when absent. */
  readonly issuer?: TestCert;
  /** Issuer Name DER when it should differ from the issuer's subject (forgeries). */
  readonly issuerName?: Uint8Array;
  /** Sign with this key instead of the issuer's (a wrong signature). */
  readonly signWith?: TestKey;
  readonly serial?: number;
  /** Validity, ms; default 2020-01-01 .. 2040-01-01. */
  readonly notBefore?: number;
  readonly notAfter?: number;
  /** Encode notBefore as GeneralizedTime even before 2050 (an RFC 5280 §4.1.2.5 deviation). */
  readonly generalizedTime?: boolean;
  /** 1 writes a v1 certificate without extensions. */
  readonly version?: 1 | 3;
  /** basicConstraints cA TRUE (critical unless said otherwise). */
  readonly ca?: { readonly pathLen?: number; readonly critical?: boolean };
  /** basicConstraints present with cA FALSE. */
  readonly notCa?: boolean;
  /** keyUsage (critical). Default for CAs: keyCertSign + cRLSign; none for leaves. `null` omits it. */
  readonly keyUsage?: readonly KeyUsageName[] | null;
  /** extKeyUsage OIDs (non-critical). */
  readonly extKeyUsage?: readonly string[];
  /** subjectAltName entries, already encoded as GeneralName elements. */
  readonly subjectAltName?: readonly Uint8Array[];
  /** Omit authorityKeyIdentifier / subjectKeyIdentifier. */
  readonly noAki?: boolean;
  readonly noSki?: boolean;
  readonly extensions?: readonly ExtensionSpec[];
  /** Hash for RSA/ECDSA signatures; default by key (SHA-256 for P-256 and RSA). */
  readonly hash?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** ecdsa-with-SHA* with explicit NULL parameters (a vendor deviation). */
  readonly ecdsaNullParams?: boolean;
}

const T2020 = Date.UTC(2020, 0, 1);
const T2040 = Date.UTC(2040, 0, 1);

/** Name DER with one CN (UTF8String). */
export function cn(commonName: string): Uint8Array {
  return der.seq(der.setOf(der.seq(der.oid(OID.commonName), der.utf8(commonName))));
}

/** GeneralName dNSName [2]. */
export function dnsName(name: string): Uint8Array {
  return der.implicitPrimitive(2, Buffer.from(name, 'latin1'));
}

/** GeneralName rfc822Name [1]. */
export function emailName(mailbox: string): Uint8Array {
  return der.implicitPrimitive(1, Buffer.from(mailbox, 'latin1'));
}

/** GeneralName iPAddress [7] (4/16 octets for names, 8/32 for constraints). */
export function ipName(bytes: readonly number[]): Uint8Array {
  return der.implicitPrimitive(7, Uint8Array.from(bytes));
}

/** NameConstraints extnValue from GeneralName bases. */
export function nameConstraints(
  permitted: readonly Uint8Array[],
  excluded: readonly Uint8Array[] = [],
): Uint8Array {
  const subtrees = (bases: readonly Uint8Array[]) => bases.map((b) => der.seq(b));
  const parts: Uint8Array[] = [];
  if (permitted.length > 0) parts.push(der.implicitConstructed(0, der.seq(...subtrees(permitted))));
  if (excluded.length > 0) parts.push(der.implicitConstructed(1, der.seq(...subtrees(excluded))));
  return der.seq(...parts);
}

/** certificatePolicies extnValue. */
export function certificatePolicies(oids: readonly string[]): Uint8Array {
  return der.seq(...oids.map((o) => der.seq(der.oid(o))));
}

/** policyConstraints extnValue. */
export function policyConstraints(requireExplicitPolicy?: number, inhibitPolicyMapping?: number): Uint8Array {
  const parts: Uint8Array[] = [];
  if (requireExplicitPolicy !== undefined)
    parts.push(der.implicitPrimitive(0, intContent(requireExplicitPolicy)));
  if (inhibitPolicyMapping !== undefined)
    parts.push(der.implicitPrimitive(1, intContent(inhibitPolicyMapping)));
  return der.seq(...parts);
}

/** policyMappings extnValue from [issuerDomainPolicy, subjectDomainPolicy] pairs. */
export function policyMappings(pairs: readonly (readonly [string, string])[]): Uint8Array {
  return der.seq(...pairs.map(([a, b]) => der.seq(der.oid(a), der.oid(b))));
}

function intContent(n: number): Uint8Array {
  return der.int(n).subarray(2);
}

function keyIdOf(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(spki).digest().subarray(0, 20));
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? der.seq(der.oid(oid), der.bool(true), der.octets(value))
    : der.seq(der.oid(oid), der.octets(value));
}

function signatureAlgorithm(key: TestKey, spec: CertSpec): { alg: Uint8Array; hash: string | null } {
  const type = key.privateKey.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.privateKey.asymmetricKeyDetails?.namedCurve;
    const hash =
      spec.hash ?? (curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256');
    const oid = {
      sha1: OID.ecdsaWithSHA1,
      sha256: OID.ecdsaWithSHA256,
      sha384: OID.ecdsaWithSHA384,
      sha512: OID.ecdsaWithSHA512,
    }[hash];
    return { alg: spec.ecdsaNullParams ? der.seq(der.oid(oid), der.null()) : der.seq(der.oid(oid)), hash };
  }
  if (type === 'rsa') {
    const hash = spec.hash ?? 'sha256';
    const oid = {
      sha1: OID.sha1WithRSA,
      sha256: OID.sha256WithRSA,
      sha384: OID.sha384WithRSA,
      sha512: OID.sha512WithRSA,
    }[hash];
    return { alg: der.seq(der.oid(oid), der.null()), hash };
  }
  if (type === 'ed25519') return { alg: der.seq(der.oid(OID.ed25519)), hash: null };
  throw new Error(`test helper cannot sign with ${type}`);
}

/** Build and sign a certificate from `spec`. */
export function issue(spec: CertSpec): TestCert {
  const subject = typeof spec.subject === 'string' ? cn(spec.subject) : spec.subject;
  const issuerKey = spec.issuer?.key ?? spec.key;
  const issuerName = spec.issuerName ?? spec.issuer?.name ?? subject;
  const keyId = keyIdOf(spec.key.spki);
  const { alg, hash } = signatureAlgorithm(spec.signWith ?? issuerKey, spec);
  const isCa = spec.ca !== undefined;

  const exts: Uint8Array[] = [];
  if (isCa) {
    const bc =
      spec.ca!.pathLen === undefined
        ? der.seq(der.bool(true))
        : der.seq(der.bool(true), der.int(spec.ca!.pathLen));
    exts.push(extension(OID.basicConstraints, spec.ca!.critical ?? true, bc));
  } else if (spec.notCa) {
    exts.push(extension(OID.basicConstraints, true, der.seq()));
  }
  const ku =
    spec.keyUsage === undefined ? (isCa ? (['keyCertSign', 'cRLSign'] as const) : null) : spec.keyUsage;
  if (ku !== null && ku.length > 0)
    exts.push(extension(OID.keyUsage, true, der.namedBits(ku.map((u) => KEY_USAGE[u]))));
  if (spec.extKeyUsage)
    exts.push(extension(OID.extKeyUsage, false, der.seq(...spec.extKeyUsage.map((o) => der.oid(o)))));
  if (spec.subjectAltName) exts.push(extension(OID.subjectAltName, false, der.seq(...spec.subjectAltName)));
  if (!spec.noSki) exts.push(extension(OID.subjectKeyIdentifier, false, der.octets(keyId)));
  if (!spec.noAki) {
    const authorityKeyId = spec.issuer?.keyId ?? keyId;
    exts.push(
      extension(OID.authorityKeyIdentifier, false, der.seq(der.implicitPrimitive(0, authorityKeyId))),
    );
  }
  for (const e of spec.extensions ?? []) exts.push(extension(e.oid, e.critical ?? false, e.value));

  const notBefore = spec.notBefore ?? T2020;
  const notAfter = spec.notAfter ?? T2040;
  const nb = spec.generalizedTime ? generalizedTime(notBefore) : der.time(notBefore);
  const v1 = spec.version === 1;
  const tbs = der.seq(
    ...(v1 ? [] : [der.explicit(0, der.int(2))]),
    der.int(spec.serial ?? 1000 + Math.floor(Math.random() * 1e9)),
    alg,
    issuerName,
    der.seq(nb, der.time(notAfter)),
    subject,
    spec.key.spki,
    ...(v1 || exts.length === 0 ? [] : [der.explicit(3, der.seq(...exts))]),
  );
  const signer = (spec.signWith ?? issuerKey).privateKey;
  const signature = new Uint8Array(sign(hash, tbs, signer));
  const encoded = der.seq(tbs, alg, der.bitString(signature));
  return { der: encoded, cert: parseCertificate(encoded), name: subject, key: spec.key, keyId };
}

function generalizedTime(ms: number): Uint8Array {
  const d = new Date(ms);
  const p2 = (n: number) => n.toString().padStart(2, '0');
  const text = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  return Uint8Array.from([0x18, text.length, ...Buffer.from(text, 'latin1')]);
}

/** A trust anchor from a test certificate. */
export function anchor(
  c: TestCert,
  id = 'test-anchor',
  formats: readonly string[] | 'any' = 'any',
): TrustAnchor {
  return anchorFromCertificate(c.cert, { id, formats });
}
