/**
 * The Google Cloud HSM format (`cloud-hsm`, standards.md §12; docs/cloud-hsm.md): a Marvell
 * (Cavium) LiquidSecurity key attestation blob signed by the HSM partition key, with two
 * certificate chains for that key: the manufacturer's (partition ← card ← Cavium root, X.509 v1
 * intermediates) and the owner's (partition ← Google "Hawksbill Root v1 prod").
 *
 * Evidence: `{ kind: 'cloud-hsm', attestation, certificates }` (the blob as gzip, raw, base64
 * or base64url; every certificate Cloud KMS delivered), Cloud KMS's attestation JSON (see
 * src/verify/input.ts), or a CSR whose attestation bundle carries a statement of type
 * CLOUD_HSM_STATEMENT_TYPE (`stmt` = OCTET STRING of the blob) and the certificates.
 *
 * What this module checks (path, revocation and policy are the shared stages):
 * 1. The blob parses strictly (blob.ts) and describes an RSA or EC key pair (§12.3 step 2);
 *    secret keys have no public key to bind and are refused (ATTESTATION_INVALID).
 * 2. The trailing signature is RSASSA-PKCS1-v1_5/SHA-256 (full PKCS#1 structure, §12.2: the
 *    firmware 2.x suffix compare is not accepted) by the key of the partition certificates.
 * 3. Two partition certificates with that key: the manufacturer's (main path, issued by a card
 *    certificate in the evidence) and the owner's (an additional path the verifier validates to
 *    an anchor with another key). Both must validate (§12.4 "Two chains for cloud HSMs").
 * 4. For a CSR: its key equals the blob's key, its signature verifies, its nonce meets the
 *    expected one (the blob has no nonce: freshness is possession only).
 *
 * @example
 * const verdict = createVerifier({ policy }).verify(
 *   { kind: 'cloud-hsm', attestation: fs.readFileSync('ec.dat.gz'), certificates }, { at });
 */
import { bytesEqual } from '../../core/bytes.js';
import { parseDer, TAG } from '../../core/der.js';
import { der } from '../../core/der-writer.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import type { AlgorithmIdentifier, Certificate } from '../../pki/certificate.js';
import { verifyCsrSignature } from '../../pki/csr.js';
import { describeKey } from '../../pki/keys.js';
import type { PathQuirk } from '../../pki/path.js';
import { verifySignature } from '../../pki/signature.js';
import { catalogEntry } from '../../trust/catalog/lookup.js';
import type { AttestationFormat, Claims, EvidenceInput, FormatContext, FormatResult } from '../types.js';
import {
  decodeAttestationBytes,
  describeMarvellKey,
  type MarvellAttestation,
  type MarvellKey,
  parseMarvellAttestation,
} from './blob.js';

export * from './blob.js';

export const CLOUD_HSM_FORMAT_ID = 'cloud-hsm' as const;

/** CSR attestation statement type carrying a cloud HSM blob (`stmt` = OCTET STRING of the blob). */
export const CLOUD_HSM_STATEMENT_TYPE: string = OID.cloudHsmStatementType;

/** The anchor catalogue's ids for the two roots (src/trust/catalog/entries.ts). */
export const CLOUD_HSM_ANCHOR_IDS = {
  /** Cavium "localca.liquidsecurity.cavium.com" (X.509 v1, expired 2025-11-16). */
  manufacturerRoot: 'cavium-liquidsecurity-root',
  /** Google "Hawksbill Root v1 prod". */
  ownerRoot: 'google-hawksbill-root-v1-prod',
} as const;

function catalogKey(id: string): string {
  const entry = catalogEntry(id);
  if (!entry) throw new Error(`anchor catalogue has no entry ${id}`); // a build defect, not input
  return entry.spkiSha256;
}

/**
 * The Cavium card certificate (position 1, the partition certificate's issuer) and the Cavium
 * root certificate (position 2) are X.509 v1: no basicConstraints, where RFC 5280 §6.1.4 (k)
 * wants cA TRUE on every issuer. Accepted only on paths ending at the Cavium root key.
 */
export const CLOUD_HSM_PATH_QUIRKS: readonly PathQuirk[] = [
  {
    id: 'cavium-v1-card-certificate',
    relax: 'ca-flag-missing',
    position: 1,
    anchorSpkiSha256: [catalogKey(CLOUD_HSM_ANCHOR_IDS.manufacturerRoot)],
  },
  {
    id: 'cavium-v1-root-certificate',
    relax: 'ca-flag-missing',
    position: 2,
    anchorSpkiSha256: [catalogKey(CLOUD_HSM_ANCHOR_IDS.manufacturerRoot)],
  },
];

