/**
 * The one abortable wait: resolves after `ms`, or at once when `signal` aborts (never
 * rejects: a stopped retry loop just looks at its signal and returns).
 *
 * Hand-written rather than `timers/promises`' setTimeout, which rejects on abort (every
 * caller would catch and tell an AbortError from a real one) and, like setTimeout,
 * fires after 1 ms instead of waiting when asked for more than MAX_TIMER_MS.
 */

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    signal?.addEventListener('abort', done, { once: true });
  });
}
