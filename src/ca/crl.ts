/**
 * The issuing CA's certificate revocation list (RFC 5280 §5): X.509 v2, signed with the CA
 * key's algorithm, with authorityKeyIdentifier and cRLNumber, one reasonCode entry extension
 * per revoked certificate (omitted for 'unspecified', as RFC 5280 §5.3.1 asks). The service
 * regenerates it on every revocation and before `nextUpdate`; the CRL number comes from the
 * store's counter, so it only ever grows, across restarts and instances.
 *
 * @example
 * const der = buildCrl({ ca, revoked: await store.certificates.revoked(),
 *   thisUpdate: now, nextUpdate: now + 7 * 86_400_000, crlNumber: await store.nextCounter('crl-number') });
 */
import { fromHex } from '../core/bytes.js';
import { der } from '../core/der-writer.js';
import { fail } from '../core/errors.js';
import { OID } from '../core/oids.js';
import { buildExtension, encodeAuthorityKeyId } from '../pki/builder.js';
import { CRL_REASONS, type CrlReason } from '../pki/crl.js';
import type { IssuingCa, RevokedEntry } from './types.js';

/** Inputs of `buildCrl`. Times are ms since the epoch (encoded with seconds precision). */
export interface CrlRequest {
  readonly ca: IssuingCa;
  readonly revoked: readonly RevokedEntry[];
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  /** Monotonically increasing (RFC 5280 §5.2.3), 0 ≤ n < 2^159. */
  readonly crlNumber: number | bigint;
}

/**
 * Reasons an operator may give when revoking an issued certificate (RFC 5280 §5.3.1). Not
 * certificateHold: the service has no way back from a revocation, so a hold would be a lie;
 * not cACompromise or aACompromise (about CAs and attribute authorities), nor removeFromCRL
 * (delta CRLs only).
 */
export const REVOCATION_REASONS: readonly CrlReason[] = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
];

/** The CRL number's upper bound: 20 octets of a positive INTEGER (RFC 5280 §5.2.3). */
const MAX_CRL_NUMBER = (1n << 159n) - 1n;

/**
 * Build and sign the CRL; returns its DER. USAGE for an unknown reason, a malformed or
 * repeated serial, nextUpdate before thisUpdate, or a CRL number out of range.
 */
export function buildCrl(req: CrlRequest): Uint8Array {
  const { ca } = req;
  if (!(req.nextUpdate >= req.thisUpdate)) fail('USAGE', 'nextUpdate must not be before thisUpdate');
  const crlNumber = BigInt(req.crlNumber);
  if (crlNumber < 0n || crlNumber > MAX_CRL_NUMBER) fail('USAGE', `CRL number ${crlNumber} is out of range`);
  // RFC 5280 §4.2.1.1 / §5.2.1: the CRL names the signing key by the CA's subjectKeyIdentifier.
  const keyId = ca.certificate.subjectKeyId;
  if (!keyId) fail('CA_INVALID', 'the CA certificate has no subjectKeyIdentifier');

  const seen = new Set<string>();
  const entries = req.revoked.map((entry) => {
    const serial = parseSerial(entry.serial);
    if (seen.has(serial.hex)) fail('USAGE', `serial ${serial.hex} is listed twice`);
    seen.add(serial.hex);
    const reason = reasonCode(entry.reason);
    const parts = [der.uintBytes(serial.bytes), der.time(entry.revokedAt)];
    // RFC 5280 §5.3.1: "the reason code unspecified (0) SHOULD NOT be used": omit the extension.
    if (reason !== 0) parts.push(der.seq(buildExtension(OID.cRLReason, false, der.enumerated(reason))));
    return der.seq(...parts);
  });

  const tbs = der.seq(
    der.int(1), // v2 (RFC 5280 §5.1.2.1): MUST be present since the CRL has extensions
    ca.key.algorithm,
    ca.certificate.subject.der,
    der.time(req.thisUpdate),
    // RFC 5280 §5.1.2.5: "Conforming CRL issuers MUST include the nextUpdate time".
    der.time(req.nextUpdate),
    // RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked.
    ...(entries.length > 0 ? [der.seq(...entries)] : []),
    der.explicit(
      0,
      der.seq(
        // Both MUST be non-critical (RFC 5280 §5.2.1, §5.2.3).
        buildExtension(OID.authorityKeyIdentifier, false, encodeAuthorityKeyId(keyId)),
        buildExtension(OID.cRLNumber, false, der.int(crlNumber)),
      ),
    ),
  );
  const { algorithm, signature } = ca.key.sign(tbs);
  // RFC 5280 §5.1.1.2: signatureAlgorithm MUST equal TBSCertList.signature.
  if (Buffer.compare(algorithm, ca.key.algorithm) !== 0)
    fail('CA_INVALID', 'the CA key signed with another algorithm than the one it announced');
  return der.seq(tbs, algorithm, der.bitString(signature));
}

function reasonCode(reason: string): number {
  if (!(REVOCATION_REASONS as readonly string[]).includes(reason))
    fail('USAGE', `revocation reason "${reason}" is not one of ${REVOCATION_REASONS.join(', ')}`);
  return CRL_REASONS[reason as CrlReason];
}

/** A serial as stored (lower-case hex magnitude, no sign pad): 1 to 20 octets, not zero. */
function parseSerial(hex: string): { hex: string; bytes: Uint8Array } {
  if (!/^[0-9a-f]{1,40}$/.test(hex)) fail('USAGE', `serial "${hex}" is not 1 to 40 lower-case hex digits`);
  const bytes = fromHex(hex.length % 2 === 0 ? hex : `0${hex}`, 'serial');
  if (bytes.every((b) => b === 0)) fail('USAGE', 'serial 0 is not a certificate serial');
  return { hex, bytes };
}
