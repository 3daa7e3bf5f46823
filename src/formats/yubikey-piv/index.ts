/**
 * The YubiKey PIV attestation format (`yubikey-piv`, standards.md §1; docs/yubikey.md).
 *
 * Evidence: the slot attestation certificate the device mints with its F9 key
 * (`ykman piv keys attest`), the F9 certificate (`ykman piv certificates export f9`) and any
 * further chain certificates (Yubico's 2024 tier-1/tier-2 intermediates), either as a PEM
 * bundle in any order or inside a CSR's attestation bundle under a statement of type
 * YUBIKEY_PIV_STATEMENT_TYPE whose `stmt` is the slot as OCTET STRING (SIZE(1)), e.g. 04 01 9a.
 *
 * What this module checks (the rest is the shared pipeline: path, revocation, policy):
 * 1. Exactly one slot attestation certificate: a certificate with Yubico extensions that is
 *    issued (by name) by another certificate of the evidence (its F9 certificate) and issues
 *    none itself. Its signature is checked by path validation, against pinned Yubico keys.
 * 2. Every Yubico extension decodes strictly (exact lengths: standards.md §1.4 step 6);
 *    the slot in the subject CN is a PIV slot (9a, 9c, 9d, 9e, 82-95).
 * 3. For a CSR: the CSR key equals the slot key byte for byte (`KEY_MISMATCH`, §1.4 step 4),
 *    the CSR signature verifies (proof of possession, `CSR_SIGNATURE_INVALID`), the statement's
 *    slot equals the certificate's (`ATTESTATION_INVALID`).
 * 4. Freshness (§1.4 step 8): PIV attestation has no nonce. An expected nonce can only be met
 *    by a CSR whose nonce attribute (signed by the attested key) equals it; a bare bundle with
 *    an expected nonce fails `NONCE_MISSING`. freshnessKind is 'possession' for a CSR, 'none'
 *    for a bundle.
 *
 * @example
 * const verdict = createVerifier({ policy }).verifyBytes(bundlePem); // slot.pem + f9.pem
 */
import { bytesEqual } from '../../core/bytes.js';
import { parseDer, TAG } from '../../core/der.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { type Certificate, decodeExtension, nameAttribute } from '../../pki/certificate.js';
import { verifyCsrSignature } from '../../pki/csr.js';
import { describeKey } from '../../pki/keys.js';
import type { PathQuirk } from '../../pki/path.js';
import { catalogEntry } from '../../trust/catalog/lookup.js';
import type { AttestationFormat, Claims, EvidenceInput, FormatContext, FormatResult } from '../types.js';
import {
  decodeFirmware,
  decodeFormFactor,
  decodePolicies,
  decodeSerial,
  modelName,
  YUBICO_OID,
  YUBICO_PIV_ARC,
  type YubiKeyFormFactor,
  type YubiKeyPolicies,
} from './extensions.js';

export * from './extensions.js';

export const YUBIKEY_PIV_FORMAT_ID = 'yubikey-piv' as const;

/**
 * CSR attestation statement type for YubiKey PIV evidence (OID.yubikeyPivStatementType).
 * `${PROVENANCE_ARC}.2.2` is already the nonce attribute, so the statement took `.2.3`.
 */
export const YUBIKEY_PIV_STATEMENT_TYPE: string = OID.yubikeyPivStatementType;

/**
 * The anchor catalogue's ids for the Yubico roots (src/trust/catalog/entries.ts): what
 * `catalog:` trust entries are called. Display and docs only: the quirks below are scoped by key.
 */
export const YUBICO_ANCHOR_IDS = {
  /** Yubico PIV Root CA Serial 263751. */
  pivRoot: 'yubico-piv-root-263751',
  /** Yubico U2F Root CA Serial 457200631 (used for some 2017-2018 F9 certificates). */
  u2fRoot: 'yubico-u2f-root-457200631',
  /** Yubico Attestation Root 1 (2024-12 PKI, firmware 5.7.4+). */
  attestationRoot1: 'yubico-attestation-root-1',
} as const;

