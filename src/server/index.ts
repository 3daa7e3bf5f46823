/**
 * The provisioning service (`src/server`): the Fastify app over injected store, CA, policy,
 * clock and logger; `startService` for `provenance serve`; the configuration loader.
 *
 * @example
 * import { buildApp, loadServiceConfig } from './server/index.js';
 * const app = buildApp({ store, ca, policy, config: await loadServiceConfig('data'), clock, logger });
 */
export { type AppOptions, type AuthRequirement, buildApp, type ServiceState } from './app.js';
export * from './config.js';
export { CrlPublisher, type CrlPublisherOptions } from './crl.js';
export { type DemoPaths, ensureDemo } from './demo.js';
export { type DryRunOptions, type DryRunReport, dryRunPolicy } from './dry-run.js';
export { createChallenge, type EnrollmentContext, type EnrollmentResult, enroll } from './enrollment.js';
export { ServiceMetrics } from './metrics.js';
export { type LivePolicy, PolicyHolder } from './policy-holder.js';
export { PROBLEM_CONTENT_TYPE, type Problem, problem } from './problem.js';
export { newAdminToken, newEnrollmentCode } from './secrets.js';
export {
  ADMIN_TOKEN_FILE,
  type RunningService,
  type ServeOptions,
  serviceCa,
  startService,
} from './serve.js';
export type { CrlRequest, ServiceCa } from './service-ca.js';
