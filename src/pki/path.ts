/**
 * Certification path building and validation (RFC 5280 §6), from an unordered pool of
 * certificates to a set of trust anchors, with named, scoped quirks for vendor deviations.
 *
 * Building is a depth-first search from the leaf towards the anchors (RFC 4158 §2): at each
 * step the anchors whose name matches the issuer are tried first, then pool certificates,
 * best candidates first (authorityKeyIdentifier = subjectKeyIdentifier, then valid at
 * `time`). Key identifiers only order candidates; trust comes from signatures alone. Each
 * candidate is checked when it is added (signature, validity, CA flag, key usage, path length,
 * name constraints, algorithms), so a bad branch is cut at once; a path that reaches an anchor
 * then gets the whole-path checks (anchor certificate, certificate policies, quirk scope).
 * Signature results are memoised per (certificate, issuer key), a certificate never appears
 * twice in one path (same subject and key, RFC 4158 §5.2), and both the signature checks and
 * the candidate visits are budgeted, so cycles and pathological pools end quickly in
 * PATH_LIMIT_EXCEEDED or PATH_NOT_FOUND.
 *
 * When every candidate path fails, the error is the one from the path that got furthest
 * (a path that reached an anchor beats one that did not), with `details` naming the
 * certificate: `position` (0 = leaf), `subject`, `spkiSha256`.
 *
 * The anchor's own certificate, when the anchor has one, is checked like an issuing
 * certificate (validity, cA, keyCertSign, critical extensions, pathLenConstraint, name
 * constraints: RFC 5937 §2) but its signature is not. Quirks can relax those checks too, at
 * the anchor certificate's position.
 *
 * @example
 * const path = validatePath(leaf, {
 *   anchors: anchorsForFormat(trustStore, 'yubikey-piv'),
 *   intermediates: evidence.certificates,
 *   time: clock(),
 *   cache: keyCache,
 * });
 * path.certificates.map((c) => c.subject.text);   // leaf first, then each issuer
 * path.anchor.id;                                   // 'yubico-piv-root'
 */
import {
  type ErrorCode,
  type ErrorDetails,
  fail,
  isProvenanceError,
  ProvenanceError,
} from '../core/errors.js';
import { OID } from '../core/oids.js';
import type { TrustAnchor } from './anchor.js';
import { type Certificate, decodeExtension, parseExtKeyUsage } from './certificate.js';
import { type GeneralName, parseGeneralNames } from './general-names.js';
import { checkKey, DEFAULT_KEY_POLICY, KeyCache, type KeyPolicy } from './keys.js';
import {
  type ConstrainedNames,
  checkNameConstraints,
  constrainedNames,
  type NameConstraints,
  parseNameConstraints,
} from './name-constraints.js';
import { isEmptyName, NameMatcher, sameBytes } from './name-match.js';
import { type PathRole, strictProfileViolations } from './path-profile.js';
import {
  type PolicyConstraints,
  type PolicyMapping,
  type PolicyProcessingOptions,
  parseCertificatePolicies,
  parseInhibitAnyPolicy,
  parsePolicyConstraints,
  parsePolicyMappings,
  processPolicies,
} from './policy-tree.js';
import {
  DEFAULT_SIGNATURE_POLICY,
  resolveSignatureAlgorithm,
  type SignatureAlgorithmPolicy,
  verifySignature,
} from './signature.js';

/** A deviation from RFC 5280 that a quirk may accept. */
export type PathRelaxation =
  /** An issuing certificate without basicConstraints (v1/v2 CA certificates, some v3 ones). */
  | 'ca-flag-missing'
  /** An issuing certificate whose basicConstraints says cA FALSE. */
  | 'non-ca-issuer'
  /** A pathLenConstraint exceeded; `position` is the constraining certificate. */
  | 'path-length'
  /** An issuing certificate whose keyUsage lacks keyCertSign. */
  | 'key-cert-sign-missing'
  /** UTCTime-range dates encoded as GeneralizedTime (the parser's deviation of that name). */
  | 'generalized-time-before-2050'
  /** ecdsa-with-SHA* with NULL parameters in the certificate's signature algorithm. */
  | 'ecdsa-null-params'
  /** The certificate's notAfter is before the validation time. */
  | 'expired'
  /** The certificate's notBefore is after the validation time. */
  | 'not-yet-valid';

/** Every PathRelaxation, for option checking and documentation. */
export const PATH_RELAXATIONS: readonly PathRelaxation[] = [
  'ca-flag-missing',
  'non-ca-issuer',
  'path-length',
  'key-cert-sign-missing',
  'generalized-time-before-2050',
  'ecdsa-null-params',
  'expired',
  'not-yet-valid',
];

/**
 * A named, scoped deviation a caller (a format) accepts. It applies only to its relaxation,
 * at its position (when given) and only on paths that end at one of its anchors (when given).
 *
 * @example
 * { id: 'cavium-v1-ca', relax: 'ca-flag-missing', position: 1, anchorIds: ['cavium-root'] }
 */
export interface PathQuirk {
  /** Stable quirk id, reported in the result (e.g. 'yubikey-f9-no-basic-constraints'). */
  readonly id: string;
  readonly relax: PathRelaxation;
  /** Certificates from the leaf: 0 = leaf, 1 = its issuer, ... Any position when absent. */
  readonly position?: number;
  /** Only when the path ends at one of these anchors (by trust entry id). Any anchor when absent. */
  readonly anchorIds?: readonly string[];
  /**
   * Only when the path ends at an anchor whose key (hex SPKI SHA-256) is one of these: the
   * scope to use for vendor quirks, since ids are names an operator chooses and keys are not.
   * Both scopes apply when both are given.
   */
  readonly anchorSpkiSha256?: readonly string[];
}

