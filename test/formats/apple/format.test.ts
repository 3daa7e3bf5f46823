/**
 * The apple format on synthetic evidence (build.ts). App Attest: each check has a negative with
 * its code (wrong nonce, wrong key in credentialId or authData, wrong App ID, counter, unknown
 * AAGUID, development without permission, wrong root, wrong fmt, extra statement members);
 * Managed Device Attestation: claims from both encodings, freshness code = SHA-256(challenge),
 * cached (mismatched) codes refused, the verdict tells the two kinds apart; parser fuzz.
 * Each sub-kind validates only to its own root key (issue #6): the synthetic format is built with
 * createAppleFormat and the test roots' keys; App Attest under the MDA root, MDA under the App
 * Attest root, and either under the default (catalogue) keys are TRUST_NO_ANCHORS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { der } from '../../../src/core/der-writer.js';
import { encodePem } from '../../../src/core/pem.js';
import {
  APP_ATTEST_AAGUID,
  APPLE_ANCHOR_IDS,
  appleFormat,
  createAppleFormat,
  decodeAppAttestNonce,
  decodeMdaValue,
  verifyAppAttest,
} from '../../../src/formats/apple/index.js';
import type { EvidenceInput } from '../../../src/formats/types.js';
import { parsePolicy } from '../../../src/policy/load.js';
import { catalogEntry } from '../../../src/trust/catalog/lookup.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { fuzzParameters, mutatedBytes, outcome } from '../../helpers/fuzz.js';
import { ecKey, type TestCert } from '../../helpers/pki.js';
import { APP_ID, appAttestObject, appleCa, CHALLENGE, mdaLeaf, sha } from './build.js';

const AT = Date.UTC(2026, 0, 15);

function policyFor(...roots: TestCert[]) {
  const text = `version: 1\ntrust:\n${roots
    .map((_, i) => `  - id: root-${i}\n    certificates: [./root-${i}.pem]\n    formats: [apple]\n`)
    .join('')}`;
  return parsePolicy(text, {
    source: 'test.yaml',
    baseDir: '.',
    readFile: (p) =>
      new TextEncoder().encode(encodePem('CERTIFICATE', roots[Number(/root-(\d+)/.exec(p)![1])]!.der)),
  });
}

const pki = appleCa();
const ent = appleCa('Test Enterprise Attestation');
/** The format under the synthetic roots: App Attest to `pki`, MDA to `ent`. */
const format = createAppleFormat({
  appAttestRootKeys: [pki.root.cert.spkiSha256],
  mdaRootKeys: [ent.root.cert.spkiSha256],
});

function attest(
  object: Uint8Array,
  extra: { appId?: string; allowDevelopment?: boolean } = {},
): EvidenceInput {
  return {
    kind: 'apple-appattest',
    attestationObject: object,
    appId: extra.appId ?? APP_ID,
    ...(extra.allowDevelopment === undefined ? {} : { allowDevelopment: extra.allowDevelopment }),
    certificates: [],
  };
}

function run(
  input: EvidenceInput,
  nonce: Uint8Array | null = CHALLENGE,
  roots = [pki.root],
  formats = [format],
) {
  return createVerifier({ policy: policyFor(...roots), formats }).verify(input, {
    at: AT,
    ...(nonce === null ? {} : { nonce }),
  });
}

