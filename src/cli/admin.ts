/**
 * `provenance admin …`: the operator's calls to a running service's admin API: create
 * enrollment codes and admin tokens, revoke a certificate. Authenticated by an admin token
 * from `--admin-token-file FILE` (e.g. DIR/admin-token, written at the service's first start)
 * or `PROVENANCE_ADMIN_TOKEN`. Secrets the service returns are printed once, on stdout.
 */
import { readFileSync, statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { fail, isProvenanceError } from '../core/errors.js';
import { ALL_SCOPES, type Scope } from '../store/types.js';
import { type CliContext, CliExit, EXIT, warn } from './context.js';
import { addServerOptions, clientFromOptions, isServiceAnswer, type ServerOptions } from './enroll.js';

/** Largest admin token file read (the token is ~50 characters). */
const MAX_TOKEN_FILE_BYTES = 4096;

/**
 * The RFC 5280 §5.3.1 CRLReason names an operator may give for an issued (end-entity)
 * certificate, as the service accepts them: cACompromise and aACompromise concern CAs and
 * attribute authorities, removeFromCRL only delta CRLs.
 */
export const CRL_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
] as const;

interface AdminOptions extends ServerOptions {
  adminTokenFile?: string;
  json?: boolean;
}

/** A lifetime like `7d`, `12h`, `30m`, `90s`, `2w` or plain seconds, as seconds; else USAGE. */
export function parseTtl(text: string, option = '--ttl'): number {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
  if (!m)
    return fail(
      'USAGE',
      `${option} must be a duration such as 7d, 12h, 30m or 3600 (seconds), not "${text}"`,
    );
  const seconds = Number(m[1]) * unit[m[2] as keyof typeof unit];
  if (seconds <= 0 || !Number.isSafeInteger(seconds))
    fail('USAGE', `${option} must be longer than 0 seconds`);
  return seconds;
}

/** Scopes from `a,b,c`; `all` means every scope. Unknown names are USAGE, naming them. */
export function parseScopes(text: string): Scope[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) fail('USAGE', `--scopes needs at least one of: ${ALL_SCOPES.join(', ')}`);
  if (names.includes('all')) return [...ALL_SCOPES];
  const unknown = names.filter((n) => !(ALL_SCOPES as readonly string[]).includes(n));
  if (unknown.length > 0)
    fail('USAGE', `unknown scope(s) ${unknown.join(', ')}: choose from ${ALL_SCOPES.join(', ')} (or all)`);
  return [...new Set(names)] as Scope[];
}

