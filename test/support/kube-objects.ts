/** Kubernetes objects for tests, in the shape `kubectl get -o json` prints. */

type Json = Record<string, unknown>;

export function node(
  name: string,
  ip: string,
  extra: Array<{ type: string; address: string }> = [],
  labels?: Record<string, string>,
): Json {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `node-${name}`, ...(labels ? { labels } : {}) },
    status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }, ...extra] },
  };
}

/** A node with topology.kubernetes.io zone and region labels. */
export function zonedNode(name: string, ip: string, zone: string | undefined, region: string | undefined): Json {
  const labels: Record<string, string> = {};
  if (zone) labels['topology.kubernetes.io/zone'] = zone;
  if (region) labels['topology.kubernetes.io/region'] = region;
  return node(name, ip, [], labels);
}

export interface PodOptions {
  ip?: string;
  ips?: string[];
  phase?: string;
  node?: string;
  hostNetwork?: boolean;
  owner?: { kind: string; name: string; controller?: boolean };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startTime?: string;
  uid?: string;
  /** containerPorts of its one container. */
  ports?: number[];
}

export function pod(namespace: string, name: string, o: PodOptions = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      uid: o.uid ?? `pod-${namespace}-${name}`,
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: o.owner.kind,
                name: o.owner.name,
                uid: `uid-${o.owner.name}`,
                controller: o.owner.controller ?? true,
              },
            ],
          }
        : {}),
    },
    spec: {
      nodeName: o.node ?? 'node-1',
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      ...(o.ports ? { containers: [{ name: 'main', ports: o.ports.map((containerPort) => ({ containerPort, protocol: 'TCP' })) }] } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip ? { podIP: o.ip } : {}),
      ...(o.ips ? { podIPs: o.ips.map((ip) => ({ ip })) } : o.ip ? { podIPs: [{ ip: o.ip }] } : {}),
      ...(o.startTime ? { startTime: o.startTime } : {}),
    },
  };
}

export function controller(
  kind: string,
  namespace: string,
  name: string,
  o: { owner?: { kind: string; name: string }; release?: string } = {},
): Json {
  return {
    apiVersion: kind === 'Job' || kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
    kind,
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      ...(o.release ? { annotations: { 'meta.helm.sh/release-name': o.release } } : {}),
      ...(o.owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: `uid-${o.owner.name}`, controller: true },
            ],
          }
        : {}),
    },
    spec: {},
  };
}

export function service(
  namespace: string,
  name: string,
  clusterIP: string,
  o: { release?: string; clusterIPs?: string[]; ports?: number[] } = {},
): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      uid: `svc-${namespace}-${name}`,
      ...(o.release ? { annotations: { 'meta.helm.sh/release-name': o.release } } : {}),
    },
    spec: {
      clusterIP,
      ...(o.clusterIPs ? { clusterIPs: o.clusterIPs } : {}),
      ...(o.ports ? { ports: o.ports.map((port) => ({ port, protocol: 'TCP', targetPort: port })) } : {}),
    },
  };
}

export function list(...items: Json[]): Json {
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
}
