/**
 * The verification pipeline: evidence → format checks → path validation against the anchors
 * scoped to that format → policy → Verdict. Every stage is a pure function of its inputs and
 * the injected dependencies (policy, clock, key cache); nothing reads global state.
 *
 * `verify` never throws for bad evidence: it returns a rejecting Verdict whose `code` is the
 * first reason and whose `findings` list every check that ran. It throws only for misuse
 * (a TypeError naming the option).
 *
 * @example
 * const verifier = createVerifier({ policy: loadPolicyFile('policy.yaml') });
 * const verdict = verifier.verify(decodeEvidence(bytes), { nonce });
 * if (!verdict.accepted) console.log(verdict.code, verdict.message);
 */

import { sha256Hex } from '../core/bytes.js';
import { type Clock, systemClock } from '../core/clock.js';
import { type ErrorCode, fail, isProvenanceError } from '../core/errors.js';
import { DEFAULT_FORMATS, detectFormat } from '../formats/registry.js';
import type {
  AppAttestExpectations,
  AttestationFormat,
  BoundKey,
  Claims,
  EvidenceInput,
  FormatContext,
  FormatResult,
  QuirkReport,
  WebauthnExpectations,
} from '../formats/types.js';
import { anchorsForFormat } from '../pki/anchor.js';
import type { Certificate } from '../pki/certificate.js';
import { KeyCache } from '../pki/keys.js';
import { type ValidatedPath, validatePath } from '../pki/path.js';
import { evaluatePolicy, type Policy } from '../policy/index.js';
import type { Finding, PathEntry } from '../policy/types.js';
import { lookupCatalog } from '../trust/catalog/lookup.js';
import type { TokenListSet } from '../trust/lists/types.js';
import { attestationKeyIdentifier, checkMdsEntry, type MdsEntry, type MdsIndex } from '../trust/mds/index.js';
import { revocationStage } from '../trust/revocation/stage.js';
import type { RevocationProvider } from '../trust/revocation/types.js';
import { decodeEvidence } from './input.js';

/** A path entry as reported (JSON-safe: no key bytes). */
export type VerdictPathEntry = Omit<PathEntry, 'spki'>;

export interface Verdict {
  readonly accepted: boolean;
  /** 'ACCEPTED', or the first reason for rejection. */
  readonly code: 'ACCEPTED' | ErrorCode;
  /** One sentence a person can act on. */
  readonly message: string;
  readonly format: string | null;
  /** Attested key → … → anchor, when the path validated; empty otherwise. */
  readonly path: readonly VerdictPathEntry[];
  readonly claims: Claims | null;
  readonly matchedRule: string | null;
  readonly level: number | null;
  /** How freshness was established: the verifier's nonce in the evidence, CSR possession only, or none. */
  readonly freshness: 'nonce' | 'possession' | 'none';
  readonly quirks: readonly QuirkReport[];
  readonly findings: readonly Finding[];
  readonly policyDigest: string;
  /** The instant the evidence was evaluated at (the clock, or `at` when pinned). */
  readonly evaluatedAt: string;
}

export interface VerifierOptions {
  readonly policy: Policy;
  readonly formats?: readonly AttestationFormat[];
  readonly clock?: Clock;
  /** Decoded public keys, reused across verifications. One per verifier by default. */
  readonly keyCache?: KeyCache;
  /**
   * Fetched revocation data (CRLs from distribution points, status lists by URL), consulted
   * synchronously; the service refreshes it. CRL and status list files come with the policy.
   */
  readonly revocation?: RevocationProvider;
  /**
   * Signed token lists the policy names (`lists:`), loaded and verified by the caller
   * (`loadTokenLists`); a getter lets a service swap in refreshed lists. Missing lists fail closed.
   */
  readonly lists?: TokenListSet | (() => TokenListSet);
  /**
   * A verified FIDO MDS index (`provenance mds import`): WebAuthn evidence may then validate to
   * the anchors of the MDS entry for its own AAGUID (or U2F key identifier), never to another
   * entry's, and the entry's status is enforced (checkMdsEntry; docs/webauthn.md). Given, it
   * wins over the policy's `mds:` index; absent, the policy's is used.
   */
  readonly mds?: MdsIndex;
}

