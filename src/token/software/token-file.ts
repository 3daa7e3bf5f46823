/**
 * The software token's file (`TOKEN_FILE`, JSON): a public header anyone may read, the
 * mutable PIN retry state, and an encrypted body holding the private keys.
 *
 * ```text
 * {
 *   "format": "provenance-software-token", "version": 1,
 *   "header": {                                  -- public, bound as AES-GCM AAD
 *     "model", "serial", "firmware", "maker", "createdAt",
 *     "attestation": { "kind": "per-token" | "batch", "chain": PEM } | null,
 *     "keys": [ { "label", "algorithm", "pinPolicy", "touchPolicy", "spki": base64, "createdAt" } ],
 *     "pin": { "maxRetries": 8, "kdf": { "name": "scrypt", "log2N", "r", "p", "salt" }, "check": base64 }
 *   },
 *   "state": { "pinRetriesLeft": 0..maxRetries }, -- mutable without the PIN, so not bound (see below)
 *   "body": { "iv", "ciphertext", "tag" }         -- AES-256-GCM of { attestationKey, keys } (PKCS#8)
 * }
 * ```
 *
 * Why the retry counter is outside the AAD: a wrong PIN must be counted *before* the PIN is
 * checked, that is without the key, so nothing the token writes then can be authenticated. A
 * file cannot defend a counter against someone who can edit or copy the file (they can also
 * run scrypt offline); the counter bounds guessing through the token's interface, and the
 * scrypt cost bounds guessing on a stolen copy. What the AAD does catch is every edit to the
 * header: a swapped SPKI, a changed policy, label, chain, retry limit or identity.
 *
 * @example
 * const file = parseTokenFile(bytes);
 * const plaintext = openBody(file, encryptionKey);
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { fail, ProvenanceError } from '../../core/errors.js';
import { decodePem, encodePem } from '../../core/pem.js';
import type { KeyAlgorithm, KeyInfo, PinPolicy, TouchPolicy } from '../attester.js';
import { KEY_ALGORITHMS } from './key-algorithms.js';
import type { KdfParams } from './pin-kdf.js';

/** The `format` field of every token file. */
export const TOKEN_FILE_FORMAT = 'provenance-software-token';
/** The `version` field this code writes and reads. */
export const TOKEN_FILE_VERSION = 1;
/** A token file larger than this is refused before parsing. */
export const MAX_TOKEN_FILE_BYTES = 1024 * 1024;
/** Keys one token holds at most (a PIV card has 24 slots). */
export const MAX_TOKEN_KEYS = 64;
/** Certificates in the attestation chain at most. */
export const MAX_CHAIN_CERTIFICATES = 8;
/** PIN tries before the token locks (PIV's default is 3; ours is generous for a reference token). */
export const DEFAULT_MAX_PIN_RETRIES = 8;

/** Labels: short, printable, and safe to print in a terminal. */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._@+-]{0,63}$/;

/** How the token's attestation key is certified: for this unit, or shared by a batch. */
export type AttestationKind = 'per-token' | 'batch';

/** The public header (everything in it is bound to the encrypted body as AAD). */
export interface TokenHeader {
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly maker: string;
  readonly createdAt: string;
  readonly attestation: { readonly kind: AttestationKind; readonly chain: readonly Uint8Array[] } | null;
  readonly keys: readonly KeyInfo[];
  readonly pin: { readonly maxRetries: number; readonly kdf: KdfParams; readonly check: Uint8Array };
}

