/**
 * Strict decoders for the Yubico PIV attestation extensions (arc 1.3.6.1.4.1.41482.3, Yubico
 * "PIV Attestation OID Arc"; docs/yubikey.md). The encodings are inconsistent by design of the
 * device: firmware, policy and form factor are raw bytes in extnValue, the serial is a DER
 * INTEGER. Each decoder checks the exact length and throws EXTENSION_MALFORMED (naming the
 * OID) otherwise. Values the documentation does not name are reported as 'unknown' with the
 * raw byte, never guessed.
 *
 * @example
 * const fw = decodeFirmware(cert.extension(YUBICO_OID.firmware)!.value); // '5.7.4'
 */
import { parseDer, readBigInt, TAG } from '../../core/der.js';
import { fail, isProvenanceError } from '../../core/errors.js';

/** The Yubico PIV attestation arc: detection keys off any extension below it. */
export const YUBICO_PIV_ARC = '1.3.6.1.4.1.41482.3';

/** The Yubico PIV attestation extensions Provenance decodes. */
export const YUBICO_OID = {
  /** Firmware version: 3 raw bytes major, minor, patch. */
  firmware: `${YUBICO_PIV_ARC}.3`,
  /** Device serial: DER INTEGER. */
  serial: `${YUBICO_PIV_ARC}.7`,
  /** PIN policy, touch policy: 2 raw bytes. */
  policy: `${YUBICO_PIV_ARC}.8`,
  /** Form factor: 1 raw byte (low bits form factor, 0x80 FIPS series, 0x40 Security Key series). */
  formFactor: `${YUBICO_PIV_ARC}.9`,
  /** FIPS-certified device: presence (on the F9 certificate). */
  fips: `${YUBICO_PIV_ARC}.10`,
  /** CSPN-certified device: presence (on the F9 certificate). */
  cspn: `${YUBICO_PIV_ARC}.11`,
} as const;

/** PIN policy as attested; 'default' is the device default (0x00/0x20 in the SDK). */
export type YubiKeyPinPolicy =
  | 'default'
  | 'never'
  | 'once'
  | 'always'
  | 'match-once'
  | 'match-always'
  | 'unknown';
/** Touch policy as attested; 'default' is the device default. */
export type YubiKeyTouchPolicy = 'default' | 'never' | 'always' | 'cached' | 'unknown';

/** Decoded `.3.8`: the policies, with the raw bytes kept for unknown values. */
export interface YubiKeyPolicies {
  readonly pinPolicy: YubiKeyPinPolicy;
  readonly touchPolicy: YubiKeyTouchPolicy;
  readonly pinPolicyRaw: number;
  readonly touchPolicyRaw: number;
}

/** Decoded `.3.9`. */
export interface YubiKeyFormFactor {
  readonly formFactor:
    | 'unspecified'
    | 'usb-a-keychain'
    | 'usb-a-nano'
    | 'usb-c-keychain'
    | 'usb-c-nano'
    | 'usb-c-lightning'
    | 'usb-a-bio'
    | 'usb-c-bio'
    | 'unknown';
  /** Bit 0x80: FIPS series. */
  readonly fipsSeries: boolean;
  /** Bit 0x40: Security Key series. */
  readonly securityKeySeries: boolean;
  readonly raw: number;
}

/** Largest serial accepted: YubiKey serials are uint32 (standards.md §1.4 step 6). */
const MAX_SERIAL = 0xffff_ffffn;

function malformed(oid: string, message: string, details: Record<string, unknown> = {}): never {
  return fail('EXTENSION_MALFORMED', `extension ${oid}: ${message}`, { oid, ...details });
}

function exactLength(oid: string, value: Uint8Array, n: number, what: string): void {
  if (value.length !== n) {
    malformed(oid, `${what} must be exactly ${n} raw byte(s), got ${value.length}`, { length: value.length });
  }
}

/** `.3.3` firmware: exactly 3 raw bytes → 'major.minor.patch'. */
export function decodeFirmware(value: Uint8Array): string {
  exactLength(YUBICO_OID.firmware, value, 3, 'firmware version');
  return `${value[0]}.${value[1]}.${value[2]}`;
}

