/**
 * `provenance demo`: the seed story, run for real in a temporary folder and narrated. Every
 * step is an actual CLI command (run in-process), printed as you would type it, so the demo
 * doubles as a tutorial: a maker hierarchy, a token, an attestation bound to a nonce, and the
 * institution's verdicts at the three allow-list levels, then the attacks that must fail.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../core/bytes.js';
import { type CliContext, CliExit, EXIT } from './context.js';

interface DemoOptions {
  keep?: boolean;
  dir?: string;
}

/** What one step expects: the exit code of the command. */
interface Step {
  readonly say: string;
  readonly args: readonly string[];
  readonly expect: number;
  /** Show only the verdict lines of `verify` (chain and ACCEPT/REJECT), not the whole report. */
  readonly brief?: boolean;
}

export function registerDemo(
  program: Command,
  ctx: CliContext,
  run: (argv: string[], ctx: CliContext) => Promise<number>,
): void {
  program
    .command('demo')
    .description('run the seed story end to end in a temporary folder, narrated')
    .option('--dir <dir>', 'work in this (empty or new) folder instead of a temporary one; kept afterwards')
    .option('--keep', 'keep the temporary folder')
    .action(async (options: DemoOptions) => {
      const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'provenance-demo-'));
      const keep = options.keep === true || options.dir !== undefined;
      try {
        const failures = await runDemo(dir, ctx, run);
        ctx.out(
          failures === 0
            ? '\nEvery step ended as expected.\n'
            : `\n${failures} step(s) did not end as expected: please report this.\n`,
        );
        if (failures > 0) throw new CliExit(EXIT.reject);
      } finally {
        if (keep) ctx.out(`The files are in ${dir}\n`);
        else rmSync(dir, { recursive: true, force: true });
      }
    });
}

