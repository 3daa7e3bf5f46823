/**
 * `provenance verify FILE`: decode evidence, verify it against a policy (a file, or --trust /
 * --allow given inline), print the chain and the verdict. Exit 0 accept, 1 reject, 2 usage or
 * unreadable input.
 */
import type { Command } from 'commander';
import { fail } from '../core/errors.js';
import { appAttestEvidenceFromJson } from '../formats/apple/input.js';
import { decodeBase64Lenient } from '../formats/webauthn/containers.js';
import { parseCertificateBundle } from '../pki/bundle.js';
import type { Certificate } from '../pki/certificate.js';
import {
  type AllowOption,
  loadPolicyFile,
  type Policy,
  policyFromOptions,
  type TrustOption,
} from '../policy/index.js';
import { lookupCatalog } from '../trust/catalog/lookup.js';
import { loadTokenLists } from '../trust/lists/loader.js';
import { loadMdsIndex } from '../trust/mds/index.js';
import { decodeEvidence } from '../verify/input.js';
import { createVerifier } from '../verify/verifier.js';
import { type CliContext, CliExit, EXIT } from './context.js';
import { parseNonceHex, parseTimeOption, readInputFile } from './files.js';
import { renderVerdict } from './render-verdict.js';

interface VerifyOptions {
  policy?: string;
  trust: string[];
  allow: string[];
  format?: string;
  nonce?: string;
  at?: string;
  json?: boolean;
  challenge?: string;
  origin: string[];
  rpId: string[];
  topOrigin: string[];
  mds?: string;
  appId?: string;
  allowDevelopment?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('verify a certificate of provenance (PEM bundle, DER, or CSR) against a policy')
    .argument('<file>', 'evidence: PEM bundle, DER certificate, or CSR with an attestation')
    .option('--policy <file>', 'policy file (YAML); see docs/policy.md')
    .option('--trust <pem>', 'trust anchor certificate(s) (repeatable); instead of --policy', collect, [])
    .option(
      '--allow <pem|sha256:hex>',
      'allow-listed entry: certificate or SPKI SHA-256 (repeatable)',
      collect,
      [],
    )
    .option(
      '--format <ids>',
      "formats the --trust anchors may vouch for, comma-separated (default: the anchor catalogue's formats for a recognised root, else provenance)",
    )
    .option('--nonce <hex>', 'the challenge the evidence must carry')
    .option('--at <iso-time>', 'verify at this time instead of now (for recorded evidence)')
    .option('--challenge <b64url>', 'WebAuthn: the challenge the registration must carry (base64url)')
    .option('--origin <url>', 'WebAuthn: an allowed origin (repeatable)', collect, [])
    .option('--rp-id <id>', 'WebAuthn: an allowed RP ID (repeatable)', collect, [])
    .option(
      '--top-origin <url>',
      'WebAuthn: a top-level origin allowed to embed the registration in a cross-origin iframe (repeatable)',
      collect,
      [],
    )
    .option(
      '--mds <dir>',
      'WebAuthn: a FIDO MDS index written by `provenance mds import` (anchors by AAGUID; overrides the policy mds: key)',
    )
    .option(
      '--app-id <id>',
      'Apple App Attest: the App ID (<TeamID>.<BundleID>) a bare attestation object must be for (the challenge is --nonce)',
    )
    .option('--allow-development', 'Apple App Attest: accept the development environment too')
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 accepted, 1 rejected, 2 usage error or unreadable input.\n\nExamples:\n' +
        '  provenance verify att.pem --trust maker/cert.pem --allow line/cert.pem --nonce 0011223344556677\n' +
        '  provenance verify req.csr --policy policy.yaml --nonce $NONCE --json\n' +
        '  provenance verify registration.json --mds mds --challenge $CHALLENGE --origin https://example.com --rp-id example.com\n',
    )
    .action(async (file: string, options: VerifyOptions) => {
      const policy = buildPolicy(options);
      const nonce = options.nonce === undefined ? undefined : parseNonceHex(options.nonce);
      const at = options.at === undefined ? undefined : parseTimeOption(options.at);
      const bytes = readInputFile(file, 'evidence');
      // --app-id is the relying party's App Attest expectation: it gives a bare attestation
      // object its App ID, and an evidence file must name the same one (docs/apple.md).
      const appAttest =
        options.appId === undefined
          ? undefined
          : { appId: options.appId, ...(options.allowDevelopment ? { allowDevelopment: true } : {}) };
      const input =
        appAttest !== undefined && bytes[0] === 0xa3
          ? appAttestEvidenceFromJson({
              appAttest: { attestationObject: Buffer.from(bytes).toString('base64'), ...appAttest },
            })
          : decodeEvidence(bytes);
      if (input === null) fail('USAGE', '--app-id: the evidence is not an App Attest attestation object');
      // Token lists named by the policy: fetched or read once per run, judged at the real time
      // (a list is used now, whatever --at says); problems become failed findings (fail closed).
      const lists =
        policy.lists && policy.lists.length > 0
          ? await loadTokenLists(policy.lists, { now: ctx.clock() })
          : undefined;
      const mds = options.mds === undefined ? undefined : loadMdsIndex(options.mds);
      const verifier = createVerifier({
        policy,
        clock: ctx.clock,
        ...(lists ? { lists } : {}),
        ...(mds ? { mds } : {}),
      });
      const challenge =
        options.challenge === undefined ? undefined : decodeBase64Lenient(options.challenge, '--challenge');
      const webauthn = {
        ...(challenge ? { challenge } : {}),
        ...(options.origin.length > 0 ? { origin: options.origin } : {}),
        ...(options.rpId.length > 0 ? { rpId: options.rpId } : {}),
        ...(options.topOrigin.length > 0 ? { topOrigin: options.topOrigin } : {}),
      };
      const verdict = verifier.verify(input, {
        ...(nonce ? { nonce } : {}),
        ...(at !== undefined ? { at } : {}),
        ...(Object.keys(webauthn).length > 0 ? { webauthn } : {}),
        ...(appAttest ? { appAttest } : {}),
      });
      if (options.json) ctx.out(`${JSON.stringify(verdict, null, 2)}\n`);
      else
        ctx.out(
          renderVerdict(verdict, {
            color: ctx.env['NO_COLOR'] === undefined && ctx.env['FORCE_COLOR'] !== undefined,
          }),
        );
      if (!verdict.accepted) throw new CliExit(EXIT.reject);
    });
}

