/**
 * Real attestation chains from ../shared/vectors (YubiKey PIV, Android Key Attestation, TPM
 * AIK certificates) through validatePath with the default profile: they validate, with a named
 * quirk only where the hardware breaks RFC 5280 §6, and a mismatched chain does not. Each chain
 * is checked at the last instant all of its own certificates are valid. Skips with a printed
 * reason when the vectors are absent, except in CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProvenanceError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { anchorFromCertificate, type TrustAnchor } from '../../src/pki/anchor.js';
import { type Certificate, parseCertificate } from '../../src/pki/certificate.js';
import { KeyCache } from '../../src/pki/keys.js';
import { type PathQuirk, validatePath } from '../../src/pki/path.js';

const VECTORS = join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'vectors');
const available = existsSync(join(VECTORS, 'MANIFEST.md'));
const DAY = 86_400_000;

if (!available) {
  const reason = `attestation vectors not found in ${VECTORS}`;
  if (process.env.CI === 'true') {
    it('has the attestation vectors in CI', () => {
      throw new Error(reason);
    });
  } else {
    console.log(`skipping real-chain path tests: ${reason}`);
  }
}

function certs(...parts: string[]): Certificate[] {
  const text = readFileSync(join(VECTORS, ...parts), 'utf8');
  return decodePem(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der));
}

/** The last whole second at which every certificate of `chain` is valid, minus a day. */
function timeFor(chain: readonly Certificate[]): number {
  const t = Math.min(...chain.map((c) => c.notAfter)) - DAY;
  expect(t).toBeGreaterThanOrEqual(Math.max(...chain.map((c) => c.notBefore)));
  return t;
}

function anchors(list: readonly Certificate[], prefix: string): TrustAnchor[] {
  return list.map((c, i) => anchorFromCertificate(c, { id: `${prefix}-${i}`, formats: 'any' }));
}

const cache = new KeyCache();

