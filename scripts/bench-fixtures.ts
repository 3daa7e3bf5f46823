/**
 * Evidence for `npm run bench`, built at start-up with the project's own builder and Node's
 * crypto (no files, no randomness that matters):
 *
 * - `provenanceEvidence`: maker root (P-256) → per-token attestation certificate (CA, pathLen 0,
 *   keyCertSign) → certificate of provenance for a P-256 key with the ProvenanceKeyAttestation
 *   extension (nonce), as a PEM bundle and as DER, with the policy a relying party would use.
 * - `packedRegistrations`: the equivalent WebAuthn `packed` full attestation for
 *   `@simplewebauthn/server`'s `verifyRegistrationResponse` (WebAuthn §8.2): an attestation
 *   certificate that follows §8.2.1, a signature over authenticatorData ‖ SHA-256(clientDataJSON),
 *   authenticatorData with the AT flag and a COSE EC2 P-256 credential public key.
 * - `rawChainWork`: the bare Node crypto the chain needs (the raw limit the bench compares to).
 *
 * @example
 * const evidence = provenanceEvidence(Date.now());
 * createVerifier({ policy: evidence.policy, clock: () => evidence.now }).verifyBytes(evidence.pem, { nonce: evidence.nonce });
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
} from 'node:crypto';
import { der, tlvHighTag } from '../src/core/der-writer.js';
import { OID } from '../src/core/oids.js';
import { encodePem } from '../src/core/pem.js';
import { encodeProvenanceKeyAttestation } from '../src/formats/provenance/extension.js';
import { buildCertificate, deriveSubjectKeyId } from '../src/pki/builder.js';
import { type Certificate, parseCertificate } from '../src/pki/certificate.js';
import { encodeName } from '../src/pki/name.js';
import { type Signer, signerFromKeyObject } from '../src/pki/signer.js';
import { type Policy, policyFromOptions } from '../src/policy/index.js';

const YEAR = 365 * 24 * 3600 * 1000;

/** FIDO AAGUID extension (id-fido-gen-ce-aaguid, WebAuthn §8.2.1). */
export const OID_FIDO_GEN_CE_AAGUID = '1.3.6.1.4.1.45724.1.1.4';

interface Party {
  readonly name: Uint8Array;
  readonly signer: Signer;
  readonly key: KeyObject;
  readonly der: Uint8Array;
  readonly cert: Certificate;
}

function p256(): { key: KeyObject; signer: Signer } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey, signer: signerFromKeyObject(privateKey) };
}

type Template = Parameters<typeof buildCertificate>[0];

/** Issue a certificate for `subject` by `issuer` (self-signed when null). */
function issue(
  subject: string,
  issuer: Party | null,
  now: number,
  extra: Partial<Omit<Template, 'issuer' | 'subject' | 'spki' | 'notBefore' | 'notAfter'>>,
): Party {
  const own = p256();
  const name = encodeName(subject);
  const issuerSigner = issuer ? issuer.signer : own.signer;
  const d = buildCertificate({
    issuer: {
      name: issuer ? issuer.name : name,
      signer: issuerSigner,
      subjectKeyId: deriveSubjectKeyId(issuerSigner.spki),
    },
    subject: name,
    spki: own.signer.spki,
    notBefore: now - YEAR,
    notAfter: now + 10 * YEAR,
    ...extra,
  });
  return { name, signer: own.signer, key: own.key, der: d, cert: parseCertificate(d) };
}

/** Everything the bench needs to verify a certificate of provenance. */
export interface ProvenanceEvidence {
  /** The instant the chain is valid at (the verifier's injected clock). */
  readonly now: number;
  readonly nonce: Uint8Array;
  /** Trusts the root, allows the token's issuer (the root), requires the nonce. */
  readonly policy: Policy;
  /** PEM bundle: certificate of provenance, then the token attestation certificate. */
  readonly pem: Uint8Array;
  /** The same two certificates as DER: certificate of provenance first. */
  readonly der: readonly Uint8Array[];
  readonly root: Certificate;
  readonly token: Certificate;
  readonly cop: Certificate;
}

/**
 * Maker root → per-token attestation certificate → certificate of provenance (all P-256),
 * valid around `now`.
 */
