/**
 * TPM 2.0 (MANIFEST.md §4) through the TPM toolkit the `tpm` format is built from:
 * - the six Windows Hello TPM2_Certify samples: TPMS_ATTEST parsed, Name(pubArea) certified,
 *   extraData = H(authData ‖ clientDataHash) (WebAuthn §8.3), then the AIK signature with the
 *   default algorithm policy — which refuses their SHA-1 (RS1), so they are refused on purpose;
 *   their AIK chains validate to the Microsoft TPM Root CA 2014 with the AK profile check;
 * - EK certificates (Infineon SLB 9670, GCE vTPM EK/AK) validate to their manufacturer roots
 *   with the `tpm` format's path options; the corrupted EK certificate is refused;
 * - keylime's TPM2_Quote verifies with its AK; ak.pub's Name equals ak.name;
 * - every CA certificate of the manufacturer stores parses; other files parse with the strict
 *   TPM structure readers (or are opaque tool output, documented in the expectations).
 */
import { bytesEqual, fromHex, toHex } from '../../src/core/bytes.js';
import { fail } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import {
  checkAkCertificate,
  checkEkCertificate,
  inspectTpmCertificate,
} from '../../src/formats/tpm/certificates.js';
import { tpmFormat } from '../../src/formats/tpm/index.js';
import {
  parseTpmsAttest,
  parseTpmtPublic,
  parseTpmtSignature,
  TPM_ALG,
  type TpmtSignature,
  tpmHash,
  tpmName,
  unwrapTpm2bPublic,
  verifyTpmSignature,
} from '../../src/formats/tpm/structures.js';
import { anchorFromCertificate } from '../../src/pki/anchor.js';
import { type Certificate, parseCertificate } from '../../src/pki/certificate.js';
import { describeKey } from '../../src/pki/keys.js';
import { validatePath } from '../../src/pki/path.js';
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

const T = 'tpm/';
const CERTIFY = `${T}webauthn-tpm2-certify/`;
const MS_ROOT = `${T}simplewebauthn/microsoft-tpm-root-ca-2014.pem`;
const pathOptions = tpmFormat.pathOptions ?? {};

function atOf(exp: Expectation | null): number {
  if (exp?.at === undefined) return fail('USAGE', 'this vector needs a pinned time in the expectations');
  return exp.at;
}

/** WebAuthn tpm statement parts: extraData binding, certified Name, then the AIK signature. */
function certifySample(v: Vectors, dir: string): Actual {
  const meta = v.json<{ alg?: number; authData_hex?: string; clientDataHash_hex?: string }>(
    `${dir}/meta.json`,
  );
  const certInfo = v.bytes(`${dir}/certInfo_TPMS_ATTEST.bin`);
  const pubArea = v.bytes(`${dir}/pubArea_TPMT_PUBLIC.bin`);
  const attest = parseTpmsAttest(certInfo);
  const pub = parseTpmtPublic(pubArea);
  if (attest.attested.kind !== 'certify') fail('TPM_MALFORMED', 'TPMS_ATTEST is not a certify structure');
  if (!bytesEqual(attest.attested.name, tpmName(pubArea, pub.nameAlg)))
    fail('TPM_NAME_MISMATCH', 'certInfo does not certify Name(pubArea)');
  // WebAuthn §8.3.2: extraData = hash(alg)(authData ‖ clientDataHash); alg -65535 is RS1 (SHA-1).
  const hashAlg = meta.alg === -65535 ? TPM_ALG.SHA1 : TPM_ALG.SHA256;
  const toSign = Buffer.concat([fromHex(meta.authData_hex ?? ''), fromHex(meta.clientDataHash_hex ?? '')]);
  if (!bytesEqual(attest.extraData, tpmHash(hashAlg, toSign)))
    fail('NONCE_MISMATCH', 'extraData is not the hash of authData ‖ clientDataHash');
  const aik = v.cert(`${dir}/aik-chain.pem`);
  const sig: TpmtSignature = {
    sigAlg: TPM_ALG.RSASSA,
    hashAlg,
    signature: v.bytes(`${dir}/sig.bin`),
    bytes: new Uint8Array(),
  };
  // The default algorithm policy: SHA-1 signatures are refused (ALGORITHM_NOT_ALLOWED).
  if (!verifyTpmSignature(sig, certInfo, aik.spki))
    fail('SIGNATURE_INVALID', 'the AIK signature does not verify');
  return { outcome: 'accept', message: 'extraData, Name and AIK signature verify' };
}

