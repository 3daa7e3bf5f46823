/**
 * `provenance mds import|show|lookup` in-process: the real BLOBs from ../shared/vectors/fido-mds
 * (skipped with a printed reason when absent, failing under CI=true) and a URL source through
 * an injected fetch (no network).
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/trust/mds/index.js';
import { runCli } from '../helpers/cli.js';
import { BLOBS, MDS_VECTORS, reportMissingVectors, vectorPath } from '../trust/mds/vectors.js';

reportMissingVectors('mds CLI tests');

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'provenance-mds-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const at = (ms: number) => new Date(ms).toISOString();

function importArgs(name: keyof typeof BLOBS, out: string, extra: string[] = []): string[] {
  const b = BLOBS[name];
  return [
    'mds',
    'import',
    vectorPath(b.file),
    '--root',
    vectorPath(b.root),
    '--at',
    at(b.time),
    '--out',
    out,
    ...extra,
  ];
}

/** A fetch that serves `body` for any URL, recording the URLs asked for. */
function fakeFetch(body: string | null, status = 200): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const f = (async (url: string) => {
    urls.push(url);
    const bytes = Buffer.from(body ?? '');
    return {
      ok: status >= 200 && status < 300,
      status,
      headers: { get: (name: string) => (name === 'content-length' ? String(bytes.length) : null) },
      body:
        body === null
          ? null
          : new ReadableStream<Uint8Array>({
              start(c) {
                for (let i = 0; i < bytes.length; i += 65536)
                  c.enqueue(new Uint8Array(bytes.subarray(i, i + 65536)));
                c.close();
              },
            }),
    };
  }) as unknown as FetchLike & { urls: string[] };
  f.urls = urls;
  return f;
}

