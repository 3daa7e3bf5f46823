/**
 * `tpm` attestation (WebAuthn §8.3; standards §3.3 `tpm`, §2.2–2.3): a TPM AIK certifies the
 * credential key with TPM2_Certify. The statement carries the TPMT_PUBLIC of the credential key
 * (`pubArea`), the TPMS_ATTEST the AIK signed (`certInfo`), the raw signature (`sig`, under
 * COSE `alg`) and the AIK certificate chain (`x5c`).
 *
 * SHA-1: every real Windows Hello statement signs with RS1 (COSE -65535). SHA-1 collisions are
 * practical, so the default policy refuses it (ALGORITHM_NOT_ALLOWED, "rejected on purpose");
 * with `StatementContext.allowSha1` it is accepted and reported as the quirk `webauthn-rs1`.
 *
 * @example
 * const r = tpmStatement.verify(attStmt, authData, clientDataHash, { keyCache, allowSha1: false });
 * r.attestationType;   // 'attca'
 */

import { createHash } from 'node:crypto';
import { bytesEqual, toHex } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import type { Certificate } from '../../pki/certificate.js';
import type { KeyCache } from '../../pki/keys.js';
import { publicKeyObject } from '../../pki/keys.js';
import { checkAkCertificate, type TpmDeviceInfo } from '../tpm/certificates.js';
import {
  parseTpmsAttest,
  parseTpmtPublic,
  TPM_ALG,
  TPM_ST,
  type TpmtPublic,
  tpmName,
} from '../tpm/structures.js';
import type { Claims, QuirkReport } from '../types.js';
import { type CborValue, cborBytes, cborInt } from './cbor.js';
import { stmtMap } from './containers.js';
import { COSE_ALG, coseAlgHash, coseAlgName, verifyCose } from './cose.js';
import { checkAaguidExtension, readX5c, requireAttested, signedData } from './helpers.js';
import type { AuthenticatorData, StatementContext, StatementResult, StatementVerifier } from './types.js';

const KNOWN_MEMBERS = new Set(['ver', 'alg', 'x5c', 'sig', 'certInfo', 'pubArea']);

/** The quirk reported when an RS1 (SHA-1) AIK signature was accepted by policy. */
export const WEBAUTHN_RS1_QUIRK = 'webauthn-rs1';

