/**
 * The runs whose checkpoints in this folder were written by kovenant before the
 * aggregator's windows moved behind `WindowSchedule` (fixed.json, dynamic.json): the
 * same events cut at the same place, so a test can check that today's code still loads
 * those files and continues them exactly as an uninterrupted run does.
 */
import { DynamicWindows } from '../../../src/aggregate/dynamic-windows.ts';
import { CPU_FIELDS, IO_FIELDS, TCP_FIELDS } from '../../../src/aggregate/field-schema.ts';
import { WindowAggregator } from '../../../src/aggregate/window-aggregator.ts';
import { ladderBetween } from '../../../src/aggregate/window-ladder.ts';
import { makeSeries, type Series } from '../../../src/core/series.ts';
import type { MetricPoint } from '../../../src/core/metric-point.ts';

export interface SavedRun {
  /** A new aggregator of the run's windows. */
  aggregator(): WindowAggregator;
  /** Events up to the checkpoint, then the events after it. */
  before: ScenarioEvent[];
  after: ScenarioEvent[];
}

export interface ScenarioEvent {
  node: string;
  t: number;
  series: Series;
  kind: 'tcp' | 'io' | 'cpu';
  bytes: number;
}

/**
 * A deterministic stream: node-b lags node-a by 15 s (so windows closed on one node wait
 * for the other), node-c appears only near the cut (no window closed yet), local and
 * external peers, float fields, some events late.
 */
function events(count: number, stepMs: number, distinct: number, cut: number): ScenarioEvent[] {
  const out: ScenarioEvent[] = [];
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < count; i++) {
    const r = next();
    const node = i > cut - 40 && r < 0.1 ? 'node-c' : r < 0.6 ? 'node-a' : 'node-b';
    const late = next() < 0.05 ? Math.floor(next() * 25_000) : 0;
    const t = 1_700_000_000_000 + i * stepMs - late - (node === 'node-b' ? 15_000 : 0);
    const k = next();
    const kind = k < 0.15 ? 'io' : k < 0.2 ? 'cpu' : 'tcp';
    const peer = Math.floor(next() * distinct);
    const series =
      kind === 'io'
        ? makeSeries('kovenant_io', { node, pod: `p${peer % 3}` })
        : kind === 'cpu'
          ? makeSeries('kovenant_cpu', { node, pod: `p${peer % 3}` })
          : makeSeries('kovenant_tcp', {
              node,
              pod: `p${peer % 3}`,
              remote_kind: peer % 2 ? 'external' : 'pod',
              remote_name: `203.0.113.${peer}`,
            });
    out.push({ node, t, series, kind, bytes: 1 + Math.floor(next() * 1000) });
  }
  return out;
}

export function feed(agg: WindowAggregator, evs: readonly ScenarioEvent[]): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (const e of evs) {
    const v = agg.slotValues(e.node, e.t, e.series, e.kind === 'io' ? IO_FIELDS : e.kind === 'cpu' ? CPU_FIELDS : TCP_FIELDS);
    v[0]! += e.kind === 'cpu' ? e.bytes / 1024 : e.bytes;
    if (e.kind !== 'cpu') v[2]!++;
    out.push(...agg.closeReady());
  }
  return out;
}

export function fixedRun(): SavedRun {
  const all = events(3000, 40, 30, 1700);
  return {
    aggregator: () => new WindowAggregator({ windowMs: 10_000, latenessMs: 5_000, maxExternalPeers: 3 }),
    before: all.slice(0, 1700),
    after: all.slice(1700),
  };
}

export function dynamicRun(): SavedRun {
  const all = events(6000, 150, 40, 2290);
  return {
    aggregator: () =>
      new WindowAggregator({ dynamic: new DynamicWindows({ rungs: ladderBetween(0, 60_000), budgetPerMinute: 60 }), latenessMs: 2_000 }),
    before: all.slice(0, 2290),
    after: all.slice(2290),
  };
}
