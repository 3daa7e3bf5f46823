/**
 * Revocation data named by a policy file: CRL files (DER or PEM "X509 CRL") and status list
 * files, parsed when the policy loads so a malformed file is reported at its line. Signatures
 * and currency are checked per path at verification time, against the issuer in that path.
 *
 * @example
 * const ref = crlFileRef('maker.crl', readFileSync('maker.crl'));
 * const list = statusListFileRef('status.json', readFileSync('status.json'));
 */
import { sha256Hex } from '../../core/bytes.js';
import { fail } from '../../core/errors.js';
import { decodePem, isPem } from '../../core/pem.js';
import { parseCrl } from '../../pki/crl.js';
import { crlSource } from './crl-source.js';
import { parseStatusList, statusListSource } from './status-list.js';
import type { CrlFileRef, StatusListRef } from './types.js';

/** Parse a CRL file (DER, or PEM with one "X509 CRL" block); CRL_MALFORMED, CRL_INVALID or PEM_MALFORMED. */
export function crlFileRef(file: string, bytes: Uint8Array): CrlFileRef {
  let der = bytes;
  if (isPem(bytes)) {
    const blocks = decodePem(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'));
    if (blocks.length !== 1 || blocks[0]!.label !== 'X509 CRL')
      fail('PEM_MALFORMED', 'a CRL file holds exactly one "X509 CRL" PEM block');
    der = blocks[0]!.der;
  }
  const crl = parseCrl(new Uint8Array(der));
  const name = `crl:${file}`;
  return { file, sha256: sha256Hex(der), source: crlSource([{ name, crl }], name) };
}

/** Parse a status list file (JSON, standards.md §4.4); STATUS_LIST_INVALID. */
export function statusListFileRef(file: string, bytes: Uint8Array): StatusListRef {
  const name = `android-status:${file}`;
  return {
    kind: 'file',
    file,
    sha256: sha256Hex(bytes),
    source: statusListSource(parseStatusList(bytes), name),
  };
}

/** A statusList value from the policy: an https URL, or a file path. */
export function isStatusListUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
}
