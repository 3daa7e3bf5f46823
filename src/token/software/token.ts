/**
 * The software reference token: a file-backed Attester. Private keys are made inside it, kept
 * encrypted under the PIN (see token-file.ts), used through Signers built here, and never
 * returned by any method.
 *
 * Policies, as a real token enforces them, and what a file can and cannot do:
 * - PIN: the encrypted state opens only with the PIN, so *every* private-key operation needs
 *   the PIN once per session (a SoftwareToken instance), whatever the key's PIN policy. A
 *   device keeps never-PIN keys under a device-bound key; a file has no such place, so
 *   `never` is what the token *attests* (and what a hardware token would enforce), while this
 *   reference token still needs the PIN to open its file. `once`: the session's PIN suffices.
 *   `always`: the PIN is asked and checked again before each use of the key.
 * - Retry counter: 8 tries; a try is recorded in the file *before* the PIN is checked (so
 *   killing the process mid-check does not give a free guess) and reset on success; at 0 the
 *   token is locked (TOKEN_LOCKED) for good. A wrong PIN throws TOKEN_PIN_INCORRECT with
 *   `details.retriesLeft`.
 * - Touch: `never`; `cached` (a confirmation holds for 15 s, per key, per session); `always`.
 *   Confirmed through the injected `confirmTouch` callback; none, or a refusal, throws
 *   TOKEN_USER_PRESENCE_DENIED.
 *
 * @example
 * const token = await SoftwareToken.open('alice.token', { files: nodeFileAccess(), clock: systemClock,
 *   pin: () => process.env.PROVENANCE_PIN ?? '' });
 * const key = await token.generateKey({ label: 'signing', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'never' });
 * const evidence = await token.attest('signing', nonce);   // [certificate of provenance, attestation cert, ...]
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { bytesEqual } from '../../core/bytes.js';
import type { Clock } from '../../core/clock.js';
import { fail, isProvenanceError, ProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { type Certificate, parseCertificate } from '../../pki/certificate.js';
import { buildCsr } from '../../pki/csr.js';
import { encodeName } from '../../pki/name.js';
import { signerFromKeyObject } from '../../pki/signer.js';
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
import { buildCertificateOfProvenance, checkNonce } from './certificate-of-provenance.js';
import type { FileAccess } from './file-access.js';
import { generateKeyPair, isKeyAlgorithm, keyAlgorithmOf, spkiOf } from './key-algorithms.js';
import {
  checkKdfCost,
  DEFAULT_KDF_COST,
  derivePinKeys,
  KDF_FLOOR_LOG2N,
  newKdfParams,
  pinCheckMatches,
} from './pin-kdf.js';
import {
  DEFAULT_MAX_PIN_RETRIES,
  LABEL_PATTERN,
  MAX_TOKEN_FILE_BYTES,
  MAX_TOKEN_KEYS,
  openBody,
  parseTokenFile,
  sealBody,
  serializeTokenFile,
  type TokenFile,
  type TokenHeader,
  type TokenSecrets,
} from './token-file.js';

/** How long a `cached` touch confirmation holds (YubiKey's cached touch policy: 15 s). */
export const TOUCH_CACHE_MS = 15_000;
/** PIN length bounds (PIV asks for 6..8; we allow passphrase-like PINs too). */
export const MIN_PIN_LENGTH = 6;
/** Longest PIN accepted, in characters. */
export const MAX_PIN_LENGTH = 64;

const PIN_POLICIES: readonly PinPolicy[] = ['never', 'once', 'always'];
const TOUCH_POLICIES: readonly TouchPolicy[] = ['never', 'cached', 'always'];

/** Why the token asks for the PIN. */
export interface PinRequest {
  /** 'unlock': open the encrypted state; 'key-use': an always-PIN key is about to be used. */
  readonly reason: 'unlock' | 'key-use';
  /** The key about to be used, for 'key-use'. */
  readonly label?: string;
  readonly retriesLeft: number;
}

/** Supplies the PIN when the token needs it (a prompt, an environment variable, a test value). */
export type PinSource = (request: PinRequest) => Promise<string> | string;

/** What a token may touch: injected, never global. */
export interface SoftwareTokenOptions {
  readonly files: FileAccess;
  readonly clock: Clock;
  readonly pin: PinSource;
  /** Confirm user presence; absent means no touch can be given. */
  readonly confirmTouch?: (message: string) => Promise<boolean>;
  /**
   * Lowest scrypt cost (log2 N) accepted in a token file. Default 15, the production cost;
   * tests may lower it (never below 10) to stay fast.
   */
  readonly minKdfLog2N?: number;
}