export function provenanceEvidence(now: number): ProvenanceEvidence {
  const maker = 'Example Maker';
  const root = issue(`CN=${maker} Root,O=${maker}`, null, now, {
    basicConstraints: { ca: true },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const token = issue(`CN=Example Token attestation,serialNumber=0001,O=${maker}`, root, now, {
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign'],
  });
  const nonce = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  const attested = p256();
  const copDer = buildCertificate({
    issuer: { name: token.name, signer: token.signer, subjectKeyId: deriveSubjectKeyId(token.signer.spki) },
    subject: encodeName('CN=Attested key'),
    spki: attested.signer.spki,
    // Tokens have no trustworthy clock: the certificate of provenance copies the issuer's validity.
    notBefore: token.cert.notBefore,
    notAfter: token.cert.notAfter,
    keyUsage: ['digitalSignature'],
    extensions: [
      {
        oid: OID.provenanceKeyAttestation,
        critical: false,
        value: encodeProvenanceKeyAttestation({
          version: 1,
          nonce,
          keyOrigin: 'generated',
          exportable: false,
          userPresence: 'always',
          userVerification: 'once',
          token: { model: 'Example Token', serial: '0001', firmware: '1.0.0' },
        }),
      },
    ],
  });
  const policy = policyFromOptions({
    trust: [root.cert],
    allow: [{ certificate: root.cert, id: 'example-maker' }],
    require: { freshness: 'nonce' },
  });
  const pem = new TextEncoder().encode(
    encodePem('CERTIFICATE', copDer) + encodePem('CERTIFICATE', token.der),
  );
  return {
    now,
    nonce,
    policy,
    pem,
    der: [copDer, token.der],
    root: root.cert,
    token: token.cert,
    cop: parseCertificate(copDer),
  };
}

/** One signature edge of the chain: what bare Node crypto must do to check it. */
export interface RawEdge {
  /** The signer's SubjectPublicKeyInfo DER. */
  readonly spki: Buffer;
  readonly tbs: Buffer;
  /** ECDSA Ecdsa-Sig-Value DER. */
  readonly signature: Buffer;
  /** The signer's key as a JWK (for the variant of the raw limit that imports coordinates). */
  readonly jwk: JsonWebKey;
}

/** The edge `issuer` → `child` (a certificate signature). */
function certEdge(child: Certificate, issuer: Certificate): RawEdge {
  return statementEdge(issuer.spki, child.tbs, child.signature);
}

/** The edge of a signature by the key in `spki` over `data`. */
function statementEdge(spki: Uint8Array, data: Uint8Array, signature: Uint8Array): RawEdge {
  return {
    spki: Buffer.from(spki),
    tbs: Buffer.from(data),
    signature: Buffer.from(signature),
    jwk: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' }),
  };
}

/**
 * The two signature edges of the provenance chain: root → token certificate and token
 * certificate → certificate of provenance.
 */
export function rawChainWork(e: ProvenanceEvidence): readonly RawEdge[] {
  const edge = (child: Certificate, issuer: Certificate): RawEdge => ({
    spki: Buffer.from(issuer.spki),
    tbs: Buffer.from(child.tbs),
    signature: Buffer.from(child.signature),
    jwk: createPublicKey({ key: Buffer.from(issuer.spki), format: 'der', type: 'spki' }).export({
      format: 'jwk',
    }),
  });
  return [edge(e.token, e.root), edge(e.cop, e.token)];
}

// --- WebAuthn `packed` -------------------------------------------------------------------------

/** A CBOR value of the shapes WebAuthn needs (RFC 8949 §3): maps, arrays, ints, text, bytes. */
export type CborValue =
  | number
  | string
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<number | string, CborValue>;

/** CBOR head: major type and argument (RFC 8949 §3.1), shortest form as CTAP2 canonical CBOR wants. */
function cborHead(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** Encode `v` as CBOR (RFC 8949); map entries are written in insertion order. */
export function encodeCbor(v: CborValue): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  const write = (x: CborValue): void => {
    if (typeof x === 'number') {
      if (!Number.isSafeInteger(x) || Math.abs(x) > 0xffffffff) throw new RangeError(`CBOR int ${x}`);
      out.push(...(x >= 0 ? cborHead(0, x) : cborHead(1, -1 - x)));
    } else if (typeof x === 'string') {
      const bytes = new TextEncoder().encode(x);
      out.push(...cborHead(3, bytes.length), ...bytes);
    } else if (x instanceof Uint8Array) {
      out.push(...cborHead(2, x.length), ...x);
    } else if (x instanceof Map) {
      out.push(...cborHead(5, x.size));
      for (const [k, val] of x) {
        write(k);
        write(val);
      }
    } else {
      const list = x as readonly CborValue[];
      out.push(...cborHead(4, list.length));
      for (const item of list) write(item);
    }
  };
  write(v);
  return Uint8Array.from(out);
}

/** What `verifyRegistrationResponse` takes, minus the function itself. */
export interface PackedRegistration {
  readonly response: {
    readonly id: string;
    readonly rawId: string;
    readonly type: 'public-key';
    readonly response: { readonly clientDataJSON: string; readonly attestationObject: string };
    readonly clientExtensionResults: Record<string, never>;
  };
  readonly expectedChallenge: string;
  readonly expectedOrigin: string;
  readonly expectedRPID: string;
  /** Certificates in x5c (attestation certificate first). */
  readonly x5cLength: number;
  /**
   * The signature edges bare crypto must check (the raw limit): each certificate signature up
   * the chain to the root, then the statement signature over authenticatorData ‖ clientDataHash.
   */
  readonly edges: readonly RawEdge[];
  /** clientDataJSON bytes (the raw limit hashes them, as every verifier must). */
  readonly clientDataJSON: Uint8Array;
}

/** Two `packed` registrations under one root (register `root` with SimpleWebAuthn's SettingsService). */
export interface PackedRegistrations {
  /** Root certificate DER. */
  readonly root: Uint8Array;
  /**
   * x5c = [attestation certificate] issued by the root: two signatures (root → attestation
   * certificate, attestation key → statement), the same crypto work as the provenance chain.
   */
  readonly direct: PackedRegistration;
  /** x5c = [attestation certificate, intermediate CA]: the 3-certificate shape, three signatures. */
  readonly withIntermediate: PackedRegistration;
}

/**
 * `packed` full attestations (WebAuthn §8.2) for fresh P-256 credentials, with certificates
 * valid around `now` (SimpleWebAuthn checks validity against the system clock).
 */
export function packedRegistrations(now: number): PackedRegistrations {
  const root = issue('CN=Example Maker Root,O=Example Maker,C=NL', null, now, {
    basicConstraints: { ca: true },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const intermediate = issue('CN=Example Authenticator CA,O=Example Maker,C=NL', root, now, {
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign'],
  });
  return {
    root: root.der,
    direct: packedRegistration(now, root, [], root),
    withIntermediate: packedRegistration(now, intermediate, [intermediate.der], root),
  };
}

function packedRegistration(
  now: number,
  issuer: Party,
  chain: readonly Uint8Array[],
  root: Party,
): PackedRegistration {
  const rpId = 'example.org';
  const origin = `https://${rpId}`;
  const aaguid = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
  // WebAuthn §8.2.1: version 3; subject C, O, OU = "Authenticator Attestation", CN; basic
  // constraints CA false; id-fido-gen-ce-aaguid, when present, equals the AAGUID in authData.
  const attestation = issue(
    'CN=Example Authenticator,OU=Authenticator Attestation,O=Example Maker,C=NL',
    issuer,
    now,
    {
      basicConstraints: { ca: false },
      keyUsage: ['digitalSignature'],
      extensions: [{ oid: OID_FIDO_GEN_CE_AAGUID, critical: false, value: der.octets(aaguid) }],
    },
  );

  // The new credential key as a COSE_Key (RFC 9053 §7.1.1): kty EC2, alg ES256, crv P-256, x, y.
  const credential = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = credential.publicKey.export({ format: 'jwk' });
  const coseKey = encodeCbor(
    new Map<number, CborValue>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]),
  );
  const credentialId = Uint8Array.from({ length: 32 }, (_, i) => i);

  // authenticatorData (WebAuthn §6.1): rpIdHash ‖ flags (UP, UV, AT) ‖ signCount ‖
  // attestedCredentialData (aaguid ‖ credentialIdLength ‖ credentialId ‖ credentialPublicKey).
  const authData = Buffer.concat([
    createHash('sha256').update(rpId).digest(),
    Uint8Array.of(0x01 | 0x04 | 0x40),
    Uint8Array.of(0, 0, 0, 0),
    aaguid,
    Uint8Array.of(credentialId.length >> 8, credentialId.length & 0xff),
    credentialId,
    coseKey,
  ]);
  const challenge = Buffer.from(Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i)).toString('base64url');
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin }));
  // WebAuthn §8.2 signing procedure: sig over authenticatorData ‖ clientDataHash with the
  // attestation private key, alg -7 (ES256, DER-encoded ECDSA signature).
  const clientDataHash = createHash('sha256').update(clientDataJSON).digest();
  const sig = sign('sha256', Buffer.concat([authData, clientDataHash]), attestation.key);
  const x5c = [attestation.der, ...chain];
  const certs = [attestation.cert, ...chain.map((d) => parseCertificate(d))];
  const edges = [
    ...certs.map((c, i) => certEdge(c, certs[i + 1] ?? root.cert)),
    statementEdge(attestation.signer.spki, Buffer.concat([authData, clientDataHash]), sig),
  ].reverse();
  const attestationObject = encodeCbor(
    new Map<string, CborValue>([
      ['fmt', 'packed'],
      [
        'attStmt',
        new Map<string, CborValue>([
          ['alg', -7],
          ['sig', new Uint8Array(sig)],
          ['x5c', x5c],
        ]),
      ],
      ['authData', new Uint8Array(authData)],
    ]),
  );
  const id = Buffer.from(credentialId).toString('base64url');
  return {
    response: {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
      },
      clientExtensionResults: {},
    },
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: rpId,
    x5cLength: x5c.length,
    edges,
    clientDataJSON: new Uint8Array(clientDataJSON),
  };
}

