/**
 * How many cores this process may keep busy: the CPUs it may run on, bounded by its
 * cgroup's CPU quota (a container's `resources.limits.cpu`). Node's own count
 * (availableParallelism) honours the affinity mask but not the quota, and a pod limited
 * to one CPU on a 64-core node gains nothing from a second busy thread.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** cgroup v2's `cpu.max` ("max 100000", or "QUOTA PERIOD") as a number of CPUs; undefined when unlimited or unreadable. */
export function quotaCpus(cpuMax: string): number | undefined {
  const [quota, period] = cpuMax.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}

export function cpuBudget(cpuMaxFile = '/sys/fs/cgroup/cpu.max'): number {
  const cores = availableParallelism();
  let quota: number | undefined;
  try {
    quota = quotaCpus(readFileSync(cpuMaxFile, 'utf8'));
  } catch {
    // cgroup v1, or no cgroup file system: the affinity mask is all we know.
  }
  return quota === undefined ? cores : Math.max(1, Math.min(cores, Math.round(quota)));
}
