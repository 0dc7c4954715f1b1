/**
 * Series identity: a measurement and its tag set, and the escaped line-protocol key that
 * names it. Attribution builds series once and interns them; aggregation keys windows by
 * them; sinks write the key as is. Escaping comes from the official client; tags are
 * sorted by key, which is the order InfluxDB stores them in and makes output deterministic.
 */
import { escape } from '@influxdata/influxdb-client';

/** One series: a measurement and a tag set, with its escaped line-protocol key. */
export interface Series {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly key: string;
}

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

export function makeSeries(measurement: string, tags: Record<string, string>): Series {
  return { measurement, tags, key: seriesKey(measurement, tags) };
}
