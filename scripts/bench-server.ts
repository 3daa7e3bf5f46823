/**
 * `npm run bench:server [-- --count N] [-- --concurrency C] [-- --time-limit S] [-- --json]`:
 * complete enrollments per second through the provisioning service, beside the crypto-bound
 * rate measured in the same run.
 *
 * - The service runs in this process (`startService`, as `provenance serve --demo` does) on
 *   127.0.0.1 with a fresh SQLite file, issuing CA and demo maker in a temporary directory
 *   (deleted afterwards). Its rate limits are raised in its config.yaml: every request comes
 *   from one address.
 * - N enrollment codes are made through the admin API before timing.
 * - The load generator runs in a worker thread (its own event loop, so the customers' signing
 *   does not queue behind the service's work) with C in-memory tokens built like
 *   src/token/software builds them: a per-token attestation key certified by the demo product
 *   line, a fresh P-256 key per enrollment, the certificate of provenance bound to the
 *   challenge nonce, and the CSR carrying both (the same code paths as `SoftwareToken.signCsr`,
 *   without the file and the PIN). One enrollment = `POST /api/v1/challenges` + building the
 *   CSR + `POST /api/v1/enrollments`; its latency spans all three.
 * - Bounded: at most 3000 enrollments (default 500) and S seconds (default 60), then it stops.
 * - Crypto-bound rate: the bare Node crypto one enrollment needs, on the same keys, in one
 *   thread: decode the new key (createPublicKey) and verify the CSR signature; decode the
 *   token's attestation key and verify the certificate of provenance; verify the token
 *   certificate (line key) and the line certificate (root key), whose keys a service caches;
 *   sign one certificate with the issuing CA's key. The service's event loop is one thread,
 *   so the ratio compares it with one core.
 *
 * @example
 * npm run bench:server
 * npm run bench:server -- --count 1000 --concurrency 16 --json
 */
