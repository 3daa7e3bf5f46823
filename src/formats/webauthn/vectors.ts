/**
 * Running recorded WebAuthn test vectors (the JSON fixture shape of the shared vectors'
 * MANIFEST: `{ expectedChallenge | expectedChallenge_b64url, expectedOrigin, expectedRPID,
 * verifyAt, expected, response }`, or python-fido2 parts) through the real verifier at the
 * pinned time, so a conformance runner compares verdicts with the source library's outcome.
 *
 * Anchors: the fixtures carry no trust decisions, so unless `trust` is given the last x5c
 * certificate stands in as the anchor (the chain is checked within itself, as the source
 * libraries do without configured roots). Self and none attestations reject with
 * ATTESTATION_SELF / ATTESTATION_NONE (a documented Provenance decision): `statementOk` says
 * whether the statement itself verified.
 *
 * @example
 * const r = verifyWebauthnVector(JSON.parse(text), {});
 * if (r.statementOk !== r.expectedVerified) report(r);
 */
import { fail, isProvenanceError } from '../../core/errors.js';
import type { Certificate } from '../../pki/certificate.js';
import { policyFromOptions } from '../../policy/from-options.js';
import type { MdsIndex } from '../../trust/mds/types.js';
import { createVerifier, type Verdict } from '../../verify/verifier.js';
import type { EvidenceInput } from '../types.js';
import { decodeBase64Lenient } from './containers.js';
import { readX5c } from './helpers.js';
import { createWebauthnFormat, type WebauthnFormatOptions } from './index.js';
import { webauthnEvidenceFromJson } from './input.js';

/** Options of `verifyWebauthnVector`. */
export interface WebauthnVectorOptions {
  /** Trust anchors scoped to 'webauthn'; default: the last x5c certificate. */
  readonly trust?: readonly Certificate[];
  readonly mds?: MdsIndex;
  /** Override the fixture's verifyAt (ms). Default: verifyAt, else `now`. */
  readonly at?: number;
  /** Used when the fixture has no verifyAt. */
  readonly now?: number;
  /**
   * When the fixture has no verifyAt (the source ran on its real clock, years ago): verify one
   * minute after the latest notBefore in x5c instead of `now`, so short-lived leaves are valid.
   */
  readonly pinToChain?: boolean;
  readonly format?: WebauthnFormatOptions;
}

/** The outcome of one vector. */
export interface WebauthnVectorResult {
  readonly verdict: Verdict;
  /** True when everything up to the path verified (self/none count as verified statements). */
  readonly statementOk: boolean;
  /** `expected.verified` from the fixture, or null when it has none. */
  readonly expectedVerified: boolean | null;
  /** The error substring the source library asserts, when any. */
  readonly expectedError: string | null;
  readonly fmt: string | null;
  /**
   * Why the source's expectation cannot be reproduced from the data file (a custom challenge
   * verifier function, a custom expected client data type), or null.
   */
  readonly unreproducible: string | null;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strings(v: unknown): string | readonly string[] | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return v as string[];
  return undefined;
}

/** Verify one recorded fixture at its pinned time. Never throws for bad evidence. */
export function verifyWebauthnVector(
  fixture: unknown,
  options: WebauthnVectorOptions = {},
): WebauthnVectorResult {
  if (typeof fixture !== 'object' || fixture === null)
    return fail('USAGE', 'a vector fixture is a JSON object');
  const f = fixture as Record<string, unknown>;
  const expected = (f['expected'] ?? null) as Record<string, unknown> | null;
  const expectedVerified =
    typeof expected?.['verified'] === 'boolean' ? (expected['verified'] as boolean) : null;
  const expectedError = text(expected?.['error']) ?? text(expected?.['message']) ?? null;
  const verifyAt = text(f['verifyAt']);
  let at = options.at ?? (verifyAt ? Date.parse(verifyAt) : (options.now ?? Date.now()));
  // SimpleWebAuthn's expectedChallenge is the base64url text of clientData.challenge.
  const challengeText = text(f['expectedChallenge_b64url']) ?? text(f['expectedChallenge']);
  const origin = strings(f['expectedOrigin']);
  const rpId = strings(f['expectedRPID']);
  const options_ = (f['options'] ?? {}) as Record<string, unknown>;
  const unreproducible =
    f['expectedChallenge'] !== undefined && typeof f['expectedChallenge'] !== 'string'
      ? 'the source checks the challenge with a custom function'
      : options_['expectedType'] !== undefined
        ? 'the source expects a custom client data type'
        : null;

  let input: EvidenceInput | null = null;
  let fmt: string | null = null;
  let trust: readonly Certificate[] = options.trust ?? [];
  const decodeFailure = (err: unknown): WebauthnVectorResult => {
    if (!isProvenanceError(err)) throw err;
    const verifier = createVerifier({ policy: policyFromOptions({ trust: [], formats: ['webauthn'] }) });
    const verdict = verifier.verify({ kind: 'certificates', certificates: [] }, { at });
    return {
      verdict: { ...verdict, code: err.code, message: err.message },
      statementOk: false,
      expectedVerified,
      expectedError,
      fmt,
      unreproducible,
    };
  };
  try {
    input = webauthnEvidenceFromJson('response' in f ? f['response'] : f);
    if (!input || (input.kind !== 'webauthn-attestation' && input.kind !== 'webauthn-registration'))
      return fail('INPUT_UNRECOGNIZED', 'not a WebAuthn fixture');
    fmt = input.attestation.fmt;
    if (!options.trust) {
      const stmt = input.attestation.attStmt;
      const x5c = stmt instanceof Map ? stmt.get('x5c') : undefined;
      if (x5c !== undefined) {
        const certs = readX5c(x5c, fmt);
        trust = [certs[certs.length - 1]!];
      }
    }
    if (options.pinToChain && options.at === undefined && !verifyAt) {
      const stmt = input.attestation.attStmt;
      const x5c = stmt instanceof Map ? stmt.get('x5c') : undefined;
      if (x5c !== undefined) at = Math.max(...readX5c(x5c, fmt).map((c) => c.notBefore)) + 60_000;
    }
  } catch (err) {
    return decodeFailure(err);
  }
  const policy = policyFromOptions({ trust: [...trust], formats: ['webauthn'] });
  const verifier = createVerifier({
    policy,
    formats: [createWebauthnFormat(options.format)],
    ...(options.mds ? { mds: options.mds } : {}),
  });
  let challenge: Uint8Array | undefined;
  try {
    challenge =
      challengeText === undefined ? undefined : decodeBase64Lenient(challengeText, 'expectedChallenge');
  } catch (err) {
    return decodeFailure(err);
  }
  const verdict = verifier.verify(input, {
    at,
    webauthn: {
      ...(origin === undefined ? {} : { origin }),
      ...(rpId === undefined ? {} : { rpId }),
      ...(challenge === undefined ? {} : { challenge }),
    },
  });
  const statementOk =
    verdict.accepted || verdict.code === 'ATTESTATION_SELF' || verdict.code === 'ATTESTATION_NONE';
  return { verdict, statementOk, expectedVerified, expectedError, fmt, unreproducible };
}
