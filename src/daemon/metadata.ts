/**
 * Where Kubernetes metadata comes from: `--kube` snapshots (offline replay) or live
 * watches on the API server (`--kubeconfig`, `--context`, KUBECONFIG, or the pod's
 * service account). Both feed the same resolver.
 */
import type { KubeWatchStatus } from '../enrich/metadata/kube-watch-store.ts';
import type { MetadataStore } from '../enrich/metadata/model.ts';
import { MetadataIndex } from '../enrich/metadata/metadata-index.ts';
import { loadSnapshots } from '../enrich/metadata/snapshot.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';

export interface MetadataOptions {
  kube?: string[];
  kubeconfig?: string;
  context?: string;
  /** Use the pod's service account (the daemon sets this when running in a cluster). */
  inCluster?: boolean;
  /** How long to wait for the watches' first sync, e.g. `2m`. */
  syncTimeout?: string;
  /** False for a daemon that reports readiness itself; default true. */
  waitForSync?: boolean;
  /** Accept a `--kube` snapshot without objects (else a usage error). */
  allowEmptyKube?: boolean;
}

export interface OpenedMetadata {
  store: MetadataStore;
  /** Watches only: resolves when every resource has been listed once. */
  synced: Promise<void>;
  /** False until the watches have synced (readiness); always true for snapshots. */
  isReady(): boolean;
  /** Watches only: counts, sync state, last error, outage start, for logs and metrics. */
  status(): KubeWatchStatus | undefined;
  /** Stops watches, if any. */
  close(): Promise<void>;
}

export const DEFAULT_SYNC_TIMEOUT = '2m';

/** Live watches when asked for, or when KUBECONFIG is set and no snapshot is given. */
function wantsWatches(options: MetadataOptions, env: NodeJS.ProcessEnv): boolean {
  if (options.kubeconfig || options.context || options.inCluster) return true;
  return !options.kube?.length && Boolean(env.KUBECONFIG);
}

export async function openMetadata(
  options: MetadataOptions,
  warn: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpenedMetadata> {
  const snapshots = options.kube ?? [];
  if (wantsWatches(options, env)) {
    if (snapshots.length) {
      throw new InputError('--kube and --kubeconfig/--context both given', 'use a snapshot (--kube) or live watches (--kubeconfig/--context), not both');
    }
    return openWatches(options, warn, env);
  }
  const store = snapshots.length ? await loadSnapshots(snapshots, new MetadataIndex(), { allowEmpty: options.allowEmptyKube }) : new MetadataIndex();
  if (!snapshots.length) {
    warn('kovenant: no --kube snapshot given: pods are attributed from the events alone and every remote address but loopback counts as external');
  }
  return { store, synced: Promise.resolve(), isReady: () => true, status: () => undefined, close: async () => {} };
}

async function openWatches(options: MetadataOptions, warn: (line: string) => void, env: NodeJS.ProcessEnv): Promise<OpenedMetadata> {
  const timeoutMs = parseDuration(options.syncTimeout ?? DEFAULT_SYNC_TIMEOUT, '--sync-timeout');
  // Loaded on demand: importing @kubernetes/client-node costs about two seconds, which
  // snapshot replays should not pay.
  const [{ loadKubeConfig }, { KubeWatchStore }, { createLogger }] = await Promise.all([
    import('../enrich/metadata/kube-config.ts'),
    import('../enrich/metadata/kube-watch-store.ts'),
    import('../telemetry/logger.ts'),
  ]);
  const { config, source, server } = loadKubeConfig(options.inCluster && !options.kubeconfig ? {} : options, env);
  const store = new KubeWatchStore({ config, logger: createLogger('kovenant-metadata') }).start();
  const opened: OpenedMetadata = {
    store,
    synced: store.synced,
    isReady: () => store.isSynced,
    status: () => store.status(),
    close: () => store.stop(),
  };
  if (options.waitForSync === false) return opened;

  warn(`kovenant: waiting for Kubernetes metadata from ${server} (${source})`);
  let reported: string | undefined;
  const progress = setInterval(() => {
    const err = store.status().lastError;
    if (err && err !== reported) {
      reported = err;
      warn(`kovenant: still waiting for Kubernetes metadata, retrying: ${err}`);
    }
  }, 250);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    if ((await Promise.race([store.synced, timedOut])) === 'timeout') {
      const err = store.status().lastError;
      await store.stop();
      throw new InputError(
        `Kubernetes metadata from ${server} not synced within ${options.syncTimeout ?? DEFAULT_SYNC_TIMEOUT}${err ? `: ${err}` : ''}`,
        'check that the API server is reachable and that the credentials may list and watch pods, services, nodes and workloads, or raise --sync-timeout',
      );
    }
  } finally {
    clearInterval(progress);
    clearTimeout(timer);
  }
  const c = store.status().counts;
  warn(`kovenant: Kubernetes metadata synced: ${c.pods} pods, ${c.services} services, ${c.nodes} nodes, ${c.controllers} workload controllers`);
  return opened;
}