describe.skipIf(!MDS_VECTORS)('provenance mds', () => {
  it('imports the production BLOB no 12 under GlobalSign R3, then shows and looks it up', async () => {
    const dir = tempDir();
    const imported = await runCli(importArgs('production12', dir));
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/imported MDS BLOB no 12 \(nextUpdate 2022-03-01\): 101 entries, RS256/);

    const show = await runCli(['mds', 'show', dir, '--json'], { clock: () => BLOBS.production12.time });
    expect(show.code).toBe(0);
    const summary = JSON.parse(show.out);
    expect(summary).toMatchObject({
      no: 12,
      nextUpdate: '2022-03-01',
      entries: 101,
      denied: 0,
      stale: false,
    });
    expect(summary.statuses.FIDO_CERTIFIED_L1).toBeGreaterThan(0);

    const text = await runCli(['mds', 'show', dir]);
    expect(text.out).toContain('MDS BLOB no 12, nextUpdate 2022-03-01 (STALE');

    const lookup = await runCli(['mds', 'lookup', 'ee882879-721c-4913-9775-3dfcce97072a', dir, '--json']);
    expect(lookup.code).toBe(0);
    const entry = JSON.parse(lookup.out);
    expect(entry).toMatchObject({
      description: 'YubiKey 5 Series',
      status: { level: 'FIDO_CERTIFIED_L1', deny: false },
    });
    expect(entry.anchors[0]).toMatchObject({ id: 'mds:ee882879-721c-4913-9775-3dfcce97072a' });

    const byKeyId = await runCli(['mds', 'lookup', 'bf7bcaa0d0c6187a8c6abbdd16a15640e7c7bde2', dir]);
    expect(byKeyId.out).toContain('YubiKey 5Ci');
    expect(byKeyId.out).toContain('level: FIDO_CERTIFIED_L1');
  });

  it('refuses an older BLOB after a newer one (rollback) and keeps the stored index', async () => {
    const dir = tempDir();
    expect((await runCli(importArgs('production12', dir))).code).toBe(0);
    const older = await runCli(importArgs('production9', dir));
    expect(older.code).toBe(2);
    expect(older.err).toContain('error: MDS_ROLLBACK:');
    expect(JSON.parse((await runCli(['mds', 'show', dir, '--json'])).out).no).toBe(12);
    // The same BLOB again is not a rollback.
    expect((await runCli(importArgs('production12', dir))).code).toBe(0);
  });

  it('refuses a BLOB under the wrong root and names a non-production root on stderr', async () => {
    const dir = tempDir();
    const b = BLOBS.conformance;
    const wrong = await runCli([
      'mds',
      'import',
      vectorPath(b.file),
      '--root',
      vectorPath(BLOBS.production12.root),
      '--at',
      at(b.time),
      '--out',
      dir,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('error: PATH_NOT_FOUND:');
    const right = await runCli(importArgs('conformance', dir));
    expect(right.code).toBe(0);
    expect(right.err).toContain('warning: trusting MDS root "CN=FAKE Root FAKE');
    const denied = await runCli(['mds', 'lookup', '8cfa178e-b1f5-40ce-8f5f-8273e8109940', dir]);
    expect(denied.out).toContain('-> DENY (USER_VERIFICATION_BYPASS)');
  });

  it('refuses a stale BLOB unless --allow-stale gives a reason', async () => {
    const dir = tempDir();
    const stale = await runCli(importArgs('specExample', dir));
    expect(stale.code).toBe(2);
    expect(stale.err).toContain('error: MDS_STALE:');
    const allowed = await runCli(importArgs('specExample', dir, ['--allow-stale', 'spec example', '--json']));
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.out)).toMatchObject({ no: 15, entries: 2, staleAllowed: 'spec example' });
    expect(allowed.err).toContain('accepted because: spec example');
  });

  it('requires --root, and says which root production uses', async () => {
    const r = await runCli(['mds', 'import', vectorPath(BLOBS.production12.file), '--out', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error: USAGE: --root is required.*cbb522d7/);
  });

  it('checks --crl files against the chain (the 2024 GlobalSign CRLs are not current in 2021)', async () => {
    const r = await runCli(
      importArgs('production9', tempDir(), [
        '--crl',
        vectorPath('webauthn4j/root-r3.crl'),
        '--crl',
        vectorPath('webauthn4j/gsextendvalsha2g3r3.crl'),
      ]),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: CRL_INVALID:');
  });

  it('fetches a URL source through the injected fetch, and refuses http and failures', async () => {
    const dir = tempDir();
    const b = BLOBS.production9;
    const f = fakeFetch(readFileSync(vectorPath(b.file), 'utf8'));
    const args = ['--root', vectorPath(b.root), '--at', at(b.time), '--out', dir];
    const ok = await runCli(['mds', 'import', 'https://mds.example.test/', ...args], {
      ctx: { fetch: f } as never,
    });
    expect(ok.code).toBe(0);
    expect(f.urls).toEqual(['https://mds.example.test/']);
    const http = await runCli(['mds', 'import', 'http://mds.example.test/', ...args], {
      ctx: { fetch: f } as never,
    });
    expect(http.err).toContain('error: USAGE: MDS BLOB URLs must be https');
    const down = await runCli(['mds', 'import', 'https://mds.example.test/', ...args], {
      ctx: { fetch: fakeFetch('gone', 503) } as never,
    });
    expect(down.err).toContain('error: MDS_FETCH_FAILED:');
  });

  it('reports an unknown model, a missing index and a damaged index with their codes', async () => {
    const dir = tempDir();
    expect((await runCli(['mds', 'show', dir])).err).toContain('error: IO_ERROR:');
    expect((await runCli(importArgs('production12', dir))).code).toBe(0);
    const unknown = await runCli(['mds', 'lookup', '00000000-0000-0000-0000-000000000000', dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('error: NOT_FOUND:');
    const root = ['--root', vectorPath(BLOBS.production12.root)];
    expect((await runCli(['mds', 'import', join(dir, 'absent.jwt'), ...root])).err).toContain(
      'error: IO_ERROR:',
    );
    const huge = join(dir, 'huge.jwt');
    writeFileSync(huge, '');
    truncateSync(huge, 9 * 1024 * 1024);
    expect((await runCli(['mds', 'import', huge, ...root])).err).toContain('error: INPUT_TOO_LARGE:');
    writeFileSync(join(dir, 'mds-index.json'), '{"format":"other"}');
    expect((await runCli(['mds', 'show', dir])).err).toContain('error: MDS_MALFORMED:');
  });
});
