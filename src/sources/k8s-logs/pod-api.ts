/**
 * The three requests `--events k8s-logs` makes, on the shared raw-HTTP client
 * (`kube/raw-http.ts`, which says why raw): list and watch the Tetragon pods of one
 * namespace by label selector, and follow one pod's container log.
 */
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { AccessGrant } from '../../kube/api-failure.ts';
import { KubeHttp, readAll } from '../../kube/raw-http.ts';

export interface PodObject {
  metadata?: { name?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { containerStatuses?: Array<{ name?: string; restartCount?: number; state?: { running?: unknown } }> };
}

export interface PodList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: PodObject[];
}

export interface PodWatchEvent {
  type?: string;
  object?: PodObject;
}

/** Everything the source needs, named in a 403's hint at once. */
const GRANT: AccessGrant = {
  role: 'Role',
  rules: [
    { group: '', resource: 'pods', verbs: ['list', 'watch'] },
    { group: '', resource: 'pods/log', verbs: ['get'] },
  ],
};

export class PodLogApi {
  private readonly http: KubeHttp;

  constructor(
    config: KubeConfig,
    server: string,
    readonly namespace: string,
    private readonly selector: string,
  ) {
    this.http = new KubeHttp(config, server, GRANT);
  }

  private podsPath(query: Record<string, string>): string {
    const q = new URLSearchParams({ labelSelector: this.selector, ...query });
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods?${q}`;
  }

  /** One page of the pods (`limit`, `continueToken`: the API's pagination). */
  async listPods(page: { limit: number; continueToken?: string | undefined }, signal: AbortSignal): Promise<PodList> {
    const query: Record<string, string> = { limit: String(page.limit) };
    if (page.continueToken) query.continue = page.continueToken;
    const res = await this.http.get(this.podsPath(query), { verb: 'list', resource: 'pods', group: '', namespace: this.namespace }, signal);
    return JSON.parse(await readAll(res)) as PodList;
  }

  /** The watch stream from `resourceVersion`: one JSON `PodWatchEvent` a line. */
  watchPods(params: { resourceVersion: string; timeoutSeconds: number }, signal: AbortSignal): Promise<IncomingMessage> {
    const path = this.podsPath({
      watch: '1',
      resourceVersion: params.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(params.timeoutSeconds),
    });
    return this.http.get(path, { verb: 'watch', resource: 'pods', group: '', namespace: this.namespace }, signal);
  }

  /** The container's log, followed, each line prefixed by its kubelet time; from `sinceTime` when given. */
  followLog(pod: string, container: string, sinceTime: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
    const q = new URLSearchParams({ container, follow: 'true', timestamps: 'true' });
    if (sinceTime) q.set('sinceTime', sinceTime);
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(pod)}/log?${q}`;
    return this.http.get(path, { verb: 'get', resource: 'pods/log', group: '', namespace: this.namespace }, signal);
  }
}
