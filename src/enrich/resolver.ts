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
import { isLoopback, normalizeIp } from './ip-address.ts';
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
  /** kovenant_tcp series by remote party. */
  readonly tcp: Map<RemoteParty, Series>;
}

export interface RemoteParty {
  readonly kind: RemoteKind;
  readonly tags: Readonly<Record<string, string>>;
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
  party: RemoteParty;
  /** The event times for which `party` is the answer. */
  fromMs: number;
  toMs: number;
}

function pickLive<T extends ServiceMeta | NodeMeta>(candidates: readonly T[]): T | undefined {
  return candidates.find((c) => c.deletedMs === undefined) ?? candidates[0];
}

export class Resolver {
  private generation = -1;
  /** node → namespace → pod name: no key is built per event. */
  private readonly localByPod = new Map<string, Map<string, Map<string, LocalParty>>>();
  private readonly hostByNode = new Map<string, LocalParty>();
  private readonly remoteByIp = new Map<string, CachedRemote>();
  /** Consecutive events mostly come from one pod and talk to one peer. */
  private lastRemoteIp: string | undefined;
  private lastRemote: CachedRemote | undefined;
  private lastLocalNode: string | undefined;
  private lastLocalNamespace: string | undefined;
  private lastLocalName: string | undefined;
  private lastLocal: LocalParty | undefined;
  private readonly interned = new Map<string, RemoteParty>();
  private readonly workloadByPod = new LRUCache<string, WorkloadEntry>({ max: MAX_CACHED_WORKLOADS });

  constructor(readonly store: MetadataStore) {}

  /** Drops every cached result when the metadata changed since the last call. */
  private sync(): void {
    if (this.store.generation === this.generation) return;
    this.generation = this.store.generation;
    this.localByPod.clear();
    this.hostByNode.clear();
    this.remoteByIp.clear();
    this.lastRemote = undefined;
    this.lastLocal = undefined;
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
  ): LocalParty {
    this.sync();
    if (this.lastLocal !== undefined && name === this.lastLocalName && namespace === this.lastLocalNamespace && node === this.lastLocalNode) {
      return this.lastLocal;
    }
    const party = this.localPodUncached(node, namespace, name, hints);
    this.lastLocalNode = node;
    this.lastLocalNamespace = namespace;
    this.lastLocalName = name;
    this.lastLocal = party;
    return party;
  }

  private localPodUncached(node: string | undefined, namespace: string, name: string, hints: PodHints | undefined): LocalParty {
    let byNamespace = this.localByPod.get(node ?? '');
    if (!byNamespace) {
      byNamespace = new Map();
      this.localByPod.set(node ?? '', byNamespace);
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
    const party = this.makeLocal(
      compact({ node, namespace, pod: name, workload: workload.name, workload_kind: workload.kind, release: workload.release }),
    );
    if (byName.size >= MAX_CACHED) byName.clear();
    byName.set(name, party);
    return party;
  }

  /** Local party of a process outside any pod. */
  localHost(node: string | undefined): LocalParty {
    this.sync();
    const cacheKey = node ?? '';
    const cached = this.hostByNode.get(cacheKey);
    if (cached) return cached;
    const party = this.makeLocal(compact({ node, workload: node, workload_kind: 'host' }));
    this.hostByNode.set(cacheKey, party);
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


  private makeLocal(tags: Record<string, string>): LocalParty {
    return { tags, io: makeSeries(IO, tags), tcp: new Map() };
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
    if (isLoopback(ip)) return this.intern('loopback', {});
    const pod = pickPod(pods, atMs);
    if (pod) {
      const w = this.workloadOf(pod);
      return this.intern(
        'pod',
        compact({ remote_namespace: pod.namespace, remote_name: pod.name, remote_workload: w.name, remote_release: w.release }),
      );
    }
    const svc = pickLive(services);
    if (svc) {
      return this.intern('service', compact({ remote_namespace: svc.namespace, remote_name: svc.name, remote_release: svc.helmRelease }));
    }
    const node = pickLive(this.store.nodesByIp(ip));
    const hostNetworkPod = node ? undefined : pods.find((p) => p.hostNetwork && p.nodeName);
    const nodeName = node?.name ?? hostNetworkPod?.nodeName;
    if (nodeName) return this.intern('node', { remote_name: nodeName });
    return this.intern('external', { remote_name: ip });
  }

  private intern(kind: RemoteKind, tags: Record<string, string>): RemoteParty {
    const all = { remote_kind: kind, ...tags };
    const key = seriesKey('', all);
    let party = this.interned.get(key);
    if (!party) {
      party = { kind, tags: all };
      if (this.interned.size >= MAX_CACHED) this.interned.clear();
      this.interned.set(key, party);
    }
    return party;
  }

  /** The kovenant_tcp series for a local and a remote party. */
  tcpSeries(local: LocalParty, remote: RemoteParty): Series {
    let s = local.tcp.get(remote);
    if (!s) {
      if (local.tcp.size >= MAX_CACHED) local.tcp.clear();
      s = makeSeries(TCP, { ...local.tags, ...remote.tags });
      local.tcp.set(remote, s);
    }
    return s;
  }
}
