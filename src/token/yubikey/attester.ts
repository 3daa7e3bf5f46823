/**
 * A YubiKey PIV driver implementing Attester (src/token/attester.ts) over `ykman` and
 * `yubico-piv-tool` subprocesses, through an injected Runner (docs/yubikey.md).
 *
 * - Labels are PIV slots: '9a', '9c', '9d', '9e', '82'..'95' (the key never leaves the slot).
 * - generateKey: `ykman piv keys generate --algorithm … --pin-policy … --touch-policy … SLOT -`.
 * - attest: `ykman piv keys attest SLOT -` plus `ykman piv certificates export f9 -`: the slot
 *   attestation certificate and the F9 certificate (DER), which the yubikey-piv format verifies.
 *   A PIV attestation has no nonce (standards.md §1.4 step 8): the nonce argument is only
 *   checked for length; freshness comes from signCsr.
 * - signCsr: ykman cannot add attributes to a CSR (`ykman piv certificates request` writes its
 *   own), so the CertificationRequestInfo is built here (attestation bundle + nonce attribute)
 *   and its bytes are signed in the slot with `yubico-piv-tool -a verify-pin -a sign`. The
 *   signature is verified locally against the attested key before the CSR is returned.
 * - info: `ykman info` and `ykman piv info`; listKeys: the standard slots that attest.
 *
 * @example
 * const yk = new YubiKeyAttester({ runner: spawnRunner(), pin: '123456' });
 * await yk.generateKey({ label: '9a', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'always' });
 * const csr = await yk.signCsr({ label: '9a', subject: 'CN=alice', nonce });
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { der } from '../../core/der-writer.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { decodePem } from '../../core/pem.js';
import {
  decodePolicies,
  decodeSlotAttestation,
  findSlotCertificate,
  YUBICO_OID,
  YUBIKEY_PIV_STATEMENT_TYPE,
} from '../../formats/yubikey-piv/index.js';
import { type Certificate, decodeExtension, parseCertificate, parseSpki } from '../../pki/certificate.js';
import { buildCsr, CSR_LIMITS, parseCsr, verifyCsrSignature } from '../../pki/csr.js';
import { describeKey } from '../../pki/keys.js';
import { encodeName } from '../../pki/name.js';
import type { Signer } from '../../pki/signer.js';
import type {
  Attester,
  CsrOptions,
  GenerateKeyOptions,
  KeyAlgorithm,
  KeyInfo,
  PinPolicy,
  TokenInfo,
  TouchPolicy,
} from '../attester.js';
import type { Runner, RunResult } from './runner.js';

/** Options of the YubiKey driver. */
export interface YubiKeyAttesterOptions {
  readonly runner: Runner;
  /** PIV PIN, for signing and for generation under a PIN-protected management key. */
  readonly pin?: string;
  /** PIV management key (hex) for generateKey; ykman's default when absent. */
  readonly managementKey?: string;
  /** Select the YubiKey by serial (ykman `--device`). */
  readonly serial?: string;
  /** Select the reader for yubico-piv-tool (`-r`, a substring of the reader name). */
  readonly reader?: string;
  /** Program names (default 'ykman', 'yubico-piv-tool'). */
  readonly ykman?: string;
  readonly pivTool?: string;
  readonly clock?: Clock;
}

/** Slots listKeys probes: the four standard PIV key slots (SP 800-73-4 Part 1 §3.1). */
export const STANDARD_SLOTS = ['9a', '9c', '9d', '9e'] as const;

const SLOT = /^(9a|9c|9d|9e|8[2-9a-f]|9[0-5])$/;

const YKMAN_ALGORITHM: Readonly<Record<KeyAlgorithm, string>> = {
  p256: 'ECCP256',
  p384: 'ECCP384',
  ed25519: 'ED25519',
  rsa2048: 'RSA2048',
  rsa3072: 'RSA3072',
};

const POLICY_ARG: Readonly<Record<PinPolicy | TouchPolicy, string>> = {
  never: 'NEVER',
  once: 'ONCE',
  always: 'ALWAYS',
  cached: 'CACHED',
};

/** The slot a label names; USAGE otherwise. */
export function slotOf(label: string): string {
  const slot = label.toLowerCase();
  if (!SLOT.test(slot)) fail('USAGE', `"${label}" is not a PIV slot: use 9a, 9c, 9d, 9e or 82-95`, { label });
  return slot;
}

