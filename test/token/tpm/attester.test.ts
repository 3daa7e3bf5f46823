/**
 * The TPM driver with a recorded fake runner: the tpm2-tools command sequence, the raw
 * TPM2_Certify fallback (tpm2-tools 5.4 has no `tpm2_certify -q`), the two-pass CSR signing,
 * and every failure as a ProvenanceError with its code. Real TPM behaviour: swtpm-attester.test.ts.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isProvenanceError } from '../../../src/core/errors.js';
import { OID } from '../../../src/core/oids.js';
import { parseCsr, verifyCsrSignature } from '../../../src/pki/csr.js';
import {
  createTpmAttester,
  decodeCertifyResponse,
  encodeCertifyCommand,
  spawnRunner,
  type ToolCall,
  type ToolResult,
} from '../../../src/token/tpm/index.js';
import { fuzzParameters, outcome } from '../../helpers/fuzz.js';
import { ecKey, issue } from '../../helpers/pki.js';

const EK_CERT = issue({ subject: 'fake EK', key: ecKey(), notCa: true }).der;

import { tpmTctiOf } from '../../../src/cli/enroll.js';
import { runCli } from '../../helpers/cli.js';

/** A TPM2_Certify response recorded from swtpm 0.7.1 (nonce 00112233445566778899aabbccddeeff). */
const RECORDED_CERTIFY_RESPONSE = Buffer.from(
  '8002000000ff00000000000000e7009dff54434780170022000befa9e119feeb' +
    '0e99922719cd39dec2fe4b449c0043b61b95e2dd868ad08d0c41001000112233' +
    '445566778899aabbccddeeff000000000000813d000000020000000001201910' +
    '23001636360022000b625554cafceba0a237194342b81af69e7bfb285232804d' +
    'b5454419beac8039830022000b5a88805293d21b55a6f828b0aab1f689e74d1d' +
    '89320e7d62e4b3f5d76e728a080018000b0020d1e6d610a9bd4897b26dd5cad0' +
    '005ed2992b81b317b3dc6287bfe8bfe868cda7002033af2f65ad2def71091e48' +
    '0d50aae871df100c13477806ec2992748d2854ca4100000100000000010000',
  'hex',
);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Fake {
  calls: ToolCall[];
  runner: (c: ToolCall) => Promise<ToolResult>;
  key: KeyObject;
}

