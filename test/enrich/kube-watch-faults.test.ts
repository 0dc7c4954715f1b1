/**
 * Failures that arrive without an HTTP error: an ERROR event inside a watch stream, and a
 * list that is never answered. Both must go through backoff and show in status() as an
 * outage, not spin or freeze the resource silently.
 *
 * Why the fake: the real API server cannot be made to send an ERROR event or leave a list unanswered on demand.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeWatchStore, type KubeWatchStoreOptions } from '../../src/enrich/metadata/kube-watch-store.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../support/fake-kube-api.ts';
import { waitFor } from '../support/wait.ts';
import { captureLogger, join, pod, tempDir } from './kube-fixtures.ts';

let api: FakeKubeApi;
let store: KubeWatchStore | undefined;
let tmp: ReturnType<typeof tempDir>;

function openStore(options: Partial<KubeWatchStoreOptions>): KubeWatchStore {
  const file = join(tmp.dir, 'kubeconfig');
  api.writeKubeconfig(file);
  const config = new KubeConfig();
  config.loadFromFile(file);
  store = new KubeWatchStore({ config, logger: captureLogger().logger, kinds: ['Pod'], ...options });
  return store.start();
}

function requests(verb: 'list' | 'watch'): number {
  return api.requests.filter((r) => r.verb === verb && r.kind === 'Pod').length;
}

beforeEach(async () => {
  tmp = tempDir();
  api = await startFakeKubeApi();
});

afterEach(async () => {
  await store?.stop();
  store = undefined;
  await api.close();
  tmp.dispose();
});

describe('KubeWatchStore faults without an HTTP error', () => {
  it('a watch ERROR event other than 410 backs off and is reported as an outage', async () => {
    api.put(pod({ name: 'a', ip: '10.0.0.1' }));
    api.fail({ verb: 'watch', kind: 'Pod', status: 500, as: 'event', times: 1_000 });
    const s = openStore({ initialBackoffMs: 200, maxBackoffMs: 400 });
    await s.synced;
    await waitFor('the first watch', () => requests('watch') >= 1);
    const before = requests('watch');
    // The timer is the measurement (attempts in a second), not a wait for a result: a slow
    // machine makes fewer attempts, never more.
    await new Promise((r) => setTimeout(r, 1_000));
    // With 200–400 ms between attempts a second holds a handful; a retry loop without
    // backoff makes hundreds.
    expect(requests('watch') - before).toBeLessThan(10);
    await waitFor('the error in status', () => {
      const st = s.status();
      return st.outageSinceMs !== undefined && /watch pods: HTTP 500 fault injected for watch/.test(st.resources.pods?.lastError ?? '');
    });
    expect(s.status().lastError).toMatch(/watch pods: HTTP 500/);

    api.clearFaults();
    api.put(pod({ name: 'b', ip: '10.0.0.2' }));
    await waitFor('the new pod once watches work again', () => s.podsByIp('10.0.0.2').length === 1, 5_000);
    await waitFor('the outage to end', () => s.status().outageSinceMs === undefined);
    expect(s.status().resources.pods?.lastError).toBeUndefined();
  });

  it('a relist that is never answered times out into an outage, then recovers', async () => {
    api.put(pod({ name: 'a', ip: '10.0.0.1' }));
    const s = openStore({ initialBackoffMs: 10, maxBackoffMs: 50, listTimeoutMs: 300 });
    await s.synced;
    await waitFor('the watch', () => api.openWatches('Pod') === 1);
    const lists = requests('list');
    api.fail({ verb: 'list', kind: 'Pod', status: 0, as: 'hang', times: 1_000 });
    // 410 on the open watch: the store must list again, and that list never answers.
    api.expire();
    await waitFor('the relist', () => requests('list') > lists);
    await waitFor(
      'the unanswered list in status',
      () =>
        s.status().outageSinceMs !== undefined &&
        /list pods: no answer from the API server in 300 ms/.test(s.status().resources.pods?.lastError ?? ''),
      5_000,
    );
    // Still serving what it had.
    expect(s.status().synced).toBe(true);
    expect(s.podsByIp('10.0.0.1')).toHaveLength(1);

    api.clearFaults();
    api.put(pod({ name: 'b', ip: '10.0.0.2' }));
    await waitFor('the relist once the server answers', () => s.podsByIp('10.0.0.2').length === 1, 5_000);
    await waitFor('the outage to end', () => s.status().outageSinceMs === undefined);
    expect(s.status().resources.pods?.lastError).toBeUndefined();
    expect(s.status().resources.pods?.relists).toBeGreaterThanOrEqual(1);
  });
});
