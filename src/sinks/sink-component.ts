/**
 * What every sink component builds: a `MetricSink` with the component's `stats()` and
 * where its points go. A new sink is a folder `src/sinks/<name>/` whose `component.ts`
 * exports a `SinkFactory`, plus its line in `sinks/registry.ts` (ARCHITECTURE.md).
 */
import * as z from 'zod';
import type { Component, ComponentContext, ComponentFactory } from '../core/component.ts';
import type { MetricSink } from '../core/metric-point.ts';
import { InputError } from '../core/input-error.ts';
import type { DeliveryError } from './delivery-stats.ts';

export interface SinkComponent extends MetricSink, Component {
  /** For the summary and logs: the file, `stdout`, `console`, the server. */
  readonly destination: string;
  /** After `close()`: why points were not acknowledged, if they were not (delivering sinks). */
  deliveryFailure?(): DeliveryError | undefined;
  /** After `close()`: one line about delivery for the replay summary (delivering sinks). */
  deliverySummary?(): string;
}

/** Sinks take the logger when the caller has one (replay has none: the sink makes its own). */
export type SinkContext = Partial<ComponentContext>;

export type SinkFactory<S extends z.ZodType = z.ZodType> = ComponentFactory<S, SinkContext, SinkComponent>;

/** `--out FILE`, for the sinks that write text to stdout or a file. */
export const outFile = z.object({ out: z.string().optional() });

/** `--out` given to a sink that writes no file. */
export function refuseOutFile(): z.ZodType<undefined, string | undefined> {
  return z
    .string()
    .optional()
    .transform((out) => {
      if (out !== undefined && out !== '-')
        throw new InputError(`--out ${out}: only --output line or json write to a file`, `drop --out, or use --output line`);
      return undefined;
    });
}

/** The text formats' two openers (`JsonLinesSink`, `LineProtocolSink`). */
export interface TextFormat {
  toFile(path: string): Promise<MetricSink>;
  toStdout(): MetricSink;
}

/** The factory of a sink that writes one text format to stdout or `--out FILE`. */
export function textFileSink(name: string, description: string, format: TextFormat): SinkFactory<typeof outFile> {
  return {
    kind: 'sink',
    name,
    description,
    schema: outFile,
    async create({ out }) {
      return out !== undefined && out !== '-' ? textSink(await format.toFile(out), out) : textSink(format.toStdout(), 'stdout');
    },
  };
}

/** A sink with no stats of its own and nothing to add to `MetricSink`. */
export function textSink(sink: MetricSink, destination: string): SinkComponent {
  return {
    destination,
    write: (points) => sink.write(points),
    close: () => sink.close(),
    stats: () => ({}),
  };
}