/** The key algorithm of an SPKI in the Attester's vocabulary. */
function keyAlgorithmOf(spki: Uint8Array): KeyAlgorithm {
  const k = describeKey(spki);
  if (k.keyAlgorithm === 'ec-p256') return 'p256';
  if (k.keyAlgorithm === 'ec-p384') return 'p384';
  if (k.keyAlgorithm === 'ed25519') return 'ed25519';
  if (k.keyAlgorithm === 'rsa' && k.keySize === 2048) return 'rsa2048';
  if (k.keyAlgorithm === 'rsa' && k.keySize === 3072) return 'rsa3072';
  return fail(
    'YUBIKEY_TOOL_FAILED',
    `the slot holds a ${k.keyAlgorithm}/${k.keySize} key this driver does not use`,
  );
}

/** Signature algorithm (DER AlgorithmIdentifier) and yubico-piv-tool -A/-H for a key. */
function signatureFor(algorithm: KeyAlgorithm): { alg: Uint8Array; tool: string; hash: string } {
  switch (algorithm) {
    case 'p256':
      return { alg: der.seq(der.oid(OID.ecdsaWithSHA256)), tool: 'ECCP256', hash: 'SHA256' };
    case 'p384':
      return { alg: der.seq(der.oid(OID.ecdsaWithSHA384)), tool: 'ECCP384', hash: 'SHA384' };
    case 'rsa2048':
    case 'rsa3072':
      // RFC 4055 §5: sha256WithRSAEncryption with NULL parameters.
      return {
        alg: der.seq(der.oid(OID.sha256WithRSA), der.null()),
        tool: algorithm.toUpperCase(),
        hash: 'SHA256',
      };
    default:
      return fail(
        'USAGE',
        `signing with ${algorithm} through yubico-piv-tool is not supported by this driver`,
      );
  }
}

function pemBlocks(stdout: Uint8Array, label: string, what: string): Uint8Array[] {
  try {
    const blocks = decodePem(new TextDecoder().decode(stdout)).filter((b) => b.label === label);
    if (blocks.length === 0) fail('YUBIKEY_TOOL_FAILED', `${what}: no ${label} in the output`);
    return blocks.map((b) => b.der);
  } catch (err) {
    if (isProvenanceError(err) && err.code === 'PEM_MALFORMED') {
      fail('YUBIKEY_TOOL_FAILED', `${what}: unreadable output (${err.message})`);
    }
    throw err;
  }
}

/** Map a failed run to a stable code: wrong PIN, blocked PIN, no device, anything else. */
function failed(tool: string, args: readonly string[], r: RunResult): never {
  const text = r.stderr.trim();
  const detail = {
    tool,
    command: args
      .filter((a) => !/^\d{6,8}$/.test(a))
      .slice(0, 6)
      .join(' '),
    status: r.code,
  };
  // "PIN verification failed, 2 tries left before pin is blocked": wrong, not yet blocked.
  if (/\b0 tries/i.test(text) || (/pin (is )?blocked/i.test(text) && !/before pin is blocked/i.test(text))) {
    fail('TOKEN_LOCKED', `the YubiKey PIN is blocked: ${text}`, detail);
  }
  if (/tries left|wrong pin|incorrect pin|pin verification failed/i.test(text)) {
    fail('TOKEN_PIN_INCORRECT', `the YubiKey refused the PIN: ${text}`, detail);
  }
  if (/touch/i.test(text) && /timeout|timed out|not touched/i.test(text)) {
    fail('TOKEN_USER_PRESENCE_DENIED', `the YubiKey was not touched in time: ${text}`, detail);
  }
  return fail('YUBIKEY_TOOL_FAILED', `${tool} failed (exit ${r.code}): ${text || 'no message'}`, detail);
}

/** The YubiKey PIV Attester. */
export class YubiKeyAttester implements Attester {
  readonly #o: YubiKeyAttesterOptions;
  readonly #clock: Clock;

