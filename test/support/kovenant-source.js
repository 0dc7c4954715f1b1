#!/usr/bin/env node
// The CLI from its TypeScript sources through tsx's loader: what the tests spawn
// (test/support/cli.ts BIN), so they never run a stale dist/. bin/kovenant.js runs the
// compiled build; test/cli/build.test.ts checks that one.
import { register } from 'tsx/esm/api';

register();
// Decoding threads started from the sources need the loader too (decode-stage.ts).
const { tsLoaderUrl } = await import('./ts-loader.ts');
process.env.KOVENANT_TS_LOADER ??= tsLoaderUrl();
const { main } = await import('../../src/cli/main.ts');
process.exitCode = await main(process.argv);
