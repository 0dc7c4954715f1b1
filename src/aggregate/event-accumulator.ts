/**
 * Adds one decoded kernel event to its window: attribution by the resolver, then the
 * field increments of the data contract (kovenant_tcp, kovenant_io).
 */
import type { KernelEvent } from '../decode/kernel-event.ts';
import type { Resolver } from '../enrich/resolver.ts';
import { IO_FIELDS, IO_SLOTS, TCP_FIELDS, TCP_SLOTS } from './field-schema.ts';
import type { WindowAggregator } from './window-aggregator.ts';

// Slot indexes of TCP_FIELDS and IO_FIELDS, as module constants for the per-event increments.
const {
  bytes_sent: BYTES_SENT,
  bytes_received: BYTES_RECEIVED,
  sends: SENDS,
  receives: RECEIVES,
  connects: CONNECTS,
  closes: CLOSES,
} = TCP_SLOTS;
const { bytes_read: BYTES_READ, bytes_written: BYTES_WRITTEN, reads: READS, writes: WRITES } = IO_SLOTS;

export function accumulateEvent(ev: KernelEvent, resolver: Resolver, aggregator: WindowAggregator): void {
  const local =
    ev.podNamespace !== undefined && ev.podName !== undefined
      ? resolver.localPod(ev.node, ev.podNamespace, ev.podName, ev, ev.cluster)
      : resolver.localHost(ev.node, ev.cluster);
  const node = ev.node ?? '';
  const op = ev.op;
  if (op === 'read' || op === 'write') {
    const v = aggregator.slotValues(node, ev.timeMs, local.io, IO_FIELDS);
    if (op === 'read') {
      v[BYTES_READ]! += ev.bytes;
      v[READS]!++;
    } else {
      v[BYTES_WRITTEN]! += ev.bytes;
      v[WRITES]!++;
    }
    return;
  }
  const remote = resolver.remoteOfSocket(ev, ev.timeMs);
  const series = resolver.tcpSeries(local, remote, resolver.roleOf(ev, local, remote));
  const v = aggregator.slotValues(node, ev.timeMs, series, TCP_FIELDS);
  switch (op) {
    case 'send':
      v[BYTES_SENT]! += ev.bytes;
      v[SENDS]!++;
      break;
    case 'recv':
      v[BYTES_RECEIVED]! += ev.bytes;
      v[RECEIVES]!++;
      break;
    case 'connect':
      v[CONNECTS]!++;
      break;
    case 'close':
      v[CLOSES]!++;
      break;
  }
}
