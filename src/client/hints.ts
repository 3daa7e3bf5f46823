/**
 * What a customer can do about a refused enrollment: one sentence per error code, written for
 * the person holding the token, not for the operator.
 *
 * @example
 * catch (err) { if (isProvenanceError(err)) console.error(`what to do: ${enrollmentHint(err.code)}`); }
 */
import type { ErrorCode } from '../core/errors.js';

const RETRY =
  'run the same command again: it fetches a fresh challenge (a challenge is single-use and short-lived).';
const NEW_CODE =
  'ask the institution for a new enrollment code (each code yields one certificate and expires).';
const WRONG_TOKEN =
  'this token model is not accepted by the institution: ask them which tokens they accept, and enroll with one of those.';
const CHAIN =
  "the token's attestation does not lead to a manufacturer the institution trusts: use a genuine token from an accepted maker, or ask the institution.";
const NEW_KEY =
  'make a new key that meets the policy: run again with a new --label (and --alg, --pin-policy or --touch-policy as the institution requires).';
const SERVICE =
  'the service could not complete the enrollment: try again later, and tell the institution if it persists.';

const HINTS: Partial<Record<ErrorCode, string>> = {
  CHALLENGE_INVALID: RETRY,
  NONCE_MISMATCH: RETRY,
  NONCE_MISSING: RETRY,
  ENROLLMENT_CODE_USED: NEW_CODE,
  ENROLLMENT_CODE_EXPIRED: NEW_CODE,
  AUTH_INVALID:
    'the enrollment code is not known to this service: check it was copied whole, and the --server URL.',
  AUTH_REQUIRED: 'pass the enrollment code the institution gave you with --code.',
  CHALLENGE_LIMIT:
    'too many challenges are open for this code: wait a few minutes (they expire), then retry.',
  RATE_LIMITED: 'too many requests: wait the time given, then retry.',
  POLICY_NO_MATCH: WRONG_TOKEN,
  POLICY_DENIED:
    'the institution refuses this token or key (a deny rule matched, e.g. a recalled model or firmware): use another token, or ask the institution.',
  POLICY_REQUIREMENT_FAILED: NEW_KEY,
  KEY_TOO_WEAK: NEW_KEY,
  ALGORITHM_NOT_ALLOWED: NEW_KEY,
  KEY_ROCA_VULNERABLE:
    'this token generates weak RSA keys (ROCA): use an EC key (--alg p256) or another token.',
  TRUST_NO_ANCHORS:
    'the service trusts no token maker yet: tell the institution (their policy has no anchors).',
  PATH_NOT_FOUND: CHAIN,
  PATH_SIGNATURE_INVALID: CHAIN,
  PATH_CERT_EXPIRED: "the token's attestation certificate has expired: ask the maker or the institution.",
  PATH_CERT_NOT_YET_VALID:
    "the token's attestation certificate is not valid yet: check this computer's clock.",
  PATH_NOT_CA: CHAIN,
  PATH_INVALID: CHAIN,
  ATTESTATION_MISSING: 'the request carried no attestation: use a token that attests its keys.',
  ATTESTATION_INVALID:
    "the token's attestation did not verify: the token may be faulty; ask the institution.",
  ATTESTATION_MALFORMED:
    "the token's attestation is malformed: the token may be faulty; ask the institution.",
  KEY_MISMATCH: 'the attestation speaks about another key: the token may be faulty; ask the institution.',
  CSR_SIGNATURE_INVALID:
    "the request's signature did not verify: the token may be faulty; ask the institution.",
  PROFILE_UNKNOWN: 'the code names a certificate profile the service does not have: tell the institution.',
  BODY_INVALID: 'the service did not understand the request: check that client and service versions match.',
  INPUT_TOO_LARGE: 'the request is larger than the service accepts: tell the institution (their body limit).',
  POLICY_INVALID: SERVICE,
  CA_INVALID: SERVICE,
  ISSUANCE_LINT_FAILED: SERVICE,
  STORE_UNAVAILABLE: SERVICE,
  INTERNAL: SERVICE,
  SERVER_UNREACHABLE: 'check the --server URL and your network, then retry (nothing was issued).',
  SERVER_RESPONSE_INVALID:
    'check that --server is the provisioning service itself (its base URL); nothing was saved.',
};

/** One sentence saying what to do after an enrollment failed with `code`. */
export function enrollmentHint(code: string): string {
  return (
    HINTS[code as ErrorCode] ??
    'the institution refused this enrollment: contact them with the code above and the enrollment time.'
  );
}