/**
 * A quirk that was needed to accept the path. Same shape as `QuirkReport` in
 * src/formats/types.ts (which pki may not import): `position` follows the verdict convention
 * there, 0 = the attested key, so the path's leaf is position 1.
 */
export interface PathQuirkReport {
  readonly id: string;
  readonly position?: number;
  readonly detail: string;
}

/**
 * 'default': RFC 5280 §6 path validation with strict parsing. 'strict': also every RFC 5280
 * §4 rule a conforming CA MUST follow (key identifiers, criticality, serial numbers, name
 * syntax): see path-profile.ts.
 */
export type PathProfile = 'default' | 'strict';

/** Inputs of validatePath; only anchors, intermediates and time are required. */
export interface PathValidationOptions {
  /** Trust anchors, already scoped to the evidence format. Empty: TRUST_NO_ANCHORS. */
  readonly anchors: readonly TrustAnchor[];
  /** Untrusted certificates that may help build the path, in any order. */
  readonly intermediates: readonly Certificate[];
  /** Validation time, ms since the epoch. Compared at second granularity (the encoding's). */
  readonly time: number;
  /** Key policy for every key in the path, anchor and leaf included. Default DEFAULT_KEY_POLICY. */
  readonly keyPolicy?: KeyPolicy;
  /** Signature algorithm policy for every signature. Default DEFAULT_SIGNATURE_POLICY (no SHA-1). */
  readonly signaturePolicy?: SignatureAlgorithmPolicy;
  /** Decoded public keys, reused across calls. A private one per call when absent. */
  readonly cache?: KeyCache;
  /** Most certificates in a path, leaf included, anchor's own certificate not. Default 8. */
  readonly maxDepth?: number;
  /** Most signature verifications per call. Default 64. */
  readonly maxSignatureChecks?: number;
  /**
   * Most intermediate certificates between the leaf and the anchor, self-issued ones not
   * counted: a relying party's own pathLenConstraint at the anchor (RFC 5280 §6.1.2 (k)).
   */
  readonly maxIntermediates?: number;
  /** Named deviations to accept; see PathQuirk. */
  readonly quirks?: readonly PathQuirk[];
  /**
   * Critical extension OIDs the caller processes itself (e.g. a TPM-specific extension), on
   * top of the ones this validator processes (UNDERSTOOD_CRITICAL_EXTENSIONS).
   */
  readonly understoodCriticalExtensions?: readonly string[];
  /** Default 'default'. */
  readonly profile?: PathProfile;
  /**
   * KeyPurposeId OIDs the path must allow (RFC 5280 §4.2.1.12): every certificate that carries
   * extKeyUsage (the leaf, and CA certificates, whose list limits what they certify) must list
   * each of them, or anyExtendedKeyUsage.
   */
  readonly requiredExtendedKeyUsages?: readonly string[];
  /** RFC 5280 §6.1.1 (c)-(f) policy inputs. Default: any policy, nothing required. */
  readonly policy?: PolicyProcessingOptions;
}

/** A validated path. */
export interface ValidatedPath {
  /**
   * Leaf first, then each issuer up to the last certificate before the anchor key; then the
   * anchor's own certificate when it has one and it is not the leaf itself.
   */
  readonly certificates: Certificate[];
  readonly anchor: TrustAnchor;
  /** The quirks that were needed, each once per position. */
  readonly quirks: PathQuirkReport[];
  /** The user-constrained policy set (RFC 5280 §6.1.6), sorted; anyPolicy when unrestricted. */
  readonly policies: string[];
}

/** Default limits of validatePath. */
export const PATH_LIMITS = {
  maxDepth: 8,
  maxSignatureChecks: 64,
  /** Candidate issuers visited per signature check allowed (memoised checks are free). */
  visitsPerSignatureCheck: 16,
  /** Most untrusted certificates in the pool (each search step scans it). */
  maxPoolSize: 1024,
} as const;

/** Extensions this validator processes, so it accepts them when critical (RFC 5280 §6.1.3, §4.2). */
export const UNDERSTOOD_CRITICAL_EXTENSIONS: readonly string[] = [
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.policyConstraints,
  OID.policyMappings,
  OID.inhibitAnyPolicy,
  // Used to order candidate issuers; RFC 5280 says they MUST NOT be critical (the strict profile refuses that).
  OID.authorityKeyIdentifier,
  OID.subjectKeyIdentifier,
];

/**
 * Build a path from `leaf` to one of `options.anchors` and validate it (RFC 5280 §6).
 * Throws ProvenanceError: TRUST_NO_ANCHORS, PATH_* codes, KEY_TOO_WEAK / ALGORITHM_NOT_ALLOWED
 * for the algorithm policy, EXTENSION_MALFORMED / CERT_MALFORMED for bad certificates.
 * Throws TypeError for invalid options.
 *
 * @example
 * const { certificates, anchor, quirks } = validatePath(leaf, {
 *   anchors, intermediates, time: Date.now(),
 *   quirks: [{ id: 'vendor-v1-ca', relax: 'ca-flag-missing', position: 1, anchorIds: ['vendor-root'] }],
 * });
 */
export function validatePath(leaf: Certificate, options: PathValidationOptions): ValidatedPath {
  return new PathSearch(leaf, resolveOptions(options)).run();
}

