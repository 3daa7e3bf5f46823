/**
 * Raw TPM2_Certify for tpm2-tools releases whose `tpm2_certify` cannot take qualifying data
 * (tpm2-tools 5.4 on Debian bookworm has no `-q`): the command is marshalled here and sent with
 * `tpm2_send`. Layouts: TPM 2.0 Library Part 3 §18.2 (TPM2_Certify), Part 1 §18.6 (command and
 * response headers), Part 2 §10.4.5 (TPM2B_DATA).
 */
import { fail } from '../../core/errors.js';

/** TPM_CC_Certify (Part 2 §6.5.2). */
export const TPM_CC_CERTIFY = 0x00000148;
/** TPM_RS_PW: the password authorisation "session" (Part 2 §7.4). */
const TPM_RS_PW = 0x40000009;
const TPM_ST_SESSIONS = 0x8002;
const TPM_ALG_NULL = 0x0010;
/** sizeof(TPMT_HA) for SHA-512: the largest TPM2B_DATA a TPM accepts (Part 2 §10.4.3). */
export const MAX_QUALIFYING_DATA = 66;

/**
 * TPM2_Certify(objectHandle, signHandle, qualifyingData, inScheme = NULL) with two empty
 * password authorisations (both keys have userWithAuth and an empty authValue).
 *
 * @example
 * const cmd = encodeCertifyCommand(0x80000000, 0x80000001, nonce);
 */
export function encodeCertifyCommand(
  objectHandle: number,
  signHandle: number,
  qualifyingData: Uint8Array,
): Uint8Array {
  if (qualifyingData.length > MAX_QUALIFYING_DATA)
    fail('USAGE', `qualifying data is ${qualifyingData.length} bytes, more than ${MAX_QUALIFYING_DATA}`);
  // TPMS_AUTH_COMMAND: sessionHandle u32, nonce TPM2B (empty), attributes u8, hmac TPM2B (empty).
  const pw = [u32(TPM_RS_PW), u16(0), [0], u16(0)].flat();
  const auth = [...pw, ...pw];
  const params = [...u16(qualifyingData.length), ...qualifyingData, ...u16(TPM_ALG_NULL)];
  const body = [...u32(objectHandle), ...u32(signHandle), ...u32(auth.length), ...auth, ...params];
  return new Uint8Array([...u16(TPM_ST_SESSIONS), ...u32(10 + body.length), ...u32(TPM_CC_CERTIFY), ...body]);
}

/** TPM2_Certify's answer: the TPMS_ATTEST bytes and the TPMT_SIGNATURE bytes. */
export interface CertifyResponse {
  readonly attest: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Split a TPM2_Certify response. A TPM error code becomes TPM_TOOL_FAILED (with `rc` in hex);
 * a response that does not add up becomes TPM_MALFORMED.
 */
export function decodeCertifyResponse(bytes: Uint8Array): CertifyResponse {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 10) fail('TPM_MALFORMED', 'TPM2_Certify response shorter than its header');
  const size = view.getUint32(2);
  const rc = view.getUint32(6);
  if (size !== bytes.length)
    fail('TPM_MALFORMED', `TPM2_Certify response says ${size} bytes, has ${bytes.length}`);
  if (rc !== 0)
    fail('TPM_TOOL_FAILED', `the TPM refused TPM2_Certify (rc 0x${rc.toString(16).padStart(8, '0')})`, {
      rc: `0x${rc.toString(16).padStart(8, '0')}`,
    });
  if (view.getUint16(0) !== TPM_ST_SESSIONS || bytes.length < 14)
    fail('TPM_MALFORMED', 'TPM2_Certify response without the sessions tag');
  const paramSize = view.getUint32(10);
  const end = 14 + paramSize;
  if (end > bytes.length) fail('TPM_MALFORMED', 'TPM2_Certify parameters run past the response');
  let at = 14;
  const take2b = (what: string): Uint8Array => {
    if (at + 2 > end) fail('TPM_MALFORMED', `TPM2_Certify ${what} truncated`);
    const n = view.getUint16(at);
    if (at + 2 + n > end) fail('TPM_MALFORMED', `TPM2_Certify ${what} truncated`);
    const out = bytes.slice(at + 2, at + 2 + n);
    at += 2 + n;
    return out;
  };
  const attest = take2b('certifyInfo');
  // TPMT_SIGNATURE is the rest of the parameter area; its inner layout is the verifier's job.
  const signature = bytes.slice(at, end);
  if (signature.length < 2) fail('TPM_MALFORMED', 'TPM2_Certify signature missing');
  return { attest, signature };
}

function u16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
