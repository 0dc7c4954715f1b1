/**
 * Attribution: who did it (the local process's pod, workload and release, or the host)
 * and whom it talked to (pod, Service, node, external address, loopback). Every rule is
 * here and nowhere else; replay (snapshot) and live mode (informers) differ only in the
 * MetadataStore they pass.
 *
 * Results are interned: the same inputs give the same object, which carries its
 * line-protocol series key, so aggregation needs no string building per event.
 */
import { AttributionCache } from './attribution-cache.ts';
import type { DnsNames } from './dns/dns-name-cache.ts';
import { isLoopback, isPrivate, normalizeIp } from '../core/ip-address.ts';
import {
  helmInstanceOf,
  isControllerKind,
  type ControllerMeta,
  type MetadataStore,
  type NodeMeta,
  type PodMeta,
  type ServiceMeta,
} from './metadata/model.ts';
import { makeSeries, seriesKey, type Series } from '../core/series.ts';

export type RemoteKind = 'pod' | 'service' | 'node' | 'external' | 'loopback';

/** The `path` tag: where the bytes went, in the terms cloud bills use. */
export type TrafficPath =
  'loopback' | 'same-node' | 'same-zone' | 'cross-zone' | 'cross-region' | 'service' | 'private' | 'internet' | 'unknown';

export const TRAFFIC_PATHS: readonly TrafficPath[] = [
  'loopback',
  'same-node',
  'same-zone',
  'cross-zone',
  'cross-region',
  'service',
  'private',
  'internet',
  'unknown',
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
  /** The bound on cached results of every kind together (see attribution-cache.ts). */
  maxCachedEntries?: number | undefined;
  /** What DNS answered (--dnstap-listen); external peers it knows gain `remote_dns`. */
  dnsNames?: DnsNames | undefined;
}

export interface Workload {
  kind: string;
  name: string;
  release: string | undefined;
}

/** The local side: tags shared by every measurement about one process's pod (or host). */
export interface LocalParty {
  /** Unique per object: part of the cache key of its tcp series. */
  readonly id: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Series of kovenant_io for this party. */
  readonly io: Series;
  /** The node of the `node` tag, with its zone and region. */
  readonly placement: Placement;
  /** The ports the local pod declares (containerPort); undefined for hosts and unknown pods. */
  readonly ports: readonly number[] | undefined;
}

export interface RemoteParty {
  /** Unique per object: part of the cache key of its tcp series. */
  readonly id: number;
  readonly kind: RemoteKind;
  readonly tags: Readonly<Record<string, string>>;
  /** For pods and nodes: where they run (a pod's node may be unknown while Pending). */
  readonly placement: Placement | undefined;
  /** Ports the remote declares: a pod's containerPorts, a Service's ports. */
  readonly ports: readonly number[] | undefined;
}

/** What Tetragon itself says of a pod (newer versions), for pods the store lacks. */
export interface PodHints {
  podWorkload?: string | undefined;
  podWorkloadKind?: string | undefined;
  podLabels?: Readonly<Record<string, string>> | undefined;
}

/** How many owner hops to follow before assuming a cycle. */
const MAX_OWNER_DEPTH = 8;

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
  /** Store generation it was computed at: an older one is a miss. */
  generation: number;
  party: RemoteParty;
  /** The event times for which `party` is the answer. */
  fromMs: number;
  toMs: number;
}

function pickLive<T extends ServiceMeta | NodeMeta>(candidates: readonly T[]): T | undefined {
  return candidates.find((c) => c.deletedMs === undefined) ?? candidates[0];
}

/** A result that depends on the metadata, and the store generation it was computed at. */
interface Generational<T> {
  generation: number;
  value: T;
}

let nextPartyId = 0;

/**
 * Entries of each recent-results table: direct-mapped (a key has one slot, a newer key
 * there replaces it), so a lookup is a few comparisons and the tables stay this small
 * whatever the input. Their results are also in the cache, under its bound. With 256, a
 * busy node's 43 peers still shared slots pairwise (4% of its events missed); 1024 is
 * 8 KB a table.
 */
const RECENT_SLOTS = 1024;
const RECENT_MASK = RECENT_SLOTS - 1;
/** (local, remote, role) triples are more than parties: a busy node's hit 54% of the time in 256 slots, 80% in 1024 (additive hash), 95% in these. */
const RECENT_TCP_SLOTS = 4 * RECENT_SLOTS;