/** A fake tpm2-tools: writes the files each tool would, signs with a software key. */
function fakeTools(o: { certifyHasQ?: boolean; fail?: string; keyType?: 'ec' | 'rsa' } = {}): Fake {
  const { privateKey } =
    o.keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const calls: ToolCall[] = [];
  const ok = (stdout: Uint8Array | string = ''): ToolResult => ({
    status: 0,
    stdout: typeof stdout === 'string' ? new Uint8Array(Buffer.from(stdout)) : stdout,
    stderr: '',
  });
  let loaded = 0;
  const runner = async (c: ToolCall): Promise<ToolResult> => {
    calls.push(c);
    const at = (name: string) => join(c.cwd, name);
    const arg = (flag: string) => c.args[c.args.indexOf(flag) + 1]!;
    if (c.tool === o.fail)
      return { status: 1, stdout: new Uint8Array(), stderr: 'WARN: x\nERROR: the TPM said no\n' };
    switch (c.tool) {
      case 'tpm2_flushcontext':
        if (c.args[0] === '-t') loaded = 0;
        return ok();
      case 'tpm2_createprimary':
      case 'tpm2_load':
      case 'tpm2_startauthsession':
      case 'tpm2_policysecret':
        return ok();
      case 'tpm2_create':
        writeFileSync(at(arg('-u')), Buffer.from([0, 4, 0, 0x23, 0, 0x0b]));
        writeFileSync(at(arg('-r')), Buffer.from([0, 1, 0]));
        return ok();
      case 'tpm2_readpublic':
        if (c.args.includes('-o'))
          writeFileSync(at(arg('-o')), createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
        loaded++;
        return ok();
      case 'tpm2_getcap':
        return ok(Array.from({ length: loaded }, (_, i) => `- 0x8000000${i}\n`).join(''));
      case 'tpm2_createek':
        writeFileSync(at('ek.pub'), Buffer.from([0, 2, 0, 1]));
        return ok();
      case 'tpm2_getekcertificate':
        // The certificate followed by NV padding, which the driver must cut off.
        writeFileSync(at('ek.crt'), Buffer.concat([EK_CERT, Buffer.from([0xff, 0xff])]));
        return ok();
      case 'tpm2_createak':
        writeFileSync(at('ak.ctx'), 'ctx');
        writeFileSync(at('ak.pub'), Buffer.from([0, 2, 0, 0x23]));
        writeFileSync(at('ak.name'), Buffer.alloc(34, 1));
        return ok();
      case 'tpm2_activatecredential':
        writeFileSync(at(arg('-o')), 'the-secret');
        return ok();
      case 'tpm2_certify':
        if (c.args[0] === '-h')
          return ok(o.certifyHasQ ? '[ -q | --qualification=<value>]' : '[ -g | --hash-algorithm=<value>]');
        writeFileSync(at(arg('-o')), Buffer.from('attest'));
        writeFileSync(at(arg('-s')), Buffer.from('signature'));
        return ok();
      case 'tpm2_send':
        return ok(new Uint8Array(RECORDED_CERTIFY_RESPONSE));
      case 'tpm2_sign': {
        const data = require_(c.args[c.args.length - 1]!, c.cwd);
        writeFileSync(at(arg('-o')), sign('sha256', data, privateKey));
        return ok();
      }
      default:
        return { status: 127, stdout: new Uint8Array(), stderr: `unexpected ${c.tool}` };
    }
  };
  return { calls, runner, key: privateKey };
}

function require_(name: string, cwd: string): Buffer {
  return readFileSync(join(cwd, name));
}

function attesterWith(fake: Fake, extra: { keyAttributes?: string } = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), 'provenance-tpm-unit-'));
  dirs.push(stateDir);
  return createTpmAttester({
    tcti: 'swtpm:host=127.0.0.1,port=1',
    stateDir,
    runner: fake.runner,
    clock: () => 0,
    ...extra,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isProvenanceError(err)) return err.code;
    throw err;
  }
}

const tools = (f: Fake) => f.calls.map((c) => `${c.tool} ${c.args.join(' ')}`.trim());

