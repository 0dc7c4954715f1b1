/** `--decode-threads auto` counts the cgroup's CPU quota, not only the cores. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuBudget, quotaCpus } from '../../src/core/cpu-budget.ts';
import { autoDecodeThreads } from '../../src/config/shared-settings.ts';

describe('the CPU budget', () => {
  it('reads cgroup v2 cpu.max', () => {
    expect(quotaCpus('max 100000\n')).toBeUndefined();
    expect(quotaCpus('100000 100000\n')).toBe(1);
    expect(quotaCpus('250000 100000')).toBe(2.5);
    expect(quotaCpus('garbage')).toBeUndefined();
  });

  it('is the cores, bounded by the quota', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kovenant-cpu-'));
    try {
      const file = join(dir, 'cpu.max');
      writeFileSync(file, '100000 100000\n');
      expect(cpuBudget(file)).toBe(1);
      writeFileSync(file, 'max 100000\n');
      expect(cpuBudget(file)).toBe(availableParallelism());
      expect(cpuBudget(join(dir, 'absent'))).toBe(availableParallelism());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives auto one decoding thread from two CPUs on, none below', () => {
    expect(autoDecodeThreads(1)).toBe(0);
    expect(autoDecodeThreads(2)).toBe(1);
    expect(autoDecodeThreads(64)).toBe(1);
  });
});
