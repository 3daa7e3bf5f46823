/**
 * Certificates from a file's bytes: PEM (one or more CERTIFICATE blocks, nothing else) or a
 * single DER certificate. Used for trust and allow entries given as files.
 *
 * @example
 * const [root] = parseCertificateBundle(fs.readFileSync('root.pem'));
 */
import { fail } from '../core/errors.js';
import { decodePem, isPem } from '../core/pem.js';
import { type Certificate, parseCertificate } from './certificate.js';

export function parseCertificateBundle(bytes: Uint8Array): Certificate[] {
  if (!isPem(bytes)) return [parseCertificate(new Uint8Array(bytes))];
  const blocks = decodePem(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'));
  const other = blocks.find((b) => b.label !== 'CERTIFICATE');
  if (other) fail('PEM_MALFORMED', `it holds a "${other.label}" block; only CERTIFICATE blocks belong here`);
  if (blocks.length === 0) fail('PEM_MALFORMED', 'it holds no PEM block');
  return blocks.map((b) => parseCertificate(b.der));
}