interface ResolvedOptions {
  readonly anchors: readonly TrustAnchor[];
  readonly pool: readonly Certificate[];
  /** Validation time floored to the second. */
  readonly time: number;
  readonly keyPolicy: KeyPolicy;
  readonly signaturePolicy: SignatureAlgorithmPolicy;
  readonly cache: KeyCache;
  readonly maxDepth: number;
  readonly maxSignatureChecks: number;
  readonly maxVisits: number;
  readonly maxIntermediates: number | undefined;
  readonly quirks: readonly PathQuirk[];
  readonly understood: ReadonlySet<string>;
  readonly strict: boolean;
  readonly requiredEkus: readonly string[];
  readonly policy: PolicyProcessingOptions;
  readonly policyDefault: boolean;
}

function resolveOptions(o: PathValidationOptions): ResolvedOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('validatePath: options must be an object');
  if (!Array.isArray(o.anchors))
    throw new TypeError('validatePath: options.anchors must be an array of TrustAnchor');
  // Fail closed: no anchors means nothing can be trusted, never "skip validation".
  if (o.anchors.length === 0) fail('TRUST_NO_ANCHORS', 'no trust anchor is configured: refusing to validate');
  if (!Array.isArray(o.intermediates))
    throw new TypeError('validatePath: options.intermediates must be an array of Certificate');
  if (o.intermediates.length > PATH_LIMITS.maxPoolSize) {
    fail(
      'PATH_LIMIT_EXCEEDED',
      `${o.intermediates.length} intermediate certificates exceed ${PATH_LIMITS.maxPoolSize}`,
      {
        limit: PATH_LIMITS.maxPoolSize,
      },
    );
  }
  if (typeof o.time !== 'number' || !Number.isFinite(o.time))
    throw new TypeError('validatePath: options.time must be a finite number of milliseconds');
  const int = (name: string, v: number | undefined, min: number, dflt: number | undefined) => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < min)
      throw new TypeError(`validatePath: options.${name} must be an integer >= ${min}`);
    return v;
  };
  const maxSignatureChecks = int(
    'maxSignatureChecks',
    o.maxSignatureChecks,
    1,
    PATH_LIMITS.maxSignatureChecks,
  )!;
  for (const q of o.quirks ?? []) {
    if (typeof q?.id !== 'string' || q.id === '')
      throw new TypeError('validatePath: every quirk needs an id');
    if (!PATH_RELAXATIONS.includes(q.relax))
      throw new TypeError(`validatePath: quirk ${q.id} has unknown relax "${q.relax}"`);
    if (q.position !== undefined && (!Number.isInteger(q.position) || q.position < 0))
      throw new TypeError(`validatePath: quirk ${q.id} position must be an integer >= 0`);
  }
  if (o.profile !== undefined && o.profile !== 'default' && o.profile !== 'strict')
    throw new TypeError('validatePath: options.profile must be "default" or "strict"');
  const policy = o.policy ?? {};
  return {
    anchors: o.anchors,
    pool: o.intermediates,
    time: Math.floor(o.time / 1000) * 1000,
    keyPolicy: o.keyPolicy ?? DEFAULT_KEY_POLICY,
    signaturePolicy: o.signaturePolicy ?? DEFAULT_SIGNATURE_POLICY,
    cache: o.cache ?? new KeyCache(),
    maxDepth: int('maxDepth', o.maxDepth, 1, PATH_LIMITS.maxDepth)!,
    maxSignatureChecks,
    maxVisits: maxSignatureChecks * PATH_LIMITS.visitsPerSignatureCheck,
    maxIntermediates: int('maxIntermediates', o.maxIntermediates, 0, undefined),
    quirks: o.quirks ?? [],
    understood: new Set([...UNDERSTOOD_CRITICAL_EXTENSIONS, ...(o.understoodCriticalExtensions ?? [])]),
    strict: o.profile === 'strict',
    requiredEkus: o.requiredExtendedKeyUsages ?? [],
    policy,
    policyDefault:
      policy.requireExplicitPolicy !== true &&
      policy.inhibitPolicyMapping !== true &&
      policy.inhibitAnyPolicy !== true &&
      (policy.initialPolicySet === undefined || policy.initialPolicySet.includes(OID.anyPolicy)),
  };
}

/** A failed check, before it is placed in a path. */
interface Check {
  readonly code: ErrorCode;
  readonly message: string;
  /** Set when a quirk may accept the deviation. */
  readonly relax?: PathRelaxation;
  readonly details?: ErrorDetails;
}

/** A failed check at a position of a candidate path. */
interface Violation extends Check {
  readonly position: number;
  /** The certificate at fault; null for a key-only anchor. */
  readonly cert: Certificate | null;
}

/** Extensions decoded once per certificate per validation. */
interface DecodedExtensions {
  readonly subjectAltName: readonly GeneralName[] | null;
  readonly extKeyUsage: readonly string[] | null;
  readonly nameConstraints: NameConstraints | null;
  readonly policies: readonly string[] | null;
  readonly policyMappings: readonly PolicyMapping[] | null;
  readonly policyConstraints: PolicyConstraints | null;
  readonly inhibitAnyPolicy: number | null;
}

const NO_EXTENSIONS: DecodedExtensions = {
  subjectAltName: null,
  extKeyUsage: null,
  nameConstraints: null,
  policies: null,
  policyMappings: null,
  policyConstraints: null,
  inhibitAnyPolicy: null,
};

