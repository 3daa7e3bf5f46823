/**
 * The MetadataBLOBPayload (FIDO MDS v3.1.1 §3.1.6) checked against the fields Provenance uses,
 * turned into indexed entries: by AAGUID, by attestation certificate key identifier, by AAID.
 * Unknown fields are kept out, not refused (the format grows: 3.1 and 3.1.1 added fields).
 *
 * @example
 * const index = indexMdsBlob(blob);
 * index.anchors(index.byAaguid('ee882879-721c-4913-9775-3dfcce97072a')!);
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { fail } from '../../core/errors.js';
import { anchorFromCertificate, type TrustAnchor } from '../../pki/anchor.js';
import { parseCertificate } from '../../pki/certificate.js';
import { summariseStatus } from './status.js';
import type { MdsBlob, MdsEntry, MdsIndex, MdsStatusReport } from './types.js';

/** Default most entries in one BLOB (production held about 100 in 2022, a few hundred now). */
export const MDS_MAX_ENTRIES = 20_000;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const AAID = /^[0-9a-fA-F]{4}#[0-9a-fA-F]{4}$/;
const KEY_ID = /^[0-9a-f]{40}$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_CERT_B64 = 96 * 1024;

const date = z
  .string()
  .regex(DATE)
  // Date.parse rolls 2026-02-30 over to March: a round trip catches days that do not exist.
  .refine((d) => {
    const ms = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === d;
  }, 'not a calendar date');
/**
 * Base64 DER (MDS uses base64, not base64url). Real production BLOBs (no 9, no 12) wrap some
 * attestationRootCertificates in line breaks, as PEM bodies are: white space is dropped first.
 */
const base64Der = z
  .string()
  .max(MAX_CERT_B64)
  .transform((s) => s.replace(/\s+/g, ''))
  .pipe(z.string().regex(B64, 'not base64'));

const statusReportSchema = z.looseObject({
  status: z.string().min(1).max(64),
  effectiveDate: date.optional(),
  authenticatorVersion: z.number().int().nonnegative().optional(),
  certificate: base64Der.optional(),
});

const entrySchema = z.looseObject({
  aaid: z.string().regex(AAID).optional(),
  aaguid: z.string().regex(AAGUID, 'an AAGUID is a lower-case UUID').optional(),
  attestationCertificateKeyIdentifiers: z
    .array(z.string().regex(KEY_ID, 'a key identifier is 40 lower-case hex digits'))
    .max(1024)
    .optional(),
  metadataStatement: z
    .looseObject({
      description: z.string().max(4096).optional(),
      protocolFamily: z.string().max(32).optional(),
      attestationRootCertificates: z.array(base64Der).max(256).optional(),
    })
    .optional(),
  statusReports: z.array(statusReportSchema).max(1024),
  timeOfLastStatusChange: date.optional(),
});

/** The payload fields Provenance reads (MDS v3.1.1 §3.1.6); `entries` is checked one by one. */
const payloadSchema = z.looseObject({
  legalHeader: z
    .string()
    .max(64 * 1024)
    .optional(),
  no: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  nextUpdate: date,
  entries: z.array(z.unknown()),
});

/** The checked payload header fields and raw entries. */
export interface MdsPayload {
  readonly legalHeader: string | null;
  readonly no: number;
  readonly nextUpdate: string;
  readonly entries: readonly unknown[];
}

/** Check the payload's top level; MDS_MALFORMED, INPUT_TOO_LARGE beyond `maxEntries`. */
export function parseMdsPayload(value: unknown, maxEntries = MDS_MAX_ENTRIES): MdsPayload {
  const r = payloadSchema.safeParse(value);
  if (!r.success) malformed(`the BLOB payload is not an MDS3 MetadataBLOBPayload: ${issue(r.error)}`);
  if (r.data.entries.length > maxEntries)
    fail('INPUT_TOO_LARGE', `the BLOB has ${r.data.entries.length} entries, more than ${maxEntries}`, {
      size: r.data.entries.length,
      limit: maxEntries,
    });
  return {
    legalHeader: r.data.legalHeader ?? null,
    no: r.data.no,
    nextUpdate: r.data.nextUpdate,
    entries: r.data.entries,
  };
}

/**
 * Check and convert the entries. MDS_MALFORMED names the entry (`details.entry`): a bad field,
 * an entry with no identifier, or an identifier used by two entries (a lookup must never have
 * to choose between two statuses).
 */
