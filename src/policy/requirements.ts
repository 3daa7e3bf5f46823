/**
 * Checking claim requirements (`require:` globally and on allow rules) against what the
 * evidence established. Absent claims never satisfy a requirement: the evidence must say it.
 *
 * @example
 * checkRequirements({ userPresence: ['always'] }, { claims, freshness: 'nonce', key })
 * // [{ requirement: 'userPresence', ok: false, message: 'userPresence is never (requires always)', … }]
 */
import type { ErrorCode } from '../core/errors.js';
import type { Claims } from '../formats/types.js';
import type { KeyDescription } from '../pki/keys.js';
import { type Freshness, type Requirements, SECURITY_LEVELS } from './model.js';
import { parseVersion, versionInRange } from './versions.js';

/** What requirements are checked against: the claims, the freshness shown, the attested key. */
export interface RequirementContext {
  readonly claims: Claims;
  readonly freshness: Freshness;
  /** The attested key as described from its SPKI; null when it could not be described. */
  readonly key: KeyDescription | null;
}

/** The outcome of one requirement. */
export interface RequirementResult {
  readonly requirement: keyof Requirements;
  readonly ok: boolean;
  /** Set when `ok` is false. */
  readonly code?: ErrorCode;
  /** "userPresence is never (requires always)": reads well after "matched rule X but …". */
  readonly message: string;
  readonly required: unknown;
  readonly actual: unknown;
}

/** Check every requirement present in `req`, in a fixed order; one result each. */
export function checkRequirements(req: Requirements, ctx: RequirementContext): RequirementResult[] {
  const out: RequirementResult[] = [];
  const { claims } = ctx;

  if (req.freshness !== undefined && req.freshness !== 'none') {
    // Architecture, "Provisioning service": freshness comes from the verifier's single-use
    // nonce; 'possession' also accepts a CSR signed by the attested key (proof of possession only).
    const ok = req.freshness === 'nonce' ? ctx.freshness === 'nonce' : ctx.freshness !== 'none';
    out.push({
      requirement: 'freshness',
      ok,
      ...(ok ? {} : { code: 'NONCE_MISSING' as const }),
      message: ok
        ? `freshness is ${ctx.freshness} (requires ${req.freshness})`
        : `freshness is ${describeFreshness(ctx.freshness)} (requires ${req.freshness})`,
      required: req.freshness,
      actual: ctx.freshness,
    });
  }
  if (req.generatedOnDevice === true) out.push(flag('generatedOnDevice', claims.generatedOnDevice));
  if (req.nonExportable === true) out.push(flag('nonExportable', claims.nonExportable));
  if (req.userPresence !== undefined) out.push(oneOf('userPresence', claims.userPresence, req.userPresence));
  if (req.userVerification !== undefined) {
    out.push(oneOf('userVerification', claims.userVerification, req.userVerification));
  }
  if (req.algorithms !== undefined) {
    const actual = ctx.key === null ? undefined : policyAlgorithm(ctx.key.keyAlgorithm);
    const ok = actual !== undefined && (req.algorithms as readonly string[]).includes(actual);
    out.push(
      result('algorithms', ok, req.algorithms, actual, () =>
        actual === undefined
          ? `the attested key could not be described (requires ${list(req.algorithms!)})`
          : `key algorithm is ${actual} (requires ${list(req.algorithms!)})`,
      ),
    );
  }
  if (req.minRsaBits !== undefined) {
    const key = ctx.key;
    const isRsa = key !== null && policyAlgorithm(key.keyAlgorithm) === 'rsa';
    const ok = key !== null && (!isRsa || key.keySize >= req.minRsaBits);
    out.push(
      result('minRsaBits', ok, req.minRsaBits, key?.keySize, () =>
        key === null
          ? `the attested key could not be described (requires RSA ≥ ${req.minRsaBits} bits)`
          : isRsa
            ? `RSA key is ${key.keySize} bits (requires ≥ ${req.minRsaBits})`
            : `not an RSA key (${key.keyAlgorithm})`,
      ),
    );
  }
  if (req.securityLevel !== undefined) {
    const actual = claims.securityLevel;
    const ok =
      actual !== undefined && SECURITY_LEVELS.indexOf(actual) >= SECURITY_LEVELS.indexOf(req.securityLevel);
    out.push(
      result('securityLevel', ok, req.securityLevel, actual, () =>
        actual === undefined
          ? `securityLevel is not stated by the evidence (requires at least ${req.securityLevel})`
          : `securityLevel is ${actual} (requires at least ${req.securityLevel})`,
      ),
    );
  }
  if (req.firmware !== undefined) {
    const actual = claims.firmware;
    const version = typeof actual === 'string' ? parseVersion(actual) : null;
    const ok = version !== null && req.firmware.some((r) => versionInRange(version, r));
    const ranges = req.firmware.map((r) => r.text).join(' or ');
    out.push(
      result('firmware', ok, ranges, actual, () =>
        actual === undefined
          ? `firmware is not stated by the evidence (requires ${ranges})`
          : version === null
            ? `firmware "${String(actual)}" is not a dotted numeric version (requires ${ranges})`
            : `firmware is ${actual} (requires ${ranges})`,
      ),
    );
  }
  if (req.claims !== undefined) {
    for (const [path, allowed] of Object.entries(req.claims)) {
      const actual = claimAt(claims, path);
      const ok = actual !== undefined && allowed.some((v) => v === actual);
      const wanted = allowed.map((v) => JSON.stringify(v)).join(' or ');
      out.push(
        result('claims', ok, { [path]: allowed }, { [path]: actual ?? null }, () =>
          actual === undefined
            ? `claim ${path} is not stated by the evidence (requires ${wanted})`
            : `claim ${path} is ${JSON.stringify(actual)} (requires ${wanted})`,
        ),
      );
    }
  }
  return out;
}

