/**
 * kovenant_node_cpu from `/proc/stat`: seconds the node's CPUs spent per mode in the
 * window (summed over CPUs), from the aggregate `cpu` line in USER_HZ ticks.
 * `user` includes `nice` (guest time is already inside user and nice).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { NODE_CPU_FIELDS, NODE_CPU_SLOTS } from '../../aggregate/field-schema.ts';
import type { WindowAggregator } from '../../aggregate/window-aggregator.ts';
import { InputError } from '../../core/input-error.ts';
import { makeSeries, type Series } from '../../core/series.ts';
import { type LocalParty, type Resolver } from '../../enrich/resolver.ts';
import { collectorWatermarkKey, readProcFile, type NodeCollector } from '../collector.ts';

export const NODE_CPU_MODES = ['user', 'system', 'iowait', 'irq', 'softirq', 'steal', 'idle'] as const;
export type NodeCpuMode = (typeof NODE_CPU_MODES)[number];

/** Ticks per mode from the `cpu ` line; undefined when there is none. */
export function parseProcStat(text: string): Record<NodeCpuMode, number> | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const at = (i: number): number => f[i] ?? 0;
  return { user: at(0) + at(1), system: at(2), idle: at(3), iowait: at(4), irq: at(5), softirq: at(6), steal: at(7) };
}

/** USER_HZ, the unit of /proc/stat (100 on nearly every Linux). */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

export class NodeCpuCollector implements NodeCollector {
  readonly name = 'node_cpu';
  private previous: Record<NodeCpuMode, number> | undefined;
  private series: Map<NodeCpuMode, Series>;
  /** The host party the series' zone, region and cluster tags were taken from. */
  private host: LocalParty | undefined;

  constructor(
    private readonly procRoot: string,
    readonly intervalMs: number,
    private readonly nodeName: string | undefined,
    private readonly ticksPerSecond = clockTicksPerSecond(),
    /** Gives the node's zone, region and cluster tags (followed when its labels change). */
    private readonly resolver?: Resolver,
  ) {
    this.series = this.seriesFor({});
  }

  private seriesFor(topology: Record<string, string>): Map<NodeCpuMode, Series> {
    const node = this.nodeName;
    return new Map(
      NODE_CPU_MODES.map((mode) => [mode, makeSeries('kovenant_node_cpu', node ? { ...topology, node, mode } : { ...topology, mode })]),
    );
  }

  private currentSeries(): Map<NodeCpuMode, Series> {
    if (!this.resolver) return this.series;
    const host = this.resolver.localHost(this.nodeName);
    if (host !== this.host) {
      this.host = host;
      const { zone, region, cluster } = host.tags;
      const topology: Record<string, string> = {};
      if (cluster) topology.cluster = cluster;
      if (zone) topology.zone = zone;
      if (region) topology.region = region;
      this.series = this.seriesFor(topology);
    }
    return this.series;
  }

  async collect(nowMs: number, aggregator: WindowAggregator): Promise<void> {
    const file = join(this.procRoot, 'stat');
    const now = parseProcStat(await readProcFile('cpu', file));
    if (!now) throw new InputError(`cpu collector: ${file}: no aggregate "cpu" line`, 'is the proc root a proc filesystem?');
    const before = this.previous;
    this.previous = now;
    if (!before) return;
    const series = this.currentSeries();
    for (const mode of NODE_CPU_MODES) {
      // Ticks only grow; a smaller value (a counter wrap, a hot-unplugged CPU) counts as 0.
      const ticks = Math.max(0, now[mode] - before[mode]);
      if (ticks === 0) continue;
      const v = aggregator.slotValues(collectorWatermarkKey(this.nodeName ?? '', this.name), nowMs, series.get(mode)!, NODE_CPU_FIELDS);
      v[NODE_CPU_SLOTS.seconds]! += ticks / this.ticksPerSecond;
    }
  }
}
