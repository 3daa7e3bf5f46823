/**
 * `npm run bench [-- --json] [-- --duration MS] [-- --rounds N]`: verification throughput of a
 * 3-certificate P-256 certificate of provenance through the public pipeline
 * (`createVerifier(...).verifyBytes`), beside
 *
 * - the raw limit measured in the same run: the bare Node crypto the chain needs, i.e. for each
 *   of the 2 signatures (root → token certificate, token certificate → certificate of
 *   provenance) one `crypto.createPublicKey` of the signer's SPKI DER and one sync
 *   `crypto.verify`. The pipeline decodes no other key into a KeyObject (the attested key is
 *   only described from its DER), so nothing else is counted;
 * - `@simplewebauthn/server`'s `verifyRegistrationResponse` on an equivalent `packed` full
 *   attestation (same two signatures: root → attestation certificate → statement), and on the
 *   3-certificate shape (x5c with an intermediate: three signatures);
 * - WebAuthn on the SAME inputs for both verifiers: that `packed` registration and an
 *   `android-key` one (x5c: credential certificate with KeyDescription, batch CA, root), each
 *   through our `verifyBytes(<RegistrationResponseJSON>, { webauthn })` (uncached and cached),
 *   SimpleWebAuthn, and the raw limit of its signatures (`report.webauthn`).
 *
 * "Uncached" builds a fresh verifier with a fresh KeyCache per verification (keys decoded every
 * time, like the raw limit); "cached" reuses one verifier (keys decoded once) and is compared
 * with the raw verifies alone. Every verdict is checked: a rejection stops the bench.
 *
 * Subjects run interleaved in rounds (so a burst of load from elsewhere hits all of them) and
 * each figure is the best round, which is the least disturbed estimate on a shared machine.
 *
 * @example
 * npm run bench                       # human table
 * npm run bench -- --json             # one JSON object on stdout
 * npm run bench -- --duration 4000    # ~4 s of timing per subject
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { fail, isProvenanceError } from '../src/core/errors.js';
import type { EvidenceInput } from '../src/formats/types.js';
import { parseCertificate } from '../src/pki/certificate.js';
import { KeyCache } from '../src/pki/keys.js';
import { type Policy, policyFromOptions } from '../src/policy/index.js';
import type { Expectations } from '../src/verify/verifier.js';
import { createVerifier, type Verdict } from '../src/verify/verifier.js';
import {
  androidKeyRegistrations,
  type PackedRegistration,
  packedRegistrations,
  provenanceEvidence,
  type RawEdge,
  rawChainWork,
} from './bench-fixtures.js';

/** The issue's targets (section 7). */
export const BENCH_TARGETS = {
  /** Uncached pipeline throughput / raw-limit throughput. */
  rawUncached: 0.6,
  /** Pipeline throughput / SimpleWebAuthn throughput. */
  simpleWebAuthn: 20,
} as const;

/**
 * At most this many android-key registrations (new credential certificates under one batch CA)
 * are taken in turn: more than a KeyCache remembers verified signatures for (4096, oldest out
 * first), so the cached verifier never finds the credential certificate it checks in its memo,
 * as a service would not. Fewer are made when the run is too short to use them.
 */
const ANDROID_REGISTRATIONS_MAX = 4200;
/** A cached android-key verification takes at least this long (µs), to size the set above. */
const ANDROID_CACHED_US_FLOOR = 250;

/** What `runBench` takes. */
export interface BenchOptions {
  /** Timed milliseconds per subject, split over the rounds. Default 2000. */
  readonly durationMs?: number;
  /** Interleaved rounds; each figure is the best round. Default 8 (250 ms slices at the default duration). */
  readonly rounds?: number;
  /** Untimed milliseconds per subject before timing (JIT warm-up). Default min(500, durationMs / 4). */
  readonly warmupMs?: number;
}

/** One subject's throughput. */
export interface Measurement {
  /** Operations per second in the best round. */
  readonly opsPerSec: number;
  /** Microseconds per operation in the best round. */
  readonly usPerOp: number;
  /** Operations per second, median of the rounds. */
  readonly medianOpsPerSec: number;
  /** Operations timed over all rounds. */
  readonly iterations: number;
  /**
   * Process CPU time (user + system, all threads) per operation, best round. Unlike wall time
   * it does not grow while other processes hold the cores, so its ratios are steadier on a
   * shared machine.
   */
  readonly cpuUsPerOp: number;
}

