/**
 * Series identity: a measurement and its tag set, and the escaped line-protocol key that
 * names it. Attribution builds series once and interns them; aggregation keys windows by
 * them; sinks write the key as is. Escaping is the official client's, byte for byte
 * (line-protocol-escape.ts); tags are sorted by key, which is the order InfluxDB stores
 * them in and makes output deterministic.
 */
import { escape } from './line-protocol-escape.ts';

/** One series: a measurement and a tag set, with its escaped line-protocol key. */
export interface Series {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly key: string;
}

/**
 * Longest tag value written, in UTF-8 bytes. Kubernetes names are at most 253
 * characters; a longer value (a corrupt or hostile name) is cut here so that a series
 * key stays far below InfluxDB's 65,535-byte key limit and the point is accepted.
 */
export const MAX_TAG_VALUE_BYTES = 512;

/** Tag values changed to be writable, process-wide: the daemon's metrics read them. */
export const tagValueChanges = { cut: 0 };

const cutBuffer = new Uint8Array(MAX_TAG_VALUE_BYTES);
const textEncoder = new TextEncoder();
// C0 controls and DEL: a raw newline would end the line; the others are stored raw.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;
// InfluxDB 1.x/2.x read a backslash before `,`, `=`, ` ` as an escape whatever precedes
// it, so no spelling of a backslash that ends a value (or precedes one of those) parses:
// `trail\` + `,` would escape the separator. It becomes a look-alike instead.
const BACKSLASH_BEFORE_SPECIAL = /\\(?=[,= ]|$)/g;
// eslint-disable-next-line no-control-regex -- as above
const NEEDS_CHANGE = /[\u0000-\u001f\u007f\\]/;

/**
 * A tag value as InfluxDB accepts it: control characters replaced by U+FFFD, at most
 * MAX_TAG_VALUE_BYTES (cut on a character boundary and counted), a backslash that ends
 * the value or precedes `,`, `=` or a space replaced by U+FF3C (＼), then escaped. The
 * client's `escape.tag` alone leaves those backslashes and control bytes as they are.
 */
export function tagValueText(value: string): string {
  let v = value;
  const special = NEEDS_CHANGE.test(v);
  if (special) v = v.replace(CONTROL, '\ufffd');
  if (v.length * 3 > MAX_TAG_VALUE_BYTES) {
    const { read } = textEncoder.encodeInto(v, cutBuffer);
    if (read < v.length) {
      v = v.slice(0, read);
      tagValueChanges.cut++;
    }
  }
  // After the cut, which may leave a backslash at the end.
  if (special) v = v.replace(BACKSLASH_BEFORE_SPECIAL, '\uff3c');
  return escape.tag(v);
}

/** The escaped `measurement,k=v,...` prefix that identifies a series. */
export function seriesKey(measurement: string, tags: Readonly<Record<string, string>>): string {
  let key = escape.measurement(measurement);
  for (const k of Object.keys(tags).sort()) {
    const v = tags[k];
    if (v === undefined || v === '') continue;
    key += `,${escape.tag(k)}=${tagValueText(v)}`;
  }
  return key;
}

export function makeSeries(measurement: string, tags: Record<string, string>): Series {
  return { measurement, tags, key: seriesKey(measurement, tags) };
}
