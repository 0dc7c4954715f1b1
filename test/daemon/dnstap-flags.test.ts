/** Bad --dnstap-listen / --dns-cache-max / --dns-grace: one line naming the flag, exit 2, before anything opens. */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { startDaemon } from './support.ts';

describe('kovenant run: dnstap flags', () => {
  it.each([
    [['--dnstap-listen', 'localhost'], /--dnstap-listen localhost: expected HOST:PORT or a socket path \(give HOST:PORT/],
    [['--dnstap-listen', ':6000', '--dns-cache-max', '0'], /"dnsCacheMax" \(from flag\): expected at least 1 address/],
    [['--dnstap-listen', ':6000', '--dns-grace', 'soon'], /"dnsGrace" \(from flag\): expected a duration/],
  ])('%j', async (flags, message) => {
    const d = startDaemon([], ['run', '--events', 'none', '--metrics-addr', 'off', ...flags]);
    expect(await d.exited(30_000)).toBe(2);
    expect(d.stderr()).toMatch(message);
  });

  it('an address in use: the flag, the address and the reason', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const d = startDaemon([], ['run', '--events', 'none', '--metrics-addr', 'off', '--dnstap-listen', `127.0.0.1:${port}`]);
      expect(await d.exited(30_000)).toBe(2);
      expect(d.stderr()).toContain(`--dnstap-listen 127.0.0.1:${port}: cannot listen: EADDRINUSE`);
    } finally {
      taken.close();
    }
  });
});