describe('App Attest', () => {
  it('accepts a well-formed attestation and reports the App Attest claims', () => {
    const { object, key } = appAttestObject(pki);
    const v = run(attest(object));
    expect(v.code).toBe('ACCEPTED');
    expect(v.claims).toMatchObject({
      appleAttestation: 'app-attest',
      environment: 'production',
      appId: APP_ID,
      keyId: Buffer.from(sha(key.spki.slice(-65))).toString('base64'),
      generatedOnDevice: true,
      nonExportable: true,
    });
    expect(v.path.map((e) => e.role)).toEqual(['attested-key', 'attestation-key', 'root']);
  });

  it('a wrong challenge: NONCE_MISMATCH; none: NONCE_MISSING', () => {
    const { object } = appAttestObject(pki);
    expect(run(attest(object), new Uint8Array(Buffer.from('another challenge'))).code).toBe('NONCE_MISMATCH');
    expect(run(attest(object), null).code).toBe('NONCE_MISSING');
  });

  it('a certificate nonce over other data: NONCE_MISMATCH', () => {
    const { object } = appAttestObject(pki, { certNonce: new Uint8Array(32) });
    expect(run(attest(object)).code).toBe('NONCE_MISMATCH');
  });

  it('a credentialId of another key, or another key in authData: KEY_MISMATCH', () => {
    expect(run(attest(appAttestObject(pki, { credentialIdKey: ecKey() }).object)).code).toBe('KEY_MISMATCH');
    expect(run(attest(appAttestObject(pki, { authDataKey: ecKey() }).object)).code).toBe('KEY_MISMATCH');
  });

  it('another App ID: RPID_MISMATCH; not an App ID: USAGE', () => {
    const { object } = appAttestObject(pki);
    expect(run(attest(object, { appId: 'ABCDE12345.com.example.other' })).code).toBe('RPID_MISMATCH');
    expect(run(attest(object, { appId: 'com.example.app' })).code).toBe('USAGE');
  });

  it('a counter other than 0: ATTESTATION_INVALID', () => {
    expect(run(attest(appAttestObject(pki, { counter: 1 }).object)).code).toBe('ATTESTATION_INVALID');
  });

  it('development is refused unless allowed, then reported', () => {
    const { object } = appAttestObject(pki, { aaguid: APP_ATTEST_AAGUID.development });
    expect(run(attest(object)).code).toBe('AAGUID_MISMATCH');
    const v = run(attest(object, { allowDevelopment: true }));
    expect(v.code).toBe('ACCEPTED');
    expect(v.claims?.['environment']).toBe('development');
  });

  it("the relying party's App Attest expectation overrides what an evidence file says", () => {
    const verifier = createVerifier({ policy: policyFor(pki.root), formats: [format] });
    const dev = appAttestObject(pki, { aaguid: APP_ATTEST_AAGUID.development }).object;
    // A client-written file that allows development and names its own App ID:
    const claimed = attest(dev, { allowDevelopment: true, appId: 'EVILTEAM01.com.evil' });
    const expectations = { at: AT, nonce: CHALLENGE, appAttest: { appId: APP_ID } };
    expect(verifier.verify(claimed, expectations).code).toBe('RPID_MISMATCH');
    // The App ID matches, but development stays refused unless the relying party allows it.
    const sameApp = attest(dev, { allowDevelopment: true });
    expect(verifier.verify(sameApp, expectations).code).toBe('AAGUID_MISMATCH');
    const allowed = { ...expectations, appAttest: { appId: APP_ID, allowDevelopment: true } };
    expect(verifier.verify(sameApp, allowed).code).toBe('ACCEPTED');
  });

  it('an unknown AAGUID: AAGUID_MISMATCH', () => {
    expect(run(attest(appAttestObject(pki, { aaguid: new Uint8Array(16) }).object)).code).toBe(
      'AAGUID_MISMATCH',
    );
  });

  it('another root with the same name: the path fails', () => {
    const other = appleCa();
    const both = createAppleFormat({
      appAttestRootKeys: [pki.root.cert.spkiSha256, other.root.cert.spkiSha256],
      mdaRootKeys: [ent.root.cert.spkiSha256],
    });
    expect(run(attest(appAttestObject(pki).object), CHALLENGE, [other.root], [both]).code).toBe(
      'PATH_SIGNATURE_INVALID',
    );
  });

  it('another fmt or extra statement members: ATTESTATION_MALFORMED', () => {
    expect(run(attest(appAttestObject(pki, { fmt: 'apple' }).object)).code).toBe('ATTESTATION_MALFORMED');
    expect(run(attest(appAttestObject(pki, { extraStmt: true }).object)).code).toBe('ATTESTATION_MALFORMED');
  });

  it('the nonce extension is decoded strictly', () => {
    const ok = der.seq(der.explicit(1, der.octets(new Uint8Array(32))));
    expect(decodeAppAttestNonce(ok)).toHaveLength(32);
    expect(
      outcome(() => decodeAppAttestNonce(der.seq(der.explicit(1, der.octets(new Uint8Array(31)))))),
    ).toBe('EXTENSION_MALFORMED');
    expect(
      outcome(() => decodeAppAttestNonce(der.seq(der.explicit(2, der.octets(new Uint8Array(32)))))),
    ).toBe('EXTENSION_MALFORMED');
    expect(outcome(() => decodeAppAttestNonce(der.octets(new Uint8Array(32))))).toBe('EXTENSION_MALFORMED');
  });

  it('fuzz: mutated attestation objects only ever throw ProvenanceError', () => {
    const { object } = appAttestObject(pki);
    fc.assert(
      fc.property(mutatedBytes([object], false), (m) => {
        outcome(() => verifyAppAttest({ attestationObject: m.bytes, appId: APP_ID }, CHALLENGE));
      }),
      fuzzParameters(300),
    );
  });
});

