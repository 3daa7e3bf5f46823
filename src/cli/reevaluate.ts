/**
 * `provenance reevaluate [--data DIR | --db URL] [--policy FILE] [--revoke] [--reason R]
 * [--limit N] [--json]`: after a compromise (a model denied, a batch key revoked), run the
 * policy over the service's stored enrollments and list the issued certificates whose keys it
 * would now reject; with `--revoke`, revoke them (audited, one transaction each).
 *
 * Exit status, like a linter: 0 when no good certificate is rejected by the policy after the
 * run (nothing to do, or `--revoke` revoked every one listed); 1 when certificates the policy
 * rejects are still good (listed); 2 for a usage error or an unreadable database or policy.
 *
 * The database and policy come from `DIR/config.yaml` (the service's own loader; DIR from
 * `--data`, default `./provenance-data`), `--db` and `--policy` override them. The command
 * never creates or migrates a database. A running service notices the revocations within
 * a minute (its CRL publisher compares the revoked set with the store) and publishes them.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { REVOCATION_REASONS } from '../ca/crl.js';
import { fail } from '../core/errors.js';
import type { CrlReason } from '../pki/crl.js';
import { loadPolicyFile } from '../policy/load.js';
import type { Policy } from '../policy/model.js';
import { CONFIG_FILE, loadServiceConfig } from '../server/config.js';
import { type ReevaluationReport, reevaluate } from '../server/reevaluate.js';
import { parseStoreUrl, redactDatabaseUrl, type Store } from '../store/index.js';
import { fileListStatePersistence } from '../trust/lists/keeper.js';
import { type ListState, loadTokenLists } from '../trust/lists/loader.js';
import { storeListStatePersistence } from '../trust/lists/store-persistence.js';
import type { TokenListSet } from '../trust/lists/types.js';
import { type CliContext, CliExit, EXIT } from './context.js';
import { openOperatorStore } from './operator-store.js';

/** The data directory `serve` uses when none is given. */
const DEFAULT_DATA_DIR = './provenance-data';
/** The service's last good token lists in its data directory (serve.ts writes it). */
const LIST_STATE_FILE = 'trust-lists.json';

interface ReevaluateFlags {
  data?: string;
  db?: string;
  policy?: string;
  revoke?: boolean;
  reason?: string;
  limit?: string;
  json?: boolean;
}

/**
 * Register the `reevaluate` command.
 *
 * @example
 * registerReevaluate(program, ctx);   // provenance reevaluate --data ./provenance-data --revoke
 */
export function registerReevaluate(program: Command, ctx: CliContext): void {
  program
    .command('reevaluate')
    .description(
      "run the policy over the service's issued certificates and list those it would now reject (--revoke: revoke them)",
    )
    .option('--data <dir>', "the service's data directory (its config.yaml names db: and policy:)")
    .option('--db <url>', 'the database: sqlite:PATH or postgres://user@host/db (then --policy is needed)')
    .option('--policy <file>', "the policy to judge by (default: the service's configured policy)")
    .option('--revoke', 'revoke every certificate listed')
    .option('--reason <reason>', `revocation reason: ${REVOCATION_REASONS.join(', ')}`, 'keyCompromise')
    .option('--limit <n>', 'examine at most N issued enrollments, newest first (default: all)')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit status: 0 no good certificate is rejected by the policy (nothing to do, or --revoke\n' +
        'revoked every one listed), 1 certificates the policy rejects are still good (listed),\n' +
        '2 usage error or unreadable database or policy.\n\n' +
        'Each revocation is audited (certificate.revoked) and the run too (reevaluation.run). A\n' +
        "running service's CRL lists new revocations within a minute.\n\n" +
        'Examples:\n  provenance reevaluate --data ./provenance-data\n' +
        '  provenance reevaluate --data ./provenance-data --revoke --reason keyCompromise\n' +
        '  provenance reevaluate --db postgres://provenance@db.internal/provenance --policy policy.yaml --json\n',
    )
    .action(async (flags: ReevaluateFlags) => {
      const reason = flags.reason ?? 'keyCompromise';
      if (!(REVOCATION_REASONS as readonly string[]).includes(reason))
        fail('USAGE', `--reason must be one of ${REVOCATION_REASONS.join(', ')} (got "${reason}")`);
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1))
        fail('USAGE', `--limit must be a positive whole number (got "${flags.limit}")`);
      const { url, policyPath, dataDir } = await locate(flags);
      const policy = loadPolicyFile(policyPath);
      const location = parseStoreUrl(url);
      const shown = location.kind === 'sqlite' ? location.path : redactDatabaseUrl(location.url);
      if (location.kind === 'sqlite' && location.path !== ':memory:' && !existsSync(location.path))
        fail('IO_ERROR', `no database at ${location.path} (is that the service's data directory?)`, {
          path: location.path,
        });

      const store = await open(url);
      let report: ReevaluationReport;
      try {
        const lists = await loadLists(policy.lists ?? [], store, dataDir, ctx.clock());
        report = await reevaluate({
          store,
          policy,
          clock: ctx.clock,
          actor: `cli:${ctx.env['USER'] ?? ctx.env['USERNAME'] ?? 'unknown'}`,
          revoke: flags.revoke === true,
          reason: reason as CrlReason,
          ...(lists === undefined ? {} : { lists }),
          ...(limit === undefined ? {} : { limit }),
        });
      } finally {
        await store.close();
      }

      // With --revoke every listed certificate is now revoked (by this run, or meanwhile by another).
      const remaining = flags.revoke === true ? 0 : report.wouldReject.length;
      if (flags.json) {
        ctx.out(`${JSON.stringify({ database: shown, policy: policyPath, ...report }, null, 2)}\n`);
      } else {
        ctx.out(render(report, { database: shown, policy: policyPath, revoke: flags.revoke === true }));
      }
      if (remaining > 0) throw new CliExit(EXIT.reject);
    });
}