// --- WebAuthn `android-key` --------------------------------------------------------------------

/** Android KeyDescription extension (Android Key Attestation, "Certificate extension data schema"). */
export const OID_ANDROID_KEY_DESCRIPTION = '1.3.6.1.4.1.11129.2.1.17';

/** An AuthorizationList entry: [tag] EXPLICIT inner (context-specific, constructed; X.690 §8.14). */
function authz(tag: number, inner: Uint8Array): Uint8Array {
  return tlvHighTag(2, true, tag, inner);
}

/**
 * A KeyDescription (attestationVersion 3, Keymaster 3, TEE) for a P-256 signing key generated in
 * the TEE of a locked, verified-boot device: purpose SIGN, algorithm EC, keySize 256, digest
 * SHA-256, ecCurve P-256, noAuthRequired, origin GENERATED, rootOfTrust, OS version and patch
 * level, in ascending tag order; creationDateTime in the software list. No allApplications.
 */
export function androidKeyDescription(challenge: Uint8Array, now: number): Uint8Array {
  const software = der.seq(authz(701, der.int(now)));
  const hardware = der.seq(
    authz(1, der.setOf(der.int(2))), // purpose: SIGN
    authz(2, der.int(3)), // algorithm: EC
    authz(3, der.int(256)), // keySize
    authz(5, der.setOf(der.int(4))), // digest: SHA-256
    authz(10, der.int(1)), // ecCurve: P-256
    authz(503, der.null()), // noAuthRequired
    authz(702, der.int(0)), // origin: GENERATED
    authz(
      704,
      der.seq(
        der.octets(new Uint8Array(32).fill(0x5a)),
        der.bool(true),
        der.enumerated(0),
        der.octets(new Uint8Array(32).fill(0xa5)),
      ),
    ), // rootOfTrust: verifiedBootKey, deviceLocked, Verified, verifiedBootHash
    authz(705, der.int(140000)), // osVersion 14.0.0
    authz(706, der.int(202408)), // osPatchLevel
  );
  return der.seq(
    der.int(3),
    der.enumerated(1),
    der.int(3),
    der.enumerated(1),
    der.octets(challenge),
    der.octets(new Uint8Array(0)),
    software,
    hardware,
  );
}

