/**
 * Attribution: who did it (the local process's pod, workload and release, or the host)
 * and whom it talked to (pod, Service, node, external address, loopback). Every rule is
 * here and nowhere else; replay (snapshot) and live mode (informers) differ only in the
 * MetadataStore they pass.
 *
 * Results are interned: the same inputs give the same object, which carries its
 * line-protocol series key, so aggregation needs no string building per event.
 */
import { LRUCache } from 'lru-cache';
import { isLoopback, isPrivate, normalizeIp } from './ip-address.ts';
import {
  helmInstanceOf,
  isControllerKind,
  type ControllerMeta,
  type MetadataStore,
  type NodeMeta,
  type PodMeta,
  type ServiceMeta,
} from './metadata/model.ts';
import { seriesKey } from '../sinks/line-protocol.ts';

export type RemoteKind = 'pod' | 'service' | 'node' | 'external' | 'loopback';

/** The `path` tag: where the bytes went, in the terms cloud bills use. */
export type TrafficPath =
  | 'loopback'
  | 'same-node'
  | 'same-zone'
  | 'cross-zone'
  | 'cross-region'
  | 'service'
  | 'private'
  | 'internet'
  | 'unknown';

export const TRAFFIC_PATHS: readonly TrafficPath[] = [
  'loopback', 'same-node', 'same-zone', 'cross-zone', 'cross-region', 'service', 'private', 'internet', 'unknown',
];

/** Where a party runs: its node and that node's zone and region labels. */
export interface Placement {
  readonly node: string | undefined;
  readonly zone: string | undefined;
  readonly region: string | undefined;
}

/**
 * The conntrack entries of Service traffic: the backend address the kernel NATed a
 * socket's 4-tuple (local address and port, ClusterIP and port) to. Filled by the
 * daemon's conntrack collector; addresses normalised.
 */
export interface ServiceNatLookup {
  backendOf(localIp: string, localPort: number, serviceIp: string, servicePort: number): string | undefined;
}

