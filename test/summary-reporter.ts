/**
 * Vitest reporter that ends every run with one plain line for CI systems that count from the
 * closing line: `Tests: N passed, N failed, N skipped`, counting test cases.
 *
 * Skipped, todo and never-run (pending, e.g. after an interrupt) tests count as skipped,
 * never as passed. A test file or suite that fails outside any test case (an import or
 * syntax error, a throwing beforeAll: vitest then marks its tests skipped) counts as one
 * failed case, as does every unhandled error, so a broken run can never read "0 failed".
 *
 * @example
 * // vitest.config.ts
 * export default defineConfig({ test: { reporters: ['default', './test/summary-reporter.ts'] } });
 */
import type { Reporter, SerializedError, TestModule, TestRunEndReason, Vitest } from 'vitest/node';

/** Test-case counts for the closing line. */
export interface TestCaseCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Count the test cases of a finished run (see the module comment for the failure rules). */
export function countTestCases(
  testModules: ReadonlyArray<TestModule>,
  unhandledErrors: ReadonlyArray<SerializedError>,
): TestCaseCounts {
  const counts: TestCaseCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const testModule of testModules) {
    for (const test of testModule.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') counts.failed++;
      else counts.skipped++;
    }
    // A file or suite that failed without a failed test case under it (import error, throwing
    // beforeAll: its tests show as skipped) still counts once.
    for (const unit of [testModule, ...testModule.children.allSuites()]) {
      const failedOutsideTests = unit.state() === 'failed' || unit.errors().length > 0;
      if (failedOutsideTests && unit.children.allTests('failed').next().done) counts.failed++;
    }
  }
  counts.failed += unhandledErrors.length;
  return counts;
}

/** The closing line, exactly `Tests: N passed, N failed, N skipped`. */
export function summaryLine(counts: TestCaseCounts): string {
  return `Tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

/** Prints `summaryLine` after every other reporter has finished (list it last). */
export default class SummaryReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): void {
    const line = summaryLine(countTestCases(testModules, unhandledErrors));
    // The default reporter writes through the same logger, so ours lands after its summary.
    if (this.vitest) this.vitest.logger.log(line);
    else console.log(line);
  }
}
