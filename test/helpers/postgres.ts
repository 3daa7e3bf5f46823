/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a temp dir, started on a free loopback
 * port with `trust` auth and durability off (speed), stopped and deleted by `stop()` (and at
 * process exit if a test forgets). When the server binaries are absent it returns null with
 * a printed reason; tests then skip, except under CI=true where they fail (.ci/run installs
 * postgresql).
 *
 * Running as root (CI containers), PostgreSQL refuses to start, so the cluster is made and run
 * as the `postgres` system user that the Debian package creates.
 *
 * @example
 * let pg: PostgresCluster | null;
 * beforeAll(async () => { pg = await startPostgres(); });
 * afterAll(async () => { await pg?.stop(); });
 * it('works on PostgreSQL', async (ctx) => {
 *   needPostgres(ctx, pg);
 *   const store = await openStore(await pg.createSchema());
 * });
 */
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';

/** A running cluster. */
export interface PostgresCluster {
  /** URL of the database `provenance` made at start. */
  readonly url: string;
  /** The temp directory holding the cluster (data, socket, log); gone after stop(). */
  readonly dir: string;
  /** Create a fresh, empty database in the cluster and return its URL (about half a second). */
  createDatabase(name?: string): Promise<string>;
  /**
   * Create a fresh schema in the `provenance` database and return a URL whose connections use
   * it (`search_path`): isolation per test in a millisecond, where a database takes ~0.5 s.
   */
  createSchema(name?: string): Promise<string>;
  /** Stop the server and delete its files (idempotent). */
  stop(): Promise<void>;
}

const DIR_PREFIX = 'provenance-pg-';

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailableReason(): string | null {
  const found = findBinaries();
  return 'reason' in found ? found.reason : null;
}

/**
 * Start a cluster, or return null (with the reason printed) when the binaries or a non-root
 * user to run them are missing.
 */
export async function startPostgres(): Promise<PostgresCluster | null> {
  const found = findBinaries();
  if ('reason' in found) {
    console.log(`skipping PostgreSQL: ${found.reason}`);
    return null;
  }
  const { bin, user } = found;
  sweepLeftovers(bin, user);

  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const data = join(dir, 'data');
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  if (user !== null) chownSync(dir, user.uid, user.gid);
  const run = (tool: string, args: string[], options: SpawnSyncOptions = {}): void => {
    const result = spawnSync(join(bin, tool), args, {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' },
      ...(user === null ? {} : { uid: user.uid, gid: user.gid }),
      ...options,
    });
    if (result.status !== 0)
      throw new Error(
        `${tool} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.error}`,
      );
  };

  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    if (existsSync(join(data, 'postmaster.pid'))) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone: nothing to stop.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onExit = (): void => stopSync();
  process.once('exit', onExit);

  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const serverOptions = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        // A throwaway cluster: durability costs time and buys nothing.
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=150',
      ].join(' ');
      try {
        run('pg_ctl', [
          '-D',
          data,
          '-l',
          join(dir, 'server.log'),
          '-w',
          '-t',
          '30',
          '-o',
          serverOptions,
          'start',
        ]);
        break;
      } catch (err) {
        // Another process may have taken the port between probe and bind: try another.
        if (attempt >= 3) throw new Error(`${(err as Error).message}\n${readLog(dir)}`);
      }
    }
    const admin = `postgres://postgres@127.0.0.1:${port}`;
    let counter = 0;
    const createDatabase = async (name?: string): Promise<string> => {
      const db = name ?? `t${process.pid}_${++counter}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`createDatabase: ${db} is not a plain identifier`);
      const client = new pg.Client({ connectionString: `${admin}/postgres` });
      await client.connect();
      try {
        await client.query(`create database ${db}`);
      } finally {
        await client.end();
      }
      return `${admin}/${db}`;
    };
    const url = await createDatabase('provenance');
    const createSchema = async (name?: string): Promise<string> => {
      const schema = name ?? `s${process.pid}_${++counter}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(schema))
        throw new Error(`createSchema: ${schema} is not a plain identifier`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create schema ${schema}`);
      } finally {
        await client.end();
      }
      return `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    };
    return {
      url,
      dir,
      createDatabase,
      createSchema,
      stop: async () => {
        process.removeListener('exit', onExit);
        stopSync();
      },
    };
  } catch (err) {
    process.removeListener('exit', onExit);
    stopSync();
    throw err;
  }
}

/**
 * Call at the top of a PostgreSQL test: skips it (with the reason) when there is no cluster;
 * throws under CI=true, where a skipped database test must not look like a pass.
 */
export function needPostgres(
  ctx: { skip: (note?: string) => void },
  cluster: PostgresCluster | null,
): asserts cluster is PostgresCluster {
  if (cluster !== null) return;
  const reason = `PostgreSQL not available (${postgresUnavailableReason() ?? 'the cluster did not start'})`;
  if (process.env['CI'] === 'true') throw new Error(`${reason}: CI must install it (.ci/run)`);
  console.log(`skipping: ${reason}`);
  ctx.skip(reason);
}

interface Binaries {
  readonly bin: string;
  /** The user to run as when we are root, else null. */
  readonly user: { uid: number; gid: number } | null;
}

let cachedBinaries: Binaries | { reason: string } | undefined;

function findBinaries(): Binaries | { reason: string } {
  cachedBinaries ??= locateBinaries();
  return cachedBinaries;
}

function locateBinaries(): Binaries | { reason: string } {
  const candidates: string[] = [];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'initdb'))) {
      // Debian puts symlinks in /usr/local/bin or /usr/bin: the real directory holds pg_ctl
      // and the postgres server beside initdb.
      candidates.push(dirname(realpathSync(join(dir, 'initdb'))));
    }
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(debian, v, 'bin'));
  }
  const bin = candidates.find((dir) =>
    ['initdb', 'pg_ctl', 'postgres'].every((t) => existsSync(join(dir, t))),
  );
  if (bin === undefined)
    return { reason: 'initdb/pg_ctl/postgres not found on PATH or in /usr/lib/postgresql/*/bin' };
  if (process.getuid?.() !== 0) return { bin, user: null };
  const uid = idOf('-u');
  const gid = idOf('-g');
  if (uid === null || gid === null)
    return { reason: 'running as root and there is no "postgres" user to run the server as' };
  return { bin, user: { uid, gid } };
}

function idOf(flag: '-u' | '-g'): number | null {
  const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const n = Number.parseInt(result.stdout ?? '', 10);
  return result.status === 0 && Number.isInteger(n) ? n : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

/**
 * Remove clusters left behind by test processes that died without stopping them (killed
 * runner, crash): their owner pid is gone. Clusters of live test processes are left alone.
 */
function sweepLeftovers(bin: string, user: Binaries['user']): void {
  const base = tmpdir();
  for (const name of readdirSync(base)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(base, name);
    let owner: number | null = null;
    try {
      owner = Number.parseInt(readFileSync(join(dir, 'owner.pid'), 'utf8'), 10);
    } catch {
      // No owner file: a half-made cluster; only old ones are removed below.
    }
    const alive = owner !== null && Number.isInteger(owner) && processAlive(owner);
    if (alive) continue;
    if (owner === null && Date.now() - statSafe(dir) < 10 * 60_000) continue;
    const data = join(dir, 'data');
    if (existsSync(join(data, 'postmaster.pid'))) {
      spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], {
        cwd: base,
        stdio: 'ignore',
        timeout: 30_000,
        ...(user === null ? {} : { uid: user.uid, gid: user.gid }),
      });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function statSafe(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