  constructor(options: YubiKeyAttesterOptions) {
    if (!options || typeof options.runner !== 'function')
      throw new TypeError('YubiKeyAttester: options.runner is required');
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  async #ykman(args: readonly string[], allowFailure = false): Promise<RunResult> {
    const full = [...(this.#o.serial ? ['--device', this.#o.serial] : []), ...args];
    const tool = this.#o.ykman ?? 'ykman';
    const r = await this.#o.runner(tool, full);
    if (r.code !== 0 && !allowFailure) failed(tool, full, r);
    return r;
  }

  /** Model, serial and firmware from `ykman info`; PIN retries from `ykman piv info`. */
  async info(): Promise<TokenInfo> {
    const text = new TextDecoder().decode((await this.#ykman(['info'])).stdout);
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(text)?.[1]?.trim();
    const piv = new TextDecoder().decode((await this.#ykman(['piv', 'info'])).stdout);
    const retries = /PIN tries remaining:\s*(\d+)/i.exec(piv)?.[1];
    const firmware = field('Firmware version');
    if (firmware === undefined) fail('YUBIKEY_TOOL_FAILED', 'ykman info printed no firmware version');
    const pinRetriesLeft = retries === undefined ? -1 : Number.parseInt(retries, 10);
    return {
      model: field('Device type') ?? 'YubiKey',
      serial: field('Serial number') ?? '',
      firmware,
      // The F9 key is per device, certified by Yubico at manufacture.
      attestation: 'per-token',
      pinRetriesLeft,
      locked: pinRetriesLeft === 0,
    };
  }

  /** The attested keys in the standard slots (an empty or imported-key slot does not attest). */
  async listKeys(): Promise<KeyInfo[]> {
    const out: KeyInfo[] = [];
    for (const slot of STANDARD_SLOTS) {
      const r = await this.#ykman(['piv', 'keys', 'attest', slot, '-'], true);
      if (r.code !== 0) continue;
      const cert = parseCertificate(pemBlocks(r.stdout, 'CERTIFICATE', `attest ${slot}`)[0]!);
      out.push(this.#keyInfo(slot, cert));
    }
    return out;
  }

  #keyInfo(slot: string, cert: Certificate): KeyInfo {
    const pol = cert.extension(YUBICO_OID.policy);
    const p = pol ? decodeExtension(pol, decodePolicies) : undefined;
    const pin = p?.pinPolicy;
    const touch = p?.touchPolicy;
    return {
      label: slot,
      algorithm: keyAlgorithmOf(cert.spki),
      pinPolicy: pin === 'never' || pin === 'always' ? pin : 'once',
      touchPolicy: touch === 'always' || touch === 'cached' ? touch : 'never',
      spki: cert.spki,
      // The attestation carries no creation time (its validity is copied from F9).
      createdAt: '',
    };
  }

  /** Generate a key in the slot with the given PIN and touch policies. */
  async generateKey(options: GenerateKeyOptions): Promise<KeyInfo> {
    const slot = slotOf(options.label);
    const args = [
      'piv',
      'keys',
      'generate',
      '--algorithm',
      YKMAN_ALGORITHM[options.algorithm],
      '--pin-policy',
      POLICY_ARG[options.pinPolicy],
      '--touch-policy',
      POLICY_ARG[options.touchPolicy],
      ...(this.#o.managementKey ? ['--management-key', this.#o.managementKey] : []),
      ...(this.#o.pin ? ['--pin', this.#o.pin] : []),
      slot,
      '-',
    ];
    const r = await this.#ykman(args);
    const spki = pemBlocks(r.stdout, 'PUBLIC KEY', 'generate')[0]!;
    parseSpki(spki);
    if (keyAlgorithmOf(spki) !== options.algorithm) {
      fail(
        'YUBIKEY_TOOL_FAILED',
        `ykman generated a ${keyAlgorithmOf(spki)} key, ${options.algorithm} was asked for`,
      );
    }
    return {
      label: slot,
      algorithm: options.algorithm,
      pinPolicy: options.pinPolicy,
      touchPolicy: options.touchPolicy,
      spki,
      createdAt: new Date(this.#clock()).toISOString(),
    };
  }

  /** [slot attestation certificate, F9 certificate] (DER). The nonce cannot be bound: see signCsr. */
  async attest(label: string, nonce: Uint8Array): Promise<Uint8Array[]> {
    checkNonce(nonce);
    const { slotCert, f9 } = await this.#evidence(slotOf(label));
    return [slotCert.der, f9.der];
  }

  async #evidence(slot: string): Promise<{ slotCert: Certificate; f9: Certificate }> {
    const a = await this.#ykman(['piv', 'keys', 'attest', slot, '-']);
    const f = await this.#ykman(['piv', 'certificates', 'export', 'f9', '-']);
    const slotCert = parseCertificate(pemBlocks(a.stdout, 'CERTIFICATE', `attest ${slot}`)[0]!);
    const f9 = parseCertificate(pemBlocks(f.stdout, 'CERTIFICATE', 'export f9')[0]!);
    // The same structural checks the verifier makes: a slot certificate issued by this F9.
    const found = findSlotCertificate([slotCert, f9]);
    const att = decodeSlotAttestation(found.slot, found.f9);
    if (att.slot !== slot) fail('YUBIKEY_TOOL_FAILED', `asked to attest slot ${slot}, got slot ${att.slot}`);
    return { slotCert, f9 };
  }

  /**
   * A PKCS#10 request signed in the slot, carrying the attestation bundle (statement of type
   * YUBIKEY_PIV_STATEMENT_TYPE, slot and F9 certificates) and the nonce attribute.
   */
  async signCsr(options: CsrOptions): Promise<Uint8Array> {
    checkNonce(options.nonce);
    const slot = slotOf(options.label);
    const { slotCert, f9 } = await this.#evidence(slot);
    const sig = signatureFor(keyAlgorithmOf(slotCert.spki));
    const template = (signer: Signer) => ({
      subject: encodeName(options.subject),
      signer,
      attestation: {
        statements: [
          { type: YUBIKEY_PIV_STATEMENT_TYPE, stmt: der.octets(Uint8Array.of(Number.parseInt(slot, 16))) },
        ],
        certificates: [slotCert.der, f9.der],
      },
      nonce: options.nonce,
    });
    // Pass 1 captures the CertificationRequestInfo (buildCsr's Signer is synchronous, the device
    // is not); pass 2 rebuilds the same bytes with the device's signature.
    let info: Uint8Array | undefined;
    buildCsr(
      template({
        spki: slotCert.spki,
        algorithm: sig.alg,
        sign: (data) => {
          info = data;
          return { algorithm: sig.alg, signature: new Uint8Array(0) };
        },
      }),
    );
    const signature = await this.#signInSlot(slot, sig, info!);
    const csr = buildCsr(
      template({
        spki: slotCert.spki,
        algorithm: sig.alg,
        sign: (data) => {
          if (Buffer.compare(data, info!) !== 0) fail('INTERNAL', 'the CSR content changed between passes');
          return { algorithm: sig.alg, signature };
        },
      }),
    );
    // Fail closed: a signature the verifier would refuse never leaves the driver.
    try {
      verifyCsrSignature(parseCsr(csr));
    } catch (err) {
      if (isProvenanceError(err, 'CSR_SIGNATURE_INVALID')) {
        fail(
          'YUBIKEY_TOOL_FAILED',
          'the signature from yubico-piv-tool does not verify under the attested key',
        );
      }
      throw err;
    }
    return csr;
  }

  /** Sign `data` with the slot key (hash and padding per the key type; see signatureFor). */
  async sign(label: string, data: Uint8Array): Promise<Uint8Array> {
    const slot = slotOf(label);
    const { slotCert } = await this.#evidence(slot);
    return this.#signInSlot(slot, signatureFor(keyAlgorithmOf(slotCert.spki)), data);
  }

  async #signInSlot(
    slot: string,
    sig: { tool: string; hash: string },
    data: Uint8Array,
  ): Promise<Uint8Array> {
    if (this.#o.pin === undefined) fail('USAGE', 'signing in a PIV slot needs the PIN (option pin)');
    const tool = this.#o.pivTool ?? 'yubico-piv-tool';
    const args = [
      ...(this.#o.reader ? ['-r', this.#o.reader] : []),
      '-a',
      'verify-pin',
      '-P',
      this.#o.pin,
      '-a',
      'sign',
      '-s',
      slot,
      '-A',
      sig.tool,
      '-H',
      sig.hash,
      '-i',
      '-',
      '-o',
      '-',
    ];
    const r = await this.#o.runner(tool, args, data);
    if (r.code !== 0) failed(tool, args, r);
    if (r.stdout.length === 0) fail('YUBIKEY_TOOL_FAILED', `${tool} returned no signature`);
    return r.stdout;
  }
}

/** The nonce bounds of the CSR nonce attribute (CSR_LIMITS). */
function checkNonce(nonce: Uint8Array): void {
  if (
    !(nonce instanceof Uint8Array) ||
    nonce.length < CSR_LIMITS.minNonceBytes ||
    nonce.length > CSR_LIMITS.maxNonceBytes
  ) {
    fail('USAGE', `the nonce must be ${CSR_LIMITS.minNonceBytes} to ${CSR_LIMITS.maxNonceBytes} bytes`);
  }
}