/** The encrypted body: AES-256-GCM IV, ciphertext and tag. */
export interface SealedBody {
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

/** A parsed token file: header, mutable retry state, encrypted body. */
export interface TokenFile {
  readonly header: TokenHeader;
  readonly state: { readonly pinRetriesLeft: number };
  readonly body: SealedBody;
}

/** The decrypted body: PKCS#8 DER of each private key. Lives only inside the token module. */
export interface TokenSecrets {
  readonly attestationKey: Uint8Array | null;
  readonly keys: readonly { readonly label: string; readonly pkcs8: Uint8Array }[];
}

// --- JSON schema -----------------------------------------------------------------------------

const b64 = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .refine((s) => s.length % 4 === 0, 'base64 length must be a multiple of 4');
const text = (max: number) => z.string().min(1).max(max);
const isoTime = z.iso.datetime();
const pinPolicy = z.enum(['never', 'once', 'always']);
const touchPolicy = z.enum(['never', 'cached', 'always']);

const headerSchema = z.strictObject({
  model: text(128),
  serial: text(64),
  firmware: text(32),
  maker: text(128),
  createdAt: isoTime,
  attestation: z
    .strictObject({
      kind: z.enum(['per-token', 'batch']),
      chain: z
        .string()
        .min(1)
        .max(128 * 1024),
    })
    .nullable(),
  keys: z
    .array(
      z.strictObject({
        label: z.string().regex(LABEL_PATTERN),
        algorithm: z.enum(KEY_ALGORITHMS as [KeyAlgorithm, ...KeyAlgorithm[]]),
        pinPolicy,
        touchPolicy,
        spki: b64(4096),
        createdAt: isoTime,
      }),
    )
    .max(MAX_TOKEN_KEYS),
  pin: z.strictObject({
    maxRetries: z.number().int().min(1).max(32),
    kdf: z.strictObject({
      name: z.literal('scrypt'),
      log2N: z.number().int(),
      r: z.number().int(),
      p: z.number().int(),
      salt: b64(64),
    }),
    check: b64(64),
  }),
});

const fileSchema = z.strictObject({
  format: z.literal(TOKEN_FILE_FORMAT),
  version: z.literal(TOKEN_FILE_VERSION),
  header: headerSchema,
  state: z.strictObject({ pinRetriesLeft: z.number().int().min(0).max(32) }),
  body: z.strictObject({ iv: b64(24), ciphertext: b64(MAX_TOKEN_FILE_BYTES), tag: b64(24) }),
});

const secretsSchema = z.strictObject({
  attestationKey: b64(16 * 1024).nullable(),
  keys: z
    .array(z.strictObject({ label: z.string().regex(LABEL_PATTERN), pkcs8: b64(16 * 1024) }))
    .max(MAX_TOKEN_KEYS),
});

type HeaderJson = z.infer<typeof headerSchema>;

function fromB64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}
function toB64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
}

function invalid(message: string, details: Record<string, unknown> = {}): never {
  return fail('TOKEN_FILE_INVALID', message, details);
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid structure';
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  return `${where}: ${issue.message}`;
}

// --- parse and serialise -----------------------------------------------------------------------

/**
 * Parse a token file strictly: JSON, exact field set, bounded sizes, a consistent retry state.
 * Throws TOKEN_FILE_INVALID (INPUT_TOO_LARGE above MAX_TOKEN_FILE_BYTES).
 */