/** Everything one run measured; `--json` prints exactly this. */
export interface BenchReport {
  readonly node: string;
  readonly chain: string;
  /** Which of `ours` the ratios use. */
  readonly headline: 'ours.pem';
  readonly ours: {
    /** `verifyBytes` on the PEM bundle (certificate of provenance + token certificate). */
    readonly pem: { readonly uncached: Measurement; readonly cached: Measurement };
    /** `verify` on the same two certificates given as DER (parsed per verification, no PEM). */
    readonly der: { readonly uncached: Measurement; readonly cached: Measurement };
  };
  readonly raw: {
    /** What one raw operation does. */
    readonly counted: string;
    /** 2 × (createPublicKey of the SPKI DER + verify): the issue's raw limit. */
    readonly uncached: Measurement;
    /** 2 × (createPublicKey of the key as a JWK + verify): the cheaper decode publicKeyObject uses for P-256. */
    readonly uncachedJwk: Measurement;
    /** 2 × verify on keys decoded beforehand. */
    readonly cached: Measurement;
  };
  readonly simplewebauthn: {
    readonly version: string;
    /** x5c = [attestation certificate] under the root: two signatures, like our chain. */
    readonly packed: Measurement;
    /** x5c = [attestation certificate, intermediate]: three signatures. */
    readonly packedWithIntermediate: Measurement;
  };
  /**
   * WebAuthn registrations verified by both on the SAME input: ours is
   * `createVerifier(...).verifyBytes(<RegistrationResponseJSON>, { webauthn })` with the root
   * trusted for `webauthn`; SimpleWebAuthn is `verifyRegistrationResponse` on the same response.
   */
  readonly webauthn: {
    readonly packed: WebauthnBench;
    readonly androidKey: WebauthnBench;
  };
  /** Throughput ratios from wall-clock time (best round). */
  readonly ratios: BenchRatios;
  /** The same ratios from process CPU time per operation (steadier under load from elsewhere). */
  readonly ratiosCpu: BenchRatios;
  readonly targets: {
    readonly oursToRawUncached: { readonly target: number; readonly met: boolean; readonly metCpu: boolean };
    readonly oursToSimpleWebAuthnUncached: {
      readonly target: number;
      readonly met: boolean;
      readonly metCpu: boolean;
    };
  };
  readonly conditions: {
    readonly durationMsPerSubject: number;
    readonly rounds: number;
    readonly statistic: 'best round';
    readonly cpus: number;
    readonly cpuModel: string;
    readonly loadAverage1mAtStart: number;
    readonly loadAverage1mAtEnd: number;
    readonly openssl: string;
  };
}

/** One WebAuthn attestation format: ours, SimpleWebAuthn and the raw limit on one input. */
export interface WebauthnBench {
  /** What the input is. */
  readonly input: string;
  /** Signatures the input needs checked (certificate edges + the statement). */
  readonly signatures: number;
  /** Registrations verified in turn (android-key: new credential certificates under one batch CA). */
  readonly registrations: number;
  /** A fresh verifier and KeyCache per verification. */
  readonly oursUncached: Measurement;
  /** One verifier reused (keys decoded once). */
  readonly oursCached: Measurement;
  readonly simplewebauthn: Measurement;
  /** SHA-256(clientDataJSON) + per signature createPublicKey(SPKI DER) + verify. */
  readonly rawUncached: Measurement;
  /** SHA-256(clientDataJSON) + the verifies on keys decoded beforehand. */
  readonly rawCached: Measurement;
  /** Wall-clock throughput ratios (best round); `Cpu` from process CPU time per operation. */
  readonly ratios: WebauthnRatios;
  readonly ratiosCpu: WebauthnRatios;
  /** ours uncached / SimpleWebAuthn against BENCH_TARGETS.simpleWebAuthn. */
  readonly target: { readonly target: number; readonly met: boolean; readonly metCpu: boolean };
}

/** Ours over SimpleWebAuthn and over the raw limit (> 1: ours is faster). */
export interface WebauthnRatios {
  readonly oursToSimpleWebAuthnUncached: number;
  readonly oursToSimpleWebAuthnCached: number;
  readonly oursToRawUncached: number;
  readonly oursToRawCached: number;
}

/** Throughput of ours over the others (> 1: ours is faster). */
export interface BenchRatios {
  readonly oursToRawUncached: number;
  readonly oursToRawCached: number;
  /** Against the raw limit with the JWK decode: our overhead over the cheapest bare work. */
  readonly oursToRawUncachedJwk: number;
  readonly oursToSimpleWebAuthnUncached: number;
  readonly oursToSimpleWebAuthnCached: number;
  readonly oursToSimpleWebAuthnWithIntermediateUncached: number;
}

