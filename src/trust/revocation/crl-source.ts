/**
 * CRLs as a revocation source (RFC 5280 §6.3): for each certificate of the path whose issuer
 * is also in the path, the CRLs named for that issuer are checked against it (`verifyCrl`:
 * issuer name, cRLSign, authorityKeyIdentifier, signature, and currency at the verification
 * time: thisUpdate ≤ time ≤ nextUpdate). A CRL that fails any of those checks yields
 * 'unknown' with the failure's code: it never counts as "not revoked".
 *
 * The anchor's own certificate is not checked (RFC 5280 §6.1: a trust anchor is trusted as
 * configured; retire it in the policy). The same function serves CRL files from the policy
 * and CRLs fetched from distribution points (see `RevocationCache`).
 *
 * @example
 * const source = crlSource([{ name: 'crl:maker.crl', crl: parseCrl(der) }]);
 * source.check(validated.certificates, { time: Date.now() });
 */
import { isProvenanceError } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import { type CertificateList, verifyCrl } from '../../pki/crl.js';
import type { RevocationContext, RevocationSource, RevocationStatus } from './types.js';

/** A parsed CRL and where it came from ('crl:<file or url>'). */
export interface NamedCrl {
  readonly name: string;
  readonly crl: CertificateList;
}

/**
 * A source over fixed CRLs. For each certificate, every CRL whose issuer name is the issuing
 * certificate's subject is tried; the first that verifies decides ('revoked', 'suspended' for
 * certificateHold, else 'good'); when all fail, the status is 'unknown' with the first failure.
 * A certificate no CRL names gets no status from this source.
 *
 * @example
 * crlSource(files.map((f) => ({ name: `crl:${f}`, crl: parseCrl(read(f)) })), 'crl:files')
 */
export function crlSource(crls: readonly NamedCrl[], name = 'crl'): RevocationSource {
  return {
    name,
    check(path: readonly Certificate[], ctx: RevocationContext): RevocationStatus[] {
      const out: RevocationStatus[] = [];
      for (let position = 0; position + 1 < path.length; position++) {
        const status = checkOne(path[position]!, path[position + 1]!, position, crls, ctx);
        if (status) out.push(status);
      }
      return out;
    },
  };
}

/** The status of `cert` from the CRLs issued by `issuer`, or null when none is. */
export function checkOne(
  cert: Certificate,
  issuer: Certificate,
  position: number,
  crls: readonly NamedCrl[],
  ctx: RevocationContext,
): RevocationStatus | null {
  const serial = cert.serialHex.replace(/^0+(?=.)/, '');
  let firstFailure: RevocationStatus | null = null;
  for (const { name, crl } of crls) {
    // RFC 5280 §6.3.3 (b): a complete CRL whose issuer is the certificate's issuer.
    if (Buffer.compare(crl.issuer.der, cert.issuer.der) !== 0) continue;
    if (Buffer.compare(crl.issuer.der, issuer.subject.der) !== 0) continue;
    try {
      // RFC 5280 §6.3.3 (a), (f), (g), (j): current, signed by the issuer's key, cRLSign.
      verifyCrl(crl, issuer, { time: ctx.time, ...(ctx.cache ? { cache: ctx.cache } : {}) });
    } catch (err) {
      if (!isProvenanceError(err)) throw err;
      firstFailure ??= {
        position,
        serial,
        status: 'unknown',
        source: name,
        code: err.code,
        detail: err.message,
      };
      continue;
    }
    // RFC 5280 §6.3.3 (i): the certificate's serial on the list means revoked; certificateHold
    // is a suspension, which an attestation check treats like a revocation (fail closed).
    const entry = crl.isRevoked(cert.serialHex);
    if (!entry) return { position, serial, status: 'good', source: name };
    return {
      position,
      serial,
      status: entry.reason === 'certificateHold' ? 'suspended' : 'revoked',
      source: name,
      reason: entry.reason ?? 'unspecified',
      detail: `revoked on ${new Date(entry.revocationDate).toISOString()}`,
    };
  }
  return firstFailure;
}
