/**
 * Generated TPM evidence for tests: an AK (Node key) certifying an application key with
 * TPM2_Certify-shaped structures from src/formats/tpm/encode.ts, packed into a CSR as a
 * tcg-attest-tpm-certify statement; AK and EK certificates under a test CA with the TCG
 * profiles (empty subject, critical SAN directoryName, EKU).
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { der, tlv } from '../../../src/core/der-writer.js';
import { OID } from '../../../src/core/oids.js';
import {
  encodeTpmsAttest,
  encodeTpmtPublic,
  publicAreaFromKey,
  signTpmsAttest,
  TPM_AK_ATTRIBUTES,
  TPM_APP_KEY_ATTRIBUTES,
  type TpmsAttestInput,
} from '../../../src/formats/tpm/encode.js';
import { encodeTpmCertifyStatement } from '../../../src/formats/tpm/statement.js';
import { TPM_ALG, tpmName } from '../../../src/formats/tpm/structures.js';
import type { BoundKey, EvidenceInput } from '../../../src/formats/types.js';
import type { KeyUsageName } from '../../../src/pki/certificate.js';
import { buildCsr, parseCsr } from '../../../src/pki/csr.js';
import { encodeName } from '../../../src/pki/name.js';
import { signerFromKeyObject } from '../../../src/pki/signer.js';
import { ecKey, issue, type TestCert, type TestKey } from '../../helpers/pki.js';

export const NONCE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
export const NOW = Date.UTC(2026, 5, 1);

/** TPM SAN directoryName attributes (TCG EK Credential Profile §3.1.2) as one GeneralName. */
export function tpmDirectoryName(
  manufacturer = 'id:49465800',
  model = 'SLB 9670 TPM2.0',
  version = 'id:0728',
): Uint8Array {
  const rdn = (oid: string, v: string) => der.setOf(der.seq(der.oid(oid), der.utf8(v)));
  const name = der.seq(
    rdn(OID.tcgTpmManufacturer, manufacturer),
    rdn(OID.tcgTpmModel, model),
    rdn(OID.tcgTpmVersion, version),
  );
  return tlv(0xa4, name);
}

/** A SAN extension value holding the given GeneralNames. */
export function san(...names: Uint8Array[]): Uint8Array {
  return der.seq(...names);
}

export interface TpmPki {
  readonly ca: TestCert;
  readonly akKey: KeyObject;
  readonly akCert: TestCert;
  readonly ekCert: TestCert;
}

/** Options for TPM certificates under the test CA. */
export interface TpmCertOptions {
  readonly sanCritical?: boolean;
  readonly sanNames?: readonly Uint8Array[];
  readonly extKeyUsage?: readonly string[];
  readonly subject?: string;
  readonly keyUsage?: readonly KeyUsageName[] | null;
}

const EMPTY_NAME = der.seq();

function tpmCert(
  ca: TestCert,
  key: TestKey,
  eku: string,
  o: TpmCertOptions,
  keyUsage: readonly KeyUsageName[],
): TestCert {
  return issue({
    subject: o.subject ?? EMPTY_NAME,
    key,
    issuer: ca,
    notCa: true,
    keyUsage: o.keyUsage === undefined ? keyUsage : o.keyUsage,
    extKeyUsage: o.extKeyUsage ?? [eku],
    extensions: [
      {
        oid: OID.subjectAltName,
        critical: o.sanCritical ?? true,
        value: san(...(o.sanNames ?? [tpmDirectoryName()])),
      },
    ],
  });
}