describe.skipIf(!available)('validatePath on real attestation chains (default profile)', () => {
  describe('YubiKey PIV', () => {
    const yk = (...p: string[]) => certs('yubikey-piv', ...p);
    const roots = () =>
      anchors(
        [
          ...yk('piv-go', 'yubico-piv-root-ca-serial-263751.pem'),
          ...yk('piv-go', 'yubico-u2f-root-ca-serial-457200631.pem'),
          ...yk('smallstep-certificates', 'yubico-attestation-root-1.pem'),
        ],
        'yubico',
      );
    const bundles = () => [
      ...yk('smallstep-crypto', 'yubico-piv-attestation-A1_bundle.pem'),
      ...yk('smallstep-crypto', 'yubico-piv-attestation-B1_bundle.pem'),
    ];
    // Older F9 device certificates have no basicConstraints: a scoped quirk at position 1. The
    // 2018 U2F root also says pathLenConstraint 0 above them: a second quirk, at the root.
    const f9Quirk: PathQuirk = {
      id: 'yubikey-f9-no-basic-constraints',
      relax: 'ca-flag-missing',
      position: 1,
    };
    const u2fRootQuirk: PathQuirk = { id: 'yubico-u2f-root-path-length', relax: 'path-length', position: 2 };
    const cases: [string, string, string, readonly PathQuirk[]][] = [
      ['piv-go', 'yk-a_2016-piv-root_9a-slot-attestation.pem', 'yk-a_2016-piv-root_f9-intermediate.pem', []],
      [
        'piv-go',
        'yk-b_2018-u2f-root_9a-slot-attestation.pem',
        'yk-b_2018-u2f-root_f9-intermediate_no-basicConstraints.pem',
        [f9Quirk, u2fRootQuirk],
      ],
      [
        'ovh-yubico-piv-checker',
        'yk-fw4.3.5-sn5970478_9a-slot-attestation.pem',
        'yk-fw4.3.5-sn5970478_f9-intermediate.pem',
        [f9Quirk],
      ],
      [
        'ovh-yubico-piv-checker',
        'yk-fw5.7.4-sn32718477_9a-slot-attestation.pem',
        'yk-fw5.7.4-sn32718477_f9-intermediate.pem',
        [],
      ],
    ];
    for (const [dir, slot, f9, quirks] of cases) {
      it(`validates ${slot}${quirks.length > 0 ? ` with ${quirks.map((q) => q.relax).join(' + ')} quirks, not without` : ''}`, () => {
        const leaf = yk(dir, slot)[0]!;
        const pool = [...yk(dir, f9), ...bundles()];
        const options = {
          anchors: roots(),
          intermediates: pool,
          time: timeFor([leaf, ...yk(dir, f9)]),
          cache,
        };
        if (quirks.length > 0) {
          expect(() => validatePath(leaf, options)).toThrow(ProvenanceError);
          const path = validatePath(leaf, { ...options, quirks });
          expect(path.quirks.map((q) => [q.id, q.position])).toEqual(
            quirks.map((q) => [q.id, q.position! + 1]),
          );
        } else {
          expect(validatePath(leaf, options).certificates[1]!.subject.text).toMatch(
            /Yubi(co|Key) PIV Attestation/,
          );
        }
      });
    }

    it('rejects a slot certificate presented with another YubiKey’s F9 certificate', () => {
      const leaf = yk('piv-go', 'yk-a_2016-piv-root_9a-slot-attestation.pem')[0]!;
      const otherF9 = yk('ovh-yubico-piv-checker', 'yk-fw4.3.5-sn5970478_f9-intermediate.pem');
      try {
        validatePath(leaf, {
          anchors: roots(),
          intermediates: otherF9,
          time: timeFor([leaf]),
          cache,
          quirks: [f9Quirk],
        });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ProvenanceError);
        expect((err as ProvenanceError).code).toBe('PATH_SIGNATURE_INVALID');
      }
    });
  });

  describe('Android Key Attestation', () => {
    const dir = ['android-key', 'android-keyattestation'];
    const googleRoots = () =>
      anchors(
        (JSON.parse(readFileSync(join(VECTORS, ...dir, 'roots.json'), 'utf8')) as string[]).map((pem) =>
          parseCertificate(decodePem(pem)[0]!.der),
        ),
        'google',
      );
    const chains = [
      'akita/sdk34/TEE_EC_NONE.pem',
      'akita/sdk34/SB_RSA_NONE.pem',
      'blueline/sdk28/TEE_EC_NONE.pem',
      'caiman/sdk36/TEE_EC_RKP.pem',
      'tegu/sdk36/TEE_EC_2026_ROOT.pem',
    ];
    for (const file of chains) {
      it(`validates ${file} to a Google root`, () => {
        const [leaf, ...pool] = certs(...dir, ...file.split('/'));
        const path = validatePath(leaf!, {
          anchors: googleRoots(),
          intermediates: pool,
          time: timeFor([leaf!, ...pool]),
          cache,
        });
        expect(path.anchor.id).toMatch(/^google-/);
      });
    }

    it('needs quirks for an intermediate that issues with cA FALSE and no keyCertSign (Sony Xperia 10 III)', () => {
      const [leaf, ...pool] = certs(...dir, 'sony-xperia10-iii', 'sdk33', 'TEE_EC.pem');
      const options = { anchors: googleRoots(), intermediates: pool, time: timeFor([leaf!, ...pool]), cache };
      expect(() => validatePath(leaf!, options)).toThrow(expect.objectContaining({ code: 'PATH_NOT_CA' }));
      // Its malformed dNSName constraint ('invalid;email:invalid') restricts nothing here: the leaf has no names.
      const path = validatePath(leaf!, {
        ...options,
        quirks: [
          { id: 'android-ca-false-intermediate', relax: 'non-ca-issuer', position: 1 },
          { id: 'android-no-key-cert-sign', relax: 'key-cert-sign-missing', position: 1 },
        ],
      });
      expect(path.quirks.map((q) => q.id)).toEqual([
        'android-ca-false-intermediate',
        'android-no-key-cert-sign',
      ]);
    });
  });

  describe('TPM attestation identity key certificates', () => {
    const devices = [
      'ecc-pubarea_webauthn-io',
      'fido2-lib_windows-hello',
      'intel-ptt_surface-pro-4',
      'nuvoton_dell-xps-13',
      'stm_lenovo-x1-carbon',
      'stm_netpassport',
    ];
    for (const device of devices) {
      it(`validates the AIK chain of ${device} (empty subject, critical SAN)`, () => {
        const chain = certs('tpm', 'webauthn-tpm2-certify', device, 'aik-chain.pem');
        const root = chain[chain.length - 1]!;
        const path = validatePath(chain[0]!, {
          anchors: anchors([root], 'tpm-root'),
          intermediates: chain.slice(1, -1),
          time: timeFor(chain),
          cache,
        });
        expect(path.certificates[0]!.subject.rdns).toHaveLength(0);
      });
    }
  });
});
