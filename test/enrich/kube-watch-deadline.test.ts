/**
 * A watch the API server never ends (a server or proxy that stopped answering without
 * closing the connection) must not freeze the cache: past its own server-side timeout
 * plus a grace period it is dropped, reported, and watched again.
 *
 * Why the fake: the real API server always ends a watch at its timeout; only a fake stays silent.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeWatchStore } from '../../src/enrich/metadata/kube-watch-store.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../support/fake-kube-api.ts';
import { waitFor } from '../support/wait.ts';
import { captureLogger, join, pod, tempDir } from './kube-fixtures.ts';

describe('a watch that never ends', () => {
  let api: FakeKubeApi | undefined;
  let store: KubeWatchStore | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    await store?.stop();
    await api?.close();
    tmp?.dispose();
  });

  it('is dropped after its timeout plus grace and watched again, and changes still arrive', async () => {
    api = await startFakeKubeApi();
    tmp = tempDir();
    api.put(pod({ name: 'a', ip: '10.0.0.1' }));
    const file = join(tmp.dir, 'kubeconfig');
    api.writeKubeconfig(file);
    const config = new KubeConfig();
    config.loadFromFile(file);
    const log = captureLogger();
    store = new KubeWatchStore({
      config,
      logger: log.logger,
      kinds: ['Pod'],
      watchTimeoutSeconds: 1,
      watchDeadlineGraceMs: 300,
      initialBackoffMs: 10,
      maxBackoffMs: 50,
    }).start();
    await store.synced;
    const podWatches = (): number => api!.requests.filter((r) => r.verb === 'watch' && r.kind === 'Pod').length;
    await waitFor('the first watch', () => podWatches() >= 1, 10_000);
    expect(api.requests.find((r) => r.verb === 'watch')?.query.timeoutSeconds).toBe('1');
    // The fake server ignores timeoutSeconds and keeps the stream open, silently.
    await waitFor('a second watch after the deadline', () => podWatches() >= 2, 10_000);
    expect(store.status().resources.pods?.lastError ?? store.status().lastError ?? '').toMatch(/no end from the API server/);
    api.put(pod({ name: 'b', ip: '10.0.0.2' }));
    await waitFor('the new pod through the new watch', () => store!.podsByIp('10.0.0.2').length === 1, 10_000);
  });
});
