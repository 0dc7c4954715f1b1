/**
 * `kovenant run` on live watches: /readyz answers 503 and no event is read until the
 * caches are synced, then events are attributed with the watched metadata.
 *
 * Why the fake: it holds connections open without answering, which a real API server never does (the real restart is in kube-apiserver-watch.test.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controller, pod, service } from '../enrich/kube-fixtures.ts';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { startFakeKubeApi } from '../support/fake-kube-api.ts';
import { freePort } from '../support/servers.ts';
import { kprobeLine, podAndServiceSends } from '../support/tetragon-lines.ts';
import { attributionRows } from '../support/line-protocol.ts';
import { waitFor } from '../support/wait.ts';
import { parseLineProtocol, ownedDaemon, type Daemon } from './support.ts';

async function readyz(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
  } catch {
    return 0;
  }
}

async function outageSeconds(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^kovenant_metadata_outage_seconds (\S+)$/m.exec(text)?.[1] ?? NaN);
}

describe('kovenant run with live Kubernetes watches', () => {
  const cleanup = cleanupAfterEach();
  /** The daemon reading events on stdin, attributing with the watches of `kubeconfig`'s API server. */
  const watchingDaemon = (kubeconfig: string, port: number, window: string): Daemon =>
    ownedDaemon(
      cleanup,
      [],
      [
        'run',
        '--events',
        '-',
        '--kubeconfig',
        kubeconfig,
        '--window',
        window,
        '--lateness',
        '0s',
        '--metrics-addr',
        `127.0.0.1:${port}`,
        '--output',
        'line',
      ],
      {},
      'pipe',
    );

  it('is not ready until synced, then attributes with the watched objects', async () => {
    const dir = cleanup.tempDir('kovenant-run-watch-');
    const api = cleanup.add(await startFakeKubeApi(), (a) => a.close());
    api.put(pod({ ns: 'shop', name: 'web-7c9-abc', ip: '10.1.0.5', owner: { kind: 'ReplicaSet', name: 'web-7c9' } }));
    api.put(controller('ReplicaSet', 'shop', 'web-7c9', { kind: 'Deployment', name: 'web' }));
    api.put(controller('Deployment', 'shop', 'web', undefined, 'shop-release'));
    api.put(pod({ ns: 'db', name: 'pg-0', ip: '10.1.0.6' }));
    api.put(service('shop', 'web', '10.96.0.10'));
    const kubeconfig = join(dir, 'kubeconfig');
    api.writeKubeconfig(kubeconfig);
    await api.pause();

    const port = await freePort();
    const daemon = watchingDaemon(kubeconfig, port, '10s');
    const t = new Date(Math.floor(Date.now() / 10_000) * 10_000 - 60_000).toISOString();
    daemon.child.stdin!.write(
      podAndServiceSends(t, { namespace: 'shop', name: 'web-7c9-abc' }, { pod: '10.1.0.5', peer: '10.1.0.6', service: '10.96.0.10' }),
    );
    await waitFor('/readyz to answer 503 while the API server does not answer', async () => (await readyz(port)) === 503, 30_000, 100);
    // Not ready for good, not for a moment: once the daemon has tried the silent server
    // again, it must still answer 503 and have written nothing.
    const refused = api.refusedConnections;
    await waitFor('the daemon to try the paused API server again', () => api.refusedConnections > refused, 30_000);
    expect(await readyz(port)).toBe(503);
    expect(daemon.stdout()).toBe('');

    await api.resume();
    await waitFor('/readyz to answer 200 after the sync', async () => (await readyz(port)) === 200, 30_000, 100);
    expect(await outageSeconds(port)).toBe(0);
    // An outage after the sync: the last known state keeps serving, and the metric says so.
    await api.pause();
    await waitFor('kovenant_metadata_outage_seconds above 0', async () => (await outageSeconds(port)) > 0, 30_000, 100);
    expect(await readyz(port)).toBe(200);
    await api.resume();
    await waitFor('the outage to end', async () => (await outageSeconds(port)) === 0, 30_000, 100);
    daemon.child.stdin!.end();
    expect(await daemon.exited(30_000)).toBe(0);
    expect(attributionRows(parseLineProtocol(daemon.stdout()))).toEqual([
      ['web-7c9-abc', 'web', 'Deployment', 'shop-release', 'pod', 'pg-0', 1234],
      ['web-7c9-abc', 'web', 'Deployment', 'shop-release', 'service', 'web', 10],
    ]);
  }, 90_000);

  it('a node zone label changing takes effect for later events', async () => {
    const dir = cleanup.tempDir('kovenant-run-zone-');
    const api = cleanup.add(await startFakeKubeApi(), (a) => a.close());
    const zonedNode = (zone: string) => ({
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': 'r1' } },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    });
    api.put(zonedNode('z1'));
    api.put(pod({ ns: 'shop', name: 'web-1', ip: '10.1.0.5', node: 'node-a' }));
    api.put(pod({ ns: 'db', name: 'pg-0', ip: '10.1.0.6', node: 'node-a' }));
    const kubeconfig = join(dir, 'kubeconfig');
    api.writeKubeconfig(kubeconfig);
    const port = await freePort();
    const daemon = watchingDaemon(kubeconfig, port, '1s');
    await waitFor('/readyz to answer 200 after the sync', async () => (await readyz(port)) === 200, 30_000, 100);
    const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    let second = 0;
    // One event per second of event time: each closes the previous window.
    const send = (): void => {
      const time = new Date(T0 + second++ * 1000 + 100).toISOString();
      daemon.child.stdin!.write(
        kprobeLine({
          fn: 'tcp_sendmsg',
          node: 'node-a',
          time,
          pod: { namespace: 'shop', name: 'web-1' },
          sock: { saddr: '10.1.0.5', sport: 40000, daddr: '10.1.0.6', dport: 5432 },
          size: '5',
        }) + '\n',
      );
    };
    send();
    send();
    await waitFor('the first window written', async () => daemon.stdout().includes('zone=z1'), 30_000, 100);
    api.put(zonedNode('z2'));
    await waitFor(
      'a window attributed to the new zone',
      async () => {
        send();
        return daemon.stdout().includes('zone=z2');
      },
      30_000,
      200,
    );
    daemon.child.stdin!.end();
    expect(await daemon.exited(30_000)).toBe(0);
    const zones = parseLineProtocol(daemon.stdout())
      .filter((p) => p.measurement === 'kovenant_tcp')
      .sort((a, b) => (a.timeNs < b.timeNs ? -1 : 1))
      .map((p) => [p.tags.zone, p.tags.remote_zone, p.tags.path]);
    const firstNew = zones.findIndex((z) => z[0] === 'z2');
    expect(firstNew).toBeGreaterThan(0);
    // Before the change the old zone, from the first window of the new zone on only the new one.
    expect(zones.slice(0, firstNew).every((z) => z[0] === 'z1' && z[1] === 'z1' && z[2] === 'same-node')).toBe(true);
    expect(zones.slice(firstNew)).toEqual(zones.slice(firstNew).map(() => ['z2', 'z2', 'same-node']));
  }, 90_000);
});