import {
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { fromBase64Url } from '../src/core/bytes.js';
import { fail } from '../src/core/errors.js';
import { OID } from '../src/core/oids.js';
import { encodePem } from '../src/core/pem.js';
import { openMaker } from '../src/maker/directory.js';
import { type MakerAuthority, unlockMaker } from '../src/maker/hierarchy.js';
import { tokenAttestationSubject } from '../src/maker/names.js';
import { buildCertificate } from '../src/pki/builder.js';
import { type Certificate, parseCertificate } from '../src/pki/certificate.js';
import { buildCsr, parseCsr } from '../src/pki/csr.js';
import { encodeName } from '../src/pki/name.js';
import { signerFromKeyObject } from '../src/pki/signer.js';
import { startService } from '../src/server/serve.js';
import type { KeyInfo } from '../src/token/attester.js';
import { buildCertificateOfProvenance } from '../src/token/software/certificate-of-provenance.js';
import { nodeFileAccess } from '../src/token/software/file-access.js';

/** The issue's target: complete enrollments/s ≥ 40 % of the crypto-bound rate. */
export const SERVER_BENCH_TARGET = 0.4;

/** Hard bounds: the bench never sends more than a few thousand requests and always stops. */
export const SERVER_BENCH_LIMITS = { maxCount: 3000, maxConcurrency: 64, maxSeconds: 300 } as const;

// --- in-memory tokens --------------------------------------------------------------------------

/** A fresh P-256 key for one enrollment, as a token generates it. */
export interface MemoryKey {
  readonly privateKey: KeyObject;
  readonly spki: Uint8Array;
}

/**
 * A token without a file: a per-token attestation key certified by a maker CA, making CSRs
 * with the certificate of provenance exactly as `SoftwareToken.signCsr` does.
 *
 * @example
 * const [token] = memoryTokens(line, 1);
 * const csr = token!.csr(newMemoryKey(), nonce);   // DER, ready for POST /api/v1/enrollments
 */
export interface MemoryToken {
  readonly serial: string;
  /** [attestation certificate, ...maker chain] (DER). */
  readonly chain: readonly Uint8Array[];
  /** A CSR for `key` carrying the attestation bound to `nonce`. */
  csr(key: MemoryKey, nonce: Uint8Array): Uint8Array;
}

/** Model name of the bench's tokens. */
export const MEMORY_TOKEN_MODEL = 'Provenance Bench Token';

/** A new P-256 key pair (what the token's keygen makes). */
export function newMemoryKey(): MemoryKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

/**
 * `count` tokens personalised under `line` (per-token attestation, P-256), like
 * `personaliseToken` does: attestation certificate CA:TRUE, pathLen 0, keyCertSign only.
 */
export function memoryTokens(line: MakerAuthority, count: number, now: number = Date.now()): MemoryToken[] {
  const issuer = line.ca.certificate;
  const tokens: MemoryToken[] = [];
  for (let i = 0; i < count; i++) {
    const serial = `B${String(i + 1).padStart(5, '0')}`;
    const attestation = newMemoryKey();
    const serialBytes = new Uint8Array(randomBytes(16));
    serialBytes[0] = serialBytes[0]! & 0x7f || 0x01;
    const der = buildCertificate({
      issuer: {
        name: issuer.subject.der,
        signer: line.signer,
        ...(issuer.subjectKeyId ? { subjectKeyId: issuer.subjectKeyId } : {}),
      },
      subject: encodeName(tokenAttestationSubject(MEMORY_TOKEN_MODEL, serial, line.ca.record.maker)),
      spki: attestation.spki,
      serial: serialBytes,
      notBefore: Math.max(issuer.notBefore, now - 60_000),
      notAfter: issuer.notAfter,
      basicConstraints: { ca: true, pathLen: 0 },
      keyUsage: ['keyCertSign'],
      subjectKeyId: 'derive',
    });
    const chain = [der, ...line.ca.chain.map((c) => c.der)];
    const attestationCert: Certificate = parseCertificate(der);
    const token = { model: MEMORY_TOKEN_MODEL, serial, firmware: '1.0.0' };
    tokens.push({
      serial,
      chain,
      csr(key, nonce) {
        const info: KeyInfo = {
          label: 'bench',
          algorithm: 'p256',
          pinPolicy: 'once',
          touchPolicy: 'never',
          spki: key.spki,
          createdAt: new Date(now).toISOString(),
        };
        const provenance = buildCertificateOfProvenance({
          issuerKey: attestation.privateKey,
          issuerCertificate: attestationCert,
          attestationKind: 'per-token',
          key: info,
          nonce,
          token,
        });
        return buildCsr({
          subject: encodeName('CN=bench'),
          signer: signerFromKeyObject(key.privateKey),
          attestation: {
            statements: [{ type: OID.provenanceStatementType, stmt: provenance }],
            certificates: chain,
          },
          nonce,
        });
      },
    });
  }
  return tokens;
}

/** Open and unlock a maker CA directory whose key is unencrypted (the demo maker's). */
export async function openDemoLine(dir: string): Promise<MakerAuthority> {
  const files = nodeFileAccess();
  return unlockMaker(await openMaker(dir, files), null, { files, clock: Date.now });
}

// --- load generator ----------------------------------------------------------------------------

/** One complete enrollment over HTTP: challenge, CSR with the nonce, enrollment. */
export async function enrollOnce(
  url: string,
  code: string,
  token: MemoryToken,
  key: MemoryKey,
): Promise<{ status: number; code: string; enrollmentId?: string; serial?: string; certificate?: string }> {
  const auth = { authorization: `Enroll ${code}`, 'content-type': 'application/json' };
  const c = await fetch(`${url}/api/v1/challenges`, { method: 'POST', headers: auth, body: '{}' });
  const challenge = (await c.json()) as { id?: string; nonce?: string; code?: string };
  if (c.status !== 201) return { status: c.status, code: challenge.code ?? `HTTP_${c.status}` };
  const csr = token.csr(key, fromBase64Url(challenge.nonce!));
  const e = await fetch(`${url}/api/v1/enrollments`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ challengeId: challenge.id, csr: encodePem('CERTIFICATE REQUEST', csr) }),
  });
  const body = (await e.json()) as {
    code?: string;
    enrollmentId?: string;
    serial?: string;
    certificate?: string;
  };
  if (e.status !== 201) return { status: e.status, code: body.code ?? `HTTP_${e.status}` };
  return {
    status: 201,
    code: 'ACCEPTED',
    ...(body.enrollmentId !== undefined ? { enrollmentId: body.enrollmentId } : {}),
    ...(body.serial !== undefined ? { serial: body.serial } : {}),
    ...(body.certificate !== undefined ? { certificate: body.certificate } : {}),
  };
}

interface LoadInput {
  readonly kind: 'bench-server-load';
  readonly url: string;
  readonly line: string;
  readonly codes: readonly string[];
  readonly warmup: number;
  readonly concurrency: number;
  readonly timeLimitMs: number;
}

