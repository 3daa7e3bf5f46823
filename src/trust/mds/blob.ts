/**
 * Import a FIDO Metadata Service v3 BLOB: the BLOB processing rules of FIDO MDS v3.1.1 §3.2,
 * failing closed at every step.
 *
 * 1. The JWT is a strict compact JWS with alg RS256, ES256 or PS256 and an x5c chain (jws.ts).
 * 2. The chain is validated (RFC 5280 §6, validatePath) to one of the pinned roots, by key.
 * 3. With CRLs, every certificate of the chain below the root must be covered by a current CRL
 *    of its issuer, signed by it, that does not list it (MDS §3.2 step 4; RFC 5280 §6.3).
 * 4. The signature verifies with the leaf key.
 * 5. `no` does not go backwards (MDS §3.2 step 5: "the serial number ... MUST be greater").
 * 6. The BLOB is not past `nextUpdate` unless the caller names a reason to accept it.
 *
 * @example
 * const blob = importMdsBlob(readFileSync('blob.jwt', 'utf8'), {
 *   roots: [parseCertificate(globalSignR3Der)],   // isProductionMdsRoot(...) is true for it
 *   time: Date.now(),
 *   lastNo: previous?.no,
 * });
 * indexMdsBlob(blob).byAaguid(aaguid)?.status.deny;
 */
import { createHash } from 'node:crypto';
import { fail, ProvenanceError } from '../../core/errors.js';
import { decodePem, isPem } from '../../core/pem.js';
import { anchorFromCertificate } from '../../pki/anchor.js';
import { type Certificate, parseCertificate } from '../../pki/certificate.js';
import { type CertificateList, parseCrl, verifyCrl } from '../../pki/crl.js';
import { KeyCache } from '../../pki/keys.js';
import { validatePath } from '../../pki/path.js';
import { MDS_MAX_ENTRIES, parseMdsEntries, parseMdsPayload } from './entries.js';
import { decodeJwsPayload, parseCompactJws, verifyJwsSignature } from './jws.js';
import type { MdsBlob } from './types.js';

/** Default largest BLOB accepted, in bytes of JWT text (the conformance BLOB is 2.2 MB). */
export const MDS_MAX_BLOB_BYTES = 8 * 1024 * 1024;

/**
 * SHA-256 of the production MDS root, GlobalSign Root CA - R3 (valid to 2029-03-18; standards
 * digest §9.2). The certificate itself is supplied by the operator; this pin says it is the one.
 */
export const MDS_PRODUCTION_ROOT_SHA256 = 'cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b';

/** True when `root` is the production MDS root (GlobalSign Root CA - R3), by certificate hash. */
export function isProductionMdsRoot(root: Certificate): boolean {
  return root.fingerprintSha256 === MDS_PRODUCTION_ROOT_SHA256;
}

/** Options of `importMdsBlob`. */
export interface ImportMdsOptions {
  /** The pinned roots the x5c chain must end at (trust by key). Required, never empty. */
  readonly roots: readonly Certificate[];
  /** CRLs (DER or PEM) for the signing chain; when given, every chain certificate must be covered. */
  readonly crls?: readonly Uint8Array[];
  /** Verification time, ms since the epoch. */
  readonly time: number;
  /** The `no` of the last BLOB accepted; a lower one is MDS_ROLLBACK. */
  readonly lastNo?: number;
  /** Time after `nextUpdate` during which the BLOB still counts as current, ms. Default 0. */
  readonly graceMs?: number;
  /** Accept a BLOB past nextUpdate (+ grace) and record this reason in the result. */
  readonly allowStale?: string;
  /** Default MDS_MAX_BLOB_BYTES. */
  readonly maxBytes?: number;
  /** Default MDS_MAX_ENTRIES. */
  readonly maxEntries?: number;
  readonly cache?: KeyCache;
}

/**
 * Verify and parse an MDS3 BLOB (see the file comment for the steps). Throws ProvenanceError:
 * INPUT_TOO_LARGE, MDS_MALFORMED, ALGORITHM_NOT_ALLOWED, CERT_MALFORMED, TRUST_NO_ANCHORS and the
 * PATH_* codes, CRL_MALFORMED / CRL_INVALID / MDS_CHAIN_REVOKED, SIGNATURE_INVALID, MDS_ROLLBACK,
 * MDS_STALE. Throws TypeError for invalid options.
 *
 * @example
 * const blob = importMdsBlob(jwt, { roots: [conformanceRoot], time: Date.parse('2023-11-01') });
 * blob.no;              // 42
 * blob.entries.length;  // 200
 */
