/**
 * The in-memory indexes behind MetadataStore, filled from a snapshot or by informers.
 * Deleted pods, Services and nodes stay in the IP indexes (marked with `deletedMs`)
 * until `purgeDeleted` drops them, so late events still resolve to what held the IP.
 */
import type {
  ControllerKind,
  ControllerMeta,
  MetadataStore,
  NodeMeta,
  PodMeta,
  ServiceMeta,
} from './model.ts';

interface Identified {
  uid: string;
  deletedMs: number | undefined;
}

const NONE: readonly never[] = [];

/** IP → the objects holding it; arrays are replaced, never mutated, so readers may keep them. */
class IpIndex<T extends Identified> {
  private readonly byIp = new Map<string, readonly T[]>();

  get(ip: string): readonly T[] {
    return this.byIp.get(ip) ?? NONE;
  }

  add(ip: string, item: T): void {
    const list = this.byIp.get(ip) ?? NONE;
    this.byIp.set(ip, [...list.filter((x) => x.uid !== item.uid), item]);
  }

  remove(ip: string, uid: string): void {
    const list = this.byIp.get(ip);
    if (!list) return;
    const next = list.filter((x) => x.uid !== uid);
    if (next.length) this.byIp.set(ip, next);
    else this.byIp.delete(ip);
  }