interface LoadResult {
  readonly completed: number;
  readonly failed: Record<string, number>;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
  /** Mean time the worker spent building one CSR (the customer's side). */
  readonly csrBuildMs: number;
  readonly stoppedByTime: boolean;
}

/** Run the load: `warmup` enrollments untimed, then the rest with `concurrency` workers. */
async function runLoad(input: LoadInput): Promise<LoadResult> {
  const line = await openDemoLine(input.line);
  const tokens = memoryTokens(line, input.concurrency);
  const keys = input.codes.map(() => newMemoryKey());
  for (let i = 0; i < input.warmup; i++) await enrollOnce(input.url, input.codes[i]!, tokens[0]!, keys[i]!);

  const failed: Record<string, number> = {};
  const latencies: number[] = [];
  let next = input.warmup;
  let stoppedByTime = false;
  // Tell the main thread the timed phase starts, so it measures the service's busy time.
  parentPort?.postMessage({ kind: 'timed' });
  const started = performance.now();
  const worker = async (token: MemoryToken) => {
    for (;;) {
      if (performance.now() - started > input.timeLimitMs) {
        stoppedByTime = next < input.codes.length;
        return;
      }
      const i = next++;
      if (i >= input.codes.length) return;
      const t0 = performance.now();
      try {
        const r = await enrollOnce(input.url, input.codes[i]!, token, keys[i]!);
        if (r.status === 201) latencies.push(performance.now() - t0);
        else failed[r.code] = (failed[r.code] ?? 0) + 1;
      } catch (err) {
        const code = (err as { cause?: { code?: string } })?.cause?.code ?? 'NETWORK';
        failed[code] = (failed[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(tokens.map((t) => worker(t)));
  const elapsedMs = performance.now() - started;

  // The customers' share, for the record: building one CSR (two P-256 signatures and DER).
  const nonce = new Uint8Array(32);
  const t0 = performance.now();
  const rounds = 100;
  for (let i = 0; i < rounds; i++) tokens[0]!.csr(keys[i % keys.length]!, nonce);
  const csrBuildMs = (performance.now() - t0) / rounds;
  return {
    completed: latencies.length,
    failed,
    elapsedMs,
    latenciesMs: latencies,
    csrBuildMs,
    stoppedByTime,
  };
}

// --- crypto-bound rate -------------------------------------------------------------------------

/**
 * The raw crypto of one enrollment, timed on one thread; returns wall-clock milliseconds per
 * enrollment and passes the thread's CPU milliseconds per enrollment to `onCpuMs` (Linux).
 */
export function cryptoBoundMs(
  sample: { csr: Uint8Array; caKey: KeyObject; certificateTbs: Uint8Array },
  durationMs = 1500,
  onCpuMs?: (cpuMsPerEnrollment: number) => void,
): number {
  const csr = parseCsr(sample.csr);
  const att = csr.attestation;
  if (att?.statements.length !== 1) return fail('INTERNAL', 'the bench CSR carries no attestation');
  const provenance = parseCertificate(att.statements[0]!.stmt);
  const [tokenCert, lineCert, rootCert] = att.certificates;
  if (!tokenCert || !lineCert || !rootCert)
    return fail('INTERNAL', 'the bench chain is not token, line, root');
  // The maker's keys are the same for every enrollment: a service caches them (KeyCache).
  const lineKey = createPublicKey({ key: Buffer.from(lineCert.spki), format: 'der', type: 'spki' });
  const rootKey = createPublicKey({ key: Buffer.from(rootCert.spki), format: 'der', type: 'spki' });
  const ecdsa = (data: Uint8Array, key: KeyObject, sig: Uint8Array) =>
    cryptoVerify('sha256', data, { key, dsaEncoding: 'der' }, sig);
  const one = () => {
    const newKey = createPublicKey({ key: Buffer.from(csr.spki), format: 'der', type: 'spki' });
    const tokenKey = createPublicKey({ key: Buffer.from(tokenCert.spki), format: 'der', type: 'spki' });
    const ok =
      ecdsa(csr.info, newKey, csr.signature) &&
      ecdsa(provenance.tbs, tokenKey, provenance.signature) &&
      ecdsa(tokenCert.tbs, lineKey, tokenCert.signature) &&
      ecdsa(lineCert.tbs, rootKey, lineCert.signature);
    if (!ok) fail('INTERNAL', 'a bench signature does not verify');
    cryptoSign('sha256', sample.certificateTbs, { key: sample.caKey, dsaEncoding: 'der' });
  };
  for (let i = 0; i < 200; i++) one();
  let n = 0;
  const started = performance.now();
  const cpuStarted = mainThreadCpuMs();
  while (performance.now() - started < durationMs) {
    for (let i = 0; i < 50; i++) one();
    n += 50;
  }
  onCpuMs?.((mainThreadCpuMs() - cpuStarted) / n);
  return (performance.now() - started) / n;
}

// --- the run -----------------------------------------------------------------------------------

/** What `runServerBench` takes. */
export interface ServerBenchOptions {
  /** Enrollments timed (default 500, at most 3000). */
  readonly count?: number;
  /** Concurrent customers (default 8). */
  readonly concurrency?: number;
  /** Stop starting enrollments after this many seconds (default 60). */
  readonly timeLimitSeconds?: number;
  /** Untimed enrollments first (default 20). */
  readonly warmup?: number;
}

/** The figures of one run. */
export interface ServerBenchResult {
  readonly store: 'sqlite';
  readonly count: number;
  readonly concurrency: number;
  readonly completed: number;
  readonly failed: Record<string, number>;
  readonly stoppedByTime: boolean;
  readonly elapsedSeconds: number;
  readonly enrollmentsPerSecond: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  readonly cryptoBound: {
    readonly msPerEnrollment: number;
    readonly enrollmentsPerSecond: number;
    /** The same crypto in CPU time of the thread (kernel accounting; NaN off Linux). */
    readonly cpuMsPerEnrollment: number;
  };
  readonly ratio: number;
  /**
   * The service thread's busy time (event loop utilisation) per enrollment in the timed phase:
   * less sensitive than wall-clock throughput to other load on a shared machine.
   */
  readonly serviceBusyMsPerEnrollment: number;
  /** Crypto-bound time / service busy time per enrollment: the ratio with the idle time removed. */
  readonly busyRatio: number;
  /**
   * CPU time (user + system) of the service's thread per enrollment in the timed phase, from
   * the kernel's per-thread accounting (Linux; NaN elsewhere). Unlike busy time it does not
   * count the moments the thread was ready but another process held the core.
   */
  readonly serviceCpuMsPerEnrollment: number;
  /** Crypto-bound CPU time / service CPU time per enrollment (both from kernel accounting). */
  readonly cpuRatio: number;
  /**
   * CPU time of the whole process per enrollment in the timed phase: every thread, the load
   * generator's included (so not a service figure), for A/B runs to show that work moved off
   * the service thread (GC helpers, the SQLite checkpointer) did not simply grow.
   */
  readonly processCpuMsPerEnrollment: number;
  readonly target: number;
  readonly customerCsrBuildMs: number;
  readonly setupSeconds: number;
  readonly machine: {
    readonly cpus: number;
    readonly model: string;
    readonly loadavg: number[];
    readonly node: string;
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function bounded(value: number | undefined, fallback: number, max: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max)
    fail('USAGE', `${what} must be a whole number from 1 to ${max}`);
  return v;
}

/** The service's configuration for the bench: loopback, an ephemeral port, limits raised. */
const BENCH_CONFIG = `listen: 127.0.0.1:0
db: sqlite:./provenance.db
enrollment:
  maxOpenChallengesPerCode: 5
limits:
  perCodePerMinute: 1000
  perAddressPerMinute: 1000000
`;

/**
 * Start the service, make the codes, run the load in a worker, measure the crypto-bound rate.
 *
 * @example
 * const r = await runServerBench({ count: 300, concurrency: 8 });
 * console.log(r.enrollmentsPerSecond, r.ratio);
 */
export async function runServerBench(options: ServerBenchOptions = {}): Promise<ServerBenchResult> {
  const count = bounded(options.count, 500, SERVER_BENCH_LIMITS.maxCount, '--count');
  const concurrency = bounded(options.concurrency, 8, SERVER_BENCH_LIMITS.maxConcurrency, '--concurrency');
  const seconds = bounded(options.timeLimitSeconds, 60, SERVER_BENCH_LIMITS.maxSeconds, '--time-limit');
  const warmup = options.warmup ?? 20;
  const setupStarted = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'provenance-bench-server-'));
  try {
    await writeFile(join(dir, 'config.yaml'), BENCH_CONFIG);
    const logger = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
    const service = await startService({
      data: dir,
      demo: true,
      env: {},
      clock: Date.now,
      out: () => undefined,
      err: () => undefined,
      logger,
    });
    try {
      const admin = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
      const codes = await makeCodes(service.url, admin, warmup + count, concurrency);
      const line = join(dir, 'demo', 'maker', 'line');

      // Crypto-bound rate, on the same keys: a sample CSR from a bench token, the service's CA key.
      const [token] = memoryTokens(await openDemoLine(line), 1);
      const caKey = createPrivateKey(await readFile(join(service.config.ca, 'ca-key.pem'), 'utf8'));
      const sample = {
        csr: token!.csr(newMemoryKey(), new Uint8Array(randomBytes(32))),
        caKey,
        // An issued certificate's TBS is about this size (the hash makes the length matter little).
        certificateTbs: new Uint8Array(randomBytes(700)),
      };
      const setupSeconds = (performance.now() - setupStarted) / 1000;
      let cryptoCpuMs = Number.NaN;
      const msPerEnrollment = cryptoBoundMs(sample, 1500, (ms) => {
        cryptoCpuMs = ms;
      });

      const load = await inWorker({
        kind: 'bench-server-load',
        url: service.url,
        line,
        codes,
        warmup,
        concurrency,
        timeLimitMs: seconds * 1000,
      });
      const sorted = [...load.latenciesMs].sort((a, b) => a - b);
      const rate = load.completed / (load.elapsedMs / 1000);
      const bound = 1000 / msPerEnrollment;
      return {
        store: 'sqlite',
        count,
        concurrency,
        completed: load.completed,
        failed: load.failed,
        stoppedByTime: load.stoppedByTime,
        elapsedSeconds: load.elapsedMs / 1000,
        enrollmentsPerSecond: rate,
        latencyMs: {
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted.at(-1) ?? Number.NaN,
        },
        cryptoBound: { msPerEnrollment, enrollmentsPerSecond: bound, cpuMsPerEnrollment: cryptoCpuMs },
        ratio: rate / bound,
        serviceBusyMsPerEnrollment: load.serviceBusyMs / load.completed,
        busyRatio: msPerEnrollment / (load.serviceBusyMs / load.completed),
        serviceCpuMsPerEnrollment: load.serviceCpuMs / load.completed,
        cpuRatio: cryptoCpuMs / (load.serviceCpuMs / load.completed),
        processCpuMsPerEnrollment: load.processCpuMs / load.completed,
        target: SERVER_BENCH_TARGET,
        customerCsrBuildMs: load.csrBuildMs,
        setupSeconds,
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model ?? 'unknown',
          loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
          node: process.version,
        },
      };
    } finally {
      await service.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `n` enrollment codes through the admin API, `concurrency` at a time. */
async function makeCodes(url: string, admin: string, n: number, concurrency: number): Promise<string[]> {
  const codes: string[] = new Array(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const res = await fetch(`${url}/api/v1/admin/enrollment-codes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ customer: 'bench', subject: `CN=Bench Customer ${i + 1}` }),
      });
      const body = (await res.json()) as { code?: string; detail?: string };
      if (res.status !== 201 || !body.code)
        fail('INTERNAL', `cannot create an enrollment code: ${body.detail}`);
      codes[i] = body.code;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return codes;
}

/** Linux reports per-thread CPU time in USER_HZ ticks, 100 per second on every architecture. */
const USER_HZ = 100;

/**
 * CPU time (user + system, ms) this process's main thread (the service's event loop) has used,
 * from /proc/self/task/<pid>/stat (fields 14 and 15, proc(5)); NaN where there is no /proc.
 */
export function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/**
 * Run the load generator in a worker thread (this same module), bounded in time. Also returns
 * how long this thread's event loop (the service) was busy during the timed phase, and the
 * CPU time it used meanwhile.
 */
function inWorker(
  input: LoadInput,
): Promise<LoadResult & { serviceBusyMs: number; serviceCpuMs: number; processCpuMs: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: input });
    let timedFrom: EventLoopUtilization | null = null;
    let cpuFrom = Number.NaN;
    let processFrom: NodeJS.CpuUsage | undefined;
    // The load stops itself at the time limit; this guards against a hung server.
    const guard = setTimeout(() => {
      void worker.terminate();
      reject(new Error('the load generator did not finish in time'));
    }, input.timeLimitMs + 60_000);
    worker.on('message', (m: { kind: 'timed' } | { kind: 'result'; result: LoadResult }) => {
      if (m.kind === 'timed') {
        timedFrom = performance.eventLoopUtilization();
        cpuFrom = mainThreadCpuMs();
        processFrom = process.cpuUsage();
        return;
      }
      clearTimeout(guard);
      const busy = timedFrom === null ? Number.NaN : performance.eventLoopUtilization(timedFrom).active;
      const processCpu = processFrom === undefined ? undefined : process.cpuUsage(processFrom);
      resolve({
        ...m.result,
        serviceBusyMs: busy,
        serviceCpuMs: mainThreadCpuMs() - cpuFrom,
        processCpuMs: processCpu === undefined ? Number.NaN : (processCpu.user + processCpu.system) / 1000,
      });
    });
    worker.once('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
    worker.once('exit', (code) => {
      clearTimeout(guard);
      if (code !== 0) reject(new Error(`the load generator exited with ${code}`));
    });
  });
}

/** The human report. */
export function formatServerBench(r: ServerBenchResult): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const failures = Object.entries(r.failed)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  return [
    'Provisioning service: complete enrollments (challenge + CSR + enrollment), SQLite, loopback',
    `  machine        ${r.machine.cpus} CPU(s) ${r.machine.model}, node ${r.machine.node}, load ${r.machine.loadavg.join(' ')}`,
    `  enrollments    ${r.completed} of ${r.count} complete${failures ? ` (failed: ${failures})` : ''}${r.stoppedByTime ? ' (stopped at the time limit)' : ''}, ${r.concurrency} concurrent, ${f(r.elapsedSeconds, 2)} s`,
    `  throughput     ${f(r.enrollmentsPerSecond)} enrollments/s`,
    `  latency        p50 ${f(r.latencyMs.p50)} ms   p90 ${f(r.latencyMs.p90)} ms   p99 ${f(r.latencyMs.p99)} ms   max ${f(r.latencyMs.max)} ms`,
    `  crypto-bound   ${f(r.cryptoBound.msPerEnrollment, 3)} ms per enrollment (2 key decodes, 4 ECDSA verifies, 1 ECDSA sign) = ${f(r.cryptoBound.enrollmentsPerSecond)} enrollments/s on one core`,
    `  ratio          ${f(r.ratio * 100)} % of the crypto-bound rate (target ≥ ${f(r.target * 100, 0)} %): ${r.ratio >= r.target ? 'met' : 'NOT met'}`,
    `  service busy   ${f(r.serviceBusyMsPerEnrollment, 3)} ms of the service thread per enrollment (event loop utilisation): crypto is ${f(r.busyRatio * 100)} % of it`,
    `  service CPU    ${f(r.serviceCpuMsPerEnrollment, 3)} ms of CPU time on the service thread per enrollment (kernel accounting); the crypto-bound work takes ${f(r.cryptoBound.cpuMsPerEnrollment, 3)} ms of CPU: ${f(r.cpuRatio * 100)} % of it`,
    `  process CPU    ${f(r.processCpuMsPerEnrollment, 3)} ms per enrollment, all threads (the load generator's too)`,
    `  customer side  ${f(r.customerCsrBuildMs, 3)} ms to build one CSR (in the load worker, not the service's thread)`,
    '',
  ].join('\n');
}

function parseArgs(argv: readonly string[]): ServerBenchOptions & { json: boolean } {
  const out: {
    count?: number;
    concurrency?: number;
    timeLimitSeconds?: number;
    warmup?: number;
    json: boolean;
  } = {
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) fail('USAGE', `${a} needs a whole number`);
      return Number(v);
    };
    if (a === '--json') out.json = true;
    else if (a === '--count') out.count = value();
    else if (a === '--concurrency') out.concurrency = value();
    else if (a === '--time-limit') out.timeLimitSeconds = value();
    else if (a === '--warmup') out.warmup = value();
    else
      fail('USAGE', `unknown option ${a} (--count N, --concurrency C, --time-limit S, --warmup W, --json)`);
  }
  return out;
}

if (!isMainThread && (workerData as LoadInput | undefined)?.kind === 'bench-server-load') {
  const result = await runLoad(workerData as LoadInput);
  parentPort!.postMessage({ kind: 'result', result });
} else if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { json, ...options } = parseArgs(process.argv.slice(2));
    const result = await runServerBench(options);
    process.stdout.write(json ? `${JSON.stringify(result)}\n` : formatServerBench(result));
  } catch (err) {
    process.stderr.write(`bench:server failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  }
}