/** A CA with an AK certificate (EC P-256 AK) and an EK certificate (EC P-256 EK). */
export function tpmPki(o: { ak?: TpmCertOptions; ek?: TpmCertOptions } = {}): TpmPki {
  const ca = issue({ subject: 'TPM Test Manufacturer CA', key: ecKey(), ca: {} });
  const { privateKey: akKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const akTestKey: TestKey = {
    privateKey: akKey,
    spki: new Uint8Array(createPublicKey(akKey).export({ format: 'der', type: 'spki' })),
  };
  const akCert = tpmCert(ca, akTestKey, OID.tcgKpAikCertificate, o.ak ?? {}, ['digitalSignature']);
  const ekCert = tpmCert(ca, ecKey(), OID.tcgKpEkCertificate, o.ek ?? {}, ['keyAgreement']);
  return { ca, akKey, akCert, ekCert };
}

/** What to generate; every field has a working default. */
export interface EvidenceOptions {
  readonly akKey: KeyObject;
  /** The application key; a fresh P-256 key by default. */
  readonly appKey?: KeyObject;
  readonly attributes?: number;
  readonly extraData?: Uint8Array;
  /** Replace the certified Name (Name-mismatch tests). */
  readonly name?: Uint8Array;
  /** Override TPMS_ATTEST fields. */
  readonly attest?: Partial<TpmsAttestInput>;
  /** Sign the CSR with this key instead of the app key. */
  readonly csrKey?: KeyObject;
  /** Certificates in the CSR bundle. */
  readonly certificates?: readonly Uint8Array[];
  readonly csrNonce?: Uint8Array;
  readonly hashAlg?: number;
  /** The certified key's nameAlg (default SHA-256). */
  readonly nameAlg?: number;
  /** Replace the encoded pieces (malformed-structure tests). */
  readonly mutate?: (parts: {
    tpmSAttest: Uint8Array;
    signature: Uint8Array;
    tpmTPublic: Uint8Array | null;
  }) => {
    tpmSAttest: Uint8Array;
    signature: Uint8Array;
    tpmTPublic: Uint8Array | null;
  };
}

export interface Evidence {
  readonly input: EvidenceInput;
  readonly csrDer: Uint8Array;
  readonly appKey: KeyObject;
  readonly pubArea: Uint8Array;
  readonly certInfo: Uint8Array;
  readonly signature: Uint8Array;
}

/** TPM2_Certify of a fresh application key by `akKey`, in a CSR signed by the application key. */
export function tpmEvidence(o: EvidenceOptions): Evidence {
  const appKey = o.appKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const pubArea = encodeTpmtPublic(
    publicAreaFromKey(appKey, {
      attributes: o.attributes ?? TPM_APP_KEY_ATTRIBUTES,
      ...(o.nameAlg === undefined ? {} : { nameAlg: o.nameAlg }),
    }),
  );
  const certInfo = encodeTpmsAttest({
    extraData: o.extraData ?? NONCE,
    firmwareVersion: 0x0001000200030004n,
    attested: {
      kind: 'certify',
      name: o.name ?? tpmName(pubArea, o.nameAlg ?? TPM_ALG.SHA256),
      qualifiedName: new Uint8Array(),
    },
    ...o.attest,
  });
  const signature = signTpmsAttest(certInfo, o.akKey, { hashAlg: o.hashAlg ?? TPM_ALG.SHA256 });
  const parts = (o.mutate ?? ((p) => p))({ tpmSAttest: certInfo, signature, tpmTPublic: pubArea });
  const csrDer = buildCsr({
    subject: encodeName('CN=TPM key'),
    signer: signerFromKeyObject(o.csrKey ?? appKey),
    attestation: {
      statements: [{ type: OID.tcgAttestTpmCertify, stmt: encodeTpmCertifyStatement(parts) }],
      certificates: [...(o.certificates ?? [])],
    },
    ...(o.csrNonce === undefined ? {} : { nonce: o.csrNonce }),
  });
  return {
    input: { kind: 'csr', csr: parseCsr(csrDer), certificates: [] },
    csrDer,
    appKey,
    pubArea,
    certInfo,
    signature,
  };
}

/** A credential-activation binding for `akKey` with the EK certificate chain. */
export function boundKey(
  akKey: KeyObject,
  certificates: BoundKey['certificates'],
  o: { attributes?: number; id?: string } = {},
): BoundKey {
  const publicArea = encodeTpmtPublic(
    publicAreaFromKey(akKey, { attributes: o.attributes ?? TPM_AK_ATTRIBUTES }),
  );
  return {
    id: o.id ?? 'binding-1',
    via: 'credential-activation',
    name: tpmName(publicArea, TPM_ALG.SHA256),
    publicArea,
    certificates,
    boundAt: new Date(NOW).toISOString(),
  };
}
