/**
 * A throwaway software TPM for a test: a temp directory holds the TPM state AND a local CA
 * (swtpm_setup.conf, swtpm-localca.conf and .options written there and passed with --config),
 * so nothing touches /var/lib/swtpm-localca or the user's XDG config. `swtpm socket` listens
 * on free loopback TCP ports with not-need-init,startup-clear (standards §2.9).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needTool } from './tools.js';

/** A running swtpm. */
export interface Swtpm {
  /** TCTI for tpm2-tools, e.g. `swtpm:host=127.0.0.1,port=40123`. */
  readonly tcti: string;
  /** The local CA's root (`CN=swtpm-localca-rootca`): the "manufacturer root" to trust. */
  readonly caRootPem: string;
  /** The CA certificates between the EK certificate and the root (the `swtpm-localca` signing CA). */
  readonly caCerts: readonly string[];
  /** The temp directory (state, CA); removed by stop(). */
  readonly dir: string;
  /** Kill swtpm (its process group) and remove the directory. Idempotent. */
  stop(): Promise<void>;
}

/** The tools a swtpm test needs; call first in the test (skips locally, fails in CI). */
export function needSwtpm(ctx: { skip: (note?: string) => void }): void {
  needTool(ctx, 'swtpm', ['--version']);
  needTool(ctx, 'swtpm_setup', ['--help']);
  needTool(ctx, 'swtpm_localca', ['--help']);
  needTool(ctx, 'tpm2_createek', ['--version']);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Manufacture and start a software TPM with an RSA EK and its certificate (NV 0x01C00002).
 *
 * @example
 * const tpm = await startSwtpm();
 * afterAll(() => tpm.stop());
 */
export async function startSwtpm(options: { ecc?: boolean } = {}): Promise<Swtpm> {
  const dir = mkdtempSync(join(tmpdir(), 'provenance-swtpm-'));
  const state = join(dir, 'state');
  const ca = join(dir, 'ca');
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: dir,
    TMPDIR: dir,
    SWTPM_ROOTCA_PASSWORD: '',
  };
  mkdirSync(state);
  mkdirSync(ca);
  writeFileSync(
    join(dir, 'swtpm_setup.conf'),
    `create_certs_tool = swtpm_localca\ncreate_certs_tool_config = ${join(dir, 'swtpm-localca.conf')}\ncreate_certs_tool_options = ${join(dir, 'swtpm-localca.options')}\nactive_pcr_banks = sha256\n`,
  );
  writeFileSync(
    join(dir, 'swtpm-localca.conf'),
    `statedir = ${ca}\nsigningkey = ${join(ca, 'signkey.pem')}\nissuercert = ${join(ca, 'issuercert.pem')}\ncertserial = ${join(ca, 'certserial')}\n`,
  );
  writeFileSync(
    join(dir, 'swtpm-localca.options'),
    '--platform-manufacturer Provenance\n--platform-version 2.1\n--platform-model test\n',
  );
  const setup = spawnSync(
    'swtpm_setup',
    [
      '--tpm2',
      '--tpmstate',
      state,
      '--config',
      join(dir, 'swtpm_setup.conf'),
      '--create-ek-cert',
      '--overwrite',
      ...(options.ecc ? ['--ecc'] : []),
    ],
    { env, encoding: 'utf8' },
  );
  if (setup.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`swtpm_setup failed: ${setup.stderr || setup.stdout}`);
  }
  const caRootPem = readFileSync(join(ca, 'swtpm-localca-rootca-cert.pem'), 'utf8');
  const caCerts = [readFileSync(join(ca, 'issuercert.pem'), 'utf8')];

  let child: ChildProcess | null = null;
  let port = 0;
  for (let attempt = 0; attempt < 5 && child === null; attempt++) {
    // The tpm2-tss swtpm TCTI always uses the control channel on port + 1.
    port = await freePort();
    const ctrl = port + 1;
    const c = spawn(
      'swtpm',
      [
        'socket',
        '--tpm2',
        '--tpmstate',
        `dir=${state}`,
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${ctrl},bindaddr=127.0.0.1`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { env, detached: true, stdio: 'ignore' },
    );
    if (await listening(port, c)) child = c;
    else killGroup(c);
  }
  if (child === null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error('swtpm did not start listening');
  }
  const running = child;
  // Should the test process die before afterAll runs, the swtpm group dies with it.
  const onExit = () => killGroup(running);
  process.once('exit', onExit);
  let stopped = false;
  return {
    tcti: `swtpm:host=127.0.0.1,port=${port}`,
    caRootPem,
    caCerts,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      await new Promise<void>((resolve) => {
        if (running.exitCode !== null || running.signalCode !== null) return resolve();
        running.once('exit', () => resolve());
        killGroup(running);
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function killGroup(c: ChildProcess): void {
  try {
    if (c.pid !== undefined) process.kill(-c.pid, 'SIGTERM');
  } catch {
    c.kill('SIGTERM');
  }
}

async function listening(port: number, c: ChildProcess): Promise<boolean> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 50; i++) {
    if (c.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
