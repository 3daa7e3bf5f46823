/**
 * Synthetic Marvell attestation blobs and cloud HSM PKIs for the cloud-hsm tests: the layout
 * of src/formats/cloud-hsm/blob.ts, signed with a test partition key, and two chains for that
 * key (manufacturer: partition ← card ← root; owner: partition ← owner root).
 */
import { sign } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MARVELL_ATTR, MARVELL_CLASS, MARVELL_KEY_TYPE } from '../../../src/formats/cloud-hsm/blob.js';
import { ecKey, issue, rsaKey, type TestCert, type TestKey } from '../../helpers/pki.js';

export type Attr = readonly [number, Uint8Array];

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const bool = (v: boolean): Uint8Array => Uint8Array.of(v ? 1 : 0);

/** Encode one object: handle, count, size, attributes. */
export function object(handle: number, attrs: readonly Attr[]): Buffer {
  const body = Buffer.concat(attrs.map(([t, v]) => Buffer.concat([u32(t), u32(v.length), Buffer.from(v)])));
  return Buffer.concat([u32(handle), u32(attrs.length), u32(body.length), body]);
}

/** The unsigned record for objects (1 or 2) with the given handles. */
export function record(objects: readonly { handle: number; attrs: readonly Attr[] }[]): Buffer {
  const encoded = objects.map((o) => object(o.handle, o.attrs));
  const first = 8;
  const second = objects.length > 1 ? first + encoded[0]!.length : 0;
  const info = Buffer.concat([u16(1), u16(3), u16(first), u16(second)]);
  const buffer = Buffer.concat([info, ...encoded]);
  const handles = Buffer.concat(objects.map((o) => Buffer.concat([u32(0), u32(o.handle)])));
  const total = 16 + handles.length + buffer.length + 256;
  return Buffer.concat([u32(0), u32(3), u32(total), u32(buffer.length), handles, buffer]);
}

/** Attributes of a key pair's objects for an EC P-256 key. */
export function ecPairAttrs(
  point: Uint8Array,
  flags: { local?: boolean; extractable?: boolean; neverExtractable?: boolean } = {},
): { pub: Attr[]; priv: Attr[] } {
  const common = (cls: number): Attr[] => [
    [MARVELL_ATTR.class, Uint8Array.of(cls)],
    [MARVELL_ATTR.keyType, Uint8Array.of(MARVELL_KEY_TYPE.ec)],
    [MARVELL_ATTR.modulus, point],
  ];
  return {
    pub: [
      ...common(MARVELL_CLASS.publicKey),
      [MARVELL_ATTR.extractable, bool(true)],
      [MARVELL_ATTR.neverExtractable, bool(false)],
      [MARVELL_ATTR.local, bool(true)],
      [MARVELL_ATTR.sensitive, bool(false)],
    ],
    priv: [
      ...common(MARVELL_CLASS.privateKey),
      [MARVELL_ATTR.extractable, bool(flags.extractable ?? false)],
      [MARVELL_ATTR.neverExtractable, bool(flags.neverExtractable ?? true)],
      [MARVELL_ATTR.local, bool(flags.local ?? true)],
      [MARVELL_ATTR.sensitive, bool(true)],
    ],
  };
}

/** Sign a record with the partition key (RSASSA-PKCS1-v1_5, SHA-256). */
export function signRecord(unsigned: Uint8Array, partition: TestKey): Buffer {
  return Buffer.concat([unsigned, sign('sha256', unsigned, partition.privateKey)]);
}

/** The uncompressed point of an EC test key (last 65 bytes of a P-256 SPKI). */
export function pointOf(key: TestKey): Uint8Array {
  return key.spki.slice(key.spki.length - 65);
}

export interface HsmPki {
  readonly root: TestCert;
  readonly card: TestCert;
  readonly partition: TestCert;
  readonly ownerRoot: TestCert;
  readonly ownerPartition: TestCert;
  readonly partitionKey: TestKey;
}

let sharedPartitionKey: TestKey | undefined;

/** Two chains for one RSA-2048 partition key (generated once per file). */
export function hsmPki(): HsmPki {
  sharedPartitionKey ??= rsaKey(2048);
  const partitionKey = sharedPartitionKey;
  const root = issue({ subject: 'Test HSM Maker Root', key: ecKey('P-384'), ca: {} });
  const card = issue({ subject: 'HSM:TEST-CARD', key: ecKey(), issuer: root, ca: {} });
  const partition = issue({ subject: 'HSM:TEST-CARD:PARTN:1', key: partitionKey, issuer: card });
  const ownerRoot = issue({ subject: 'Test Cloud Owner Root', key: ecKey('P-384'), ca: {} });
  const ownerPartition = issue({ subject: 'HSM:TEST-CARD:PARTN:1', key: partitionKey, issuer: ownerRoot });
  return { root, card, partition, ownerRoot, ownerPartition, partitionKey };
}

/** A signed, gzip'd blob attesting `key` (EC P-256) under the PKI's partition key. */
export function ecBlob(pki: HsmPki, key: TestKey, flags: Parameters<typeof ecPairAttrs>[1] = {}): Buffer {
  const { pub, priv } = ecPairAttrs(pointOf(key), flags);
  return gzipSync(
    signRecord(
      record([
        { handle: 10, attrs: pub },
        { handle: 11, attrs: priv },
      ]),
      pki.partitionKey,
    ),
  );
}
