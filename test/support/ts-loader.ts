/**
 * Lets decoding threads started from the sources import TypeScript (pipeline/decode-stage.ts,
 * TS_LOADER_ENV): the file URL of tsx's ESM API, whose register() installs its loader.
 * Set for every test process by vitest.config.ts and for the spawned CLI by kovenant-source.js.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** tsx's ESM entry of `tsx/esm/api` (its package `exports`), found from its package.json. */
export function tsLoaderUrl(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href;
}