describe('TPM attester (fake tpm2-tools)', () => {
  it('makes a key under the SRK with fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign', async () => {
    const fake = fakeTools();
    const tpm = attesterWith(fake);
    const key = await tpm.generateKey({
      label: 'k1',
      algorithm: 'p256',
      pinPolicy: 'never',
      touchPolicy: 'never',
    });
    expect(key.algorithm).toBe('p256');
    const create = tools(fake).find((t) => t.startsWith('tpm2_create '))!;
    expect(create).toContain('-G ecc256:ecdsa-sha256');
    expect(create).toContain('-a fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign');
    expect(tools(fake)).toContain('tpm2_createprimary -C o -g sha256 -G ecc -c srk.ctx');
    expect((await tpm.listKeys()).map((k) => k.label)).toEqual(['k1']);
  });

  it('refuses what a TPM key cannot be: other algorithms, touch, a taken or malformed label', async () => {
    const tpm = attesterWith(fakeTools());
    const base = { label: 'k', algorithm: 'p256', pinPolicy: 'never', touchPolicy: 'never' } as const;
    expect(await codeOf(tpm.generateKey({ ...base, algorithm: 'ed25519' }))).toBe('ALGORITHM_UNSUPPORTED');
    expect(await codeOf(tpm.generateKey({ ...base, touchPolicy: 'always' }))).toBe('USAGE');
    expect(await codeOf(tpm.generateKey({ ...base, pinPolicy: 'always' }))).toBe('USAGE');
    expect(await codeOf(tpm.generateKey({ ...base, label: '../x' }))).toBe('USAGE');
    await tpm.generateKey(base);
    expect(await codeOf(tpm.generateKey(base))).toBe('TOKEN_KEY_EXISTS');
    expect(await codeOf(tpm.sign('nope', new Uint8Array(1)))).toBe('TOKEN_KEY_NOT_FOUND');
  });

  it('signs a CSR in the TPM with the certify statement, the EK certificate and the nonce (raw certify path)', async () => {
    for (const keyType of ['ec', 'rsa'] as const) {
      const fake = fakeTools({ keyType });
      const tpm = attesterWith(fake);
      await tpm.generateKey({
        label: 'k',
        algorithm: keyType === 'ec' ? 'p256' : 'rsa2048',
        pinPolicy: 'never',
        touchPolicy: 'never',
      });
      const nonce = new Uint8Array(32).fill(7);
      const csr = parseCsr(await tpm.signCsr({ label: 'k', subject: 'CN=placeholder', nonce }));
      verifyCsrSignature(csr);
      expect(Buffer.from(csr.attestation!.certificates[0]!.der)).toEqual(Buffer.from(EK_CERT));
      expect(csr.attestation?.statements[0]?.type).toBe(OID.tcgAttestTpmCertify);
      expect(Buffer.from(csr.nonce!)).toEqual(Buffer.from(nonce));
      const send = fake.calls.find((c) => c.tool === 'tpm2_send')!;
      expect(Buffer.from(send.input!).subarray(-34, -2)).toEqual(Buffer.from(nonce));
      // A TPM2_Certify command: sessions tag, TPM_CC_Certify, key then AK handle.
      expect(Buffer.from(send.input!).readUInt32BE(6)).toBe(0x148);
      expect(Buffer.from(send.input!).readUInt32BE(10)).toBe(0x80000000);
      expect(Buffer.from(send.input!).readUInt32BE(14)).toBe(0x80000001);
    }
  });

  it('uses tpm2_certify -q when the installed tpm2-tools has it', async () => {
    const fake = fakeTools({ certifyHasQ: true });
    const tpm = attesterWith(fake);
    await tpm.generateKey({ label: 'k', algorithm: 'p256', pinPolicy: 'never', touchPolicy: 'never' });
    const c = await tpm.certify('k', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(Buffer.from(c.attest).toString()).toBe('attest');
    expect(
      tools(fake).some((t) =>
        t.includes('tpm2_certify -c keys/k.ctx -C ak.ctx -g sha256 -q 0102030405060708'),
      ),
    ).toBe(true);
    expect(fake.calls.some((x) => x.tool === 'tpm2_send')).toBe(false);
  });

  it('activates with a PolicySecret(endorsement) session and the tpm2-tools credential file', async () => {
    const fake = fakeTools();
    const tpm = attesterWith(fake);
    const blob = new Uint8Array([0, 3, 1, 2, 3]);
    const secret = new Uint8Array([0, 2, 9, 9]);
    const got = await tpm.activateCredential(blob, secret);
    expect(Buffer.from(got).toString()).toBe('the-secret');
    const seq = tools(fake).filter((t) => !t.startsWith('tpm2_flushcontext -t'));
    const i = seq.indexOf('tpm2_startauthsession --policy-session -S session.ctx');
    expect(seq.slice(i, i + 4)).toEqual([
      'tpm2_startauthsession --policy-session -S session.ctx',
      'tpm2_policysecret -S session.ctx -c e',
      'tpm2_activatecredential -c ak.ctx -C ek.ctx -i cred.in -o secret.out -P session:session.ctx',
      'tpm2_flushcontext session.ctx',
    ]);
    expect(await codeOf(tpm.activateCredential(new Uint8Array([0, 9, 1]), secret))).toBe('TPM_MALFORMED');
  });

  it('reads the EK certificate without the NV padding', async () => {
    const tpm = attesterWith(fakeTools());
    const { ekCertificate, ekPublic } = await tpm.endorsement();
    expect(Buffer.from(ekCertificate)).toEqual(Buffer.from(EK_CERT));
    expect([...ekPublic]).toEqual([0, 1]);
  });

  it('a failing tool is TPM_TOOL_FAILED with its last error line', async () => {
    const tpm = attesterWith(fakeTools({ fail: 'tpm2_createek' }));
    try {
      await tpm.endorsement();
      expect.fail('should throw');
    } catch (err) {
      expect(isProvenanceError(err, 'TPM_TOOL_FAILED')).toBe(true);
      expect((err as Error).message).toContain('the TPM said no');
    }
  });
});

describe('raw TPM2_Certify', () => {
  it('decodes the recorded swtpm answer: TPMS_ATTEST (CERTIFY, our nonce) and an ECDSA TPMT_SIGNATURE', () => {
    const r = decodeCertifyResponse(new Uint8Array(RECORDED_CERTIFY_RESPONSE));
    const a = Buffer.from(r.attest);
    expect(a.readUInt32BE(0)).toBe(0xff544347);
    expect(a.readUInt16BE(4)).toBe(0x8017);
    expect(a.subarray(0x2c, 0x3c).toString('hex')).toBe('00112233445566778899aabbccddeeff');
    expect(Buffer.from(r.signature).readUInt16BE(0)).toBe(0x0018);
  });

  it('encodes the command with two empty password sessions and a NULL scheme', () => {
    const cmd = Buffer.from(encodeCertifyCommand(0x80000000, 0x80000001, new Uint8Array([0xaa, 0xbb])));
    expect(cmd.toString('hex')).toBe(
      '80020000002e000001488000000080000001000000124000000900000000004000000900000000000002aabb0010',
    );
    expect(outcome(() => encodeCertifyCommand(1, 2, new Uint8Array(67)))).toBe('USAGE');
  });

  it('a TPM error is TPM_TOOL_FAILED; a short or inconsistent answer is TPM_MALFORMED', () => {
    expect(outcome(() => decodeCertifyResponse(Buffer.from('80010000000a00000184', 'hex')))).toBe(
      'TPM_TOOL_FAILED',
    );
    expect(
      outcome(() => decodeCertifyResponse(new Uint8Array(RECORDED_CERTIFY_RESPONSE.subarray(0, 40)))),
    ).toBe('TPM_MALFORMED');
  });

  it('random and mutated answers only ever throw ProvenanceError', () => {
    const seed = new Uint8Array(RECORDED_CERTIFY_RESPONSE);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
            const m = seed.slice();
            m[i] = v;
            return m;
          }),
          fc.nat(seed.length).map((n) => seed.slice(0, n)),
        ),
        (bytes) => {
          outcome(() => decodeCertifyResponse(bytes));
        },
      ),
      fuzzParameters(500),
    );
  });
});

