/**
 * Enrollment fixtures: a native maker hierarchy (test/verify/fixtures.ts), a policy that
 * allows its product line, and CSRs answering a given challenge, plus helpers to drive the
 * enrollment API through `inject`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fromBase64Url } from '../../src/core/bytes.js';
import { OID } from '../../src/core/oids.js';
import { encodePem } from '../../src/core/pem.js';
import {
  encodeProvenanceKeyAttestation,
  type ProvenanceKeyAttestation,
} from '../../src/formats/provenance/extension.js';
import { buildCertificate, deriveSubjectKeyId } from '../../src/pki/builder.js';
import { buildCsr } from '../../src/pki/csr.js';
import { encodeName } from '../../src/pki/name.js';
import type { Signer } from '../../src/pki/signer.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/model.js';
import { type NativeHierarchy, nativeHierarchy, newKey } from '../verify/fixtures.js';

export type { NativeHierarchy };

/** The hierarchy written to a folder with a policy file that allows its product line (level 2). */
export interface PolicyFolder {
  readonly dir: string;
  readonly policyPath: string;
  readonly policy: Policy;
  cleanup(): void;
}

export const POLICY_YAML = `version: 1
trust:
  - id: gemalto
    certificates: [./root.pem]
allow:
  - id: gemalto-smartcards
    entry: ./line.pem
    level: 2
require:
  freshness: nonce
  generatedOnDevice: true
  nonExportable: true
`;

/** Write root.pem, line.pem, model.pem and policy.yaml for `h` into a temp folder. */
export function policyFolder(h: NativeHierarchy, yaml = POLICY_YAML): PolicyFolder {
  const dir = mkdtempSync(join(tmpdir(), 'provenance-server-policy-'));
  writeFileSync(join(dir, 'root.pem'), encodePem('CERTIFICATE', h.root.der));
  writeFileSync(join(dir, 'line.pem'), encodePem('CERTIFICATE', h.line.der));
  writeFileSync(join(dir, 'model.pem'), encodePem('CERTIFICATE', h.model.der));
  const policyPath = join(dir, 'policy.yaml');
  writeFileSync(policyPath, yaml);
  return {
    dir,
    policyPath,
    policy: loadPolicyFile(policyPath),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Options of a CSR. */
export interface CsrOptions {
  /** The nonce in the certificate of provenance and the CSR attribute (null: none). */
  readonly nonce: Uint8Array | null;
  readonly attestation?: Partial<ProvenanceKeyAttestation>;
  /** Leave the attestation out entirely. */
  readonly noAttestation?: boolean;
  /** Sign the CSR with another key than the attested one. */
  readonly signer?: Signer;
  /** A CSR nonce attribute different from the attestation's. */
  readonly csrNonce?: Uint8Array;
}

/** A PEM CSR for a new key made "in" the hierarchy's token, attested with `nonce`. */
export function csrPem(h: NativeHierarchy, o: CsrOptions): string {
  const attested = newKey();
  const attestation: ProvenanceKeyAttestation = {
    version: 1,
    nonce: o.nonce,
    keyOrigin: 'generated',
    exportable: false,
    userPresence: 'always',
    userVerification: 'once',
    token: { model: 'Gemalto .NET Card', serial: '0001', firmware: '2.1.0' },
    ...o.attestation,
  };
  const cop = buildCertificate({
    issuer: {
      name: h.token.name,
      signer: h.token.signer,
      subjectKeyId: deriveSubjectKeyId(h.token.signer.spki),
    },
    subject: encodeName('CN=Attested key'),
    spki: attested.signer.spki,
    notBefore: h.token.cert.notBefore,
    notAfter: h.token.cert.notAfter,
    keyUsage: ['digitalSignature'],
    extensions: [
      {
        oid: OID.provenanceKeyAttestation,
        critical: false,
        value: encodeProvenanceKeyAttestation(attestation),
      },
    ],
  });
  const csrNonce = o.csrNonce ?? o.nonce;
  const der = buildCsr({
    subject: encodeName('CN=Requested by the client'),
    signer: o.signer ?? attested.signer,
    ...(o.noAttestation
      ? {}
      : {
          attestation: {
            statements: [{ type: OID.provenanceStatementType, stmt: cop }],
            certificates: [h.token.der, h.model.der, h.line.der],
          },
        }),
    ...(csrNonce === null ? {} : { nonce: csrNonce }),
  });
  return encodePem('CERTIFICATE REQUEST', der);
}

export { nativeHierarchy };

/** Create an enrollment code through the admin API; returns the code and its id. */
export async function createCode(
  app: FastifyInstance,
  adminToken: string,
  body: Record<string, unknown> = { customer: 'acme', subject: 'CN=Alice Example,O=Acme' },
): Promise<{ code: string; id: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/admin/enrollment-codes',
    headers: { authorization: `Bearer ${adminToken}` },
    payload: body,
  });
  if (res.statusCode !== 201) throw new Error(`code creation failed: ${res.statusCode} ${res.body}`);
  const json = res.json() as { code: string; id: string };
  return { code: json.code, id: json.id };
}

/** Get a challenge for `code`; returns its id and nonce bytes. */
export async function getChallenge(
  app: FastifyInstance,
  code: string,
): Promise<{ id: string; nonce: Uint8Array }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/challenges',
    headers: { authorization: `Enroll ${code}` },
  });
  if (res.statusCode !== 201) throw new Error(`challenge failed: ${res.statusCode} ${res.body}`);
  const json = res.json() as { id: string; nonce: string };
  return { id: json.id, nonce: fromBase64Url(json.nonce) };
}

/** POST /api/v1/enrollments (a string payload is sent as raw JSON text). */
export function submit(
  app: FastifyInstance,
  code: string,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  const auth = { authorization: `Enroll ${code}`, ...headers };
  return typeof payload === 'string'
    ? app.inject({
        method: 'POST',
        url: '/api/v1/enrollments',
        headers: { 'content-type': 'application/json', ...auth },
        payload,
      })
    : app.inject({ method: 'POST', url: '/api/v1/enrollments', headers: auth, payload: payload as object });
}