/** A per-token attestation key: made inside the token, its SPKI certified by the maker. */
export interface PerTokenAttestation {
  readonly kind: 'per-token';
  readonly algorithm: KeyAlgorithm;
  /** Certify the new attestation key: returns [attestation certificate, ...issuers up to the root] (DER). */
  readonly certify: (spki: Uint8Array) => Promise<readonly Uint8Array[]> | readonly Uint8Array[];
}

/** A batch attestation key, shared by many tokens, installed by the maker with its chain. */
export interface BatchAttestation {
  readonly kind: 'batch';
  readonly privateKey: KeyObject;
  /** [batch certificate, ...issuers up to the root] (DER). */
  readonly chain: readonly Uint8Array[];
}

/** What personalisation writes into a new token. */
export interface PersonalisationOptions {
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  /** The maker's name (display only). */
  readonly maker: string;
  /** The PIN the new token is set to. */
  readonly newPin: string;
  /** null makes a token without attestation (TOKEN_NOT_PERSONALISED on attest). */
  readonly attestation: PerTokenAttestation | BatchAttestation | null;
  /** scrypt cost; default N = 2^15, r = 8, p = 1. Lower only in tests (with minKdfLog2N). */
  readonly kdfCost?: { readonly log2N: number; readonly r: number; readonly p: number };
  readonly maxPinRetries?: number;
  /** Replace an existing file at the path (default: refuse with USAGE). */
  readonly overwrite?: boolean;
}

/** The unlocked state of one session. Held in a private field, never returned. */
interface Session {
  readonly encryptionKey: Buffer;
  readonly attestationKey: KeyObject | null;
  readonly keys: Map<string, KeyObject>;
}

/**
 * A software token stored in one file. Create it with `SoftwareToken.create` (personalisation,
 * done by the maker tooling) or open an existing one with `SoftwareToken.open`.
 *
 * @example
 * const token = await SoftwareToken.open(path, { files, clock, pin: () => '123456' });
 * const csr = await token.signCsr({ label: 'signing', subject: 'CN=Alice', nonce });
 */
export class SoftwareToken implements Attester {
  readonly path: string;
  #file: TokenFile;
  #session: Session | null = null;
  readonly #options: SoftwareTokenOptions;
  readonly #touchedAt = new Map<string, number>();

  private constructor(path: string, file: TokenFile, options: SoftwareTokenOptions, session: Session | null) {
    this.path = path;
    this.#file = file;
    this.#options = options;
    this.#session = session;
  }

  /**
   * Open a token file (reads the public header only; the PIN is asked when a key is used).
   * Throws IO_ERROR when the file is missing, TOKEN_FILE_INVALID when it is not a token or
   * its scrypt cost is below the floor.
   */
  static async open(path: string, options: SoftwareTokenOptions): Promise<SoftwareToken> {
    const file = await readTokenFile(path, options);
    return new SoftwareToken(path, file, options, null);
  }

