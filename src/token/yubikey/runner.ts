/**
 * How the YubiKey driver runs `ykman` and `yubico-piv-tool`: through an injected runner, so
 * tests replay recorded transcripts and nothing global is touched. The default runner spawns
 * the program without a shell, with only PATH in its environment, and a timeout (a touch
 * policy waits for a finger).
 */
import { spawn } from 'node:child_process';
import { ProvenanceError } from '../../core/errors.js';

/** What a program gave back. */
export interface RunResult {
  /** Exit status (null when killed by a signal or the timeout). */
  readonly code: number | null;
  readonly stdout: Uint8Array;
  readonly stderr: string;
}

/** Runs one program with arguments and optional standard input. */
export type Runner = (cmd: string, args: readonly string[], stdin?: Uint8Array) => Promise<RunResult>;

/** Options of the default runner. */
export interface SpawnRunnerOptions {
  /** PATH to look the programs up in (default: this process's PATH). */
  readonly path?: string;
  /** Kill a program after this many milliseconds (default 60 s: touch and RSA keygen are slow). */
  readonly timeoutMs?: number;
  /** Largest output kept per stream (default 1 MiB). */
  readonly maxOutputBytes?: number;
}

/**
 * The default runner over child_process.spawn (no shell).
 *
 * @example
 * const attester = new YubiKeyAttester({ runner: spawnRunner(), pin: process.env.YK_PIN });
 */
export function spawnRunner(options: SpawnRunnerOptions = {}): Runner {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const max = options.maxOutputBytes ?? 1024 * 1024;
  const env: Record<string, string> = { PATH: options.path ?? process.env['PATH'] ?? '/usr/bin:/bin' };
  return (cmd, args, stdin) =>
    new Promise<RunResult>((resolvePromise, reject) => {
      const child = spawn(cmd, [...args], { env, stdio: 'pipe', shell: false });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (b: Buffer) => {
        outLen += b.length;
        if (outLen <= max) out.push(b);
      });
      child.stderr.on('data', (b: Buffer) => {
        errLen += b.length;
        if (errLen <= max) err.push(b);
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const message =
          e.code === 'ENOENT'
            ? `${cmd} not found: install it (docs/yubikey.md)`
            : `cannot run ${cmd}: ${e.message}`;
        reject(new ProvenanceError('YUBIKEY_TOOL_FAILED', message, { tool: cmd }, { cause: e }));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (outLen > max) {
          reject(
            new ProvenanceError('YUBIKEY_TOOL_FAILED', `${cmd} wrote more than ${max} bytes`, { tool: cmd }),
          );
          return;
        }
        resolvePromise({
          code,
          stdout: new Uint8Array(Buffer.concat(out)),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      child.stdin.on('error', () => undefined); // a program that exits early closes its stdin
      child.stdin.end(stdin !== undefined ? Buffer.from(stdin) : undefined);
    });
}
