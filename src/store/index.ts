/**
 * The service's store: `openStore(url)` on SQLite or PostgreSQL, the repositories of
 * `types.ts`, the audit hash chain and its canonical JSON.
 *
 * @example
 * import { openStore } from 'provenance/store';
 * const store = await openStore('sqlite::memory:');
 * const { ok } = await store.verifyAudit();
 */
export * from './audit-chain.js';
export { CANONICAL_JSON_MAX_DEPTH, canonicalJson } from './canonical-json.js';
export { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, MAX_PAGE_SIZE } from './cursor.js';
export { type StoreLogger, storeErrorReason } from './db-errors.js';
export { GENESIS_HASH, STORE_TABLES, type StoreDialect } from './migrations.js';
export { redactDatabaseUrl } from './postgres.js';
export { AUDIT_PAGE_ROWS, MAX_RECENT_ENROLLMENTS } from './repositories.js';
export { type OpenStoreOptions, openStore, parseStoreUrl, type StoreLocation } from './store.js';
export * from './tpm-bindings.js';
export * from './types.js';
export { normaliseSerial } from './values.js';
