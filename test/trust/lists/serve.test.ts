import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePem } from '../../../src/core/pem.js';
import { type RunningService, startService } from '../../../src/server/serve.js';
import { csr, NONCE, nativeHierarchy } from '../../verify/fixtures.js';
import { DAY, entry, publisher, sign } from './fixtures.js';

const cwd = mkdtempSync(join(tmpdir(), 'provenance-serve-lists-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function start(): Promise<{ service: RunningService; err: () => string }> {
  let err = '';
  const service = await startService({
    data: 'data',
    listen: '127.0.0.1:0',
    env: {},
    clock: Date.now,
    out: () => {},
    err: (t) => {
      err += t;
    },
    logger: pino({ level: 'silent' }) as never,
    cwd,
    policy: join(cwd, 'policy.yaml'),
  });
  return { service, err: () => err };
}

describe('provenance serve with a token list', () => {
  it('judges enrollments by the list, and after a restart without the list file still uses the last good copy', async () => {
    const h = nativeHierarchy();
    const pub = publisher();
    writeFileSync(join(cwd, 'root.pem'), encodePem('CERTIFICATE', h.root.der));
    writeFileSync(
      join(cwd, 'publisher.pem'),
      pub.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    const now = Date.now();
    const jws = await sign(pub, {
      issuedAt: new Date(now - DAY).toISOString(),
      nextUpdate: new Date(now + 30 * DAY).toISOString(),
      entries: [entry('dotnet', h.model.cert.spkiSha256)],
    });
    writeFileSync(join(cwd, 'sector.jws'), jws);
    writeFileSync(
      join(cwd, 'policy.yaml'),
      [
        'version: 1',
        'trust: [{ id: gemalto, certificates: [root.pem] }]',
        'lists: [{ id: sector, source: sector.jws, publisherKeys: [publisher.pem], refresh: 1h }]',
        'allow: [{ id: sector-approved, list: { id: sector, minLevel: 2 } }]',
        '',
      ].join('\n'),
    );

    const first = await start();
    try {
      const v = first.service.policies.get()!.verifier.verifyBytes(csr(h), { nonce: NONCE });
      expect(v.code).toBe('ACCEPTED');
      expect(v.matchedRule).toBe('sector-approved');
    } finally {
      await first.service.close();
    }

    rmSync(join(cwd, 'sector.jws'));
    const second = await start();
    try {
      const v = second.service.policies.get()!.verifier.verifyBytes(csr(h), { nonce: NONCE });
      expect(v.code).toBe('ACCEPTED');
      expect(second.err()).not.toContain('token list');
    } finally {
      await second.service.close();
    }
  });
});
