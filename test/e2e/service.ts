/**
 * End-to-end fixtures: the provisioning service started for real (`startService`, as
 * `provenance serve --demo` does) on an ephemeral loopback port in a temporary data directory,
 * or `provenance serve` in a child process over the TypeScript sources; plus small HTTP
 * helpers that look at the raw answers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { type RunningService, startService } from '../../src/server/serve.js';

/** The repository root (two levels above this file). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A configuration for tests: ephemeral port; limits raised unless a test sets its own. */
export function testConfig(extra: { limits?: string; listen?: string } = {}): string {
  return [
    `listen: ${extra.listen ?? '127.0.0.1:0'}`,
    'db: sqlite:./provenance.db',
    extra.limits ?? 'limits:\n  perCodePerMinute: 1000\n  perAddressPerMinute: 1000000',
    '',
  ].join('\n');
}

/** A service running in this process. */
export interface E2eService {
  readonly service: RunningService;
  readonly dir: string;
  readonly url: string;
  readonly adminToken: string;
  readonly adminTokenFile: string;
  /** The demo product line CA directory (`maker token --parent`). */
  readonly line: string;
  /** What the service printed (the banner). */
  readonly out: string;
  close(): Promise<void>;
}

/**
 * Start the service with the demo maker in `dir` (which may be fresh): config.yaml is written
 * first unless it exists.
 */
export async function startE2eService(
  dir: string,
  options: { db?: string; config?: string; env?: Record<string, string> } = {},
): Promise<E2eService> {
  const configPath = join(dir, 'config.yaml');
  await writeFile(configPath, options.config ?? testConfig(), { flag: 'wx' }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    },
  );
  let out = '';
  const service = await startService({
    data: dir,
    demo: true,
    env: options.env ?? {},
    clock: Date.now,
    out: (s) => {
      out += s;
    },
    err: () => undefined,
    logger: pino({ level: 'silent' }) as unknown as FastifyBaseLogger,
    ...(options.db !== undefined ? { db: options.db } : {}),
  });
  const adminTokenFile = join(dir, 'admin-token');
  const adminToken = (await readFile(adminTokenFile, 'utf8')).trim();
  return {
    service,
    dir,
    url: service.url,
    adminToken,
    adminTokenFile,
    line: join(dir, 'demo', 'maker', 'line'),
    out,
    close: () => service.close(),
  };
}

/** `provenance serve` in a child process. */
export interface ChildService {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything written so far. */
  output(): string;
  /** Resolves with the exit code or signal when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start `provenance serve ARGS` as a real process over the TypeScript sources and wait for its
 * "listening on URL" line (at most `timeoutMs`).
 */
export async function spawnServe(args: readonly string[], timeoutMs = 60_000): Promise<ChildService> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      join(REPO, 'test/e2e/register-ts.mjs'),
      join(REPO, 'test/e2e/cli-entry.ts'),
      'serve',
      ...args,
    ],
    { cwd: REPO, env: { ...process.env, PROVENANCE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout!.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`provenance serve did not start within ${timeoutMs} ms:\n${text}`));
    }, timeoutMs);
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`provenance serve exited (${code ?? signal}) before listening:\n${text}`));
    });
  });
  return { child, url, output: () => text, exited };
}

/** A raw answer: status, content type, parsed JSON body (or null). */
export interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly json: Record<string, unknown> | null;
  readonly headers: Headers;
}

/** POST (or other method) with a raw body; nothing is checked or thrown. */
export async function raw(
  url: string,
  init: { method?: string; authorization?: string; body?: string | Uint8Array; contentType?: string | null },
): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (init.authorization !== undefined) headers['authorization'] = init.authorization;
  if (init.contentType !== null) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(url, {
    method: init.method ?? 'POST',
    headers,
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    json,
    headers: res.headers,
  };
}
