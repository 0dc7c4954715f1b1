import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** ../shared/reference beside the repository; KOVENANT_REFERENCE points elsewhere (a worktree). */
export const REFERENCE = process.env.KOVENANT_REFERENCE ?? resolve(ROOT, '../shared/reference');
export const CHART_DIR = join(ROOT, 'install/chart/kovenant');

export function filesIn(dir: string, ext: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => join(ROOT, dir, f));
}

/**
 * True when these files of ../shared/reference exist. In CI (`CI` set) a missing one is
 * a failure, since CI runs with ../shared beside the repository; locally it is a skip
 * that names the file.
 */
export function haveReference(...files: string[]): boolean {
  const missing = files.map((f) => join(REFERENCE, f)).filter((f) => !existsSync(f));
  if (!missing.length) return true;
  const message = `${missing.join(', ')} missing (../shared/reference is not beside the repository)`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping: ${message}`);
  return false;
}
