/**
 * What the daemon's restart and rotation tests compare: a naive oracle of window sums
 * computed from the events written, and InfluxDB's view in the same shape. Plus the
 * seeded generator those tests draw their streams and bursts from, so every run writes
 * the same lines.
 */
import { influxQuery } from './servers.ts';

/** One generated event line and what it must add to its window. */
export interface OracleEvent {
  line: string;
  measurement: 'kovenant_tcp' | 'kovenant_io';
  /** The series' distinguishing tag: the peer (tcp) or the pod (io). */
  who: string;
  timeMs: number;
  fields: Record<string, number>;
}

/** xorshift32: `next(n)` gives a reproducible number in [0, n). */
export function xorshift(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

/** The naive oracle: measurement → "window|who" → field sums. */
export function windowOracle(events: readonly OracleEvent[], windowMs: number): Map<string, Map<string, Record<string, number>>> {
  const out = new Map<string, Map<string, Record<string, number>>>();
  for (const e of events) {
    let m = out.get(e.measurement);
    if (!m) out.set(e.measurement, (m = new Map()));
    const key = `${Math.floor(e.timeMs / windowMs) * windowMs}|${e.who}`;
    const sums = m.get(key) ?? {};
    for (const [f, v] of Object.entries(e.fields)) sums[f] = (sums[f] ?? 0) + v;
    m.set(key, sums);
  }
  return out;
}

/** InfluxDB's view in the oracle's shape (the last write of each point won). */
export async function storedWindows(
  url: string,
  db: string,
  measurement: string,
  who: string,
): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  for (const series of await influxQuery(url, db, `SELECT * FROM ${measurement}`)) {
    for (const row of series.values) {
      const rec = Object.fromEntries(series.columns.map((c, i) => [c, row[i]]));
      const timeMs = Number(BigInt(rec.time as number | string) / 1_000_000n);
      const fields: Record<string, number> = {};
      for (const [k, v] of Object.entries(rec)) if (typeof v === 'number' && k !== 'time') fields[k] = v;
      out.set(`${timeMs}|${String(rec[who])}`, fields);
    }
  }
  return out;
}
