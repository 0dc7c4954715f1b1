/**
 * `--events k8s-logs` against an in-test API server (real HTTP, chunked): two pods
 * followed, a third added mid-test, a stream cut mid-line and resumed without a
 * duplicate or a lost line, a restarted container, a deleted pod, and a 403 on
 * pods/log that names the verb, the resource and the RBAC fix.
 *
 * Why the fake: it cuts streams mid-line, restarts containers and deletes pods on demand (the real apiserver's RBAC and log proxy, to a stand-in kubelet, are in kube-apiserver-watch.test.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/enrich/metadata/kube-config.ts';
import { openK8sLogs, timeKey, type K8sLogInput } from '../../src/sources/k8s-logs.ts';
import { cleanupAfterEach } from '../support/cleanup.ts';
import { startFakeLogApi, type FakeLogApi } from '../support/fake-log-api.ts';
import { waitFor } from '../support/wait.ts';

const quiet = { info: () => {}, warn: () => {} };

/** Kubelet-style times: Go's RFC3339Nano trims trailing zeros of the fraction. */
function at(ms: number): string {
  return new Date(Date.UTC(2030, 0, 1) + ms)
    .toISOString()
    .replace(/\.?0+Z$/, 'Z')
    .replace(/\.Z$/, 'Z');
}