describe('Managed Device Attestation', () => {
  const utf8 = (s: string) => new Uint8Array(Buffer.from(s));

  function mda(values: Parameters<typeof mdaLeaf>[1]): EvidenceInput {
    const leaf = mdaLeaf(ent, values);
    return { kind: 'certificates', certificates: [leaf.cert, ent.intermediate.cert] };
  }

  const full = {
    serialNumber: utf8('C02XL0AAJGH5'),
    udid: utf8('00008030-001A2D3E4F56789A'),
    softwareUpdateDeviceId: der.utf8('iPhone16,2'),
    osVersion: utf8('17.2'),
    sepOsVersion: der.utf8('17.2'),
    freshnessCode: sha(utf8('acme-token')),
    sipStatus: der.int(0),
    secureBootStatus: utf8('Full Security'),
    thirdPartyKextsAllowed: der.int(0),
  };

  it('detects an MDA chain and reports device claims from both encodings', () => {
    const input = mda(full);
    expect(appleFormat.detect(input)).toBe(true);
    const v = createVerifier({ policy: policyFor(ent.root), formats: [format] }).verify(input, {
      at: AT,
      nonce: utf8('acme-token'),
    });
    expect(v.code).toBe('ACCEPTED');
    expect(v.freshness).toBe('nonce');
    expect(v.claims).toMatchObject({
      appleAttestation: 'managed-device',
      serial: 'C02XL0AAJGH5',
      udid: '00008030-001A2D3E4F56789A',
      model: 'iPhone16,2',
      osVersion: '17.2',
      firmware: '17.2',
      sepOsVersion: '17.2',
      sipEnabled: true,
      secureBoot: 'Full Security',
      thirdPartyKextsAllowed: false,
      keyAlgorithm: 'ec-p384',
    });
    expect(v.claims?.['mdaEncodings']).toMatchObject({
      serialNumber: 'raw',
      sepOsVersion: 'der-string',
      sipStatus: 'der-integer',
    });
    // MDA says nothing about where the key was made: these stay unstated.
    expect(v.claims?.generatedOnDevice).toBeUndefined();
  });

  it('a freshness code for another challenge (a cached attestation): NONCE_MISMATCH', () => {
    const v = createVerifier({ policy: policyFor(ent.root), formats: [format] }).verify(mda(full), {
      at: AT,
      nonce: utf8('new-token'),
    });
    expect(v.code).toBe('NONCE_MISMATCH');
  });

  it('a freshness code checked against nothing is not nonce freshness (a replayed certificate stays replayable)', () => {
    const v = createVerifier({ policy: policyFor(ent.root), formats: [format] }).verify(mda(full), {
      at: AT,
    });
    expect(v.freshness).toBe('none');
  });

  it('no freshness code with an expected challenge: NONCE_MISSING', () => {
    const { freshnessCode: _f, ...rest } = full;
    const v = createVerifier({ policy: policyFor(ent.root), formats: [format] }).verify(mda(rest), {
      at: AT,
      nonce: utf8('t'),
    });
    expect(v.code).toBe('NONCE_MISSING');
  });

  it('a freshness code that is not 32 bytes: EXTENSION_MALFORMED', () => {
    const v = createVerifier({ policy: policyFor(ent.root), formats: [format] }).verify(
      mda({ ...full, freshnessCode: new Uint8Array(31) }),
      {
        at: AT,
      },
    );
    expect(v.code).toBe('EXTENSION_MALFORMED');
  });

  it('an MDA chain with only the App Attest root trusted: TRUST_NO_ANCHORS naming the sub-kind', () => {
    const v = createVerifier({ policy: policyFor(pki.root), formats: [format] }).verify(mda(full), {
      at: AT,
    });
    expect(v.code).toBe('TRUST_NO_ANCHORS');
    expect(v.message).toContain('Managed Device Attestation');
    expect(v.message).toContain(ent.root.cert.spkiSha256);
  });

  it('decodeMdaValue: DER strings and integers, raw text, raw bytes', () => {
    expect(decodeMdaValue(der.utf8('17.2'))).toMatchObject({ form: 'der-string', text: '17.2' });
    expect(decodeMdaValue(der.int(1))).toMatchObject({ form: 'der-integer', text: '1' });
    expect(decodeMdaValue(utf8('17.2'))).toMatchObject({ form: 'raw', text: '17.2' });
    expect(decodeMdaValue(Uint8Array.of(0xff, 0x00)).text).toBeUndefined();
    expect(outcome(() => decodeMdaValue(new Uint8Array(300)))).toBe('EXTENSION_MALFORMED');
  });

  it('fuzz: random extension values decode or throw ProvenanceError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        outcome(() => decodeMdaValue(b));
      }),
      fuzzParameters(500),
    );
  });
});

