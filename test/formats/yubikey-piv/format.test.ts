/**
 * The yubikey-piv format on synthetic YubiKey-shaped chains: detection, claims, slot
 * identification, quirk scoping to the Yubico anchor ids, CSR key binding and proof of
 * possession, nonce handling, and the policy template's firmware deny rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import { isProvenanceError } from '../../../src/core/errors.js';
import { encodePem } from '../../../src/core/pem.js';
import { provenanceFormat } from '../../../src/formats/provenance/index.js';
import type { EvidenceInput } from '../../../src/formats/types.js';
import {
  YUBICO_ANCHOR_IDS,
  YUBIKEY_PATH_QUIRKS,
  YUBIKEY_PIV_STATEMENT_TYPE,
  yubikeyPivFormat,
} from '../../../src/formats/yubikey-piv/index.js';
import { YUBIKEY_POLICY_TEMPLATE } from '../../../src/formats/yubikey-piv/policy-template.js';
import { parseCertificate } from '../../../src/pki/certificate.js';
import { buildCsr, parseCsr } from '../../../src/pki/csr.js';
import { encodeName } from '../../../src/pki/name.js';
import { signerFromKeyObject } from '../../../src/pki/signer.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { fuzzParameters, mutatedBytes, outcome } from '../../helpers/fuzz.js';
import { ecKey, issue, type TestCert, type TestKey } from '../../helpers/pki.js';
import { pemBundle, sharedRsaKey, slotExtensions, yubiPki } from './fixtures.js';

const AT = Date.UTC(2030, 0, 1);
const NONCE = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

function bundle(...certs: TestCert[]): EvidenceInput {
  return { kind: 'certificates', certificates: certs.map((c) => c.cert) };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

/** A policy trusting `root` under `id` for yubikey-piv, with optional extra YAML. */
function policyFor(root: TestCert, id: string, extra = '') {
  const text = `version: 1\ntrust:\n  - id: ${id}\n    certificates: [./root.pem]\n    formats: [yubikey-piv]\n${extra}`;
  return parsePolicy(text, {
    source: 'test.yaml',
    baseDir: '.',
    readFile: () => new TextEncoder().encode(encodePem('CERTIFICATE', root.der)),
  });
}

/** The template, with the PIV root file served as `root` and the other two as unrelated roots. */
function templatePolicy(root: TestCert) {
  const others = new Map<string, TestCert>();
  return parsePolicy(YUBIKEY_POLICY_TEMPLATE, {
    source: 'template.yaml',
    baseDir: '.',
    readFile: (path) => {
      if (path.includes('piv-root')) return new TextEncoder().encode(encodePem('CERTIFICATE', root.der));
      if (!others.has(path)) others.set(path, issue({ subject: path, key: ecKey(), ca: {} }));
      return new TextEncoder().encode(encodePem('CERTIFICATE', others.get(path)!.der));
    },
  });
}

function csrInput(
  key: TestKey,
  pki: { slot: TestCert; f9: TestCert },
  options: { slotByte?: number; nonce?: Uint8Array; stmt?: Uint8Array } = {},
): EvidenceInput {
  const csr = buildCsr({
    subject: encodeName('CN=alice'),
    signer: signerFromKeyObject(key.privateKey),
    attestation: {
      statements: [
        {
          type: YUBIKEY_PIV_STATEMENT_TYPE,
          stmt: options.stmt ?? der.octets(Uint8Array.of(options.slotByte ?? 0x9a)),
        },
      ],
      certificates: [pki.slot.der, pki.f9.der],
    },
    ...(options.nonce ? { nonce: options.nonce } : {}),
  });
  return { kind: 'csr', csr: parseCsr(csr), certificates: [] };
}

describe('yubikey-piv detection', () => {
  const pki = yubiPki({ f9Ca: true });
  it('detects a bundle carrying Yubico extensions, and the native format does not', () => {
    expect(yubikeyPivFormat.detect(bundle(pki.slot, pki.f9))).toBe(true);
    expect(provenanceFormat.detect(bundle(pki.slot, pki.f9))).toBe(false);
  });
  it('does not detect certificates without Yubico extensions', () => {
    expect(yubikeyPivFormat.detect(bundle(pki.root))).toBe(false);
  });
  it('detects a CSR only by its statement type', () => {
    expect(yubikeyPivFormat.detect(csrInput(pki.slotKey, pki))).toBe(true);
  });
});

