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

  say('1. The manufacturer builds its hierarchy: root → product line → model.');
  await step({
    say: 'the manufacturer root',
    args: ['maker', 'init', p('gemalto'), '--name', 'Gemalto NV'],
    expect: 0,
  });
  await step({
    say: 'a product line',
    args: ['maker', 'ca', p('smartcards'), '--parent', p('gemalto'), '--name', 'Gemalto Smartcards'],
    expect: 0,
  });
  await step({
    say: 'a model (device class)',
    args: ['maker', 'ca', p('dotnet'), '--parent', p('smartcards'), '--name', 'Gemalto .NET Card'],
    expect: 0,
  });
  await step({
    say: 'personalise a token: its attestation key is made inside and certified by the model CA',
    args: [
      'maker',
      'token',
      p('alice.token'),
      '--parent',
      p('dotnet'),
      '--model',
      'Gemalto .NET Card',
      '--serial',
      '0001',
    ],
    expect: 0,
  });

  say('2. The customer makes a key on the token; the bank sent the challenge (nonce) ' + nonce + '.');
  await step({
    say: 'generate the key inside the token',
    args: ['token', 'keygen', p('alice.token'), '--label', 'signing', '--touch-policy', 'never'],
    expect: 0,
  });
  await step({
    say: 'a CSR signed by the new key, carrying the certificate of provenance bound to the nonce',
    args: [
      'token',
      'csr',
      p('alice.token'),
      '--label',
      'signing',
      '--nonce',
      nonce,
      '--subject',
      'CN=Alice Example',
      '-o',
      p('alice.csr'),
    ],
    expect: 0,
  });

  say('3. The bank verifies. Trust: the Gemalto root (by key). The allow-list entry decides.');
  await step({
    say: 'allow one model: Gemalto .NET Card',
    args: [
      'verify',
      p('alice.csr'),
      '--trust',
      p('gemalto/cert.pem'),
      '--allow',
      p('dotnet/cert.pem'),
      '--nonce',
      nonce,
    ],
    expect: 0,
  });
  await step({
    say: 'allow a product line: Gemalto Smartcards',
    args: [
      'verify',
      p('alice.csr'),
      '--trust',
      p('gemalto/cert.pem'),
      '--allow',
      p('smartcards/cert.pem'),
      '--nonce',
      nonce,
    ],
    expect: 0,
    brief: true,
  });
  await step({
    say: 'allow a whole maker: Gemalto NV',
    args: [
      'verify',
      p('alice.csr'),
      '--trust',
      p('gemalto/cert.pem'),
      '--allow',
      p('gemalto/cert.pem'),
      '--nonce',
      nonce,
    ],
    expect: 0,
    brief: true,
  });
  writeFileSync(
    p('policy.yaml'),
    [
      'version: 1',
      'trust:',
      '  - id: gemalto',
      '    certificates: [./gemalto/cert.pem]',
      '  - id: acme',
      '    certificates: [./acme/cert.pem]',
      'allow:',
      '  - id: gemalto-smartcards',
      '    entry: ./smartcards/cert.pem',
      '    level: 2',
      'require:',
      '  freshness: nonce',
      '  generatedOnDevice: true',
      '  nonExportable: true',
      'deny:',
      '  roca: true',
      '',
    ].join('\n'),
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
  await step({
    say: 'a key on it',
    args: ['token', 'keygen', p('bob.token'), '--label', 'signing'],
    expect: 0,
  });
  await step({
    say: 'its CSR',
    args: [
      'token',
      'csr',
      p('bob.token'),
      '--label',
      'signing',
      '--nonce',
      nonce,
      '--subject',
      'CN=Bob Example',
      '-o',
      p('bob.csr'),
    ],
    expect: 0,
  });
  await step({
    say: "the bank's policy file (trusts Gemalto and Acme, allows only Gemalto Smartcards)",
    args: ['policy', 'check', p('policy.yaml')],
    expect: 0,
  });
  await step({
    say: 'Alice under the policy file',
    args: ['verify', p('alice.csr'), '--policy', p('policy.yaml'), '--nonce', nonce],
    expect: 0,
    brief: true,
  });
  await step({
    say: 'Bob under the policy file',
    args: ['verify', p('bob.csr'), '--policy', p('policy.yaml'), '--nonce', nonce],
    expect: 1,
    brief: true,
  });

  say('5. A forged hierarchy with identical names: trust is by key, so the names buy nothing.');
  await step({
    say: 'the forger\'s "Gemalto NV"',
    args: ['maker', 'init', p('forged-root'), '--name', 'Gemalto NV'],
    expect: 0,
  });
  await step({
    say: 'its "Gemalto Smartcards"',
    args: ['maker', 'ca', p('forged-line'), '--parent', p('forged-root'), '--name', 'Gemalto Smartcards'],
    expect: 0,
  });
  await step({
    say: 'its "Gemalto .NET Card"',
    args: ['maker', 'ca', p('forged-model'), '--parent', p('forged-line'), '--name', 'Gemalto .NET Card'],
    expect: 0,
  });
  await step({
    say: 'a software "token" that claims to be a .NET Card, serial 0001',
    args: [
      'maker',
      'token',
      p('mallory.token'),
      '--parent',
      p('forged-model'),
      '--model',
      'Gemalto .NET Card',
      '--serial',
      '0001',
    ],
    expect: 0,
  });
  await step({
    say: 'a key',
    args: ['token', 'keygen', p('mallory.token'), '--label', 'signing'],
    expect: 0,
  });
  await step({
    say: 'a CSR answering the real challenge',
    args: [
      'token',
      'csr',
      p('mallory.token'),
      '--label',
      'signing',
      '--nonce',
      nonce,
      '--subject',
      'CN=Alice Example',
      '-o',
      p('mallory.csr'),
    ],
    expect: 0,
  });
  await step({
    say: 'rejected: no path to the real Gemalto key',
    args: ['verify', p('mallory.csr'), '--policy', p('policy.yaml'), '--nonce', nonce],
    expect: 1,
    brief: true,
  });

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
  await step({
    say: "replayed against today's nonce",
    args: ['verify', p('old-attestation.pem'), '--policy', p('policy.yaml'), '--nonce', nonce],
    expect: 1,
    brief: true,
  });
  await step({
    say: 'without the nonce at all, the policy demands freshness',
    args: ['verify', p('old-attestation.pem'), '--policy', p('policy.yaml')],
    expect: 1,
    brief: true,
  });
  return failures;
}

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
