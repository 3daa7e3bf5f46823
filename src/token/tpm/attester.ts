/**
 * A TPM 2.0 Attester over tpm2-tools (5.x) subprocesses. The keys live in the TPM; the state
 * directory holds only public areas, wrapped private blobs (useless off this TPM) and saved
 * contexts. Command sequence: standards §2.9; credential activation §2.6; the certify
 * statement §2.3 / §7 (`tcg-attest-tpm-certify`).
 *
 * Without a resource manager (swtpm, /dev/tpm0) transient objects stay loaded after a tool
 * exits and the TPM runs out of object slots, so every step flushes the transient objects.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { der } from '../../core/der-writer.js';
import { fail, isProvenanceError } from '../../core/errors.js';
import { OID } from '../../core/oids.js';
import { buildCsr } from '../../pki/csr.js';
import { encodeName } from '../../pki/name.js';
import type { Signer } from '../../pki/signer.js';
import type {
  Attester,
  CsrOptions,
  GenerateKeyOptions,
  KeyAlgorithm,
  KeyInfo,
  TokenInfo,
} from '../attester.js';
import { decodeCertifyResponse, encodeCertifyCommand } from './commands.js';
import { spawnRunner, type ToolRunner } from './runner.js';

/** Algorithms a TPM key can have here (the TPM 2.0 PC Client profile guarantees both). */
export const TPM_KEY_ALGORITHMS = ['p256', 'rsa2048'] as const satisfies readonly KeyAlgorithm[];

/** Attributes of an application key: standards §2.2 TPMA_OBJECT, what §2.3 step 4 requires. */
export const APP_KEY_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign';

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What `createTpmAttester` needs. */
export interface TpmAttesterOptions {
  /** TCTI, e.g. `swtpm:host=127.0.0.1,port=2321` or `device:/dev/tpmrm0`. */
  readonly tcti: string;
  /** Directory for contexts, public areas and key blobs (created if missing). */
  readonly stateDir: string;
  /** Runs tpm2-tools (default: spawns them with the TCTI). */
  readonly runner?: ToolRunner;
  /** Clock for key creation times (default Date.now). */
  readonly clock?: () => number;
  /** Key attributes for new keys (tests only: an exportable key the verifier must refuse). */
  readonly keyAttributes?: string;
}

/** The EK side the service needs for credential activation. */
export interface TpmEndorsement {
  /** EK certificate DER (from NV, trailing NV padding removed). */
  readonly ekCertificate: Uint8Array;
  /** EK TPMT_PUBLIC. */
  readonly ekPublic: Uint8Array;
}

/** The attestation key: TPMT_PUBLIC and Name (`u16 nameAlg || digest`, standards §2.2). */
export interface TpmAttestationKey {
  readonly akPublic: Uint8Array;
  readonly akName: Uint8Array;
}

/** A TPM-backed Attester plus the activation steps. */
export interface TpmAttester extends Attester {
  /** Read (create) the EK and its certificate. */
  endorsement(): Promise<TpmEndorsement>;
  /** The AK, created under the EK on first use and kept in the state directory. */
  attestationKey(): Promise<TpmAttestationKey>;
  /**
   * TPM2_ActivateCredential: recover the service's secret. `credentialBlob` is a
   * TPM2B_ID_OBJECT and `encryptedSecret` a TPM2B_ENCRYPTED_SECRET, each with its u16 size.
   */
  activateCredential(credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Promise<Uint8Array>;
  /** TPM2_Certify of the key by the AK with `qualifyingData`; TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC. */
  certify(label: string, qualifyingData: Uint8Array): Promise<TpmCertification>;
}

/** The output of TPM2_Certify for one key. */
export interface TpmCertification {
  readonly attest: Uint8Array;
  readonly signature: Uint8Array;
  /** TPMT_PUBLIC of the certified key (no size prefix). */
  readonly publicArea: Uint8Array;
}

interface KeyMeta {
  readonly label: string;
  readonly algorithm: KeyAlgorithm;
  readonly spki: string;
  readonly createdAt: string;
}

/**
 * Open a TPM through tpm2-tools. Nothing runs until a method is called.
 *
 * @example
 * const tpm = createTpmAttester({ tcti: 'swtpm:host=127.0.0.1,port=2321', stateDir: '.provenance-tpm' });
 * await tpm.generateKey({ label: 'signing', algorithm: 'p256', pinPolicy: 'never', touchPolicy: 'never' });
 * const csr = await tpm.signCsr({ label: 'signing', subject: 'CN=x', nonce });
 */
export function createTpmAttester(options: TpmAttesterOptions): TpmAttester {
  return new TpmDriver(options);
}

class TpmDriver implements TpmAttester {
  readonly #run: ToolRunner;
  readonly #dir: string;
  readonly #clock: () => number;
  readonly #attributes: string;
  #certifyHasQualification: boolean | null = null;