describe('yubikey-piv verify (format stage)', () => {
  const pki = yubiPki({ f9Ca: true });

  it('finds the slot certificate in any order and reports claims', () => {
    for (const input of [bundle(pki.slot, pki.f9), bundle(pki.f9, pki.root, pki.slot)]) {
      const r = yubikeyPivFormat.verify(input, {});
      expect(r.signerChain[0]).toBe(pki.slot.cert);
      expect(r.attestedKey).toEqual(pki.slot.cert.spki);
      expect(r.freshnessKind).toBe('none');
      expect(r.claims).toMatchObject({
        keyAlgorithm: 'ec-p256',
        keySize: 256,
        firmware: '5.4.3',
        serial: '15732500',
        slot: '9a',
        pinPolicy: 'always',
        touchPolicy: 'always',
        userVerification: 'always',
        userPresence: 'always',
        generatedOnDevice: true,
        nonExportable: true,
        formFactor: 'usb-a-keychain',
        model: 'YubiKey 5 NFC',
        fips: false,
      });
    }
  });

  it('reports FIPS from the F9 certificate and unknown policy values raw', () => {
    const p = yubiPki({
      f9Ca: true,
      ext: { policy: [0x07, 0x09], formFactor: [0x81] },
      f9Extensions: [{ oid: '1.3.6.1.4.1.41482.3.10', value: new Uint8Array(0) }],
    });
    const { claims } = yubikeyPivFormat.verify(bundle(p.slot, p.f9), {});
    expect(claims).toMatchObject({
      pinPolicy: 'unknown',
      pinPolicyRaw: 7,
      touchPolicy: 'unknown',
      fips: true,
    });
    expect(claims.userPresence).toBeUndefined();
    expect(claims.userVerification).toBeUndefined();
    expect(claims.model).toBe('YubiKey 5 NFC FIPS');
  });

  it('refuses a slot certificate without its F9 certificate', () => {
    expect(codeOf(() => yubikeyPivFormat.verify(bundle(pki.slot), {}))).toBe('ATTESTATION_MISSING');
  });

  it('refuses two slot certificates in one bundle', () => {
    const other = yubiPki({ f9Ca: true });
    expect(codeOf(() => yubikeyPivFormat.verify(bundle(pki.slot, pki.f9, other.slot, other.f9), {}))).toBe(
      'ATTESTATION_MALFORMED',
    );
  });

  it('refuses a subject that names no PIV slot', () => {
    const p = yubiPki({ slot: 'f9' });
    expect(codeOf(() => yubikeyPivFormat.verify(bundle(p.slot, p.f9), {}))).toBe('ATTESTATION_MALFORMED');
  });

  it('refuses a bad extension length with EXTENSION_MALFORMED', () => {
    const p = yubiPki({ ext: { firmware: [5, 4] } });
    expect(codeOf(() => yubikeyPivFormat.verify(bundle(p.slot, p.f9), {}))).toBe('EXTENSION_MALFORMED');
    const q = yubiPki({ ext: { serial: Uint8Array.of(0x02, 0x01, 0xff) } });
    expect(codeOf(() => yubikeyPivFormat.verify(bundle(q.slot, q.f9), {}))).toBe('EXTENSION_MALFORMED');
  });

  it('a bare bundle cannot meet an expected nonce', () => {
    expect(codeOf(() => yubikeyPivFormat.verify(bundle(pki.slot, pki.f9), { expectedNonce: NONCE }))).toBe(
      'NONCE_MISSING',
    );
  });
});

