/**
 * The TPM activation/binding repository on every backend: round trips, the atomic single-use
 * consume (wrong hash, expired, reused, out of tries) and concurrent consumers, wrong-try
 * counting, bindings unique per activation and listed per code.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Store, TpmActivationRecord, TpmBindingRecord } from '../../src/store/index.js';
import { describeBackends } from './backends.js';
import { enrollmentCode, hash, MINUTE, T0 } from './records.js';

function activation(codeId: string, over: Partial<TpmActivationRecord> = {}): TpmActivationRecord {
  return {
    id: randomUUID(),
    codeId,
    secretHash: hash('secret'),
    akName: Uint8Array.from([0, 0x0b, ...new Array(32).fill(7)]),
    akPublic: Uint8Array.from([0, 0x23, 0, 0x0b, 1, 2, 3]),
    ekCertificates: [Uint8Array.from([0x30, 1, 2]), Uint8Array.from([0x30, 3])],
    ekSpkiSha256: 'ab'.repeat(32),
    createdAt: T0,
    expiresAt: T0 + 5 * MINUTE,
    failedAttempts: 0,
    consumedAt: null,
    ...over,
  };
}

async function setup(store: Store): Promise<{ codeId: string; tpm: NonNullable<Store['tpm']> }> {
  const code = enrollmentCode();
  await store.codes.create(code);
  if (store.tpm === undefined) throw new Error('store has no TPM repository');
  return { codeId: code.id, tpm: store.tpm };
}

describeBackends('store TPM activations and bindings', (backend) => {
  it('stores an activation and reads it back (hash only, certificates in order)', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId, tpm } = await setup(store);
    const a = activation(codeId);
    await tpm.createActivation(a);
    expect(await tpm.getActivation(a.id)).toEqual(a);
    expect(await tpm.getActivation('nope')).toBeNull();
  });

  it('consumes once with the right hash, never with a wrong one, never twice', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId, tpm } = await setup(store);
    const a = activation(codeId);
    await tpm.createActivation(a);
    expect(await tpm.consumeActivation(a.id, codeId, hash('wrong'), T0 + 1, 3)).toBeNull();
    expect(await tpm.consumeActivation(a.id, 'other-code', a.secretHash, T0 + 1, 3)).toBeNull();
    const won = await tpm.consumeActivation(a.id, codeId, a.secretHash, T0 + 1, 3);
    expect(won?.consumedAt).toBe(T0 + 1);
    expect(await tpm.consumeActivation(a.id, codeId, a.secretHash, T0 + 2, 3)).toBeNull();
  });

  it('refuses an expired activation', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId, tpm } = await setup(store);
    const a = activation(codeId);
    await tpm.createActivation(a);
    expect(await tpm.consumeActivation(a.id, codeId, a.secretHash, a.expiresAt, 3)).toBeNull();
  });

  it('counts wrong tries up to the limit; then even the right secret is refused', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId, tpm } = await setup(store);
    const a = activation(codeId);
    await tpm.createActivation(a);
    expect(await tpm.failActivation(a.id, codeId, T0 + 1, 2)).toBe(1);
    expect(await tpm.failActivation(a.id, codeId, T0 + 1, 2)).toBe(2);
    expect(await tpm.failActivation(a.id, codeId, T0 + 1, 2)).toBeNull();
    expect(await tpm.consumeActivation(a.id, codeId, a.secretHash, T0 + 1, 2)).toBeNull();
  });

  it('lets exactly one of many concurrent consumers win', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId, tpm } = await setup(store);
    const a = activation(codeId);
    await tpm.createActivation(a);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => tpm.consumeActivation(a.id, codeId, a.secretHash, T0 + 1, 3)),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it('stores one binding per activation and lists a code’s bindings', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId, tpm } = await setup(store);
    const a = activation(codeId);
    await tpm.createActivation(a);
    const binding: TpmBindingRecord = {
      id: randomUUID(),
      codeId,
      activationId: a.id,
      akName: a.akName,
      akPublic: a.akPublic,
      ekCertificates: a.ekCertificates,
      ekSpkiSha256: a.ekSpkiSha256,
      boundAt: T0 + 2,
    };
    await tpm.insertBinding(binding);
    expect(await tpm.getBinding(binding.id)).toEqual(binding);
    expect(await tpm.bindingsForCode(codeId)).toEqual([binding]);
    expect(await tpm.bindingsForCode('other')).toEqual([]);
    await expect(tpm.insertBinding({ ...binding, id: randomUUID() })).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
    });
  });

  it('works inside a transaction with the repositories it receives', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId } = await setup(store);
    const a = activation(codeId);
    await store.transaction(async (tx) => {
      await tx.tpm?.createActivation(a);
      expect(await tx.tpm?.consumeActivation(a.id, codeId, a.secretHash, T0 + 1, 3)).not.toBeNull();
    });
    expect((await store.tpm?.getActivation(a.id))?.consumedAt).toBe(T0 + 1);
  });

  it('counts open activations per code (not consumed, expired or dead ones)', async (ctx) => {
    const store = await backend.open(ctx);
    const { codeId, tpm } = await setup(store);
    const open = activation(codeId);
    const used = activation(codeId);
    const old = activation(codeId, { expiresAt: T0 });
    const dead = activation(codeId, { failedAttempts: 3 });
    for (const a of [open, used, old, dead]) await tpm.createActivation(a);
    await tpm.consumeActivation(used.id, codeId, used.secretHash, T0 + 1, 3);
    expect(await tpm.countOpenActivations(codeId, T0 + 1, 3)).toBe(1);
    expect(await tpm.countOpenActivations('other', T0 + 1, 3)).toBe(0);
  });
});
