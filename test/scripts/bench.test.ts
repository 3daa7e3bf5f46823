/**
 * Smoke test for `npm run bench` (scripts/bench.ts): the bench runs end to end with tiny
 * durations and reports the expected keys. Not a timed test: no figure is asserted beyond
 * "positive and finite" (the numbers live in docs/benchmarks.md).
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { describe, expect, it } from 'vitest';
import { type BenchReport, main, parseBenchArgs, runBench } from '../../scripts/bench.js';
import {
  androidKeyRegistration,
  androidKeyRegistrations,
  encodeCbor,
  OID_FIDO_GEN_CE_AAGUID,
  packedRegistrations,
  provenanceEvidence,
  rawChainWork,
} from '../../scripts/bench-fixtures.js';
import { isProvenanceError } from '../../src/core/errors.js';
import { OID } from '../../src/core/oids.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { policyFromOptions } from '../../src/policy/from-options.js';
import { createVerifier } from '../../src/verify/verifier.js';

const TINY = { durationMs: 30, rounds: 1, warmupMs: 5 } as const;

function expectMeasurement(m: unknown): void {
  expect(m).toMatchObject({
    opsPerSec: expect.any(Number),
    usPerOp: expect.any(Number),
    medianOpsPerSec: expect.any(Number),
    iterations: expect.any(Number),
    cpuUsPerOp: expect.any(Number),
  });
  const x = m as { opsPerSec: number; usPerOp: number; iterations: number };
  expect(x.opsPerSec).toBeGreaterThan(0);
  expect(Number.isFinite(x.usPerOp)).toBe(true);
  expect(x.iterations).toBeGreaterThan(0);
}

function expectReportShape(r: BenchReport): void {
  expect(Object.keys(r)).toEqual(
    expect.arrayContaining([
      'node',
      'chain',
      'headline',
      'ours',
      'raw',
      'simplewebauthn',
      'ratios',
      'targets',
    ]),
  );
  expect(r.node).toBe(process.version);
  expect(r.chain).toBe('P-256, 3 certificates');
  for (const m of [
    r.ours.pem.uncached,
    r.ours.pem.cached,
    r.ours.der.uncached,
    r.ours.der.cached,
    r.raw.uncached,
    r.raw.uncachedJwk,
    r.raw.cached,
    r.simplewebauthn.packed,
    r.simplewebauthn.packedWithIntermediate,
  ]) {
    expectMeasurement(m);
  }
  expect(Object.keys(r.ratios).sort()).toEqual(
    [
      'oursToRawCached',
      'oursToRawUncached',
      'oursToRawUncachedJwk',
      'oursToSimpleWebAuthnCached',
      'oursToSimpleWebAuthnUncached',
      'oursToSimpleWebAuthnWithIntermediateUncached',
    ].sort(),
  );
  expect(Object.keys(r.ratiosCpu).sort()).toEqual(Object.keys(r.ratios).sort());
  for (const v of [...Object.values(r.ratios), ...Object.values(r.ratiosCpu)]) expect(v).toBeGreaterThan(0);
  const target = (t: number) => ({ target: t, met: expect.any(Boolean), metCpu: expect.any(Boolean) });
  expect(r.targets.oursToRawUncached).toEqual(target(0.6));
  expect(r.targets.oursToSimpleWebAuthnUncached).toEqual(target(20));
  expect(r.simplewebauthn.version).toMatch(/^\d+\.\d+\.\d+/);
  for (const w of [r.webauthn.packed, r.webauthn.androidKey]) {
    for (const m of [w.oursUncached, w.oursCached, w.simplewebauthn, w.rawUncached, w.rawCached])
      expectMeasurement(m);
    expect(Object.keys(w.ratios).sort()).toEqual(
      [
        'oursToRawCached',
        'oursToRawUncached',
        'oursToSimpleWebAuthnCached',
        'oursToSimpleWebAuthnUncached',
      ].sort(),
    );
    for (const v of [...Object.values(w.ratios), ...Object.values(w.ratiosCpu)]) expect(v).toBeGreaterThan(0);
    expect(w.target).toEqual(target(20));
  }
  // The packed comparison is on the very input SimpleWebAuthn's packed figure times.
  expect(r.webauthn.packed.simplewebauthn).toEqual(r.simplewebauthn.packed);
  expect(r.webauthn.packed.signatures).toBe(2);
  expect(r.webauthn.androidKey.signatures).toBe(3);
  // android-key: several credentials of one model in turn (the batch CA repeats, the credential certificate does not).
  expect(r.webauthn.packed.registrations).toBe(1);
  expect(r.webauthn.androidKey.registrations).toBeGreaterThan(1);
}

describe('bench fixtures', () => {
  it('builds a certificate of provenance chain that the pipeline accepts, from PEM and from DER', () => {
    const e = provenanceEvidence(Date.now());
    const verifier = createVerifier({ policy: e.policy, clock: () => e.now });
    const fromPem = verifier.verifyBytes(e.pem, { nonce: e.nonce });
    expect(fromPem.code).toBe('ACCEPTED');
    expect(fromPem.freshness).toBe('nonce');
    expect(fromPem.path.map((p) => p.role)).toEqual(['attested-key', 'attestation-key', 'root']);
    const fromDer = verifier.verify(
      { kind: 'certificates', certificates: e.der.map(parseCertificate) },
      { nonce: e.nonce },
    );
    expect(fromDer.code).toBe('ACCEPTED');
    // A wrong challenge is refused: the bench would stop on it.
    expect(verifier.verifyBytes(e.pem, { nonce: new Uint8Array(16) }).code).toBe('NONCE_MISMATCH');
  });

  it('counts the two signature edges of the chain for the raw limit', () => {
    const e = provenanceEvidence(Date.now());
    const edges = rawChainWork(e);
    expect(edges).toHaveLength(2);
    expect(Buffer.from(edges[0]!.spki).equals(Buffer.from(e.root.spki))).toBe(true);
    expect(Buffer.from(edges[1]!.spki).equals(Buffer.from(e.token.spki))).toBe(true);
    expect(e.token.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(e.cop.extension(OID.provenanceKeyAttestation)).toBeDefined();
  });

  it('makes packed attestation certificates that follow WebAuthn §8.2.1', () => {
    const regs = packedRegistrations(Date.now());
    for (const reg of [regs.direct, regs.withIntermediate]) {
      const attObj = isoCBOR.decodeFirst<Map<string, unknown>>(
        new Uint8Array(Buffer.from(reg.response.response.attestationObject, 'base64url')),
      );
      expect(attObj.get('fmt')).toBe('packed');
      const attStmt = attObj.get('attStmt') as Map<string, unknown>;
      expect(attStmt.get('alg')).toBe(-7);
      const x5c = attStmt.get('x5c') as Uint8Array[];
      expect(x5c).toHaveLength(reg.x5cLength);
      const leaf = parseCertificate(x5c[0]!);
      expect(leaf.version).toBe(3);
      expect(leaf.subject.text).toBe(
        'CN=Example Authenticator,OU=Authenticator Attestation,O=Example Maker,C=NL',
      );
      expect(leaf.basicConstraints).toEqual({ ca: false, pathLen: null });
      const authData = attObj.get('authData') as Uint8Array;
      // flags: UP | UV | AT; the AAGUID extension matches the AAGUID in attestedCredentialData.
      expect(authData[32]).toBe(0x45);
      const aaguidExt = leaf.extension(OID_FIDO_GEN_CE_AAGUID);
      expect(Buffer.from(aaguidExt!.value.subarray(2)).equals(Buffer.from(authData.subarray(37, 53)))).toBe(
        true,
      );
    }
    expect(regs.direct.x5cLength).toBe(1);
    expect(regs.withIntermediate.x5cLength).toBe(2);
  });

  it('encodes CBOR that SimpleWebAuthn decodes to the same values', () => {
    const value = new Map<number | string, unknown>([
      [1, 2],
      [-1, 1],
      [-300, 'x'],
      ['bytes', new Uint8Array(300).fill(7)],
      ['list', [0, 23, 24, 255, 256, 65535, 65536, -24, -25]],
      ['nested', new Map([['a', 'é']])],
    ]);
    const decoded = isoCBOR.decodeFirst<Map<unknown, unknown>>(
      encodeCbor(value as Parameters<typeof encodeCbor>[0]),
    );
    expect(decoded).toEqual(value);
  });
});

describe('bench WebAuthn fixtures', () => {
  it('android-key: SimpleWebAuthn and our pipeline both accept the same registration', async () => {
    const { SettingsService, verifyRegistrationResponse } = await import('@simplewebauthn/server');
    const reg = androidKeyRegistration(Date.now());
    SettingsService.setRootCertificates({
      identifier: 'android-key',
      certificates: [new Uint8Array(reg.root)],
    });
    const swa = await verifyRegistrationResponse({
      response: reg.response,
      expectedChallenge: reg.expectedChallenge,
      expectedOrigin: reg.expectedOrigin,
      expectedRPID: reg.expectedRPID,
    });
    expect(swa.verified).toBe(true);
    expect(swa.registrationInfo?.fmt).toBe('android-key');
    const policy = policyFromOptions({
      trust: [{ certificate: parseCertificate(reg.root), formats: ['webauthn'] }],
    });
    const webauthn = {
      origin: reg.expectedOrigin,
      rpId: reg.expectedRPID,
      challenge: new Uint8Array(Buffer.from(reg.expectedChallenge, 'base64url')),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(reg.response));
    const verdict = createVerifier({ policy }).verifyBytes(bytes, { webauthn });
    expect(verdict.code, verdict.message).toBe('ACCEPTED');
    expect(verdict.format).toBe('webauthn');
    expect(verdict.claims).toMatchObject({ securityLevel: 'tee', generatedOnDevice: true });
    // A different challenge is refused: the bench would stop on it.
    const wrong = createVerifier({ policy }).verifyBytes(bytes, {
      webauthn: { ...webauthn, challenge: new Uint8Array(32) },
    });
    expect(wrong.accepted).toBe(false);
  });

  it('android-key registrations of one model share the root and batch CA, not the credential', () => {
    const { root, registrations } = androidKeyRegistrations(Date.now(), 3);
    const x5cs = registrations.map((r) => {
      const attObj = isoCBOR.decodeFirst<Map<string, unknown>>(
        new Uint8Array(Buffer.from(r.response.response.attestationObject, 'base64url')),
      );
      return (attObj.get('attStmt') as Map<string, unknown>).get('x5c') as Uint8Array[];
    });
    for (const x5c of x5cs) {
      expect(Buffer.from(x5c[2]!).equals(Buffer.from(root))).toBe(true);
      expect(Buffer.from(x5c[1]!).equals(Buffer.from(x5cs[0]![1]!))).toBe(true);
    }
    expect(Buffer.from(x5cs[1]![0]!).equals(Buffer.from(x5cs[0]![0]!))).toBe(false);
    expect(new Set(registrations.map((r) => r.expectedChallenge)).size).toBe(3);
  });

  it('raw edges: every chain signature and the statement signature verify with bare crypto', () => {
    const regs = packedRegistrations(Date.now());
    const android = androidKeyRegistration(Date.now());
    expect(regs.direct.edges).toHaveLength(2);
    expect(regs.withIntermediate.edges).toHaveLength(3);
    expect(android.edges).toHaveLength(3);
    for (const e of [...regs.direct.edges, ...regs.withIntermediate.edges, ...android.edges]) {
      const key = createPublicKey({ key: e.spki, format: 'der', type: 'spki' });
      expect(cryptoVerify('sha256', e.tbs, { key, dsaEncoding: 'der' }, e.signature)).toBe(true);
    }
  });
});

describe('bench', () => {
  it('runs every subject with tiny durations and reports the expected keys', async () => {
    const report = await runBench(TINY);
    expectReportShape(report);
    expect(report.conditions).toMatchObject({ durationMsPerSubject: 30, rounds: 1, statistic: 'best round' });
  });

  it('prints exactly one JSON object with --json', async () => {
    let out = '';
    let err = '';
    const code = await main(
      ['--json', '--duration', '30', '--rounds=1'],
      { write: (s: string) => (out += s) },
      { write: (s: string) => (err += s) },
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    expectReportShape(JSON.parse(out) as BenchReport);
  });

  it('prints the human table by default', async () => {
    let out = '';
    const code = await main(['--duration=30', '--rounds', '1'], { write: (s: string) => (out += s) });
    expect(code).toBe(0);
    expect(out).toContain('ours / raw, uncached');
    expect(out).toContain('ours / SimpleWebAuthn, uncached');
    expect(out).toContain('raw limit counts:');
    expect(out).toContain('WebAuthn android-key');
  });

  it('refuses unknown options and bad numbers with USAGE (exit 2)', async () => {
    for (const argv of [['--fast'], ['--duration'], ['--duration', '0'], ['--rounds=1.5']]) {
      let thrown: unknown;
      try {
        parseBenchArgs(argv);
      } catch (e) {
        thrown = e;
      }
      expect(isProvenanceError(thrown) && thrown.code).toBe('USAGE');
    }
    let err = '';
    expect(await main(['--duration', 'soon'], { write: () => 0 }, { write: (s: string) => (err += s) })).toBe(
      2,
    );
    expect(err).toContain('USAGE');
    expect(parseBenchArgs(['--json', '--duration', '1500', '--rounds', '3'])).toEqual({
      json: true,
      durationMs: 1500,
      rounds: 3,
    });
  });
});