interface Facts {
  readonly ext: DecodedExtensions;
  /** Subject and issuer are the same name (RFC 5280 §6.1, compared per §7.1). */
  readonly selfIssued: boolean;
  /** ecdsa-with-SHA* with NULL parameters that the signature policy does not allow. */
  readonly nullParams: boolean;
  /** Checks that do not depend on the certificate's role. */
  readonly common: readonly Check[];
  readonly byRole: Map<PathRole, readonly Check[]>;
  names: ConstrainedNames | null;
}

/**
 * Failure ranking: the error worth reporting comes from the candidate path whose
 * signature-verified prefix got furthest. At equal depth a defect of a verified certificate
 * (expired, not a CA) says more than a link that does not verify, and a path that reached an
 * anchor beats every partial one.
 */
const SCORE = {
  /** Nothing issued the certificate at `pos`. */
  deadEnd: (pos: number) => pos * 4,
  /** A candidate issuer of the certificate at `pos` did not sign it. */
  badSignature: (pos: number) => pos * 4 + 1,
  /** The verified issuer at `p` failed its own checks. */
  badIssuer: (p: number) => p * 4 + 2,
  /** The path could not grow past `pos` within maxDepth. */
  depthLimit: (pos: number) => pos * 4 + 3,
  /** A path of `n` certificates reached an anchor and failed a whole-path check. */
  complete: (n: number) => 1000 + n * 4 + 3,
};

class PathSearch {
  private readonly matcher = new NameMatcher();
  private readonly facts = new Map<Certificate, Facts>();
  private readonly signatures = new Map<string, Check | null>();
  private readonly keyChecks = new Map<Uint8Array, Check | null>();
  private readonly poolIndex = new Map<Certificate, number>();
  private readonly relaxedSignaturePolicy: SignatureAlgorithmPolicy;
  private readonly chain: Certificate[] = [];
  /** Deviations on the current partial path that a quirk may accept once the anchor is known. */
  private readonly pending: Violation[] = [];
  private signatureChecks = 0;
  private visits = 0;
  private best: { score: number; violation: Violation } | null = null;

  constructor(
    private readonly leaf: Certificate,
    private readonly o: ResolvedOptions,
  ) {
    o.pool.forEach((c, i) => {
      if (!this.poolIndex.has(c)) this.poolIndex.set(c, i);
    });
    this.relaxedSignaturePolicy = { ...o.signaturePolicy, allowEcdsaNullParams: true };
  }

  run(): ValidatedPath {
    // The leaf's own checks come first: no path can repair them.
    const fatal = this.admit(this.violations(this.leaf, 0, 'leaf'));
    if (fatal) throw this.toError(fatal);
    this.chain.push(this.leaf);
    const found = this.search();
    if (found) return found;
    throw this.toError(
      this.best?.violation ?? {
        code: 'PATH_NOT_FOUND',
        message: 'no certification path to a trust anchor',
        position: 0,
        cert: this.leaf,
      },
    );
  }

  // --- search ---------------------------------------------------------------------------------

  private search(): ValidatedPath | null {
    const pos = this.chain.length - 1;
    const child = this.chain[pos]!;
    let tried = 0;

    // A leaf that is itself an anchor (same key and name): the path is the leaf alone.
    const leafAnchors = new Set<TrustAnchor>();
    if (pos === 0) {
      for (const a of this.o.anchors) {
        if (sameBytes(a.spki, child.spki) && this.matcher.matches(a.subject, child.subject)) {
          tried++;
          leafAnchors.add(a);
          const r = this.complete(a, true);
          if (r) return r;
        }
      }
    }

    // Anchors first: the shortest path is the one to prefer (RFC 4158 §3.5).
    for (const [anchor, index] of this.anchorCandidates(child)) {
      if (leafAnchors.has(anchor)) continue;
      tried++;
      this.tick();
      const bad = this.verifyEdge(child, pos, anchor.spki, `a${index}`, anchor.subject.text);
      if (bad) {
        this.record(SCORE.badSignature(pos), bad);
        continue;
      }
      const r = this.complete(anchor, false);
      if (r) return r;
    }

    const candidates = this.issuerCandidates(child);
    if (candidates.length > 0 && this.chain.length >= this.o.maxDepth) {
      this.record(SCORE.depthLimit(pos), {
        code: 'PATH_LIMIT_EXCEEDED',
        message: `the path would exceed ${this.o.maxDepth} certificates`,
        position: pos,
        cert: child,
        details: { maxDepth: this.o.maxDepth },
      });
      return null;
    }
    for (const [cand, index] of candidates) {
      tried++;
      this.tick();
      const bad = this.verifyEdge(child, pos, cand.spki, `p${index}`, cand.subject.text);
      if (bad) {
        this.record(SCORE.badSignature(pos), bad);
        continue;
      }
      const p = pos + 1;
      const mark = this.pending.length;
      const fatal =
        this.admit(this.violations(cand, p, 'issuer')) ?? this.admit(this.constraintViolations(cand, p));
      if (fatal) {
        this.pending.length = mark;
        this.record(SCORE.badIssuer(p), fatal);
        continue;
      }
      this.chain.push(cand);
      const r = this.search();
      this.chain.pop();
      this.pending.length = mark;
      if (r) return r;
    }

    if (tried === 0) {
      this.record(SCORE.deadEnd(pos), {
        code: 'PATH_NOT_FOUND',
        message: `no trust anchor or intermediate certificate issued it (issuer "${child.issuer.text}")`,
        position: pos,
        cert: child,
      });
    }
    return null;
  }

