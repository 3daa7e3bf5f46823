/**
 * An in-memory native hierarchy for pipeline tests: maker root → product line → model →
 * per-token attestation certificate → certificate of provenance, each piece overridable so a
 * test can break exactly one thing. Built with the project's own builder and Node's crypto.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { der } from '../../src/core/der-writer.js';
import { OID } from '../../src/core/oids.js';
import { encodePem } from '../../src/core/pem.js';
import {
  encodeProvenanceKeyAttestation,
  type ProvenanceKeyAttestation,
} from '../../src/formats/provenance/extension.js';
import { buildCertificate, type CertificateTemplate, deriveSubjectKeyId } from '../../src/pki/builder.js';
import { type Certificate, parseCertificate } from '../../src/pki/certificate.js';
import { buildCsr } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import { type Signer, signerFromKeyObject } from '../../src/pki/signer.js';
import { type PolicyOptions, policyFromOptions } from '../../src/policy/index.js';

export const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const YEAR = 365 * 24 * 3600 * 1000;
export const NONCE = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

export interface Party {
  readonly name: Uint8Array;
  readonly signer: Signer;
  readonly key: KeyObject;
  readonly der: Uint8Array;
  readonly cert: Certificate;
}

export function newKey(): { key: KeyObject; signer: Signer } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey, signer: signerFromKeyObject(privateKey) };
}

type Overrides = Partial<Omit<CertificateTemplate, 'issuer' | 'subject' | 'spki'>>;

/** Issue a certificate for `subject` (new key unless given) by `issuer` (self when null). */
export function party(
  subject: string,
  issuer: Party | null,
  overrides: Overrides = {},
  own = newKey(),
): Party {
  const name = encodeName(subject);
  const issuerName = issuer ? issuer.name : name;
  const issuerSigner = issuer ? issuer.signer : own.signer;
  const d = buildCertificate({
    issuer: { name: issuerName, signer: issuerSigner, subjectKeyId: deriveSubjectKeyId(issuerSigner.spki) },
    subject: name,
    spki: own.signer.spki,
    notBefore: NOW - YEAR,
    notAfter: NOW + 10 * YEAR,
    basicConstraints: { ca: true },
    keyUsage: ['keyCertSign', 'cRLSign'],
    ...overrides,
  });
  return { name, signer: own.signer, key: own.key, der: d, cert: parseCertificate(d) };
}

export interface NativeHierarchy {
  readonly root: Party;
  readonly line: Party;
  readonly model: Party;
  readonly token: Party;
  /** The attested key (its private key signs CSRs). */
  readonly attested: { key: KeyObject; signer: Signer };
  /** Certificate of provenance DER. */
  readonly cop: Uint8Array;
}

export interface HierarchyOptions {
  readonly makerName?: string;
  readonly root?: Overrides;
  readonly line?: Overrides;
  readonly model?: Overrides;
  readonly token?: Overrides;
  readonly cop?: Overrides;
  readonly attestation?: Partial<ProvenanceKeyAttestation>;
  /** The attested key's SPKI, when it is not the generated key (e.g. a ROCA key). */
  readonly attestedSpki?: Uint8Array;
}

export function nativeHierarchy(o: HierarchyOptions = {}): NativeHierarchy {
  const maker = o.makerName ?? 'Gemalto NV';
  const root = party(`CN=${maker},O=${maker}`, null, o.root);
  const line = party(`CN=Gemalto Smartcards,O=${maker}`, root, o.line);
  const model = party(`CN=Gemalto .NET Card,O=${maker}`, line, o.model);
  const token = party(`CN=Gemalto .NET Card attestation,serialNumber=0001,O=${maker}`, model, {
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign'],
    ...o.token,
  });
  const attested = newKey();
  const attestation: ProvenanceKeyAttestation = {
    version: 1,
    nonce: NONCE,
    keyOrigin: 'generated',
    exportable: false,
    userPresence: 'always',
    userVerification: 'once',
    token: { model: 'Gemalto .NET Card', serial: '0001', firmware: '2.1.0' },
    ...o.attestation,
  };
  const cop = buildCertificate({
    issuer: { name: token.name, signer: token.signer, subjectKeyId: deriveSubjectKeyId(token.signer.spki) },
    subject: encodeName('CN=Attested key'),
    spki: o.attestedSpki ?? attested.signer.spki,
    notBefore: token.cert.notBefore,
    notAfter: token.cert.notAfter,
    keyUsage: ['digitalSignature'],
    extensions: [
      {
        oid: OID.provenanceKeyAttestation,
        critical: false,
        value: encodeProvenanceKeyAttestation(attestation),
      },
    ],
    ...o.cop,
  });
  return { root, line, model, token, attested, cop };
}

/** PEM bundle: certificate of provenance, then the chain (token → model → line → root). */
export function bundle(h: NativeHierarchy, extra: readonly Uint8Array[] = []): Uint8Array {
  const pems = [h.cop, h.token.der, h.model.der, h.line.der, h.root.der, ...extra].map((d) =>
    encodePem('CERTIFICATE', d),
  );
  return new TextEncoder().encode(pems.join(''));
}

/** A CSR carrying the attestation, signed by `signer` (the attested key unless given). */
export function csr(
  h: NativeHierarchy,
  o: { signer?: Signer; nonce?: Uint8Array | null; cop?: Uint8Array; subject?: string } = {},
): Uint8Array {
  const d = buildCsr({
    subject: encodeName(o.subject ?? 'CN=Alice'),
    signer: o.signer ?? h.attested.signer,
    attestation: {
      statements: [{ type: OID.provenanceStatementType, stmt: o.cop ?? h.cop }],
      certificates: [h.token.der, h.model.der, h.line.der],
    },
    ...(o.nonce === null ? {} : { nonce: o.nonce ?? NONCE }),
  });
  return new TextEncoder().encode(encodePem('CERTIFICATE REQUEST', d));
}

/** A policy trusting the hierarchy's root, with the given allow entries and options. */
export function policyFor(h: NativeHierarchy, options: Partial<PolicyOptions> = {}) {
  return policyFromOptions({ trust: [h.root.cert], require: { freshness: 'nonce' }, ...options });
}

export { der };
