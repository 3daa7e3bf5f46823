/**
 * Shared access to the Android vectors in ../shared/vectors/android-key (MANIFEST.md rows):
 * the path is computed from this file, never hard-coded; absent vectors skip locally and fail
 * in CI.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { decodePem } from '../../../src/core/pem.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';

export const VECTORS = join(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'vectors');
export const ANDROID = join(VECTORS, 'android-key');
export const KA = join(ANDROID, 'android-keyattestation');
export const available = existsSync(join(VECTORS, 'MANIFEST.md')) && existsSync(KA);

/** Register the skip/fail marker once per test file. */
export function requireVectors(what: string): void {
  if (available) return;
  const reason = `Android vectors not found in ${ANDROID}`;
  if (process.env.CI === 'true') {
    it(`has the Android vectors in CI (${what})`, () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping ${what}: ${reason}`);
  }
}

/** The certificates of a PEM file, leaf first. */
export function pemCerts(path: string): Certificate[] {
  return decodePem(readFileSync(path, 'utf8'))
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der));
}

/** JSON with // comment lines (the expected-KeyDescription files). */
export function readJsonc(path: string): Record<string, unknown> {
  const text = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*\/\//.test(l))
    .join('\n');
  return JSON.parse(text) as Record<string, unknown>;
}

/** The device chains with an expected-KeyDescription JSON beside them (relative to KA). */
export function deviceChains(): string[] {
  if (!available) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.pem') && existsSync(p.replace(/\.pem$/, '.json'))) out.push(relative(KA, p));
    }
  };
  walk(KA);
  return out;
}

/** The pinned verification time of a chain: the MANIFEST's VerifierTest time (its creationDateTime). */
export function manifestTime(rel: string): number | undefined {
  const manifest = readFileSync(join(VECTORS, 'MANIFEST.md'), 'utf8');
  const row = manifest
    .split('\n')
    .find((l) => l.startsWith(`| \`android-key/android-keyattestation/${rel}\``));
  const m = row ? /verifies at creationDateTime=([0-9T:.-]+Z)/.exec(row) : null;
  return m ? Date.parse(m[1]!) : undefined;
}
