import { defineConfig } from 'vitest/config';

/**
 * Tests against real hardware (`npm run test:hardware`): not part of `npm test` or CI, which
 * have no tokens plugged in. Each file says what it needs (docs/yubikey.md, "Hardware tests").
 */
export default defineConfig({
  test: {
    include: ['test/**/*.hardware.ts'],
    testTimeout: 180_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
