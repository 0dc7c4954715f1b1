/**
 * InfluxDB line protocol: `measurement,tag=v,... field=1i,... timestamp_ns`.
 * Escaping comes from the official client; tags are sorted by key, which is the order
 * InfluxDB stores them in and makes output deterministic.
 */
import { escape } from '../core/line-protocol-escape.ts';
import type { MetricPoint } from '../core/metric-point.ts';
import { seriesKey } from '../core/series.ts';

/** Epoch milliseconds → nanoseconds as decimal text, exact beyond 2^53. */
export function msToNanosText(ms: number): string {
  return ms === 0 ? '0' : `${ms}000000`;
}

function floatText(v: number): string {
  // Line protocol floats must not look like integers with an `i` or be NaN/Infinity.
  if (!Number.isFinite(v)) throw new RangeError(`field value ${v} cannot be written to InfluxDB`);
  return String(v);
}

/** Escaped field keys: the same few names are written millions of times. */
const fieldKeys = new Map<string, string>();

function fieldKey(name: string): string {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    k = `${escape.tag(name)}=`;
    fieldKeys.set(name, k);
  }
  return k;
}

/** Field set text: integer fields with `i`, then float fields. */
export function fieldsText(point: Pick<MetricPoint, 'ints' | 'floats'>): string {
  let text = '';
  for (const k in point.ints) text += `${text ? ',' : ''}${fieldKey(k)}${Math.trunc(point.ints[k]!)}i`;
  if (point.floats) for (const k in point.floats) text += `${text ? ',' : ''}${fieldKey(k)}${floatText(point.floats[k]!)}`;
  return text;
}

export function formatPoint(point: MetricPoint): string {
  return `${point.key ?? seriesKey(point.measurement, point.tags)} ${fieldsText(point)} ${msToNanosText(point.timeMs)}`;
}