export interface Expectations {
  /** The challenge the relying party issued for this evidence. */
  readonly nonce?: Uint8Array;
  /** Verify at this instant (ms) instead of the clock: for recorded evidence. */
  readonly at?: number;
  /** Attestation keys bound by credential activation for this enrollment (TPM; docs/tpm.md). */
  readonly boundKeys?: readonly BoundKey[];
  /** WebAuthn registration: allowed origins and RP IDs, the challenge (else `nonce`), or a clientDataHash. */
  readonly webauthn?: WebauthnExpectations;
  /** Apple App Attest: the App ID expected (overrides an evidence file's), development allowed. */
  readonly appAttest?: AppAttestExpectations;
}

export interface Verifier {
  /** Verify decoded evidence. */
  verify(input: EvidenceInput, expectations?: Expectations): Verdict;
  /** Decode and verify raw bytes; a decoding failure becomes a rejecting verdict. */
  verifyBytes(bytes: Uint8Array, expectations?: Expectations): Verdict;
}

/** Build a verifier bound to a policy. */
export function createVerifier(options: VerifierOptions): Verifier {
  if (!options || typeof options !== 'object' || !options.policy)
    throw new TypeError('createVerifier: options.policy is required');
  const formats = options.formats ?? DEFAULT_FORMATS;
  const clock = options.clock ?? systemClock;
  const cache = options.keyCache ?? new KeyCache();
  const { policy } = options;

  function verify(input: EvidenceInput, expectations: Expectations = {}): Verdict {
    const at = expectations.at ?? clock();
    const findings: Finding[] = [];
    const base = { policyDigest: policy.digest, evaluatedAt: new Date(at).toISOString() };
    const reject = (code: ErrorCode, message: string, extra: RejectionExtras = {}): Verdict =>
      rejection(code, message, findings, base, extra);

    // 1. Which format is this?
    const format = detectFormat(formats, input);
    if (!format) {
      findings.push({
        check: 'format.detect',
        ok: false,
        code: 'ATTESTATION_MISSING',
        message: 'no known attestation format in the evidence',
      });
      return reject('ATTESTATION_MISSING', 'The evidence carries no attestation that Provenance can verify.');
    }
    findings.push({ check: 'format.detect', ok: true, message: `evidence format: ${format.id}` });

    // 2. The format's own checks: statement, nonce binding, key binding.
    let result: FormatResult;
    try {
      const ctx: FormatContext = {
        ...(expectations.nonce === undefined ? {} : { expectedNonce: expectations.nonce }),
        ...(expectations.boundKeys === undefined ? {} : { boundKeys: expectations.boundKeys }),
        ...(expectations.webauthn === undefined ? {} : { webauthn: expectations.webauthn }),
        ...(expectations.appAttest === undefined ? {} : { appAttest: expectations.appAttest }),
        keyCache: cache,
        time: at,
        ...(policy.signatures?.allowSha1 === true ? { allowSha1: true } : {}),
      };
      result = format.verify(input, ctx);
    } catch (err) {
      const e = asError(err);
      findings.push({
        check: 'format.verify',
        ok: false,
        code: e.code,
        message: e.message,
        detail: e.details,
      });
      return reject(e.code, e.message, { format: format.id });
    }
    findings.push(...formatFindings(result, expectations));
    // A challenge was expected but nothing in the evidence was checked against it (fail closed):
    // a format that cannot bind the caller's challenge must not look fresh.
    if (
      (expectations.nonce !== undefined || expectations.webauthn?.challenge !== undefined) &&
      result.freshnessKind === 'none'
    ) {
      const message = `an expected challenge was given, but the ${result.format} evidence binds none that was checked`;
      findings.push({ check: 'nonce', ok: false, code: 'NONCE_MISSING', message });
      return reject('NONCE_MISSING', message, {
        format: format.id,
        claims: result.claims,
        freshness: result.freshnessKind,
      });
    }
    // 2b. Verified, but no provenance (WebAuthn self / none attestation): nothing vouches for
    // the authenticator, so there is no path to validate (standards digest §3.4).
    if (result.noProvenance) {
      const { code, reason } = result.noProvenance;
      findings.push({ check: 'format.provenance', ok: false, code, message: reason });
      return reject(code, `${reason}: it proves nothing about the authenticator`, {
        format: format.id,
        claims: result.claims,
        freshness: result.freshnessKind,
      });
    }
    // 2c. FIDO MDS: the entry for this model (by AAGUID, or U2F key identifier) adds its own roots.
    // The verifier's own index wins; otherwise the policy's `mds:` (docs/policy.md).
    const mds = format.id === 'webauthn' ? (options.mds ?? policy.mds?.mds) : undefined;
    const mdsEntry = mds ? mdsEntryFor(mds, result) : undefined;
    // Statuses in an index past its nextUpdate may miss revocations: say so (the import refused
    // a stale BLOB; an index kept too long goes stale in place).
    if (mds && Date.parse(`${mds.blob.nextUpdate}T00:00:00Z`) <= at) {
      findings.push({
        check: 'mds.current',
        ok: true,
        severity: 'warning',
        message: `the FIDO MDS index (BLOB no. ${mds.blob.no}) was due for replacement on ${mds.blob.nextUpdate}: statuses may be out of date (provenance mds import)`,
      });
    }

    // 3. Certification path to an anchor that may vouch for this format.
    const anchors = [
      ...anchorsForFormat(policy.anchors, format.id),
      ...(mds && mdsEntry ? mds.anchors(mdsEntry.entry) : []),
    ];
    if (anchors.length === 0) {
      const message = `no trust anchor is configured for format "${format.id}": failing closed`;
      findings.push({ check: 'path', ok: false, code: 'TRUST_NO_ANCHORS', message });
      return reject('TRUST_NO_ANCHORS', message, {
        format: format.id,
        claims: result.claims,
        freshness: result.freshnessKind,
      });
    }
    // 3'. Evidence that must end at particular anchor keys (an Apple sub-kind under its own
    // root, issue #6): other anchors of the format are not candidates. Trust by key, never name.
    const keys = result.anchorKeys;
    const mainAnchors = keys ? anchors.filter((a) => keys.includes(a.spkiSha256)) : anchors;
    if (keys && mainAnchors.length === 0) {
      const expected = keys
        .map((k) => `${lookupCatalog(k)?.entry.name ?? 'the anchor'} (key sha256:${k})`)
        .join(' or ');
      const message = `${result.anchorKeysFor ?? format.id} evidence must end at ${expected}, and no trust anchor configured for format "${format.id}" has that key: failing closed`;
      findings.push({
        check: 'path',
        ok: false,
        code: 'TRUST_NO_ANCHORS',
        message,
        detail: { anchorKeys: keys },
      });
      return reject('TRUST_NO_ANCHORS', message, {
        format: format.id,
        claims: result.claims,
        freshness: result.freshnessKind,
      });
    }
    let validated: ValidatedPath;
    try {
      const [leaf, ...pool] = result.signerChain;
      validated = validatePath(leaf!, {
        ...format.pathOptions,
        ...result.pathOptions,
        anchors: mainAnchors,
        intermediates: pool,
        time: at,
        cache,
      });
    } catch (err) {
      const e = asError(err);
      findings.push({ check: 'path', ok: false, code: e.code, message: e.message, detail: e.details });
      return reject(e.code, e.message, {
        format: format.id,
        claims: result.claims,
        freshness: result.freshnessKind,
      });
    }
    // 3a'. MDS: a path to the entry's roots must pass checkMdsEntry (scoping by key, status,
    // compromised keys); a denied model is refused whatever anchor the path reached.
    // The policy stage trusts the MDS entry's anchors only when the path ended at one of them.
    let policyWithMds = policy;
    if (mds && mdsEntry) {
      const viaEntry = mds.anchors(mdsEntry.entry).some((a) => a.spkiSha256 === validated.anchor.spkiSha256);
      const decision = viaEntry
        ? checkMdsEntry(mds, {
            ...mdsEntry.query,
            // The policy's `mds.minLevel`: the entry must state at least this FIDO certification.
            ...(policy.mds?.minLevelRank === undefined ? {} : { minLevel: policy.mds.minLevelRank }),
            path: validated.certificates,
            anchorSpkiSha256: validated.anchor.spkiSha256,
          })
        : mdsDenialOffEntry(mdsEntry.entry, validated.certificates);
      if (decision && !decision.ok) {
        findings.push({ check: 'mds', ok: false, code: decision.code, message: decision.reason });
        return reject(decision.code, decision.reason, {
          format: format.id,
          claims: result.claims,
          freshness: result.freshnessKind,
        });
      }
      if (decision?.ok) {
        const e = decision.entry;
        policyWithMds = { ...policy, anchors: [...policy.anchors, ...mds.anchors(e)] };
        findings.push({
          check: 'mds',
          ok: true,
          message: `FIDO MDS entry ${e.anchorId} vouches for the model${e.status.current ? ` (status ${e.status.current})` : ''}`,
          detail: { entry: e.anchorId, status: e.status.current, level: e.status.level },
        });
        // The description is the model only now: the chain ends at this entry's own roots.
        result = {
          ...result,
          claims: {
            ...result.claims,
            ...(e.description ? { model: e.description } : {}),
            mdsStatus: e.status.current,
            ...(e.status.level ? { mdsCertification: e.status.level } : {}),
          },
        };
      }
    }
    const path = pathEntries(result, validated);
    findings.push({
      check: 'path',
      ok: true,
      message: `path of ${path.length} entries validated to anchor "${validated.anchor.id}"`,
      detail: { anchor: validated.anchor.id, anchorSpkiSha256: validated.anchor.spkiSha256 },
    });
    // 3a. Paths the format needs besides the main one (a cloud HSM's owner chain): each must
    // validate to an anchor of the format with another key, or the evidence is refused.
    const extraQuirks: QuirkReport[] = [];
    const extraValidated: ValidatedPath[] = [];
    for (const extra of result.additionalPaths ?? []) {
      try {
        const keysOf = extra.anchorKeys;
        const extraAnchors = keysOf ? anchors.filter((a) => keysOf.includes(a.spkiSha256)) : anchors;
        if (extraAnchors.length === 0) {
          fail(
            'TRUST_NO_ANCHORS',
            `no trust anchor with the key the ${extra.label} path must end at is configured`,
            {
              anchorKeys: keysOf,
            },
          );
        }
        const more = validatePath(extra.leaf, {
          ...format.pathOptions,
          anchors: extraAnchors,
          intermediates: extra.intermediates,
          time: at,
          cache,
        });
        if (more.anchor.spkiSha256 === validated.anchor.spkiSha256) {
          fail('PATH_NOT_FOUND', `the ${extra.label} path ends at the same anchor key as the main path`, {
            anchor: more.anchor.id,
          });
        }
        extraQuirks.push(...more.quirks.map((q) => ({ ...q, id: `${q.id} (${extra.label} path)` })));
        extraValidated.push(more);
        findings.push({
          check: 'path.additional',
          ok: true,
          message: `${extra.label} path of ${more.certificates.length} certificates validated to anchor "${more.anchor.id}"`,
          detail: {
            label: extra.label,
            anchor: more.anchor.id,
            anchorSpkiSha256: more.anchor.spkiSha256,
            // Leaf first, anchor last: the human output shows this chain next to the main one.
            subjects: more.certificates.map((c) => c.subject.text),
          },
        });
      } catch (err) {
        const e = asError(err);
        findings.push({
          check: 'path.additional',
          ok: false,
          code: e.code,
          message: `${extra.label} path: ${e.message}`,
          detail: e.details,
        });
        return reject(e.code, `${extra.label} path: ${e.message}`, {
          format: format.id,
          claims: result.claims,
          freshness: result.freshnessKind,
        });
      }
    }
    // With a bound AK the path's leaf (the EK certificate) sits at position 2, not 1.
    const quirks = [
      ...result.quirks,
      ...(result.boundSigner
        ? validated.quirks.map((q) => (q.position === undefined ? q : { ...q, position: q.position + 1 }))
        : validated.quirks),
      ...extraQuirks,
    ];
    for (const q of quirks) {
      findings.push({
        check: 'quirk',
        ok: true,
        severity: 'warning',
        message: `accepted quirk ${q.id}: ${q.detail}`,
        ...(q.position === undefined ? {} : { position: q.position }),
      });
    }

    // 3b. Revocation of every path entry, under the anchor's mode (src/trust/revocation/check.ts).
    const revoked = revocationStage({
      policy,
      validated,
      result,
      provider: options.revocation,
      time: at,
      cache,
    });
    findings.push(...revoked.findings);
    // The additional paths' certificates are checked under their own anchors' revocation settings.
    let revocation = revoked;
    for (const more of extraValidated) {
      if (!revocation.ok) break;
      revocation = revocationStage({
        policy,
        validated: more,
        result: {},
        provider: options.revocation,
        time: at,
        cache,
      });
      findings.push(...revocation.findings);
    }
    if (!revocation.ok) {
      return reject(revocation.code, revocation.message, {
        format: format.id,
        path: path.map(({ spki: _spki, ...entry }) => entry),
        claims: result.claims,
        freshness: result.freshnessKind,
        quirks,
      });
    }

    // 4. Policy: deny, requirements, allow rules.
    const lists = typeof options.lists === 'function' ? options.lists() : options.lists;
    const decision = evaluatePolicy(
      policyWithMds,
      {
        format: format.id,
        path,
        claims: result.claims,
        freshness: result.freshnessKind,
        anchorId: validated.anchor.id,
      },
      { at, ...(lists === undefined ? {} : { lists }) },
    );
    findings.push(...decision.findings);
    const reported: VerdictPathEntry[] = (decision.path ?? path).map(({ spki: _spki, ...entry }) => entry);
    const common = {
      format: format.id,
      path: reported,
      claims: result.claims,
      matchedRule: decision.matchedRule ?? null,
      level: decision.level ?? null,
      freshness: result.freshnessKind,
      quirks,
    };
    if (!decision.accepted) {
      const failed = decision.findings.find((f) => !f.ok && f.code === decision.code);
      return reject(decision.code as ErrorCode, failed?.message ?? 'rejected by policy', common);
    }
    return {
      accepted: true,
      code: 'ACCEPTED',
      message: decision.matchedRule
        ? `the path contains an entry allowed by rule "${decision.matchedRule}"`
        : 'the path validates to a trusted anchor and the policy has no allow rules',
      ...common,
      findings,
      ...base,
    };
  }

  function verifyBytes(bytes: Uint8Array, expectations: Expectations = {}): Verdict {
    let input: EvidenceInput;
    try {
      input = decodeEvidence(bytes);
    } catch (err) {
      const e = asError(err);
      const at = expectations.at ?? clock();
      return rejection(
        e.code,
        e.message,
        [{ check: 'decode', ok: false, code: e.code, message: e.message, detail: e.details }],
        { policyDigest: policy.digest, evaluatedAt: new Date(at).toISOString() },
      );
    }
    return verify(input, expectations);
  }

  return { verify, verifyBytes };
}