  /** The path in `chain` ends at `anchor`: run the whole-path checks and resolve quirks. */
  private complete(anchor: TrustAnchor, leafIsAnchor: boolean): ValidatedPath | null {
    const n = this.chain.length;
    const mark = this.pending.length;
    const reject = (v: Violation): null => {
      this.record(SCORE.complete(n), { ...v, details: { ...v.details, anchor: anchor.id } });
      return null;
    };
    try {
      // The key that verified the last signature is the anchor's own: the key policy applies
      // to it whether or not the anchor has a certificate (the same check, memoised, when it has).
      const keyProblem = this.keyCheck(anchor.spki);
      if (keyProblem) {
        return reject({
          ...keyProblem,
          position: n,
          cert: null,
          details: { ...keyProblem.details, spkiSha256: anchor.spkiSha256 },
        });
      }
      const ac = leafIsAnchor ? null : anchor.certificate;
      if (ac !== null) {
        const fatal =
          this.admit(this.violations(ac, n, 'anchor')) ?? this.admit(this.constraintViolations(ac, n));
        if (fatal) return reject(fatal);
      }
      if (this.o.maxIntermediates !== undefined) {
        const count = this.nonSelfIssuedBelow(n);
        if (count > this.o.maxIntermediates) {
          return reject({
            code: 'PATH_LENGTH_EXCEEDED',
            message: `${count} intermediate certificates exceed the limit of ${this.o.maxIntermediates}`,
            position: n - 1,
            cert: this.chain[n - 1]!,
            details: { maxIntermediates: this.o.maxIntermediates },
          });
        }
      }
      const policies = this.checkPolicies();
      if (!Array.isArray(policies)) return reject(policies);

      // Quirk scope (the anchor is known now): every pending deviation needs a quirk.
      const reports: PathQuirkReport[] = [];
      for (const v of this.pending) {
        const q = this.o.quirks.find(
          (q) =>
            q.relax === v.relax &&
            (q.position === undefined || q.position === v.position) &&
            (q.anchorIds === undefined || q.anchorIds.includes(anchor.id)) &&
            (q.anchorSpkiSha256 === undefined || q.anchorSpkiSha256.includes(anchor.spkiSha256)),
        );
        if (!q) return reject(v);
        const position = v.position + 1;
        if (!reports.some((r) => r.id === q.id && r.position === position)) {
          reports.push({ id: q.id, position, detail: `${v.relax}: ${v.message}` });
        }
      }
      return {
        certificates: ac === null ? [...this.chain] : [...this.chain, ac],
        anchor,
        quirks: reports,
        policies,
      };
    } finally {
      this.pending.length = mark;
    }
  }

  private anchorCandidates(child: Certificate): [TrustAnchor, number][] {
    const out: [TrustAnchor, number][] = [];
    const anchors = this.o.anchors;
    for (let i = 0; i < anchors.length; i++) {
      if (this.matcher.matches(child.issuer, anchors[i]!.subject)) out.push([anchors[i]!, i]);
    }
    if (out.length > 1) {
      out.sort(
        ([a], [b]) =>
          keyIdRank(child, a.certificate?.subjectKeyId ?? null) -
          keyIdRank(child, b.certificate?.subjectKeyId ?? null),
      );
    }
    return out;
  }

  private issuerCandidates(child: Certificate): [Certificate, number][] {
    const out: [Certificate, number][] = [];
    for (const [cand, index] of this.poolIndex) {
      if (!this.matcher.matches(child.issuer, cand.subject)) continue;
      if (this.inChain(cand) || this.isAnchorKey(cand)) continue;
      out.push([cand, index]);
    }
    if (out.length > 1) {
      const t = this.o.time;
      const rank = (c: Certificate) =>
        keyIdRank(child, c.subjectKeyId) * 2 + (t >= c.notBefore && t <= c.notAfter ? 0 : 1);
      out.sort(([a], [b]) => rank(a) - rank(b));
    }
    return out;
  }

  /** RFC 4158 §5.2 loop detection: the same certificate, or the same name and key, is not used twice. */
  private inChain(cand: Certificate): boolean {
    for (const c of this.chain) {
      if (c === cand || (sameBytes(c.spki, cand.spki) && this.matcher.matches(c.subject, cand.subject)))
        return true;
    }
    return false;
  }

  /** A pool copy of an anchor: the anchor step already covers it. */
  private isAnchorKey(cand: Certificate): boolean {
    return this.o.anchors.some(
      (a) => sameBytes(a.spki, cand.spki) && this.matcher.matches(a.subject, cand.subject),
    );
  }

  private tick(): void {
    if (++this.visits > this.o.maxVisits) {
      fail('PATH_LIMIT_EXCEEDED', `path building visited more than ${this.o.maxVisits} candidate issuers`, {
        maxVisits: this.o.maxVisits,
      });
    }
  }

  private record(score: number, violation: Violation): void {
    if (this.best === null || score > this.best.score) this.best = { score, violation };
  }

  /** Put deviations a quirk may accept aside; return the first one no quirk can accept. */
  private admit(violations: readonly Violation[]): Violation | null {
    for (const v of violations) {
      if (v.relax !== undefined && this.quirkMayApply(v.relax, v.position)) this.pending.push(v);
      else return v;
    }
    return null;
  }

  private quirkMayApply(relax: PathRelaxation, position: number): boolean {
    return this.o.quirks.some(
      (q) => q.relax === relax && (q.position === undefined || q.position === position),
    );
  }

