/**
 * A recorded fake of `ykman` and `yubico-piv-tool` for the YubiKey driver tests: it answers
 * the command lines the driver sends the way the tools do (output shapes as in ykman 5.x and
 * yubico-piv-tool 2.x), keeps the keys in memory, and records every call so a test can compare
 * the transcript. The Yubico-like PKI is made with the repo's test builders, not copied from
 * a device.
 */
import { type KeyObject, sign } from 'node:crypto';
import { der } from '../../../src/core/der-writer.js';
import { encodePem } from '../../../src/core/pem.js';
import type { Runner, RunResult } from '../../../src/token/yubikey/runner.js';
import { slotExtensions } from '../../formats/yubikey-piv/fixtures.js';
import { ecKey, issue, rsaKey, type TestCert, type TestKey } from '../../helpers/pki.js';

export interface Call {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly stdin?: Uint8Array;
}

const enc = new TextEncoder();

const PIN_BYTE: Record<string, number> = { NEVER: 1, ONCE: 2, ALWAYS: 3 };
const TOUCH_BYTE: Record<string, number> = { NEVER: 1, ALWAYS: 2, CACHED: 3 };

function ok(stdout: string | Uint8Array): RunResult {
  return { code: 0, stdout: typeof stdout === 'string' ? enc.encode(stdout) : stdout, stderr: '' };
}

function err(stderr: string, code = 1): RunResult {
  return { code, stdout: new Uint8Array(0), stderr };
}

export class FakeYubiKey {
  readonly calls: Call[] = [];
  readonly root: TestCert;
  readonly f9: TestCert;
  readonly slots = new Map<string, { key: TestKey; pin: number; touch: number; alg: string }>();
  pin = '123456';
  triesLeft = 3;
  /** The next sign answers with this key instead of the slot's (a broken tool). */
  signWith: KeyObject | undefined;

  constructor(
    readonly firmware: readonly [number, number, number] = [5, 4, 3],
    readonly serial = 15732500,
  ) {
    this.root = issue({ subject: 'Fake Yubico PIV Root CA', key: ecKey(), ca: { pathLen: 1 } });
    this.f9 = issue({
      subject: 'Yubico PIV Attestation',
      key: ecKey(),
      issuer: this.root,
      ca: { pathLen: 0 },
      noSki: true,
      noAki: true,
    });
  }

  readonly runner: Runner = async (cmd, args, stdin) => {
    this.calls.push({ cmd, args: [...args], ...(stdin ? { stdin } : {}) });
    if (cmd === 'ykman') return this.#ykman(args);
    if (cmd === 'yubico-piv-tool') return this.#pivTool(args, stdin);
    return err(`${cmd}: not found`, 127);
  };

  /** The transcript as command lines, PIN masked. */
  transcript(): string[] {
    return this.calls.map((c) => [c.cmd, ...c.args].join(' ').replace(`-P ${this.pin}`, '-P ******'));
  }

  #ykman(args: readonly string[]): RunResult {
    const a = args[0] === '--device' ? args.slice(2) : args;
    const line = a.join(' ');
    if (line === 'info') {
      return ok(
        `Device type: YubiKey 5 NFC\nSerial number: ${this.serial}\nFirmware version: ${this.firmware.join('.')}\nForm factor: Keychain (USB-A)\nEnabled USB interfaces: OTP, FIDO, CCID\nNFC transport is enabled\n`,
      );
    }
    if (line === 'piv info')
      return ok(
        `PIV version:              ${this.firmware.join('.')}\nPIN tries remaining:      ${this.triesLeft}/3\n`,
      );
    if (line === 'piv certificates export f9 -') return ok(encodePem('CERTIFICATE', this.f9.der));
    if (a[0] === 'piv' && a[1] === 'keys' && a[2] === 'attest') {
      const slot = this.slots.get(a[3]!);
      if (!slot) return err('Error: Attestation failed.\n');
      const cert = issue({
        subject: `YubiKey PIV Attestation ${a[3]}`,
        key: slot.key,
        issuer: this.f9,
        noSki: true,
        noAki: true,
        extensions: slotExtensions({
          firmware: [...this.firmware],
          serial: der.int(this.serial),
          policy: [slot.pin, slot.touch],
          formFactor: [0x01],
        }),
      });
      return ok(encodePem('CERTIFICATE', cert.der));
    }
    if (a[0] === 'piv' && a[1] === 'keys' && a[2] === 'generate') {
      const opt = (name: string) => a[a.indexOf(name) + 1]!;
      const pinIdx = a.indexOf('--pin');
      if (pinIdx >= 0 && a[pinIdx + 1] !== this.pin)
        return err(`Error: PIN verification failed, ${--this.triesLeft} tries left.\n`);
      const alg = opt('--algorithm');
      const key =
        alg === 'ECCP256'
          ? ecKey()
          : alg === 'ECCP384'
            ? ecKey('P-384')
            : alg === 'RSA2048'
              ? rsaKey(2048)
              : null;
      if (!key) return err(`Error: Invalid value for '-a' / '--algorithm': '${alg}'\n`, 2);
      const slot = a.at(-2)!;
      this.slots.set(slot, {
        key,
        alg,
        pin: PIN_BYTE[opt('--pin-policy')]!,
        touch: TOUCH_BYTE[opt('--touch-policy')]!,
      });
      return ok(encodePem('PUBLIC KEY', key.spki));
    }
    return err(`Error: No such command '${line}'.\n`, 2);
  }

  #pivTool(args: readonly string[], stdin?: Uint8Array): RunResult {
    const get = (flag: string) => args[args.indexOf(flag) + 1];
    if (this.triesLeft === 0) return err('Failed verifying pin. PIN is blocked.\n');
    if (get('-P') !== this.pin) {
      this.triesLeft--;
      return err(`Pin verification failed, ${this.triesLeft} tries left before pin is blocked.\n`);
    }
    const slot = this.slots.get(get('-s')!);
    if (!slot) return err('Failed signing data.\n');
    const hash = get('-H')!.toLowerCase();
    const signature = sign(
      hash,
      Buffer.from(stdin ?? new Uint8Array(0)),
      this.signWith ?? slot.key.privateKey,
    );
    return ok(new Uint8Array(signature));
  }
}
