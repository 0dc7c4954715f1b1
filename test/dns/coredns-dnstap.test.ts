/**
 * `kovenant run --dnstap-listen` with a real CoreDNS: real DNS clients ask names, CoreDNS
 * answers from a zone file and streams its answers over dnstap, and the bytes the
 * daemon then counts to those addresses carry the names that were asked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireBinary } from '../support/servers.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { DAEMON_START_MS } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';
import { metricValue, parseLineProtocol, startDaemon, type Daemon } from '../daemon/support.ts';
import { COREDNS_BIN, COREDNS_HINT, startCoreDns, type CoreDns } from './coredns.ts';

const hasCoreDns = requireBinary(COREDNS_BIN);
if (!hasCoreDns) console.warn(`skipping: ${COREDNS_HINT}`);

const ZONE = `$ORIGIN example.test.
$TTL 300
@       IN SOA ns.example.test. admin.example.test. 1 7200 3600 1209600 300
@       IN NS  ns.example.test.
ns      IN A   192.0.2.1
api     IN A   192.0.2.10
api     IN AAAA 2001:db8::10
www     60 IN CNAME edge.example.test.
edge    IN A   198.51.100.7
`;

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return metricValue(text, name) ?? NaN;
}

async function waitForMetric(port: number, name: string, atLeast: number, timeoutMs: number): Promise<void> {
  let value = NaN;
  await waitFor(`${name} to reach ${atLeast}`, async () => (value = await metric(port, name)) >= atLeast, timeoutMs, 100).catch(() => {
    throw new Error(`${name} stayed ${value}, expected at least ${atLeast} within ${timeoutMs} ms`);
  });
}

describe.skipIf(!hasCoreDns)('kovenant run --dnstap-listen with a real CoreDNS', () => {
  let daemon: Daemon | undefined;
  let coredns: CoreDns | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    daemon?.kill();
    daemon = undefined;
    await coredns?.stop();
    coredns = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it.each(['tcp', 'unix', 'connect'] as const)(
    '%s: tags bytes to answered addresses with the names asked (A, AAAA, the head of a CNAME chain)',
    async (mode) => {
      // tcp, unix: CoreDNS dials kovenant (`dnstap tcp://…`, `dnstap unix://…`);
      // connect: kovenant dials CoreDNS (`dnstap listen tcp://…`, --dnstap-connect).
      let flag: string[];
      let corefileTarget: string;
      if (mode === 'unix') {
        dir = await mkdtemp(join(tmpdir(), 'kovenant-dnstap-'));
        const path = join(dir, 'dnstap.sock');
        flag = ['--dnstap-listen', path];
        corefileTarget = `unix://${path}`;
      } else {
        const addr = `127.0.0.1:${await freePort()}`;
        flag = mode === 'tcp' ? ['--dnstap-listen', addr] : ['--dnstap-connect', addr];
        corefileTarget = mode === 'tcp' ? `tcp://${addr}` : `listen tcp://${addr}`;
      }
      const metricsPort = await freePort();
      const startKovenant = async (): Promise<void> => {
        daemon = startDaemon(
          [],
          ['run', '--events', '-', '--window', '10s', '--lateness', '0s', ...flag, '--metrics-addr', `127.0.0.1:${metricsPort}`],
          {},
          'pipe',
        );
        await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);
      };
      // Whoever dials must find the other listening: CoreDNS dials at startup and then
      // only every 10 s; kovenant redials every 5 s.
      if (mode === 'connect') {
        coredns = await startCoreDns('example.test', ZONE, corefileTarget);
        await startKovenant();
      } else {
        await startKovenant();
        coredns = await startCoreDns('example.test', ZONE, corefileTarget);
      }
      const d = daemon!;
      await waitForMetric(metricsPort, 'kovenant_dnstap_connections_total', 1, 20_000);

      expect(await coredns.resolver.resolve4('api.example.test')).toEqual(['192.0.2.10']);
      expect(await coredns.resolver.resolve6('api.example.test')).toEqual(['2001:db8::10']);
      // Asked in mixed case through a CNAME: the tag is the asked name, lower-case.
      expect(await coredns.resolver.resolve4('WWW.Example.Test')).toEqual(['198.51.100.7']);
      // CoreDNS flushes its dnstap buffer every second.
      await waitForMetric(metricsPort, 'kovenant_dns_cache_addresses', 3, 20_000);

      const now = Date.now();
      const time = new Date(now).toISOString().replace('Z', '000000Z');
      const send = (daddr: string, size: number, family = 'AF_INET'): string =>
        kprobeLine({
          fn: 'tcp_sendmsg',
          node: 'n1',
          time,
          sock: { family, saddr: family === 'AF_INET' ? '10.0.0.1' : 'fd00::1', sport: 40000, daddr, dport: 443 },
          size,
        });
      d.child.stdin!.write(
        [send('192.0.2.10', 100), send('2001:db8::10', 200, 'AF_INET6'), send('198.51.100.7', 300), send('203.0.113.99', 400)].join('\n') +
          '\n',
      );
      await waitForMetric(metricsPort, 'kovenant_events_used_total', 4, 20_000);
      const hits = await metric(metricsPort, 'kovenant_dns_lookups_total{result="hit"}');
      // A query and a response frame per question, nothing malformed, nothing evicted.
      expect(await metric(metricsPort, 'kovenant_dnstap_frames_total')).toBeGreaterThanOrEqual(6);
      // On failure, say why: the daemon logs each connection it closed and the reason.
      const dnstapLog = (): string =>
        d
          .stderr()
          .split('\n')
          .filter((l) => l.includes('dnstap'))
          .join('\n');
      expect(await metric(metricsPort, 'kovenant_dnstap_parse_errors_total'), dnstapLog()).toBe(0);
      expect(await metric(metricsPort, 'kovenant_dns_cache_evictions_total')).toBe(0);
      d.child.kill('SIGTERM');
      expect(await d.exited(30_000)).toBe(0);

      const peers = parseLineProtocol(d.stdout())
        .filter((p) => p.measurement === 'kovenant_tcp')
        .map((p) => [p.tags.remote_name, p.tags.remote_dns, p.fields.bytes_sent])
        .sort();
      expect(peers).toEqual([
        ['192.0.2.10', 'api.example.test', 100],
        ['198.51.100.7', 'www.example.test', 300],
        ['2001:db8::10', 'api.example.test', 200],
        ['203.0.113.99', undefined, 400],
      ]);
      expect(hits).toBeGreaterThanOrEqual(3);
      expect(d.stderr()).not.toContain('malformed');
    },
    120_000,
  );
});
