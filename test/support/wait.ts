/** Polling until a condition holds: a deadline for slow machines, not a timing assertion. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** waitFor for a block of expect() calls: retried until it passes; at the deadline its last failure is thrown. */
export async function eventually(check: () => void, timeoutMs = 15_000): Promise<void> {
  let last: unknown;
  await waitFor(
    'a check to pass',
    () => {
      try {
        check();
        return true;
      } catch (err) {
        last = err;
        return false;
      }
    },
    timeoutMs,
    10,
  ).catch(() => {
    throw last;
  });
}

/**
 * Waits until `read()` stops changing: polled until it has held one value for `steadyMs`
 * (a deadline for slow machines, not a timing assertion). For a property that something
 * stops, such as a source that backpressure holds: a loaded machine only takes longer
 * to get there, and the value is read again after it settled.
 */
export async function waitForSteady(what: string, read: () => number, steadyMs = 300, timeoutMs = 30_000): Promise<number> {
  let value = read();
  let since = Date.now();
  await waitFor(
    `${what} to settle`,
    () => {
      const now = read();
      if (now !== value) {
        value = now;
        since = Date.now();
      }
      return Date.now() - since >= steadyMs;
    },
    timeoutMs,
  );
  return value;
}
