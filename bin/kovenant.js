#!/usr/bin/env node
// The CLI runs from TypeScript sources through tsx's loader so that `npx kovenant`
// works right after `npm ci`, with no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