/** One `android-key` registration and the root to register (SimpleWebAuthn identifier 'android-key'). */
export interface AndroidKeyRegistration extends PackedRegistration {
  /** Root certificate DER (also the last x5c certificate, as SimpleWebAuthn requires). */
  readonly root: Uint8Array;
}

/**
 * An `android-key` attestation (WebAuthn §8.4) for a fresh P-256 credential: x5c = [credential
 * certificate with the KeyDescription (attestationChallenge = clientDataHash), batch
 * intermediate, root], `sig` by the credential key over authenticatorData ‖ clientDataHash.
 * Three signatures: root → intermediate, intermediate → credential certificate, credential key →
 * statement.
 */
export function androidKeyRegistration(now: number): AndroidKeyRegistration {
  return androidKeyRegistrations(now, 1).registrations[0]!;
}

/**
 * `count` android-key registrations of different credentials (and challenges) from one device
 * model: the same root and batch CA, a new credential certificate each, as a service sees them.
 */
export function androidKeyRegistrations(
  now: number,
  count: number,
): { readonly root: Uint8Array; readonly registrations: readonly AndroidKeyRegistration[] } {
  const root = issue('CN=Example Android Root,O=Example OEM', null, now, {
    basicConstraints: { ca: true },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const batch = issue('CN=Example Android Batch,O=Example OEM', root, now, {
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign'],
  });
  const registrations = Array.from({ length: count }, (_, n) => androidKeyCredential(now, root, batch, n));
  return { root: root.der, registrations };
}

function androidKeyCredential(now: number, root: Party, batch: Party, n: number): AndroidKeyRegistration {
  const rpId = 'example.org';
  const origin = `https://${rpId}`;
  const challenge = Buffer.from(Uint8Array.from({ length: 32 }, (_, i) => (0x60 + i + n) & 0xff)).toString(
    'base64url',
  );
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin }));
  const clientDataHash = createHash('sha256').update(clientDataJSON).digest();
  // The credential certificate certifies the credential key itself (Android Keystore attestation).
  const credential = issue('CN=Android Keystore Key', batch, now, {
    keyUsage: ['digitalSignature'],
    extensions: [
      {
        oid: OID_ANDROID_KEY_DESCRIPTION,
        critical: false,
        value: androidKeyDescription(clientDataHash, now),
      },
    ],
  });
  const jwk = createPublicKey({
    key: Buffer.from(credential.signer.spki),
    format: 'der',
    type: 'spki',
  }).export({
    format: 'jwk',
  });
  const coseKey = encodeCbor(
    new Map<number, CborValue>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]),
  );
  const credentialId = Uint8Array.from({ length: 32 }, (_, i) => (0x80 + i + n) & 0xff);
  // authenticatorData (WebAuthn §6.1): Android reports an all-zero AAGUID for android-key.
  const authData = Buffer.concat([
    createHash('sha256').update(rpId).digest(),
    Uint8Array.of(0x01 | 0x04 | 0x40),
    Uint8Array.of(0, 0, 0, 0),
    new Uint8Array(16),
    Uint8Array.of(credentialId.length >> 8, credentialId.length & 0xff),
    credentialId,
    coseKey,
  ]);
  // WebAuthn §8.4: sig over authenticatorData ‖ clientDataHash with the credential private key.
  const sig = sign('sha256', Buffer.concat([authData, clientDataHash]), credential.key);
  const x5c = [credential.der, batch.der, root.der];
  const edges = [
    certEdge(batch.cert, root.cert),
    certEdge(credential.cert, batch.cert),
    statementEdge(credential.signer.spki, Buffer.concat([authData, clientDataHash]), sig),
  ];
  const attestationObject = encodeCbor(
    new Map<string, CborValue>([
      ['fmt', 'android-key'],
      [
        'attStmt',
        new Map<string, CborValue>([
          ['alg', -7],
          ['sig', new Uint8Array(sig)],
          ['x5c', x5c],
        ]),
      ],
      ['authData', new Uint8Array(authData)],
    ]),
  );
  const id = Buffer.from(credentialId).toString('base64url');
  return {
    root: root.der,
    response: {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
      },
      clientExtensionResults: {},
    },
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: rpId,
    x5cLength: x5c.length,
    edges,
    clientDataJSON: new Uint8Array(clientDataJSON),
  };
}
