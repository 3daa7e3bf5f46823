/**
 * The `provenance` binary over the TypeScript sources, for end-to-end tests that need a real
 * process (started with `node --import ./test/e2e/register-ts.mjs`): bin/provenance.js runs
 * the compiled dist/ instead, which may be older than the sources under test.
 */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