type RejectionExtras = Partial<
  Omit<Verdict, 'accepted' | 'code' | 'message' | 'findings' | 'policyDigest' | 'evaluatedAt'>
>;

/** A rejecting verdict: nothing known beyond what `extra` says. */
function rejection(
  code: ErrorCode,
  message: string,
  findings: readonly Finding[],
  base: Pick<Verdict, 'policyDigest' | 'evaluatedAt'>,
  extra: RejectionExtras = {},
): Verdict {
  return {
    accepted: false,
    code,
    message,
    format: null,
    path: [],
    claims: null,
    matchedRule: null,
    level: null,
    freshness: 'none',
    quirks: [],
    ...extra,
    findings,
    ...base,
  };
}

/** Normalise anything thrown inside a stage: ProvenanceErrors keep their code; bugs become INTERNAL. */
function asError(err: unknown): { code: ErrorCode; message: string; details: Record<string, unknown> } {
  if (isProvenanceError(err)) return { code: err.code, message: err.message, details: err.details };
  return {
    code: 'INTERNAL',
    message: `internal error: ${(err as Error)?.message ?? String(err)}`,
    details: {},
  };
}

function formatFindings(result: FormatResult, expectations: Expectations): Finding[] {
  const out: Finding[] = [
    {
      check: 'format.statement',
      ok: true,
      message: `${result.format} statement decoded; attested key ${sha256Hex(result.attestedKey).slice(0, 16)}…`,
    },
  ];
  const expected = expectations.nonce !== undefined || expectations.webauthn?.challenge !== undefined;
  if (expected && result.freshnessKind === 'nonce')
    out.push({ check: 'nonce', ok: true, message: 'the evidence nonce equals the expected challenge' });
  else if (expected && result.freshnessKind === 'possession') {
    out.push({
      check: 'nonce',
      ok: true,
      severity: 'warning',
      message:
        'no nonce in the evidence was checked against the expected challenge: freshness is proof of possession (the CSR signature) only',
    });
  } else if (result.freshness) {
    out.push({
      check: 'nonce',
      ok: true,
      severity: 'warning',
      message: 'the evidence carries a nonce but no expected nonce was given: not checked',
    });
  } else {
    out.push({
      check: 'nonce',
      ok: true,
      severity: 'warning',
      message: 'the evidence carries no nonce and none was expected',
    });
  }
  // WebAuthn §7.1: origin and RP ID are the relying party's to give; unchecked ones are said.
  if (result.format === 'webauthn') {
    for (const [what, given] of [
      ['origin', expectations.webauthn?.origin],
      ['RP ID', expectations.webauthn?.rpId],
    ] as const) {
      if (given === undefined)
        out.push({
          check: 'webauthn.expectations',
          ok: true,
          severity: 'warning',
          message: `no expected ${what} was given: the registration's ${what} was not checked`,
        });
    }
  }
  if (result.boundSigner) {
    out.push({
      check: 'format.bound-key',
      ok: true,
      message: `the attestation key is vouched for by ${result.boundSigner.via} (binding ${result.boundSigner.bindingId}), not by a certificate`,
      detail: { bindingId: result.boundSigner.bindingId, spkiSha256: sha256Hex(result.boundSigner.spki) },
    });
  }
  if (result.csrVerified) {
    out.push({ check: 'csr.key', ok: true, message: 'the CSR key is the attested key' });
    out.push({
      check: 'csr.signature',
      ok: true,
      message: 'the CSR is signed by the attested key (proof of possession)',
    });
  }
  return out;
}

