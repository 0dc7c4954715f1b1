/** Where points go: `--out FILE` or stdout, as line protocol. */
import { LineProtocolSink } from '../sinks/line-sink.ts';
import type { MetricSink } from '../sinks/metric-point.ts';

export interface OutputOptions {
  out?: string;
}

export interface OpenedSink {
  sink: MetricSink;
  /** For the summary: where the points went. */
  destination: string;
}

export async function openSink(options: OutputOptions): Promise<OpenedSink> {
  if (options.out && options.out !== '-') return { sink: LineProtocolSink.toFile(options.out), destination: options.out };
  return { sink: LineProtocolSink.toStdout(), destination: 'stdout' };
}