  /**
   * Personalise a new token at `path`: generate (or install) the attestation key, set the PIN,
   * write the file. Returns the token, already unlocked for this session.
   *
   * @example
   * const token = await SoftwareToken.create(path, { files, clock, pin: () => '123456' },
   *   { model: 'Gemalto .NET Card', serial: '0001', firmware: '1.0.0', maker: 'Gemalto NV',
   *     newPin: '123456', attestation: { kind: 'per-token', algorithm: 'p256', certify } });
   */
  static async create(
    path: string,
    options: SoftwareTokenOptions,
    personal: PersonalisationOptions,
  ): Promise<SoftwareToken> {
    checkText('model', personal.model, 128);
    checkText('serial', personal.serial, 64);
    checkText('firmware', personal.firmware, 32);
    checkText('maker', personal.maker, 128);
    checkPin(personal.newPin);
    const maxRetries = personal.maxPinRetries ?? DEFAULT_MAX_PIN_RETRIES;
    if (!Number.isInteger(maxRetries) || maxRetries < 1 || maxRetries > 32)
      fail('USAGE', 'maxPinRetries must be an integer from 1 to 32');
    const cost = personal.kdfCost ?? DEFAULT_KDF_COST;
    checkKdfCost(cost, options.minKdfLog2N ?? KDF_FLOOR_LOG2N);
    if (!personal.overwrite && (await options.files.exists(path)))
      fail('USAGE', `${path} exists: refusing to overwrite a token (use --force to replace it)`, { path });

    let attestationKey: KeyObject | null = null;
    let attestation: TokenHeader['attestation'] = null;
    if (personal.attestation?.kind === 'per-token') {
      const pair = await generateKeyPair(personal.attestation.algorithm);
      attestationKey = pair.privateKey;
      const chain = [...(await personal.attestation.certify(pair.spki))];
      checkAttestationChain(chain, pair.spki);
      attestation = { kind: 'per-token', chain };
    } else if (personal.attestation?.kind === 'batch') {
      const key = personal.attestation.privateKey;
      if (key.type !== 'private' || keyAlgorithmOf(key) === null)
        fail('USAGE', 'the batch attestation key is not a private key of a supported algorithm');
      attestationKey = key;
      const chain = [...personal.attestation.chain];
      checkAttestationChain(chain, spkiOf(key));
      attestation = { kind: 'batch', chain };
    }

    const kdf = newKdfParams(cost);
    const { encryptionKey, pinCheck } = await derivePinKeys(personal.newPin, kdf);
    const header: TokenHeader = {
      model: personal.model,
      serial: personal.serial,
      firmware: personal.firmware,
      maker: personal.maker,
      createdAt: new Date(options.clock()).toISOString(),
      attestation,
      keys: [],
      pin: { maxRetries, kdf, check: pinCheck },
    };
    const session: Session = { encryptionKey, attestationKey, keys: new Map() };
    const file: TokenFile = {
      header,
      state: { pinRetriesLeft: maxRetries },
      body: sealBody(secretsOf(session), header, encryptionKey),
    };
    await options.files.writeFileAtomic(path, serializeTokenFile(file), { mode: 0o600 });
    return new SoftwareToken(path, file, options, session);
  }

  /** Public facts about the token (no PIN needed). */
  async info(): Promise<TokenInfo> {
    const { header, state } = this.#file;
    return {
      model: header.model,
      serial: header.serial,
      firmware: header.firmware,
      attestation: header.attestation?.kind ?? 'none',
      pinRetriesLeft: state.pinRetriesLeft,
      locked: state.pinRetriesLeft === 0,
    };
  }

  /** The maker's name recorded at personalisation (display only). */
  get maker(): string {
    return this.#file.header.maker;
  }

