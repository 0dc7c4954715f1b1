/**
 * The parts' stats() reach Prometheus through a real daemon: a k8s-logs stream cut by
 * the API server is reopened, and kovenant_source_reconnects_total and the generic
 * kovenant_component_stat say so; a line the fast decoder hands to the reference decoder
 * counts in kovenant_decoder_fallbacks_total.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { fakeLogApiWithKubeconfig } from '../support/fake-log-api.ts';
import { exampleLines } from '../support/tetragon-lines.ts';
import { waitFor } from '../support/wait.ts';
import { daemonMetrics, metricValue, ownedDaemon } from './support.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const LINE = exampleLines(1)[0]!;
/** The same event with a key the fast decoder reads given twice: it hands the line to the reference decoder. */
const DUPLICATED_KEY = LINE.replace(/\}$/, `,"node_name":${JSON.stringify((JSON.parse(LINE) as { node_name: string }).node_name)}}`);

describe("component stats in the daemon's metrics", () => {
  const cleanup = cleanupAfterEach();

  it('k8s-logs reconnects and decoder fallbacks', async () => {
    const { api, kubeconfig } = await fakeLogApiWithKubeconfig(cleanup, 'kovenant-component-metrics-');
    api.addPod('tetragon-a');
    api.append('tetragon-a', [LINE, DUPLICATED_KEY], '2030-01-01T00:00:00.000Z');
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
        resolve(EXAMPLES, 'snapshot.json'),
        '--output',
        'line',
        '--metrics-addr',
        '127.0.0.1:0',
        '--lateness',
        '5m',
      ],
      { KUBECONFIG: '' },
    );
    await daemon.waitForLog('"msg":"metrics listening"', 60_000);
    await waitFor("the pod's log stream", () => api.openLogStreams('tetragon-a') > 0, 60_000);
    const before = metricValue(await daemonMetrics(daemon), 'kovenant_source_reconnects_total');
    expect(before).toBe(0);
    api.cutStreams('tetragon-a');
    await waitFor(
      'a reconnect in the metrics',
      async () => (metricValue(await daemonMetrics(daemon), 'kovenant_source_reconnects_total') ?? 0) >= 1,
      60_000,
    );
    await waitFor('both lines read', async () => metricValue(await daemonMetrics(daemon), 'kovenant_events_read_total') === 2, 60_000);
    const text = await daemonMetrics(daemon);
    expect(text).toMatch(/kovenant_component_stat\{kind="source",component="k8s-logs",stat="reconnects"\} [1-9]/);
    expect(metricValue(text, 'kovenant_events_read_total')).toBe(2);
    expect(metricValue(text, 'kovenant_decoder_fallbacks_total')).toBe(1);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited(60_000)).toBe(0);
  }, 180_000);
});