/** What the direction rule reads of a tcp event (KernelEvent has these fields). */
export interface SocketEvent {
  readonly op: 'connect' | 'close' | 'send' | 'recv' | 'read' | 'write';
  readonly node: string | undefined;
  readonly podName: string | undefined;
  /** `sock_arg.cookie`: the socket's identity while it lives; undefined on older Tetragon. */
  readonly cookie: string | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** The local side is the server: no `remote_port` (the client's is ephemeral). */
export const LOCAL_IS_SERVER = -1;

export interface ResolverOptions {
  /** The `cluster` tag of events without `cluster_name` (`--cluster-name`). */
  cluster?: string | undefined;
  /** Lets Service traffic be attributed to the backend pod the kernel chose. */
  serviceNat?: ServiceNatLookup | undefined;
}

export interface Workload {
  kind: string;
  name: string;
  release: string | undefined;
}

/** The local side: tags shared by every measurement about one process's pod (or host). */
export interface LocalParty {
  readonly tags: Readonly<Record<string, string>>;
  /** Series of kovenant_io for this party. */
  readonly io: Series;
  /** kovenant_tcp series by remote party, then by role (the remote's port, or LOCAL_IS_SERVER). */
  readonly tcp: Map<RemoteParty, Map<number, Series>>;
  /** The node of the `node` tag, with its zone and region. */
  readonly placement: Placement;
  /** The ports the local pod declares (containerPort); undefined for hosts and unknown pods. */
  readonly ports: readonly number[] | undefined;
}

export interface RemoteParty {
  readonly kind: RemoteKind;
  readonly tags: Readonly<Record<string, string>>;
  /** For pods and nodes: where they run (a pod's node may be unknown while Pending). */
  readonly placement: Placement | undefined;
  /** Ports the remote declares: a pod's containerPorts, a Service's ports. */
  readonly ports: readonly number[] | undefined;
}

/** One series: a measurement and a tag set, with its escaped line-protocol key. */
export interface Series {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly key: string;
}

/** What Tetragon itself says of a pod (newer versions), for pods the store lacks. */
export interface PodHints {
  podWorkload?: string | undefined;
  podWorkloadKind?: string | undefined;
  podLabels?: Readonly<Record<string, string>> | undefined;
}

/** How many owner hops to follow before assuming a cycle. */
const MAX_OWNER_DEPTH = 8;
/** Owner-chain results kept (least recently used go first). */
const MAX_CACHED_WORKLOADS = 200_000;

/**
 * An owner-chain result and what it was computed from. Stores replace objects on change
 * and never mutate them, so the result still holds exactly while the pod and every
 * controller looked up (found or missing) are the same objects: a pod update or a new
 * ReplicaSet elsewhere does not throw it away, an owner appearing later does.
 */
interface WorkloadEntry {
  pod: PodMeta;
  chain: Array<ControllerMeta | undefined>;
  workload: Workload;
  /** Store generation at which the entry was last known valid. */
  generation: number;
}

const TCP = 'kovenant_tcp';
/** External peers are unbounded; caches are cleared (not evicted one by one) at this size. */
const MAX_CACHED = 100_000;
const IO = 'kovenant_io';
/** Sockets per node whose connect was seen, kept until their close (see ConnectedSockets). */
const MAX_CONNECTED_SOCKETS = 262_144;

const NO_PLACEMENT: Placement = { node: undefined, zone: undefined, region: undefined };

/** Tags with absent values dropped: the contract never writes empty tag values. */
function compact(tags: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

export function makeSeries(measurement: string, tags: Record<string, string>): Series {
  return { measurement, tags, key: seriesKey(measurement, tags) };
}

/**
 * Ranks pods that hold or held an IP, for an event at `atMs` (lower wins):
 * 0 running and started by then; 1 deleted (still within its grace period);
 * 2 running but started after the event (the event predates it); 3 anything else
 * (Pending, Succeeded, Failed). Ties go to the most recently started pod.
 */
function podRank(p: PodMeta, atMs: number): number {
  if (p.deletedMs !== undefined) return 1;
  if (p.phase === 'Running') return p.startMs === undefined || p.startMs <= atMs ? 0 : 2;
  return 3;
}

function pickPod(candidates: readonly PodMeta[], atMs: number): PodMeta | undefined {
  let best: PodMeta | undefined;
  let bestRank = 99;
  for (const p of candidates) {
    if (p.hostNetwork) continue;
    const rank = podRank(p, atMs);
    if (rank < bestRank || (rank === bestRank && (p.startMs ?? 0) > (best?.startMs ?? 0))) {
      best = p;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * The event times around `atMs` over which the pick among `pods` cannot change: a pick
 * depends on time only through whether a running pod had started by then.
 */
function unchangedBetween(pods: readonly PodMeta[], atMs: number): { fromMs: number; toMs: number } {
  let fromMs = -Infinity;
  let toMs = Infinity;
  if (pods.length > 1) {
    for (const p of pods) {
      // hostNetwork pods are never picked (their IP is their node's): they change nothing.
      if (p.hostNetwork || p.deletedMs !== undefined || p.phase !== 'Running' || p.startMs === undefined) continue;
      if (p.startMs <= atMs) fromMs = Math.max(fromMs, p.startMs);
      else toMs = Math.min(toMs, p.startMs);
    }
  }
  return { fromMs, toMs };
}

interface CachedRemote {
  party: RemoteParty;
  /** The event times for which `party` is the answer. */
  fromMs: number;
  toMs: number;
}

function pickLive<T extends ServiceMeta | NodeMeta>(candidates: readonly T[]): T | undefined {
  return candidates.find((c) => c.deletedMs === undefined) ?? candidates[0];
}

/** Local parties of one `cluster` tag value. */
interface LocalScope {
  /** node → namespace → pod name: no key is built per event. */
  readonly localByPod: Map<string, Map<string, Map<string, LocalParty>>>;
  readonly hostByNode: Map<string, LocalParty>;
}

function newScope(): LocalScope {
  return { localByPod: new Map(), hostByNode: new Map() };
}

export class Resolver {
  private generation = -1;
  /** cluster tag ('' for none) → its local parties. */
  private readonly scopes = new Map<string, LocalScope>();
  private lastScopeCluster: string | undefined = undefined;
  private lastScope: LocalScope | undefined = undefined;
  private readonly placementByNode = new Map<string, Placement>();
  /** node → sockets whose connect was seen there (cookies are per node). */
  private readonly connectedByNode = new Map<string, ConnectedSockets>();
  private lastSocketsNode: string | undefined = undefined;
  private lastSockets: ConnectedSockets | undefined = undefined;
  /** Backend pod party → Service party → the pod party carrying `remote_service`. */
  private readonly viaService = new Map<RemoteParty, Map<RemoteParty, RemoteParty>>();
  readonly cluster: string | undefined;
  private readonly serviceNat: ServiceNatLookup | undefined;
  private readonly remoteByIp = new Map<string, CachedRemote>();
  /** Consecutive events mostly come from one pod and talk to one peer. */
  private lastRemoteIp: string | undefined;
  private lastRemote: CachedRemote | undefined;
  private lastLocalNode: string | undefined;
  private lastLocalNamespace: string | undefined;
  private lastLocalName: string | undefined;
  private lastLocal: LocalParty | undefined;
  private lastLocalScope: LocalScope | undefined;
  /** The last tcp series: consecutive events are mostly one socket's. */
  private lastTcpLocal: LocalParty | undefined;
  private lastTcpRemote: RemoteParty | undefined;
  private lastTcpRole = 0;
  private lastTcp: Series | undefined;
  private readonly interned = new Map<string, RemoteParty>();
  private readonly workloadByPod = new LRUCache<string, WorkloadEntry>({ max: MAX_CACHED_WORKLOADS });

  constructor(
    readonly store: MetadataStore,
    options: ResolverOptions = {},
  ) {
    this.cluster = options.cluster || undefined;
    this.serviceNat = options.serviceNat;
  }

  /** Drops every cached result when the metadata changed since the last call. */
  private sync(): void {
    if (this.store.generation === this.generation) return;
    this.generation = this.store.generation;
    this.scopes.clear();
    this.lastScope = undefined;
    this.placementByNode.clear();
    this.viaService.clear();
    this.remoteByIp.clear();
    this.lastRemote = undefined;
    this.lastLocal = undefined;
  }

  /** The local parties of a `cluster` tag: the event's `cluster_name`, else the configured one. */
  private scope(eventCluster: string | undefined): LocalScope {
    const cluster = eventCluster ?? this.cluster ?? '';
    if (this.lastScope !== undefined && cluster === this.lastScopeCluster) return this.lastScope;
    let scope = this.scopes.get(cluster);
    if (!scope) {
      scope = newScope();
      if (this.scopes.size >= MAX_CACHED) this.scopes.clear();
      this.scopes.set(cluster, scope);
    }
    this.lastScopeCluster = cluster;
    this.lastScope = scope;
    return scope;
  }

  /** A node's zone and region labels (topology.kubernetes.io/*, else failure-domain.beta.*). */
  placementOf(nodeName: string | undefined): Placement {
    if (nodeName === undefined) return NO_PLACEMENT;
    this.sync();
    let placement = this.placementByNode.get(nodeName);
    if (!placement) {
      const meta = this.store.node(nodeName);
      placement = { node: nodeName, zone: meta?.zone, region: meta?.region };
      if (this.placementByNode.size >= MAX_CACHED) this.placementByNode.clear();
      this.placementByNode.set(nodeName, placement);
    }
    return placement;
  }

  /**
   * The workload a pod belongs to: the top of its controller chain (Pod → ReplicaSet →
   * Deployment, Pod → Job → CronJob, StatefulSet, DaemonSet), stopping at the last owner
   * the store knows. Release: the top owner's Helm annotation, else the pod's instance
   * label when the pod is managed by Helm.
   */
  workloadOf(pod: PodMeta): Workload {
    this.sync();
    const cached = this.workloadByPod.get(pod.uid);
    if (cached && cached.pod === pod && (cached.generation === this.generation || this.chainUnchanged(pod, cached.chain))) {
      cached.generation = this.generation;
      return cached.workload;
    }
    let top: PodMeta | ControllerMeta = pod;
    let kind = 'Pod';
    let owner = pod.owner;
    const chain: Array<ControllerMeta | undefined> = [];
    for (let depth = 0; owner && depth < MAX_OWNER_DEPTH; depth++) {
      if (!isControllerKind(owner.kind)) break;
      const next = this.store.controller(owner.kind, pod.namespace, owner.name);
      chain.push(next);
      if (!next) break;
      top = next;
      kind = next.kind;
      owner = next.owner;
    }
    const workload: Workload = { kind, name: top.name, release: top.helmRelease ?? pod.helmInstanceLabel };
    this.workloadByPod.set(pod.uid, { pod, chain, workload, generation: this.generation });
    return workload;
  }

  /** Repeats the walk's lookups: the same objects (or the same misses) mean the same result. */
  private chainUnchanged(pod: PodMeta, chain: ReadonlyArray<ControllerMeta | undefined>): boolean {
    let owner = pod.owner;
    for (const link of chain) {
      if (!owner || !isControllerKind(owner.kind)) return false;
      if (this.store.controller(owner.kind, pod.namespace, owner.name) !== link) return false;
      owner = link?.owner;
    }
    return true;
  }

  /** Local party of a process in a pod; the pod may be unknown to the store. */
  localPod(
    node: string | undefined,
    namespace: string,
    name: string,
    hints?: PodHints,
    cluster?: string,
  ): LocalParty {
    this.sync();
    const scope = this.scope(cluster);
    if (this.lastLocal !== undefined && name === this.lastLocalName && namespace === this.lastLocalNamespace && node === this.lastLocalNode && scope === this.lastLocalScope) {
      return this.lastLocal;
    }
    const party = this.localPodUncached(scope, node, namespace, name, hints);
    this.lastLocalScope = scope;
    this.lastLocalNode = node;
    this.lastLocalNamespace = namespace;
    this.lastLocalName = name;
    this.lastLocal = party;
    return party;
  }

  private localPodUncached(scope: LocalScope, node: string | undefined, namespace: string, name: string, hints: PodHints | undefined): LocalParty {
    let byNamespace = scope.localByPod.get(node ?? '');
    if (!byNamespace) {
      byNamespace = new Map();
      scope.localByPod.set(node ?? '', byNamespace);
    }
    let byName = byNamespace.get(namespace);
    if (!byName) {
      byName = new Map();
      byNamespace.set(namespace, byName);
    }
    const cached = byName.get(name);
    if (cached) return cached;
    const pod = this.store.pod(namespace, name);
    let workload: Workload;
    if (pod) {
      workload = this.workloadOf(pod);
    } else {
      // Unknown to the store: what Tetragon itself says is the last known owner.
      const labels = hints?.podLabels;
      const helm = helmInstanceOf(labels);
      workload = hints?.podWorkload
        ? { kind: hints.podWorkloadKind || 'Pod', name: hints.podWorkload, release: helm }
        : { kind: 'Pod', name, release: helm };
    }
    const placement = this.placementOf(node);
    const party = this.makeLocal(
      compact({
        cluster: this.lastScopeCluster, node, zone: placement.zone, region: placement.region,
        namespace, pod: name, workload: workload.name, workload_kind: workload.kind, release: workload.release,
      }),
      placement,
      pod?.ports,
    );
    if (byName.size >= MAX_CACHED) byName.clear();
    byName.set(name, party);
    return party;
  }

  /** Local party of a process outside any pod. */
  localHost(node: string | undefined, cluster?: string): LocalParty {
    this.sync();
    const scope = this.scope(cluster);
    const cacheKey = node ?? '';
    const cached = scope.hostByNode.get(cacheKey);
    if (cached) return cached;
    const placement = this.placementOf(node);
    const party = this.makeLocal(
      compact({ cluster: this.lastScopeCluster, node, zone: placement.zone, region: placement.region, workload: node, workload_kind: 'host' }),
      placement,
      undefined,
    );
    if (scope.hostByNode.size >= MAX_CACHED) scope.hostByNode.clear();
    scope.hostByNode.set(cacheKey, party);
    return party;
  }

  /**
   * The local party behind an address rather than a process (conntrack flows, where
   * the kernel gives addresses only): the pod holding `rawIp` at `atMs` (same pick as
   * `remote`), else the host party of the node owning the address (a node address or
   * a hostNetwork pod's node). Undefined for addresses outside the cluster.
   * `node` is the observing node's name, as for `localPod`.
   */
  localForAddress(node: string | undefined, rawIp: string, atMs: number): LocalParty | undefined {
    // The same classification as a remote address: one pick, and its cache.
    const party = this.remote(rawIp, atMs);
    if (party.kind === 'pod') return this.localPod(node, party.tags.remote_namespace ?? '', party.tags.remote_name ?? '');
    if (party.kind === 'node') return this.localHost(party.tags.remote_name);
    return undefined;
  }


  private makeLocal(tags: Record<string, string>, placement: Placement, ports: readonly number[] | undefined): LocalParty {
    return { tags, io: makeSeries(IO, tags), tcp: new Map(), placement, ports };
  }

  /**
   * Classifies a remote address at event time `atMs`: loopback → pod (running wins) →
   * Service ClusterIP → node address (or a hostNetwork pod's node) → external.
   */
  remote(rawIp: string, atMs: number): RemoteParty {
    this.sync();
    const last = this.lastRemote;
    if (last !== undefined && rawIp === this.lastRemoteIp && atMs >= last.fromMs && atMs < last.toMs) return last.party;
    let hit = this.remoteByIp.get(rawIp);
    if (hit === undefined || atMs < hit.fromMs || atMs >= hit.toMs) {
      const ip = normalizeIp(rawIp) ?? rawIp;
      const pods = this.store.podsByIp(ip);
      hit = { party: this.classify(ip, pods, this.store.servicesByIp(ip), atMs), ...unchangedBetween(pods, atMs) };
      if (this.remoteByIp.size >= MAX_CACHED) this.remoteByIp.clear();
      this.remoteByIp.set(rawIp, hit);
    }
    this.lastRemoteIp = rawIp;
    this.lastRemote = hit;
    return hit.party;
  }

  private classify(ip: string, pods: readonly PodMeta[], services: readonly ServiceMeta[], atMs: number): RemoteParty {
    if (isLoopback(ip)) return this.intern('loopback', {}, undefined, undefined);
    const pod = pickPod(pods, atMs);
    if (pod) {
      const w = this.workloadOf(pod);
      const at = this.placementOf(pod.nodeName);
      return this.intern(
        'pod',
        compact({
          remote_namespace: pod.namespace, remote_name: pod.name, remote_workload: w.name, remote_release: w.release,
          remote_zone: at.zone, remote_region: at.region,
        }),
        at,
        pod.ports,
      );
    }
    const svc = pickLive(services);
    if (svc) {
      return this.intern(
        'service',
        compact({ remote_namespace: svc.namespace, remote_name: svc.name, remote_release: svc.helmRelease }),
        undefined,
        svc.ports,
      );
    }
    const node = pickLive(this.store.nodesByIp(ip));
    const hostNetworkPod = node ? undefined : pods.find((p) => p.hostNetwork && p.nodeName);
    const nodeName = node?.name ?? hostNetworkPod?.nodeName;
    if (nodeName) {
      const at = this.placementOf(nodeName);
      return this.intern('node', compact({ remote_name: nodeName, remote_zone: at.zone, remote_region: at.region }), at, undefined);
    }
    return this.intern('external', { remote_name: ip }, undefined, undefined);
  }

  private intern(kind: RemoteKind, tags: Record<string, string>, placement: Placement | undefined, ports: readonly number[] | undefined): RemoteParty {
    const all = { remote_kind: kind, ...tags };
    // Placement and ports are not all tags (a pod's node is not), yet rules read them.
    const key = `${seriesKey('', all)}\u0000${placement?.node ?? ''}\u0000${ports?.join(',') ?? ''}`;
    let party = this.interned.get(key);
    if (!party) {
      party = { kind, tags: all, placement, ports };
      if (this.interned.size >= MAX_CACHED) this.interned.clear();
      this.interned.set(key, party);
    }
    return party;
  }

  /**
   * The remote party of a tcp event's socket: `remote` of its remote address, except that
   * Service traffic the kernel NATed to a pod (a conntrack entry whose original tuple is
   * the socket's) is the backend pod's, tagged `remote_service` with the Service's name.
   * Without a matching entry (conntrack off, entry gone, replay) it stays the Service.
   */
  remoteOfSocket(ev: SocketEvent, atMs: number): RemoteParty {
    const remote = this.remote(ev.remoteAddress, atMs);
    if (remote.kind !== 'service' || this.serviceNat === undefined) return remote;
    const localIp = normalizeIp(ev.localAddress) ?? ev.localAddress;
    const serviceIp = normalizeIp(ev.remoteAddress) ?? ev.remoteAddress;
    const backendIp = this.serviceNat.backendOf(localIp, ev.localPort, serviceIp, ev.remotePort);
    if (backendIp === undefined) return remote;
    const backend = this.remote(backendIp, atMs);
    // Restore the one-entry cache for the address the events name.
    this.remote(ev.remoteAddress, atMs);
    return this.throughService(remote, backend);
  }

  /**
   * A Service's backend as the remote party: the backend pod with `remote_service` (the
   * Service's name), its ports joined to the Service's (clients dial the Service port).
   * `service` itself when either is not what it should be (a Service, a pod).
   */
  throughService(service: RemoteParty, backend: RemoteParty): RemoteParty {
    if (service.kind !== 'service' || backend.kind !== 'pod') return service;
    let byService = this.viaService.get(backend);
    if (!byService) {
      if (this.viaService.size >= MAX_CACHED) this.viaService.clear();
      this.viaService.set(backend, (byService = new Map()));
    }
    let party = byService.get(service);
    if (!party) {
      const ports = [...new Set([...(service.ports ?? []), ...(backend.ports ?? [])])].sort((a, b) => a - b);
      const tags = { ...withoutKind(backend.tags), remote_service: service.tags.remote_name ?? '' };
      party = this.intern('pod', tags, backend.placement, ports.length ? ports : undefined);
      byService.set(service, party);
    }
    return party;
  }

  /**
   * The `path` tag of traffic between a local and a remote party; see the data contract.
   * Regions that differ make a path cross-region even when a zone label is missing.
   */
  path(local: LocalParty, remote: RemoteParty): TrafficPath {
    switch (remote.kind) {
      case 'loopback':
        return 'loopback';
      case 'service':
        return 'service';
      case 'external':
        return isPrivate(remote.tags.remote_name ?? '') ? 'private' : 'internet';
      default: {
        const here = local.placement;
        const there = remote.placement;
        if (there === undefined || here.node === undefined || there.node === undefined) return 'unknown';
        if (there.node === here.node) return 'same-node';
        if (here.region !== undefined && there.region !== undefined && here.region !== there.region) return 'cross-region';
        if (here.zone === undefined || there.zone === undefined) return 'unknown';
        return here.zone === there.zone ? 'same-zone' : 'cross-zone';
      }
    }
  }

  /**
   * Who opened the connection, as the role number `tcpSeries` takes: the remote's port
   * when the local side is the client, else LOCAL_IS_SERVER. The local side is the client
   * when its tcp_connect was seen on this socket (by cookie, until its tcp_close), or when
   * the remote declares the remote port (containerPort, Service port) and the local pod
   * does not declare the local port. Call it for every tcp event, in order: it records
   * connects and forgets closed sockets.
   */
  roleOf(ev: SocketEvent, local: LocalParty, remote: RemoteParty): number {
    const key = socketKey(ev);
    const connected = this.socketsOf(ev.node ?? '');
    let client: boolean;
    if (ev.op === 'connect') {
      connected.add(key);
      client = true;
    } else {
      client = connected.has(key);
      if (ev.op === 'close') connected.delete(key);
    }
    if (!client) client = declares(remote.ports, ev.remotePort) && !declares(local.ports, ev.localPort);
    return client ? ev.remotePort : LOCAL_IS_SERVER;
  }

  private socketsOf(node: string): ConnectedSockets {
    if (this.lastSockets !== undefined && node === this.lastSocketsNode) return this.lastSockets;
    let sockets = this.connectedByNode.get(node);
    if (!sockets) {
      // Nodes are few (one for the daemon): the bound is per node.
      sockets = new ConnectedSockets(MAX_CONNECTED_SOCKETS);
      this.connectedByNode.set(node, sockets);
    }
    this.lastSocketsNode = node;
    this.lastSockets = sockets;
    return sockets;
  }

  /**
   * The kovenant_tcp series for a local and a remote party, with the `path` and, from
   * `role` (see roleOf), `direction` and the server's `remote_port`.
   */
  tcpSeries(local: LocalParty, remote: RemoteParty, role: number = LOCAL_IS_SERVER): Series {
    const last = this.lastTcp;
    if (last !== undefined && local === this.lastTcpLocal && remote === this.lastTcpRemote && role === this.lastTcpRole) return last;
    const s = this.tcpSeriesUncached(local, remote, role);
    this.lastTcpLocal = local;
    this.lastTcpRemote = remote;
    this.lastTcpRole = role;
    this.lastTcp = s;
    return s;
  }

  private tcpSeriesUncached(local: LocalParty, remote: RemoteParty, role: number): Series {
    let byRole = local.tcp.get(remote);
    if (!byRole) {
      if (local.tcp.size >= MAX_CACHED) local.tcp.clear();
      local.tcp.set(remote, (byRole = new Map()));
    }
    let s = byRole.get(role);
    if (!s) {
      const flow: Record<string, string> = { path: this.path(local, remote), direction: role === LOCAL_IS_SERVER ? 'server' : 'client' };
      if (role !== LOCAL_IS_SERVER) flow.remote_port = String(role);
      s = makeSeries(TCP, { ...local.tags, ...remote.tags, ...flow });
      byRole.set(role, s);
    }
    return s;
  }
}

function withoutKind(tags: Readonly<Record<string, string>>): Record<string, string> {
  const { remote_kind: _kind, ...rest } = tags;
  return rest;
}

function declares(ports: readonly number[] | undefined, port: number): boolean {
  return ports !== undefined && ports.includes(port);
}

/**
 * Sockets whose connect was seen, bounded: two generations of sets, the older dropped
 * whole when the newer fills, a hit in the older moving the key to the newer. Sockets in
 * use survive, sockets whose close was lost go. Hand-written rather than lru-cache:
 * its per-call bookkeeping cost 5% of a replay (profiled), and this is on every tcp event.
 */
export class ConnectedSockets {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly max: number) {}

  add(key: string): void {
    if (this.current.size >= this.max / 2) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(key);
  }

  has(key: string): boolean {
    if (this.current.has(key)) return true;
    if (!this.previous.has(key)) return false;
    this.previous.delete(key);
    this.add(key);
    return true;
  }

  delete(key: string): void {
    if (!this.current.delete(key)) this.previous.delete(key);
  }
}

/**
 * A socket's identity on its node while it lives: Tetragon's cookie; without a cookie
 * (older Tetragon), its 4-tuple in the local pod (loopback addresses repeat across pods).
 */
function socketKey(ev: SocketEvent): string {
  if (ev.cookie !== undefined) return ev.cookie;
  const local = normalizeIp(ev.localAddress) ?? ev.localAddress;
  const remote = normalizeIp(ev.remoteAddress) ?? ev.remoteAddress;
  return `\u0000${ev.podName ?? ''}\u0000${local}\u0000${ev.localPort}\u0000${remote}\u0000${ev.remotePort}`;
}