  constructor(o: TpmAttesterOptions) {
    this.#run = o.runner ?? spawnRunner({ tcti: o.tcti });
    this.#dir = o.stateDir;
    this.#clock = o.clock ?? Date.now;
    this.#attributes = o.keyAttributes ?? APP_KEY_ATTRIBUTES;
  }

  async info(): Promise<TokenInfo> {
    const { ekPublic } = await this.endorsement();
    return {
      model: 'TPM 2.0',
      serial: createHash('sha256').update(ekPublic).digest('hex').slice(0, 16),
      firmware: '',
      attestation: 'per-token',
      pinRetriesLeft: 0,
      locked: false,
    };
  }

  async listKeys(): Promise<KeyInfo[]> {
    let names: string[];
    try {
      names = await readdir(join(this.#dir, 'keys'));
    } catch {
      return [];
    }
    const keys: KeyInfo[] = [];
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      keys.push(toKeyInfo(JSON.parse(await readFile(join(this.#dir, 'keys', n), 'utf8')) as KeyMeta));
    }
    return keys;
  }

  async generateKey(o: GenerateKeyOptions): Promise<KeyInfo> {
    checkLabel(o.label);
    if (!(TPM_KEY_ALGORITHMS as readonly string[]).includes(o.algorithm))
      fail('ALGORITHM_UNSUPPORTED', `a TPM key here is p256 or rsa2048, not ${o.algorithm}`);
    // A TPM has no PIN or touch here: the key's authValue is empty (userWithAuth).
    if (o.pinPolicy !== 'never' && o.pinPolicy !== 'once')
      fail('USAGE', 'a TPM key has no per-use PIN here: use --pin-policy never');
    if (o.touchPolicy !== 'never') fail('USAGE', 'a TPM has no touch sensor: use --touch-policy never');
    if ((await this.listKeys()).some((k) => k.label === o.label))
      fail('TOKEN_KEY_EXISTS', `a key labelled "${o.label}" is already in ${this.#dir}`, { label: o.label });
    await mkdir(join(this.#dir, 'keys'), { recursive: true });
    await this.#srk();
    const base = `keys/${o.label}`;
    const alg = o.algorithm === 'p256' ? 'ecc256:ecdsa-sha256' : 'rsa2048:rsassa-sha256';
    await this.#tool('tpm2_create', [
      '-C',
      'srk.ctx',
      '-G',
      alg,
      '-a',
      this.#attributes,
      '-u',
      `${base}.pub`,
      '-r',
      `${base}.priv`,
    ]);
    await this.#flush();
    await this.#tool('tpm2_load', [
      '-C',
      'srk.ctx',
      '-u',
      `${base}.pub`,
      '-r',
      `${base}.priv`,
      '-c',
      `${base}.ctx`,
    ]);
    await this.#flush();
    await this.#tool('tpm2_readpublic', ['-c', `${base}.ctx`, '-f', 'der', '-o', `${base}.spki`]);
    await this.#flush();
    const spki = await this.#read(`${base}.spki`);
    const meta: KeyMeta = {
      label: o.label,
      algorithm: o.algorithm,
      spki: Buffer.from(spki).toString('base64'),
      createdAt: new Date(this.#clock()).toISOString(),
    };
    await writeFile(join(this.#dir, `${base}.json`), `${JSON.stringify(meta, null, 2)}\n`);
    return toKeyInfo(meta);
  }

  async endorsement(): Promise<TpmEndorsement> {
    await mkdir(this.#dir, { recursive: true });
    await this.#flush();
    // The RSA-2048 low-range EK (template L-1), whose certificate sits at NV 0x01C00002: the
    // one EK every PC Client TPM has. (An ECC EK would need its own NV index per curve.)
    await this.#tool('tpm2_createek', ['-c', 'ek.ctx', '-G', 'rsa', '-u', 'ek.pub']);
    await this.#flush();
    await rm(join(this.#dir, 'ek.crt'), { force: true });
    await this.#tool('tpm2_getekcertificate', ['-o', 'ek.crt']);
    const ekCertificate = trimDer(await this.#read('ek.crt'));
    return { ekCertificate, ekPublic: stripSize(await this.#read('ek.pub'), 'ek.pub') };
  }

  async attestationKey(): Promise<TpmAttestationKey> {
    let exists = true;
    try {
      await readFile(join(this.#dir, 'ak.ctx'));
    } catch {
      exists = false;
    }
    if (!exists) {
      await this.endorsement();
      // Restricted signing key under the EK (standards §2.9: restricted|userwithauth|sign|
      // fixedtpm|fixedparent|sensitivedataorigin), ECDSA P-256 with SHA-256.
      await this.#tool('tpm2_createak', [
        '-C',
        'ek.ctx',
        '-c',
        'ak.ctx',
        '-G',
        'ecc',
        '-g',
        'sha256',
        '-s',
        'ecdsa',
        '-u',
        'ak.pub',
        '-n',
        'ak.name',
        '-r',
        'ak.priv',
      ]);
      await this.#flush();
    }
    return {
      akPublic: stripSize(await this.#read('ak.pub'), 'ak.pub'),
      akName: await this.#read('ak.name'),
    };
  }

  async activateCredential(credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Promise<Uint8Array> {
    await this.attestationKey();
    // tpm2-tools' credential file: BE32 0xBADCC0DE || BE32 1 || TPM2B_ID_OBJECT ||
    // TPM2B_ENCRYPTED_SECRET (standards §2.6 notes, tpm2-tools lib/files.c).
    const file = concat(
      new Uint8Array([0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1]),
      asTpm2b(credentialBlob, 'credential blob'),
      asTpm2b(encryptedSecret, 'encrypted secret'),
    );
    await writeFile(join(this.#dir, 'cred.in'), file);
    await rm(join(this.#dir, 'secret.out'), { force: true });
    await this.#flush();
    // The EK has adminWithPolicy and a PolicySecret(TPM_RH_ENDORSEMENT) authPolicy (§2.6).
    await this.#tool('tpm2_startauthsession', ['--policy-session', '-S', 'session.ctx']);
    try {
      await this.#tool('tpm2_policysecret', ['-S', 'session.ctx', '-c', 'e']);
      await this.#tool('tpm2_activatecredential', [
        '-c',
        'ak.ctx',
        '-C',
        'ek.ctx',
        '-i',
        'cred.in',
        '-o',
        'secret.out',
        '-P',
        'session:session.ctx',
      ]);
    } finally {
      await this.#tool('tpm2_flushcontext', ['session.ctx']).catch(() => undefined);
      await this.#flush();
    }
    return this.#read('secret.out');
  }

  async certify(label: string, qualifyingData: Uint8Array): Promise<TpmCertification> {
    const key = await this.#key(label);
    await this.attestationKey();
    const base = `keys/${key.label}`;
    let attest: Uint8Array;
    let signature: Uint8Array;
    await this.#flush();
    if (await this.#certifyTakesQualification()) {
      const q = Buffer.from(qualifyingData).toString('hex');
      await this.#tool('tpm2_certify', [
        '-c',
        `${base}.ctx`,
        '-C',
        'ak.ctx',
        '-g',
        'sha256',
        '-q',
        q,
        '-o',
        'attest.out',
        '-s',
        'sig.out',
        '-f',
        'tss',
      ]);
      await this.#flush();
      attest = await this.#read('attest.out');
      signature = await this.#read('sig.out');
    } else {
      // tpm2-tools < 5.5: load both objects, learn their handles, send TPM2_Certify ourselves.
      const keyHandle = await this.#loadAndGetHandle(`${base}.ctx`, []);
      const akHandle = await this.#loadAndGetHandle('ak.ctx', [keyHandle]);
      const res = await this.#tool(
        'tpm2_send',
        [],
        encodeCertifyCommand(keyHandle, akHandle, qualifyingData),
      );
      await this.#flush();
      ({ attest, signature } = decodeCertifyResponse(res));
    }
    return { attest, signature, publicArea: stripSize(await this.#read(`${base}.pub`), `${base}.pub`) };
  }

  async attest(label: string, nonce: Uint8Array): Promise<Uint8Array[]> {
    const c = await this.certify(label, nonce);
    const { ekCertificate } = await this.endorsement();
    return [encodeCertifyStatement(c), ekCertificate];
  }

  async signCsr(options: CsrOptions): Promise<Uint8Array> {
    const key = await this.#key(options.label);
    const certification = await this.certify(options.label, options.nonce);
    const { ekCertificate } = await this.endorsement();
    return buildTpmCsr({
      subject: options.subject,
      nonce: options.nonce,
      key,
      certification,
      certificates: [ekCertificate],
      sign: (data) => this.sign(options.label, data),
    });
  }

  async sign(label: string, data: Uint8Array): Promise<Uint8Array> {
    const key = await this.#key(label);
    const base = `keys/${key.label}`;
    await writeFile(join(this.#dir, 'sign.in'), data);
    await rm(join(this.#dir, 'sign.out'), { force: true });
    await this.#flush();
    // An unrestricted key signs a digest without a ticket (Part 3 §20.2); tpm2_sign hashes
    // the message itself. `-f plain`: DER ECDSA-Sig-Value, or the raw RSASSA signature.
    await this.#tool('tpm2_sign', [
      '-c',
      `${base}.ctx`,
      '-g',
      'sha256',
      '-f',
      'plain',
      '-o',
      'sign.out',
      'sign.in',
    ]);
    await this.#flush();
    return this.#read('sign.out');
  }

  // --- internals -------------------------------------------------------------------------------

  async #key(label: string): Promise<KeyInfo> {
    checkLabel(label);
    const key = (await this.listKeys()).find((k) => k.label === label);
    if (!key) return fail('TOKEN_KEY_NOT_FOUND', `no TPM key labelled "${label}" in ${this.#dir}`, { label });
    return key;
  }

  async #srk(): Promise<void> {
    // The SRK is a primary key re-derived from the owner seed: the same template gives the same key.
    await this.#flush();
    await this.#tool('tpm2_createprimary', ['-C', 'o', '-g', 'sha256', '-G', 'ecc', '-c', 'srk.ctx']);
    await this.#flush();
  }

  async #certifyTakesQualification(): Promise<boolean> {
    if (this.#certifyHasQualification === null) {
      const r = await this.#run({ tool: 'tpm2_certify', args: ['-h'], cwd: this.#dir });
      const text = Buffer.from(r.stdout).toString('utf8') + r.stderr;
      this.#certifyHasQualification = /--qualification/.test(text);
    }
    return this.#certifyHasQualification;
  }

  async #loadAndGetHandle(context: string, known: readonly number[]): Promise<number> {
    await this.#tool('tpm2_readpublic', ['-c', context]);
    const out = Buffer.from(await this.#tool('tpm2_getcap', ['handles-transient'])).toString('utf8');
    const handles = [...out.matchAll(/0x8[0-9a-fA-F]{7}/g)].map((m) => Number.parseInt(m[0], 16));
    const fresh = handles.filter((h) => !known.includes(h));
    if (fresh.length !== 1)
      fail(
        'TPM_TOOL_FAILED',
        `expected one new transient object after loading ${context}, found ${fresh.length}`,
      );
    return fresh[0]!;
  }

  async #flush(): Promise<void> {
    await this.#tool('tpm2_flushcontext', ['-t']);
  }

  async #tool(tool: string, args: readonly string[], input?: Uint8Array): Promise<Uint8Array> {
    await mkdir(this.#dir, { recursive: true });
    const r = await this.#run({ tool, args, cwd: this.#dir, ...(input !== undefined ? { input } : {}) });
    if (r.status !== 0) {
      const last = r.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
      fail('TPM_TOOL_FAILED', `${tool} failed${last ? `: ${last}` : ` (exit ${r.status})`}`, {
        tool,
        status: r.status,
      });
    }
    return r.stdout;
  }

  async #read(name: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(join(this.#dir, name)));
    } catch (err) {
      if (isProvenanceError(err)) throw err;
      return fail('TPM_TOOL_FAILED', `the tool did not write ${name}`, { file: name });
    }
  }
}

/** What `buildTpmCsr` puts together. */
export interface TpmCsrParts {
  /** RFC 4514 subject. */
  readonly subject: string;
  /** The service's challenge, carried in the nonce attribute. */
  readonly nonce: Uint8Array;
  /** The key being certified (its SPKI goes in the CSR). */
  readonly key: KeyInfo;
  /** TPM2_Certify output for that key. */
  readonly certification: TpmCertification;
  /** Certificates for the bundle (the EK certificate). */
  readonly certificates: readonly Uint8Array[];
  /** Signs the CertificationRequestInfo with the key (asynchronously: a TPM). */
  readonly sign: (data: Uint8Array) => Promise<Uint8Array>;
}

/**
 * A PKCS#10 request signed by an asynchronous signer, carrying the `tcg-attest-tpm-certify`
 * statement. buildCsr's Signer is synchronous: build once to learn the exact
 * CertificationRequestInfo, sign it, then build again (deterministic) with a signer that
 * hands back that signature for those exact bytes only.
 *
 * @example
 * const der = await buildTpmCsr({ subject: 'CN=x', nonce, key, certification, certificates: [ek], sign });
 */
export async function buildTpmCsr(p: TpmCsrParts): Promise<Uint8Array> {
  const template = {
    subject: encodeName(p.subject),
    attestation: {
      statements: [{ type: OID.tcgAttestTpmCertify, stmt: encodeCertifyStatement(p.certification) }],
      certificates: p.certificates,
    },
    nonce: p.nonce,
  };
  const algorithm = signatureAlgorithm(p.key.algorithm);
  let info: Uint8Array | null = null;
  buildCsr({
    ...template,
    signer: {
      spki: p.key.spki,
      algorithm,
      sign: (data) => {
        info = data;
        return { algorithm, signature: new Uint8Array(72) };
      },
    },
  });
  if (info === null) return fail('USAGE', 'the CSR builder did not ask for a signature');
  const signed: Uint8Array = info;
  const signature = await p.sign(signed);
  const signer: Signer = {
    spki: p.key.spki,
    algorithm,
    sign: (data) => {
      if (Buffer.compare(Buffer.from(data), Buffer.from(signed)) !== 0)
        fail('USAGE', 'the CSR changed between the two builds');
      return { algorithm, signature };
    },
  };
  return buildCsr({ ...template, signer });
}

/**
 * The `tcg-attest-tpm-certify` statement value (standards §7.1):
 * SEQUENCE { tpmSAttest OCTET STRING, signature OCTET STRING, tpmTPublic OCTET STRING }.
 */
export function encodeCertifyStatement(c: TpmCertification): Uint8Array {
  return der.seq(der.octets(c.attest), der.octets(c.signature), der.octets(c.publicArea));
}

function signatureAlgorithm(alg: KeyAlgorithm): Uint8Array {
  return alg === 'p256'
    ? der.seq(der.oid(OID.ecdsaWithSHA256))
    : der.seq(der.oid(OID.sha256WithRSA), der.null());
}

function toKeyInfo(m: KeyMeta): KeyInfo {
  return {
    label: m.label,
    algorithm: m.algorithm,
    pinPolicy: 'never',
    touchPolicy: 'never',
    spki: new Uint8Array(Buffer.from(m.spki, 'base64')),
    createdAt: m.createdAt,
  };
}

function checkLabel(label: string): void {
  if (!LABEL.test(label))
    fail('USAGE', `a TPM key label is 1-64 letters, digits, '.', '_' or '-', not "${label}"`, { label });
}

/** TPM2B_PUBLIC → TPMT_PUBLIC (standards §2.2: hash and send the area without its size). */
export function stripSize(b: Uint8Array, what: string): Uint8Array {
  if (b.length < 2 || ((b[0]! << 8) | b[1]!) !== b.length - 2)
    fail('TPM_MALFORMED', `${what} is not a TPM2B (u16 size || body)`);
  return b.slice(2);
}

/** A TPM2B as the service sends it (u16 size || body): checked, never guessed. */
function asTpm2b(b: Uint8Array, what: string): Uint8Array {
  if (b.length < 3 || ((b[0]! << 8) | b[1]!) !== b.length - 2)
    fail('TPM_MALFORMED', `the ${what} is not a TPM2B (u16 size || body)`);
  return b;
}

/** NV areas may be larger than the certificate: keep the outer DER SEQUENCE only. */
function trimDer(b: Uint8Array): Uint8Array {
  if (b.length < 2 || b[0] !== 0x30) fail('TPM_MALFORMED', 'the EK certificate in NV is not DER');
  let len = b[1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || b.length < 2 + n) fail('TPM_MALFORMED', 'the EK certificate length is malformed');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[2 + i]!;
    head = 2 + n;
  }
  if (head + len > b.length) fail('TPM_MALFORMED', 'the EK certificate in NV is truncated');
  return b.slice(0, head + len);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
