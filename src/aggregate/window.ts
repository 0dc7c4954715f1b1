/** Fixed windows aligned to multiples of their length since the epoch. */
export function windowStart(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}