/**
 * The slot of a pod name or an address: a hash of its length and last six characters,
 * where names and addresses differ (`10.244.1.30` and `10.244.3.30` differ only there:
 * the last two alone sent a busy node's 43 peers to the same few slots, 12% misses).
 */
function slotOfText(text: string): number {
  const n = text.length;
  let h = n;
  for (let i = n > 6 ? n - 6 : 0; i < n; i++) h = Math.imul(h, 31) + text.charCodeAt(i);
  return (h ^ (h >>> 9)) & RECENT_MASK;
}

interface RecentLocal {
  cluster: string;
  node: string | undefined;
  namespace: string;
  name: string;
  party: LocalParty;
}

interface RecentHost {
  cluster: string;
  node: string | undefined;
  party: LocalParty;
}

interface RecentRemote {
  ip: string;
  hit: CachedRemote;
}

interface RecentTcp {
  local: LocalParty;
  remote: RemoteParty;
  role: number;
  series: Series;
}

export class Resolver {
  private generation = -1;
  /**
   * Everything cached, under one bound: local parties, placements and remote
   * classifications depend on the metadata and carry the generation they were computed
   * at; interned parties, tcp series, Service backends and owner chains (which validate
   * themselves) do not.
   */
  readonly cache: AttributionCache;
  /** node → sockets whose connect was seen there (cookies are per node). */
  private readonly connectedByNode = new Map<string, ConnectedSockets>();
  private lastSocketsNode: string | undefined = undefined;
  private lastSockets: ConnectedSockets | undefined = undefined;
  readonly cluster: string | undefined;
  private readonly serviceNat: ServiceNatLookup | undefined;
  private readonly dnsNames: DnsNames | undefined;
  /** An external party → the same party with its DNS name, for the name last seen. */
  private readonly namedByParty = new WeakMap<RemoteParty, { name: string; party: RemoteParty }>();
  /**
   * The latest results, in front of the cache (see RECENT_SLOTS): a node's events come
   * from a few dozen pods talking to a few hundred peers, interleaved, so a hit here
   * saves building a key string and looking it up on most events.
   */
  private readonly recentLocals: Array<RecentLocal | undefined> = new Array<RecentLocal | undefined>(RECENT_SLOTS).fill(undefined);
  private readonly recentRemotes: Array<RecentRemote | undefined> = new Array<RecentRemote | undefined>(RECENT_SLOTS).fill(undefined);
  /** Host parties by node: a node's processes outside pods are one party, asked for on every such event. */
  private readonly recentHosts: Array<RecentHost | undefined> = new Array<RecentHost | undefined>(RECENT_SLOTS).fill(undefined);
  private readonly recentTcp: Array<RecentTcp | undefined> = new Array<RecentTcp | undefined>(RECENT_TCP_SLOTS).fill(undefined);

  constructor(
    readonly store: MetadataStore,
    options: ResolverOptions = {},
  ) {
    this.cache = new AttributionCache(options.maxCachedEntries);
    this.cluster = options.cluster || undefined;
    this.serviceNat = options.serviceNat;
    this.dnsNames = options.dnsNames;
  }

  /**
   * Forgets the last results when the metadata changed since the last call; cached
   * ones of an older generation are misses (and age out of the LRU).
   */
  private sync(): void {
    if (this.store.generation === this.generation) return;
    this.generation = this.store.generation;
    this.recentRemotes.fill(undefined);
    this.recentLocals.fill(undefined);
    this.recentHosts.fill(undefined);
  }

  /** A cached result of the current generation, or undefined. */
  private current<T>(key: string): T | undefined {
    const hit = this.cache.get<Generational<T>>(key);
    return hit !== undefined && hit.generation === this.generation ? hit.value : undefined;
  }

  private remember<T>(key: string, value: T): T {
    this.cache.set(key, { generation: this.generation, value });
    return value;
  }

  /** The `cluster` tag: the event's `cluster_name`, else the configured one ('' for none). */
  private clusterOf(eventCluster: string | undefined): string {
    return eventCluster ?? this.cluster ?? '';
  }

  /** A node's zone and region labels (topology.kubernetes.io/*, else failure-domain.beta.*). */
  placementOf(nodeName: string | undefined): Placement {
    if (nodeName === undefined) return NO_PLACEMENT;
    this.sync();
    const key = `p${nodeName}`;
    const cached = this.current<Placement>(key);
    if (cached) return cached;
    const meta = this.store.node(nodeName);
    return this.remember(key, { node: nodeName, zone: meta?.zone, region: meta?.region });
  }