function buildPolicy(options: VerifyOptions): Policy {
  if (options.policy !== undefined) {
    if (options.trust.length > 0 || options.allow.length > 0 || options.format !== undefined)
      fail('USAGE', 'use either --policy or --trust/--allow/--format, not both');
    return loadPolicyFile(options.policy);
  }
  // WebAuthn with --mds alone: the MDS entry for the authenticator's AAGUID supplies the anchors.
  if (options.trust.length === 0 && options.mds !== undefined && options.allow.length === 0)
    return policyFromOptions({ trust: [], formats: ['webauthn'], source: '<command line>' });
  if (options.trust.length === 0) {
    fail(
      'USAGE',
      'no trust anchors: give --policy FILE or at least one --trust PEM (Provenance never verifies without anchors)',
    );
  }
  const certificates: Certificate[] = options.trust.flatMap((f) =>
    parseCertificateBundle(readInputFile(f, 'trust anchor')),
  );
  const formats =
    options.format === undefined
      ? undefined
      : options.format
          .split(',')
          .map((f) => f.trim())
          .filter((f) => f !== '');
  // A root the anchor catalogue recognises by key vouches for the catalogue's formats under the
  // catalogue's id (docs/trust-catalog.md); a never-trust key is refused as `trust add` does.
  const trust: TrustOption[] = certificates.map((certificate) => {
    const match = lookupCatalog(certificate);
    // Refused whatever --format says: these keys' private halves are public.
    if (match?.entry.trust === 'never') {
      fail('CATALOG_NEVER_TRUST', `${match.entry.name} (${match.entry.id}) must never be trusted`, {
        id: match.entry.id,
      });
    }
    if (formats !== undefined) return { certificate, formats };
    if (match === null) return { certificate };
    return { certificate, id: match.entry.id, formats: match.entry.formats };
  });
  const allow: AllowOption[] = options.allow.map((a) => {
    if (/^sha256:/i.test(a)) return { spkiSha256: a };
    const certs = parseCertificateBundle(readInputFile(a, 'allow entry'));
    if (certs.length !== 1)
      fail('USAGE', `--allow ${a}: expected exactly one certificate, found ${certs.length}`);
    return { certificate: certs[0]! };
  });
  return policyFromOptions({ trust, allow, source: '<command line>' });
}
