/**
 * YubiKey PIV (MANIFEST.md §1): each slot attestation certificate goes through
 * `createVerifier(...).verify` with its F9 device certificate (and, for the 2024 PKI, the
 * tier-1/tier-2 intermediates that are not on the device), under a policy that trusts the three
 * Yubico roots for `yubikey-piv` by key. The F9 file of a pair runs the same case as its slot
 * file. The OpenSSH keys must match their slot certificate's key. Roots and bundles must parse.
 */
import { fail } from '../../src/core/errors.js';
import { YUBICO_ANCHOR_IDS } from '../../src/formats/yubikey-piv/index.js';
import type { Certificate } from '../../src/pki/certificate.js';
import { describeKey } from '../../src/pki/keys.js';
import { policyFromOptions } from '../../src/policy/from-options.js';
import { createVerifier } from '../../src/verify/verifier.js';
import { type Actual, attempt, type Expectation } from './model.js';
import type { Vectors } from './vectors.js';

const YK = 'yubikey-piv/';

/** slot file → the F9 file and the extra intermediates of its pair. */
const PAIRS: Readonly<Record<string, { f9: string; extra?: string }>> = {
  'ovh-yubico-piv-checker/yk-fw4.3.5-sn5970478_9a-slot-attestation.pem': {
    f9: 'ovh-yubico-piv-checker/yk-fw4.3.5-sn5970478_f9-intermediate.pem',
  },
  'ovh-yubico-piv-checker/yk-fw5.7.4-sn32718477_9a-slot-attestation.pem': {
    f9: 'ovh-yubico-piv-checker/yk-fw5.7.4-sn32718477_f9-intermediate.pem',
    // Tier-1/tier-2 intermediates are not on the device (standards.md §1.3): appended.
    extra: 'smallstep-crypto/yubico-piv-attestation-B1_bundle.pem',
  },
  'piv-go/yk-a_2016-piv-root_9a-slot-attestation.pem': {
    f9: 'piv-go/yk-a_2016-piv-root_f9-intermediate.pem',
  },
  'piv-go/yk-b_2018-u2f-root_9a-slot-attestation.pem': {
    f9: 'piv-go/yk-b_2018-u2f-root_f9-intermediate_no-basicConstraints.pem',
  },
};

/** The documented wrong pairings (piv-go InvalidChain / InvalidChain2): slot ⊕ F9 of another key. */
export const YUBIKEY_COMBINATIONS: readonly string[] = [
  `${YK}piv-go/yk-a_2016-piv-root_9a-slot-attestation.pem ⊕ ${YK}piv-go/yk-b_2018-u2f-root_f9-intermediate_no-basicConstraints.pem`,
  `${YK}piv-go/yk-b_2018-u2f-root_9a-slot-attestation.pem ⊕ ${YK}piv-go/yk-a_2016-piv-root_f9-intermediate.pem`,
];

const ROOTS = {
  [YUBICO_ANCHOR_IDS.pivRoot]: 'piv-go/yubico-piv-root-ca-serial-263751.pem',
  [YUBICO_ANCHOR_IDS.u2fRoot]: 'piv-go/yubico-u2f-root-ca-serial-457200631.pem',
  [YUBICO_ANCHOR_IDS.attestationRoot1]: 'smallstep-certificates/yubico-attestation-root-1.pem',
};

function verifyPair(v: Vectors, certificates: Certificate[], exp: Expectation | null): Actual {
  const policy = policyFromOptions({
    trust: Object.entries(ROOTS).map(([id, f]) => ({
      certificate: v.cert(YK + f),
      id,
      formats: ['yubikey-piv'],
    })),
    source: 'conformance:vectors yubikey-piv',
  });
  const verdict = createVerifier({ policy }).verify(
    { kind: 'certificates', certificates },
    exp?.at === undefined ? {} : { at: exp.at },
  );
  const quirks = verdict.quirks.map((q) => q.id).join(', ');
  return verdict.accepted
    ? {
        outcome: 'accept',
        message: `${verdict.format} under ${verdict.path.at(-1)?.anchor}${quirks ? `; quirks: ${quirks}` : ''}`,
      }
    : { outcome: 'reject', code: verdict.code, message: verdict.message };
}

/** OpenSSH `ssh-rsa`/`ecdsa-sha2-*` line → compare with the slot certificate's key (modulus or point). */
function sshMatches(v: Vectors, sshFile: string, slotFile: string): Actual {
  const line = v.text(sshFile).trim().split('\n')[0]!;
  const [type, b64] = line.split(/\s+/);
  if (!type || !b64) fail('KEY_MALFORMED', 'not an OpenSSH public key line');
  const blob = Buffer.from(b64, 'base64');
  const fields: Buffer[] = [];
  for (let pos = 0; pos + 4 <= blob.length; ) {
    const len = blob.readUInt32BE(pos);
    if (pos + 4 + len > blob.length) fail('KEY_MALFORMED', 'truncated OpenSSH key blob');
    fields.push(blob.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  const slot = describeKey(v.cert(YK + slotFile).spki);
  if (type === 'ssh-rsa') {
    const n = BigInt(`0x${fields[2]?.toString('hex') ?? '0'}`);
    if (slot.rsaModulus !== n) fail('KEY_MISMATCH', 'the OpenSSH key is not the slot key');
    return { outcome: 'parse', message: 'matches the slot certificate key' };
  }
  return fail('ALGORITHM_UNSUPPORTED', `OpenSSH key type ${type}`);
}

/** Run one yubikey-piv entry (a file under vectors/ or a combination). */
export function runYubikey(v: Vectors, entry: string, exp: Expectation | null): Actual {
  return attempt(() => {
    if (entry.includes(' ⊕ ')) {
      const [slot, f9] = entry.split(' ⊕ ') as [string, string];
      return verifyPair(v, [...v.certs(f9), ...v.certs(slot)], exp);
    }
    const rel = entry.slice(YK.length);
    const slotOf = Object.entries(PAIRS).find(([s, p]) => s === rel || p.f9 === rel);
    if (slotOf) {
      const [slot, p] = slotOf;
      return verifyPair(
        v,
        [...v.certs(YK + p.f9), ...v.certs(YK + slot), ...(p.extra ? v.certs(YK + p.extra) : [])],
        exp,
      );
    }
    if (rel.endsWith('_ssh-pubkey.txt'))
      return sshMatches(v, entry, rel.replace('_ssh-pubkey.txt', '_9a-slot-attestation.pem'));
    const n = v.certs(entry).length;
    return { outcome: 'parse', message: `${n} certificate(s)` };
  });
}
