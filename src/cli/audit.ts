/**
 * `provenance audit verify [--data DIR | --db URL] [--json]`: walk the service's hash-chained
 * audit log and report whether it is intact. Exit 0 when intact, 1 naming the first bad record
 * (edited, deleted, inserted or reordered), 2 when the database cannot be read.
 *
 * The database comes from `--db`, else from `DIR/config.yaml`'s `db:` (DIR from `--data`,
 * default `./provenance-data`), else `DIR/provenance.db`. The command never writes: it opens
 * an existing database only and does not create or migrate the schema.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { fail, ProvenanceError } from '../core/errors.js';
import { CONFIG_FILE, MAX_CONFIG_BYTES, parseServiceConfig } from '../server/config.js';
import { type AuditVerification, parseStoreUrl, redactDatabaseUrl } from '../store/index.js';
import { type CliContext, CliExit, EXIT } from './context.js';
import { openOperatorStore } from './operator-store.js';

/** The data directory `serve` uses when none is given. */
const DEFAULT_DATA_DIR = './provenance-data';

/** Where the database of a data directory lives: its config's `db:`, else `DIR/provenance.db`. */
export function databaseUrlForDataDir(dir: string, cwd = process.cwd()): string {
  const baseDir = resolve(cwd, dir);
  const source = join(baseDir, CONFIG_FILE);
  if (existsSync(source)) {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new ProvenanceError('IO_ERROR', `cannot read ${source}: ${(err as Error).message}`, {
        path: source,
      });
    }
    if (text.length > MAX_CONFIG_BYTES)
      fail('INPUT_TOO_LARGE', `${source}: configuration above ${MAX_CONFIG_BYTES} bytes`);
    return parseServiceConfig(text, { source, baseDir, cwd }).db;
  }
  return `sqlite:${join(baseDir, 'provenance.db')}`;
}

/**
 * Register the `audit` command group.
 *
 * @example
 * registerAudit(program, ctx);   // provenance audit verify --data ./provenance-data
 */
export function registerAudit(program: Command, ctx: CliContext): void {
  const group = program.command('audit').description("check the provisioning service's audit log");
  group
    .command('verify')
    .description(
      'walk the hash-chained audit log and report the first record that was edited, deleted or inserted',
    )
    .option('--data <dir>', `the service's data directory (reads its config.yaml for db:)`)
    .option('--db <url>', 'the database: sqlite:PATH or postgres://user@host/db')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit status: 0 intact, 1 broken (the first bad record is named), 2 unreadable database.\n\n' +
        'Each record is hashed as sha256(previous hash in hex || canonical JSON of\n' +
        '{seq, at, event, actor, subject, data}) (RFC 8785 JSON; the first previous hash is 64 zeros).\n\n' +
        'Examples:\n  provenance audit verify --data ./provenance-data\n' +
        '  provenance audit verify --db postgres://provenance@db.internal/provenance --json\n',
    )
    .action(async (options: { data?: string; db?: string; json?: boolean }) => {
      if (options.data !== undefined && options.db !== undefined)
        fail('USAGE', 'give --data or --db, not both');
      const url = options.db ?? databaseUrlForDataDir(options.data ?? DEFAULT_DATA_DIR);
      const location = parseStoreUrl(url);
      const shown = location.kind === 'sqlite' ? location.path : redactDatabaseUrl(location.url);
      if (location.kind === 'sqlite' && location.path !== ':memory:' && !existsSync(location.path))
        fail('IO_ERROR', `no database at ${location.path} (is that the service's data directory?)`, {
          path: location.path,
        });

      const store = await openOperatorStore(url, { readOnly: true });
      let result: AuditVerification;
      try {
        result = await store.verifyAudit();
      } finally {
        await store.close();
      }

      if (options.json) {
        ctx.out(`${JSON.stringify({ database: shown, ...result }, null, 2)}\n`);
      } else if (result.ok) {
        ctx.out(`audit log intact: ${result.records} records, head ${result.head}\n`);
      } else {
        ctx.out(`audit log BROKEN at record ${result.firstBad}: ${result.problem}\n`);
        ctx.out(`(${result.records} records before it check out; database ${shown})\n`);
      }
      if (!result.ok) throw new CliExit(EXIT.reject);
    });
}
