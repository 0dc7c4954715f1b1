/** What differential tests compare between two decoders: every KernelEvent field but `rejectField`. */
import type { KernelEvent } from '../../src/decode/kernel-event.ts';

export function kernelEventFacts(e: KernelEvent): Record<string, unknown> {
  return {
    op: e.op,
    timeMs: e.timeMs,
    node: e.node,
    cluster: e.cluster,
    podNamespace: e.podNamespace,
    podName: e.podName,
    podWorkload: e.podWorkload,
    podWorkloadKind: e.podWorkloadKind,
    podLabels: e.podLabels,
    // toEqual ignores key order; label order is part of what the decoders must agree on.
    podLabelOrder: e.podLabels === undefined ? undefined : Object.entries(e.podLabels),
    remoteAddress: e.remoteAddress,
    remotePort: e.remotePort,
    localAddress: e.localAddress,
    localPort: e.localPort,
    cookie: e.cookie,
    bytes: e.bytes,
    skippedType: e.skippedType,
    rejectReason: e.rejectReason,
  };
}
