/**
 * Test builder for KeyDescription values (standards.md §4.2): the generated chains of the
 * negative tests carry these, and the parser's strictness tests break them on purpose.
 */
import { concat, der, tlvHighTag } from '../../../src/core/der-writer.js';

/** [n] EXPLICIT with any tag number (Android tags go up to 724). */
export const tag = (n: number, inner: Uint8Array): Uint8Array => tlvHighTag(2, true, n, inner);

/** One AuthorizationList from (tag, inner element) pairs, in the given order. */
export const authList = (...items: (readonly [number, Uint8Array])[]): Uint8Array =>
  der.seq(...items.map(([n, v]) => tag(n, v)));

export const intSet = (...v: number[]): Uint8Array => der.setOf(...v.map((x) => der.int(x)));

export interface KeyDescriptionSpec {
  attestationVersion?: number;
  attestationSecurityLevel?: number;
  keyMintVersion?: number;
  keyMintSecurityLevel?: number;
  challenge?: Uint8Array;
  uniqueId?: Uint8Array;
  software?: Uint8Array;
  hardware?: Uint8Array;
}

/** A RootOfTrust; `hash` omitted gives the pre-version-3 three-member form. */
export function rootOfTrust(locked = true, state = 0, hash?: Uint8Array): Uint8Array {
  return der.seq(
    der.octets(new Uint8Array(32).fill(0xab)),
    der.bool(locked),
    der.enumerated(state),
    ...(hash ? [der.octets(hash)] : []),
  );
}

/** An AttestationApplicationId (inner DER). */
export function applicationId(packages: [string, number][], digests: Uint8Array[]): Uint8Array {
  return der.seq(
    der.setOf(...packages.map(([n, v]) => der.seq(der.octets(new TextEncoder().encode(n)), der.int(v)))),
    der.setOf(...digests.map((d) => der.octets(d))),
  );
}

/** A typical TEE hardware list: sign, EC P-256, generated, locked and verified. */
export function teeHardwareList(
  overrides: { origin?: number; locked?: boolean; purposes?: number[] } = {},
): Uint8Array {
  return authList(
    [1, intSet(...(overrides.purposes ?? [2]))],
    [2, der.int(3)],
    [3, der.int(256)],
    [5, intSet(4)],
    [10, der.int(1)],
    [503, der.null()],
    [702, der.int(overrides.origin ?? 0)],
    [704, rootOfTrust(overrides.locked ?? true, 0, new Uint8Array(32).fill(1))],
    [705, der.int(140000)],
    [706, der.int(202408)],
    [713, der.octets(new TextEncoder().encode('SERIAL123'))],
    [717, der.octets(new TextEncoder().encode('Pixel Test'))],
    [718, der.int(20240805)],
    [719, der.int(20240805)],
  );
}

/** A typical software list: creation time and the requesting app. */
export function softwareList(): Uint8Array {
  return authList(
    [701, der.int(1_727_389_885_676)],
    [709, der.octets(applicationId([['com.example.app', 7]], [new Uint8Array(32).fill(0x5a)]))],
  );
}

/** A KeyDescription SEQUENCE (the extension value). */
export function keyDescription(s: KeyDescriptionSpec = {}): Uint8Array {
  return der.seq(
    der.int(s.attestationVersion ?? 300),
    der.enumerated(s.attestationSecurityLevel ?? 1),
    der.int(s.keyMintVersion ?? 300),
    der.enumerated(s.keyMintSecurityLevel ?? 1),
    der.octets(s.challenge ?? new TextEncoder().encode('challenge')),
    der.octets(s.uniqueId ?? new Uint8Array(0)),
    s.software ?? softwareList(),
    s.hardware ?? teeHardwareList(),
  );
}

export { concat };