/** Most certificates one cloud HSM evidence may carry (Cloud KMS delivers 6). */
const MAX_CERTIFICATES = 12;

/** sha256WithRSAEncryption, parameters NULL (RFC 4055 §5). */
const SHA256_RSA: AlgorithmIdentifier = (() => {
  const params = der.null();
  return { oid: OID.sha256WithRSA, params, der: der.seq(der.oid(OID.sha256WithRSA), params) };
})();

/** Verify the blob's trailing signature with `spki` (RSASSA-PKCS1-v1_5, SHA-256; §12.2). */
export function verifyBlobSignature(
  att: MarvellAttestation,
  spki: Uint8Array,
  ctx: Pick<FormatContext, 'keyCache'> = {},
): boolean {
  if (describeKey(spki).keyAlgorithm !== 'rsa') return false;
  return verifySignature(SHA256_RSA, att.signedData, att.signature, spki, {
    ...(ctx.keyCache ? { cache: ctx.keyCache } : {}),
  });
}

/** The result of the format-level checks, before path validation. */
export interface CloudHsmEvidence {
  readonly attestation: MarvellAttestation;
  readonly key: MarvellKey;
  /** The partition certificate issued by a card certificate of the evidence (manufacturer chain). */
  readonly manufacturerPartition: Certificate;
  /** The other partition certificate with the same key (owner chain). */
  readonly ownerPartition: Certificate;
}

function sameName(a: Certificate['subject'], b: Certificate['subject']): boolean {
  return bytesEqual(a.der, b.der);
}

/**
 * Parse the blob, find the partition certificates whose key signed it, and sort them into the
 * manufacturer and owner chains. Name matching only orders the two; trust comes from both
 * paths validating to different anchor keys.
 */
export function checkCloudHsmEvidence(
  attestationBytes: Uint8Array,
  certificates: readonly Certificate[],
  ctx: Pick<FormatContext, 'keyCache'> = {},
): CloudHsmEvidence {
  const attestation = parseMarvellAttestation(decodeAttestationBytes(attestationBytes));
  const key = describeMarvellKey(attestation);
  const certs = certificates.filter((c, i) => certificates.findIndex((o) => bytesEqual(o.der, c.der)) === i);
  if (certs.length > MAX_CERTIFICATES) {
    fail('DER_LIMIT_EXCEEDED', `more than ${MAX_CERTIFICATES} certificates in cloud HSM evidence`, {
      count: certs.length,
    });
  }
  // Candidates: certificates that issue none of the others (leaves). Each RSA key is tried once.
  const leaves = certs.filter(
    (c) => !c.selfIssued && !certs.some((o) => o !== c && sameName(o.issuer, c.subject)),
  );
  const verdicts = new Map<string, boolean>();
  const signers = leaves.filter((c) => {
    let ok = verdicts.get(c.spkiSha256);
    if (ok === undefined) {
      ok = verifyBlobSignature(attestation, c.spki, ctx);
      verdicts.set(c.spkiSha256, ok);
    }
    return ok;
  });
  if (signers.length === 0) {
    fail(
      'SIGNATURE_INVALID',
      'the cloud HSM attestation signature does not verify with any partition certificate of the evidence',
      { candidates: leaves.length },
    );
  }
  const byCard = signers.filter((c) => certs.some((o) => !o.selfIssued && sameName(o.subject, c.issuer)));
  const others = signers.filter((c) => !byCard.includes(c));
  if (byCard.length !== 1 || others.length !== 1) {
    fail(
      'ATTESTATION_INVALID',
      `expected two partition certificates for the signing key (manufacturer and owner), found ${byCard.length} + ${others.length}`,
      { manufacturer: byCard.length, owner: others.length },
    );
  }
  return { attestation, key, manufacturerPartition: byCard[0]!, ownerPartition: others[0]! };
}

/** Normalised claims (§12.3 step 3, §12.4: LOCAL → generatedOnDevice, never-extractable → nonExportable). */
export function claimsFromMarvellKey(key: MarvellKey, spki: Uint8Array): Claims {
  const described = describeKey(spki);
  return {
    keyAlgorithm: described.keyAlgorithm,
    keySize: described.keySize,
    generatedOnDevice: key.local,
    // Non-exportable only when the key is not extractable now and never was (PKCS#11 §4.9).
    nonExportable: key.neverExtractable && !key.extractable,
    extractable: key.extractable,
    neverExtractable: key.neverExtractable,
    sensitive: key.sensitive,
    ...(key.alwaysSensitive === undefined ? {} : { alwaysSensitive: key.alwaysSensitive }),
    securityLevel: 'secure-element',
  };
}