/** Attested key first, then each certificate up to the anchor. */
function pathEntries(result: FormatResult, validated: ValidatedPath): PathEntry[] {
  const certs: readonly Certificate[] = validated.certificates;
  const entries: PathEntry[] = [];
  const startsWithKeyCert =
    result.attestationCertificate !== undefined && certs[0] === result.attestationCertificate;
  if (!startsWithKeyCert) {
    entries.push({
      position: 0,
      role: 'attested-key',
      subject: null,
      spkiSha256: sha256Hex(result.attestedKey),
      spki: result.attestedKey,
    });
  }
  if (result.boundSigner) {
    // A key without a certificate, vouched for by a binding: it sits between the attested key
    // and the certificate path (the EK certificate), so rules can name it by key like any entry.
    entries.push({
      position: entries.length,
      role: 'attestation-key',
      subject: result.boundSigner.label,
      spkiSha256: sha256Hex(result.boundSigner.spki),
      spki: result.boundSigner.spki,
    });
  }
  const last = certs.length - 1;
  certs.forEach((c, i) => {
    const position = entries.length;
    const isAnchor = i === last;
    const role: PathEntry['role'] =
      position === 0
        ? 'attested-key'
        : position === 1
          ? 'attestation-key'
          : isAnchor && c.selfIssued
            ? 'root'
            : 'intermediate';
    entries.push({
      position,
      role,
      subject: c.subject.text || null,
      spkiSha256: c.spkiSha256,
      spki: c.spki,
      certificateSha256: c.fingerprintSha256,
      ...(isAnchor ? { anchor: validated.anchor.id } : {}),
    });
  });
  return entries;
}

