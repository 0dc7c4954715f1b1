/**
 * Line-protocol escaping of measurements, tag keys, tag values and field keys, with the
 * same output as `escape` from @influxdata/influxdb-client (test/core/line-protocol-escape.test.ts
 * checks it byte for byte against the client). Written out here for start-up: importing
 * the client for these few replacements loaded the whole client (~10 ms) on every replay
 * and line-output run, which never talk to InfluxDB.
 */

const MEASUREMENT_SPECIAL = /[, \n\r\t]/;
const MEASUREMENT_SPECIALS = /[, \n\r\t]/g;
const TAG_SPECIAL = /[, =\n\r\t]/;
const TAG_SPECIALS = /[, =\n\r\t]/g;

const REPLACEMENT: Readonly<Record<string, string>> = {
  ',': '\\,',
  ' ': '\\ ',
  '=': '\\=',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

const replacement = (c: string): string => REPLACEMENT[c]!;

export const escape = {
  /** A measurement name: `,` and space escaped, line breaks and tabs written as `\n`, `\r`, `\t`. */
  measurement: (value: string): string => (MEASUREMENT_SPECIAL.test(value) ? value.replace(MEASUREMENT_SPECIALS, replacement) : value),
  /** A tag key, tag value or field key: as a measurement, and `=` escaped too. */
  tag: (value: string): string => (TAG_SPECIAL.test(value) ? value.replace(TAG_SPECIALS, replacement) : value),
};
