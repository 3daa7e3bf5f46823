/**
 * Synthetic YubiKey-shaped PKIs built with the test PKI builder: a root, an F9 device
 * certificate (optionally without basicConstraints, like YubiKey 4), and a slot attestation
 * certificate with Yubico extensions. Not copies of real devices.
 */
import { der } from '../../../src/core/der-writer.js';
import { encodePem } from '../../../src/core/pem.js';
import { YUBICO_OID } from '../../../src/formats/yubikey-piv/index.js';
import { type ExtensionSpec, ecKey, issue, rsaKey, type TestCert, type TestKey } from '../../helpers/pki.js';

/** Raw extnValue bytes for the slot extensions. */
export interface SlotExtensions {
  readonly firmware?: readonly number[] | null;
  readonly serial?: Uint8Array | null;
  readonly policy?: readonly number[] | null;
  readonly formFactor?: readonly number[] | null;
}

export interface YubiPki {
  readonly root: TestCert;
  readonly f9: TestCert;
  readonly slot: TestCert;
  readonly slotKey: TestKey;
}

let rsa: TestKey | undefined;
/** One RSA-2048 key per test file (slow to make). */
export function sharedRsaKey(): TestKey {
  rsa ??= rsaKey(2048);
  return rsa;
}

export function slotExtensions(x: SlotExtensions = {}): ExtensionSpec[] {
  const out: ExtensionSpec[] = [];
  const fw = x.firmware === undefined ? [5, 4, 3] : x.firmware;
  if (fw) out.push({ oid: YUBICO_OID.firmware, value: Uint8Array.from(fw) });
  const sn = x.serial === undefined ? der.int(15732500) : x.serial;
  if (sn) out.push({ oid: YUBICO_OID.serial, value: sn });
  const pol = x.policy === undefined ? [0x03, 0x02] : x.policy;
  if (pol) out.push({ oid: YUBICO_OID.policy, value: Uint8Array.from(pol) });
  const ff = x.formFactor === undefined ? [0x01] : x.formFactor;
  if (ff) out.push({ oid: YUBICO_OID.formFactor, value: Uint8Array.from(ff) });
  return out;
}

/**
 * root (pathLen given) → F9 "Yubico PIV Attestation" (no basicConstraints unless f9Ca) →
 * "YubiKey PIV Attestation <slot>" with the given extensions.
 */
export function yubiPki(
  options: {
    rootPathLen?: number;
    f9Ca?: boolean;
    slot?: string;
    ext?: SlotExtensions;
    slotKey?: TestKey;
    f9Extensions?: readonly ExtensionSpec[];
  } = {},
): YubiPki {
  const root = issue({
    subject: 'Test Yubico PIV Root CA',
    key: ecKey(),
    ca: { pathLen: options.rootPathLen ?? 1 },
  });
  const f9 = issue({
    subject: 'Yubico PIV Attestation',
    key: ecKey(),
    issuer: root,
    ...(options.f9Ca ? { ca: { pathLen: 0 } } : { keyUsage: null }),
    noSki: true,
    noAki: true,
    extensions: [
      { oid: YUBICO_OID.firmware, value: Uint8Array.from([5, 4, 3]) },
      ...(options.f9Extensions ?? []),
    ],
  });
  const slotKey = options.slotKey ?? ecKey();
  const slot = issue({
    subject: `YubiKey PIV Attestation ${options.slot ?? '9a'}`,
    key: slotKey,
    issuer: f9,
    noSki: true,
    noAki: true,
    extensions: slotExtensions(options.ext),
  });
  return { root, f9, slot, slotKey };
}

/** PEM text of the certificates, in the given order. */
export function pemBundle(...certs: readonly TestCert[]): string {
  return certs.map((c) => encodePem('CERTIFICATE', c.der)).join('');
}