/** The SPKI SHA-256 of a catalogued Yubico root: quirks are scoped to keys, never to names or ids. */
function yubicoRootKey(id: string): string {
  const entry = catalogEntry(id);
  if (!entry) throw new Error(`anchor catalogue has no entry ${id}`); // a build defect, not input
  return entry.spkiSha256;
}

/**
 * The named deviations real YubiKey chains need (standards.md §1.2, §1.3): YubiKey 4 F9
 * certificates without basicConstraints (position 1), and the U2F root's pathLenConstraint 0
 * above the F9 intermediate (the constraint sits on the root, position 2). Each applies only
 * when the path ends at the Yubico root key that needs it, whatever the operator named it.
 */
export const YUBIKEY_PATH_QUIRKS: readonly PathQuirk[] = [
  {
    id: 'yubikey-f9-no-basic-constraints',
    relax: 'ca-flag-missing',
    position: 1,
    anchorSpkiSha256: [yubicoRootKey(YUBICO_ANCHOR_IDS.pivRoot), yubicoRootKey(YUBICO_ANCHOR_IDS.u2fRoot)],
  },
  {
    id: 'yubikey-u2f-root-path-length',
    relax: 'path-length',
    position: 2,
    anchorSpkiSha256: [yubicoRootKey(YUBICO_ANCHOR_IDS.u2fRoot)],
  },
];

/** Most certificates one evidence may carry (slot + F9 + tier-2 + tier-1 + spares). */
const MAX_BUNDLE_CERTIFICATES = 8;

/** PIV key references that can hold an attested key (SP 800-73-4 Part 1 §3.1; retired 82-95). */
const PIV_SLOTS = new Set([
  '9a',
  '9c',
  '9d',
  '9e',
  ...Array.from({ length: 0x95 - 0x82 + 1 }, (_, i) => (0x82 + i).toString(16)),
]);

const SLOT_CN = /^YubiKey PIV Attestation ([0-9a-f]{2})$/;

function hasYubicoExtension(cert: Certificate): boolean {
  return cert.extensions.some((e) => e.oid.startsWith(`${YUBICO_PIV_ARC}.`));
}

function sameName(a: Certificate['subject'], b: Certificate['subject']): boolean {
  return bytesEqual(a.der, b.der);
}

/** The attestation data a slot certificate (and its F9 certificate) carries. */
export interface YubiKeyAttestation {
  readonly slot: string;
  readonly firmware?: string;
  readonly serial?: string;
  readonly policies?: YubiKeyPolicies;
  readonly formFactor?: YubiKeyFormFactor;
  /** `.3.10` present on the slot or F9 certificate. */
  readonly fipsCertified: boolean;
  /** `.3.11` present on the slot or F9 certificate. */
  readonly cspnCertified: boolean;
}

/** Decode the Yubico extensions of a slot certificate (and FIPS/CSPN from its F9 certificate). */
export function decodeSlotAttestation(
  slotCert: Certificate,
  f9: Certificate | undefined,
): YubiKeyAttestation {
  const cn = nameAttribute(slotCert.subject, OID.commonName);
  const m = cn === undefined ? null : SLOT_CN.exec(cn);
  if (!m || !PIV_SLOTS.has(m[1]!)) {
    fail(
      'ATTESTATION_MALFORMED',
      `slot attestation subject "${slotCert.subject.text}" does not name a PIV slot`,
      {
        subject: slotCert.subject.text,
      },
    );
  }
  // A slot attestation certificate is an end-entity certificate (standards.md §1.2): one
  // claiming to be a CA is not what the device mints.
  if (slotCert.basicConstraints?.ca === true) {
    fail('ATTESTATION_MALFORMED', 'the slot attestation certificate claims to be a CA', {
      subject: slotCert.subject.text,
    });
  }
  const ext = (oid: string) => slotCert.extension(oid);
  const fw = ext(YUBICO_OID.firmware);
  const sn = ext(YUBICO_OID.serial);
  const pol = ext(YUBICO_OID.policy);
  const ff = ext(YUBICO_OID.formFactor);
  const flag = (oid: string) => slotCert.extension(oid) !== undefined || f9?.extension(oid) !== undefined;
  return {
    slot: m[1]!,
    ...(fw ? { firmware: decodeExtension(fw, decodeFirmware) } : {}),
    ...(sn ? { serial: decodeExtension(sn, decodeSerial) } : {}),
    ...(pol ? { policies: decodeExtension(pol, decodePolicies) } : {}),
    ...(ff ? { formFactor: decodeExtension(ff, decodeFormFactor) } : {}),
    fipsCertified: flag(YUBICO_OID.fips),
    cspnCertified: flag(YUBICO_OID.cspn),
  };
}

