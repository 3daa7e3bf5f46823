import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { needPostgres, postgresUnavailableReason, startPostgres } from '../helpers/postgres.js';

describe('throwaway PostgreSQL cluster (test helper)', () => {
  it('starts on loopback with trust auth, makes databases and schemas, and stop() removes it all', async (ctx) => {
    if (postgresUnavailableReason() !== null) needPostgres(ctx, null);
    const cluster = await startPostgres();
    needPostgres(ctx, cluster);
    expect(existsSync(join(cluster.dir, 'data', 'postmaster.pid'))).toBe(true);
    try {
      expect(cluster.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/provenance$/);
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      const { rows } = await client.query<{ listen: string }>(
        "select current_setting('listen_addresses') as listen",
      );
      expect(rows[0]?.listen).toBe('127.0.0.1');
      await client.end();

      const schemaUrl = await cluster.createSchema();
      const inSchema = new pg.Client({ connectionString: schemaUrl });
      await inSchema.connect();
      const schema = await inSchema.query<{ s: string }>('select current_schema() as s');
      expect(schema.rows[0]?.s).toMatch(/^s\d+_\d+$/);
      await inSchema.end();

      const dbUrl = await cluster.createDatabase();
      expect(dbUrl).not.toBe(cluster.url);
    } finally {
      await cluster.stop();
      await cluster.stop();
    }
    expect(existsSync(cluster.dir)).toBe(false);
  });

  it('sweeps a cluster directory left behind by a test process that died', async (ctx) => {
    if (postgresUnavailableReason() !== null) needPostgres(ctx, null);
    // A pid that surely is gone: a child that already exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.pid'], { stdio: 'ignore' }).pid as number;
    const leftover = join(tmpdir(), `provenance-pg-leftover${process.pid}`);
    mkdirSync(join(leftover, 'data'), { recursive: true });
    writeFileSync(join(leftover, 'owner.pid'), String(dead));
    const cluster = await startPostgres();
    needPostgres(ctx, cluster);
    await cluster.stop();
    expect(existsSync(leftover)).toBe(false);
  });
});