function aikChain(v: Vectors, file: string, at: number): Actual {
  const chain = v.certs(file);
  const device = checkAkCertificate(chain[0]!);
  const path = validatePath(chain[0]!, {
    ...pathOptions,
    anchors: [anchorFromCertificate(v.cert(MS_ROOT), { id: 'microsoft-tpm-root-2014', formats: ['tpm'] })],
    intermediates: chain.slice(1),
    time: at,
  });
  return { outcome: 'accept', message: `${device.manufacturer} AIK under ${path.anchor.id}` };
}

function gce(v: Vectors, file: string, at: number): Actual {
  const cert = v.cert(file);
  const g = `${T}go-tpm-tools/`;
  const anchors = [
    anchorFromCertificate(v.cert(`${g}gcp_ek_ak_ca_root.crt`), { id: 'gce-ek-ak-root', formats: ['tpm'] }),
    anchorFromCertificate(v.cert(`${g}tpm_ek_root_1.cer`), { id: 'gce-tpm-ek-root-1', formats: ['tpm'] }),
  ];
  const intermediates = [
    'gcp_ek_ak_ca_intermediate_v3.crt',
    'tpm_ek_intermediate_2.crt',
    'tpm_ek_intermediate_3.crt',
  ].flatMap((f) => v.certs(g + f));
  const path = validatePath(cert, { ...pathOptions, anchors, intermediates, time: at });
  const report = inspectTpmCertificate(cert, file.includes('_sign_') ? 'ak' : 'ek');
  const dev = report.violations.length ? `; profile deviations: ${report.violations.join(', ')}` : '';
  return { outcome: 'accept', message: `under ${path.anchor.id}${dev}` };
}

function infineonEk(v: Vectors, file: string, at: number): Actual {
  const ek = v.cert(file);
  const device = checkEkCertificate(ek);
  const path = validatePath(ek, {
    ...pathOptions,
    anchors: [
      anchorFromCertificate(v.cert(`${T}keylime-tpm_cert_store/INF_RSA_010RT.pem`), {
        id: 'infineon-optiga-rsa-root',
        formats: ['tpm'],
      }),
    ],
    intermediates: v.certs(`${T}intel-secl/EndorsementCA-external.pem`),
    time: at,
  });
  return { outcome: 'accept', message: `${device.manufacturer} ${device.model} under ${path.anchor.id}` };
}

/** keylime TPM2_Quote: TPMS_ATTEST signed by the AK (TPMT_SIGNATURE in quotesig.out). */
function keylimeQuote(v: Vectors): Actual {
  const d = `${T}keylime-test-data/`;
  const quote = v.bytes(`${d}quote.out`);
  // The project parses CERTIFY and CREATION attestations only (enrollment never takes a quote):
  // check the TPMS_ATTEST header (magic, TPM_ST_ATTEST_QUOTE) and verify the signature over it.
  const dv = new DataView(quote.buffer, quote.byteOffset, quote.length);
  if (quote.length < 6 || dv.getUint32(0) !== 0xff544347 || dv.getUint16(4) !== 0x8018)
    fail('TPM_MALFORMED', 'quote.out is not a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE');
  const sig = parseTpmtSignature(v.bytes(`${d}quotesig.out`));
  const ak = decodePem(v.text(`${d}akpub.pem`))[0]!.der;
  if (!verifyTpmSignature(sig, quote, ak)) fail('SIGNATURE_INVALID', 'the quote signature does not verify');
  return { outcome: 'accept', message: 'TPM2_Quote header and AK signature verify (quote body not parsed)' };
}

