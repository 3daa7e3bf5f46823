import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../src/core/errors.js';
import {
  DEFAULT_CONFIG_YAML,
  isLoopback,
  loadServiceConfig,
  parseListen,
  parseServiceConfig,
} from '../../src/server/config.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'provenance-config-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configError(yaml: string): { code: string; line: unknown; message: string } {
  try {
    parseServiceConfig(yaml, { source: 'config.yaml', baseDir: '/srv/p' });
  } catch (err) {
    if (!isProvenanceError(err)) throw err;
    return { code: err.code, line: err.details['line'], message: err.message };
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadServiceConfig', () => {
  it('writes the commented defaults on first start and reads them back; a second load reuses the file', async () => {
    const dir = tempDir();
    const config = await loadServiceConfig(join(dir, 'data'), {}, { cwd: dir });
    expect(config.created).toBe(true);
    expect(readFileSync(join(dir, 'data', 'config.yaml'), 'utf8')).toBe(DEFAULT_CONFIG_YAML);
    expect(config).toMatchObject({
      dir: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 8080 },
      publicUrl: 'http://127.0.0.1:8080',
      db: `sqlite:${join(dir, 'data', 'provenance.db')}`,
      policy: join(dir, 'data', 'policy.yaml'),
      policyGiven: false,
      ca: join(dir, 'data', 'ca'),
      tls: null,
      enrollment: {
        codeTtlSeconds: 604800,
        maxCodeTtlSeconds: 2592000,
        challengeTtlSeconds: 300,
        maxOpenChallengesPerCode: 5,
      },
      limits: { bodyBytes: 65536, perCodePerMinute: 20, perAddressPerMinute: 300 },
      trustProxy: false,
    });
    expect(config.profiles.get('default')).toEqual({
      id: 'default',
      validityDays: 365,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'],
      subjectTemplate: '{subject}',
      certificatePolicies: [],
      includeDeviceSerial: false,
      crlUrl: 'http://127.0.0.1:8080/api/v1/crl',
    });
    const again = await loadServiceConfig(join(dir, 'data'), {}, { cwd: dir });
    expect(again.created).toBe(false);
  });

  it('applies command-line overrides relative to the working directory', async () => {
    const dir = tempDir();
    const config = await loadServiceConfig(
      'data',
      { listen: '[::1]:9443', db: 'sqlite:other.db', policy: 'p.yaml', tlsCert: 'c.pem', tlsKey: 'k.pem' },
      { cwd: dir },
    );
    expect(config.listen).toEqual({ host: '::1', port: 9443 });
    expect(config.publicUrl).toBe('https://[::1]:9443');
    expect(config.db).toBe(`sqlite:${join(dir, 'other.db')}`);
    expect(config.policy).toBe(join(dir, 'p.yaml'));
    expect(config.policyGiven).toBe(true);
    expect(config.tls).toEqual({ cert: join(dir, 'c.pem'), key: join(dir, 'k.pem') });
  });

  it('refuses half a TLS pair, a bad --listen and a missing --config file', async () => {
    const dir = tempDir();
    await expect(loadServiceConfig('d', { tlsCert: 'c.pem' }, { cwd: dir })).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(loadServiceConfig('d', { listen: 'localhost' }, { cwd: dir })).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(loadServiceConfig('d', { config: 'none.yaml' }, { cwd: dir })).rejects.toMatchObject({
      code: 'IO_ERROR',
    });
  });

  it('reads another file with --config, paths still relative to the data directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'svc.yaml'), 'ca: ./issuing\npublicUrl: https://pki.example.com/\n');
    const config = await loadServiceConfig('data', { config: 'svc.yaml' }, { cwd: dir });
    expect(config.ca).toBe(join(dir, 'data', 'issuing'));
    expect(config.publicUrl).toBe('https://pki.example.com');
    expect(config.profiles.get('default')?.crlUrl).toBe('https://pki.example.com/api/v1/crl');
  });
});

describe('CONFIG_INVALID names the line', () => {
  it.each([
    ['an unknown key', 'listen: 127.0.0.1:8080\nlisten_port: 9\n', 2, 'unknown key'],
    ['a bad listen address', 'listen: everywhere\n', 1, 'HOST:PORT'],
    ['a misspelt limit', 'limits:\n  bodyBytes: 65536\n  perCodePerMinuet: 3\n', 3, 'perCodePerMinuet'],
    ['a body limit too small', 'limits:\n  bodyBytes: 10\n', 2, ''],
    [
      'a code TTL above the maximum',
      'enrollment:\n  codeTtlSeconds: 900000\n  maxCodeTtlSeconds: 600\n',
      2,
      'maxCodeTtlSeconds',
    ],
    ['an unknown key usage', 'profiles:\n  default:\n    keyUsage: [keyCertSign]\n', 3, ''],
    [
      'a template without {subject}',
      'profiles:\n  p:\n    subjectTemplate: "CN=fixed,O=Example"\n',
      3,
      '{subject}',
    ],
    ['a database URL of another kind', 'db: mysql://x\n', 1, 'sqlite'],
    ['YAML that does not parse', 'listen: [\n', 2, ''],
    ['a duplicate key', 'ca: a\nca: b\n', 2, ''],
    ['a proxy that is not an address', 'trustProxy: [proxy.local]\n', 1, 'IP address'],
  ])('%s', (_name, yaml, line, words) => {
    const e = configError(yaml);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.line).toBe(line);
    expect(e.message).toMatch(new RegExp(`^config\\.yaml:${line}:\\d+: `));
    if (words) expect(e.message).toContain(words);
  });

  it('an empty file is all defaults', () => {
    expect(parseServiceConfig('', { source: 'c', baseDir: '/x' }).listen).toEqual({
      host: '127.0.0.1',
      port: 8080,
    });
  });
});

describe('addresses', () => {
  it('parses HOST:PORT and knows loopback', () => {
    expect(parseListen('0.0.0.0:443')).toEqual({ host: '0.0.0.0', port: 443 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('1.2.3.4:70000')).toBeNull();
    expect(parseListen('::1:80')).toBeNull();
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopback)).toBe(false);
  });
});
