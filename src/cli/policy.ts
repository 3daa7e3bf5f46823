/**
 * `provenance policy check FILE [--json]`: validate a policy and summarise what it trusts,
 * allows, requires and denies, with its digest. Exit 0 when valid; 2 when invalid, with one
 * line on stderr: `error: POLICY_INVALID: <file>:<line>:<col>: <message>`.
 * `provenance policy template [NAME]`: print a starting policy for a token family.
 */
import type { Command } from 'commander';
import { fail, isProvenanceError } from '../core/errors.js';
import { ANDROID_KEY_POLICY_TEMPLATE } from '../formats/android-key/policy-template.js';
import { APPLE_POLICY_TEMPLATE } from '../formats/apple/policy-template.js';
import { CLOUD_HSM_POLICY_TEMPLATE } from '../formats/cloud-hsm/policy-template.js';
import { TPM_POLICY_TEMPLATE } from '../formats/tpm/policy-template.js';
import { WEBAUTHN_POLICY_TEMPLATE } from '../formats/webauthn/policy-template.js';
import { YUBIKEY_POLICY_TEMPLATE } from '../formats/yubikey-piv/policy-template.js';
import { describePolicy, loadPolicyFile, policySummary } from '../policy/index.js';
import { catalogWarnings } from '../trust/catalog/policy.js';
import { type CliContext, warn } from './context.js';

/**
 * Register the `policy` command group.
 *
 * @example
 * registerPolicy(program, ctx);   // provenance policy check policy.yaml
 */
/** Starting policies by name: what `policy template NAME` prints (each documented in its format's doc). */
export const POLICY_TEMPLATES: Readonly<Record<string, { readonly about: string; readonly text: string }>> = {
  'yubikey-piv': {
    about: 'YubiKey PIV attestation: the three Yubico roots, ROCA firmware and keys denied (docs/yubikey.md)',
    text: YUBIKEY_POLICY_TEMPLATE,
  },
  'android-key': {
    about: 'Android Key Attestation: Google roots and status list, TEE or StrongBox, nonce (docs/android.md)',
    text: ANDROID_KEY_POLICY_TEMPLATE,
  },
  'cloud-hsm': {
    about:
      'Google Cloud HSM: Cavium and Google roots (both chains), HSM-generated non-exportable keys (docs/cloud-hsm.md)',
    text: CLOUD_HSM_POLICY_TEMPLATE,
  },
  apple: {
    about:
      'Apple App Attest and Managed Device Attestation: the two Apple roots, nonce required (docs/apple.md)',
    text: APPLE_POLICY_TEMPLATE,
  },
  tpm: {
    about:
      'TPM 2.0 key attestation: AK CA and vendor EK roots, nonce, device-generated non-exportable keys (docs/tpm.md)',
    text: TPM_POLICY_TEMPLATE,
  },
  webauthn: {
    about:
      'WebAuthn registrations: FIDO MDS anchors by AAGUID (L1 or better), challenge, UP and UV (docs/webauthn.md)',
    text: WEBAUTHN_POLICY_TEMPLATE,
  },
};

export function registerPolicy(program: Command, ctx: CliContext): void {
  const group = program.command('policy').description('work with policy files (see docs/policy.md)');
  group
    .command('template')
    .description('print a starting policy for a token family (list them without NAME)')
    .argument('[name]', `template name: ${Object.keys(POLICY_TEMPLATES).join(', ')}`)
    .addHelpText(
      'after',
      '\nExamples:\n  provenance policy template\n  provenance policy template yubikey-piv > policy.yaml\n',
    )
    .action((name: string | undefined) => {
      if (name === undefined) {
        for (const [id, t] of Object.entries(POLICY_TEMPLATES)) ctx.out(`${id.padEnd(14)} ${t.about}\n`);
        return;
      }
      const template = POLICY_TEMPLATES[name];
      if (!template) {
        fail('USAGE', `no policy template "${name}" (known: ${Object.keys(POLICY_TEMPLATES).join(', ')})`);
      }
      ctx.out(template.text);
    });
  group
    .command('check')
    .description('validate a policy file and summarise its anchors, allow rules, requirements and deny rules')
    .argument('<file>', 'policy file (YAML)')
    .option('--json', 'print the summary (or the error) as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit status: 0 valid, 2 invalid or unreadable (one line on stderr names file:line:column).\n\n' +
        'Examples:\n  provenance policy check policy.yaml\n  provenance policy check policy.yaml --json | jq .digest\n',
    )
    .action((file: string, options: { json?: boolean }) => {
      try {
        const policy = loadPolicyFile(file);
        // An MDS index past its nextUpdate: statuses may have changed since (FIDO MDS v3.1.1 §3.1.6).
        const mds = policy.mds;
        if (mds && Date.parse(`${mds.mds.blob.nextUpdate}T00:00:00Z`) < ctx.clock())
          warn(
            ctx,
            `the MDS index ${mds.index} (BLOB no. ${mds.mds.blob.no}) is past its nextUpdate ${mds.mds.blob.nextUpdate}: run \`provenance mds import\` again`,
          );
        // Anchors the catalogue knows but the policy lets vouch for more formats (docs/trust-catalog.md).
        for (const w of catalogWarnings(policy.anchors)) warn(ctx, w);
        if (options.json) {
          ctx.out(`${JSON.stringify({ valid: true, ...policySummary(policy) }, null, 2)}\n`);
        } else {
          ctx.out(describePolicy(policy));
          ctx.out(`valid: ${file}\n`);
        }
      } catch (err) {
        // The one-line error and exit code 2 come from the CLI's error handler (main.ts).
        if (options.json && isProvenanceError(err))
          ctx.out(`${JSON.stringify({ valid: false, error: err }, null, 2)}\n`);
        throw err;
      }
    });
}
