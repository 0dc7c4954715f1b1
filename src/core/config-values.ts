/**
 * The zod types of settings that are not plain strings: durations, byte sizes, counts.
 * Each parses once, here, into the number the parts use (core/duration.ts,
 * core/byte-size.ts); a number given as such (YAML `batchSize: 500`) is taken as it is.
 * A bad value throws the `InputError` of the parser, which names `what` (the flag).
 */
import * as z from 'zod';
import { parseByteSize } from './byte-size.ts';
import { parseDuration } from './duration.ts';
import { InputError } from './input-error.ts';

/** `10s` → 10000 (milliseconds). */
export function durationMs(what: string): z.ZodType<number, string | number> {
  return z.union([z.number(), z.string()]).transform((v) => (typeof v === 'number' ? v : parseDuration(v, what)));
}

/** `512MiB` → 536870912 (bytes). */
export function byteSize(what: string): z.ZodType<number, string | number> {
  return z.union([z.number(), z.string()]).transform((v) => (typeof v === 'number' ? v : parseByteSize(v, what)));
}

/** A whole number above 0, e.g. `--batch-size 5000`. */
export function positiveInt(what: string): z.ZodType<number, string | number> {
  return z.union([z.number(), z.string()]).transform((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InputError(`${what}: expected a whole number above 0, got "${String(v)}"`);
    return n;
  });
}

/** Parses settings with a component's schema; its `InputError`s pass through as they are. */
export function parseSettings<S extends z.ZodType>(schema: S, settings: unknown, what: string): z.output<S> {
  const result = schema.safeParse(settings);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.map(String).join('.');
  throw new InputError(`${what}${key ? ` ${flagOf(key)}` : ''}: ${issue.message}`);
}

/** `influxUrl` → `--influx-url`: the flag of a settings key. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `influxUrl` → `KOVENANT_INFLUX_URL`: the environment variable of a settings key. */
export function envNameOf(key: string): string {
  return `KOVENANT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