export function parseTokenFile(bytes: Uint8Array): TokenFile {
  if (bytes.length > MAX_TOKEN_FILE_BYTES)
    fail('INPUT_TOO_LARGE', `token file of ${bytes.length} bytes exceeds ${MAX_TOKEN_FILE_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ProvenanceError('TOKEN_FILE_INVALID', 'the token file is not JSON', {}, { cause: err });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) invalid(`not a Provenance software token: ${firstIssue(parsed.error)}`);
  const f = parsed.data;
  const header = headerFromJson(f.header);
  if (f.state.pinRetriesLeft > header.pin.maxRetries)
    invalid('the PIN retry counter is above the retry limit', {
      pinRetriesLeft: f.state.pinRetriesLeft,
      maxRetries: header.pin.maxRetries,
    });
  const body = { iv: fromB64(f.body.iv), ciphertext: fromB64(f.body.ciphertext), tag: fromB64(f.body.tag) };
  if (body.iv.length !== 12 || body.tag.length !== 16)
    invalid('the encrypted state has a bad IV or tag length');
  return { header, state: { pinRetriesLeft: f.state.pinRetriesLeft }, body };
}

function headerFromJson(h: HeaderJson): TokenHeader {
  const labels = new Set<string>();
  for (const k of h.keys) {
    if (labels.has(k.label)) invalid(`two keys share the label "${k.label}"`);
    labels.add(k.label);
  }
  let attestation: TokenHeader['attestation'] = null;
  if (h.attestation) {
    let blocks: ReturnType<typeof decodePem>;
    try {
      blocks = decodePem(h.attestation.chain, MAX_CHAIN_CERTIFICATES);
    } catch (err) {
      throw new ProvenanceError(
        'TOKEN_FILE_INVALID',
        'the attestation chain is not valid PEM',
        {},
        { cause: err },
      );
    }
    if (blocks.length === 0 || blocks.some((b) => b.label !== 'CERTIFICATE'))
      invalid('the attestation chain must be one or more PEM certificates');
    attestation = { kind: h.attestation.kind, chain: blocks.map((b) => b.der) };
  }
  const salt = fromB64(h.pin.kdf.salt);
  const check = fromB64(h.pin.check);
  if (salt.length < 16 || check.length !== 32) invalid('the PIN parameters have a bad salt or check length');
  return {
    model: h.model,
    serial: h.serial,
    firmware: h.firmware,
    maker: h.maker,
    createdAt: h.createdAt,
    attestation,
    keys: h.keys.map((k) => ({
      label: k.label,
      algorithm: k.algorithm,
      pinPolicy: k.pinPolicy as PinPolicy,
      touchPolicy: k.touchPolicy as TouchPolicy,
      spki: fromB64(k.spki),
      createdAt: k.createdAt,
    })),
    pin: {
      maxRetries: h.pin.maxRetries,
      kdf: { name: 'scrypt', log2N: h.pin.kdf.log2N, r: h.pin.kdf.r, p: h.pin.kdf.p, salt },
      check,
    },
  };
}

function headerToJson(h: TokenHeader): HeaderJson {
  return {
    model: h.model,
    serial: h.serial,
    firmware: h.firmware,
    maker: h.maker,
    createdAt: h.createdAt,
    attestation: h.attestation
      ? {
          kind: h.attestation.kind,
          chain: h.attestation.chain.map((c) => encodePem('CERTIFICATE', c)).join(''),
        }
      : null,
    keys: h.keys.map((k) => ({
      label: k.label,
      algorithm: k.algorithm,
      pinPolicy: k.pinPolicy,
      touchPolicy: k.touchPolicy,
      spki: toB64(k.spki),
      createdAt: k.createdAt,
    })),
    pin: {
      maxRetries: h.pin.maxRetries,
      kdf: {
        name: 'scrypt',
        log2N: h.pin.kdf.log2N,
        r: h.pin.kdf.r,
        p: h.pin.kdf.p,
        salt: toB64(h.pin.kdf.salt),
      },
      check: toB64(h.pin.check),
    },
  };
}

/** The file's text: pretty JSON (people read token files), ending with a newline. */
export function serializeTokenFile(file: TokenFile): string {
  const json = {
    format: TOKEN_FILE_FORMAT,
    version: TOKEN_FILE_VERSION,
    header: headerToJson(file.header),
    state: { pinRetriesLeft: file.state.pinRetriesLeft },
    body: { iv: toB64(file.body.iv), ciphertext: toB64(file.body.ciphertext), tag: toB64(file.body.tag) },
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

// --- AAD and the encrypted body ----------------------------------------------------------------

/** JSON with object keys sorted at every level: one byte string per header value. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The additional authenticated data: format, version and the canonical header. */
export function headerAad(header: TokenHeader): Uint8Array {
  return new TextEncoder().encode(
    `${TOKEN_FILE_FORMAT}/v${TOKEN_FILE_VERSION}\n${canonicalJson(headerToJson(header))}`,
  );
}

/** Encrypt the secrets under `key` with the header as AAD (AES-256-GCM, random 96-bit IV). */
export function sealBody(secrets: TokenSecrets, header: TokenHeader, key: Uint8Array): SealedBody {
  const plaintext = Buffer.from(
    JSON.stringify({
      attestationKey: secrets.attestationKey ? toB64(secrets.attestationKey) : null,
      keys: secrets.keys.map((k) => ({ label: k.label, pkcs8: toB64(k.pkcs8) })),
    }),
    'utf8',
  );
  const iv = new Uint8Array(randomBytes(12));
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(headerAad(header));
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final()]));
  plaintext.fill(0);
  return { iv, ciphertext, tag: new Uint8Array(cipher.getAuthTag()) };
}

/**
 * Decrypt the body. A tag failure with a key whose PIN check matched means the header or the
 * body was changed: TOKEN_FILE_INVALID.
 */
export function openBody(file: TokenFile, key: Uint8Array): TokenSecrets {
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, file.body.iv);
    decipher.setAAD(headerAad(file.header));
    decipher.setAuthTag(file.body.tag);
    plaintext = Buffer.concat([decipher.update(file.body.ciphertext), decipher.final()]);
  } catch (err) {
    throw new ProvenanceError(
      'TOKEN_FILE_INVALID',
      'the token file was modified: its header or encrypted state does not authenticate',
      {},
      { cause: err },
    );
  }
  try {
    const parsed = secretsSchema.safeParse(JSON.parse(plaintext.toString('utf8')));
    if (!parsed.success) return invalid(`the encrypted state is malformed: ${firstIssue(parsed.error)}`);
    return {
      attestationKey: parsed.data.attestationKey === null ? null : fromB64(parsed.data.attestationKey),
      keys: parsed.data.keys.map((k) => ({ label: k.label, pkcs8: fromB64(k.pkcs8) })),
    };
  } catch (err) {
    if (err instanceof ProvenanceError) throw err;
    throw new ProvenanceError('TOKEN_FILE_INVALID', 'the encrypted state is not JSON', {}, { cause: err });
  } finally {
    plaintext.fill(0);
  }
}