describe('--token tpm:<tcti>', () => {
  it('takes swtpm and device TCTIs, refuses anything shell-ish', () => {
    expect(tpmTctiOf('tpm:swtpm:host=127.0.0.1,port=2321')).toBe('swtpm:host=127.0.0.1,port=2321');
    expect(tpmTctiOf('tpm:device:/dev/tpmrm0')).toBe('device:/dev/tpmrm0');
    expect(tpmTctiOf('alice.token')).toBeNull();
    expect(outcome(() => tpmTctiOf('tpm:swtpm:host=x;rm -rf'))).toBe('USAGE');
  });

  it('--tpm-state and --ek-chain without a TPM token are USAGE (exit 2), before any request', async () => {
    const out = mkdtempSync(join(tmpdir(), 'provenance-tpm-cli-'));
    dirs.push(out);
    const r = await runCli([
      'enroll',
      '--server',
      'http://127.0.0.1:9',
      '--code',
      'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '--token',
      'alice.token',
      '--tpm-state',
      'somewhere',
      '-o',
      join(out, 'x.pem'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--tpm-state and --ek-chain go with --token tpm:<tcti>');
  });
});

describe('spawnRunner', () => {
  it('passes only PATH and TPM2TOOLS_TCTI, feeds stdin, and a missing tool is TPM_TOOL_FAILED', async () => {
    const run = spawnRunner({ tcti: 'swtpm:host=127.0.0.1,port=2321' });
    const env = await run({ tool: 'env', args: [], cwd: tmpdir() });
    expect(Buffer.from(env.stdout).toString().trim().split('\n').sort()).toEqual([
      `PATH=${process.env['PATH']}`,
      'TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=2321',
    ]);
    const cat = await run({ tool: 'cat', args: [], cwd: tmpdir(), input: new Uint8Array([1, 2, 3]) });
    expect([...cat.stdout]).toEqual([1, 2, 3]);
    const missing = spawnRunner({ tcti: 'device:/dev/null', path: '/nonexistent' });
    expect(await codeOf(missing({ tool: 'tpm2_createek', args: [], cwd: tmpdir() }))).toBe('TPM_TOOL_FAILED');
  });
});