describe('k8s-logs source', () => {
  const cleanup = cleanupAfterEach();
  let api: FakeLogApi | undefined;
  let stop: AbortController | undefined;

  /** `startReading` resolved: the consumer starts reading (default: at once). */
  async function open(
    opts: { maxBufferedBytes?: number; startReading?: Promise<void> } = {},
  ): Promise<{ input: K8sLogInput; received: string[]; chunks: Buffer[]; done: Promise<void> }> {
    const dir = cleanup.tempDir('kovenant-k8s-logs-');
    api!.writeKubeconfig(join(dir, 'kubeconfig'));
    const kube = loadKubeConfig({ kubeconfig: join(dir, 'kubeconfig') });
    stop = cleanup.add(new AbortController(), (c) => c.abort());
    const input = await openK8sLogs({
      config: kube.config,
      server: kube.server,
      namespace: 'kube-system',
      selector: 'app.kubernetes.io/name=tetragon',
      container: 'export-stdout',
      signal: stop.signal,
      log: quiet,
      retryMs: 30,
      maxRetryMs: 200,
      drainMs: 50,
      ...(opts.maxBufferedBytes ? { maxBufferedBytes: opts.maxBufferedBytes } : {}),
    });
    const received: string[] = [];
    const chunks: Buffer[] = [];
    const done = (async () => {
      await opts.startReading;
      for await (const chunk of input.chunks) {
        chunks.push(chunk);
        received.push(...chunk.toString().split('\n').slice(0, -1));
      }
    })();
    return { input, received, chunks, done };
  }

  it('orders times written with trimmed fractions', () => {
    expect(timeKey('2030-01-01T00:00:00.1Z')! > timeKey('2030-01-01T00:00:00.05Z')!).toBe(true);
    expect(timeKey('2030-01-01T00:00:01Z')! > timeKey('2030-01-01T00:00:00.999999999Z')!).toBe(true);
    expect(timeKey('2030-01-01T01:00:00+01:00')).toBe(timeKey('2030-01-01T00:00:00Z'));
    expect(timeKey('not a time')).toBeUndefined();
  });

  it('merges the pods line-wise, picks up new pods, resumes cut streams exactly, drops deleted pods', async () => {
    api = cleanup.add(await startFakeLogApi(), (a) => a.close());
    const expected: string[] = [];
    const write = (pod: string, n: number, ms: number): void => {
      const lines = Array.from({ length: n }, (_, i) => `{"pod":"${pod}","n":${expected.length + i},"pad":"${'x'.repeat(200)}"}`);
      expected.push(...lines);
      api!.append(pod, lines, at(ms));
    };
    api.addPod('tetragon-a');
    api.addPod('tetragon-b');
    // Lines before the source starts: read from the start of each log.
    write('tetragon-a', 3, 100);
    write('tetragon-b', 2, 150);
    const { input, received, chunks, done } = await open();
    await waitFor('the first lines', () => received.length === 5);
    expect(input.pods).toEqual(['tetragon-a', 'tetragon-b']);

    write('tetragon-a', 50, 200);
    write('tetragon-b', 50, 200);
    // A third pod, with a log already written.
    api.addPod('tetragon-c');
    write('tetragon-c', 4, 250);
    await waitFor('the third pod', () => received.length === expected.length);

    // Cut a's stream in the middle of a line; the line is in the log all the same.
    // Same second as the lines read before: the resumed stream (sinceTime in whole
    // seconds) repeats them, and the same timestamp (300) is shared by the line cut
    // and by lines read after the resume.
    write('tetragon-a', 2, 300);
    await waitFor('a before the cut', () => received.length === expected.length);
    const cutLine = `{"pod":"tetragon-a","n":${expected.length},"cut":true}`;
    api.cutStreams('tetragon-a', `${at(300)} ${cutLine}\n`);
    api.append('tetragon-a', [cutLine], at(300));
    expected.push(cutLine);
    write('tetragon-a', 3, 300);
    write('tetragon-a', 3, 1_500);
    await waitFor('a after the resume', () => received.length === expected.length);
    // The 55 lines of a in second 0 read before the cut came again and were dropped.
    expect(input.linesSkipped).toBe(55);
    expect(api.logRequests.some((r) => r.pod === 'tetragon-a' && r.query.sinceTime === at(300))).toBe(true);

    // A restarted export container: its new log is read from its start.
    api.restartContainer('tetragon-c');
    write('tetragon-c', 5, 2_000);
    await waitFor('c after its restart', () => received.length === expected.length);

    // A deleted pod is dropped: not followed, no reconnect.
    api.deletePod('tetragon-b');
    await waitFor('b dropped', () => !input.pods.includes('tetragon-b'));
    const bRequests = api.logRequests.filter((r) => r.pod === 'tetragon-b').length;
    write('tetragon-a', 2, 3_000);
    await waitFor('the last lines', () => received.length === expected.length);
    // A while for what must not happen (a reconnect to the deleted pod): a timer cannot
    // fail this test on a slow machine, only miss a late reconnect.
    await new Promise((r) => setTimeout(r, 300));
    expect(api.logRequests.filter((r) => r.pod === 'tetragon-b').length).toBe(bRequests);
    expect(input.pods).toEqual(['tetragon-a', 'tetragon-c']);

    // Nothing lost, nothing twice, every chunk whole lines, each pod's lines in order.
    expect([...received].sort()).toEqual([...expected].sort());
    expect(new Set(received).size).toBe(received.length);
    for (const c of chunks) expect(c[c.length - 1]).toBe(0x0a);
    for (const pod of ['tetragon-a', 'tetragon-b', 'tetragon-c']) {
      const mine = (lines: string[]): string[] => lines.filter((l) => l.includes(`"pod":"${pod}"`));
      expect(mine(received)).toEqual(mine(expected));
    }
    stop!.abort();
    await done;
  }, 20_000);

  it('a consumer that does not read stops the log streams (TCP backpressure), then gets every line once', async () => {
    api = cleanup.add(await startFakeLogApi(), (a) => a.close());
    api.addPod('tetragon-a');
    const maxBufferedBytes = 64 * 1024;
    let startReading = (): void => {};
    const { input, received, done } = await open({ maxBufferedBytes, startReading: new Promise<void>((r) => (startReading = r)) });
    await waitFor('the stream open', () => api!.openLogStreams('tetragon-a') === 1);
    // 16 MiB of log, far more than the queue limit and than loopback socket buffers.
    const expected = Array.from({ length: 16_384 }, (_, n) => `{"pod":"tetragon-a","n":${n},"pad":"${'x'.repeat(1000)}"}`);
    for (let i = 0; i < expected.length; i += 1024) api.append('tetragon-a', expected.slice(i, i + 1024), at(i));
    // Reading stalls: the source stopped taking lines off the connection.
    let last = -1;
    await waitFor(
      'reading to stall',
      () => {
        const stalled = input.linesRead > 0 && input.linesRead === last;
        last = input.linesRead;
        return stalled;
      },
      5000,
      150,
    );
    // The queue holds the limit plus at most a network chunk or so; the rest waits in
    // the server, not in this process.
    expect(input.bufferedBytes).toBeGreaterThan(maxBufferedBytes);
    expect(input.bufferedBytes).toBeLessThan(maxBufferedBytes + 256 * 1024);
    expect(input.linesRead).toBeLessThan(expected.length / 8);
    expect(api.unsentLogBytes('tetragon-a')).toBeGreaterThan(0);

    startReading();
    await waitFor('every line', () => received.length === expected.length, 10_000);
    expect(received).toEqual(expected);
    expect(input.linesRead).toBe(expected.length);
    expect(api.unsentLogBytes('tetragon-a')).toBe(0);
    stop!.abort();
    await done;
  }, 20_000);

  it('a 403 on pods/log fails the source naming get pods/log and the RBAC rule', async () => {
    api = cleanup.add(await startFakeLogApi(), (a) => a.close());
    api.addPod('tetragon-a');
    api.forbidLogs();
    const { done } = await open();
    const err = await done.then(
      () => undefined,
      (e: unknown) => e as Error & { hint?: string },
    );
    expect(err?.name).toBe('InputError');
    expect(err?.message).toContain('forbidden to get pods/log in namespace kube-system');
    expect(err?.hint).toContain('verbs [get] on resource "pods/log" in apiGroup ""');
    expect(err?.hint).toContain('kubectl auth can-i get pods/log -n kube-system');
  });

  it('an API server that does not answer the first list fails the open, naming the server and the request', async () => {
    api = cleanup.add(await startFakeLogApi(), (a) => a.close());
    const url = api.url;
    // Closed, but still the kubeconfig's server (closing again in afterEach is harmless).
    await api.close();
    const err = await open().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(`${url}: list pods in namespace kube-system: `);
    expect(err?.message).toContain('ECONNREFUSED');
  });
});
