/**
 * `--output json`: one JSON object per point and line, for jq and other tools:
 * `{"measurement":"kovenant_tcp","time":"2026-01-01T00:00:10.000Z","timestamp_ns":"1767225610000000000","tags":{...},"fields":{...}}`.
 * The nanosecond timestamp is a string because it does not fit a JSON number exactly.
 */
import { msToNanosText } from './line-protocol.ts';
import type { MetricPoint } from '../core/metric-point.ts';
import { linesOf, TextStreamSink } from './text-stream-sink.ts';

export function pointToJson(p: MetricPoint): string {
  return JSON.stringify({
    measurement: p.measurement,
    time: new Date(p.timeMs).toISOString(),
    timestamp_ns: msToNanosText(p.timeMs),
    tags: p.tags,
    fields: { ...p.ints, ...p.floats },
  });
}

export const JsonLinesSink = {
  toFile: (path: string): Promise<TextStreamSink> => TextStreamSink.toFile(path, linesOf(pointToJson)),
  toStdout: (): TextStreamSink => TextStreamSink.toStdout(linesOf(pointToJson)),
};
