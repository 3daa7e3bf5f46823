/**
 * Test material for revocation: CRLs built with the project's own `buildCrl` for the native
 * test hierarchy (test/verify/fixtures.ts), and policies loaded from YAML with injected files.
 */
import { buildCrl } from '../../../src/ca/crl.js';
import type { IssuingCa, RevokedEntry } from '../../../src/ca/types.js';
import { encodePem } from '../../../src/core/pem.js';
import type { Signer } from '../../../src/pki/signer.js';
import { type Policy, parsePolicy } from '../../../src/policy/index.js';
import { type NativeHierarchy, NOW, type Party } from '../../verify/fixtures.js';

export const DAY = 86_400_000;

/** A CRL issued under `issuer`'s name, signed by `signer` (the issuer's own key unless given). */
export function crlFor(
  issuer: Party,
  revoked: readonly RevokedEntry[] = [],
  o: { signer?: Signer; thisUpdate?: number; nextUpdate?: number } = {},
): Uint8Array {
  const signer = o.signer ?? issuer.signer;
  const ca: IssuingCa = {
    certificate: issuer.cert,
    chain: [issuer.cert],
    key: { kind: 'test', spki: signer.spki, algorithm: signer.algorithm, sign: (d) => signer.sign(d) },
  };
  return buildCrl({
    ca,
    revoked,
    thisUpdate: o.thisUpdate ?? NOW - DAY,
    nextUpdate: o.nextUpdate ?? NOW + 7 * DAY,
    crlNumber: 1,
  });
}

/** Revoke `party`'s certificate (by its serial) in a CRL entry. */
export function entryFor(party: Party, reason = 'keyCompromise'): RevokedEntry {
  return { serial: party.cert.serialHex.replace(/^0+/, ''), revokedAt: NOW - 2 * DAY, reason };
}

/** Good CRLs for each CA that issues a checkable certificate of the path (model, line, root). */
export function goodCrls(h: NativeHierarchy): Record<string, Uint8Array> {
  return { 'model.crl': crlFor(h.model), 'line.crl': crlFor(h.line), 'root.crl': crlFor(h.root) };
}

/**
 * A policy trusting the hierarchy's root with the given trust-entry revocation lines (YAML),
 * files served from memory.
 */
export function revocationPolicy(
  h: NativeHierarchy,
  trustLines: string,
  files: Record<string, Uint8Array | string> = {},
): Policy {
  const all: Record<string, Uint8Array | string> = {
    'root.pem': encodePem('CERTIFICATE', h.root.der),
    ...files,
  };
  const text = `version: 1\ntrust:\n  - id: maker\n    certificates: [root.pem]\n${trustLines
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => `    ${l}`)
    .join('\n')}\nrequire:\n  freshness: nonce\n`;
  return parsePolicy(text, {
    source: 'policy.yaml',
    baseDir: '/policy',
    readFile: (path) => {
      const name = path.replace(/^\/policy\//, '');
      const body = all[name];
      if (body === undefined) throw Object.assign(new Error(`no such file ${name}`), { code: 'ENOENT' });
      return typeof body === 'string' ? new TextEncoder().encode(body) : body;
    },
  });
}
