/**
 * Glue between the verifier and `checkRevocation`: picks the trust entry's settings for the
 * anchor the path ended at, assembles its sources (policy files, then fetched data from the
 * provider), and maps certificate indexes to verdict path positions.
 *
 * @example
 * const outcome = revocationStage({ policy, validated, result, provider, time: at, cache });
 */
import type { FormatResult } from '../../formats/types.js';
import type { KeyCache } from '../../pki/keys.js';
import type { ValidatedPath } from '../../pki/path.js';
import type { Policy } from '../../policy/model.js';
import { checkRevocation, type RevocationOutcome } from './check.js';
import {
  type AnchorRevocation,
  DEFAULT_REVOCATION_MODE,
  type RevocationProvider,
  type RevocationSource,
} from './types.js';

/** Inputs of `revocationStage`. */
export interface RevocationStageInput {
  readonly policy: Policy;
  readonly validated: ValidatedPath;
  readonly result: Pick<FormatResult, 'attestationCertificate' | 'boundSigner'>;
  readonly provider: RevocationProvider | undefined;
  readonly time: number;
  readonly cache?: KeyCache;
}

/** The trust entry's revocation settings for an anchor id, or undefined for the defaults. */
export function revocationSettings(policy: Policy, anchorId: string): AnchorRevocation | undefined {
  return policy.revocation?.find((r) => r.anchorId === anchorId);
}

/** Run the revocation check for a validated path (see check.ts for the rules). */
export function revocationStage(input: RevocationStageInput): RevocationOutcome {
  const { validated, provider } = input;
  const certificates = validated.certificates;
  const anchorId = validated.anchor.id;
  const settings = revocationSettings(input.policy, anchorId);
  const mode = settings?.mode ?? DEFAULT_REVOCATION_MODE;

  const sources: RevocationSource[] = [];
  if (mode !== 'off') {
    for (const crl of settings?.crls ?? []) sources.push(crl.source);
    const list = settings?.statusList;
    if (list?.kind === 'file') sources.push(list.source);
    if (list?.kind === 'url' && !provider) {
      // Named but nothing fetches it: unavailable, never "not revoked".
      sources.push(
        unavailableSource(`android-status:${list.url}`, 'the status list URL has not been fetched'),
      );
    }
    if (provider) sources.push(...provider.sourcesFor(certificates, settings));
  }

  const last = certificates.length - 1;
  const exempt = new Set<number>();
  // RFC 5280 §6.1: the anchor is trusted as configured, its own certificate needs no status.
  if (validated.anchor.certificate && certificates[last]?.spkiSha256 === validated.anchor.spkiSha256)
    exempt.add(last);
  // The key certificate a token made itself: tokens publish no revocation data.
  const keyCertFirst =
    input.result.attestationCertificate !== undefined &&
    certificates[0] === input.result.attestationCertificate;
  if (keyCertFirst && certificates.length > 1) exempt.add(0);

  return checkRevocation({
    certificates,
    anchorId,
    mode,
    sources,
    time: input.time,
    ...(input.cache ? { cache: input.cache } : {}),
    // Verdict positions: the attested key is position 0 unless the first certificate is its own;
    // a bound attestation key (TPM credential activation) takes position 1 without a certificate.
    positionOffset: keyCertFirst ? 0 : input.result.boundSigner !== undefined ? 2 : 1,
    exempt,
  });
}

/**
 * A source that has no data: every certificate of the path is 'unknown' (used for a status
 * list URL nobody fetched, or a fetch that failed).
 */
export function unavailableSource(
  name: string,
  reason: string,
  code: 'REVOCATION_UNAVAILABLE' = 'REVOCATION_UNAVAILABLE',
): RevocationSource {
  return {
    name,
    check: (path) =>
      path.map((cert, position) => ({
        position,
        serial: cert.serialHex,
        status: 'unknown' as const,
        source: name,
        code,
        detail: reason,
      })),
  };
}
