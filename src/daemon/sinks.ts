/**
 * Where points go: `--output line|influx|json|console` and their flags. Flags win over
 * environment variables, which win over defaults (commander's `.env()`):
 *   INFLUX_URL, INFLUX_ORG, INFLUX_BUCKET, INFLUX_TOKEN, INFLUX_TOKEN_FILE, INFLUX_DB,
 *   INFLUX_RP, INFLUX_USERNAME, INFLUX_PASSWORD, INFLUX_PASSWORD_FILE, KOVENANT_SPOOL_DIR,
 *   KOVENANT_SPOOL_MAX_BYTES.
 * Secrets are read here and handed to the sink only; they are never logged.
 */
import { parseSettings } from '../core/config-values.ts';
import { SINK_NAMES, sinkFactory } from '../sinks/registry.ts';
import type { SinkComponent, SinkContext } from '../sinks/sink-component.ts';

export const OUTPUTS = SINK_NAMES;
export type OutputKind = (typeof OUTPUTS)[number];

export interface OutputOptions {
  output?: OutputKind;
  out?: string;
  influxApi?: 'v1' | 'v2';
  influxUrl?: string;
  influxOrg?: string;
  influxBucket?: string;
  influxToken?: string;
  influxTokenFile?: string;
  influxDb?: string;
  influxRp?: string;
  influxUsername?: string;
  influxPassword?: string;
  influxPasswordFile?: string;
  spoolDir?: string;
  spoolMaxBytes?: string | number;
  spoolFsync?: 'always' | 'never';
  batchSize?: string | number;
  flushInterval?: string;
  drainTimeout?: string;
  top?: string;
}

/** Builds the sink `options.output` names (default `line`) from the flat options, through the registry. */
export async function openSink(options: OutputOptions, context: SinkContext = {}): Promise<SinkComponent> {
  const factory = sinkFactory(options.output ?? 'line');
  return factory.create(parseSettings(factory.schema, options, `--output ${factory.name}`), context);
}
