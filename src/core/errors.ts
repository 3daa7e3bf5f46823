/**
 * The one error class of Provenance. Callers branch on `code`, never on the message.
 *
 * Every code is listed in `ERROR_CODES` with its HTTP status and a one-line meaning, and in
 * `docs/errors.md` (a test keeps the two in step). The problem type for HTTP answers is
 * `urn:provenance:error:<code>`.
 *
 * @example
 * try { verifier.verify(bytes, { nonce }); }
 * catch (err) { if (err instanceof ProvenanceError && err.code === 'NONCE_MISMATCH') retry(); }
 */

interface CodeInfo {
  /** HTTP status used when the error reaches an API client. */
  readonly status: number;
  /** One line: what went wrong. */
  readonly summary: string;
}

export const ERROR_CODES = {
  // --- input and encoding ---------------------------------------------------------------------
  INPUT_TOO_LARGE: { status: 413, summary: 'The input exceeds a configured size limit.' },
  INPUT_UNRECOGNIZED: { status: 400, summary: 'The input is not any evidence format Provenance knows.' },
  PEM_MALFORMED: { status: 400, summary: 'A PEM block is malformed (bad armour, label or base64).' },
  DER_MALFORMED: { status: 400, summary: 'The bytes are not valid DER (bad tag, length or encoding).' },
  DER_TRUNCATED: { status: 400, summary: 'A DER element claims more bytes than the input holds.' },
  DER_TRAILING_DATA: { status: 400, summary: 'Bytes follow the end of a DER structure.' },
  DER_LIMIT_EXCEEDED: { status: 400, summary: 'A DER structure exceeds a depth, count or size limit.' },
  CERT_MALFORMED: { status: 400, summary: 'A certificate does not follow the X.509 v3 structure.' },
  CSR_MALFORMED: { status: 400, summary: 'A PKCS#10 certification request is malformed.' },
  EXTENSION_MALFORMED: { status: 400, summary: 'A certificate extension value is malformed or duplicated.' },
  KEY_MALFORMED: { status: 400, summary: 'A public key (SubjectPublicKeyInfo) is malformed or unsupported.' },
  CRL_MALFORMED: { status: 400, summary: 'A certificate revocation list (CRL) is malformed.' },
  // --- signatures and algorithms ---------------------------------------------------------------
  SIGNATURE_INVALID: { status: 422, summary: 'A signature does not verify.' },
  CSR_SIGNATURE_INVALID: { status: 422, summary: 'The certification request is not signed by its own key.' },
  ALGORITHM_NOT_ALLOWED: { status: 422, summary: 'An algorithm is forbidden by the algorithm policy.' },
  ALGORITHM_UNSUPPORTED: { status: 422, summary: 'An algorithm is not implemented.' },
  KEY_TOO_WEAK: { status: 422, summary: 'A key is below the algorithm policy (RSA size, curve).' },
  // --- certification path ----------------------------------------------------------------------
  TRUST_NO_ANCHORS: {
    status: 422,
    summary: 'No trust anchor is configured for this format: failing closed.',
  },
  PATH_NOT_FOUND: { status: 422, summary: 'No certification path leads from the signer to a trust anchor.' },
  PATH_SIGNATURE_INVALID: { status: 422, summary: 'A certificate in the path is not signed by its issuer.' },
  PATH_CERT_EXPIRED: {
    status: 422,
    summary: 'A certificate in the path is expired at the verification time.',
  },
  PATH_CERT_NOT_YET_VALID: { status: 422, summary: 'A certificate in the path is not yet valid.' },
  PATH_NOT_CA: { status: 422, summary: 'An issuing certificate is not a CA (basicConstraints).' },
  PATH_KEY_USAGE: { status: 422, summary: 'An issuing certificate lacks keyCertSign in its key usage.' },
  PATH_LENGTH_EXCEEDED: { status: 422, summary: 'A basicConstraints pathLenConstraint is violated.' },
  PATH_UNKNOWN_CRITICAL_EXTENSION: {
    status: 422,
    summary: 'A certificate has a critical extension not understood.',
  },
  PATH_NAME_CONSTRAINTS: { status: 422, summary: 'A name in the path violates a name constraint.' },
  PATH_POLICY: { status: 422, summary: 'The path violates a certificate-policy constraint.' },
  PATH_INVALID: { status: 422, summary: 'The certification path is invalid (other RFC 5280 rule).' },
  CRL_INVALID: {
    status: 422,
    summary: 'A CRL cannot be used (wrong issuer, no cRLSign, critical extension, out of date).',
  },
  PATH_LIMIT_EXCEEDED: {
    status: 422,
    summary: 'Path building gave up: too many candidates or too long a path.',
  },
  CERT_REVOKED: {
    status: 422,
    summary: 'A certificate in the path is revoked or suspended (CRL or status list).',
  },
  REVOCATION_UNAVAILABLE: {
    status: 422,
    summary: 'Revocation is required but its data is missing, unverifiable or out of date.',
  },
  STATUS_LIST_INVALID: { status: 400, summary: 'An attestation status list is malformed or too large.' },
  // --- attestation evidence --------------------------------------------------------------------
  ATTESTATION_MISSING: { status: 422, summary: 'The input carries no attestation Provenance can verify.' },
  ATTESTATION_MALFORMED: { status: 400, summary: 'An attestation statement or extension is malformed.' },
  ATTESTATION_INVALID: { status: 422, summary: 'An attestation statement fails a format-specific check.' },
  NONCE_MISSING: { status: 422, summary: 'A nonce was expected but the evidence carries none.' },
  NONCE_MISMATCH: { status: 422, summary: 'The evidence nonce differs from the expected challenge.' },
  KEY_MISMATCH: { status: 422, summary: 'The key in the request differs from the attested key.' },
  KEY_ROCA_VULNERABLE: { status: 422, summary: 'An RSA key has the ROCA fingerprint (CVE-2017-15361).' },
  TPM_MALFORMED: {
    status: 400,
    summary: 'A TPM structure (TPMS_ATTEST, TPMT_PUBLIC, TPMT_SIGNATURE) is malformed.',
  },
  TPM_NAME_MISMATCH: {
    status: 422,
    summary: 'The TPM-certified Name differs from the Name of the public area.',
  },
  ANDROID_SOFTWARE_ROOT: {
    status: 422,
    summary: 'The Android attestation chains to a software attestation root, whose private key is public.',
  },
  ANDROID_ATTEST_KEY_CHAIN: {
    status: 422,
    summary: 'A certificate below the Android attestation certificate claims another attested key.',
  },
  TPM_AK_NOT_RESTRICTED: { status: 422, summary: 'The TPM attestation key is not a restricted signing key.' },
  TPM_AK_NOT_BOUND: {
    status: 422,
    summary: 'The TPM attestation key has neither an AK certificate nor a binding.',
  },
  TPM_CERT_PROFILE: { status: 422, summary: 'A TPM AK or EK certificate violates its TCG profile.' },
  CBOR_MALFORMED: {
    status: 400,
    summary: 'CBOR is malformed or not in the strict form WebAuthn requires (lengths, keys, depth).',
  },
  WEBAUTHN_MALFORMED: {
    status: 400,
    summary: 'A WebAuthn container (authenticator data, COSE key, client data) is malformed.',
  },
  WEBAUTHN_TYPE: { status: 422, summary: 'The WebAuthn client data type is not "webauthn.create".' },
  ORIGIN_MISMATCH: { status: 422, summary: 'The WebAuthn client data origin is not an allowed origin.' },
  RPID_MISMATCH: {
    status: 422,
    summary: 'The authenticator data rpIdHash is not SHA-256 of the expected RP ID.',
  },
  USER_PRESENCE_MISSING: {
    status: 422,
    summary: 'The authenticator data does not have the user-present flag set.',
  },
  AAGUID_MISMATCH: {
    status: 422,
    summary: "The attestation certificate's AAGUID extension differs from the authenticator data AAGUID.",
  },
  ATTESTATION_SELF: {
    status: 422,
    summary: 'Self attestation proves nothing about the authenticator: refused.',
  },
  ATTESTATION_NONE: { status: 422, summary: 'The authenticator gave no attestation (fmt "none"): refused.' },
  // --- policy ----------------------------------------------------------------------------------
  POLICY_INVALID: { status: 400, summary: 'A policy file is invalid (the message names the line).' },
  POLICY_NO_MATCH: { status: 403, summary: 'No allow rule matches the validated path.' },
  POLICY_DENIED: { status: 403, summary: 'A deny rule matches the evidence.' },
  POLICY_REQUIREMENT_FAILED: { status: 403, summary: 'A required claim does not hold.' },
  // --- signed token lists ----------------------------------------------------------------------
  LIST_INVALID: { status: 400, summary: 'A token list is malformed or does not follow its schema.' },
  LIST_SIGNATURE_INVALID: {
    status: 422,
    summary: 'A token list is not signed by a pinned publisher key (or its JWS header is wrong).',
  },
  LIST_ROLLBACK: { status: 422, summary: "A token list's sequence is lower than the last one seen." },
  LIST_STALE: { status: 422, summary: 'A token list is past its nextUpdate plus grace: failing closed.' },
  LIST_UNAVAILABLE: { status: 503, summary: 'A token list named by the policy could not be loaded.' },
  LIST_REVOKED: { status: 403, summary: 'A token list marks a key in the path revoked or suspended.' },
  // --- FIDO Metadata Service ------------------------------------------------------------------
  MDS_MALFORMED: {
    status: 400,
    summary: 'A FIDO MDS BLOB is not a well-formed JWT or its payload breaks the MDS3 schema.',
  },
  MDS_STALE: { status: 422, summary: 'The FIDO MDS BLOB is past its nextUpdate: failing closed.' },
  MDS_ROLLBACK: {
    status: 422,
    summary: 'The FIDO MDS BLOB number (no) is lower than the last one accepted.',
  },
  MDS_CHAIN_REVOKED: {
    status: 422,
    summary: 'A certificate of the MDS BLOB signing chain is revoked by its issuer CRL.',
  },
  MDS_FETCH_FAILED: {
    status: 502,
    summary: 'The FIDO MDS BLOB could not be fetched (network, status, timeout).',
  },
  // --- anchor catalogue and trust folder (docs/trust-catalog.md) ------------------------------
  CATALOG_NEVER_TRUST: {
    status: 422,
    summary: 'The catalogue marks this certificate as never trustable (e.g. a software attestation root).',
  },
  TRUST_ANCHOR_NOT_ROOT: {
    status: 422,
    summary:
      'The certificate is not a self-signed CA; installing it as an anchor needs --intermediate-anchor.',
  },
  TRUST_ANCHOR_DUPLICATE: { status: 409, summary: 'An anchor with this key or id is already installed.' },
  TRUST_FOLDER_INVALID: {
    status: 500,
    summary: 'The trust folder index is malformed or a file differs from what was installed.',
  },
  TRUST_NOT_INSTALLED: { status: 400, summary: 'A policy names a catalogue anchor that is not installed.' },
  // --- tokens and maker tooling ----------------------------------------------------------------
  TOKEN_FILE_INVALID: { status: 400, summary: 'A token file is not a valid Provenance software token.' },
  TOKEN_PIN_INCORRECT: { status: 401, summary: 'The token PIN is wrong; the retry counter went down.' },
  TOKEN_LOCKED: { status: 423, summary: 'The token is locked after too many wrong PINs.' },
  TOKEN_KEY_NOT_FOUND: { status: 404, summary: 'No key with that label is on the token.' },
  TOKEN_KEY_EXISTS: { status: 409, summary: 'A key with that label is already on the token.' },
  TOKEN_USER_PRESENCE_DENIED: { status: 403, summary: 'The touch confirmation was refused or absent.' },
  TOKEN_NOT_PERSONALISED: { status: 409, summary: 'The token has no attestation key yet.' },
  TPM_TOOL_FAILED: { status: 502, summary: 'A tpm2-tools command failed or the TPM refused the operation.' },
  YUBIKEY_TOOL_FAILED: {
    status: 502,
    summary: 'A ykman or yubico-piv-tool command failed or gave unusable output.',
  },
  MAKER_KEY_LOCKED: {
    status: 401,
    summary: 'A CA key could not be decrypted (passphrase missing or wrong).',
  },
  MAKER_DIR_INVALID: {
    status: 400,
    summary: 'A maker directory does not hold a usable CA (cert.pem, key.pem).',
  },
  // --- provisioning service -------------------------------------------------------------------
  AUTH_REQUIRED: {
    status: 401,
    summary: 'The request carries no credentials (Enroll code or Bearer token).',
  },
  AUTH_INVALID: { status: 401, summary: 'The credentials are unknown, revoked or malformed.' },
  AUTH_SCOPE: { status: 403, summary: 'The admin token lacks the scope this operation needs.' },
  ENROLLMENT_CODE_EXPIRED: { status: 401, summary: 'The enrollment code has expired.' },
  ENROLLMENT_CODE_USED: {
    status: 409,
    summary: 'The enrollment code has already been used for a certificate.',
  },
  CHALLENGE_INVALID: {
    status: 409,
    summary: 'The challenge is unknown, used, expired or belongs to another code.',
  },
  CHALLENGE_LIMIT: { status: 429, summary: 'Too many open challenges for this enrollment code.' },
  RATE_LIMITED: { status: 429, summary: 'Too many requests: retry after the time given.' },
  BODY_INVALID: { status: 400, summary: 'The request body does not match the API schema.' },
  NOT_FOUND: { status: 404, summary: 'No such resource.' },
  PROFILE_UNKNOWN: { status: 400, summary: 'The certificate profile is not configured.' },
  CONFIG_INVALID: {
    status: 400,
    summary: 'The service configuration is invalid (the message names the line).',
  },
  CA_INVALID: { status: 500, summary: 'The issuing CA is missing, inconsistent or cannot sign.' },
  CA_KEY_LOCKED: {
    status: 500,
    summary: 'The issuing CA key could not be decrypted (PROVENANCE_CA_PASSPHRASE missing or wrong).',
  },
  ISSUANCE_LINT_FAILED: {
    status: 500,
    summary: 'The certificate about to be issued failed a pre-issuance lint.',
  },
  STORE_UNAVAILABLE: { status: 503, summary: 'The database is unreachable or failed.' },
  STORE_CONFLICT: {
    status: 409,
    summary: 'A record with the same unique key (serial, code, token) already exists.',
  },
  AUDIT_CHAIN_BROKEN: {
    status: 500,
    summary: 'The audit log hash chain is broken (a row was edited, deleted or inserted).',
  },
  SERVER_UNREACHABLE: { status: 502, summary: 'The client could not reach the provisioning service.' },
  LISTEN_FAILED: {
    status: 500,
    summary: 'The service cannot listen on its address (in use, or not permitted).',
  },
  SERVER_RESPONSE_INVALID: {
    status: 502,
    summary: 'The provisioning service answered with something that is not a valid API response.',
  },
  // --- generic ---------------------------------------------------------------------------------
  USAGE: { status: 400, summary: 'A command or option was used wrongly.' },
  IO_ERROR: { status: 500, summary: 'A file could not be read or written.' },
  INTERNAL: { status: 500, summary: 'An unexpected internal failure (a bug: please report it).' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorDetails = Record<string, unknown>;

export class ProvenanceError extends Error {
  override readonly name = 'ProvenanceError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** RFC 9457 problem type URI. */
  get type(): string {
    return `urn:provenance:error:${this.code}`;
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `value` is a ProvenanceError, optionally with the given code. */
export function isProvenanceError(value: unknown, code?: ErrorCode): value is ProvenanceError {
  return value instanceof ProvenanceError && (code === undefined || value.code === code);
}

/** Shorthand used by parsers: throw a ProvenanceError with the code. */
export function fail(code: ErrorCode, message: string, details?: ErrorDetails): never {
  throw new ProvenanceError(code, message, details);
}