  /** The attestation chain as the maker installed it: [attestation certificate, ..., root] (DER). */
  attestationChain(): Uint8Array[] {
    return (this.#file.header.attestation?.chain ?? []).map((c) => Uint8Array.from(c));
  }

  /** The keys on the token: labels, algorithms, policies, public keys (no PIN needed). */
  async listKeys(): Promise<KeyInfo[]> {
    return this.#file.header.keys.map(copyKeyInfo);
  }

  /**
   * Generate a key inside the token (needs the PIN). Labels are unique: TOKEN_KEY_EXISTS.
   *
   * @example
   * await token.generateKey({ label: 'signing', algorithm: 'p256', pinPolicy: 'once', touchPolicy: 'cached' });
   */
  async generateKey(options: GenerateKeyOptions): Promise<KeyInfo> {
    const { label, algorithm, pinPolicy, touchPolicy } = options;
    if (typeof label !== 'string' || !LABEL_PATTERN.test(label))
      fail('USAGE', 'a key label is 1 to 64 characters: letters, digits, space and . _ @ + - (not first)', {
        label,
      });
    if (!isKeyAlgorithm(algorithm)) fail('USAGE', `unknown key algorithm ${String(algorithm)}`);
    if (!PIN_POLICIES.includes(pinPolicy)) fail('USAGE', `unknown PIN policy ${String(pinPolicy)}`);
    if (!TOUCH_POLICIES.includes(touchPolicy)) fail('USAGE', `unknown touch policy ${String(touchPolicy)}`);
    if (this.#file.header.keys.some((k) => k.label === label))
      fail('TOKEN_KEY_EXISTS', `the token already has a key labelled "${label}"`, { label });
    if (this.#file.header.keys.length >= MAX_TOKEN_KEYS)
      fail('USAGE', `the token holds at most ${MAX_TOKEN_KEYS} keys`);
    await this.#unlock();
    // The unlock re-read the file: another process may have added the label meanwhile.
    if (this.#file.header.keys.some((k) => k.label === label))
      fail('TOKEN_KEY_EXISTS', `the token already has a key labelled "${label}"`, { label });

    const pair = await generateKeyPair(algorithm);
    const info: KeyInfo = {
      label,
      algorithm,
      pinPolicy,
      touchPolicy,
      spki: pair.spki,
      createdAt: new Date(this.#options.clock()).toISOString(),
    };
    const session = this.#requireSession();
    const header: TokenHeader = { ...this.#file.header, keys: [...this.#file.header.keys, info] };
    const keys = new Map(session.keys).set(label, pair.privateKey);
    const next: Session = { ...session, keys };
    const file: TokenFile = {
      header,
      state: this.#file.state,
      body: sealBody(secretsOf(next), header, session.encryptionKey),
    };
    await this.#write(file);
    this.#session = next;
    return copyKeyInfo(info);
  }

  /**
   * Evidence for a key: [certificate of provenance, attestation certificate, ...up to the root]
   * (DER). The nonce (8..64 bytes) is bound into the certificate of provenance.
   *
   * @example
   * const [provenance, ...chain] = await token.attest('signing', randomBytes(32));
   */
  async attest(label: string, nonce: Uint8Array): Promise<Uint8Array[]> {
    checkNonce(nonce);
    const key = this.#keyInfo(label);
    this.#requireAttestation();
    await this.#unlock();
    return this.#evidence(key, nonce);
  }

  /**
   * A PKCS#10 request signed by the key, carrying the attestation (id-aa-attestation: the
   * certificate of provenance as a statement, the chain as certs) and the nonce attribute.
   * Applies the key's PIN and touch policies.
   *
   * @example
   * const der = await token.signCsr({ label: 'signing', subject: 'CN=Alice', nonce });
   */
  async signCsr(options: CsrOptions): Promise<Uint8Array> {
    checkNonce(options.nonce);
    const key = this.#keyInfo(options.label);
    this.#requireAttestation();
    const subject = encodeName(options.subject);
    const privateKey = await this.#authorizeUse(key, 'sign a certification request');
    const [provenance, ...chain] = this.#evidence(key, options.nonce);
    return buildCsr({
      subject,
      signer: signerFromKeyObject(privateKey),
      attestation: {
        statements: [{ type: OID.provenanceStatementType, stmt: provenance! }],
        certificates: chain,
      },
      nonce: options.nonce,
    });
  }

  /**
   * Sign `data` with the key (ECDSA with the curve's hash, DER-encoded; Ed25519; RSA PKCS#1
   * v1.5 with SHA-256). Applies the key's PIN and touch policies.
   */
  async sign(label: string, data: Uint8Array): Promise<Uint8Array> {
    const key = this.#keyInfo(label);
    const privateKey = await this.#authorizeUse(key, 'sign data');
    return signerFromKeyObject(privateKey).sign(data).signature;
  }

  // --- internals -------------------------------------------------------------------------------

  #keyInfo(label: string): KeyInfo {
    const key = this.#file.header.keys.find((k) => k.label === label);
    if (!key) return fail('TOKEN_KEY_NOT_FOUND', `no key labelled "${label}" on the token`, { label });
    return key;
  }

  #requireAttestation(): NonNullable<TokenHeader['attestation']> {
    const a = this.#file.header.attestation;
    if (!a) return fail('TOKEN_NOT_PERSONALISED', 'the token has no attestation key');
    return a;
  }

  #requireSession(): Session {
    if (!this.#session) return fail('INTERNAL', 'the token is not unlocked');
    return this.#session;
  }

  #evidence(key: KeyInfo, nonce: Uint8Array): Uint8Array[] {
    const attestation = this.#requireAttestation();
    const session = this.#requireSession();
    if (!session.attestationKey) return fail('TOKEN_NOT_PERSONALISED', 'the token has no attestation key');
    const chain = attestation.chain.map((c) => Uint8Array.from(c));
    const provenance = buildCertificateOfProvenance({
      issuerKey: session.attestationKey,
      issuerCertificate: parseCertificate(chain[0]!),
      attestationKind: attestation.kind,
      key,
      nonce,
      token: {
        model: this.#file.header.model,
        serial: this.#file.header.serial,
        firmware: this.#file.header.firmware,
      },
    });
    return [provenance, ...chain];
  }

  /** Unlock if needed, then apply the key's PIN and touch policies. Returns the private key. */
  async #authorizeUse(key: KeyInfo, purpose: string): Promise<KeyObject> {
    const verifiedNow = await this.#unlock();
    // PIN policy 'always': a fresh PIN check for each use (the unlock for this call counts).
    if (key.pinPolicy === 'always' && !verifiedNow)
      await this.#verifyPin({ reason: 'key-use', label: key.label });
    await this.#confirmPresence(key, purpose);
    const privateKey = this.#requireSession().keys.get(key.label);
    if (!privateKey) return fail('TOKEN_FILE_INVALID', `the encrypted state has no key "${key.label}"`);
    return privateKey;
  }

  async #confirmPresence(key: KeyInfo, purpose: string): Promise<void> {
    if (key.touchPolicy === 'never') return;
    const now = this.#options.clock();
    const last = this.#touchedAt.get(key.label);
    if (key.touchPolicy === 'cached' && last !== undefined && now >= last && now - last < TOUCH_CACHE_MS)
      return;
    const confirm = this.#options.confirmTouch;
    if (!confirm)
      fail('TOKEN_USER_PRESENCE_DENIED', `key "${key.label}" needs a touch and no touch can be asked for`, {
        label: key.label,
      });
    const ok = await confirm(`Key "${key.label}" on ${this.#file.header.model} is about to ${purpose}.`);
    if (ok !== true)
      fail('TOKEN_USER_PRESENCE_DENIED', `the touch for key "${key.label}" was refused`, {
        label: key.label,
      });
    this.#touchedAt.set(key.label, this.#options.clock());
  }

  /** Open the encrypted state once per session. Resolves true when the PIN was checked now. */
  async #unlock(): Promise<boolean> {
    if (this.#session) return false;
    await this.#verifyPin({ reason: 'unlock' });
    return true;
  }

  /**
   * Check the PIN against the file on disk and (re)open the encrypted state.
   * Order matters: the try is written down before the PIN is checked.
   */
  async #verifyPin(request: { reason: PinRequest['reason']; label?: string }): Promise<void> {
    // Re-read: another process may have used a try, or changed the token, since we opened it.
    const current = await readTokenFile(this.path, this.#options);
    this.#file = current;
    const left = current.state.pinRetriesLeft;
    if (left === 0) fail('TOKEN_LOCKED', 'the token is locked after too many wrong PINs', { retriesLeft: 0 });
    const pin = await this.#options.pin({ ...request, retriesLeft: left });
    checkPin(pin);
    const counted: TokenFile = { ...current, state: { pinRetriesLeft: left - 1 } };
    await this.#write(counted);

    const keys = await derivePinKeys(pin, current.header.pin.kdf);
    if (!pinCheckMatches(keys.pinCheck, current.header.pin.check)) {
      keys.encryptionKey.fill(0);
      if (left - 1 === 0)
        fail('TOKEN_LOCKED', 'wrong PIN: no tries are left and the token is now locked', { retriesLeft: 0 });
      fail('TOKEN_PIN_INCORRECT', `wrong PIN: ${left - 1} ${left - 1 === 1 ? 'try' : 'tries'} left`, {
        retriesLeft: left - 1,
      });
    }
    // The PIN is right: from here a failure means the file was tampered with.
    const session = openSession(current, keys.encryptionKey);
    await this.#write({ ...current, state: { pinRetriesLeft: current.header.pin.maxRetries } });
    this.#session?.encryptionKey.fill(0);
    this.#session = session;
  }

  async #write(file: TokenFile): Promise<void> {
    await this.#options.files.writeFileAtomic(this.path, serializeTokenFile(file), { mode: 0o600 });
    this.#file = file;
  }
}