  /**
   * The workload a pod belongs to: the top of its controller chain (Pod → ReplicaSet →
   * Deployment, Pod → Job → CronJob, StatefulSet, DaemonSet), stopping at the last owner
   * the store knows. Release: the top owner's Helm annotation, else the pod's instance
   * label when the pod is managed by Helm.
   */
  workloadOf(pod: PodMeta): Workload {
    this.sync();
    const cached = this.cache.get<WorkloadEntry>(`w${pod.uid}`);
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
    this.cache.set(`w${pod.uid}`, { pod, chain, workload, generation: this.generation });
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
  localPod(node: string | undefined, namespace: string, name: string, hints?: PodHints, cluster?: string): LocalParty {
    this.sync();
    const scope = this.clusterOf(cluster);
    // Two ways per slot, the more recent first: a pod asked for between any two others of
    // its slot keeps its entry (and so its party) however many others pass through.
    const ways = this.recentLocals;
    const slot = slotOfText(name) & ~1;
    const first = ways[slot];
    if (first !== undefined && name === first.name && namespace === first.namespace && node === first.node && scope === first.cluster)
      return first.party;
    const second = ways[slot + 1];
    if (
      second !== undefined &&
      name === second.name &&
      namespace === second.namespace &&
      node === second.node &&
      scope === second.cluster
    ) {
      ways[slot] = second;
      ways[slot + 1] = first;
      return second.party;
    }
    const party = this.localPodUncached(scope, node, namespace, name, hints);
    let entry = second;
    if (entry === undefined) {
      entry = { cluster: scope, node, namespace, name, party };
    } else {
      entry.cluster = scope;
      entry.node = node;
      entry.namespace = namespace;
      entry.name = name;
      entry.party = party;
    }
    ways[slot + 1] = first;
    ways[slot] = entry;
    return party;
  }

  private localPodUncached(
    cluster: string,
    node: string | undefined,
    namespace: string,
    name: string,
    hints: PodHints | undefined,
  ): LocalParty {
    const cacheKey = `l${cluster}\u0000${node ?? ''}\u0000${namespace}\u0000${name}`;
    const cached = this.current<LocalParty>(cacheKey);
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
        cluster,
        node,
        zone: placement.zone,
        region: placement.region,
        namespace,
        pod: name,
        workload: workload.name,
        workload_kind: workload.kind,
        release: workload.release,
      }),
      placement,
      pod?.ports,
    );
    return this.remember(cacheKey, party);
  }

  /** Local party of a process outside any pod. */
  localHost(node: string | undefined, cluster?: string): LocalParty {
    this.sync();
    const scope = this.clusterOf(cluster);
    const slot = slotOfText(node ?? '');
    const recent = this.recentHosts[slot];
    if (recent !== undefined && node === recent.node && scope === recent.cluster) return recent.party;
    const party = this.localHostUncached(scope, node);
    if (recent === undefined) {
      this.recentHosts[slot] = { cluster: scope, node, party };
    } else {
      recent.cluster = scope;
      recent.node = node;
      recent.party = party;
    }
    return party;
  }

  private localHostUncached(scope: string, node: string | undefined): LocalParty {
    const cacheKey = `h${scope}\u0000${node ?? ''}`;
    const cached = this.current<LocalParty>(cacheKey);
    if (cached) return cached;
    const placement = this.placementOf(node);
    const party = this.makeLocal(
      compact({ cluster: scope, node, zone: placement.zone, region: placement.region, workload: node, workload_kind: 'host' }),
      placement,
      undefined,
    );
    return this.remember(cacheKey, party);
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
    return { id: nextPartyId++, tags, io: makeSeries(IO, tags), placement, ports };
  }

  /**
   * Classifies a remote address at event time `atMs`: loopback → pod (running wins) →
   * Service ClusterIP → node address (or a hostNetwork pod's node) → external.
   */
  remote(rawIp: string, atMs: number): RemoteParty {
    this.sync();
    const slot = slotOfText(rawIp);
    const recent = this.recentRemotes[slot];
    if (recent !== undefined && rawIp === recent.ip && atMs >= recent.hit.fromMs && atMs < recent.hit.toMs)
      return this.named(recent.hit.party, atMs);
    let hit = this.cache.get<CachedRemote>(`r${rawIp}`);
    if (hit === undefined || hit.generation !== this.generation || atMs < hit.fromMs || atMs >= hit.toMs) {
      const ip = normalizeIp(rawIp) ?? rawIp;
      const pods = this.store.podsByIp(ip);
      hit = {
        generation: this.generation,
        party: this.classify(ip, pods, this.store.servicesByIp(ip), atMs),
        ...unchangedBetween(pods, atMs),
      };
      this.cache.set(`r${rawIp}`, hit);
    }
    if (recent === undefined) {
      this.recentRemotes[slot] = { ip: rawIp, hit };
    } else {
      recent.ip = rawIp;
      recent.hit = hit;
    }
    return this.named(hit.party, atMs);
  }

  /**
   * An external peer with `remote_dns`, the name its workload asked DNS for, when the
   * answer held at `atMs`; `remote_name` stays the address. Looked up on every event:
   * answers come and expire independently of the metadata the caches above follow.
   */
  private named(party: RemoteParty, atMs: number): RemoteParty {
    if (this.dnsNames === undefined || party.kind !== 'external') return party;
    const ip = party.tags.remote_name ?? '';
    const name = this.dnsNames.nameAt(ip, atMs)?.asked;
    if (name === undefined) return party;
    let memo = this.namedByParty.get(party);
    if (memo?.name !== name) {
      memo = { name, party: this.intern('external', { remote_name: ip, remote_dns: name }, undefined, undefined) };
      this.namedByParty.set(party, memo);
    }
    return memo.party;
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
          remote_namespace: pod.namespace,
          remote_name: pod.name,
          remote_workload: w.name,
          remote_release: w.release,
          remote_zone: at.zone,
          remote_region: at.region,
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
    // Not interned: the address cache entry already holds it, and external peers are the
    // unbounded kind, so a second entry each would halve what the cache bound keeps.
    return {
      id: nextPartyId++,
      kind: 'external',
      tags: { remote_kind: 'external', remote_name: ip },
      placement: undefined,
      ports: undefined,
    };
  }

  private intern(
    kind: RemoteKind,
    tags: Record<string, string>,
    placement: Placement | undefined,
    ports: readonly number[] | undefined,
  ): RemoteParty {
    const all = { remote_kind: kind, ...tags };
    // Placement and ports are not all tags (a pod's node is not), yet rules read them.
    const key = `i${seriesKey('', all)}\u0000${placement?.node ?? ''}\u0000${ports?.join(',') ?? ''}`;
    let party = this.cache.get<RemoteParty>(key);
    if (!party) {
      party = { id: nextPartyId++, kind, tags: all, placement, ports };
      this.cache.set(key, party);
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
    // Restore the recent entry of the address the events name (the backend's may share its slot).
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
    const key = `v${backend.id}:${service.id}`;
    let party = this.cache.get<RemoteParty>(key);
    if (!party) {
      const ports = [...new Set([...(service.ports ?? []), ...(backend.ports ?? [])])].sort((a, b) => a - b);
      const tags = { ...withoutKind(backend.tags), remote_service: service.tags.remote_name ?? '' };
      party = this.intern('pod', tags, backend.placement, ports.length ? ports : undefined);
      this.cache.set(key, party);
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
    // Multiplicative mixing: sums of small ids and ports left neighbouring triples in one slot.
    let h = Math.imul(local.id, 0x9e3779b1) ^ Math.imul(remote.id + 1, 0x85ebca6b) ^ Math.imul(role + 2, 0xc2b2ae35);
    h ^= h >>> 15;
    const slot = h & (RECENT_TCP_SLOTS - 1);
    const recent = this.recentTcp[slot];
    if (recent !== undefined && local === recent.local && remote === recent.remote && role === recent.role) return recent.series;
    const s = this.tcpSeriesUncached(local, remote, role);
    if (recent === undefined) {
      this.recentTcp[slot] = { local, remote, role, series: s };
    } else {
      recent.local = local;
      recent.remote = remote;
      recent.role = role;
      recent.series = s;
    }
    return s;
  }

  private tcpSeriesUncached(local: LocalParty, remote: RemoteParty, role: number): Series {
    const key = `s${local.id}:${remote.id}:${role}`;
    let s = this.cache.get<Series>(key);
    if (!s) {
      const flow: Record<string, string> = { path: this.path(local, remote), direction: role === LOCAL_IS_SERVER ? 'server' : 'client' };
      if (role !== LOCAL_IS_SERVER) flow.remote_port = String(role);
      s = makeSeries(TCP, { ...local.tags, ...remote.tags, ...flow });
      this.cache.set(key, s);
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
