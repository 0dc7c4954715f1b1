/**
 * Kubernetes objects (as `kubectl -o json` prints them, or as @kubernetes/client-node
 * deserialises them, with Date objects for timestamps) → the projections in model.ts.
 */
import { normalizeIp } from '../../core/ip-address.ts';
import {
  HELM_RELEASE_ANNOTATION,
  LEGACY_REGION_LABEL,
  LEGACY_ZONE_LABEL,
  REGION_LABEL,
  ZONE_LABEL,
  helmInstanceOf,
  isControllerKind,
  type ControllerMeta,
  type NodeMeta,
  type OwnerRef,
  type PodMeta,
  type ServiceMeta,
} from './model.ts';

type Timestamp = string | Date;

export interface KubeOwnerReference {
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: KubeOwnerReference[];
  creationTimestamp?: Timestamp;
  deletionTimestamp?: Timestamp;
  resourceVersion?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeObjectMeta;
}

export interface KubePod extends KubeObject {
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: Array<{ ports?: Array<{ containerPort?: number; protocol?: string }> }>;
  };
  status?: { phase?: string; podIP?: string; podIPs?: Array<{ ip?: string }>; startTime?: Timestamp };
}

export interface KubeService extends KubeObject {
  spec?: { clusterIP?: string; clusterIPs?: string[]; type?: string; ports?: Array<{ port?: number; protocol?: string }> };
}

export interface KubeNode extends KubeObject {
  status?: { addresses?: Array<{ type?: string; address?: string }> };
}

function timeMs(t: Timestamp | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

function uniqueIps(raw: Iterable<string | undefined>): string[] {
  const out: string[] = [];
  for (const r of raw) {
    if (!r) continue;
    const ip = normalizeIp(r);
    if (ip && !out.includes(ip)) out.push(ip);
  }
  return out;
}

/** Sorted unique TCP ports (protocol absent means TCP); undefined when none, to keep projections small. */
function tcpPorts(raw: Iterable<{ port: number | undefined; protocol: string | undefined }>): readonly number[] | undefined {
  const set = new Set<number>();
  for (const { port, protocol } of raw) {
    if ((protocol === undefined || protocol === 'TCP') && typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535)
      set.add(port);
  }
  return set.size ? [...set].sort((a, b) => a - b) : undefined;
}

/**
 * A node's zone and region: the GA topology labels, else the deprecated
 * failure-domain.beta ones (clusters upgraded from before 1.17 may carry only those).
 */
export function topologyOf(labels: Readonly<Record<string, string>> | undefined): { zone: string | undefined; region: string | undefined } {
  return {
    zone: labels?.[ZONE_LABEL] || labels?.[LEGACY_ZONE_LABEL] || undefined,
    region: labels?.[REGION_LABEL] || labels?.[LEGACY_REGION_LABEL] || undefined,
  };
}

/** The controller owner (`controller: true`); a lone owner without the flag also counts. */
export function controllerOwner(meta: KubeObjectMeta | undefined): OwnerRef | undefined {
  const refs = meta?.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller === true) ?? (refs.length === 1 ? refs[0] : undefined);
  return ref?.kind && ref.name ? { kind: ref.kind, name: ref.name } : undefined;
}

function helmRelease(meta: KubeObjectMeta | undefined): string | undefined {
  return meta?.annotations?.[HELM_RELEASE_ANNOTATION] || undefined;
}

function identity(obj: KubeObject): { uid: string; name: string; namespace: string } {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace ?? '';
  return { uid: obj.metadata?.uid ?? `${obj.kind ?? ''}/${namespace}/${name}`, name, namespace };
}

export function projectPod(pod: KubePod): PodMeta {
  const { uid, name, namespace } = identity(pod);
  return {
    uid,
    namespace,
    name,
    nodeName: pod.spec?.nodeName || undefined,
    hostNetwork: pod.spec?.hostNetwork === true,
    phase: pod.status?.phase || undefined,
    ips: uniqueIps([...(pod.status?.podIPs ?? []).map((p) => p.ip), pod.status?.podIP]),
    owner: controllerOwner(pod.metadata),
    helmRelease: helmRelease(pod.metadata),
    helmInstanceLabel: helmInstanceOf(pod.metadata?.labels),
    startMs: timeMs(pod.status?.startTime) ?? timeMs(pod.metadata?.creationTimestamp),
    deletedMs: undefined,
    ports: tcpPorts(
      (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: p.protocol }))),
    ),
  };
}

export function projectService(svc: KubeService): ServiceMeta {
  const { uid, name, namespace } = identity(svc);
  const ips = [...(svc.spec?.clusterIPs ?? []), svc.spec?.clusterIP].filter((ip) => ip !== 'None');
  const ports = tcpPorts((svc.spec?.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol })));
  return { uid, namespace, name, clusterIPs: uniqueIps(ips), helmRelease: helmRelease(svc.metadata), deletedMs: undefined, ports };
}

export function projectNode(node: KubeNode): NodeMeta {
  const { uid, name } = identity(node);
  const addresses = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address);
  return { uid, name, addresses: uniqueIps(addresses), deletedMs: undefined, ...topologyOf(node.metadata?.labels) };
}

/** Undefined for kinds the resolver does not follow. */
export function projectController(obj: KubeObject): ControllerMeta | undefined {
  const kind = obj.kind ?? '';
  if (!isControllerKind(kind)) return undefined;
  const { uid, name, namespace } = identity(obj);
  return { uid, kind, namespace, name, owner: controllerOwner(obj.metadata), helmRelease: helmRelease(obj.metadata) };
}
