/**
 * The publisher's working copy (`DIR/list.json`): pure edits on the draft, and turning it into
 * the document to sign. The CLI (`provenance list …`) reads and writes the files around these.
 *
 * @example
 * let draft = newDraft('Smartcard Sector Body');
 * draft = addEntry(draft, { id: 'dotnet', certificate: cert, level: 2 }, now);
 * const { list, draft: next } = prepareSignature(draft, now, 30 * DAY);
 */
import { fail } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import { describeIssue, type TokenListDraft, tokenListDraftSchema } from './schema.js';
import type { TokenList, TokenListEntry, TokenListRevocation, TokenListStatus } from './types.js';

/** An empty draft for a publisher (sequence 0: nothing signed yet). */
export function newDraft(publisher: string): TokenListDraft {
  return checkDraft({ publisher, sequence: 0, entries: [], revoked: [] });
}

/** Validate a draft read from disk; LIST_INVALID naming the field. */
export function checkDraft(data: unknown, where = 'list.json'): TokenListDraft {
  const parsed = tokenListDraftSchema.safeParse(data);
  if (!parsed.success) fail('LIST_INVALID', `${where}: ${describeIssue(parsed.error)}`);
  return parsed.data;
}

/** What `addEntry` needs: the CA certificate whose key becomes an anchor, the id, the level. */
export interface NewEntry {
  readonly id: string;
  readonly certificate: Certificate;
  readonly level: number;
  readonly maker?: string;
  readonly product?: string;
  readonly model?: string;
  readonly status?: TokenListStatus;
  readonly notes?: string;
  readonly firmwareDenied?: readonly string[];
}

/**
 * Add an entry, or add the certificate's key as one more anchor of an existing entry with that
 * id (a product line with several CAs, a rotated CA). Maker and product default to the
 * certificate's O and CN.
 */
export function addEntry(
  draft: TokenListDraft,
  input: NewEntry,
  now: number,
): { draft: TokenListDraft; added: 'entry' | 'anchor' | 'none' } {
  const cert = input.certificate;
  const anchor = { spkiSha256: cert.spkiSha256, certificate: Buffer.from(cert.der).toString('base64') };
  const existing = draft.entries.findIndex((e) => e.id === input.id);
  if (existing >= 0) {
    const e = draft.entries[existing]!;
    if (e.anchors.some((a) => a.spkiSha256 === anchor.spkiSha256)) return { draft, added: 'none' };
    const entries = draft.entries.map((x, i) =>
      i === existing ? { ...x, anchors: [...x.anchors, anchor] } : x,
    );
    return { draft: checkDraft({ ...draft, entries }), added: 'anchor' };
  }
  const other = draft.entries.find((e) => e.anchors.some((a) => a.spkiSha256 === anchor.spkiSha256));
  if (other)
    fail('USAGE', `the key of this certificate is already an anchor of entry "${other.id}"`, {
      entry: other.id,
    });
  const maker =
    input.maker ?? attribute(cert, '2.5.4.10') ?? fail('USAGE', 'the certificate has no O: give --maker');
  const product =
    input.product ?? attribute(cert, '2.5.4.3') ?? fail('USAGE', 'the certificate has no CN: give --product');
  const entry: TokenListEntry = {
    id: input.id,
    maker,
    product,
    ...(input.model === undefined ? {} : { model: input.model }),
    anchors: [anchor],
    level: input.level,
    status: input.status ?? 'approved',
    since: day(now),
    ...(input.notes === undefined ? {} : { notes: input.notes }),
    ...(input.firmwareDenied === undefined || input.firmwareDenied.length === 0
      ? {}
      : { firmware: { denied: [...input.firmwareDenied] } }),
  };
  return { draft: checkDraft({ ...draft, entries: [...draft.entries, entry] }), added: 'entry' };
}

/** Change an entry's status (its `since` becomes today); USAGE when the id is unknown. */
export function setStatus(
  draft: TokenListDraft,
  id: string,
  status: TokenListStatus,
  now: number,
  notes?: string,
): TokenListDraft {
  if (!draft.entries.some((e) => e.id === id)) fail('USAGE', `no entry has the id "${id}"`, { entry: id });
  const entries = draft.entries.map((e) =>
    e.id === id ? { ...e, status, since: day(now), ...(notes === undefined ? {} : { notes }) } : e,
  );
  return checkDraft({ ...draft, entries });
}

/** Add a revocation (by key or by certificate hash); an existing one for the same hash is kept. */
export function revoke(
  draft: TokenListDraft,
  item: TokenListRevocation,
): { draft: TokenListDraft; added: boolean } {
  const hash = 'spkiSha256' in item ? item.spkiSha256 : item.certificateSha256;
  const known = draft.revoked.some((r) => ('spkiSha256' in r ? r.spkiSha256 : r.certificateSha256) === hash);
  if (known) return { draft, added: false };
  return { draft: checkDraft({ ...draft, revoked: [...draft.revoked, item] }), added: true };
}

/** The document to sign (sequence + 1, issuedAt now, nextUpdate now + validity) and the draft to save. */
export function prepareSignature(
  draft: TokenListDraft,
  now: number,
  validityMs: number,
): { list: TokenList; draft: TokenListDraft } {
  if (validityMs <= 0) fail('USAGE', 'the validity of a list must be positive');
  const sequence = draft.sequence + 1;
  const list = {
    publisher: draft.publisher,
    sequence,
    issuedAt: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    nextUpdate: new Date(now + validityMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    entries: draft.entries,
    revoked: draft.revoked,
  } as TokenList;
  return { list, draft: { ...draft, sequence } };
}

function attribute(cert: Certificate, oid: string): string | undefined {
  for (const rdn of cert.subject.rdns)
    for (const atv of rdn) if (atv.type === oid && atv.valueTag !== -1) return atv.value;
  return undefined;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
