/**
 * Store access for operator commands (audit verify, reevaluate).
 */
import { isProvenanceError, ProvenanceError } from '../core/errors.js';
import type { OpenStoreOptions } from '../store/index.js';
import type { Store } from '../store/types.js';
/**
 * Open a store for an operator command. Unlike the service, which keeps driver messages out of
 * API answers, an operator needs the driver's own words: they are appended to the message.
 */
export async function openOperatorStore(url: string, options: OpenStoreOptions): Promise<Store> {
  // Loaded on demand: the database drivers are heavy, and most commands never need them.
  const { openStore, storeErrorReason } = await import('../store/index.js');
  try {
    return await openStore(url, options);
  } catch (err) {
    if (isProvenanceError(err, 'STORE_UNAVAILABLE') && storeErrorReason(err) !== '') {
      throw new ProvenanceError(
        'STORE_UNAVAILABLE',
        `${err.message}: ${storeErrorReason(err)}`,
        err.details,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}
