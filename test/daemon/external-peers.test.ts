/** `kovenant run --max-external-peers`: the guard applied to live windows, and its metric. */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/servers.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';
import { DAEMON_START_MS } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';
import { parseLineProtocol, startDaemon, type Daemon } from './support.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const at = (ms: number): string => new Date(T0 + ms).toISOString().replace('Z', '000000Z');

describe('kovenant run --max-external-peers', () => {
  let daemon: Daemon | undefined;
  afterEach(() => {
    daemon?.kill();
    daemon = undefined;
  });

  it('keeps the biggest peers per window, folds the rest into remote_name=other and counts them', async () => {
    const port = await freePort();
    daemon = startDaemon(
      [],
      ['run', '--events', '-', '--window', '10s', '--lateness', '0s', '--max-external-peers', '2', '--metrics-addr', `127.0.0.1:${port}`],
      {},
      'pipe',
    );
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);
    const sizes = [500, 400, 30, 20, 10];
    const lines = sizes.map((size, i) =>
      kprobeLine({
        fn: 'tcp_sendmsg',
        node: 'n1',
        time: at(1000 + i),
        sock: { saddr: '10.0.0.1', sport: 40000, daddr: `203.0.113.${i + 1}`, dport: 443 },
        size: String(size),
      }),
    );
    daemon.child.stdin!.write(lines.join('\n') + '\n');
    // The window is long past: the first idle tick closes it.
    let folded: number | undefined;
    let text = '';
    await waitFor(
      'three external peers folded',
      async () => {
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        folded = Number(/^kovenant_external_peers_folded_total (\S+)$/m.exec(text)?.[1]);
        return folded === 3;
      },
      30_000,
      100,
    );
    expect(folded).toBe(3);
    // The attribution cache: one local party, five addresses, five series.
    expect(Number(/^kovenant_attribution_cache_entries (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(11);
    expect(text).toMatch(/^kovenant_attribution_cache_evictions_total 0$/m);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(20_000)).toBe(0);
    const points = parseLineProtocol(daemon.stdout());
    expect(points.map((p) => [p.tags.remote_name, p.fields.bytes_sent, p.fields.sends]).sort()).toEqual([
      ['203.0.113.1', 500, 1],
      ['203.0.113.2', 400, 1],
      ['other', 60, 3],
    ]);
  }, 120_000);

  it('--max-cached-entries bounds the attribution cache and counts its evictions; totals unchanged', async () => {
    const port = await freePort();
    daemon = startDaemon(
      [],
      ['run', '--events', '-', '--window', '10s', '--lateness', '0s', '--max-cached-entries', '3', '--metrics-addr', `127.0.0.1:${port}`],
      {},
      'pipe',
    );
    await daemon.waitForLog('"msg":"running"', DAEMON_START_MS);
    const lines = Array.from({ length: 20 }, (_, i) =>
      kprobeLine({
        fn: 'tcp_sendmsg',
        node: 'n1',
        time: at(1000 + i),
        sock: { saddr: '10.0.0.1', sport: 40000, daddr: `203.0.113.${(i % 10) + 1}`, dport: 443 },
        size: String(i + 1),
      }),
    );
    daemon.child.stdin!.write(lines.join('\n') + '\n');
    let text = '';
    await waitFor(
      'all 20 events used',
      async () => {
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^kovenant_events_used_total 20$/m.test(text);
      },
      30_000,
      100,
    );
    expect(Number(/^kovenant_attribution_cache_entries (\S+)$/m.exec(text)?.[1])).toBeLessThanOrEqual(3);
    expect(Number(/^kovenant_attribution_cache_evictions_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(10);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(20_000)).toBe(0);
    const points = parseLineProtocol(daemon.stdout());
    expect(points.reduce((n, p) => n + p.fields.bytes_sent!, 0)).toBe((20 * 21) / 2);
    expect(points).toHaveLength(10);
  }, 120_000);
});