type Subject = { readonly name: string } & (
  | { readonly kind: 'sync'; readonly run: () => void }
  | { readonly kind: 'async'; readonly run: () => Promise<void> }
);

/** Operations per batch between clock reads: small enough for short slices, large enough to hide the clock. */
const BATCH = 8;

/** Run `s` for at least `ms` milliseconds; return the operations done and the time taken. */
async function timeSlice(s: Subject, ms: number): Promise<{ ops: number; elapsed: number; cpuUs: number }> {
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  if (s.kind === 'sync') {
    do {
      for (let i = 0; i < BATCH; i++) s.run();
      ops += BATCH;
      t = performance.now();
    } while (t - t0 < ms);
  } else {
    do {
      // Sequential awaits: how a server calls verifyRegistrationResponse for one request.
      for (let i = 0; i < BATCH; i++) await s.run();
      ops += BATCH;
      t = performance.now();
    } while (t - t0 < ms);
  }
  const cpu = process.cpuUsage(cpu0);
  return { ops, elapsed: t - t0, cpuUs: cpu.user + cpu.system };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Time every subject: warm-up, then `rounds` interleaved slices each. */
async function measureAll(
  subjects: readonly Subject[],
  durationMs: number,
  rounds: number,
  warmupMs: number,
): Promise<Map<string, Measurement>> {
  for (const s of subjects) await timeSlice(s, warmupMs);
  const rates = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const cpuPerOp = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const counts = new Map<string, number>(subjects.map((s) => [s.name, 0]));
  const slice = durationMs / rounds;
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects) {
      const { ops, elapsed, cpuUs } = await timeSlice(s, slice);
      rates.get(s.name)!.push((ops * 1000) / elapsed);
      cpuPerOp.get(s.name)!.push(cpuUs / ops);
      counts.set(s.name, counts.get(s.name)! + ops);
    }
  }
  const out = new Map<string, Measurement>();
  for (const s of subjects) {
    const rs = rates.get(s.name)!;
    const best = Math.max(...rs);
    out.set(s.name, {
      opsPerSec: best,
      usPerOp: 1e6 / best,
      medianOpsPerSec: median(rs),
      iterations: counts.get(s.name)!,
      cpuUsPerOp: Math.min(...cpuPerOp.get(s.name)!),
    });
  }
  return out;
}

function accepted(v: Verdict): void {
  // A bench that times rejections measures nothing worth knowing: stop at the first one.
  if (!v.accepted) fail('INTERNAL', `bench evidence was rejected: ${v.code}: ${v.message}`, { code: v.code });
}

/** The raw limit: bare Node crypto for the chain's signature edges. */
function rawSubjects(edges: readonly RawEdge[]): Subject[] {
  const keys: KeyObject[] = edges.map((e) => createPublicKey({ key: e.spki, format: 'der', type: 'spki' }));
  const check = (ok: boolean): void => {
    if (!ok) fail('INTERNAL', 'raw limit: a chain signature did not verify');
  };
  return [
    {
      name: 'raw.uncached',
      kind: 'sync',
      run: () => {
        for (const e of edges) {
          const key = createPublicKey({ key: e.spki, format: 'der', type: 'spki' });
          check(cryptoVerify('sha256', e.tbs, { key, dsaEncoding: 'der' }, e.signature));
        }
      },
    },
    {
      // The same work with the P-256 keys imported from their coordinates, as publicKeyObject does.
      name: 'raw.uncachedJwk',
      kind: 'sync',
      run: () => {
        for (const e of edges) {
          const key = createPublicKey({ key: e.jwk, format: 'jwk' });
          check(cryptoVerify('sha256', e.tbs, { key, dsaEncoding: 'der' }, e.signature));
        }
      },
    },
    {
      name: 'raw.cached',
      kind: 'sync',
      run: () => {
        for (let i = 0; i < edges.length; i++) {
          const e = edges[i]!;
          check(cryptoVerify('sha256', e.tbs, { key: keys[i]!, dsaEncoding: 'der' }, e.signature));
        }
      },
    },
  ];
}

