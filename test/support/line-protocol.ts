/**
 * The one reader of InfluxDB line protocol in the tests: kovenant's stdout (`--output
 * line`), `--out` files, and bodies a fake server received. Written here rather than taken
 * from a library: the official client only writes line protocol, and a test must read the
 * text exactly as the CLI wrote it (escapes included) to check it.
 */

export interface ParsedPoint {
  measurement: string;
  tags: Record<string, string>;
  /** Integer (`1i`) and float fields, as numbers (kovenant writes no string or boolean fields). */
  fields: Record<string, number>;
  timeNs: bigint;
}

/** `text` cut at each `sep` that no backslash escapes; the escapes stay in the parts. */
function splitUnescaped(text: string, sep: string, limit = Infinity): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length && parts.length < limit - 1; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === sep) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const unescape = (text: string): string => text.replace(/\\(.)/g, '$1');

/** `key=value` of a tag or field, unescaped; throws naming the line without an `=`. */
function keyValue(kv: string, line: string): [string, string] {
  const [k, v] = splitUnescaped(kv, '=', 2);
  if (v === undefined) throw new Error(`no "=" in "${kv}" of the line protocol line ${line}`);
  return [unescape(k!), unescape(v)];
}

/** One point; throws naming the line when it is not `series fields timestamp`. */
export function parseLine(line: string): ParsedPoint {
  const [series, fieldText, time] = splitUnescaped(line, ' ');
  if (!series || !fieldText || !time) throw new Error(`not a line protocol point (series fields timestamp): ${line}`);
  const [measurement, ...tagPairs] = splitUnescaped(series, ',');
  const tags = Object.fromEntries(tagPairs.map((kv) => keyValue(kv, line)));
  const fields: Record<string, number> = {};
  for (const kv of splitUnescaped(fieldText, ',')) {
    const [k, v] = keyValue(kv, line);
    const n = Number(v.endsWith('i') ? v.slice(0, -1) : v);
    if (v === '' || Number.isNaN(n)) throw new Error(`field ${k}=${v} is not a number in the line protocol line ${line}`);
    fields[k] = n;
  }
  return { measurement: unescape(measurement!), tags, fields, timeNs: BigInt(time) };
}

/**
 * Every point of `text`, blank and `#` comment lines passed over. `kovenant_source` (the
 * daemon's account of its input, which replay does not write) is left out unless
 * `withSource`, so that daemon output compares with replay output.
 */
export function parseLineProtocol(text: string, options: { withSource?: boolean } = {}): ParsedPoint[] {
  return pointLines(text, options).map(parseLine);
}

/** `measurement.field` → the sum of that field over `points` (and `measurement.points` → their count with `countPoints`). */
export function fieldSums(
  points: Iterable<Pick<ParsedPoint, 'measurement' | 'fields'>>,
  options: { countPoints?: boolean } = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) {
    if (options.countPoints) out[`${p.measurement}.points`] = (out[`${p.measurement}.points`] ?? 0) + 1;
    for (const [k, v] of Object.entries(p.fields)) out[`${p.measurement}.${k}`] = (out[`${p.measurement}.${k}`] ?? 0) + v;
  }
  return out;
}

/** The point lines of `text` as written (blank and `#` lines out, `kovenant_source` out unless `withSource`). */
export function pointLines(text: string, options: { withSource?: boolean } = {}): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#') && (options.withSource || !l.startsWith('kovenant_source,')));
}

/** Each point's attribution and bytes_sent, sorted: pod, workload, its kind, release, remote kind, remote name. */
export function attributionRows(points: readonly ParsedPoint[]): unknown[][] {
  return points
    .map((p) => [
      p.tags.pod,
      p.tags.workload,
      p.tags.workload_kind,
      p.tags.release,
      p.tags.remote_kind,
      p.tags.remote_name,
      p.fields.bytes_sent,
    ])
    .sort();
}