// --- helpers -----------------------------------------------------------------------------------

async function readTokenFile(path: string, options: SoftwareTokenOptions): Promise<TokenFile> {
  const bytes = await options.files.readFile(path, MAX_TOKEN_FILE_BYTES);
  if (bytes === null) return fail('IO_ERROR', `no token file at ${path}`, { path });
  const file = parseTokenFile(bytes);
  // A cheap KDF makes offline guessing cheap: refuse files below the floor (tests may lower it).
  checkKdfCost(file.header.pin.kdf, options.minKdfLog2N ?? KDF_FLOOR_LOG2N);
  return file;
}

/** Decrypt the body and check it against the header: same keys, same public keys. */
function openSession(file: TokenFile, encryptionKey: Buffer): Session {
  const secrets = openBody(file, encryptionKey);
  const { header } = file;
  const importKey = (pkcs8: Uint8Array, what: string): KeyObject => {
    try {
      return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw new ProvenanceError('TOKEN_FILE_INVALID', `${what} does not decode`, {}, { cause: err });
    }
  };
  if (secrets.keys.length !== header.keys.length)
    fail('TOKEN_FILE_INVALID', 'the encrypted state and the header list different keys');
  const keys = new Map<string, KeyObject>();
  for (const info of header.keys) {
    const stored = secrets.keys.find((k) => k.label === info.label);
    if (!stored) return fail('TOKEN_FILE_INVALID', `the encrypted state has no key "${info.label}"`);
    const key = importKey(stored.pkcs8, `key "${info.label}"`);
    // Defence in depth: the AAD already binds the header; check each SPKI against its key anyway.
    if (!bytesEqual(spkiOf(key), info.spki) || keyAlgorithmOf(key) !== info.algorithm)
      fail('TOKEN_FILE_INVALID', `key "${info.label}" does not match its public key in the header`);
    keys.set(info.label, key);
  }
  let attestationKey: KeyObject | null = null;
  if (header.attestation) {
    if (!secrets.attestationKey) return fail('TOKEN_FILE_INVALID', 'the attestation key is missing');
    attestationKey = importKey(secrets.attestationKey, 'the attestation key');
    const cert = parseCertificate(header.attestation.chain[0]!);
    if (!bytesEqual(spkiOf(attestationKey), cert.spki))
      fail('TOKEN_FILE_INVALID', 'the attestation key does not match its certificate');
  } else if (secrets.attestationKey) {
    fail('TOKEN_FILE_INVALID', 'the encrypted state holds an attestation key the header does not list');
  }
  return { encryptionKey, attestationKey, keys };
}

