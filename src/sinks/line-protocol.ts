/**
 * InfluxDB line protocol: `measurement,tag=v,... field=1i,... timestamp_ns`.
 * Escaping comes from the official client; tags are sorted by key, which is the order
 * InfluxDB stores them in and makes output deterministic.
 */
import { escape } from '@influxdata/influxdb-client';
import type { MetricPoint } from './metric-point.ts';

/** The escaped `measurement,k=v,...` prefix that identifies a series. */
export function seriesKey(measurement: string, tags: Readonly<Record<string, string>>): string {
  let key = escape.measurement(measurement);
  for (const k of Object.keys(tags).sort()) {
    const v = tags[k];
    if (v === undefined || v === '') continue;
    key += `,${escape.tag(k)}=${escape.tag(v)}`;
  }
  return key;
}

/** Epoch milliseconds → nanoseconds as decimal text, exact beyond 2^53. */
export function msToNanosText(ms: number): string {
  return ms === 0 ? '0' : `${ms}000000`;
}

function floatText(v: number): string {
  // Line protocol floats must not look like integers with an `i` or be NaN/Infinity.
  if (!Number.isFinite(v)) throw new RangeError(`field value ${v} cannot be written to InfluxDB`);
  return String(v);
}

/** Field set text: integer fields with `i`, then float fields. */
export function fieldsText(point: Pick<MetricPoint, 'ints' | 'floats'>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(point.ints)) parts.push(`${escape.tag(k)}=${Math.trunc(v)}i`);
  if (point.floats) for (const [k, v] of Object.entries(point.floats)) parts.push(`${escape.tag(k)}=${floatText(v)}`);
  return parts.join(',');
}

export function formatPoint(point: MetricPoint): string {
  return `${point.key ?? seriesKey(point.measurement, point.tags)} ${fieldsText(point)} ${msToNanosText(point.timeMs)}`;
}
