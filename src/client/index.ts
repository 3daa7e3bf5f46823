/**
 * The provisioning client: the typed HTTP API client, the customer-side enrollment flow, and
 * the hints shown when an enrollment is refused.
 *
 * @example
 * import { createClient, enrollKey } from 'provenance/client';
 * const result = await enrollKey({ client: createClient({ server }), token, code, label: 'signing' });
 */
export * from './api.js';
export * from './enroll.js';
export * from './hints.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type FetchLike,
  fetchWithCa,
  isLoopbackHost,
} from './http.js';
export * from './tpm.js';