describe('yubikey-piv in a CSR', () => {
  const pki = yubiPki({ f9Ca: true });

  it('accepts a CSR by the attested key: freshness by possession', () => {
    const r = yubikeyPivFormat.verify(csrInput(pki.slotKey, pki, { nonce: NONCE }), { expectedNonce: NONCE });
    expect(r.csrVerified).toBe(true);
    expect(r.freshnessKind).toBe('possession');
    expect(r.freshness?.nonce).toEqual(NONCE);
  });

  it('rejects key substitution: the CSR key is not the slot key', () => {
    expect(codeOf(() => yubikeyPivFormat.verify(csrInput(ecKey(), pki), {}))).toBe('KEY_MISMATCH');
  });

  it('rejects a CSR whose nonce differs from or lacks the expected one', () => {
    const other = Uint8Array.from({ length: 16 }, () => 7);
    expect(
      codeOf(() =>
        yubikeyPivFormat.verify(csrInput(pki.slotKey, pki, { nonce: other }), { expectedNonce: NONCE }),
      ),
    ).toBe('NONCE_MISMATCH');
    expect(codeOf(() => yubikeyPivFormat.verify(csrInput(pki.slotKey, pki), { expectedNonce: NONCE }))).toBe(
      'NONCE_MISSING',
    );
  });

  it('rejects a statement naming another slot, or a malformed statement', () => {
    expect(codeOf(() => yubikeyPivFormat.verify(csrInput(pki.slotKey, pki, { slotByte: 0x9c }), {}))).toBe(
      'ATTESTATION_INVALID',
    );
    expect(codeOf(() => yubikeyPivFormat.verify(csrInput(pki.slotKey, pki, { stmt: der.seq() }), {}))).toBe(
      'ATTESTATION_MALFORMED',
    );
  });
});

describe('yubikey-piv quirks are scoped to the Yubico root keys, not to ids', () => {
  // YubiKey 4 shape: F9 without basicConstraints under a PIV root.
  const yk4 = yubiPki({ f9Ca: false });
  /** The format as it would be if `root` were Yubico's key: the quirks keep their scope, re-keyed. */
  const rekeyed = (keys: { piv?: string; u2f?: string }) => ({
    ...yubikeyPivFormat,
    pathOptions: {
      ...yubikeyPivFormat.pathOptions,
      quirks: YUBIKEY_PATH_QUIRKS.map((q) => ({
        ...q,
        anchorSpkiSha256:
          q.id === 'yubikey-f9-no-basic-constraints'
            ? [keys.piv ?? 'none', keys.u2f ?? 'none']
            : [keys.u2f ?? 'none'],
      })),
    },
  });

  it('accepts an F9 without basicConstraints under the Yubico PIV root key, reporting the quirk', () => {
    const v = createVerifier({
      policy: policyFor(yk4.root, 'any-name-the-operator-likes'),
      formats: [rekeyed({ piv: yk4.root.cert.spkiSha256 })],
    });
    const verdict = v.verify(bundle(yk4.slot, yk4.f9), { at: AT });
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.format).toBe('yubikey-piv');
    expect(verdict.quirks.map((q) => [q.id, q.position])).toEqual([['yubikey-f9-no-basic-constraints', 2]]);
  });

  it('REJECTS the same F9-style intermediate under another key, even one named like a Yubico root', () => {
    for (const id of ['acme-root', YUBICO_ANCHOR_IDS.pivRoot]) {
      const v = createVerifier({ policy: policyFor(yk4.root, id) });
      const verdict = v.verify(bundle(yk4.slot, yk4.f9), { at: AT });
      expect(verdict.accepted).toBe(false);
      expect(verdict.code).toBe('PATH_NOT_CA');
    }
  });

  it('accepts pathLen 0 on the root only under the U2F root key', () => {
    const u2f = yubiPki({ f9Ca: true, rootPathLen: 0 });
    const ok = createVerifier({
      policy: policyFor(u2f.root, 'u2f'),
      formats: [rekeyed({ u2f: u2f.root.cert.spkiSha256 })],
    }).verify(bundle(u2f.slot, u2f.f9), { at: AT });
    expect(ok.code).toBe('ACCEPTED');
    expect(ok.quirks.map((q) => q.id)).toEqual(['yubikey-u2f-root-path-length']);
    const no = createVerifier({
      policy: policyFor(u2f.root, 'piv'),
      formats: [rekeyed({ piv: u2f.root.cert.spkiSha256 })],
    }).verify(bundle(u2f.slot, u2f.f9), { at: AT });
    expect(no.code).toBe('PATH_LENGTH_EXCEEDED');
  });
});

