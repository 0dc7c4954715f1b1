/**
 * The in-memory indexes behind MetadataStore, filled from a snapshot or by informers.
 * Deleted pods, Services and nodes stay in the IP indexes (marked with `deletedMs`)
 * until `purgeDeleted` drops them, so late events still resolve to what held the IP.
 */
import type { ControllerKind, ControllerMeta, MetadataStore, NodeMeta, PodMeta, ServiceMeta } from './model.ts';

interface Identified {
  uid: string;
  deletedMs: number | undefined;
}

const NONE: readonly never[] = [];

/** The kinds the index holds. */
export type IndexedKind = 'Pod' | 'Service' | 'Node' | ControllerKind;

/** IP → the objects holding it; arrays are replaced, never mutated, so readers may keep them. */
class IpIndex<T extends Identified> {
  private readonly byIp = new Map<string, readonly T[]>();

  get(ip: string): readonly T[] {
    return this.byIp.get(ip) ?? NONE;
  }

  add(ip: string, item: T): void {
    const list = this.byIp.get(ip);
    // A literal of one is allocated at its exact size; spreads and push() reserve slack,
    // which at 150,000 pod IPs is tens of megabytes.
    this.byIp.set(ip, list ? [...list.filter((x) => x.uid !== item.uid), item] : [item]);
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

/**
 * Objects of one kind that hold addresses (pods, Services, nodes): by uid, by address,
 * and deleted ones kept (marked) until purged.
 */
class AddressedTable<T extends Identified> {
  readonly byUid = new Map<string, T>();
  readonly ips = new IpIndex<T>();

  constructor(private readonly addressesOf: (item: T) => readonly string[]) {}

  upsert(item: T): void {
    const old = this.byUid.get(item.uid);
    if (old) for (const ip of this.addressesOf(old)) this.ips.remove(ip, old.uid);
    this.byUid.set(item.uid, item);
    for (const ip of this.addressesOf(item)) this.ips.add(ip, item);
  }

  /** Keeps the object, and its addresses, marked as deleted; returns it so marked. */
  markDeleted(uid: string, atMs: number): T | undefined {
    const old = this.byUid.get(uid);
    if (!old) return undefined;
    const dead: T = { ...old, deletedMs: atMs };
    this.byUid.set(uid, dead);
    for (const ip of this.addressesOf(old)) this.ips.add(ip, dead);
    return dead;
  }

  forget(uid: string): void {
    const old = this.byUid.get(uid);
    if (!old) return;
    for (const ip of this.addressesOf(old)) this.ips.remove(ip, uid);
    this.byUid.delete(uid);
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

interface Tombstone {
  deletedMs: number;
  forget(): void;
}

export class MetadataIndex implements MetadataStore {
  private gen = 0;
  private readonly podsByKey = new Map<string, PodMeta>();
  private readonly pods = new AddressedTable<PodMeta>((p) => p.ips);
  private readonly services = new AddressedTable<ServiceMeta>((s) => s.clusterIPs);
  private readonly nodes = new AddressedTable<NodeMeta>((n) => n.addresses);
  /** Node name → uid: the local node's zone is looked up by name for every attribution. */
  private readonly nodeUidByName = new Map<string, string>();
  private readonly controllers = new Map<string, ControllerMeta>();
  private readonly controllersByUid = new Map<string, ControllerMeta>();
  /** Deleted pods, Services and nodes waiting for their grace period to end, by uid. */
  private readonly tombstones = new Map<string, Tombstone>();

  get generation(): number {
    return this.gen;
  }

  /** Counts for metrics and logs. */
  sizes(): Record<'pods' | 'services' | 'nodes' | 'controllers' | 'podIps', number> {
    return {
      pods: this.pods.byUid.size,
      services: this.services.byUid.size,
      nodes: this.nodes.byUid.size,
      controllers: this.controllersByUid.size,
      podIps: this.pods.ips.size,
    };
  }

  pod(namespace: string, name: string): PodMeta | undefined {
    return this.podsByKey.get(key(namespace, name));
  }

  podByUid(uid: string): PodMeta | undefined {
    return this.pods.byUid.get(uid);
  }

  controller(kind: ControllerKind, namespace: string, name: string): ControllerMeta | undefined {
    return this.controllers.get(`${kind}/${namespace}/${name}`);
  }

  podsByIp(ip: string): readonly PodMeta[] {
    return this.pods.ips.get(ip);
  }

  servicesByIp(ip: string): readonly ServiceMeta[] {
    return this.services.ips.get(ip);
  }

  nodesByIp(ip: string): readonly NodeMeta[] {
    return this.nodes.ips.get(ip);
  }

  node(name: string): NodeMeta | undefined {
    const uid = this.nodeUidByName.get(name);
    return uid === undefined ? undefined : this.nodes.byUid.get(uid);
  }

  upsertPod(pod: PodMeta): void {
    this.tombstones.delete(pod.uid);
    this.pods.upsert(pod);
    // A newer pod with the same name replaces the name entry; the old one keeps its IPs.
    this.podsByKey.set(key(pod.namespace, pod.name), pod);
    this.gen++;
  }

  deletePod(uid: string, atMs: number): void {
    const dead = this.pods.markDeleted(uid, atMs);
    if (!dead) return;
    const k = key(dead.namespace, dead.name);
    if (this.podsByKey.get(k)?.uid === uid) this.podsByKey.set(k, dead);
    this.tombstones.set(uid, {
      deletedMs: atMs,
      forget: () => {
        this.pods.forget(uid);
        if (this.podsByKey.get(k)?.uid === uid) this.podsByKey.delete(k);
      },
    });
    this.gen++;
  }

  upsertService(svc: ServiceMeta): void {
    this.upsertAddressed(this.services, svc);
  }

  deleteService(uid: string, atMs: number): void {
    this.deleteAddressed(this.services, uid, atMs);
  }

  upsertNode(node: NodeMeta): void {
    const old = this.nodes.byUid.get(node.uid);
    if (old && old.name !== node.name && this.nodeUidByName.get(old.name) === node.uid) this.nodeUidByName.delete(old.name);
    this.nodeUidByName.set(node.name, node.uid);
    this.upsertAddressed(this.nodes, node);
  }

  deleteNode(uid: string, atMs: number): void {
    const name = this.nodes.byUid.get(uid)?.name;
    if (!this.nodes.markDeleted(uid, atMs)) return;
    this.tombstones.set(uid, {
      deletedMs: atMs,
      forget: () => {
        this.nodes.forget(uid);
        if (name !== undefined && this.nodeUidByName.get(name) === uid) this.nodeUidByName.delete(name);
      },
    });
    this.gen++;
  }

  private upsertAddressed<T extends Identified>(table: AddressedTable<T>, item: T): void {
    this.tombstones.delete(item.uid);
    table.upsert(item);
    this.gen++;
  }

  private deleteAddressed<T extends Identified>(table: AddressedTable<T>, uid: string, atMs: number): void {
    if (!table.markDeleted(uid, atMs)) return;
    this.tombstones.set(uid, { deletedMs: atMs, forget: () => table.forget(uid) });
    this.gen++;
  }

  /** Adds or replaces an object of any indexed kind. */
  upsert(kind: IndexedKind, meta: PodMeta | ServiceMeta | NodeMeta | ControllerMeta): void {
    if (kind === 'Pod') this.upsertPod(meta as PodMeta);
    else if (kind === 'Service') this.upsertService(meta as ServiceMeta);
    else if (kind === 'Node') this.upsertNode(meta as NodeMeta);
    else this.upsertController(meta as ControllerMeta);
  }

  /** Deletes an object of any indexed kind (addressed kinds keep their IPs for a while). */
  remove(kind: IndexedKind, uid: string, atMs: number): void {
    if (kind === 'Pod') this.deletePod(uid, atMs);
    else if (kind === 'Service') this.deleteService(uid, atMs);
    else if (kind === 'Node') this.deleteNode(uid, atMs);
    else this.deleteController(uid);
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

  /**
   * The object of this kind with this uid, unless deleted: lets the live store compare an
   * update with what it holds and find what a relist no longer lists, without keeping a
   * second map of 150,000 pods.
   */
  live(kind: IndexedKind, uid: string): PodMeta | ServiceMeta | NodeMeta | ControllerMeta | undefined {
    const found = this.mapOf(kind).get(uid);
    if (!found || ('deletedMs' in found && found.deletedMs !== undefined)) return undefined;
    return 'kind' in found && found.kind !== kind ? undefined : found;
  }

  liveUids(kind: IndexedKind): string[] {
    const out: string[] = [];
    for (const uid of this.mapOf(kind).keys()) if (this.live(kind, uid)) out.push(uid);
    return out;
  }

  private mapOf(kind: IndexedKind): Map<string, PodMeta | ServiceMeta | NodeMeta | ControllerMeta> {
    if (kind === 'Pod') return this.pods.byUid;
    if (kind === 'Service') return this.services.byUid;
    if (kind === 'Node') return this.nodes.byUid;
    return this.controllersByUid;
  }

  /** Forgets objects deleted before `beforeMs` (now minus the grace period). */
  purgeDeleted(beforeMs: number): number {
    let purged = 0;
    for (const [uid, tomb] of this.tombstones) {
      if (tomb.deletedMs < beforeMs) {
        tomb.forget();
        this.tombstones.delete(uid);
        purged++;
      }
    }
    if (purged) this.gen++;
    return purged;
  }
}