/** The database URL and policy file: flags first, then the data directory's config.yaml. */
async function locate(
  flags: ReevaluateFlags,
): Promise<{ url: string; policyPath: string; dataDir: string | null }> {
  if (flags.data !== undefined && flags.db !== undefined) fail('USAGE', 'give --data or --db, not both');
  if (flags.db !== undefined) {
    if (flags.policy === undefined)
      fail('USAGE', '--db needs --policy FILE (without a data directory there is no configured policy)');
    return { url: flags.db, policyPath: resolve(flags.policy), dataDir: null };
  }
  const dir = resolve(flags.data ?? DEFAULT_DATA_DIR);
  // loadServiceConfig writes a default file when there is none: this command must not.
  if (!existsSync(join(dir, CONFIG_FILE)))
    fail('IO_ERROR', `no ${CONFIG_FILE} in ${dir} (is that the service's data directory? or give --db)`, {
      path: join(dir, CONFIG_FILE),
    });
  const config = await loadServiceConfig(dir, flags.policy === undefined ? {} : { policy: flags.policy });
  if (!existsSync(config.policy))
    fail('IO_ERROR', `the configured policy ${config.policy} does not exist (give --policy FILE)`, {
      path: config.policy,
    });
  return { url: config.db, policyPath: config.policy, dataDir: config.dir };
}

/**
 * The token lists the policy names, loaded and verified now. The service's last good copies
 * are read, not written: from the store (`trust_lists`), and from a data directory's
 * `trust-lists.json` of an older release (the higher sequence wins), so a list's sequence
 * cannot go backwards and an unreachable source falls back to the last good copy.
 */
async function loadLists(
  configs: NonNullable<Policy['lists']>,
  store: Store,
  dataDir: string | null,
  now: number,
): Promise<TokenListSet | undefined> {
  if (configs.length === 0) return undefined;
  const state = new Map<string, ListState>(await storeListStatePersistence(store).load());
  if (dataDir !== null) {
    for (const [id, s] of await fileListStatePersistence(join(dataDir, LIST_STATE_FILE)).load()) {
      const kept = state.get(id);
      if (kept === undefined || s.sequence > kept.sequence) state.set(id, s);
    }
  }
  return loadTokenLists(configs, { now, state });
}

/** Open an existing database with this release's schema (never create or migrate it). */
function open(url: string): Promise<Store> {
  return openOperatorStore(url, { mustExist: true, migrate: false });
}

function render(
  report: ReevaluationReport,
  where: { database: string; policy: string; revoke: boolean },
): string {
  const lines = [
    `policy ${where.policy} (${report.policyDigest}), database ${where.database}`,
    `re-evaluated ${report.evaluated} issued certificate(s); skipped ${report.skipped} (revoked, expired or without a policy input)${report.truncated ? '; stopped at --limit' : ''}`,
  ];
  if (report.wouldReject.length === 0) {
    lines.push('nothing to do: the policy still accepts every good certificate');
    return `${lines.join('\n')}\n`;
  }
  lines.push(`${report.wouldReject.length} certificate(s) the policy now rejects:`);
  for (const w of report.wouldReject) {
    const after = `${w.after.code}${w.after.rule === null ? '' : ` (${w.after.rule})`}`;
    const before = `${w.before.code}${w.before.rule === null ? '' : ` (${w.before.rule})`}`;
    lines.push(
      `  ${w.serial}  ${w.subject}  customer ${w.customer}  enrollment ${w.enrollmentId}`,
      `    now ${after}, was ${before}${w.revoked ? `  → revoked (${report.reason})` : ''}`,
      `    ${w.why}`,
    );
  }
  if (where.revoke) {
    lines.push(
      `revoked ${report.revoked.length} certificate(s) (${report.reason}); a running service's CRL lists them within a minute`,
    );
    const left = report.wouldReject.length - report.revoked.length;
    if (left > 0) lines.push(`${left} were revoked meanwhile by someone else`);
  } else {
    lines.push('run again with --revoke to revoke them (audited; --reason, default keyCompromise)');
  }
  return `${lines.join('\n')}\n`;
}
