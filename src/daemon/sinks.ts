/**
 * Where points go: `--output line|influx|json|console` and the sink settings (the keys of
 * config/output-settings.ts, shared by replay's flags and the daemon's config), built
 * through the sink registry. Secrets are read by the sink and never logged.
 */
import type { OutputKey } from '../config/output-settings.ts';
import { parseSettings } from '../core/config-values.ts';
import { SINK_NAMES, sinkFactory } from '../sinks/registry.ts';
import type { SinkComponent, SinkContext } from '../sinks/sink-component.ts';

export const OUTPUTS = SINK_NAMES;
export type OutputKind = (typeof OUTPUTS)[number];

/** The flat settings every sink's schema picks its own from (values as given: text, or numbers from YAML). */
export type OutputOptions = { output?: OutputKind } & Partial<Record<OutputKey, string | number>>;

/** Builds the sink `options.output` names (default `line`) from the flat options, through the registry. */
export async function openSink(options: OutputOptions, context: SinkContext = {}): Promise<SinkComponent> {
  const factory = sinkFactory(options.output ?? 'line');
  return factory.create(parseSettings(factory.schema, options, `--output ${factory.name}`), context);
}
