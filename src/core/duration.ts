/** Durations on the command line and in config: `500ms`, `10s`, `5m`, `1h`, `1d`. */
import { InputError } from './input-error.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  const ms = m ? Number(m[1]) * (UNITS[m[2] ?? ''] ?? NaN) : NaN;
  if (!Number.isFinite(ms) || !Number.isInteger(ms)) {
    throw new InputError(`${what}: invalid duration "${text}"`, 'use a whole number of milliseconds or more, e.g. 500ms, 10s, 5m, 1h');
  }
  return ms;
}
