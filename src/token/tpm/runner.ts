/**
 * How the TPM driver runs tpm2-tools: through an injected runner, so tests replay recorded
 * answers and nothing global (environment, current directory) is touched. The default runner
 * spawns the tool with an explicit environment carrying the TCTI (`TPM2TOOLS_TCTI`).
 */
import { spawn } from 'node:child_process';
import { ProvenanceError } from '../../core/errors.js';

/** One tool invocation. */
export interface ToolCall {
  /** Program name, e.g. `tpm2_createek`. */
  readonly tool: string;
  readonly args: readonly string[];
  /** Working directory: the driver's state directory (relative file names resolve there). */
  readonly cwd: string;
  /** Bytes written to the tool's standard input (tpm2_send). */
  readonly input?: Uint8Array;
}

/** What a tool gave back. */
export interface ToolResult {
  /** Exit status (null when killed by a signal). */
  readonly status: number | null;
  readonly stdout: Uint8Array;
  readonly stderr: string;
}

/** Runs one tpm2-tools command. */
export type ToolRunner = (call: ToolCall) => Promise<ToolResult>;

/** Options of the default runner. */
export interface SpawnRunnerOptions {
  /** TCTI string, e.g. `swtpm:host=127.0.0.1,port=2321` or `device:/dev/tpmrm0`. */
  readonly tcti: string;
  /** PATH to look the tools up in (default: this process's PATH). */
  readonly path?: string;
  /** Kill a tool after this many milliseconds (default 30 s: a TPM RSA keygen can be slow). */
  readonly timeoutMs?: number;
  /** Largest output kept per stream (default 1 MiB). */
  readonly maxOutputBytes?: number;
}

/**
 * The default runner: spawns the tool with only PATH and TPM2TOOLS_TCTI in its environment.
 *
 * @example
 * const runner = spawnRunner({ tcti: 'swtpm:host=127.0.0.1,port=2321' });
 * const { stdout } = await runner({ tool: 'tpm2_getcap', args: ['properties-fixed'], cwd: '.' });
 */
export function spawnRunner(options: SpawnRunnerOptions): ToolRunner {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const max = options.maxOutputBytes ?? 1024 * 1024;
  const env: Record<string, string> = {
    PATH: options.path ?? process.env['PATH'] ?? '/usr/bin:/bin',
    TPM2TOOLS_TCTI: options.tcti,
  };
  return (call) =>
    new Promise<ToolResult>((resolvePromise, reject) => {
      const child = spawn(call.tool, [...call.args], { cwd: call.cwd, env, stdio: 'pipe' });
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
            ? `${call.tool} not found: install tpm2-tools (5.x)`
            : `cannot run ${call.tool}: ${e.message}`;
        reject(new ProvenanceError('TPM_TOOL_FAILED', message, { tool: call.tool }, { cause: e }));
      });
      child.on('close', (status) => {
        clearTimeout(timer);
        if (outLen > max) {
          reject(
            new ProvenanceError('TPM_TOOL_FAILED', `${call.tool} wrote more than ${max} bytes`, {
              tool: call.tool,
            }),
          );
          return;
        }
        resolvePromise({
          status,
          stdout: new Uint8Array(Buffer.concat(out)),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      child.stdin.on('error', () => undefined); // a tool that exits early closes its stdin
      child.stdin.end(call.input !== undefined ? Buffer.from(call.input) : undefined);
    });
}