/**
 * The scalar claim at a dotted path, or undefined when the evidence does not state it (or
 * states something that is not a string, finite number or boolean: never "close enough").
 */
export function claimAt(claims: Claims, path: string): string | number | boolean | undefined {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return undefined;
}

/** The policy's name for a described key algorithm (`rsa-pss` keys count as `rsa`). */
export function policyAlgorithm(keyAlgorithm: string): string {
  return keyAlgorithm === 'rsa-pss' ? 'rsa' : keyAlgorithm;
}

function describeFreshness(f: Freshness): string {
  return f === 'possession'
    ? 'possession (a CSR signature, no nonce)'
    : f === 'none'
      ? 'none (no nonce, no CSR)'
      : f;
}

function flag(
  requirement: 'generatedOnDevice' | 'nonExportable',
  actual: boolean | undefined,
): RequirementResult {
  return result(requirement, actual === true, true, actual, () =>
    actual === undefined ? `${requirement} is not stated by the evidence` : `${requirement} is ${actual}`,
  );
}

function oneOf<T extends string>(
  requirement: 'userPresence' | 'userVerification',
  actual: T | undefined,
  allowed: readonly T[],
): RequirementResult {
  return result(requirement, actual !== undefined && allowed.includes(actual), allowed, actual, () =>
    actual === undefined
      ? `${requirement} is not stated by the evidence (requires ${list(allowed)})`
      : `${requirement} is ${actual} (requires ${list(allowed)})`,
  );
}

function result(
  requirement: keyof Requirements,
  ok: boolean,
  required: unknown,
  actual: unknown,
  describe: () => string,
): RequirementResult {
  return {
    requirement,
    ok,
    ...(ok ? {} : { code: 'POLICY_REQUIREMENT_FAILED' as const }),
    message: describe(),
    required,
    actual,
  };
}

function list(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : `one of ${values.join(', ')}`;
}
