/**
 * The projection of Kubernetes objects that attribution needs, whatever the source
 * (a `kubectl get -o json` snapshot or live informers). Keeping only these fields is
 * what lets a 150,000-pod cluster fit in a node agent's memory.
 */

export const HELM_RELEASE_ANNOTATION = 'meta.helm.sh/release-name';
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** A pod's release from its labels: `app.kubernetes.io/instance`, only when managed by Helm. */
export function helmInstanceOf(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  if (!labels || labels[MANAGED_BY_LABEL] !== 'Helm') return undefined;
  return labels[INSTANCE_LABEL] || undefined;
}

/** The controller ownerReference of an object (`controller: true`, else the only owner). */
export interface OwnerRef {
  kind: string;
  name: string;
}

export interface PodMeta {
  uid: string;
  namespace: string;
  name: string;
  nodeName: string | undefined;
  hostNetwork: boolean;
  /** `status.phase`: Pending, Running, Succeeded, Failed, Unknown. */
  phase: string | undefined;
  /** `status.podIPs` (or `status.podIP`), normalised (IPv4-mapped IPv6 → IPv4). */
  ips: readonly string[];
  owner: OwnerRef | undefined;
  /** `meta.helm.sh/release-name` annotation, when present. */
  helmRelease: string | undefined;
  /** `app.kubernetes.io/instance` when `app.kubernetes.io/managed-by` is `Helm`. */
  helmInstanceLabel: string | undefined;
  /** `status.startTime` (else `metadata.creationTimestamp`), epoch ms. */
  startMs: number | undefined;
  /** When the live store saw the pod deleted, epoch ms; undefined while it exists. */
  deletedMs: number | undefined;
  /** `containerPort`s its containers declare (sorted, unique): the ports it serves on. */
  ports?: readonly number[] | undefined;
}

export interface ServiceMeta {
  uid: string;
  namespace: string;
  name: string;
  /** `spec.clusterIPs` (or `spec.clusterIP`), without `None`, normalised. */
  clusterIPs: readonly string[];
  helmRelease: string | undefined;
  deletedMs: number | undefined;
  /** `spec.ports[].port` (sorted, unique): the ports clients connect to. */
  ports?: readonly number[] | undefined;
}

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';
/** The labels before Kubernetes 1.17, still set by some installers and clouds. */
export const LEGACY_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';
export const LEGACY_REGION_LABEL = 'failure-domain.beta.kubernetes.io/region';

export interface NodeMeta {
  uid: string;
  name: string;
  /** InternalIP and ExternalIP addresses from `status.addresses`, normalised. */
  addresses: readonly string[];
  deletedMs: number | undefined;
  /** The node's zone and region labels (see `topologyOf`); undefined when unlabelled. */
  zone?: string | undefined;
  region?: string | undefined;
}

/** Kinds whose controller chain the resolver follows up from a pod. */
export const CONTROLLER_KINDS = ['ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;
export type ControllerKind = (typeof CONTROLLER_KINDS)[number];

export function isControllerKind(kind: string): kind is ControllerKind {
  return (CONTROLLER_KINDS as readonly string[]).includes(kind);
}

/** A ReplicaSet, Deployment, StatefulSet, DaemonSet, Job or CronJob. */
export interface ControllerMeta {
  uid: string;
  kind: ControllerKind;
  namespace: string;
  name: string;
  owner: OwnerRef | undefined;
  helmRelease: string | undefined;
}

/**
 * What the resolver asks of Kubernetes metadata. Implementations are indexes only;
 * every attribution rule (which candidate wins, how far owner chains go, where a
 * release comes from) lives in the resolver so replay and live mode share them.
 */
export interface MetadataStore {
  /** Bumped on every change, so that resolvers can drop cached attributions. */
  readonly generation: number;
  pod(namespace: string, name: string): PodMeta | undefined;
  podByUid(uid: string): PodMeta | undefined;
  controller(kind: ControllerKind, namespace: string, name: string): ControllerMeta | undefined;
  /** Pods that hold, or recently held, this (normalised) IP, hostNetwork ones included. */
  podsByIp(ip: string): readonly PodMeta[];
  servicesByIp(ip: string): readonly ServiceMeta[];
  nodesByIp(ip: string): readonly NodeMeta[];
  /** The node of this name (deleted ones within their grace period included). */
  node(name: string): NodeMeta | undefined;
}