async function runDemo(
  dir: string,
  ctx: CliContext,
  run: (argv: string[], ctx: CliContext) => Promise<number>,
): Promise<number> {
  // The demo's secrets are fixed and printed: this is a demonstration, not a ceremony.
  const env = { ...ctx.env, PROVENANCE_PASSPHRASE: 'demo passphrase', PROVENANCE_PIN: '246810' };
  const nonce = toHex(randomBytes(16));
  const oldNonce = toHex(randomBytes(16));
  const p = (f: string) => join(dir, f);
  let failures = 0;

  const say = (text: string) => ctx.out(`\n${text}\n`);
  const step = async (s: Step): Promise<void> => {
    ctx.out(
      `\n  # ${s.say}\n  $ provenance ${s.args
        .map((a) => a.replaceAll(`${dir}/`, ''))
        .map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a))
        .join(' ')}\n`,
    );
    let out = '';
    let err = '';
    const code = await run(['node', 'provenance', ...s.args], {
      ...ctx,
      env,
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    });
    const shown = s.brief ? briefVerdict(out) : `${out}${err}`;
    ctx.out(indent(shown.replaceAll(`${dir}/`, '').trimEnd()));
    if (code !== s.expect) {
      failures++;
      ctx.out(`\n  !! expected exit ${s.expect}, got ${code}\n${indent(err)}`);
    }
  };

  say(
    `Provenance demo — the commands below run in ${dir}\n` +
      'A bank will accept a customer key only if a token from an allow-listed maker, product line\n' +
      'or model made it. The maker CA passphrase and token PIN are fixed for the demo.',
  );

  /** Root → product line → model → personalised token, named like Gemalto's. */
  const gemaltoHierarchy = async (prefix: string, who: string, token: string): Promise<void> => {
    await step({
      say: `${who} root "Gemalto NV"`,
      args: ['maker', 'init', p(`${prefix}maker-root`), '--name', 'Gemalto NV'],
      expect: 0,
    });
    await step({
      say: `${who} product line "Gemalto Smartcards"`,
      args: [
        'maker',
        'ca',
        p(`${prefix}smartcards`),
        '--parent',
        p(`${prefix}maker-root`),
        '--name',
        'Gemalto Smartcards',
      ],
      expect: 0,
    });
    await step({
      say: `${who} model (device class) "Gemalto .NET Card"`,
      args: [
        'maker',
        'ca',
        p(`${prefix}dotnet`),
        '--parent',
        p(`${prefix}smartcards`),
        '--name',
        'Gemalto .NET Card',
      ],
      expect: 0,
    });
    await step({
      say: 'personalise a token: its attestation key is made inside and certified by the model CA',
      args: [
        'maker',
        'token',
        p(token),
        '--parent',
        p(`${prefix}dotnet`),
        '--model',
        'Gemalto .NET Card',
        '--serial',
        '0001',
      ],
      expect: 0,
    });
  };
  /** A key made inside `token`, and a CSR for it answering today's challenge. */
  const keyAndCsr = async (token: string, subject: string, out: string): Promise<void> => {
    await step({
      say: 'generate a key inside the token',
      args: ['token', 'keygen', p(token), '--label', 'signing'],
      expect: 0,
    });
    await step({
      say: 'a CSR signed by the new key, carrying the certificate of provenance bound to the nonce',
      args: [
        'token',
        'csr',
        p(token),
        '--label',
        'signing',
        '--nonce',
        nonce,
        '--subject',
        subject,
        '-o',
        p(out),
      ],
      expect: 0,
    });
  };
  const verifyStep = (say: string, args: string[], expect: number, brief = true) =>
    step({ say, args: ['verify', ...args], expect, brief });

  say('1. The manufacturer builds its hierarchy: root → product line → model, and a token.');
  await gemaltoHierarchy('', 'the manufacturer:', 'alice.token');

  say(`2. The customer makes a key on the token; the bank sent the challenge (nonce) ${nonce}.`);
  await keyAndCsr('alice.token', 'CN=Alice Example', 'alice.csr');

  say('3. The bank verifies. Trust: the Gemalto root (by key). The allow-list entry decides.');
  const trust = ['--trust', p('maker-root/cert.pem'), '--nonce', nonce];
  await verifyStep(
    'allow one model: Gemalto .NET Card',
    [p('alice.csr'), ...trust, '--allow', p('dotnet/cert.pem')],
    0,
    false,
  );
  await verifyStep(
    'allow a product line: Gemalto Smartcards',
    [p('alice.csr'), ...trust, '--allow', p('smartcards/cert.pem')],
    0,
  );
  await verifyStep(
    'allow a whole maker: Gemalto NV',
    [p('alice.csr'), ...trust, '--allow', p('maker-root/cert.pem')],
    0,
  );

  say("4. Another maker's token, trusted as a maker but not allow-listed, is rejected.");
  await step({
    say: 'a second manufacturer',
    args: ['maker', 'init', p('acme'), '--name', 'Acme Tokens'],
    expect: 0,
  });
  await step({
    say: 'its token',
    args: ['maker', 'token', p('bob.token'), '--parent', p('acme'), '--model', 'Acme Key', '--serial', 'B-7'],
    expect: 0,
  });
  await keyAndCsr('bob.token', 'CN=Bob Example', 'bob.csr');
  writeFileSync(p('policy.yaml'), DEMO_POLICY);
  const policy = ['--policy', p('policy.yaml'), '--nonce', nonce];
  await step({
    say: "the bank's policy file (trusts Gemalto and Acme, allows only Gemalto Smartcards)",
    args: ['policy', 'check', p('policy.yaml')],
    expect: 0,
  });
  await verifyStep('Alice under the policy file', [p('alice.csr'), ...policy], 0);
  await verifyStep('Bob under the policy file', [p('bob.csr'), ...policy], 1);

  say('5. A forged hierarchy with identical names: trust is by key, so the names buy nothing.');
  await gemaltoHierarchy('forged-', 'the forger:', 'mallory.token');
  await keyAndCsr('mallory.token', 'CN=Alice Example', 'mallory.csr');
  await verifyStep('rejected: no path to the real Gemalto key', [p('mallory.csr'), ...policy], 1);

  say('6. Replay: evidence made for an earlier challenge does not answer this one.');
  await step({
    say: 'an attestation Alice made for an old challenge',
    args: [
      'token',
      'attest',
      p('alice.token'),
      '--label',
      'signing',
      '--nonce',
      oldNonce,
      '-o',
      p('old-attestation.pem'),
    ],
    expect: 0,
  });
  await verifyStep("replayed against today's nonce", [p('old-attestation.pem'), ...policy], 1);
  await verifyStep(
    'without the nonce at all, the policy demands freshness',
    [p('old-attestation.pem'), '--policy', p('policy.yaml')],
    1,
  );
  return failures;
}

/** The bank's policy in the demo: two makers trusted, one product line allowed. */
const DEMO_POLICY = `version: 1
trust:
  - id: gemalto
    certificates: [./maker-root/cert.pem]
  - id: acme
    certificates: [./acme/cert.pem]
allow:
  - id: gemalto-smartcards
    entry: ./smartcards/cert.pem
    level: 2
require:
  freshness: nonce
  generatedOnDevice: true
  nonExportable: true
deny:
  roca: true
`;

/** The chain line and the final ACCEPT/REJECT lines of a verify report. */
function briefVerdict(report: string): string {
  const lines = report.split('\n');
  const chain = lines.find((l) => l.includes(' → '));
  const end = lines.findIndex((l) => /^(ACCEPT|REJECT)/.test(l));
  return [...(chain ? [chain.trim()] : []), ...(end >= 0 ? lines.slice(end) : lines)].join('\n');
}

function indent(text: string): string {
  if (text.trim() === '') return '';
  return `${text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n`;
}
