/**
 * What Tetragon says in its own stream about events it did not export:
 * - `rate_limit_info`: `{"rate_limit_info":{"number_of_dropped_process_events":"N"}, …}`,
 *   printed when `export-rate-limit` dropped N events (a protobuf uint64, so a string in
 *   JSON; numbers are accepted too);
 * - `process_throttle`: `{"process_throttle":{"type":"THROTTLE_START","cgroup":"…"}, …}`,
 *   a cgroup whose events Tetragon stops reporting for a while (and `THROTTLE_STOP` when
 *   it resumes). The event carries no count of what was throttled.
 * Both are rare (at most one per rate-limit interval or throttle change), so they are
 * read with JSON.parse from the line the decoders skipped, off the hot path.
 */
export type LossSignal = { kind: 'rate_limit'; droppedEvents: number } | { kind: 'throttle'; start: boolean } | undefined;

/** True for the skipped types whose lines report Tetragon's own losses. */
export function isLossType(type: string): boolean {
  return type === 'rate_limit_info' || type === 'process_throttle';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The loss a `rate_limit_info` or `process_throttle` line reports; undefined for anything else. */
export function readLossSignal(line: string): LossSignal {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(doc)) return undefined;
  const rate = doc.rate_limit_info;
  if (isRecord(rate)) {
    const n = rate.number_of_dropped_process_events;
    // Absent: protobuf JSON omits a zero.
    if (n === undefined) return { kind: 'rate_limit', droppedEvents: 0 };
    const value =
      typeof n === 'string' && /^\d+$/.test(n) ? Number(n) : typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
    return value === undefined || !Number.isSafeInteger(value) ? undefined : { kind: 'rate_limit', droppedEvents: value };
  }
  const throttle = doc.process_throttle;
  if (isRecord(throttle)) return { kind: 'throttle', start: throttle.type === 'THROTTLE_START' };
  return undefined;
}
