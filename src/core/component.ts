/**
 * The component model: every source, sink and collector is declared the same way, as a
 * factory with a zod schema that parses its settings into real types (milliseconds,
 * bytes, whole numbers), and `create(config, context)` that builds a part with `stats()`
 * (named numbers, read by the Prometheus metrics) and `close()`. The registries
 * (`sources/registry.ts`, `sinks/registry.ts`, `collectors/registry.ts`, `enrich/registry.ts`) list them; the
 * daemon, replay and demo build parts only through them (src/daemon/).
 */
import type { Logger } from 'pino';
import type * as z from 'zod';

/** `enricher`: what feeds the resolver beside the flow (the metadata store, dnstap: enrich/registry.ts). */
export type ComponentKind = 'source' | 'sink' | 'collector' | 'enricher';

/** Named totals and levels, e.g. `{ renames: 2, truncations: 0 }`. */
export type ComponentStats = Readonly<Record<string, number>>;

export interface Component {
  stats(): ComponentStats;
  /** Releases what the part holds (files, sockets, timers); safe to call twice. */
  close(): Promise<void>;
}

/** What every part may use; kinds add their own (the resolver, the counters). */
export interface ComponentContext {
  log: Logger;
  /** Aborted when the run stops: followed sources end, retries give up waiting. */
  signal: AbortSignal;
}

export interface ComponentFactory<Schema extends z.ZodType, Context, Built extends Component> {
  readonly kind: ComponentKind;
  /** The name the config and the flags use (`--output influx`, `events: k8s-logs`). */
  readonly name: string;
  /** One line for help and the architecture document. */
  readonly description: string;
  /**
   * Parses the flat settings (the daemon config's keys, the replay's flags) into this
   * part's config. Unknown keys are ignored: one settings object feeds every part.
   * Bad values throw an `InputError` naming the flag.
   */
  readonly schema: Schema;
  create(config: z.output<Schema>, context: Context): Promise<Built>;
}
