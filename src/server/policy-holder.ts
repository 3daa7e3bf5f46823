/**
 * The live policy, swappable while the service runs (SIGHUP reloads the file): a holder with
 * `get()` returning the policy and a verifier bound to it. Enrollments take the current pair
 * once, at the start, so one enrollment is judged by one policy from start to end.
 *
 * @example
 * const policies = new PolicyHolder({ clock, keyCache });
 * policies.set(loadPolicyFile('policy.yaml'));
 * const live = policies.get();   // { policy, verifier, loadedAt } or null
 */
import type { Clock } from '../core/clock.js';
import { KeyCache } from '../pki/keys.js';
import type { Policy } from '../policy/model.js';
import type { TokenListSet } from '../trust/lists/types.js';
import type { RevocationProvider } from '../trust/revocation/types.js';
import { createVerifier, type Verifier } from '../verify/verifier.js';

/** A loaded policy and its verifier. */
export interface LivePolicy {
  readonly policy: Policy;
  readonly verifier: Verifier;
  /** When it was loaded (ms). */
  readonly loadedAt: number;
}

/** Called after the policy changed (the service audits `policy.loaded`). */
export type PolicyListener = (live: LivePolicy | null) => void;

/** Holds the live policy. */
export class PolicyHolder {
  private live: LivePolicy | null = null;
  private readonly listeners: PolicyListener[] = [];
  private readonly clock: Clock;
  private readonly keyCache: KeyCache;
  private readonly lists: (() => TokenListSet) | undefined;
  private readonly revocation: RevocationProvider | undefined;

  constructor(options: {
    clock: Clock;
    keyCache?: KeyCache;
    policy?: Policy | null;
    /** The current signed token lists (a TokenListKeeper's `current`); absent: none loaded. */
    lists?: () => TokenListSet;
    /** Fetched CRLs and status lists (the service's RevocationCache); absent: policy files only. */
    revocation?: RevocationProvider;
  }) {
    this.clock = options.clock;
    this.lists = options.lists;
    this.revocation = options.revocation;
    // One cache across policy swaps: decoded public keys do not depend on the policy.
    this.keyCache = options.keyCache ?? new KeyCache();
    if (options.policy) this.set(options.policy);
  }

  /** The live policy, or null when none is loaded (enrollments then fail closed). */
  get(): LivePolicy | null {
    return this.live;
  }

  /** Replace the live policy; listeners hear of it. */
  set(policy: Policy | null): LivePolicy | null {
    this.live =
      policy === null
        ? null
        : {
            policy,
            verifier: createVerifier({
              policy,
              clock: this.clock,
              keyCache: this.keyCache,
              ...(this.lists === undefined ? {} : { lists: this.lists }),
              ...(this.revocation === undefined ? {} : { revocation: this.revocation }),
            }),
            loadedAt: this.clock(),
          };
    for (const listener of this.listeners) listener(this.live);
    return this.live;
  }

  /** The current signed token lists, or undefined when the holder was given none (re-evaluation). */
  tokenLists(): TokenListSet | undefined {
    return this.lists?.();
  }

  /** Hear of every later change. */
  onChange(listener: PolicyListener): void {
    this.listeners.push(listener);
  }
}