/** The MDS entry for WebAuthn evidence: by AAGUID, or (zero AAGUID) by the U2F key identifier. */
function mdsEntryFor(
  mds: MdsIndex,
  result: FormatResult,
): { entry: MdsEntry; query: { aaguid?: string; keyIdentifier?: string } } | undefined {
  const aaguid = typeof result.claims['aaguid'] === 'string' ? result.claims['aaguid'] : undefined;
  if (aaguid && aaguid !== '00000000-0000-0000-0000-000000000000') {
    const entry = mds.byAaguid(aaguid);
    return entry ? { entry, query: { aaguid } } : undefined;
  }
  const leaf = result.signerChain[0];
  if (!leaf) return undefined;
  const keyIdentifier = attestationKeyIdentifier(leaf);
  const entry = mds.byKeyIdentifier(keyIdentifier);
  return entry ? { entry, query: { keyIdentifier } } : undefined;
}

/**
 * For a path that ended at a policy anchor rather than the MDS entry's own roots: the model's
 * denied status and any attestation key MDS reports compromised still refuse it (whatever
 * anchor vouched for the chain); null when MDS has nothing against it.
 */
function mdsDenialOffEntry(
  entry: MdsEntry,
  path: readonly Certificate[],
): { readonly ok: false; readonly code: 'POLICY_DENIED'; readonly reason: string } | null {
  const s = entry.status;
  if (s.deny)
    return { ok: false, code: 'POLICY_DENIED', reason: `MDS status ${s.denyReason} for ${entry.anchorId}` };
  const compromised = path.find(
    (c) =>
      s.compromisedKeys.includes(c.spkiSha256) || s.compromisedCertificates.includes(c.fingerprintSha256),
  );
  return compromised
    ? {
        ok: false,
        code: 'POLICY_DENIED',
        reason: `MDS reports the attestation key of "${compromised.subject.text}" compromised`,
      }
    : null;
}
