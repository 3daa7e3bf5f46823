/**
 * WebAuthn / FIDO2 (MANIFEST.md §2): each recorded registration through `verifyWebauthnVector`
 * (src/formats/webauthn/vectors.ts: the real verifier, `createVerifier` with the `webauthn`
 * format, at the fixture's verifyAt, or one minute after the latest x5c notBefore when the
 * source ran on its real clock; anchors: the last x5c certificate, as the source libraries run
 * without configured roots; SafetyNet JWS chains: the GlobalSign roots in the vectors). fido2-net-lib responses are paired with their options file
 * (challenge, rp.id; origin https://localhost:44329). Options, assertions and roots parse.
 */
import { fail } from '../../src/core/errors.js';
import { decodeBase64Lenient, parseAttestationObject } from '../../src/formats/webauthn/containers.js';
import { verifyWebauthnVector } from '../../src/formats/webauthn/vectors.js';
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

const NET = 'webauthn/fido2-net-lib/';

/** fido2-net-lib response/results file → its options file. */
const NET_PAIRS: Readonly<Record<string, string>> = {
  'attestationResultsATKey.json': 'attestationOptionsATKey.json',
  'attestationResultsNone.json': 'attestationOptionsNone.json',
  'attestationResultsU2F.json': 'attestationOptionsU2F.json',
  'attestationResultsPacked.json': 'attestationOptionsPacked.json',
  'attestationResultsPacked512.json': 'attestationOptionsPacked512.json',
  'attestationResultTrustKeyT110.json': 'attestationOptionsTrustKeyT110.json',
  'attestationTPMSHA1Response.json': 'attestationTPMSHA1Options.json',
  'attestationTPMSHA256Response.json': 'attestationTPMSHA256Options.json',
  'attestationAndroidKeyResponse.json': 'attestationAndroidKeyOptions.json',
  'attestationAppleResponse.json': 'attestationAppleOptions.json',
  'attestationNoneResponse.json': 'attestationNoneOptions.json',
  'json1.json': 'options1.json',
  'json2.json': 'options2.json',
};

/** The fixture for a fido2-net-lib response: its options give the challenge and the RP ID. */
function netFixture(v: Vectors, name: string): Record<string, unknown> {
  const response = v.json<Record<string, unknown>>(NET + name);
  const options = v.json<Record<string, unknown>>(NET + NET_PAIRS[name]!);
  const rp = options['rp'] as Record<string, unknown> | undefined;
  if (typeof options['challenge'] !== 'string') fail('WEBAUTHN_MALFORMED', 'options without a challenge');
  const rpId = typeof rp?.['id'] === 'string' ? rp['id'] : undefined;
  return {
    expectedChallenge: options['challenge'],
    // The test server runs at https://localhost:44329; a response for another RP ID (the Apple
    // one, made through an ngrok tunnel) came from https://<rp.id>.
    expectedOrigin:
      rpId === undefined || rpId === 'localhost' ? 'https://localhost:44329' : `https://${rpId}`,
    ...(rpId === undefined ? {} : { expectedRPID: rpId }),
    response,
  };
}

/**
 * Fixtures whose source passes a root that is not the chain's (py_webauthn
 * `pem_root_certs_bytes_by_fmt`, not in the data): any unrelated root reproduces the test.
 */
const WRONG_ROOT: Readonly<Record<string, string>> = {
  'webauthn/py_webauthn/general__raises_when_root_cert_invalid_for_response.json':
    'webauthn/simplewebauthn/roots/Apple_WebAuthn_Root_CA.pem',
};

/**
 * SafetyNet statements carry their chain inside the JWS, not in attStmt.x5c, so there is no
 * "last x5c certificate" to stand in as the anchor: they chain to the GlobalSign roots the
 * vectors hold (R2 for GTS CA 1O1/1D4 of 2018–2021, R1 for the later GTS Root R1 cross-sign).
 */
const SAFETYNET_ROOTS: readonly string[] = [
  'webauthn/simplewebauthn/android-safetynet/GlobalSign_R2.pem',
  'webauthn/simplewebauthn/roots/GlobalSign_Root_CA.pem',
];
const SAFETYNET = /safety|cts-check/i;

/** A fixture the source only parses: its attestation object through the strict parser. */
function parseOnly(fixture: unknown): Actual {
  const f = fixture as Record<string, unknown>;
  const outer = (f['response'] ?? f) as Record<string, unknown>;
  const response = (outer['response'] ?? outer) as Record<string, unknown>;
  const ao = response['attestationObject'];
  if (typeof ao !== 'string') return fail('WEBAUTHN_MALFORMED', 'no attestationObject');
  const att = parseAttestationObject(decodeBase64Lenient(ao, 'attestationObject'));
  return { outcome: 'parse', message: `attestation object, fmt ${att.fmt}` };
}

/** Run one webauthn entry. */
export function runWebauthn(v: Vectors, file: string, exp: Expectation | null): Actual {
  return attempt(() => {
    if (file.endsWith('.pem') || file.endsWith('.der'))
      return { outcome: 'parse', message: `${v.certs(file).length} certificate(s)` };
    const name = file.slice(file.lastIndexOf('/') + 1);
    const isNet = file.startsWith(NET);
    if (isNet && !(name in NET_PAIRS)) {
      v.json(file);
      return { outcome: 'parse', message: 'JSON (options or assertion)' };
    }
    const fixture = isNet ? netFixture(v, name) : v.json(file);
    if (exp?.outcome === 'parse') return parseOnly(fixture);
    const wrongRoot = WRONG_ROOT[file];
    const trust = wrongRoot
      ? v.certs(wrongRoot)
      : SAFETYNET.test(name)
        ? SAFETYNET_ROOTS.flatMap((f) => v.certs(f))
        : undefined;
    const r = verifyWebauthnVector(fixture, {
      pinToChain: true,
      ...(exp?.at === undefined ? {} : { at: exp.at }),
      ...(trust ? { trust } : {}),
    });
    const quirks = [...new Set(r.verdict.quirks.map((q) => q.id))].join(', ');
    return r.verdict.accepted
      ? { outcome: 'accept', message: `${r.fmt}${quirks ? `; quirks: ${quirks}` : ''}` }
      : { outcome: 'reject', code: r.verdict.code, message: `${r.fmt}: ${r.verdict.message}` };
  });
}