export function importMdsBlob(jwt: string, options: ImportMdsOptions): MdsBlob {
  checkOptions(options);
  const maxBytes = options.maxBytes ?? MDS_MAX_BLOB_BYTES;
  if (jwt.length > maxBytes)
    fail('INPUT_TOO_LARGE', `the MDS BLOB of ${jwt.length} bytes exceeds ${maxBytes}`, {
      size: jwt.length,
      limit: maxBytes,
    });
  // Files usually end with a newline; nothing else may surround the compact JWS.
  const text = jwt.replace(/\r?\n$/, '');
  const jws = parseCompactJws(text);
  const chain = jws.x5c.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (err) {
      if (err instanceof ProvenanceError)
        throw new ProvenanceError(err.code, `x5c[${i}]: ${err.message}`, { ...err.details, position: i });
      throw err;
    }
  });
  const leaf = chain[0] as Certificate;
  const cache = options.cache ?? new KeyCache();
  // MDS §3.2 step 4: the chain must end at the pinned root. Anchors are matched by key.
  const path = validatePath(leaf, {
    anchors: options.roots.map((r) =>
      anchorFromCertificate(r, { id: `mds-root:${r.spkiSha256}`, formats: 'any' }),
    ),
    intermediates: chain.slice(1),
    time: options.time,
    cache,
  });
  if (options.crls && options.crls.length > 0)
    checkChainCrls(path.certificates, path.anchor.spkiSha256, options.crls, options.time, cache);
  // RFC 7515 §5.2 step 8 / MDS §3.2 step 4: the BLOB is signed by the chain's leaf key.
  if (!verifyJwsSignature(jws, leaf.spki, cache))
    fail(
      'SIGNATURE_INVALID',
      `the MDS BLOB signature (${jws.alg}) does not verify under "${leaf.subject.text}"`,
    );

  const payload = parseMdsPayload(decodeJwsPayload(jws), options.maxEntries ?? MDS_MAX_ENTRIES);
  if (options.lastNo !== undefined && payload.no < options.lastNo)
    fail(
      'MDS_ROLLBACK',
      `the MDS BLOB no ${payload.no} is lower than the last accepted no ${options.lastNo}`,
      {
        no: payload.no,
        lastNo: options.lastNo,
      },
    );
  const nextUpdate = Date.parse(`${payload.nextUpdate}T00:00:00Z`);
  const stale = options.time >= nextUpdate + (options.graceMs ?? 0);
  if (stale && options.allowStale === undefined)
    fail('MDS_STALE', `the MDS BLOB no ${payload.no} was due for replacement on ${payload.nextUpdate}`, {
      no: payload.no,
      nextUpdate: payload.nextUpdate,
    });
  const entries = parseMdsEntries(payload.entries);
  const root = path.anchor;
  return {
    no: payload.no,
    nextUpdate: payload.nextUpdate,
    legalHeader: payload.legalHeader,
    digest: createHash('sha256').update(text).digest('hex'),
    algorithm: jws.alg,
    signer: { subject: leaf.subject.text, certificateSha256: leaf.fingerprintSha256 },
    root: { subject: root.subject.text, spkiSha256: root.spkiSha256 },
    staleAllowed: stale ? (options.allowStale as string) : null,
    entries,
  };
}

/**
 * RFC 5280 §6.3.3 for each certificate below the anchor: a CRL from its issuer, verified with
 * the issuer's key and current at `time` (verifyCrl), that does not list its serial. A chain
 * certificate without such a CRL fails closed: the caller asked for revocation checking.
 */
function checkChainCrls(
  certificates: readonly Certificate[],
  anchorSpki: string,
  crlInputs: readonly Uint8Array[],
  time: number,
  cache: KeyCache,
): void {
  const crls = crlInputs.flatMap(decodeCrls);
  certificates.forEach((cert, position) => {
    const issuer = certificates[position + 1];
    // The anchor's own certificate is trusted out of band, not by a CRL it signs itself.
    if (!issuer || cert.spkiSha256 === anchorSpki) return;
    const own = crls.filter((c) => Buffer.compare(c.issuer.der, issuer.subject.der) === 0);
    if (own.length === 0)
      fail(
        'CRL_INVALID',
        `no CRL from "${issuer.subject.text}" covers "${cert.subject.text}" of the MDS chain`,
        {
          position,
        },
      );
    for (const crl of own) {
      verifyCrl(crl, issuer, { time, cache });
      const entry = crl.isRevoked(cert.serialHex);
      if (entry)
        fail(
          'MDS_CHAIN_REVOKED',
          `"${cert.subject.text}" (serial ${cert.serialHex}) of the MDS chain is revoked (${entry.reason ?? 'unspecified'})`,
          { position, serial: cert.serialHex, reason: entry.reason },
        );
    }
  });
}

function decodeCrls(input: Uint8Array): CertificateList[] {
  if (isPem(input)) {
    const blocks = decodePem(Buffer.from(input).toString('latin1')).filter((b) => b.label === 'X509 CRL');
    if (blocks.length === 0) fail('CRL_MALFORMED', 'the PEM input holds no X509 CRL block');
    return blocks.map((b) => parseCrl(b.der));
  }
  return [parseCrl(input)];
}

function checkOptions(options: ImportMdsOptions): void {
  if (!Array.isArray(options.roots) || options.roots.length === 0)
    throw new TypeError('importMdsBlob: options.roots must name at least one pinned MDS root');
  if (!Number.isFinite(options.time))
    throw new TypeError('importMdsBlob: options.time must be a number (ms)');
  if (options.lastNo !== undefined && !Number.isSafeInteger(options.lastNo))
    throw new TypeError('importMdsBlob: options.lastNo must be an integer');
  if (options.allowStale !== undefined && options.allowStale.trim() === '')
    throw new TypeError('importMdsBlob: options.allowStale must give a reason');
}
