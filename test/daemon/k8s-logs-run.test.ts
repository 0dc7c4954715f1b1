/**
 * `kovenant run --events k8s-logs` end to end: the daemon follows three Tetragon pods'
 * export logs through an in-test API server and writes the same points as a replay of
 * the concatenated lines.
 *
 * Why the fake: it cuts streams mid-line, restarts containers and deletes pods on demand (the real apiserver's RBAC and log proxy, to a stand-in kubelet, are in kube-apiserver-watch.test.ts).
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { fakeLogApiWithKubeconfig } from '../support/fake-log-api.ts';
import { replayOutput } from '../support/cli.ts';
import { pointLines } from '../support/line-protocol.ts';
import { exampleLines } from '../support/tetragon-lines.ts';
import { ownedDaemon } from './support.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const LINES = exampleLines(1500);

describe('kovenant run --events k8s-logs', () => {
  const cleanup = cleanupAfterEach();

  it("writes the points a replay of the pods' lines writes", async () => {
    const { api, kubeconfig } = await fakeLogApiWithKubeconfig(cleanup, 'kovenant-k8s-logs-run-');
    // One Tetragon pod per node, as the DaemonSet runs them.
    const byNode = new Map<string, string[]>();
    for (const line of LINES) {
      const node = /"node_name":"([^"]+)"/.exec(line)?.[1] ?? 'none';
      byNode.set(node, [...(byNode.get(node) ?? []), line]);
    }
    expect(byNode.size).toBe(3);
    for (const [node, lines] of byNode) {
      api.addPod(`tetragon-${node}`);
      lines.forEach((l, i) => api.append(`tetragon-${node}`, [l], new Date(Date.UTC(2030, 0, 1) + i).toISOString()));
    }
    const snapshot = resolve(EXAMPLES, 'snapshot.json');
    const daemon = ownedDaemon(
      cleanup,
      [],
      [
        'run',
        '--events',
        'k8s-logs',
        '--kubeconfig',
        kubeconfig,
        '--kube',
        snapshot,
        '--output',
        'line',
        '--duration',
        '3s',
        '--lateness',
        '5m',
        '--metrics-addr',
        'off',
      ],
      { KUBECONFIG: '' },
    );
    expect(await daemon.exited(30_000)).toBe(0);
    // kovenant_source is the daemon's own account of its input; replay does not write it.
    const live = pointLines(daemon.stdout()).sort();
    expect(daemon.stdout()).toMatch(/^kovenant_source,node=[^ ]+,source=k8s-logs events_read=[1-9]\d*i,events_rejected=0i,events_lost=0i/m);
    const replayed = pointLines(await replayOutput(LINES, ['--kube', snapshot, '--window', '10s'])).sort();
    expect(live.length).toBeGreaterThan(100);
    expect(live).toEqual(replayed);
    expect(api.logRequests.map((r) => r.pod).sort()).toEqual(['tetragon-node-a', 'tetragon-node-b', 'tetragon-node-c']);
  }, 60_000);
});