function secretsOf(session: Session): TokenSecrets {
  const der = (k: KeyObject) => new Uint8Array(k.export({ type: 'pkcs8', format: 'der' }));
  return {
    attestationKey: session.attestationKey ? der(session.attestationKey) : null,
    keys: [...session.keys].map(([label, key]) => ({ label, pkcs8: der(key) })),
  };
}

/**
 * The maker's chain must start with a certificate for the attestation key that can issue
 * certificates of provenance and nothing below them: CA, pathLen 0, keyCertSign
 * (ARCHITECTURE.md "token attestation certificate"; RFC 5280 §4.2.1.9, §4.2.1.3).
 */
function checkAttestationChain(chain: readonly Uint8Array[], spki: Uint8Array): void {
  if (chain.length === 0 || chain.length > 8)
    fail('USAGE', 'the attestation chain must hold 1 to 8 certificates');
  let leaf: Certificate;
  try {
    leaf = parseCertificate(chain[0]!);
    for (const c of chain.slice(1)) parseCertificate(c);
  } catch (err) {
    if (isProvenanceError(err))
      throw new ProvenanceError(
        'USAGE',
        `the attestation chain does not parse: ${err.message}`,
        {},
        { cause: err },
      );
    throw err;
  }
  if (!bytesEqual(leaf.spki, spki))
    fail('USAGE', "the attestation certificate does not certify the token's key");
  const bc = leaf.basicConstraints;
  if (!bc?.ca || bc.pathLen !== 0 || leaf.keyUsage === null || !leaf.allowsKeyUsage('keyCertSign'))
    fail('USAGE', 'the attestation certificate must be a CA with pathLen 0 and keyUsage keyCertSign');
}

function checkPin(pin: unknown): asserts pin is string {
  if (typeof pin !== 'string') fail('USAGE', 'the PIN must be a string');
  const length = [...pin].length;
  if (length < MIN_PIN_LENGTH || length > MAX_PIN_LENGTH || /[\x00-\x1f\x7f]/.test(pin))
    fail('USAGE', `a PIN is ${MIN_PIN_LENGTH} to ${MAX_PIN_LENGTH} printable characters`);
}

function checkText(field: string, value: string, max: number): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || /[\x00-\x1f\x7f]/.test(value))
    fail('USAGE', `${field} must be 1 to ${max} printable characters`, { field });
}

function copyKeyInfo(k: KeyInfo): KeyInfo {
  return { ...k, spki: Uint8Array.from(k.spki) };
}
