/**
 * App Attest evidence files (docs/apple.md "Evidence files"): the server writes what the app
 * sent together with its own expectation of the App ID,
 *
 *   { "appAttest": { "attestationObject": "<base64>", "appId": "TEAMID.bundle.id",
 *                    "allowDevelopment": false } }
 *
 * and passes the challenge it issued as the expected nonce (`provenance verify --nonce <hex>`).
 * Managed Device Attestation chains are plain PEM bundles and need no decoder here.
 *
 * @example
 * const input = appAttestEvidenceFromJson(JSON.parse(text)); // null if not App Attest (src/verify/input.ts parses)
 */
import { fail } from '../../core/errors.js';
import type { EvidenceInput } from '../types.js';

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The EvidenceInput for a parsed App Attest JSON value, or null when it is not one. */
export function appAttestEvidenceFromJson(json: unknown): EvidenceInput | null {
  const a = obj(obj(json)?.['appAttest']);
  if (!a) return null;
  const ao = a['attestationObject'];
  const appId = a['appId'];
  const dev = a['allowDevelopment'];
  if (typeof ao !== 'string' || !BASE64.test(ao.replace(/\s+/g, '')))
    fail('ATTESTATION_MALFORMED', 'appAttest.attestationObject must be base64 text');
  if (typeof appId !== 'string') return fail('USAGE', 'appAttest.appId (<TeamID>.<BundleID>) is required');
  if (dev !== undefined && typeof dev !== 'boolean')
    fail('USAGE', 'appAttest.allowDevelopment must be a boolean');
  const std = (ao as string).replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  return {
    kind: 'apple-appattest',
    attestationObject: new Uint8Array(Buffer.from(std, 'base64')),
    appId,
    ...(dev === undefined ? {} : { allowDevelopment: dev as boolean }),
    certificates: [],
  };
}