/** The statement's blob: OCTET STRING (the blob bytes, gzip or raw). */
export function decodeCloudHsmStatement(stmt: Uint8Array): Uint8Array {
  try {
    const tlv = parseDer(stmt, { maxBytes: 128 * 1024 });
    if (tlv.tag !== TAG.OCTET_STRING || tlv.end - tlv.valueStart === 0) {
      fail('ATTESTATION_MALFORMED', 'cloud HSM statement must be a non-empty OCTET STRING (the blob)');
    }
    return stmt.slice(tlv.valueStart, tlv.end);
  } catch (err) {
    if (isProvenanceError(err) && err.code.startsWith('DER_')) {
      fail('ATTESTATION_MALFORMED', `cloud HSM statement: ${err.message}`);
    }
    throw err;
  }
}

/** Encode a blob as the CSR statement value. */
export function encodeCloudHsmStatement(blob: Uint8Array): Uint8Array {
  return der.octets(blob);
}

function statementsOf(input: EvidenceInput) {
  return input.kind === 'csr'
    ? (input.csr.attestation?.statements.filter((s) => s.type === CLOUD_HSM_STATEMENT_TYPE) ?? [])
    : [];
}

export const cloudHsmFormat: AttestationFormat = {
  id: CLOUD_HSM_FORMAT_ID,
  pathOptions: { profile: 'default', quirks: CLOUD_HSM_PATH_QUIRKS },

  detect(input: EvidenceInput): boolean {
    if (input.kind === 'cloud-hsm') return true;
    return statementsOf(input).length > 0;
  },

  verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
    let blob: Uint8Array;
    let certificates: readonly Certificate[];
    if (input.kind === 'cloud-hsm') {
      blob = input.attestation;
      certificates = input.certificates;
    } else if (input.kind === 'csr') {
      const statements = statementsOf(input);
      if (statements.length !== 1) {
        fail('ATTESTATION_MALFORMED', `${statements.length} cloud HSM statements in one CSR: expected one`);
      }
      blob = decodeCloudHsmStatement(statements[0]!.stmt);
      certificates = [...(input.csr.attestation?.certificates ?? []), ...input.certificates];
    } else {
      return fail('ATTESTATION_MISSING', 'no cloud HSM attestation in the evidence');
    }
    const ev = checkCloudHsmEvidence(blob, certificates, ctx);
    const spki = ev.key.spki;
    if (spki === null) {
      fail(
        'ATTESTATION_INVALID',
        `the attestation is for a ${ev.key.keyAlgorithm} secret key: there is no public key to certify`,
        { keyAlgorithm: ev.key.keyAlgorithm },
      );
    }

    let csrVerified = false;
    let nonce: Uint8Array | null = null;
    if (input.kind === 'csr') {
      // §12.3 step 2: the CSR key is the attested key, byte for byte (both are canonical DER).
      if (!bytesEqual(input.csr.spki, spki)) {
        fail('KEY_MISMATCH', 'the CSR key is not the key the cloud HSM attestation describes');
      }
      verifyCsrSignature(input.csr);
      nonce = input.csr.nonce;
      csrVerified = true;
    }
    // The blob carries no nonce: only a CSR signed by the key can meet an expected challenge.
    if (ctx.expectedNonce !== undefined) {
      if (nonce === null) {
        fail(
          'NONCE_MISSING',
          'cloud HSM attestations carry no nonce: send a CSR with the nonce attribute, signed by the key',
        );
      }
      if (!bytesEqual(nonce, ctx.expectedNonce)) {
        fail('NONCE_MISMATCH', 'the CSR nonce attribute differs from the expected challenge');
      }
    }
    const pool = certificates.filter((c) => c !== ev.manufacturerPartition && c !== ev.ownerPartition);
    return {
      format: CLOUD_HSM_FORMAT_ID,
      attestedKey: spki,
      signerChain: [ev.manufacturerPartition, ...pool],
      additionalPaths: [{ label: 'owner', leaf: ev.ownerPartition, intermediates: pool }],
      claims: claimsFromMarvellKey(ev.key, spki),
      freshness: nonce === null ? null : { nonce },
      freshnessKind: csrVerified ? 'possession' : 'none',
      quirks: [],
      csrVerified,
    };
  },
};
