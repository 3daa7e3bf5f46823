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
 * const input = decodeAppAttestEvidence(readFileSync('app-attest.json')); // null if not App Attest
 */
import { fail } from '../../core/errors.js';
import type { EvidenceInput } from '../types.js';
import { parseAttestationObject, WEBAUTHN_LIMITS } from '../webauthn/containers.js';
import { APP_ATTEST_FMT } from './appattest.js';

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

/** Decode an App Attest JSON evidence file; null for anything else. */
export function decodeAppAttestEvidence(bytes: Uint8Array): EvidenceInput | null {
  // A bare attestation object lacks the App ID the relying party expects: say how to give it.
  if (bytes[0] === 0xa3 && bytes.length <= WEBAUTHN_LIMITS.maxAttestationObjectBytes) {
    let fmt: string | null = null;
    try {
      fmt = parseAttestationObject(bytes).fmt;
    } catch {
      return null; // not ours: the WebAuthn decoder reports what is wrong
    }
    if (fmt === APP_ATTEST_FMT) {
      fail(
        'USAGE',
        'an App Attest attestation object needs the App ID: wrap it in the JSON file of docs/apple.md',
      );
    }
    return null;
  }
  const text = new TextDecoder('utf-8').decode(bytes).trimStart();
  if (!text.startsWith('{') || !text.includes('"appAttest"')) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  return appAttestEvidenceFromJson(json);
}