/** Normalised claims: the slot attestation asserts on-device generation (the device refuses imported keys). */
export function claimsFromAttestation(att: YubiKeyAttestation, spki: Uint8Array): Claims {
  const key = describeKey(spki);
  const claims: Claims = {
    keyAlgorithm: key.keyAlgorithm,
    keySize: key.keySize,
    // standards.md §1.1: ATTEST fails for imported keys; PIV private keys never leave the device.
    generatedOnDevice: true,
    nonExportable: true,
    securityLevel: 'secure-element',
    slot: att.slot,
    fips: att.fipsCertified || att.formFactor?.fipsSeries === true,
    cspn: att.cspnCertified,
    model: modelName(att.firmware, att.formFactor),
  };
  if (att.firmware !== undefined) claims.firmware = att.firmware;
  if (att.serial !== undefined) claims.serial = att.serial;
  if (att.formFactor) {
    claims.formFactor = att.formFactor.formFactor;
    if (att.formFactor.formFactor === 'unknown') claims.formFactorRaw = att.formFactor.raw;
  }
  if (att.policies) {
    const { pinPolicy, touchPolicy } = att.policies;
    claims.pinPolicy = pinPolicy;
    claims.touchPolicy = touchPolicy;
    if (pinPolicy === 'unknown') claims.pinPolicyRaw = att.policies.pinPolicyRaw;
    if (touchPolicy === 'unknown') claims.touchPolicyRaw = att.policies.touchPolicyRaw;
    // Only named policies map; 'default' depends on the slot and firmware, so it is left unstated.
    if (touchPolicy === 'never' || touchPolicy === 'always' || touchPolicy === 'cached') {
      claims.userPresence = touchPolicy;
    }
    if (pinPolicy === 'never' || pinPolicy === 'once' || pinPolicy === 'always')
      claims.userVerification = pinPolicy;
    else if (pinPolicy === 'match-once') claims.userVerification = 'once';
    else if (pinPolicy === 'match-always') claims.userVerification = 'always';
  }
  return claims;
}

/** Find the slot certificate among `certs`: carries Yubico extensions, issued by another member, issues none. */
export function findSlotCertificate(certs: readonly Certificate[]): { slot: Certificate; f9: Certificate } {
  const found: { slot: Certificate; f9: Certificate }[] = [];
  for (const c of certs) {
    if (!hasYubicoExtension(c)) continue;
    const f9 = certs.find((o) => o !== c && sameName(o.subject, c.issuer));
    if (!f9) continue;
    if (certs.some((o) => o !== c && sameName(o.issuer, c.subject))) continue;
    found.push({ slot: c, f9 });
  }
  if (found.length === 0) {
    fail(
      'ATTESTATION_MISSING',
      'no YubiKey slot attestation certificate issued by an F9 certificate in the evidence (give both: slot and F9)',
    );
  }
  if (found.length > 1) {
    fail(
      'ATTESTATION_MALFORMED',
      `${found.length} slot attestation certificates in one evidence: ambiguous`,
      {
        count: found.length,
      },
    );
  }
  return found[0]!;
}

/** The statement's slot: OCTET STRING (SIZE(1)). */
export function decodeStatementSlot(stmt: Uint8Array): string {
  try {
    const tlv = parseDer(stmt);
    if (tlv.tag !== TAG.OCTET_STRING || tlv.end - tlv.valueStart !== 1) {
      fail('ATTESTATION_MALFORMED', 'YubiKey PIV statement must be an OCTET STRING of one byte (the slot)');
    }
    return stmt[tlv.valueStart]!.toString(16).padStart(2, '0');
  } catch (err) {
    if (isProvenanceError(err) && err.code.startsWith('DER_')) {
      fail('ATTESTATION_MALFORMED', `YubiKey PIV statement: ${err.message}`);
    }
    throw err;
  }
}