describe('yubikey-piv through the verifier with the policy template', () => {
  const rsa = sharedRsaKey();

  it('denies ROCA firmware 4.3.4 (synthetic chain) and YSA-2019-02 firmware with POLICY_DENIED', () => {
    for (const fw of [
      [4, 3, 4],
      [4, 2, 6],
      [4, 4, 2],
      [4, 4, 4],
    ] as const) {
      const p = yubiPki({ f9Ca: true, slotKey: rsa, ext: { firmware: [...fw] } });
      const v = createVerifier({ policy: templatePolicy(p.root) });
      const verdict = v.verify(csrInput(p.slotKey, p), { at: AT });
      expect(verdict.code, fw.join('.')).toBe('POLICY_DENIED');
      expect(verdict.findings.find((f) => f.check === 'deny.firmware')?.ok).toBe(false);
    }
  });

  it('allows fw 4.3.5 by CSR, and refuses a bare bundle for freshness', () => {
    const p = yubiPki({ f9Ca: true, slotKey: rsa, ext: { firmware: [4, 3, 5] } });
    const v = createVerifier({ policy: templatePolicy(p.root) });
    const ok = v.verify(csrInput(p.slotKey, p), { at: AT });
    expect(ok.code).toBe('ACCEPTED');
    expect(ok.freshness).toBe('possession');
    expect(ok.findings.find((f) => f.check === 'deny.roca')?.ok).toBe(true);
    // The freshness requirement reports NONCE_MISSING (src/policy/requirements.ts).
    const bare = v.verify(bundle(p.slot, p.f9), { at: AT });
    expect(bare.code).toBe('NONCE_MISSING');
    expect(bare.freshness).toBe('none');
  });

  it('require.freshness: nonce refuses even a CSR with the nonce (possession is not evidence freshness)', () => {
    const p = yubiPki({ f9Ca: true });
    const v = createVerifier({
      policy: policyFor(p.root, YUBICO_ANCHOR_IDS.pivRoot, 'require:\n  freshness: nonce\n'),
    });
    const verdict = v.verify(csrInput(p.slotKey, p, { nonce: NONCE }), { at: AT, nonce: NONCE });
    expect(verdict.code).toBe('NONCE_MISSING');
    expect(verdict.findings.some((f) => !f.ok && f.message.includes('possession'))).toBe(true);
  });

  it('verifies a PEM bundle from bytes', () => {
    const p = yubiPki({ f9Ca: true });
    const v = createVerifier({ policy: policyFor(p.root, YUBICO_ANCHOR_IDS.pivRoot) });
    const verdict = v.verifyBytes(new TextEncoder().encode(pemBundle(p.f9, p.slot)), { at: AT });
    expect(verdict.code).toBe('ACCEPTED');
    expect(verdict.claims?.slot).toBe('9a');
  });
});

describe('yubikey-piv robustness', () => {
  const pki = yubiPki({ f9Ca: true });

  it('counts a certificate given twice once', () => {
    const r = yubikeyPivFormat.verify(bundle(pki.slot, pki.f9, pki.slot, pki.f9), {});
    expect(r.claims.slot).toBe('9a');
  });

  it('refuses a slot certificate that claims to be a CA', () => {
    const f9 = pki.f9;
    const slot = issue({
      subject: 'YubiKey PIV Attestation 9a',
      key: ecKey(),
      issuer: f9,
      ca: {},
      extensions: slotExtensions(),
    });
    expect(codeOf(() => yubikeyPivFormat.verify(bundle(slot, f9), {}))).toBe('ATTESTATION_MALFORMED');
  });

  it('fuzz: mutated slot certificates only ever verify or throw ProvenanceError', () => {
    fc.assert(
      fc.property(mutatedBytes([pki.slot.der]), (m) => {
        outcome(() => {
          const slot = parseCertificate(m.bytes);
          return yubikeyPivFormat.verify({ kind: 'certificates', certificates: [slot, pki.f9.cert] }, {});
        });
      }),
      fuzzParameters(300),
    );
  });

  it('fuzz: random Yubico extension values only ever verify or throw ProvenanceError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        (fw, sn, pol, ff) => {
          const p = yubiPki({
            ext: { firmware: [...fw], serial: sn, policy: [...pol], formFactor: [...ff] },
          });
          outcome(() => yubikeyPivFormat.verify(bundle(p.slot, p.f9), {}));
        },
      ),
      fuzzParameters(60),
    );
  });
});