  // --- signatures -----------------------------------------------------------------------------

  /** RFC 5280 §6.1.3 (a)(1): the certificate at `pos` is signed by the key in `spki`. */
  private verifyEdge(
    child: Certificate,
    pos: number,
    spki: Uint8Array,
    issuerId: string,
    issuerName: string,
  ): Violation | null {
    const memoKey = `${pos === 0 ? 'L' : this.poolIndex.get(child)}>${issuerId}`;
    let check = this.signatures.get(memoKey);
    if (check === undefined) {
      if (++this.signatureChecks > this.o.maxSignatureChecks) {
        fail(
          'PATH_LIMIT_EXCEEDED',
          `path building needed more than ${this.o.maxSignatureChecks} signature checks`,
          {
            maxSignatureChecks: this.o.maxSignatureChecks,
          },
        );
      }
      check = null;
      try {
        const relaxed = this.factsOf(child).nullParams;
        const policy = relaxed ? this.relaxedSignaturePolicy : this.o.signaturePolicy;
        // The certificate's hash covers TBS, algorithm and signature; with the key's exact bytes
        // and the policy, it names the outcome (KeyCache.hasVerified). Successes only.
        const verifiedId = `${child.fingerprintSha256}|${policyTag(policy, relaxed)}|${latin1(spki)}`;
        const ok =
          this.o.cache.hasVerified(verifiedId) ||
          verifySignature(child.signatureAlgorithm, child.tbs, child.signature, spki, {
            cache: this.o.cache,
            policy,
          });
        if (ok) this.o.cache.markVerified(verifiedId);
        if (!ok)
          check = {
            code: 'PATH_SIGNATURE_INVALID',
            message: `signature does not verify with the key of "${issuerName}"`,
          };
      } catch (err) {
        if (!isProvenanceError(err)) throw err;
        check = {
          code: err.code === 'SIGNATURE_INVALID' ? 'PATH_SIGNATURE_INVALID' : err.code,
          message: `signature cannot be checked with the key of "${issuerName}": ${err.message}`,
        };
      }
      this.signatures.set(memoKey, check);
    }
    return (
      check && { ...check, position: pos, cert: child, details: { ...check.details, issuer: issuerName } }
    );
  }

  // --- per-certificate checks -----------------------------------------------------------------

  private violations(cert: Certificate, position: number, role: PathRole): Violation[] {
    const f = this.factsOf(cert);
    let roleChecks = f.byRole.get(role);
    if (roleChecks === undefined) {
      roleChecks = this.roleChecks(cert, f, role);
      f.byRole.set(role, roleChecks);
    }
    const all = f.common.length === 0 ? roleChecks : [...f.common, ...roleChecks];
    return all.map((c) => ({ ...c, position, cert }));
  }

  private factsOf(cert: Certificate): Facts {
    let f = this.facts.get(cert);
    if (f === undefined) {
      f = this.computeFacts(cert);
      this.facts.set(cert, f);
    }
    return f;
  }

  private computeFacts(cert: Certificate): Facts {
    const common: Check[] = [];
    const t = this.o.time;
    // RFC 5280 §6.1.3 (a)(2): the certificate is valid at the validation time (bounds inclusive, §4.1.2.5).
    if (t < cert.notBefore) {
      common.push({
        code: 'PATH_CERT_NOT_YET_VALID',
        message: `not valid before ${new Date(cert.notBefore).toISOString()}`,
        relax: 'not-yet-valid',
        details: { notBefore: cert.notBefore, time: t },
      });
    }
    if (t > cert.notAfter) {
      common.push({
        code: 'PATH_CERT_EXPIRED',
        message: `expired at ${new Date(cert.notAfter).toISOString()}`,
        relax: 'expired',
        details: { notAfter: cert.notAfter, time: t },
      });
    }
    // Encoding rules the parser tolerated but the profile does not (e.g. GeneralizedTime before 2050).
    for (const d of cert.deviations) {
      const relax = PATH_RELAXATIONS.find((r) => r === d);
      common.push({
        code: 'CERT_MALFORMED',
        message: `encoding deviation '${d}' (RFC 5280 §4.1.2.5)`,
        ...(relax === undefined ? {} : { relax }),
        details: { deviation: d },
      });
    }
    // The key policy applies to every key of the path (RSA size, curves, explicit parameters).
    const keyProblem = this.keyCheck(cert.spki);
    if (keyProblem) common.push(keyProblem);
    // RFC 5280 §6.1.4 (o) / §6.1.5 (f): a critical extension that is not processed rejects the path.
    for (const e of cert.extensions) {
      if (e.critical && !this.o.understood.has(e.oid)) {
        common.push({
          code: 'PATH_UNKNOWN_CRITICAL_EXTENSION',
          message: `critical extension ${e.oid} is not understood`,
          details: { oid: e.oid },
        });
      }
    }
    let ext = NO_EXTENSIONS;
    try {
      ext = decodeExtensions(cert, this.o.strict);
    } catch (err) {
      if (!isProvenanceError(err)) throw err;
      common.push({ code: err.code, message: err.message, details: err.details });
    }
    const alg = cert.signatureAlgorithm;
    return {
      ext,
      selfIssued: this.matcher.matches(cert.subject, cert.issuer),
      nullParams:
        !this.o.signaturePolicy.allowEcdsaNullParams &&
        alg.oid.startsWith('1.2.840.10045.4.') &&
        alg.params !== null &&
        alg.params.length === 2 &&
        alg.params[0] === 0x05 &&
        alg.params[1] === 0x00,
      common,
      byRole: new Map(),
      names: null,
    };
  }

