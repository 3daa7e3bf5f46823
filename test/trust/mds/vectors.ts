/**
 * The FIDO MDS vectors in ../shared/vectors/fido-mds (next to the repository), read in place.
 * `MDS_VECTORS` is null when they are absent: the tests then skip with a printed reason, except
 * in CI (CI=true), where a missing directory fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { decodePem, isPem } from '../../../src/core/pem.js';
import { type Certificate, parseCertificate } from '../../../src/pki/certificate.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = join(REPO_ROOT, '..', 'shared', 'vectors', 'fido-mds');

/** The vectors directory, or null when absent. */
export const MDS_VECTORS: string | null = existsSync(join(DIR, 'simplewebauthn', 'fake-mds3-blob.jwt'))
  ? DIR
  : null;

/** Call once at the top level of a test file that needs the vectors. */
export function reportMissingVectors(what: string): void {
  if (MDS_VECTORS) return;
  const reason = `FIDO MDS vectors not found in ${DIR}`;
  if (process.env.CI === 'true') {
    it(`has the FIDO MDS vectors in CI (${what})`, () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping ${what}: ${reason}`);
  }
}

/** Path of a vector file. */
export function vectorPath(relative: string): string {
  return join(MDS_VECTORS ?? DIR, relative);
}

/** A vector file's bytes. */
export function readVector(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(relative)));
}

/** A vector file as text (the BLOBs). */
export function readVectorText(relative: string): string {
  return readFileSync(vectorPath(relative), 'utf8');
}

/** A certificate vector, PEM or DER. */
export function vectorCertificate(relative: string): Certificate {
  const bytes = readVector(relative);
  return parseCertificate(isPem(bytes) ? decodePem(Buffer.from(bytes).toString('latin1'))[0]!.der : bytes);
}

/** The BLOBs and the roots and times they verify at (../shared/vectors/MANIFEST.md §6). */
export const BLOBS = {
  production9: {
    file: 'webauthn4j/production-mds3-blob_no9_2021-11.jwt',
    root: 'webauthn4j/root-r3.crt',
    time: Date.parse('2021-11-15T00:00:00Z'),
  },
  production12: {
    file: 'fido2-lib/production-mds3-blob_no12_2022-02.jwt',
    root: 'go-webauthn/globalsign-root-r3_production-mds-root.pem',
    time: Date.parse('2022-02-15T00:00:00Z'),
  },
  conformance: {
    file: 'simplewebauthn/fake-mds3-blob.jwt',
    root: 'go-webauthn/fido-mds-conformance-MDS3ROOT.pem',
    time: Date.parse('2023-11-01T00:00:00Z'),
  },
  specExample: {
    file: 'go-webauthn/mds3-spec-example-blob.jwt',
    root: 'go-webauthn/mds3-spec-example-root.pem',
    // Its certificates start 2021-04-19, a year after its nextUpdate (2020-03-30): always stale.
    time: Date.parse('2022-01-01T00:00:00Z'),
  },
} as const;
