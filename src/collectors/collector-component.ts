/**
 * What every collector component builds: a `NodeCollector` (sampled on its interval by
 * the live pipeline) with `stats()` and `close()`. A new collector is a file in
 * `src/collectors/components/` exporting a `CollectorFactory`, plus its line in
 * `collectors/registry.ts` (ARCHITECTURE.md).
 */
import type * as z from 'zod';
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

/** What a collector declares besides its schema: the settings that turn it on, and what it builds from them. */
export interface CollectorDeclaration<S extends z.ZodType> {
  name: string;
  description: string;
  schema: S;
  enabled(config: z.output<S>): boolean;
  build(config: z.output<S>, context: CollectorContext): CollectorComponent;
}

/** The one way a collector factory is made, so every collector file states only what differs. */
export function collectorFactory<S extends z.ZodType>(d: CollectorDeclaration<S>): CollectorFactory<S> {
  return {
    kind: 'collector',
    name: d.name,
    description: d.description,
    schema: d.schema,
    enabled: d.enabled,
    create: async (config, context) => d.build(config, context),
  };
}