async function simpleWebAuthnSubjects(
  now: number,
): Promise<{ subjects: Subject[]; version: string; regs: ReturnType<typeof packedRegistrations> }> {
  const { SettingsService, verifyRegistrationResponse } = await import('@simplewebauthn/server');
  const regs = packedRegistrations(now);
  // SimpleWebAuthn keeps its trust anchors in a process-wide singleton: this is how users configure it.
  SettingsService.setRootCertificates({ identifier: 'packed', certificates: [new Uint8Array(regs.root)] });
  const subject = (name: string, reg: PackedRegistration): Subject => ({
    name,
    kind: 'async',
    run: async () => {
      const r = await verifyRegistrationResponse({
        response: reg.response,
        expectedChallenge: reg.expectedChallenge,
        expectedOrigin: reg.expectedOrigin,
        expectedRPID: reg.expectedRPID,
      });
      if (!r.verified || r.registrationInfo?.fmt !== 'packed')
        fail('INTERNAL', 'SimpleWebAuthn did not verify the packed attestation');
    },
  });
  const subjects = [subject('swa.packed', regs.direct), subject('swa.packed3', regs.withIntermediate)];
  // Check both verify before anything is timed (a throw here names SimpleWebAuthn's reason).
  for (const s of subjects) if (s.kind === 'async') await s.run();
  return { subjects, version: simpleWebAuthnVersion(), regs };
}

/** The registrations, as bytes with their expectations, and the policy our verifier needs for one WebAuthn input. */
interface WebauthnCase {
  readonly name: 'wa-packed' | 'wa-android';
  /** Verified in turn, one per operation (several: new credential certificates under one batch CA). */
  readonly regs: readonly PackedRegistration[];
  readonly inputs: readonly { readonly bytes: Uint8Array; readonly expectations: Expectations }[];
  readonly policy: Policy;
}

function webauthnCase(
  name: WebauthnCase['name'],
  regs: readonly PackedRegistration[],
  root: Uint8Array,
): WebauthnCase {
  return {
    name,
    regs,
    inputs: regs.map((reg) => ({
      // What a relying party receives: the RegistrationResponseJSON, as bytes.
      bytes: new TextEncoder().encode(JSON.stringify(reg.response)),
      expectations: {
        webauthn: {
          origin: reg.expectedOrigin,
          rpId: reg.expectedRPID,
          challenge: new Uint8Array(Buffer.from(reg.expectedChallenge, 'base64url')),
        },
      },
    })),
    policy: policyFromOptions({ trust: [{ certificate: parseCertificate(root), formats: ['webauthn'] }] }),
  };
}

/**
 * Ours (uncached, cached) and the raw limit for one WebAuthn input, and SimpleWebAuthn on it
 * unless `swaFormat` is null (the packed input is already timed as `swa.packed`). Each subject
 * takes the case's registrations in turn.
 */