  get size(): number {
    return this.byIp.size;
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class MetadataIndex implements MetadataStore {
  private gen = 0;
  private readonly podsByKey = new Map<string, PodMeta>();
  private readonly podsByUidMap = new Map<string, PodMeta>();
  private readonly podIps = new IpIndex<PodMeta>();
  private readonly servicesByUid = new Map<string, ServiceMeta>();
  private readonly serviceIps = new IpIndex<ServiceMeta>();
  private readonly nodesByUid = new Map<string, NodeMeta>();
  private readonly nodeIps = new IpIndex<NodeMeta>();
  private readonly controllers = new Map<string, ControllerMeta>();
  private readonly controllersByUid = new Map<string, ControllerMeta>();
  /** Deleted objects waiting for their grace period to end, by uid. */
  private readonly tombstones = new Map<string, () => void>();

  get generation(): number {
    return this.gen;
  }

  /** Counts for metrics and logs. */
  sizes(): Record<'pods' | 'services' | 'nodes' | 'controllers' | 'podIps', number> {
    return {
      pods: this.podsByUidMap.size,
      services: this.servicesByUid.size,
      nodes: this.nodesByUid.size,
      controllers: this.controllersByUid.size,
      podIps: this.podIps.size,
    };
  }

  pod(namespace: string, name: string): PodMeta | undefined {
    return this.podsByKey.get(key(namespace, name));
  }

  podByUid(uid: string): PodMeta | undefined {
    return this.podsByUidMap.get(uid);
  }

  controller(kind: ControllerKind, namespace: string, name: string): ControllerMeta | undefined {
    return this.controllers.get(`${kind}/${namespace}/${name}`);
  }

  podsByIp(ip: string): readonly PodMeta[] {
    return this.podIps.get(ip);
  }

  servicesByIp(ip: string): readonly ServiceMeta[] {
    return this.serviceIps.get(ip);
  }

  nodesByIp(ip: string): readonly NodeMeta[] {
    return this.nodeIps.get(ip);
  }

  upsertPod(pod: PodMeta): void {
    const old = this.podsByUidMap.get(pod.uid);
    if (old) for (const ip of old.ips) this.podIps.remove(ip, old.uid);
    this.tombstones.delete(pod.uid);
    // A newer pod with the same name replaces the name entry; the old one keeps its IPs.
    this.podsByKey.set(key(pod.namespace, pod.name), pod);
    this.podsByUidMap.set(pod.uid, pod);
    for (const ip of pod.ips) this.podIps.add(ip, pod);
    this.gen++;
  }

  deletePod(uid: string, atMs: number): void {
    const old = this.podsByUidMap.get(uid);
    if (!old) return;
    const dead: PodMeta = { ...old, deletedMs: atMs };
    const k = key(old.namespace, old.name);
    if (this.podsByKey.get(k)?.uid === uid) this.podsByKey.set(k, dead);
    this.podsByUidMap.set(uid, dead);
    for (const ip of old.ips) this.podIps.add(ip, dead);
    this.tombstones.set(uid, () => {
      for (const ip of old.ips) this.podIps.remove(ip, uid);
      if (this.podsByKey.get(k)?.uid === uid) this.podsByKey.delete(k);
      this.podsByUidMap.delete(uid);
    });
    this.gen++;
  }

  upsertService(svc: ServiceMeta): void {
    const old = this.servicesByUid.get(svc.uid);
    if (old) for (const ip of old.clusterIPs) this.serviceIps.remove(ip, old.uid);
    this.tombstones.delete(svc.uid);
    this.servicesByUid.set(svc.uid, svc);
    for (const ip of svc.clusterIPs) this.serviceIps.add(ip, svc);
    this.gen++;
  }

  deleteService(uid: string, atMs: number): void {
    const old = this.servicesByUid.get(uid);
    if (!old) return;
    const dead: ServiceMeta = { ...old, deletedMs: atMs };
    this.servicesByUid.set(uid, dead);
    for (const ip of old.clusterIPs) this.serviceIps.add(ip, dead);
    this.tombstones.set(uid, () => {
      for (const ip of old.clusterIPs) this.serviceIps.remove(ip, uid);
      this.servicesByUid.delete(uid);
    });
    this.gen++;
  }

  upsertNode(node: NodeMeta): void {
    const old = this.nodesByUid.get(node.uid);
    if (old) for (const ip of old.addresses) this.nodeIps.remove(ip, old.uid);
    this.tombstones.delete(node.uid);
    this.nodesByUid.set(node.uid, node);
    for (const ip of node.addresses) this.nodeIps.add(ip, node);
    this.gen++;
  }

  deleteNode(uid: string, atMs: number): void {
    const old = this.nodesByUid.get(uid);
    if (!old) return;
    const dead: NodeMeta = { ...old, deletedMs: atMs };
    this.nodesByUid.set(uid, dead);
    for (const ip of old.addresses) this.nodeIps.add(ip, dead);
    this.tombstones.set(uid, () => {
      for (const ip of old.addresses) this.nodeIps.remove(ip, uid);
      this.nodesByUid.delete(uid);
    });
    this.gen++;
  }

  upsertController(c: ControllerMeta): void {
    const old = this.controllersByUid.get(c.uid);
    if (old) this.controllers.delete(`${old.kind}/${old.namespace}/${old.name}`);
    this.controllersByUid.set(c.uid, c);
    this.controllers.set(`${c.kind}/${c.namespace}/${c.name}`, c);
    this.gen++;
  }

  /** Controllers need no grace period: a pod's chain is resolved while the pod exists. */
  deleteController(uid: string): void {
    const old = this.controllersByUid.get(uid);
    if (!old) return;
    this.controllersByUid.delete(uid);
    const k = `${old.kind}/${old.namespace}/${old.name}`;
    if (this.controllers.get(k)?.uid === uid) this.controllers.delete(k);
    this.gen++;
  }

  /** Forgets objects deleted before `beforeMs` (now minus the grace period). */
  purgeDeleted(beforeMs: number): number {
    let purged = 0;
    for (const [uid, forget] of this.tombstones) {
      const at = this.deletedMs(uid);
      if (at !== undefined && at < beforeMs) {
        forget();
        this.tombstones.delete(uid);
        purged++;
      }
    }
    if (purged) this.gen++;
    return purged;
  }

  private deletedMs(uid: string): number | undefined {
    return (this.podsByUidMap.get(uid) ?? this.servicesByUid.get(uid) ?? this.nodesByUid.get(uid))?.deletedMs;
  }
}