  private roleChecks(cert: Certificate, f: Facts, role: PathRole): Check[] {
    const out: Check[] = [];
    if (role !== 'anchor') {
      // Its signature will be verified: the algorithm must pass the policy (no MD5, no SHA-1 by default).
      try {
        resolveSignatureAlgorithm(cert.signatureAlgorithm, this.relaxedSignaturePolicy);
      } catch (err) {
        if (!isProvenanceError(err)) throw err;
        out.push({ code: err.code, message: err.message, details: err.details });
      }
      if (f.nullParams) {
        out.push({
          code: 'ALGORITHM_NOT_ALLOWED',
          message: 'ecdsa-with-SHA* signature algorithm with NULL parameters (RFC 5758 §3.2: absent)',
          relax: 'ecdsa-null-params',
        });
      }
    }
    // RFC 5280 §4.2.1.12 on the leaf; on CA certificates, extKeyUsage is read (as CA/Browser
    // Forum, NSS and Go do) as limiting the purposes of everything they certify.
    const ekus = f.ext.extKeyUsage;
    if (ekus !== null && !ekus.includes(OID.anyExtendedKeyUsage)) {
      for (const required of this.o.requiredEkus) {
        if (!ekus.includes(required)) {
          out.push({
            code: 'PATH_INVALID',
            message: `extKeyUsage does not allow ${required} (RFC 5280 §4.2.1.12)`,
            details: { required, extKeyUsage: [...ekus] },
          });
        }
      }
    }
    if (role !== 'leaf') {
      // RFC 5280 §6.1.4 (k): an issuing certificate must be a CA (basicConstraints cA TRUE).
      const bc = cert.basicConstraints;
      if (bc === null) {
        out.push({
          code: 'PATH_NOT_CA',
          message: 'issues certificates but has no basicConstraints (RFC 5280 §6.1.4 (k))',
          relax: 'ca-flag-missing',
        });
      } else if (!bc.ca) {
        out.push({
          code: 'PATH_NOT_CA',
          message: 'issues certificates but basicConstraints says cA FALSE (RFC 5280 §6.1.4 (k))',
          relax: 'non-ca-issuer',
        });
      }
      // RFC 5280 §6.1.4 (n): when keyUsage is present, keyCertSign must be set.
      if (!cert.allowsKeyUsage('keyCertSign')) {
        out.push({
          code: 'PATH_KEY_USAGE',
          message: 'keyUsage lacks keyCertSign (RFC 5280 §6.1.4 (n))',
          relax: 'key-cert-sign-missing',
        });
      }
      // RFC 5280 §4.1.2.6: a CA's subject MUST be non-empty; names are how paths chain.
      if (isEmptyName(cert.subject)) {
        out.push({
          code: 'PATH_INVALID',
          message: 'issuing certificate with an empty subject (RFC 5280 §4.1.2.6)',
        });
      }
    }
    if (this.o.strict) {
      for (const v of strictProfileViolations(cert, role, f.ext, f.selfIssued)) out.push(v);
    }
    return out;
  }

  private keyCheck(spki: Uint8Array): Check | null {
    let check = this.keyChecks.get(spki);
    if (check === undefined) {
      check = null;
      try {
        checkKey(spki, this.o.keyPolicy);
      } catch (err) {
        if (!isProvenanceError(err)) throw err;
        check = { code: err.code, message: err.message, details: err.details };
      }
      this.keyChecks.set(spki, check);
    }
    return check;
  }

  // --- constraints that depend on the certificates below ---------------------------------------

  /**
   * Checks of `cert` as the issuer at position `p` that depend on the path below it:
   * pathLenConstraint (RFC 5280 §6.1.4 (l),(m)) and name constraints (§6.1.3 (b),(c), §6.1.4 (g)).
   */
  private constraintViolations(cert: Certificate, p: number): Violation[] {
    const out: Violation[] = [];
    const pathLen = cert.basicConstraints?.pathLen;
    if (pathLen != null) {
      // Non-self-issued intermediates between it and the leaf; the leaf itself never counts.
      const below = this.nonSelfIssuedBelow(p);
      if (below > pathLen) {
        out.push({
          code: 'PATH_LENGTH_EXCEEDED',
          message: `pathLenConstraint ${pathLen} is exceeded by ${below} intermediate certificates below it`,
          relax: 'path-length',
          position: p,
          cert,
          details: { pathLen, intermediates: below },
        });
      }
    }
    const nc = this.factsOf(cert).ext.nameConstraints;
    if (nc !== null) {
      for (let k = 0; k < p; k++) {
        const c = this.chain[k]!;
        const f = this.factsOf(c);
        // §6.1.3 (b): self-issued intermediates are exempt; the leaf never is.
        if (k > 0 && f.selfIssued) continue;
        f.names ??= constrainedNames(c, f.ext.subjectAltName);
        let problem: string | null;
        try {
          problem = checkNameConstraints(nc, f.names, this.matcher);
        } catch (err) {
          if (!isProvenanceError(err)) throw err;
          out.push({ code: err.code, message: err.message, position: k, cert: c, details: err.details });
          continue;
        }
        if (problem !== null) {
          out.push({
            code: 'PATH_NAME_CONSTRAINTS',
            message: `${problem} of the name constraints of "${cert.subject.text}" (RFC 5280 §4.2.1.10)`,
            position: k,
            cert: c,
            details: { constrainedBy: p },
          });
        }
      }
    }
    return out;
  }

