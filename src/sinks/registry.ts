/**
 * Every sink, by the name `--output` (and the daemon's `output` key) gives it. Adding a
 * sink: a folder `src/sinks/<name>/` with its `component.ts`, and one line here.
 */
import { InputError } from '../core/input-error.ts';
import { consoleSink } from './console/component.ts';
import { influxSink } from './influx/component.ts';
import { jsonSink } from './json/component.ts';
import { lineSink } from './line/component.ts';
import type { SinkFactory } from './sink-component.ts';

export const SINKS = [lineSink, influxSink, jsonSink, consoleSink] as const satisfies readonly SinkFactory[];

export type SinkName = (typeof SINKS)[number]['name'];

export const SINK_NAMES = SINKS.map((s) => s.name) as [SinkName, ...SinkName[]];

export function sinkFactory(name: string): SinkFactory {
  const factory = SINKS.find((s) => s.name === name);
  if (!factory) throw new InputError(`--output ${name}: unknown output`, `use one of ${SINK_NAMES.join(', ')}`);
  return factory as SinkFactory;
}
