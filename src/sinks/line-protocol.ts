/**
 * InfluxDB line protocol: `measurement,tag=v,... field=1i,... timestamp_ns`.
 * Escaping is the official client's, byte for byte (core/line-protocol-escape.ts); tags
 * are sorted by key, which is the order InfluxDB stores them in and makes output
 * deterministic.
 */
import { escape } from '../core/line-protocol-escape.ts';
import type { MetricPoint } from '../core/metric-point.ts';
import { seriesKey } from '../core/series.ts';

/** Epoch milliseconds → nanoseconds as decimal text, exact beyond 2^53. */
export function msToNanosText(ms: number): string {
  return ms === 0 ? '0' : `${ms}000000`;
}

export function floatText(v: number): string {
  // Line protocol floats must not look like integers with an `i` or be NaN/Infinity.
  if (!Number.isFinite(v)) throw new RangeError(`field value ${v} cannot be written to InfluxDB`);
  return String(v);
}

/** A field's escaped key as written first (after the space) and after a comma: the same few names are written millions of times. */
export interface FieldKeyText {
  readonly first: string;
  readonly next: string;
}

const fieldKeys = new Map<string, FieldKeyText>();

export function fieldKey(name: string): FieldKeyText {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    const escaped = escape.tag(name);
    k = { first: ` ${escaped}=`, next: `,${escaped}=` };
    fieldKeys.set(name, k);
  }
  return k;
}

/** Field set text: integer fields with `i`, then float fields. */
export function fieldsText(point: Pick<MetricPoint, 'ints' | 'floats'>): string {
  return appendFields('', point).slice(1);
}

/**
 * `text` and the point's fields, the first after a space: appended piece by piece (no
 * template per field) since a batch's lines are built once per point written.
 */
function appendFields(text: string, point: Pick<MetricPoint, 'ints' | 'floats'>): string {
  let next = false;
  const ints = point.ints;
  for (const k in ints) {
    const key = fieldKey(k);
    text += next ? key.next : key.first;
    text += Math.trunc(ints[k]!);
    text += 'i';
    next = true;
  }
  const floats = point.floats;
  if (floats)
    for (const k in floats) {
      const key = fieldKey(k);
      text += next ? key.next : key.first;
      text += floatText(floats[k]!);
      next = true;
    }
  return next ? text : text + ' ';
}

/** The last window time written and its text: a batch is mostly one window. */
let lastTimeMs = NaN;
let lastTimeText = '';

export function formatPoint(point: MetricPoint): string {
  const text = appendFields(point.key ?? seriesKey(point.measurement, point.tags), point);
  if (point.timeMs !== lastTimeMs) {
    lastTimeText = ` ${msToNanosText(point.timeMs)}`;
    lastTimeMs = point.timeMs;
  }
  return text + lastTimeText;
}