/** `.3.7` serial: one DER INTEGER, positive, at most uint32, no trailing bytes → decimal text. */
export function decodeSerial(value: Uint8Array): string {
  const oid = YUBICO_OID.serial;
  let n: bigint;
  try {
    // parseDer refuses trailing bytes and non-minimal lengths (X.690 §10.1).
    const tlv = parseDer(value);
    if (tlv.tag !== TAG.INTEGER)
      malformed(oid, `serial must be a DER INTEGER, got tag 0x${tlv.tag.toString(16)}`);
    n = readBigInt(value, tlv, 'serial');
  } catch (err) {
    if (isProvenanceError(err) && err.code.startsWith('DER_')) {
      malformed(oid, `serial: ${err.message}`);
    }
    throw err;
  }
  if (n <= 0n || n > MAX_SERIAL) malformed(oid, `serial ${n} is outside 1..${MAX_SERIAL}`);
  return n.toString();
}

const PIN_POLICIES: Readonly<Record<number, YubiKeyPinPolicy>> = {
  0: 'default',
  32: 'default',
  1: 'never',
  2: 'once',
  3: 'always',
  4: 'match-once',
  5: 'match-always',
};

const TOUCH_POLICIES: Readonly<Record<number, YubiKeyTouchPolicy>> = {
  0: 'default',
  32: 'default',
  1: 'never',
  2: 'always',
  3: 'cached',
};

/** `.3.8` policies: exactly 2 raw bytes [pin][touch]. */
export function decodePolicies(value: Uint8Array): YubiKeyPolicies {
  exactLength(YUBICO_OID.policy, value, 2, 'PIN/touch policy');
  const pin = value[0]!;
  const touch = value[1]!;
  return {
    pinPolicy: PIN_POLICIES[pin] ?? 'unknown',
    touchPolicy: TOUCH_POLICIES[touch] ?? 'unknown',
    pinPolicyRaw: pin,
    touchPolicyRaw: touch,
  };
}

const FORM_FACTORS: readonly YubiKeyFormFactor['formFactor'][] = [
  'unspecified',
  'usb-a-keychain',
  'usb-a-nano',
  'usb-c-keychain',
  'usb-c-nano',
  'usb-c-lightning',
  'usb-a-bio',
  'usb-c-bio',
];

/** `.3.9` form factor: exactly 1 raw byte; low 6 bits name it (ykman yubikit/management.py). */
export function decodeFormFactor(value: Uint8Array): YubiKeyFormFactor {
  exactLength(YUBICO_OID.formFactor, value, 1, 'form factor');
  const raw = value[0]!;
  return {
    formFactor: FORM_FACTORS[raw & 0x3f] ?? 'unknown',
    fipsSeries: (raw & 0x80) !== 0,
    securityKeySeries: (raw & 0x40) !== 0,
    raw,
  };
}

/**
 * A display name from firmware major and form factor ("YubiKey 5 NFC"). The attestation says
 * nothing about NFC on USB-C keys, so those read "YubiKey 5C"; treat the result as display data.
 */
export function modelName(firmware: string | undefined, ff: YubiKeyFormFactor | undefined): string {
  const major = firmware?.split('.')[0];
  const series = major === undefined ? 'YubiKey' : `YubiKey ${major}`;
  const fips = ff?.fipsSeries ? ' FIPS' : '';
  switch (ff?.formFactor) {
    case 'usb-a-keychain':
      return major === '5' ? `YubiKey 5 NFC${fips}` : `${series}${fips}`;
    case 'usb-a-nano':
      return `${series} Nano${fips}`;
    case 'usb-c-keychain':
      return `${series}C${fips}`;
    case 'usb-c-nano':
      return `${series}C Nano${fips}`;
    case 'usb-c-lightning':
      return `${series}Ci${fips}`;
    case 'usb-a-bio':
    case 'usb-c-bio':
      return `YubiKey Bio${fips}`;
    default:
      return `${series}${fips}`;
  }
}
