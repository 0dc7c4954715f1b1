/**
 * Where Kubernetes metadata comes from, as one component (core/component.ts): `--kube`
 * snapshots (offline replay) or live watches on the API server (`--kubeconfig`,
 * `--context`, KUBECONFIG, or the pod's service account). Both feed the same resolver
 * (`store`). Its stats are `synced`, `outageSeconds` and `objects.<resource>`.
 */
import * as z from 'zod';
import type { Component, ComponentContext, ComponentFactory } from '../../core/component.ts';
import { parseDuration } from '../../core/duration.ts';
import { InputError } from '../../core/input-error.ts';
import type { KubeWatchStatus } from './kube-watch-store.ts';
import { MetadataIndex } from './metadata-index.ts';
import type { MetadataStore } from './model.ts';
import { loadSnapshots } from './snapshot.ts';

export const DEFAULT_SYNC_TIMEOUT = '2m';

const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

const schema = z.object({
  kube: z.array(z.string()).default([]),
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  /** Use the pod's service account (the daemon sets this when running in a cluster). */
  inCluster: flag.default(false),
  /** How long to wait for the watches' first sync; the text is kept for the message. */
  syncTimeout: z
    .string()
    .default(DEFAULT_SYNC_TIMEOUT)
    .transform((text) => ({ text, ms: parseDuration(text, '--sync-timeout') })),
  /** False for a daemon that reports readiness itself. */
  waitForSync: flag.default(true),
  /** Accept a `--kube` snapshot without objects (else a usage error). */
  allowEmptyKube: flag.default(false),
});

export type MetadataSettings = z.output<typeof schema>;

export interface MetadataContext extends ComponentContext {
  /** Notices for the user: replay prints them, the daemon logs them. */
  notice(line: string): void;
  env?: NodeJS.ProcessEnv;
}

export interface MetadataComponent extends Component {
  store: MetadataStore;
  /** Watches only: resolves when every resource has been listed once. */
  synced: Promise<void>;
  /** False until the watches have synced (readiness); always true for snapshots. */
  isReady(): boolean;
  /** Watches only: counts, sync state, last error, outage start. */
  status(): KubeWatchStatus | undefined;
}

/** Live watches when asked for, or when KUBECONFIG is set and no snapshot is given. */
function wantsWatches(options: MetadataSettings, env: NodeJS.ProcessEnv): boolean {
  if (options.kubeconfig || options.context || options.inCluster) return true;
  return !options.kube.length && Boolean(env.KUBECONFIG);
}

function statsOf(synced: boolean, objects: Record<string, number>, outageSinceMs: number | undefined): Record<string, number> {
  const out: Record<string, number> = {
    synced: synced ? 1 : 0,
    outageSeconds: outageSinceMs === undefined ? 0 : Math.max(0, (Date.now() - outageSinceMs) / 1000),
  };
  for (const [resource, n] of Object.entries(objects)) out[`objects.${resource}`] = n;
  return out;
}

export const metadataStore: ComponentFactory<typeof schema, MetadataContext, MetadataComponent> = {
  kind: 'enricher',
  name: 'metadata',
  description: 'Kubernetes objects for attribution: --kube snapshots or live watches on the API server',
  schema,
  async create(options, context) {
    const env = context.env ?? process.env;
    if (wantsWatches(options, env)) {
      if (options.kube.length) {
        throw new InputError(
          '--kube and --kubeconfig/--context both given',
          'use a snapshot (--kube) or live watches (--kubeconfig/--context), not both',
        );
      }
      return openWatches(options, context.notice, env);
    }
    const index = new MetadataIndex();
    const store = options.kube.length ? await loadSnapshots(options.kube, index, { allowEmpty: options.allowEmptyKube }) : index;
    if (!options.kube.length) {
      context.notice(
        'kovenant: no --kube snapshot given: pods are attributed from the events alone and every remote address but loopback counts as external',
      );
    }
    return {
      store,
      synced: Promise.resolve(),
      isReady: () => true,
      status: () => undefined,
      stats: () => statsOf(true, index.sizes(), undefined),
      close: async () => {},
    };
  },
};

async function openWatches(options: MetadataSettings, warn: (line: string) => void, env: NodeJS.ProcessEnv): Promise<MetadataComponent> {
  // Loaded on demand: importing @kubernetes/client-node costs about two seconds, which
  // snapshot replays should not pay.
  const [{ loadKubeConfig }, { KubeWatchStore }, { createLogger }] = await Promise.all([
    import('./kube-config.ts'),
    import('./kube-watch-store.ts'),
    import('../../telemetry/logger.ts'),
  ]);
  const { config, source, server } = loadKubeConfig(options.inCluster && !options.kubeconfig ? {} : options, env);
  const store = new KubeWatchStore({ config, logger: createLogger('kovenant-metadata') }).start();
  const opened: MetadataComponent = {
    store,
    synced: store.synced,
    isReady: () => store.isSynced,
    status: () => store.status(),
    stats: () => {
      const s = store.status();
      return statsOf(s.synced, s.counts, s.outageSinceMs);
    },
    close: () => store.stop(),
  };
  if (!options.waitForSync) return opened;

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
    timer = setTimeout(() => resolve('timeout'), options.syncTimeout.ms);
  });
  try {
    if ((await Promise.race([store.synced, timedOut])) === 'timeout') {
      const err = store.status().lastError;
      await store.stop();
      throw new InputError(
        `Kubernetes metadata from ${server} not synced within ${options.syncTimeout.text}${err ? `: ${err}` : ''}`,
        'check that the API server is reachable and that the credentials may list and watch pods, services, nodes and workloads, or raise --sync-timeout',
      );
    }
  } finally {
    clearInterval(progress);
    clearTimeout(timer);
  }
  const c = store.status().counts;
  warn(
    `kovenant: Kubernetes metadata synced: ${c.pods} pods, ${c.services} services, ${c.nodes} nodes, ${c.controllers} workload controllers`,
  );
  return opened;
}