async function webauthnSubjects(c: WebauthnCase, swaFormat: 'android-key' | null): Promise<Subject[]> {
  const { verifyRegistrationResponse } = await import('@simplewebauthn/server');
  const cached = createVerifier({ policy: c.policy });
  const accept = (v: Verdict): void => {
    accepted(v);
    if (v.format !== 'webauthn') fail('INTERNAL', `bench: ${c.name} verified as ${v.format}`);
  };
  const keys = c.regs.map((r) =>
    r.edges.map((e) => createPublicKey({ key: e.spki, format: 'der', type: 'spki' })),
  );
  const check = (ok: boolean): void => {
    if (!ok) fail('INTERNAL', `raw limit: a ${c.name} signature did not verify`);
  };
  const n = c.regs.length;
  const turn = (): (() => number) => {
    let i = 0;
    return () => {
      const k = i;
      i = (i + 1) % n;
      return k;
    };
  };
  const [t1, t2, t3, t4, t5] = [turn(), turn(), turn(), turn(), turn()];
  const subjects: Subject[] = [
    {
      name: `ours.${c.name}.uncached`,
      kind: 'sync',
      run: () => {
        const x = c.inputs[t1()]!;
        accept(
          createVerifier({ policy: c.policy, keyCache: new KeyCache() }).verifyBytes(x.bytes, x.expectations),
        );
      },
    },
    {
      name: `ours.${c.name}.cached`,
      kind: 'sync',
      run: () => {
        const x = c.inputs[t2()]!;
        accept(cached.verifyBytes(x.bytes, x.expectations));
      },
    },
    {
      name: `raw.${c.name}.uncached`,
      kind: 'sync',
      run: () => {
        const reg = c.regs[t3()]!;
        createHash('sha256').update(reg.clientDataJSON).digest();
        for (const e of reg.edges) {
          const key = createPublicKey({ key: e.spki, format: 'der', type: 'spki' });
          check(cryptoVerify('sha256', e.tbs, { key, dsaEncoding: 'der' }, e.signature));
        }
      },
    },
    {
      name: `raw.${c.name}.cached`,
      kind: 'sync',
      run: () => {
        const k = t4();
        const reg = c.regs[k]!;
        createHash('sha256').update(reg.clientDataJSON).digest();
        for (let i = 0; i < reg.edges.length; i++) {
          const e = reg.edges[i]!;
          check(cryptoVerify('sha256', e.tbs, { key: keys[k]![i]!, dsaEncoding: 'der' }, e.signature));
        }
      },
    },
  ];
  if (swaFormat !== null)
    subjects.push({
      name: `swa.${c.name}`,
      kind: 'async',
      run: async () => {
        const reg = c.regs[t5()]!;
        const r = await verifyRegistrationResponse({
          response: reg.response,
          expectedChallenge: reg.expectedChallenge,
          expectedOrigin: reg.expectedOrigin,
          expectedRPID: reg.expectedRPID,
        });
        if (!r.verified || r.registrationInfo?.fmt !== swaFormat)
          fail('INTERNAL', `SimpleWebAuthn did not verify the ${swaFormat} attestation`);
      },
    });
  // Every subject must accept before anything is timed: ours (cached) on every input, the
  // others on the first two (each keeps its own turn).
  const oursCached = subjects[1]!;
  for (let round = 0; round < n; round++) if (oursCached.kind === 'sync') oursCached.run();
  for (let round = 0; round < Math.min(n, 2); round++)
    for (const s of subjects)
      if (s === oursCached) continue;
      else if (s.kind === 'sync') s.run();
      else await s.run();
  return subjects;
}

function webauthnBench(
  c: WebauthnCase,
  get: (name: string) => Measurement,
  swaName: string,
  input: string,
): WebauthnBench {
  const m = {
    oursUncached: get(`ours.${c.name}.uncached`),
    oursCached: get(`ours.${c.name}.cached`),
    simplewebauthn: get(swaName),
    rawUncached: get(`raw.${c.name}.uncached`),
    rawCached: get(`raw.${c.name}.cached`),
  };
  const by = (ratio: (a: Measurement, b: Measurement) => number): WebauthnRatios => ({
    oursToSimpleWebAuthnUncached: ratio(m.oursUncached, m.simplewebauthn),
    oursToSimpleWebAuthnCached: ratio(m.oursCached, m.simplewebauthn),
    oursToRawUncached: ratio(m.oursUncached, m.rawUncached),
    oursToRawCached: ratio(m.oursCached, m.rawCached),
  });
  const ratios = by((a, b) => a.opsPerSec / b.opsPerSec);
  const ratiosCpu = by((a, b) => b.cpuUsPerOp / a.cpuUsPerOp);
  return {
    input,
    signatures: c.regs[0]!.edges.length,
    registrations: c.regs.length,
    ...m,
    ratios,
    ratiosCpu,
    target: {
      target: BENCH_TARGETS.simpleWebAuthn,
      met: ratios.oursToSimpleWebAuthnUncached >= BENCH_TARGETS.simpleWebAuthn,
      metCpu: ratiosCpu.oursToSimpleWebAuthnUncached >= BENCH_TARGETS.simpleWebAuthn,
    },
  };
}

