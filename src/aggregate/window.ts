/** Fixed windows aligned to multiples of their length since the epoch. */
export function windowStart(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

/**
 * The longest window: a day. Event times stay a day inside InfluxDB's range
 * (MIN_EVENT_TIME_MS), so every window start is a timestamp InfluxDB stores.
 */
export const MAX_WINDOW_MS = 86_400_000;
