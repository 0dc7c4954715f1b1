/** Decoded lines cross threads as typed arrays and tables: every field must arrive as it left. */
import { describe, expect, it } from 'vitest';
import { BatchTables, BatchWriter, readBatch, type DecodedBatch } from '../../src/decode/decoded-batch.ts';
import { DecodeStatus, KernelEvent, type KernelOp } from '../../src/decode/kernel-event.ts';
import type { LossSignal } from '../../src/decode/loss-signal.ts';

/** An event with every field set to something other than its default. */
function fullEvent(i: number, op: KernelOp = 'send'): KernelEvent {
  const ev = new KernelEvent();
  ev.op = op;
  ev.timeMs = 1_700_000_000_123 + i;
  ev.node = `node-${i % 3}`;
  ev.cluster = 'prod';
  ev.podNamespace = 'shop';
  ev.podName = `pod-${i}`;
  ev.podWorkload = 'frontend';
  ev.podWorkloadKind = 'Deployment';
  ev.podLabels = { app: 'frontend', b: String(i % 2) };
  ev.remoteAddress = `10.0.0.${i % 250}`;
  ev.remotePort = 443;
  ev.localAddress = 'fd00::1';
  ev.localPort = 40_000 + i;
  ev.cookie = String(18446462602619221710n + BigInt(i));
  ev.bytes = 2 ** 32 - i;
  return ev;
}

/** What a consumer may read of a line: the fields its status gives meaning to. */
function seen(status: DecodeStatus, ev: KernelEvent, loss: LossSignal): unknown {
  if (status === DecodeStatus.Skipped) return { status, type: ev.skippedType, loss };
  if (status === DecodeStatus.Rejected) return { status, reason: ev.rejectReason, field: ev.rejectField };
  const { skippedType: _s, rejectReason: _r, rejectField: _f, ...facts } = ev;
  return { status, ...facts };
}

function roundTrip(batches: DecodedBatch[]): unknown[] {
  const out: unknown[] = [];
  let tables = new BatchTables();
  const ev = new KernelEvent();
  // Read after all were received, as batches may wait for another worker's.
  const received = batches.map((b) => {
    // Through structured clone, as postMessage moves them.
    const moved = structuredClone(b);
    tables = BatchTables.after(tables, moved);
    return { moved, tables };
  });
  for (const { moved, tables: t } of received) readBatch(moved, t, ev, (status, e, loss) => out.push(seen(status, e, loss)));
  return out;
}

describe('decoded batches', () => {
  it('carry every field of KernelEvent, for each status', () => {
    const writer = new BatchWriter();
    const expected: unknown[] = [];
    const add = (status: DecodeStatus, ev: KernelEvent, loss?: LossSignal): void => {
      writer.add(status, ev, loss);
      expected.push(seen(status, ev, loss));
    };
    const ops: KernelOp[] = ['connect', 'close', 'send', 'recv', 'read', 'write'];
    // Label sets shared by identity, as the decoders share a pod's; and one shared by
    // different pods (an empty set a decoder might reuse), which must not mix them up.
    const shared: Record<string, string>[] = [{ app: 'a' }, {}];
    for (let i = 0; i < 1200; i++) {
      const ev = fullEvent(i, ops[i % ops.length]);
      if (i % 3 === 0) {
        ev.podLabels = shared[i % 2];
        ev.podName = i % 9 === 0 ? 'shared-1' : 'shared-2';
      }
      if (i % 5 === 0) ev.podWorkload = undefined;
      if (i % 7 === 0) ev.podWorkloadKind = 'StatefulSet';
      if (i % 11 === 0) ev.podNamespace = 'other';
      add(DecodeStatus.Used, ev);
    }
    const bare = new KernelEvent();
    bare.timeMs = 5;
    add(DecodeStatus.Used, bare);
    const skipped = new KernelEvent();
    skipped.skippedType = 'process_exec';
    add(DecodeStatus.Skipped, skipped);
    skipped.skippedType = 'rate_limit_info';
    add(DecodeStatus.Skipped, skipped, { kind: 'rate_limit', droppedEvents: 7 });
    skipped.skippedType = 'process_throttle';
    add(DecodeStatus.Skipped, skipped, undefined);
    const rejected = new KernelEvent();
    rejected.rejectReason = 'invalid_size';
    rejected.rejectField = 'args[1].size_arg';
    add(DecodeStatus.Rejected, rejected);
    expect(roundTrip([writer.take(0, 0, 0)])).toEqual(expected);
    // Every field a consumer reads is covered: a new KernelEvent field must be carried too.
    const covered = Object.keys(seen(DecodeStatus.Used, fullEvent(1), undefined) as object).filter((k) => k !== 'status');
    expect(new Set([...covered, 'skippedType', 'rejectReason', 'rejectField'])).toEqual(new Set(Object.keys(new KernelEvent())));
  });

  it('number strings once per worker, and start over at the bound without renumbering a waiting batch', () => {
    const writer = new BatchWriter(200);
    const expected: unknown[] = [];
    const batches: DecodedBatch[] = [];
    for (let b = 0; b < 20; b++) {
      for (let i = 0; i < 30; i++) {
        const ev = fullEvent(b * 30 + i);
        writer.add(DecodeStatus.Used, ev);
        expected.push(seen(DecodeStatus.Used, ev, undefined));
      }
      batches.push(writer.take(b, 0, 0));
    }
    expect(batches.some((b) => b.resetTables)).toBe(true);
    // A batch repeats no string an earlier batch (since the last reset) already sent.
    expect(batches[1]!.resetTables).toBe(false);
    expect(batches[1]!.strings).not.toContain('prod');
    expect(batches.filter((b) => b.resetTables).every((b) => b.strings.includes('prod'))).toBe(true);
    expect(roundTrip(batches)).toEqual(expected);
  });
});
