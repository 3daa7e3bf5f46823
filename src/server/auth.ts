/**
 * Authentication of API requests: an enrollment code (`Authorization: Enroll <code>`) for the
 * enrollment API, an admin token with scopes (`Authorization: Bearer <token>`) for the admin
 * API. Missing credentials are AUTH_REQUIRED with a WWW-Authenticate challenge (RFC 9110
 * §11.6.1); unknown, malformed or revoked ones AUTH_INVALID, without saying which.
 *
 * @example
 * const code = await authenticateEnrollmentCode(store, request.headers.authorization, clock());
 * const admin = await authenticateAdmin(store, request.headers.authorization, 'codes:write');
 */
import { fail } from '../core/errors.js';
import type { AdminTokenRecord, EnrollmentCodeRecord, Scope, StoreRepositories } from '../store/types.js';
import {
  hashesEqual,
  hashSecret,
  isAdminTokenShape,
  isEnrollmentCodeShape,
  parseAuthorization,
} from './secrets.js';

/** The WWW-Authenticate challenge of the enrollment API. */
export const ENROLL_CHALLENGE = 'Enroll realm="provenance"';
/** The WWW-Authenticate challenge of the admin API (RFC 6750 §3). */
export const BEARER_CHALLENGE = 'Bearer realm="provenance"';

/**
 * The enrollment code a request presents, checked: it exists, has not expired and has not
 * been used. AUTH_REQUIRED, AUTH_INVALID, ENROLLMENT_CODE_EXPIRED, ENROLLMENT_CODE_USED.
 */
export async function authenticateEnrollmentCode(
  store: Pick<StoreRepositories, 'codes'>,
  header: string | undefined,
  now: number,
): Promise<EnrollmentCodeRecord> {
  const record = await findEnrollmentCode(store, header);
  // Single use: a code that already produced a certificate is spent.
  if (record.usedAt !== null)
    fail('ENROLLMENT_CODE_USED', 'this enrollment code has already been used for a certificate', {
      wwwAuthenticate: ENROLL_CHALLENGE,
    });
  if (record.expiresAt <= now)
    fail(
      'ENROLLMENT_CODE_EXPIRED',
      `this enrollment code expired at ${new Date(record.expiresAt).toISOString()}`,
      {
        wwwAuthenticate: ENROLL_CHALLENGE,
      },
    );
  return record;
}

/** Look a presented code up by hash and compare the hashes in constant time. */
async function findEnrollmentCode(
  store: Pick<StoreRepositories, 'codes'>,
  header: string | undefined,
): Promise<EnrollmentCodeRecord> {
  const credentials = parseAuthorization(header);
  if (credentials === null || credentials.scheme !== 'enroll')
    fail('AUTH_REQUIRED', 'this endpoint needs an enrollment code: Authorization: Enroll <code>', {
      wwwAuthenticate: ENROLL_CHALLENGE,
    });
  const invalid = (): never =>
    fail('AUTH_INVALID', 'the enrollment code is not valid', { wwwAuthenticate: ENROLL_CHALLENGE });
  if (!isEnrollmentCodeShape(credentials.value)) return invalid();
  const hash = hashSecret(credentials.value);
  const record = await store.codes.findByHash(hash);
  if (record === null || !hashesEqual(record.codeHash, hash)) return invalid();
  return record;
}

/**
 * The admin token a request presents, checked: it exists, is not revoked, and holds `scope`.
 * AUTH_REQUIRED, AUTH_INVALID, AUTH_SCOPE.
 */
export async function authenticateAdmin(
  store: Pick<StoreRepositories, 'adminTokens'>,
  header: string | undefined,
  scope: Scope,
): Promise<AdminTokenRecord> {
  const credentials = parseAuthorization(header);
  if (credentials === null || credentials.scheme !== 'bearer')
    fail('AUTH_REQUIRED', 'this endpoint needs an admin token: Authorization: Bearer <token>', {
      wwwAuthenticate: BEARER_CHALLENGE,
    });
  const invalid = (): never =>
    fail('AUTH_INVALID', 'the admin token is not valid', {
      wwwAuthenticate: `${BEARER_CHALLENGE}, error="invalid_token"`,
    });
  if (!isAdminTokenShape(credentials.value)) return invalid();
  const hash = hashSecret(credentials.value);
  const record = await store.adminTokens.findByHash(hash);
  if (record === null || !hashesEqual(record.tokenHash, hash) || record.revokedAt !== null) return invalid();
  if (!record.scopes.includes(scope))
    fail('AUTH_SCOPE', `this operation needs the scope "${scope}"`, {
      wwwAuthenticate: `${BEARER_CHALLENGE}, error="insufficient_scope", scope="${scope}"`,
      scope,
    });
  return record;
}
