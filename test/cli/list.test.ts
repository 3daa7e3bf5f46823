import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePem } from '../../src/core/pem.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { csr, NONCE, NOW, nativeHierarchy } from '../verify/fixtures.js';

const PASSPHRASE = 'a long enough passphrase';
const DAY = 24 * 3600 * 1000;
const base = mkdtempSync(join(tmpdir(), 'provenance-list-cli-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function run(args: string[], o: { env?: Record<string, string>; now?: number } = {}): Promise<CliRun> {
  return runCli(args, { env: { PROVENANCE_PASSPHRASE: PASSPHRASE, ...o.env }, clock: () => o.now ?? NOW });
}

function ok(r: CliRun): CliRun {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}${r.out}`);
  return r;
}

const h = nativeHierarchy();
const modelPem = join(base, 'model.pem');
const tokenPem = join(base, 'token.pem');
writeFileSync(modelPem, encodePem('CERTIFICATE', h.model.der));
writeFileSync(tokenPem, encodePem('CERTIFICATE', h.token.der));

describe('provenance list (publisher CLI)', () => {
  const dir = join(base, 'sector');
  const jws = join(base, 'sector.jws');

  it('publishes a list end to end: init, add-entry, set-status, revoke, sign, show, verify', async () => {
    const init = ok(await run(['list', 'init', dir, '--publisher', 'Smartcard Sector Body']));
    expect(init.out).toContain('publisher.pem');
    expect(readFileSync(join(dir, 'publisher-key.pem'), 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(JSON.parse(readFileSync(join(dir, 'list.json'), 'utf8'))).toEqual({
      publisher: 'Smartcard Sector Body',
      sequence: 0,
      entries: [],
      revoked: [],
    });

    ok(await run(['list', 'add-entry', dir, '--cert', modelPem, '--id', 'dotnet', '--level', '2']));
    ok(await run(['list', 'set-status', dir, 'dotnet', 'deprecated', '--notes', 'end of sale']));
    ok(await run(['list', 'revoke', dir, '--cert', tokenPem, '--reason', 'keyCompromise']));
    const signed = ok(await run(['list', 'sign', dir, '-o', jws, '--next-update', '7d']));
    expect(signed.out).toContain('sequence 1');

    const draft = JSON.parse(readFileSync(join(dir, 'list.json'), 'utf8'));
    expect(draft.sequence).toBe(1);
    expect(draft.entries[0]).toMatchObject({
      id: 'dotnet',
      maker: 'Gemalto NV',
      product: 'Gemalto .NET Card',
      level: 2,
      status: 'deprecated',
      notes: 'end of sale',
      anchors: [{ spkiSha256: h.model.cert.spkiSha256 }],
    });
    expect(draft.revoked).toEqual([
      { spkiSha256: h.token.cert.spkiSha256, reason: 'keyCompromise', since: '2026-06-01' },
    ]);

    const show = ok(await run(['list', 'show', jws]));
    expect(show.err).toContain('not verified');
    expect(show.out).toContain('dotnet  deprecated  level 2');

    const verify = ok(
      await run(['list', 'verify', jws, '--publisher-key', join(dir, 'publisher.pem'), '--json']),
    );
    const v = JSON.parse(verify.out);
    expect(v).toMatchObject({ valid: true, sequence: 1, publisher: 'Smartcard Sector Body' });
    expect(v.entries[0].status).toBe('deprecated');

    // A second signature bumps the sequence; verifying the old one against it is a rollback.
    ok(await run(['list', 'sign', dir, '-o', join(base, 'sector-2.jws')]));
    const rollback = await run([
      'list',
      'verify',
      jws,
      '--publisher-key',
      join(dir, 'publisher.pem'),
      '--min-sequence',
      '2',
    ]);
    expect(rollback.code).toBe(1);
    expect(rollback.out).toContain('LIST_ROLLBACK');
  });

  it('verify exits 1 for a stale list and for a foreign publisher key; 0 within --grace', async () => {
    const other = join(base, 'other');
    ok(await run(['list', 'init', other, '--publisher', 'Someone', '--no-passphrase']));
    const foreign = await run(['list', 'verify', jws, '--publisher-key', join(other, 'publisher.pem')]);
    expect(foreign.code).toBe(1);
    expect(foreign.out).toContain('LIST_SIGNATURE_INVALID');
    const late = new Date(NOW + 8 * DAY).toISOString();
    const stale = await run([
      'list',
      'verify',
      jws,
      '--publisher-key',
      join(dir, 'publisher.pem'),
      '--at',
      late,
    ]);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain('LIST_STALE');
    ok(
      await run([
        'list',
        'verify',
        jws,
        '--publisher-key',
        join(dir, 'publisher.pem'),
        '--at',
        late,
        '--grace',
        '2d',
      ]),
    );
  });

  it('init --no-passphrase warns and writes a plain key; a second init refuses to overwrite', async () => {
    const plain = join(base, 'plain');
    const r = ok(
      await run(['list', 'init', plain, '--publisher', 'P', '--no-passphrase', '--alg', 'ed25519']),
    );
    expect(r.err).toContain('NOT be encrypted');
    expect(readFileSync(join(plain, 'publisher-key.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    const again = await run(['list', 'init', plain, '--publisher', 'P', '--no-passphrase']);
    expect(again.code).toBe(2);
    expect(again.err).toContain('USAGE');
  });

  it('sign refuses a wrong passphrase with MAKER_KEY_LOCKED and leaves the sequence alone', async () => {
    const r = await run(['list', 'sign', dir, '-o', join(base, 'x.jws')], {
      env: { PROVENANCE_PASSPHRASE: 'not the passphrase' },
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain('MAKER_KEY_LOCKED');
    expect(JSON.parse(readFileSync(join(dir, 'list.json'), 'utf8')).sequence).toBe(2);
  });

  it('rejects an unknown status, an unknown entry and a malformed --spki', async () => {
    expect((await run(['list', 'set-status', dir, 'dotnet', 'bogus'])).err).toContain('USAGE');
    expect((await run(['list', 'set-status', dir, 'nope', 'revoked'])).err).toContain('no entry has the id');
    expect((await run(['list', 'revoke', dir, '--spki', 'abc'])).err).toContain('USAGE');
  });
});

describe('provenance verify with a list-based policy', () => {
  const dir = join(base, 'consumer-list');
  const jws = join(base, 'consumer.jws');
  const req = join(base, 'req.csr');
  const policyFile = join(base, 'policy.yaml');
  const nonce = Buffer.from(NONCE).toString('hex');

  it('accepts a CSR from an approved model, then rejects it once the publisher revokes the model', async () => {
    writeFileSync(join(base, 'root.pem'), encodePem('CERTIFICATE', h.root.der));
    writeFileSync(req, csr(h));
    ok(await run(['list', 'init', dir, '--publisher', 'Sector']));
    ok(await run(['list', 'add-entry', dir, '--cert', modelPem, '--id', 'dotnet', '--level', '2']));
    ok(await run(['list', 'sign', dir, '-o', jws]));
    writeFileSync(
      policyFile,
      [
        'version: 1',
        'trust: [{ id: gemalto, certificates: [root.pem] }]',
        'lists: [{ id: sector, source: consumer.jws, publisherKeys: [consumer-list/publisher.pem] }]',
        'allow: [{ id: sector-approved, list: { id: sector, status: approved, minLevel: 2 } }]',
        '',
      ].join('\n'),
    );
    const accepted = await run(['verify', req, '--policy', policyFile, '--nonce', nonce, '--json']);
    expect(JSON.parse(accepted.out)).toMatchObject({
      accepted: true,
      matchedRule: 'sector-approved',
      level: 2,
    });
    expect(accepted.code).toBe(0);

    ok(await run(['list', 'set-status', dir, 'dotnet', 'revoked', '--notes', 'attestation key extracted']));
    ok(await run(['list', 'sign', dir, '-o', jws]));
    const rejected = await run(['verify', req, '--policy', policyFile, '--nonce', nonce, '--json']);
    expect(rejected.code).toBe(1);
    expect(JSON.parse(rejected.out)).toMatchObject({ accepted: false, code: 'LIST_REVOKED' });
  });

  it('rejects with LIST_STALE when verifying after nextUpdate, and LIST_UNAVAILABLE when the file is gone', async () => {
    const stale = await run(['verify', req, '--policy', policyFile, '--nonce', nonce, '--json'], {
      now: NOW + 40 * DAY,
    });
    expect(stale.code).toBe(1);
    expect(JSON.parse(stale.out).code).toBe('LIST_STALE');
    rmSync(jws);
    const missing = await run(['verify', req, '--policy', policyFile, '--nonce', nonce, '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out).code).toBe('LIST_UNAVAILABLE');
  });
});
