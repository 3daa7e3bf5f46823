/**
 * A newcomer's first minutes: `provenance serve --demo` as a real process on an empty data
 * directory prints its URL, the admin token and three next steps; running those steps as
 * printed (only the code from step 2 filled in, and file names placed in a temporary folder)
 * personalises a token, makes an enrollment code and enrolls. A restart prints no secret.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../maker/fixtures.js';
import { type ChildService, spawnServe } from './service.js';

const dirs = tempDirs();
let dir: string;
let first: ChildService;

/** Split a printed POSIX shell command line (plain words and '…' quoting, as the banner writes them). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unbalanced quote in: ${line}`);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '\\') {
      word += line[++i] ?? '';
      inWord = true;
    } else if (ch === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

beforeAll(async () => {
  dir = await dirs.make('provenance-e2e-newcomer-');
  // An empty data directory, default configuration except an ephemeral port.
  first = await spawnServe(['--data', join(dir, 'data'), '--demo', '--listen', '127.0.0.1:0']);
}, 90_000);
afterAll(async () => {
  if (first.child.exitCode === null && first.child.signalCode === null) {
    first.child.kill('SIGTERM');
    await first.exited;
  }
  await dirs.cleanup();
});

describe('provenance serve --demo for a newcomer', () => {
  it('runs the printed next steps as printed and gets a certificate', async () => {
    const banner = first.output();
    expect(banner).toMatch(/Admin token \(all scopes\), shown this once/);
    const steps = banner
      .split('\n')
      .filter((l) => /^ {5}provenance /.test(l))
      .map((l) => shellWords(l.trim()).slice(1));
    expect(steps.map((s) => s[0])).toEqual(['maker', 'admin', 'enroll']);

    // File names the newcomer would create in their working folder go to the temp folder.
    const place = (args: string[]) =>
      args.map((a, i) =>
        ['my.token', 'my-cert.pem'].includes(a) || (args[i - 1] === '--token' && !isAbsolute(a))
          ? join(dir, a)
          : a,
      );
    const [makeToken, makeCode, enroll] = steps as [string[], string[], string[]];
    const t = await runCli(place(makeToken));
    expect(t.code, t.err).toBe(0);
    const c = await runCli(place(makeCode));
    expect(c.code, c.err).toBe(0);
    const code = /^ {2}code +(\S+)$/m.exec(c.out)![1]!;
    const e = await runCli(place(enroll.map((a) => (a === 'CODE_FROM_STEP_2' ? code : a))));
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/subject +CN=Demo Customer/);
    expect(e.out).toMatch(/accepted +by rule demo-line, assurance level 1/);
    expect(existsSync(join(dir, 'my-cert.pem'))).toBe(true);
    expect(existsSync(join(dir, 'my-cert.chain.pem'))).toBe(true);
  });

  it('restarts on the same data directory without printing a secret, and stops on SIGTERM', async () => {
    first.child.kill('SIGTERM');
    const stopped = await first.exited;
    expect(stopped, first.output().slice(-2000)).toEqual({ code: 0, signal: null });
    const again = await spawnServe(['--data', join(dir, 'data'), '--demo', '--listen', '127.0.0.1:0']);
    try {
      // The banner is printed just before the signal handlers are installed: let the service
      // answer once so that a SIGTERM right after start is not the default (fatal) action.
      expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
      expect(again.output()).toMatch(/not shown again/);
      expect(again.output()).not.toMatch(/pvat_/);
    } finally {
      again.child.kill('SIGTERM');
      expect(await again.exited, again.output().slice(-2000)).toEqual({ code: 0, signal: null });
    }
  }, 90_000);
});