/** Canonical DER SPKI of a key, so two encodings of one key compare equal. */
function canonicalSpki(spki: Uint8Array, cache: KeyCache | undefined): Uint8Array {
  const key = cache ? cache.get(spki) : publicKeyObject(spki);
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/**
 * WebAuthn §8.3 step "pubArea equals credentialPublicKey": the TPM key's parameters and unique
 * field must be the credential key. Compared as canonical SubjectPublicKeyInfo (RSA n and e;
 * ECC curve and point), which covers both.
 */
function checkPubArea(pub: TpmtPublic, credentialSpki: Uint8Array, cache: KeyCache | undefined): void {
  if (!bytesEqual(canonicalSpki(pub.spki, cache), canonicalSpki(credentialSpki, cache)))
    fail('KEY_MISMATCH', 'tpm pubArea key is not the credential public key (WebAuthn §8.3)', {
      pubAreaType: pub.type,
    });
}

/** Claims the TPM structures support (display data; the AIK chain is what vouches). */
function tpmClaims(pub: TpmtPublic, device: TpmDeviceInfo): Partial<Claims> {
  const a = pub.objectAttributes;
  return {
    securityLevel: 'secure-element',
    // TPMA_OBJECT (Part 2 §8.3): sensitiveDataOrigin = the TPM generated the private key;
    // fixedTPM + fixedParent = it cannot be duplicated out of this TPM.
    generatedOnDevice: a.sensitiveDataOrigin,
    nonExportable: a.fixedTPM && a.fixedParent,
    model: `${device.manufacturer ?? device.manufacturerId} ${device.model}`,
    firmware: device.version,
    tpmManufacturer: device.manufacturerId,
  };
}

/** The TPM members of a `tpm` statement, decoded from CBOR. */
export interface TpmCertifyParts {
  /** COSE algorithm of `sig`. */
  readonly alg: number;
  /** The AIK's signature over certInfo (raw: PKCS#1 v1.5 / PSS bytes or DER ECDSA). */
  readonly sig: Uint8Array;
  /** TPMS_ATTEST bytes. */
  readonly certInfo: Uint8Array;
  /** TPMT_PUBLIC bytes of the credential key. */
  readonly pubArea: Uint8Array;
}

/**
 * WebAuthn §8.3 verification steps 2–4 without the certificate: pubArea is the credential key,
 * certInfo is a TPM_ST_ATTEST_CERTIFY of pubArea's Name whose extraData is
 * H_alg(authData ‖ clientDataHash), and `aikSpki` signed it under `alg` (RS1 only with
 * `ctx.allowSha1`, then reported as `webauthn-rs1`). Throws KEY_MISMATCH, NONCE_MISMATCH,
 * ATTESTATION_INVALID, TPM_MALFORMED, ALGORITHM_NOT_ALLOWED or SIGNATURE_INVALID.
 */
export function verifyTpmCertify(
  parts: TpmCertifyParts,
  authData: AuthenticatorData,
  clientDataHash: Uint8Array,
  aikSpki: Uint8Array,
  ctx: StatementContext,
): { pub: TpmtPublic; quirks: QuirkReport[] } {
  const attested = requireAttested(authData, 'tpm');
  const { alg, sig } = parts;
  // Step 2: the key in pubArea is the credential public key.
  const pub = parseTpmtPublic(parts.pubArea);
  checkPubArea(pub, attested.publicKey.spki, ctx.keyCache);

  // Step 4: certInfo is a TPM-generated TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY
  // (parseTpmsAttest checks magic == TPM_GENERATED_VALUE, Part 2 §10.12.12).
  const certInfo = parseTpmsAttest(parts.certInfo);
  if (certInfo.type !== TPM_ST.ATTEST_CERTIFY || certInfo.attested.kind !== 'certify')
    fail(
      'ATTESTATION_INVALID',
      `tpm certInfo type 0x${certInfo.type.toString(16)} is not TPM_ST_ATTEST_CERTIFY`,
    );
  // RS1 only when the policy allows SHA-1 (checked before any SHA-1 digest is trusted).
  if (alg === COSE_ALG.RS1 && ctx.allowSha1 !== true)
    fail(
      'ALGORITHM_NOT_ALLOWED',
      'tpm statement signed with RS1 (RSASSA-PKCS1-v1_5 SHA-1): refused by the algorithm policy (allow SHA-1 to accept Windows TPMs)',
      { alg, quirk: WEBAUTHN_RS1_QUIRK },
    );
  // extraData = H_alg(attToBeSigned), the hash of the signature algorithm: the challenge binding.
  const hash = coseAlgHash(alg);
  if (hash === null) return fail('ATTESTATION_INVALID', `tpm alg ${coseAlgName(alg)} has no hash`);
  const expected = new Uint8Array(createHash(hash).update(signedData(authData, clientDataHash)).digest());
  if (!bytesEqual(certInfo.extraData, expected))
    fail('NONCE_MISMATCH', `tpm certInfo.extraData is not ${hash}(authData ‖ clientDataHash)`, {
      extraData: toHex(certInfo.extraData),
    });
  // A SHA-1 Name binds pubArea only as strongly as SHA-1 resists collisions: policy decides.
  if (pub.nameAlg === TPM_ALG.SHA1 && ctx.allowSha1 !== true)
    fail('ALGORITHM_NOT_ALLOWED', 'tpm pubArea has a SHA-1 Name (nameAlg): refused by the algorithm policy');
  // attested.name is the Name of pubArea under pubArea.nameAlg (Part 1 §16): the AIK certified
  // exactly this key.
  const name = tpmName(pub.bytes, pub.nameAlg);
  if (!bytesEqual(certInfo.attested.name, name))
    fail('KEY_MISMATCH', 'tpm certInfo.attested.name is not the Name of pubArea', {
      attested: toHex(certInfo.attested.name),
      pubArea: toHex(name),
    });

  // Step 3: the AIK signed certInfo with alg.
  if (!verifyCose(alg, parts.certInfo, sig, aikSpki, { cache: ctx.keyCache, allowSha1: ctx.allowSha1 }))
    fail('SIGNATURE_INVALID', `tpm AIK signature (${coseAlgName(alg)}) over certInfo does not verify`);
  const quirks: QuirkReport[] = [];
  if (pub.nameAlg === TPM_ALG.SHA1)
    quirks.push({
      id: 'webauthn-tpm-sha1-name',
      position: 0,
      detail: 'pubArea has a SHA-1 Name; accepted because the policy allows SHA-1',
    });
  if (alg === COSE_ALG.RS1)
    quirks.push({
      id: WEBAUTHN_RS1_QUIRK,
      position: 1,
      detail: 'the AIK signed certInfo with RS1 (SHA-1); accepted because the policy allows SHA-1',
    });
  return { pub, quirks };
}

/** The `tpm` statement verifier (WebAuthn §8.3). */
export const tpmStatement: StatementVerifier = {
  fmt: 'tpm',
  verify(
    stmt: CborValue,
    authData: AuthenticatorData,
    clientDataHash: Uint8Array,
    ctx: StatementContext,
  ): StatementResult {
    const m = stmtMap(stmt, 'tpm');
    for (const k of m.keys()) {
      if (k === 'ecdaaKeyId')
        fail('ALGORITHM_UNSUPPORTED', 'tpm ECDAA attestation is not supported (removed in WebAuthn L2)');
      if (typeof k !== 'string' || !KNOWN_MEMBERS.has(k))
        fail('ATTESTATION_MALFORMED', `tpm attStmt has an unknown member ${JSON.stringify(k)}`);
    }
    const ver = m.get('ver');
    if (typeof ver !== 'string') fail('ATTESTATION_MALFORMED', 'tpm ver must be a text string');
    // §8.3 verification step 1: only TPM 2.0 is defined.
    if (ver !== '2.0') fail('ATTESTATION_INVALID', `tpm ver "${ver}" is not "2.0"`, { ver });
    const alg = cborInt(m.get('alg'), 'tpm alg');
    const sig = cborBytes(m.get('sig'), 'tpm sig');
    const certInfoBytes = cborBytes(m.get('certInfo'), 'tpm certInfo');
    const pubAreaBytes = cborBytes(m.get('pubArea'), 'tpm pubArea');
    // x5c is required: ECDAA is gone, so there is no other way to carry the AIK (§8.3 step 4).
    if (!m.has('x5c')) fail('ATTESTATION_MALFORMED', 'tpm attStmt has no x5c');
    const x5c = readX5c(m.get('x5c'), 'tpm');
    const attested = requireAttested(authData, 'tpm');

    const { pub, quirks } = verifyTpmCertify(
      { alg, sig, certInfo: certInfoBytes, pubArea: pubAreaBytes },
      authData,
      clientDataHash,
      x5c[0]!.spki,
      ctx,
    );
    const aik: Certificate = x5c[0]!;

    // §8.3.1 AIK certificate requirements: v3, empty subject, critical TPM SAN directoryName,
    // EKU tcg-kp-AIKCertificate (2.23.133.8.3), CA false.
    const device = checkAkCertificate(aik);
    // §8.3.1: an AAGUID extension, when present, must equal authData's AAGUID.
    checkAaguidExtension(aik, attested.aaguid);

    return {
      attestationType: 'attca',
      trustPath: x5c,
      claims: tpmClaims(pub, device),
      quirks,
      // The AIK SAN is critical (empty subject); checkAkCertificate has checked its whole content.
      pathOptions: { profile: 'default', understoodCriticalExtensions: [OID.subjectAltName] },
    };
  },
};
