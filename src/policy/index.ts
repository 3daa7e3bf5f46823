/**
 * Policy: load an allow-list policy (YAML, validated with line-precise errors), build one from
 * options, evaluate it against a validated path and claims, and describe it.
 *
 * @example
 * import { loadPolicyFile, evaluatePolicy } from 'provenance/policy';
 * const decision = evaluatePolicy(loadPolicyFile('policy.yaml'), input);
 */
export * from './describe.js';
export * from './evaluate.js';
export * from './from-options.js';
export { checkLists, matchListRule, type PolicyContext } from './lists.js';
export {
  loadPolicyFile,
  MAX_POLICY_BYTES,
  normaliseSpkiHash,
  type PolicyLoadOptions,
  parsePolicy,
} from './load.js';
export * from './model.js';
export { checkRequirements, type RequirementContext, type RequirementResult } from './requirements.js';
export { POLICY_FORMATS, POLICY_LIMITS } from './schema.js';
export type * from './types.js';
export * from './versions.js';
