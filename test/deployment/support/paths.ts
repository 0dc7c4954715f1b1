import { readdirSync } from 'node:fs';
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
