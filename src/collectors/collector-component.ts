/**
 * What every collector component builds: a `NodeCollector` (sampled on its interval by
 * the live pipeline) with `stats()` and `close()`. A new collector is a file in
 * `src/collectors/components/` exporting a `CollectorFactory`, plus its line in
 * `collectors/registry.ts` (ARCHITECTURE.md).
 */
import type { z } from 'zod';
import type { Component, ComponentContext, ComponentFactory, ComponentStats } from '../core/component.ts';
import type { WindowAggregator } from '../aggregate/window-aggregator.ts';
import type { Resolver } from '../enrich/resolver.ts';
import type { NodeCollector } from './collector.ts';
import type { ConntrackServiceNat } from './conntrack/service-nat.ts';
import type { StreamCounts } from './source/source-collector.ts';

/** `stats()` names are the `what` label of `kovenant_collector_events_total`; `lost.<reason>` ones count Tetragon's losses. */
export interface CollectorComponent extends NodeCollector, Component {}

export interface CollectorContext extends ComponentContext {
  /** Attribution: collectors never copy the resolver's rules. */
  resolver: Resolver;
  /** The pipeline's event counters (the source collector reports them). */
  counters: StreamCounts;
  /** Filled by the conntrack collector, read by the resolver (Service backends). */
  serviceNat?: ConntrackServiceNat;
}

export interface CollectorFactory<S extends z.ZodType = z.ZodType> extends ComponentFactory<S, CollectorContext, CollectorComponent> {
  /** Whether the settings ask for this collector (`conntrack: true`, `cpu: true`, ...). */
  enabled(config: z.output<S>): boolean;
}

/** A collector with the stats it reports; collectors hold nothing to close. */
export function collectorComponent(collector: NodeCollector, stats: () => ComponentStats = () => ({})): CollectorComponent {
  return {
    name: collector.name,
    intervalMs: collector.intervalMs,
    collect: (nowMs: number, aggregator: WindowAggregator) => collector.collect(nowMs, aggregator),
    stats,
    close: async () => {},
  };
}
