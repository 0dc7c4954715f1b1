/**
 * kovenant_conntrack: per-flow byte and packet deltas of the node's conntrack table,
 * attributed from the originating side with the same resolver as the events.
 *
 * Tags: the local tags of kovenant_tcp for the origin address, the remote_* tags for
 * the reply source (with `remote_service` when the original destination was a Service's
 * ClusterIP), `path` by the resolver's rule, `protocol` and `remote_port` (original
 * destination port). A flow
 * whose origin is outside the cluster (inbound from the Internet) is attributed from
 * the reply side instead, sent and received swapped, so that it still lands on the pod.
 * Flows from or to node addresses are skipped unless `keepNode` (as kubenetmon does:
 * they are the node's own traffic and kubelet probes, not the workloads').
 */
import { CONNTRACK_FIELDS, CONNTRACK_SLOTS } from '../../aggregate/field-schema.ts';
import type { WindowAggregator } from '../../aggregate/window-aggregator.ts';
import type { LocalParty, RemoteParty, Resolver } from '../../enrich/resolver.ts';
import { makeSeries, type Series } from '../../core/series.ts';
import { collectorWatermarkKey, readProcFile, type NodeCollector } from '../collector.ts';
import { conntrackPaths, parseConntrackTable, requireAccounting } from './conntrack-table.ts';
import { FlowDeltaTracker, type FlowDelta } from './flow-deltas.ts';
import type { ConntrackServiceNat } from './service-nat.ts';

const MEASUREMENT = 'kovenant_conntrack';
const {
  bytes_sent: BYTES_SENT,
  bytes_received: BYTES_RECEIVED,
  packets_sent: PACKETS_SENT,
  packets_received: PACKETS_RECEIVED,
  flows: FLOWS,
} = CONNTRACK_SLOTS;

export interface ConntrackCollectorOptions {
  procRoot: string;
  intervalMs: number;
  /** The observing node (the `node` tag). */
  nodeName: string | undefined;
  resolver: Resolver;
  keepNode: boolean;
  /** Filled from every scan, for the resolver to attribute Service traffic to backends. */
  serviceNat?: ConntrackServiceNat | undefined;
}

export interface ConntrackStats {
  flowsVanished: number;
  flowResets: number;
  skippedNodeFlows: number;
  /** Flows with neither side in the cluster (transit traffic). */
  skippedExternalFlows: number;
}

export class ConntrackCollector implements NodeCollector {
  readonly name = 'conntrack';
  readonly intervalMs: number;
  private readonly tracker = new FlowDeltaTracker();
  private checked = false;
  private skippedNode = 0;
  private skippedExternal = 0;

  constructor(private readonly options: ConntrackCollectorOptions) {
    this.intervalMs = options.intervalMs;
  }

  async collect(nowMs: number, aggregator: WindowAggregator): Promise<void> {
    const { table } = conntrackPaths(this.options.procRoot);
    if (!this.checked) {
      await requireAccounting(this.options.procRoot);
      this.checked = true;
    }
    const flows = parseConntrackTable(await readProcFile('conntrack', table));
    this.options.serviceNat?.update(flows);
    for (const delta of this.tracker.scan(flows)) this.add(delta, nowMs, aggregator);
  }

  private add(delta: FlowDelta, nowMs: number, aggregator: WindowAggregator): void {
    const { resolver, nodeName, keepNode } = this.options;
    const { flow } = delta;
    const originRemote = resolver.remote(flow.originSrc, nowMs);
    const replyRemote = resolver.remote(flow.replySrc, nowMs);
    if (!keepNode && (originRemote.kind === 'node' || replyRemote.kind === 'node')) {
      this.skippedNode++;
      return;
    }
    let local = resolver.localForAddress(nodeName, flow.originSrc, nowMs);
    // Service traffic: the reply comes from the backend pod; the original destination names the Service.
    const originDst = flow.originDst === flow.replySrc ? replyRemote : resolver.remote(flow.originDst, nowMs);
    let remote: RemoteParty =
      originDst.kind === 'service' && replyRemote.kind === 'pod' ? resolver.throughService(originDst, replyRemote) : replyRemote;
    let swapped = false;
    if (!local) {
      local = resolver.localForAddress(nodeName, flow.replySrc, nowMs);
      remote = originRemote;
      swapped = true;
    }
    if (!local) {
      this.skippedExternal++;
      return;
    }
    const series = this.seriesOf(local, remote, flow.protocol, flow.originDport);
    const v = aggregator.slotValues(collectorWatermarkKey(nodeName ?? '', this.name), nowMs, series, CONNTRACK_FIELDS);
    v[BYTES_SENT]! += swapped ? delta.bytesReceived : delta.bytesSent;
    v[BYTES_RECEIVED]! += swapped ? delta.bytesSent : delta.bytesReceived;
    v[PACKETS_SENT]! += swapped ? delta.packetsReceived : delta.packetsSent;
    v[PACKETS_RECEIVED]! += swapped ? delta.packetsSent : delta.packetsReceived;
    v[FLOWS]! += delta.newFlow;
  }

  private seriesOf(local: LocalParty, remote: RemoteParty, protocol: string, port: number | undefined): Series {
    const tags: Record<string, string> = { ...local.tags, ...remote.tags, protocol, path: this.options.resolver.path(local, remote) };
    if (port !== undefined) tags.remote_port = String(port);
    return makeSeries(MEASUREMENT, tags);
  }

  stats(): ConntrackStats {
    return {
      flowsVanished: this.tracker.vanished,
      flowResets: this.tracker.resets,
      skippedNodeFlows: this.skippedNode,
      skippedExternalFlows: this.skippedExternal,
    };
  }
}
