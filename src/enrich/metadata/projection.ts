/**
 * Kubernetes objects (as `kubectl -o json` prints them, or as @kubernetes/client-node
 * deserialises them, with Date objects for timestamps) → the projections in model.ts.
 */
import { normalizeIp } from '../ip-address.ts';
import {
  HELM_RELEASE_ANNOTATION,
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
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: { phase?: string; podIP?: string; podIPs?: Array<{ ip?: string }>; startTime?: Timestamp };
}

export interface KubeService extends KubeObject {
  spec?: { clusterIP?: string; clusterIPs?: string[]; type?: string };
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
  };
}

export function projectService(svc: KubeService): ServiceMeta {
  const { uid, name, namespace } = identity(svc);
  const ips = [...(svc.spec?.clusterIPs ?? []), svc.spec?.clusterIP].filter((ip) => ip !== 'None');
  return { uid, namespace, name, clusterIPs: uniqueIps(ips), helmRelease: helmRelease(svc.metadata), deletedMs: undefined };
}

export function projectNode(node: KubeNode): NodeMeta {
  const { uid, name } = identity(node);
  const addresses = (node.status?.addresses ?? [])
    .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
    .map((a) => a.address);
  return { uid, name, addresses: uniqueIps(addresses), deletedMs: undefined };
}

/** Undefined for kinds the resolver does not follow. */
export function projectController(obj: KubeObject): ControllerMeta | undefined {
  const kind = obj.kind ?? '';
  if (!isControllerKind(kind)) return undefined;
  const { uid, name, namespace } = identity(obj);
  return { uid, kind, namespace, name, owner: controllerOwner(obj.metadata), helmRelease: helmRelease(obj.metadata) };
}
