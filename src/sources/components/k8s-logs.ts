/**
 * `k8s-logs`: every Tetragon pod's export log through the API server. No checkpoint: a
 * restart reads each pod's log from the start of what the kubelet keeps (windows
 * rewritten with the same values where the events are the same).
 */
import * as z from 'zod';
import type { KubeConfig } from '@kubernetes/client-node';
import type { SourceComponent, SourceContext, SourceFactory } from '../source-component.ts';

const schema = z.object({
  tetragonNamespace: z.string().min(1).default('kube-system'),
  tetragonSelector: z.string().min(1).default('app.kubernetes.io/name=tetragon'),
  tetragonContainer: z.string().min(1).default('export-stdout'),
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
});

export interface K8sLogsContext extends SourceContext {
  /**
   * The cluster of `--kubeconfig`/`--context` (else in-cluster, KUBECONFIG, ~/.kube/config):
   * the metadata layer loads kubeconfigs, above this one, so the wiring passes it in.
   */
  loadKubeConfig(options: { kubeconfig?: string; context?: string }): Promise<{ config: KubeConfig; server: string; source: string }>;
}

export const k8sLogsSource: SourceFactory<typeof schema, K8sLogsContext> = {
  kind: 'source',
  name: 'k8s-logs',
  description: 'the export-stdout logs of every Tetragon pod, through the API server',
  schema,
  async create(config, { log, signal, loadKubeConfig }): Promise<SourceComponent> {
    // Loaded on demand: client-node costs about two seconds to import.
    const { openK8sLogs } = await import('../k8s-logs.ts');
    const kube = await loadKubeConfig({ kubeconfig: config.kubeconfig, context: config.context });
    log.info(
      {
        server: kube.server,
        from: kube.source,
        namespace: config.tetragonNamespace,
        selector: config.tetragonSelector,
        container: config.tetragonContainer,
      },
      'k8s-logs: following the Tetragon pods',
    );
    const input = await openK8sLogs({
      config: kube.config,
      server: kube.server,
      namespace: config.tetragonNamespace,
      selector: config.tetragonSelector,
      container: config.tetragonContainer,
      signal,
      log,
    });
    return {
      name: input.name,
      chunks: input.chunks,
      stats: () => ({ reconnects: input.reconnects, linesRead: input.linesRead, linesSkipped: input.linesSkipped }),
      // The streams end when the run's signal aborts.
      close: async () => {},
    };
  },
};