/** keylime ak.pub: TPM2B_PUBLIC whose Name is ak.name, a restricted signing key, = akpub.pem. */
function keylimeAk(v: Vectors): Actual {
  const d = `${T}keylime-test-data/`;
  const pub = unwrapTpm2bPublic(v.bytes(`${d}ak.pub`));
  const parsed = parseTpmtPublic(pub);
  if (!bytesEqual(tpmName(pub, parsed.nameAlg), v.bytes(`${d}ak.name`)))
    fail('TPM_NAME_MISMATCH', 'Name(ak.pub) is not ak.name');
  if (!(parsed.objectAttributes.restricted && parsed.objectAttributes.sign))
    fail('TPM_AK_NOT_RESTRICTED', 'the AK is not a restricted signing key');
  if (toHex(parsed.spki) !== toHex(decodePem(v.text(`${d}akpub.pem`))[0]!.der))
    fail('KEY_MISMATCH', 'akpub.pem is not ak.pub');
  return { outcome: 'accept', message: 'Name(ak.pub) = ak.name; restricted signing key' };
}

/** tpm2-tools credential file: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
function mkcred(bytes: Uint8Array): Actual {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes.length < 12 || dv.getUint32(0) !== 0xbadcc0de || dv.getUint32(4) !== 1)
    fail('TPM_MALFORMED', 'not a tpm2-tools credential file');
  let pos = 8;
  for (let i = 0; i < 2; i++) {
    if (pos + 2 > bytes.length) fail('TPM_MALFORMED', 'truncated TPM2B');
    pos += 2 + dv.getUint16(pos);
  }
  if (pos !== bytes.length) fail('TPM_MALFORMED', `${bytes.length - pos} trailing bytes`);
  return { outcome: 'parse', message: 'TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET' };
}

/** Run one tpm entry. */
export function runTpm(v: Vectors, file: string, exp: Expectation | null): Actual {
  return attempt(() => {
    if (file.startsWith(CERTIFY)) {
      const dir = file.slice(0, file.lastIndexOf('/'));
      const name = file.slice(dir.length + 1);
      if (name === 'certInfo_TPMS_ATTEST.bin' || name === 'sig.bin') return certifySample(v, dir);
      if (name === 'aik-chain.pem') return aikChain(v, file, atOf(exp));
      if (name === 'pubArea_TPMT_PUBLIC.bin') {
        const p = parseTpmtPublic(v.bytes(file));
        return { outcome: 'parse', message: `TPMT_PUBLIC, ${describeKey(p.spki).keyAlgorithm}` };
      }
      v.json(file);
      return { outcome: 'parse', message: 'JSON' };
    }
    if (file.startsWith(`${T}go-tpm-tools/gce-vtpm-certs/`)) return gce(v, file, atOf(exp));
    if (file === `${T}intel-secl/infineon-slb9670-ek-cert_optiga-rsa-mfr-ca-007.pem`)
      return infineonEk(v, file, atOf(exp));
    if (file.endsWith('.b64')) {
      parseCertificate(new Uint8Array(Buffer.from(v.text(file).trim(), 'base64')));
      return { outcome: 'parse', message: 'parsed' };
    }
    const k = `${T}keylime-test-data/`;
    if (file.startsWith(k)) {
      const name = file.slice(k.length);
      if (name === 'quote.out' || name === 'quotesig.out') return keylimeQuote(v);
      if (name === 'ak.pub' || name === 'ak.name') return keylimeAk(v);
      if (name === 'ek.pub') {
        const p = parseTpmtPublic(unwrapTpm2bPublic(v.bytes(file)));
        if (toHex(p.spki) !== toHex(decodePem(v.text(`${k}ekpub.pem`))[0]!.der))
          fail('KEY_MISMATCH', 'ekpub.pem is not ek.pub');
        return { outcome: 'parse', message: 'TPM2B_PUBLIC = ekpub.pem' };
      }
      if (name === 'akpub.pem' || name === 'ekpub.pem') {
        const d = describeKey(decodePem(v.text(file))[0]!.der);
        return { outcome: 'parse', message: `SubjectPublicKeyInfo, ${d.keyAlgorithm}` };
      }
      if (name === 'mkcred.out') return mkcred(v.bytes(file));
      if (name === 'quotepcr.out') {
        if (v.bytes(file).length === 0) fail('TPM_MALFORMED', 'empty');
        return { outcome: 'parse', message: 'opaque tpm2-tools PCR dump (host-endian, no parser)' };
      }
    }
    const certs: Certificate[] = v.certs(file);
    return { outcome: 'parse', message: `${certs.length} certificate(s)` };
  });
}
