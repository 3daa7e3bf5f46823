/** `node --import ./test/e2e/register-ts.mjs file.ts`: run TypeScript sources (see ts-hooks.mjs). */
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
