/** Bad --dnstap-listen / --dns-cache-max / --dns-grace: one line naming the flag, exit 2, before anything opens. */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { DAEMON_START_MS } from '../support/cli.ts';
import { startDaemon } from './support.ts';

describe('kovenant run: dnstap flags', () => {
  it.each([
    [['--dnstap-listen', 'localhost'], /--dnstap-listen localhost: expected HOST:PORT or a socket path \(give HOST:PORT/],
    [['--dnstap-listen', ':6000', '--dns-cache-max', '0'], /"dnsCacheMax" \(from flag\): expected at least 1 address/],
    [['--dnstap-listen', ':6000', '--dns-grace', 'soon'], /"dnsGrace" \(from flag\): expected a duration/],
    [['--dnstap-connect', ':6001'], /--dnstap-connect :6001: needs the host to dial \(give HOST:PORT of CoreDNS's `dnstap listen`/],
    [['--dnstap-connect', 'coredns'], /--dnstap-connect coredns: expected HOST:PORT or a socket path/],
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

describe('kovenant run --dnstap-listen: bad input', () => {
  it('garbage on the dnstap port closes that connection, is counted, and the daemon runs on', async () => {
    const { connect } = await import('node:net');
    const { freePort } = await import('../support/servers.ts');
    const dnstapPort = await freePort();
    const metricsPort = await freePort();
    const d = startDaemon(
      [],
      ['run', '--events', 'none', '--dnstap-listen', `127.0.0.1:${dnstapPort}`, '--metrics-addr', `127.0.0.1:${metricsPort}`],
    );
    try {
      await d.waitForLog('"msg":"running"', DAEMON_START_MS);
      for (let i = 0; i < 2; i++) {
        const s = connect(dnstapPort, '127.0.0.1');
        s.on('error', () => undefined);
        await new Promise<void>((r) => s.once('connect', () => r()));
        s.write(Buffer.from('\0\0\0\0\0\0\xff\xffnot frame streams', 'latin1'));
        await new Promise<void>((r) => s.once('close', () => r()));
      }
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(/^kovenant_dnstap_parse_errors_total (\S+)$/m.exec(text)?.[1]).toBe('2');
      expect(/^kovenant_dnstap_connections_total (\S+)$/m.exec(text)?.[1]).toBe('2');
      expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
      expect(d.stderr()).toContain('malformed input, closing the connection');
      d.child.kill('SIGTERM');
      expect(await d.exited(30_000)).toBe(0);
    } finally {
      d.kill();
    }
  }, 120_000);
});