function statementsOf(input: EvidenceInput) {
  return input.kind === 'csr'
    ? (input.csr.attestation?.statements.filter((s) => s.type === YUBIKEY_PIV_STATEMENT_TYPE) ?? [])
    : [];
}

export const yubikeyPivFormat: AttestationFormat = {
  id: YUBIKEY_PIV_FORMAT_ID,
  // Yubico's PKI predates RFC 5280 §4 niceties (no key identifiers on F9): default profile,
  // plus only the two named, anchor-scoped quirks.
  pathOptions: { profile: 'default', quirks: YUBIKEY_PATH_QUIRKS },

  detect(input: EvidenceInput): boolean {
    if (input.kind === 'csr') return statementsOf(input).length > 0;
    return input.certificates.some(hasYubicoExtension);
  },

  verify(input: EvidenceInput, ctx: FormatContext): FormatResult {
    const given: Certificate[] =
      input.kind === 'csr'
        ? [...(input.csr.attestation?.certificates ?? []), ...input.certificates]
        : [...input.certificates];
    // The same certificate given twice (CSR bundle and request body) counts once.
    const certs = given.filter((c, i) => given.findIndex((o) => bytesEqual(o.der, c.der)) === i);
    if (certs.length > MAX_BUNDLE_CERTIFICATES) {
      fail('DER_LIMIT_EXCEEDED', `more than ${MAX_BUNDLE_CERTIFICATES} certificates in YubiKey evidence`, {
        count: certs.length,
      });
    }
    let statementSlot: string | undefined;
    if (input.kind === 'csr') {
      const statements = statementsOf(input);
      if (statements.length !== 1) {
        fail('ATTESTATION_MALFORMED', `${statements.length} YubiKey PIV statements in one CSR: expected one`);
      }
      statementSlot = decodeStatementSlot(statements[0]!.stmt);
    }
    const { slot, f9 } = findSlotCertificate(certs);
    const att = decodeSlotAttestation(slot, f9);
    // The F9 certificate's own Yubico extensions must decode too (a malformed one is not ignored).
    for (const e of f9.extensions) {
      if (e.oid === YUBICO_OID.firmware) decodeExtension(e, decodeFirmware);
    }

    let csrVerified = false;
    let nonce: Uint8Array | null = null;
    if (input.kind === 'csr') {
      const csr = input.csr;
      if (statementSlot !== att.slot) {
        fail(
          'ATTESTATION_INVALID',
          `the statement names slot ${statementSlot}, the certificate attests slot ${att.slot}`,
        );
      }
      // Key substitution (standards.md §1.4 step 4): byte-exact SPKI comparison.
      if (!bytesEqual(csr.spki, slot.spki)) {
        fail('KEY_MISMATCH', 'the CSR key is not the key attested for the YubiKey slot', { slot: att.slot });
      }
      // Proof of possession (RFC 2986 §3): the attested key signed the CSR, nonce included.
      verifyCsrSignature(csr);
      nonce = csr.nonce;
      csrVerified = true;
    }
    // §1.4 step 8: the attestation has no nonce; only a CSR signed by the key can carry one.
    if (ctx.expectedNonce !== undefined) {
      if (nonce === null) {
        fail(
          'NONCE_MISSING',
          input.kind === 'csr'
            ? 'the CSR carries no nonce attribute (YubiKey attestations have none)'
            : 'YubiKey PIV attestations carry no nonce: send a CSR with the nonce attribute, signed by the key',
        );
      }
      if (!bytesEqual(nonce, ctx.expectedNonce)) {
        fail('NONCE_MISMATCH', 'the CSR nonce attribute differs from the expected challenge');
      }
    }

    return {
      format: YUBIKEY_PIV_FORMAT_ID,
      attestedKey: slot.spki,
      signerChain: [slot, ...certs.filter((c) => c !== slot)],
      attestationCertificate: slot,
      claims: claimsFromAttestation(att, slot.spki),
      freshness: nonce === null ? null : { nonce },
      freshnessKind: csrVerified ? 'possession' : 'none',
      quirks: [],
      csrVerified,
    };
  },
};
