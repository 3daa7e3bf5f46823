#!/usr/bin/env node
// Thin launcher: the CLI is compiled JavaScript (built by `npm ci` through the prepare script).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv);
