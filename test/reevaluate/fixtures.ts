/**
 * Re-evaluation fixtures: two token makers (two models, each under its own root and product
 * line), a policy folder allowing both, the same policy with one model's CA denied (the
 * compromise), and a helper that enrolls one key of a maker through the service's API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { encodePem } from '../../src/core/pem.js';
import {
  createCode,
  csrPem,
  getChallenge,
  type NativeHierarchy,
  nativeHierarchy,
  submit,
} from '../server/fixtures.js';

/** The two makers and the folder holding their certificates and policies. */
export interface TwoMakers {
  readonly a: NativeHierarchy;
  readonly b: NativeHierarchy;
  readonly dir: string;
  /** Allows both product lines. */
  readonly policyPath: string;
  /** As policyPath, plus a deny entry for maker A's model CA (the compromise). */
  readonly denyPath: string;
  readonly denyYaml: string;
  cleanup(): void;
}

const allowYaml = `version: 1
trust:
  - id: gemalto
    certificates: [./root-a.pem]
  - id: acme
    certificates: [./root-b.pem]
allow:
  - id: gemalto-smartcards
    entry: ./line-a.pem
    level: 2
  - id: acme-tokens
    entry: ./line-b.pem
    level: 2
require:
  freshness: nonce
  generatedOnDevice: true
  nonExportable: true
`;

/** Two hierarchies written with both policies to `into` (default: a new temp folder). */
export function twoMakers(into?: string): TwoMakers {
  const a = nativeHierarchy({ makerName: 'Gemalto NV' });
  const b = nativeHierarchy({ makerName: 'Acme Tokens' });
  const dir = into ?? mkdtempSync(join(tmpdir(), 'provenance-reevaluate-'));
  for (const [name, h] of [
    ['a', a],
    ['b', b],
  ] as const) {
    writeFileSync(join(dir, `root-${name}.pem`), encodePem('CERTIFICATE', h.root.der));
    writeFileSync(join(dir, `line-${name}.pem`), encodePem('CERTIFICATE', h.line.der));
    writeFileSync(join(dir, `model-${name}.pem`), encodePem('CERTIFICATE', h.model.der));
  }
  const denyYaml = `${allowYaml}deny:\n  entries:\n    - certificate: ./model-a.pem\n      reason: model attestation CA compromised (incident 2026-06)\n`;
  const policyPath = join(dir, 'policy.yaml');
  const denyPath = join(dir, 'policy-deny.yaml');
  writeFileSync(policyPath, allowYaml);
  writeFileSync(denyPath, denyYaml);
  return {
    a,
    b,
    dir,
    policyPath,
    denyPath,
    denyYaml,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Enroll one new key of maker `h` through the API; returns the serial and enrollment id. */
export async function enrollOne(
  app: FastifyInstance,
  adminToken: string,
  h: NativeHierarchy,
  subject = 'CN=Alice Example,O=Acme',
): Promise<{ serial: string; enrollmentId: string }> {
  const code = await createCode(app, adminToken, { customer: 'acme', subject });
  const challenge = await getChallenge(app, code.code);
  const res = await submit(app, code.code, {
    challengeId: challenge.id,
    csr: csrPem(h, { nonce: challenge.nonce }),
  });
  if (res.statusCode !== 201) throw new Error(`enrollment failed: ${res.statusCode} ${res.body}`);
  const json = res.json() as { serial: string; enrollmentId: string };
  return { serial: json.serial, enrollmentId: json.enrollmentId };
}
