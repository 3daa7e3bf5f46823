/**
 * `provenance serve`: run the provisioning service (src/server/serve.ts) until SIGINT or
 * SIGTERM, which close it gracefully (stop accepting, finish in-flight requests, close the
 * store); SIGHUP reloads the policy file.
 */
import { basename, relative } from 'node:path';
import type { Command } from 'commander';
import { isProvenanceError } from '../core/errors.js';
import type { startService } from '../server/serve.js';

/** Default data directory (the service's own constant, kept here so `--help` loads no server code). */
const DEFAULT_DATA_DIR = './provenance-data';

import type { CliContext } from './context.js';

interface ServeFlags {
  data: string;
  config?: string;
  policy?: string;
  db?: string;
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureListen?: boolean;
  demo?: boolean;
}

/**
 * Register `serve`.
 *
 * @example
 * registerServe(program, ctx);   // provenance serve --data ./provenance-data --demo
 */
export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description(
      'run the provisioning service (first start creates the config, database, issuing CA and admin token)',
    )
    .option('--data <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option('--config <file>', 'configuration file (default DATA/config.yaml)')
    .option('--policy <file>', 'policy file (default: the one config.yaml names)')
    .option('--db <url>', 'sqlite:PATH or postgres://user@host/db (default: config.yaml)')
    .option('--listen <host:port>', 'address to listen on (default: config.yaml, 127.0.0.1:8080)')
    .option('--tls-cert <pem>', 'TLS certificate chain (PEM)')
    .option('--tls-key <pem>', 'TLS private key (PEM)')
    .option('--insecure-listen', 'allow plain HTTP on an address other than loopback')
    .option('--demo', 'also create a demo maker and policy (DATA/demo) and print a walk-through')
    .action(async (o: ServeFlags) => {
      // Signal handlers go in before anything starts: a SIGTERM that arrives while the service
      // is starting (or right after the banner) must close it, not kill the process mid-write.
      let service: Awaited<ReturnType<typeof startService>> | undefined;
      let pending: string | undefined;
      const stop = (signal: string) => {
        ctx.err(`${signal}: closing (finishing requests in flight)\n`);
        if (service) void service.close();
        else pending = signal;
      };
      const reload = () => {
        if (!service) return;
        service
          .reloadPolicy()
          .then((p) =>
            ctx.err(
              `SIGHUP: policy ${p === null ? 'none' : `${p.source} (${p.digest.slice(0, 16)}…)`} loaded\n`,
            ),
          )
          .catch((err: unknown) =>
            ctx.err(
              `SIGHUP: policy not reloaded, the previous one stays: ${isProvenanceError(err) ? `${err.code}: ${err.message}` : String(err)}\n`,
            ),
          );
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      process.on('SIGHUP', reload);
      try {
        // Loaded on demand: the server stack (Fastify, the database drivers) is heavy, and the
        // other commands should not pay for it at start-up.
        const { startService: start } = await import('../server/serve.js');
        service = await start({
          data: o.data,
          ...(o.config === undefined ? {} : { config: o.config }),
          ...(o.policy === undefined ? {} : { policy: o.policy }),
          ...(o.db === undefined ? {} : { db: o.db }),
          ...(o.listen === undefined ? {} : { listen: o.listen }),
          ...(o.tlsCert === undefined ? {} : { tlsCert: o.tlsCert }),
          ...(o.tlsKey === undefined ? {} : { tlsKey: o.tlsKey }),
          insecureListen: o.insecureListen === true,
          demo: o.demo === true,
          env: ctx.env,
          clock: ctx.clock,
          out: ctx.out,
          err: ctx.err,
          cli: invokedAs(process.argv[1]),
        });
        if (pending !== undefined) void service.close();
        await service.closed;
      } finally {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        process.off('SIGHUP', reload);
      }
      ctx.err('closed\n');
    });
}

/** How the user ran us, for copy-pasteable next steps: `provenance`, or `node bin/provenance.js`. */
function invokedAs(script: string | undefined): string {
  if (script === undefined || basename(script) === 'provenance') return 'provenance';
  if (script.endsWith('provenance.js')) {
    const rel = relative(process.cwd(), script);
    return `node ${rel.startsWith('..') ? script : rel}`;
  }
  return 'provenance';
}