  /** Intermediates at positions 1..p-1 that are not self-issued (RFC 5280 §6.1.4 (l)). */
  private nonSelfIssuedBelow(p: number): number {
    let count = 0;
    for (let k = 1; k < p && k < this.chain.length; k++)
      if (!this.factsOf(this.chain[k]!).selfIssued) count++;
    return count;
  }

  /** RFC 5280 policy processing over the path, anchor side first. Returns the policies or a violation. */
  private checkPolicies(): string[] | Violation {
    const n = this.chain.length;
    let any = !this.o.policyDefault;
    for (let k = 0; k < n && !any; k++) {
      const e = this.factsOf(this.chain[k]!).ext;
      any =
        e.policies !== null ||
        e.policyMappings !== null ||
        e.policyConstraints !== null ||
        e.inhibitAnyPolicy !== null;
    }
    // No policy extension anywhere and nothing required: the tree is NULL after certificate 1
    // (§6.1.3 (e)) and explicit_policy stays positive, so processing succeeds with no policy.
    if (!any) return [];
    const path = [];
    for (let k = n - 1; k >= 0; k--) {
      const f = this.factsOf(this.chain[k]!);
      path.push({
        policies: f.ext.policies,
        mappings: f.ext.policyMappings,
        constraints: f.ext.policyConstraints,
        inhibitAnyPolicy: f.ext.inhibitAnyPolicy,
        selfIssued: f.selfIssued,
      });
    }
    const r = processPolicies(path, this.o.policy);
    if (r.ok) return r.policies;
    const position = n - 1 - r.index;
    return {
      code: r.code,
      message: `${r.reason} (RFC 5280 §6.1)`,
      position,
      cert: this.chain[position]!,
    };
  }

  private toError(v: Violation): ProvenanceError {
    const details: ErrorDetails = { position: v.position };
    if (v.cert) {
      details.subject = v.cert.subject.text;
      details.spkiSha256 = v.cert.spkiSha256;
    }
    Object.assign(details, v.details);
    const who = v.cert
      ? `certificate ${v.position} ("${v.cert.subject.text}")`
      : `trust anchor key at ${v.position}`;
    return new ProvenanceError(v.code, `${who}: ${v.message}`, details);
  }
}

/** 0 when the child's authorityKeyIdentifier names the candidate, 1 when unknown, 2 when it names another key. */
function keyIdRank(child: Certificate, subjectKeyId: Uint8Array | null): number {
  const aki = child.authorityKeyId;
  if (aki === null || subjectKeyId === null) return 1;
  return sameBytes(aki, subjectKeyId) ? 0 : 2;
}

/** Decode the extensions path validation processes; throws EXTENSION_MALFORMED naming the OID. */
function decodeExtensions(cert: Certificate, strict: boolean): DecodedExtensions {
  let subjectAltName: GeneralName[] | null = null;
  let extKeyUsage: string[] | null = null;
  let nameConstraints: NameConstraints | null = null;
  let policies: string[] | null = null;
  let policyMappings: PolicyMapping[] | null = null;
  let policyConstraints: PolicyConstraints | null = null;
  let inhibitAnyPolicy: number | null = null;
  for (const e of cert.extensions) {
    switch (e.oid) {
      case OID.subjectAltName:
        subjectAltName = decodeStrict(e, parseGeneralNames);
        break;
      case OID.extKeyUsage:
        extKeyUsage = decodeStrict(e, parseExtKeyUsage);
        break;
      case OID.nameConstraints:
        nameConstraints = decodeStrict(e, (v) => parseNameConstraints(v, { strict }));
        break;
      case OID.certificatePolicies:
        policies = decodeStrict(e, parseCertificatePolicies);
        break;
      case OID.policyMappings:
        policyMappings = decodeStrict(e, parsePolicyMappings);
        break;
      case OID.policyConstraints:
        policyConstraints = decodeStrict(e, parsePolicyConstraints);
        break;
      case OID.inhibitAnyPolicy:
        inhibitAnyPolicy = decodeStrict(e, parseInhibitAnyPolicy);
        break;
      default:
        break;
    }
  }
  return {
    subjectAltName,
    extKeyUsage,
    nameConstraints,
    policies,
    policyMappings,
    policyConstraints,
    inhibitAnyPolicy,
  };
}

/** decodeExtension, also mapping a malformed Name inside an extension to EXTENSION_MALFORMED. */
function decodeStrict<T>(ext: Certificate['extensions'][number], decode: (value: Uint8Array) => T): T {
  try {
    return decodeExtension(ext, decode);
  } catch (err) {
    if (isProvenanceError(err, 'CERT_MALFORMED')) {
      throw new ProvenanceError(
        'EXTENSION_MALFORMED',
        `extension ${ext.oid}: ${err.message}`,
        { oid: ext.oid },
        { cause: err },
      );
    }
    throw err;
  }
}

const POLICY_TAGS = new WeakMap<SignatureAlgorithmPolicy, string>();

/** A tag naming a signature policy by its content, for KeyCache.hasVerified ids (memoised per object). */
function policyTag(policy: SignatureAlgorithmPolicy, relaxed: boolean): string {
  let tag = POLICY_TAGS.get(policy);
  if (tag === undefined) {
    tag = JSON.stringify(policy);
    POLICY_TAGS.set(policy, tag);
  }
  return `${relaxed ? 'r' : 'n'}${tag}`;
}

/** Bytes as a latin1 string: a cheap exact map key. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