describe('each sub-kind under its own root key (issue #6)', () => {
  const mdaInput = (issuer = ent): EvidenceInput => ({
    kind: 'certificates',
    certificates: [
      mdaLeaf(issuer, { serialNumber: new Uint8Array(Buffer.from('C02XL0AAJGH5')) }).cert,
      issuer.intermediate.cert,
    ],
  });
  /** Both test roots trusted for 'apple', as the policy template trusts both Apple roots. */
  const bothRoots = [ent.root, pki.root];

  it('with both roots trusted, App Attest ends at its root and MDA at its root', () => {
    const app = run(attest(appAttestObject(pki).object), CHALLENGE, bothRoots);
    expect(app.code).toBe('ACCEPTED');
    expect(app.path.at(-1)?.spkiSha256).toBe(pki.root.cert.spkiSha256);
    const dev = run(mdaInput(), null, bothRoots);
    expect(dev.code).toBe('ACCEPTED');
    expect(dev.path.at(-1)?.spkiSha256).toBe(ent.root.cert.spkiSha256);
  });

  it('App Attest evidence with only the Enterprise root trusted: TRUST_NO_ANCHORS naming the key expected', () => {
    const v = run(attest(appAttestObject(pki).object), CHALLENGE, [ent.root]);
    expect(v.code).toBe('TRUST_NO_ANCHORS');
    expect(v.message).toContain('App Attest evidence must end at');
    expect(v.message).toContain(pki.root.cert.spkiSha256);
    expect(v.findings.at(-1)).toMatchObject({ check: 'path', ok: false, code: 'TRUST_NO_ANCHORS' });
  });

  it('App Attest evidence chained to the Enterprise root is refused although that root is trusted', () => {
    const object = appAttestObject(ent).object;
    expect(run(attest(object), CHALLENGE, bothRoots).code).toBe('PATH_NOT_FOUND');
    expect(run(attest(object), CHALLENGE, [ent.root]).code).toBe('TRUST_NO_ANCHORS');
    // Without the scoping (the Enterprise key allowed for App Attest) the same object validates:
    // it is the anchor-key filter that refuses it, not another check.
    const unscoped = createAppleFormat({
      appAttestRootKeys: [pki.root.cert.spkiSha256, ent.root.cert.spkiSha256],
      mdaRootKeys: [ent.root.cert.spkiSha256],
    });
    expect(run(attest(object), CHALLENGE, bothRoots, [unscoped]).code).toBe('ACCEPTED');
  });

  it('MDA evidence chained to the App Attest root is refused although that root is trusted', () => {
    expect(run(mdaInput(pki), null, [pki.root]).code).toBe('TRUST_NO_ANCHORS');
    expect(run(mdaInput(pki), null, bothRoots).code).toBe('PATH_NOT_FOUND');
    const unscoped = createAppleFormat({
      appAttestRootKeys: [pki.root.cert.spkiSha256],
      mdaRootKeys: [pki.root.cert.spkiSha256],
    });
    expect(run(mdaInput(pki), null, bothRoots, [unscoped]).code).toBe('ACCEPTED');
  });

  it('the default format wants the catalogue Apple roots: synthetic roots are TRUST_NO_ANCHORS', () => {
    const app = run(attest(appAttestObject(pki).object), CHALLENGE, bothRoots, [appleFormat]);
    expect(app.code).toBe('TRUST_NO_ANCHORS');
    expect(app.message).toContain('Apple App Attestation Root CA');
    expect(app.message).toContain(catalogEntry(APPLE_ANCHOR_IDS.appAttestationRoot)!.spkiSha256);
    const dev = run(mdaInput(), null, bothRoots, [appleFormat]);
    expect(dev.code).toBe('TRUST_NO_ANCHORS');
    expect(dev.message).toContain('Apple Enterprise Attestation Root CA');
  });

  it('createAppleFormat takes hex keys (any case, optional sha256:) and refuses anything else', () => {
    const key = pki.root.cert.spkiSha256;
    const f = createAppleFormat({ appAttestRootKeys: [`sha256:${key.toUpperCase()}`], mdaRootKeys: [key] });
    expect(run(attest(appAttestObject(pki).object), CHALLENGE, [pki.root], [f]).code).toBe('ACCEPTED');
    expect(() => createAppleFormat({ appAttestRootKeys: [] })).toThrow(TypeError);
    expect(() => createAppleFormat({ mdaRootKeys: ['apple-enterprise-attestation-root'] })).toThrow(
      TypeError,
    );
  });
});