function simpleWebAuthnVersion(): string {
  try {
    const entry = new URL(import.meta.resolve('@simplewebauthn/server'));
    const pkg = JSON.parse(readFileSync(new URL('../package.json', entry), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Build the evidence, check every subject verifies, time them, and return the report.
 *
 * @example
 * const report = await runBench({ durationMs: 2000 });
 * console.log(report.ratios.oursToRawUncached);
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const durationMs = options.durationMs ?? 2000;
  const rounds = options.rounds ?? 8;
  const warmupMs = options.warmupMs ?? Math.min(500, durationMs / 4);
  const loadAtStart = loadavg()[0]!;
  // SimpleWebAuthn checks certificate validity against the system clock, so both chains are
  // built around it; our verifier gets the same instant through its injected clock.
  const now = Date.now();
  const e = provenanceEvidence(now);
  const clock = () => e.now;
  const expectations = { nonce: e.nonce };
  const cachedVerifier = createVerifier({ policy: e.policy, clock });
  const derInput = (): EvidenceInput => ({ kind: 'certificates', certificates: e.der.map(parseCertificate) });

  const ours: Subject[] = [
    {
      name: 'ours.pem.uncached',
      kind: 'sync',
      run: () =>
        accepted(
          createVerifier({ policy: e.policy, clock, keyCache: new KeyCache() }).verifyBytes(
            e.pem,
            expectations,
          ),
        ),
    },
    {
      name: 'ours.pem.cached',
      kind: 'sync',
      run: () => accepted(cachedVerifier.verifyBytes(e.pem, expectations)),
    },
    {
      name: 'ours.der.uncached',
      kind: 'sync',
      run: () =>
        accepted(
          createVerifier({ policy: e.policy, clock, keyCache: new KeyCache() }).verify(
            derInput(),
            expectations,
          ),
        ),
    },
    {
      name: 'ours.der.cached',
      kind: 'sync',
      run: () => accepted(cachedVerifier.verify(derInput(), expectations)),
    },
  ];
  // Check our subjects accept before anything is timed.
  for (const s of ours) if (s.kind === 'sync') s.run();
  const swa = await simpleWebAuthnSubjects(now);
  // WebAuthn on the same inputs: the packed registration SimpleWebAuthn times above (x5c: one
  // certificate) and android-key ones: new credential certificates under one batch CA, as a
  // service sees one device model. SimpleWebAuthn's roots are a process-wide setting.
  const packedCase = webauthnCase('wa-packed', [swa.regs.direct], swa.regs.root);
  const androidCount = Math.min(
    ANDROID_REGISTRATIONS_MAX,
    Math.max(4, Math.ceil(((durationMs + warmupMs) * 1000) / ANDROID_CACHED_US_FLOOR)),
  );
  const android = androidKeyRegistrations(now, androidCount);
  const { SettingsService } = await import('@simplewebauthn/server');
  SettingsService.setRootCertificates({
    identifier: 'android-key',
    certificates: [new Uint8Array(android.root)],
  });
  const androidCase = webauthnCase('wa-android', android.registrations, android.root);
  const webauthnSubjectList = [
    ...(await webauthnSubjects(packedCase, null)),
    ...(await webauthnSubjects(androidCase, 'android-key')),
  ];
  const subjects = [...ours, ...rawSubjects(rawChainWork(e)), ...swa.subjects, ...webauthnSubjectList];

  const m = await measureAll(subjects, durationMs, rounds, warmupMs);
  const get = (name: string): Measurement => m.get(name)!;
  const oursUncached = get('ours.pem.uncached');
  const oursCached = get('ours.pem.cached');
  const rawUncached = get('raw.uncached');
  const rawCached = get('raw.cached');
  const swaPacked = get('swa.packed');
  const swaPacked3 = get('swa.packed3');
  const ratiosBy = (ratio: (a: Measurement, b: Measurement) => number): BenchRatios => ({
    oursToRawUncached: ratio(oursUncached, rawUncached),
    oursToRawCached: ratio(oursCached, rawCached),
    oursToRawUncachedJwk: ratio(oursUncached, get('raw.uncachedJwk')),
    oursToSimpleWebAuthnUncached: ratio(oursUncached, swaPacked),
    oursToSimpleWebAuthnCached: ratio(oursCached, swaPacked),
    oursToSimpleWebAuthnWithIntermediateUncached: ratio(oursUncached, swaPacked3),
  });
  const ratios = ratiosBy((a, b) => a.opsPerSec / b.opsPerSec);
  const ratiosCpu = ratiosBy((a, b) => b.cpuUsPerOp / a.cpuUsPerOp);
  return {
    node: process.version,
    chain: 'P-256, 3 certificates',
    headline: 'ours.pem',
    ours: {
      pem: { uncached: oursUncached, cached: oursCached },
      der: { uncached: get('ours.der.uncached'), cached: get('ours.der.cached') },
    },
    raw: {
      counted:
        '2 signature edges (root→token certificate, token certificate→certificate of provenance), each 1 crypto.createPublicKey of the signer SPKI DER + 1 sync crypto.verify (ECDSA P-256/SHA-256); uncachedJwk: the same with the key imported as a JWK; cached: the 2 verifies only. The attested key is not decoded into a KeyObject by the pipeline, so it is not counted.',
      uncached: rawUncached,
      uncachedJwk: get('raw.uncachedJwk'),
      cached: rawCached,
    },
    simplewebauthn: { version: swa.version, packed: swaPacked, packedWithIntermediate: swaPacked3 },
    webauthn: {
      packed: webauthnBench(
        packedCase,
        get,
        'swa.packed',
        'packed full attestation, x5c = [attestation certificate], root trusted; the input swa.packed times',
      ),
      androidKey: webauthnBench(
        androidCase,
        get,
        'swa.wa-android',
        `android-key, x5c = [credential certificate with KeyDescription, batch intermediate, root], root trusted; ${androidCount} credentials of one model in turn`,
      ),
    },
    ratios,
    ratiosCpu,
    targets: {
      oursToRawUncached: {
        target: BENCH_TARGETS.rawUncached,
        met: ratios.oursToRawUncached >= BENCH_TARGETS.rawUncached,
        metCpu: ratiosCpu.oursToRawUncached >= BENCH_TARGETS.rawUncached,
      },
      oursToSimpleWebAuthnUncached: {
        target: BENCH_TARGETS.simpleWebAuthn,
        met: ratios.oursToSimpleWebAuthnUncached >= BENCH_TARGETS.simpleWebAuthn,
        metCpu: ratiosCpu.oursToSimpleWebAuthnUncached >= BENCH_TARGETS.simpleWebAuthn,
      },
    },
    conditions: {
      durationMsPerSubject: durationMs,
      rounds,
      statistic: 'best round',
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      loadAverage1mAtStart: round2(loadAtStart),
      loadAverage1mAtEnd: round2(loadavg()[0]!),
      openssl: process.versions.openssl ?? 'unknown',
    },
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The human table. */
export function formatReport(r: BenchReport): string {
  const c = r.conditions;
  const row = (label: string, x: Measurement) =>
    `  ${label.padEnd(46)}${x.opsPerSec.toFixed(0).padStart(7)} ops/s${x.usPerOp.toFixed(1).padStart(9)} µs` +
    `${x.cpuUsPerOp.toFixed(1).padStart(10)} µs   (median ${x.medianOpsPerSec.toFixed(0)} ops/s)`;
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const times = (x: number) => `${x.toFixed(1)}×`;
  const ratio = (label: string, wall: string, cpu: string, target = '') =>
    `  ${label.padEnd(50)}${wall.padStart(8)}${cpu.padStart(10)}${target}`;
  const verdict = (t: { target: number; met: boolean; metCpu: boolean }, show: (x: number) => string) =>
    `   target ≥ ${show(t.target)}: ${t.met ? 'MET' : 'NOT MET'} (CPU: ${t.metCpu ? 'MET' : 'NOT MET'})`;
  return [
    `Provenance verification bench: ${r.chain}; Node ${r.node}, OpenSSL ${c.openssl}`,
    `${c.cpus} × ${c.cpuModel}; load ${c.loadAverage1mAtStart} → ${c.loadAverage1mAtEnd}; ` +
      `${c.durationMsPerSubject} ms per subject in ${c.rounds} interleaved rounds, best round shown`,
    '',
    `  ${''.padEnd(46)}${'wall'.padStart(13)}${'wall/op'.padStart(12)}${'CPU/op'.padStart(13)}`,
    row('ours, PEM bundle, uncached (fresh verifier)', r.ours.pem.uncached),
    row('ours, PEM bundle, cached (one verifier)', r.ours.pem.cached),
    row('ours, DER certificates, uncached', r.ours.der.uncached),
    row('ours, DER certificates, cached', r.ours.der.cached),
    row('raw limit, uncached (2 × decode + verify)', r.raw.uncached),
    row('raw, uncached, JWK decode', r.raw.uncachedJwk),
    row('raw limit, cached (2 × verify)', r.raw.cached),
    row(`SimpleWebAuthn ${r.simplewebauthn.version} packed (x5c: 1 cert)`, r.simplewebauthn.packed),
    row('SimpleWebAuthn packed (x5c: 2 certs)', r.simplewebauthn.packedWithIntermediate),
    '',
    ratio('ratios (PEM bundle headline)', 'wall', 'CPU'),
    ratio(
      'ours / raw, uncached',
      pct(r.ratios.oursToRawUncached),
      pct(r.ratiosCpu.oursToRawUncached),
      verdict(r.targets.oursToRawUncached, pct),
    ),
    ratio('ours / raw, cached', pct(r.ratios.oursToRawCached), pct(r.ratiosCpu.oursToRawCached)),
    ratio(
      'ours / raw with JWK decode, uncached',
      pct(r.ratios.oursToRawUncachedJwk),
      pct(r.ratiosCpu.oursToRawUncachedJwk),
    ),
    ratio(
      'ours / SimpleWebAuthn, uncached',
      times(r.ratios.oursToSimpleWebAuthnUncached),
      times(r.ratiosCpu.oursToSimpleWebAuthnUncached),
      verdict(r.targets.oursToSimpleWebAuthnUncached, times),
    ),
    ratio(
      'ours / SimpleWebAuthn, cached',
      times(r.ratios.oursToSimpleWebAuthnCached),
      times(r.ratiosCpu.oursToSimpleWebAuthnCached),
    ),
    ratio(
      'ours / SimpleWebAuthn (x5c: 2 certs), uncached',
      times(r.ratios.oursToSimpleWebAuthnWithIntermediateUncached),
      times(r.ratiosCpu.oursToSimpleWebAuthnWithIntermediateUncached),
    ),
    '',
    ...formatWebauthn(
      'WebAuthn packed (same input as SimpleWebAuthn packed above)',
      r.webauthn.packed,
      row,
      ratio,
      times,
      pct,
    ),
    ...formatWebauthn(
      'WebAuthn android-key (same input for both)',
      r.webauthn.androidKey,
      row,
      ratio,
      times,
      pct,
    ),
    `  raw limit counts: ${r.raw.counted}`,
    '  WebAuthn raw limits count SHA-256(clientDataJSON) and, per signature (chain edges + statement), 1 createPublicKey of the signer SPKI DER + 1 verify (cached: the verifies only).',
    '',
  ].join('\n');
}

function formatWebauthn(
  title: string,
  w: WebauthnBench,
  row: (label: string, x: Measurement) => string,
  ratio: (label: string, wall: string, cpu: string, target?: string) => string,
  times: (x: number) => string,
  pct: (x: number) => string,
): string[] {
  return [
    `  ${title}: ${w.signatures} signatures`,
    row('ours, uncached (fresh verifier)', w.oursUncached),
    row('ours, cached (one verifier)', w.oursCached),
    row('SimpleWebAuthn', w.simplewebauthn),
    row(`raw limit, uncached (${w.signatures} × decode + verify)`, w.rawUncached),
    row(`raw limit, cached (${w.signatures} × verify)`, w.rawCached),
    ratio(
      'ours / SimpleWebAuthn, uncached',
      times(w.ratios.oursToSimpleWebAuthnUncached),
      times(w.ratiosCpu.oursToSimpleWebAuthnUncached),
      `   target ≥ ${times(w.target.target)}: ${w.target.met ? 'MET' : 'NOT MET'} (CPU: ${w.target.metCpu ? 'MET' : 'NOT MET'})`,
    ),
    ratio(
      'ours / SimpleWebAuthn, cached',
      times(w.ratios.oursToSimpleWebAuthnCached),
      times(w.ratiosCpu.oursToSimpleWebAuthnCached),
    ),
    ratio('ours / raw, uncached', pct(w.ratios.oursToRawUncached), pct(w.ratiosCpu.oursToRawUncached)),
    ratio('ours / raw, cached', pct(w.ratios.oursToRawCached), pct(w.ratiosCpu.oursToRawCached)),
    '',
  ];
}

/** Parse `--json`, `--duration MS`, `--rounds N`. Throws USAGE naming the option. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions & { json: boolean } {
  let json = false;
  let durationMs: number | undefined;
  let rounds: number | undefined;
  const positiveInt = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 1) fail('USAGE', `${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--duration') durationMs = positiveInt(a, argv[++i]);
    else if (a.startsWith('--duration=')) durationMs = positiveInt('--duration', a.slice(11));
    else if (a === '--rounds') rounds = positiveInt(a, argv[++i]);
    else if (a.startsWith('--rounds=')) rounds = positiveInt('--rounds', a.slice(9));
    else fail('USAGE', `unknown option "${a}" (options: --json, --duration MS, --rounds N)`);
  }
  return {
    json,
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(rounds === undefined ? {} : { rounds }),
  };
}

/** Run the bench from the command line; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): Promise<number> {
  try {
    const { json, ...options } = parseBenchArgs(argv);
    const report = await runBench(options);
    out.write(json ? `${JSON.stringify(report)}\n` : formatReport(report));
    return 0;
  } catch (e) {
    err.write(`bench: ${isProvenanceError(e) ? `${e.code}: ${e.message}` : String(e)}\n`);
    return isProvenanceError(e) && e.code === 'USAGE' ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