export function parseMdsEntries(raw: readonly unknown[]): MdsEntry[] {
  const seen = new Set<string>();
  return raw.map((value, i) => {
    const r = entrySchema.safeParse(value);
    if (!r.success) malformed(`BLOB entry ${i}: ${issue(r.error)}`, { entry: i });
    const e = r.data;
    const keyIds = e.attestationCertificateKeyIdentifiers ?? [];
    const aaid = e.aaid?.toLowerCase() ?? null;
    const ids = [
      ...(e.aaguid ? [`aaguid:${e.aaguid}`] : []),
      ...(aaid ? [`aaid:${aaid}`] : []),
      ...keyIds.map((k) => `key:${k}`),
    ];
    if (ids.length === 0) malformed(`BLOB entry ${i} has no aaguid, aaid or key identifier`, { entry: i });
    for (const id of ids) {
      if (seen.has(id)) malformed(`BLOB entry ${i} repeats the identifier ${id}`, { entry: i, id });
      seen.add(id);
    }
    const statusReports = e.statusReports.map(statusReport);
    return {
      aaguid: e.aaguid ?? null,
      aaid,
      attestationCertificateKeyIdentifiers: keyIds,
      description: e.metadataStatement?.description ?? null,
      protocolFamily: e.metadataStatement?.protocolFamily ?? null,
      anchorId: `mds:${e.aaguid ?? aaid ?? keyIds[0]}`,
      attestationRootCertificates: (e.metadataStatement?.attestationRootCertificates ?? []).map(
        (c) => new Uint8Array(Buffer.from(c, 'base64')),
      ),
      statusReports,
      status: summariseStatus(statusReports),
      timeOfLastStatusChange: e.timeOfLastStatusChange ?? null,
    };
  });
}

function statusReport(s: z.infer<typeof statusReportSchema>): MdsStatusReport {
  let certificateSha256: string | null = null;
  let certificateSpkiSha256: string | null = null;
  if (s.certificate !== undefined) {
    const der = new Uint8Array(Buffer.from(s.certificate, 'base64'));
    certificateSha256 = createHash('sha256').update(der).digest('hex');
    try {
      certificateSpkiSha256 = parseCertificate(der).spkiSha256;
    } catch {
      // The certificate hash still names it; a certificate we cannot parse can never be in a
      // validated path, so there is no key to distrust beyond it.
      certificateSpkiSha256 = null;
    }
  }
  return {
    status: s.status,
    effectiveDate: s.effectiveDate ?? null,
    authenticatorVersion: s.authenticatorVersion ?? null,
    certificateSha256,
    certificateSpkiSha256,
  };
}

/** Normalise an AAGUID: lower case, dashes added to 32 hex digits. */
export function normaliseAaguid(aaguid: string): string {
  const a = aaguid.trim().toLowerCase();
  if (/^[0-9a-f]{32}$/.test(a))
    return `${a.slice(0, 8)}-${a.slice(8, 12)}-${a.slice(12, 16)}-${a.slice(16, 20)}-${a.slice(20)}`;
  return a;
}

/**
 * Index a verified BLOB's entries. Anchors are parsed on demand; a root certificate that does not
 * parse is left out (fewer anchors only ever means fewer accepted chains).
 *
 * @example
 * indexMdsBlob(blob).byKeyIdentifier('bf7bcaa0d0c6187a8c6abbdd16a15640e7c7bde2')?.status.deny;
 */
export function indexMdsBlob(blob: MdsBlob): MdsIndex {
  const aaguids = new Map<string, MdsEntry>();
  const keyIds = new Map<string, MdsEntry>();
  const aaids = new Map<string, MdsEntry>();
  for (const e of blob.entries) {
    if (e.aaguid) aaguids.set(e.aaguid, e);
    if (e.aaid) aaids.set(e.aaid, e);
    for (const k of e.attestationCertificateKeyIdentifiers) keyIds.set(k, e);
  }
  const anchorCache = new Map<MdsEntry, TrustAnchor[]>();
  return {
    blob,
    byAaguid: (aaguid) => aaguids.get(normaliseAaguid(aaguid)),
    byKeyIdentifier: (keyId) => keyIds.get(keyId.trim().toLowerCase()),
    byAaid: (aaid) => aaids.get(aaid.trim().toLowerCase()),
    anchors(entry) {
      let anchors = anchorCache.get(entry);
      if (!anchors) {
        anchors = [];
        for (const der of entry.attestationRootCertificates) {
          try {
            anchors.push(
              anchorFromCertificate(parseCertificate(der), { id: entry.anchorId, formats: ['webauthn'] }),
            );
          } catch {
            // Left out: see above.
          }
        }
        anchorCache.set(entry, anchors);
      }
      return anchors;
    },
  };
}

function issue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid';
  const path = first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return `${path}${first.message}`;
}

function malformed(message: string, details?: Record<string, unknown>): never {
  return fail('MDS_MALFORMED', message, details);
}
