/**
 * Per-flow counter deltas between two scans of the conntrack table.
 *
 * - The first scan is a baseline: flows that existed before the daemon started count
 *   nothing (their bytes are history, and a restarted daemon must not count them twice).
 *   Flows that appear later count from zero.
 * - A flow that vanished between scans loses what it moved since the last scan: /proc
 *   has no destroy events (netlink would). With a short interval and TIME_WAIT keeping
 *   closed TCP entries for two minutes, that is mostly UDP and resets.
 * - Counters lower than last time, or a TCP entry coming back from TIME_WAIT/CLOSE,
 *   mean the tuple was reused by a new connection: the new counters are the delta.
 */
import type { ConntrackFlow } from './conntrack-table.ts';

export interface FlowDelta {
  flow: ConntrackFlow;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  /** 1 when the flow is new since the previous scan. */
  newFlow: 0 | 1;
}

interface Seen {
  originBytes: number;
  originPackets: number;
  replyBytes: number;
  replyPackets: number;
  state: string | undefined;
}

const ENDED_STATES = new Set(['TIME_WAIT', 'CLOSE']);

export class FlowDeltaTracker {
  private previous = new Map<string, Seen>();
  private baselined = false;
  /** Flows that disappeared between scans (their last interval's traffic is lost). */
  vanished = 0;
  /** Tuples reused by a new connection (counters restarted). */
  resets = 0;

  /** Deltas since the last scan; only non-zero ones (and new flows) are returned. */
  scan(flows: readonly ConntrackFlow[]): FlowDelta[] {
    const current = new Map<string, Seen>();
    const out: FlowDelta[] = [];
    for (const flow of flows) {
      const now: Seen = {
        originBytes: flow.originBytes ?? 0,
        originPackets: flow.originPackets ?? 0,
        replyBytes: flow.replyBytes ?? 0,
        replyPackets: flow.replyPackets ?? 0,
        state: flow.state,
      };
      current.set(flow.key, now);
      if (!this.baselined) continue;
      const before = this.previous.get(flow.key);
      const reused =
        before !== undefined &&
        (now.originBytes < before.originBytes ||
          now.replyBytes < before.replyBytes ||
          now.originPackets < before.originPackets ||
          now.replyPackets < before.replyPackets ||
          (ENDED_STATES.has(before.state ?? '') && !ENDED_STATES.has(now.state ?? '')));
      if (reused) this.resets++;
      const base = before === undefined || reused ? undefined : before;
      const delta: FlowDelta = {
        flow,
        bytesSent: now.originBytes - (base?.originBytes ?? 0),
        bytesReceived: now.replyBytes - (base?.replyBytes ?? 0),
        packetsSent: now.originPackets - (base?.originPackets ?? 0),
        packetsReceived: now.replyPackets - (base?.replyPackets ?? 0),
        newFlow: base === undefined ? 1 : 0,
      };
      if (delta.newFlow || delta.bytesSent || delta.bytesReceived || delta.packetsSent || delta.packetsReceived) out.push(delta);
    }
    if (this.baselined) for (const key of this.previous.keys()) if (!current.has(key)) this.vanished++;
    this.previous = current;
    this.baselined = true;
    return out;
  }
}