/** The admin token: --admin-token-file, else PROVENANCE_ADMIN_TOKEN, else USAGE. */
export function resolveAdminToken(file: string | undefined, ctx: CliContext): string {
  if (file !== undefined) {
    let text: string;
    try {
      const info = statSync(file);
      if (!info.isFile()) fail('IO_ERROR', `${file} is not a regular file`, { path: file });
      if (info.size > MAX_TOKEN_FILE_BYTES)
        fail('INPUT_TOO_LARGE', `${file} is too large for an admin token file`);
      // A bearer secret readable by others is a leaked secret (the service writes it 0600).
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0)
        warn(ctx, `${file} is readable by other users: chmod 600 it`);
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (isProvenanceError(err)) throw err;
      return fail(
        'IO_ERROR',
        `cannot read --admin-token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        {
          path: file,
        },
      );
    }
    const token = text.trim();
    if (token === '') fail('USAGE', `${file} is empty: expected the admin token`);
    return token;
  }
  const env = ctx.env['PROVENANCE_ADMIN_TOKEN'];
  if (env !== undefined && env.trim() !== '') return env.trim();
  return fail(
    'USAGE',
    'no admin token: pass --admin-token-file FILE (e.g. <data dir>/admin-token) or set PROVENANCE_ADMIN_TOKEN',
  );
}

/** Run an admin call: a refusal by the service exits 1 with its code and reason. */
async function adminCall<T>(ctx: CliContext, json: boolean, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isServiceAnswer(err)) throw err;
    if (json)
      ctx.out(
        `${JSON.stringify({ ok: false, code: err.code, message: err.message, details: err.details }, null, 2)}\n`,
      );
    else {
      ctx.err(`refused: ${err.code}: ${err.message}\n`);
      const errors = err.details['errors'];
      if (Array.isArray(errors))
        for (const e of errors as { pointer?: string; detail?: string }[])
          ctx.err(`  ${e.pointer ?? ''}: ${e.detail ?? ''}\n`);
      if (err.code === 'AUTH_SCOPE') ctx.err('  the admin token lacks the scope this call needs\n');
      if (err.code === 'AUTH_INVALID') ctx.err('  the admin token is unknown or revoked\n');
    }
    throw new CliExit(EXIT.reject);
  }
}

function adminCommand(parent: Command, name: string, description: string): Command {
  const cmd = parent
    .command(name)
    .description(description)
    .option('--admin-token-file <file>', 'file holding the admin token (default: $PROVENANCE_ADMIN_TOKEN)')
    .option('--json', 'print JSON');
  return addServerOptions(cmd);
}

/**
 * Register `admin code create`, `admin token create` and `admin cert revoke`.
 *
 * @example
 * registerAdmin(program, ctx);   // provenance admin code create --server URL --customer acme --subject 'CN=Alice,O=Acme'
 */
export function registerAdmin(program: Command, ctx: CliContext): void {
  const admin = program
    .command('admin')
    .description('operate a running provisioning service through its admin API (needs an admin token)');

  const code = admin.command('code').description('enrollment codes: one certificate each, expiring');
  adminCommand(code, 'create', 'create an enrollment code for a customer (shown once)')
    .requiredOption('--customer <customer>', 'who the code is for (your customer reference)')
    .requiredOption('--subject <dn>', "subject of the certificate the code yields, e.g. 'CN=Alice,O=Acme'")
    .option('--profile <profile>', 'certificate profile from the service configuration (default: default)')
    .option(
      '--ttl <duration>',
      "how long the code stays valid: 7d, 12h, 30m, or seconds (default: the service's)",
    )
    .action(
      async (o: AdminOptions & { customer: string; subject: string; profile?: string; ttl?: string }) => {
        if (o.customer.trim() === '') fail('USAGE', '--customer must not be empty');
        if (o.subject.trim() === '') fail('USAGE', '--subject must name someone, e.g. CN=Alice,O=Acme');
        const ttl = o.ttl !== undefined ? parseTtl(o.ttl) : undefined;
        const client = clientFromOptions(o, ctx);
        const token = resolveAdminToken(o.adminTokenFile, ctx);
        const created = await adminCall(ctx, o.json === true, () =>
          client.adminCreateCode(token, {
            customer: o.customer,
            subject: o.subject,
            ...(o.profile !== undefined ? { profile: o.profile } : {}),
            ...(ttl !== undefined ? { ttl } : {}),
          }),
        );
        if (o.json) {
          ctx.out(`${JSON.stringify(created, null, 2)}\n`);
          return;
        }
        ctx.out(`enrollment code for customer "${created.customer}" (profile ${created.profile})\n`);
        ctx.out(`  code      ${created.code}\n`);
        ctx.out(`  subject   ${created.subject}\n`);
        ctx.out(`  expires   ${created.expiresAt}\n`);
        ctx.out(`  id        ${created.id}\n`);
        ctx.out(
          'The code is shown once and yields one certificate: give it to the customer over a trusted channel.\n',
        );
        ctx.out(
          `They run: provenance enroll --server ${client.server} --code ${created.code} --token TOKEN_FILE\n`,
        );
      },
    );

  const token = admin.command('token').description('admin tokens for people and systems, with scopes');
  adminCommand(token, 'create', 'create an admin token with scopes (shown once)')
    .requiredOption('--name <name>', 'who or what will use it, e.g. "crm-integration"')
    .requiredOption('--scopes <list>', `comma-separated: ${ALL_SCOPES.join(', ')}, or all`)
    .action(async (o: AdminOptions & { name: string; scopes: string }) => {
      if (o.name.trim() === '') fail('USAGE', '--name must not be empty');
      const scopes = parseScopes(o.scopes);
      const client = clientFromOptions(o, ctx);
      const admin = resolveAdminToken(o.adminTokenFile, ctx);
      const created = await adminCall(ctx, o.json === true, () =>
        client.adminCreateToken(admin, { name: o.name, scopes }),
      );
      if (o.json) {
        ctx.out(`${JSON.stringify({ ...created, name: o.name, scopes }, null, 2)}\n`);
        return;
      }
      ctx.out(`admin token "${o.name}" with scopes ${scopes.join(', ')}\n`);
      ctx.out(`  token  ${created.token}\n`);
      ctx.out(`  id     ${created.id}\n`);
      ctx.out(
        'The token is shown once: store it now (e.g. in a file only you can read, then --admin-token-file).\n',
      );
    });

  const cert = admin.command('cert').description('issued certificates');
  adminCommand(cert, 'revoke', 'revoke an issued certificate (it appears in the next CRL)')
    .argument('<serial>', 'the certificate serial in hex')
    .addOption(
      new Option('--reason <reason>', 'RFC 5280 CRL reason').choices(CRL_REASONS).default('unspecified'),
    )
    .action(async (serial: string, o: AdminOptions & { reason: string }) => {
      const normalized = serial.replace(/:/g, '').toLowerCase();
      const client = clientFromOptions(o, ctx);
      const admin = resolveAdminToken(o.adminTokenFile, ctx);
      await adminCall(ctx, o.json === true, () => client.adminRevokeCertificate(admin, normalized, o.reason));
      if (o.json) ctx.out(`${JSON.stringify({ ok: true, serial: normalized, reason: o.reason })}\n`);
      else
        ctx.out(
          `certificate ${normalized} revoked (${o.reason}); the CRL at ${client.server}/api/v1/crl lists it\n`,
        );
    });
}
