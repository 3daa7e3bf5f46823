/**
 * The CRL the service publishes at /api/v1/crl (RFC 5280 §5): rebuilt when a certificate is
 * revoked here, when its nextUpdate nears, and, because several instances may share one
 * database, whenever the set of revoked certificates in the store differs from the one the
 * cached CRL was built from (checked at most every `recheckMs`). The CRL number comes from
 * the store's counter, so it grows across restarts and instances (§5.2.3).
 *
 * @example
 * const crls = new CrlPublisher({ store, ca, clock });
 * reply.type('application/pkix-crl').send(Buffer.from(await crls.current()));
 */
import { sha256Hex } from '../core/bytes.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/types.js';
import type { ServiceCa } from './service-ca.js';

const HOUR = 3600 * 1000;

/** Options of the publisher. */
export interface CrlPublisherOptions {
  readonly store: Pick<Store, 'certificates' | 'nextCounter'>;
  readonly ca: ServiceCa;
  readonly clock: Clock;
  /** nextUpdate − thisUpdate (default 24 h). */
  readonly lifetimeMs?: number;
  /** Rebuild when less than this is left before nextUpdate (default 6 h). */
  readonly renewBeforeMs?: number;
  /** Compare the revoked set with the store at most this often (default 60 s). */
  readonly recheckMs?: number;
}

interface Published {
  readonly der: Uint8Array;
  readonly nextUpdate: number;
  /** Digest of the revoked set it lists. */
  readonly fingerprint: string;
  checkedAt: number;
}

/** Builds, caches and renews the service's CRL. */
export class CrlPublisher {
  private published: Published | null = null;
  private building: Promise<Uint8Array> | null = null;
  private readonly lifetimeMs: number;
  private readonly renewBeforeMs: number;
  private readonly recheckMs: number;

  constructor(private readonly options: CrlPublisherOptions) {
    this.lifetimeMs = options.lifetimeMs ?? 24 * HOUR;
    this.renewBeforeMs = options.renewBeforeMs ?? 6 * HOUR;
    this.recheckMs = options.recheckMs ?? 60_000;
  }

  /** The current CRL (DER), rebuilt first when due. Concurrent callers share one build. */
  async current(): Promise<Uint8Array> {
    const now = this.options.clock();
    const p = this.published;
    if (p !== null && now < p.nextUpdate - this.renewBeforeMs && now - p.checkedAt < this.recheckMs)
      return p.der;
    this.building ??= this.refresh(now).finally(() => {
      this.building = null;
    });
    return this.building;
  }

  /** Forget the cached CRL: the next request rebuilds it (after a revocation here). */
  invalidate(): void {
    this.published = null;
  }

  private async refresh(now: number): Promise<Uint8Array> {
    const revoked = await this.options.store.certificates.revoked();
    const entries = revoked
      .filter((c) => c.revokedAt !== null)
      .map((c) => ({
        serial: c.serial,
        revokedAt: c.revokedAt!,
        reason: c.revocationReason ?? 'unspecified',
      }))
      .sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
    const fingerprint = sha256Hex(
      new TextEncoder().encode(entries.map((e) => `${e.serial}:${e.revokedAt}:${e.reason}`).join('\n')),
    );
    const p = this.published;
    if (p !== null && p.fingerprint === fingerprint && now < p.nextUpdate - this.renewBeforeMs) {
      p.checkedAt = now;
      return p.der;
    }
    const crlNumber = await this.options.store.nextCounter('crl-number');
    const nextUpdate = now + this.lifetimeMs;
    const der = await this.options.ca.crl({ revoked: entries, thisUpdate: now, nextUpdate, crlNumber });
    this.published = { der, nextUpdate, fingerprint, checkedAt: now };
    return der;
  }
}
