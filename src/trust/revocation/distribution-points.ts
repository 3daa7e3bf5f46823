/**
 * The cRLDistributionPoints extension (RFC 5280 §4.2.1.13): where a certificate's CRL is.
 *
 * ```asn1
 * CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
 * DistributionPoint ::= SEQUENCE {
 *   distributionPoint [0] DistributionPointName OPTIONAL,
 *   reasons           [1] ReasonFlags OPTIONAL,
 *   cRLIssuer         [2] GeneralNames OPTIONAL }
 * DistributionPointName ::= CHOICE {
 *   fullName                [0] GeneralNames,
 *   nameRelativeToCRLIssuer [1] RelativeDistinguishedName }
 * ```
 *
 * Only complete, direct CRLs are usable here: a point with `reasons` (a partitioned CRL) or a
 * `cRLIssuer` (an indirect CRL) is skipped, as is anything but an http(s) URI, so a
 * certificate served only by those is "not covered" (unavailable under `require`).
 *
 * @example
 * crlUrls(certificate)   // ['http://crl.example/maker.crl']
 */
import { children, contextTag, expectTag, parseDer, TAG } from '../../core/der.js';
import { fail } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { type Certificate, decodeExtension } from '../../pki/certificate.js';
import { parseGeneralName } from '../../pki/general-names.js';

/** Most distribution points read from one extension. */
const MAX_POINTS = 16;

/** The http(s) URLs of the complete, direct CRLs a certificate names; [] when it names none. */
export function crlUrls(cert: Certificate): string[] {
  const ext = cert.extension(OID.crlDistributionPoints);
  if (!ext) return [];
  return decodeExtension(ext, parseDistributionPoints);
}

/** Decode the extension value; EXTENSION_MALFORMED (through decodeExtension) for bad DER. */
export function parseDistributionPoints(value: Uint8Array): string[] {
  const root = expectTag(parseDer(value), TAG.SEQUENCE, 'CRLDistributionPoints');
  const points = children(value, root);
  if (points.length === 0) fail('EXTENSION_MALFORMED', 'CRLDistributionPoints is empty');
  const urls: string[] = [];
  for (const point of points.slice(0, MAX_POINTS)) {
    expectTag(point, TAG.SEQUENCE, 'DistributionPoint');
    const parts = children(value, point);
    const name = parts.find((p) => p.tag === contextTag(0, true));
    // reasons [1] or cRLIssuer [2]: a partial or indirect CRL, not one we can rely on alone.
    if (parts.some((p) => p.tag === contextTag(1, false) || p.tag === contextTag(2, true))) continue;
    if (!name) continue;
    const [choice] = children(value, name, 1);
    if (choice?.tag !== contextTag(0, true)) continue; // nameRelativeToCRLIssuer: no URL
    for (const gn of children(value, choice)) {
      const general = parseGeneralName(value, gn);
      if (general.type === 'uniformResourceIdentifier' && /^https?:\/\//i.test(general.value))
        urls.push(general.value);
    }
  }
  return [...new Set(urls)];
}
