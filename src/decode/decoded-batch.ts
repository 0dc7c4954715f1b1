/**
 * Decoded lines as they cross from a decoding worker thread to the main thread
 * (pipeline/decode-stage.ts): one record per line in two typed arrays, which move by
 * transfer, not copy, plus the batch's distinct strings and label sets. Structured
 * cloning a KernelEvent per line instead cost more than decoding it.
 *
 * Strings and label sets are numbered once per worker and sent the first time they
 * occur; the numbering starts over (`resetTables`) at the first batch after it reached
 * MAX_TABLE, as a stream's remote addresses and socket cookies are unbounded.
 */
import { DecodeStatus, KernelEvent, type KernelOp, type RejectReason } from './kernel-event.ts';
import { isLossType, type LossSignal } from './loss-signal.ts';

const OPS: readonly KernelOp[] = ['connect', 'close', 'send', 'recv', 'read', 'write'];
const OP_INDEX: ReadonlyMap<KernelOp, number> = new Map(OPS.map((op, i) => [op, i]));

/** The fields of a line's record in `ints`; strings and label sets are indexes, -1 for undefined. */
const STATUS = 0;
const OP = 1;
const REMOTE_PORT = 2;
const LOCAL_PORT = 3;
const NODE = 4;
const CLUSTER = 5;
const POD_NAMESPACE = 6;
const POD_NAME = 7;
const POD_WORKLOAD = 8;
const POD_WORKLOAD_KIND = 9;
const REMOTE_ADDRESS = 10;
const LOCAL_ADDRESS = 11;
const COOKIE = 12;
const POD_LABELS = 13;
/** skippedType or rejectReason, by status. */
const TYPE = 14;
const REJECT_FIELD = 15;
const INTS = 16;
/** `nums`: timeMs, bytes. */
const NUMS = 2;

export type Labels = Readonly<Record<string, string>>;

/** What a worker posts: the lines of one framed piece of the stream, decoded. */
export interface DecodedBatch {
  /** The piece's place in the stream (pieces are delivered in this order). */
  seq: number;
  lines: number;
  ints: Int32Array<ArrayBuffer>;
  nums: Float64Array<ArrayBuffer>;
  /** The tables start over before this batch's additions. */
  resetTables: boolean;
  /** Strings first used in this batch, numbered on from the table's end. */
  strings: string[];
  /** Label sets first used in this batch, likewise. */
  labels: Labels[];
  /** The signal of each skipped `rate_limit_info` / `process_throttle` line, in line order. */
  losses: LossSignal[];
  /** Lines dropped as too long while split (never decoded). */
  oversized: number;
  /** Lines the fast decoder handed to the reference decoder, in this batch. */
  fallbacks: number;
}

/** Entries a worker's string (or label set) table holds before it starts over. */
export const MAX_TABLE = 1 << 16;

interface PodIds {
  namespace: string | undefined;
  name: string | undefined;
  workload: string | undefined;
  workloadKind: string | undefined;
  namespaceId: number;
  nameId: number;
  workloadId: number;
  workloadKindId: number;
  labelsId: number;
}

/**
 * A worker's numbering of strings (by value) or label sets (by identity: the decoders
 * share one label object per pod, fast-facts.ts): each gets the next number the first
 * time it is met, and is listed for the batch in which that happened.
 */
class Numbering<T> {
  private readonly ids = new Map<T, number>();
  /** Numbered since the last `take`, in number order. */
  private added: T[] = [];

  get size(): number {
    return this.ids.size;
  }

  /** The number of `v`; -1 for undefined. */
  idOf(v: T | undefined): number {
    if (v === undefined) return -1;
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.ids.size;
      this.added.push(v);
      this.ids.set(v, id);
    }
    return id;
  }

  /** What was numbered since the last call. */
  take(): T[] {
    const added = this.added;
    this.added = [];
    return added;
  }

  clear(): void {
    this.ids.clear();
  }
}

/** Builds a batch line by line, in the worker. */
export class BatchWriter {
  /** The tables start over with the next batch (checked between batches, so a batch's ids never change). */
  private reset = false;
  private ints = new Int32Array(INTS * 512);
  private nums = new Float64Array(NUMS * 512);
  private lines = 0;
  private readonly strings = new Numbering<string>();
  private readonly labels = new Numbering<Labels>();
  private losses: LossSignal[] = [];
  /**
   * A pod's numbers, by its label set: the decoders share one immutable pod record (and
   * label object) per pod, so one lookup numbers the five pod fields, checked against
   * the event's strings (a mismatch numbers them one by one).
   */
  private pods = new Map<Labels, PodIds>();

  constructor(private readonly maxTable = MAX_TABLE) {}

  private podIds(ev: KernelEvent, labels: Labels): PodIds {
    const known = this.pods.get(labels);
    if (
      known &&
      known.namespace === ev.podNamespace &&
      known.name === ev.podName &&
      known.workload === ev.podWorkload &&
      known.workloadKind === ev.podWorkloadKind
    )
      return known;
    const ids: PodIds = {
      namespace: ev.podNamespace,
      name: ev.podName,
      workload: ev.podWorkload,
      workloadKind: ev.podWorkloadKind,
      namespaceId: this.strings.idOf(ev.podNamespace),
      nameId: this.strings.idOf(ev.podName),
      workloadId: this.strings.idOf(ev.podWorkload),
      workloadKindId: this.strings.idOf(ev.podWorkloadKind),
      labelsId: this.labels.idOf(labels),
    };
    this.pods.set(labels, ids);
    return ids;
  }

  /** Adds one decoded line; `loss` is the signal of a skipped loss line (isLossType). */
  add(status: DecodeStatus, ev: KernelEvent, loss?: LossSignal): void {
    if ((this.lines + 1) * INTS > this.ints.length) {
      const ints = new Int32Array(this.ints.length * 2);
      ints.set(this.ints);
      this.ints = ints;
      const nums = new Float64Array(this.nums.length * 2);
      nums.set(this.nums);
      this.nums = nums;
    }
    const o = this.lines * INTS;
    const n = this.lines * NUMS;
    this.lines++;
    const ints = this.ints;
    ints[o + STATUS] = status;
    if (status === DecodeStatus.Skipped) {
      ints[o + TYPE] = this.strings.idOf(ev.skippedType);
      if (isLossType(ev.skippedType)) this.losses.push(loss);
      return;
    }
    if (status === DecodeStatus.Rejected) {
      ints[o + TYPE] = this.strings.idOf(ev.rejectReason);
      ints[o + REJECT_FIELD] = this.strings.idOf(ev.rejectField);
      return;
    }
    ints[o + OP] = OP_INDEX.get(ev.op)!;
    ints[o + REMOTE_PORT] = ev.remotePort;
    ints[o + LOCAL_PORT] = ev.localPort;
    ints[o + NODE] = this.strings.idOf(ev.node);
    ints[o + CLUSTER] = this.strings.idOf(ev.cluster);
    const labels = ev.podLabels;
    if (labels !== undefined) {
      const pod = this.podIds(ev, labels);
      ints[o + POD_NAMESPACE] = pod.namespaceId;
      ints[o + POD_NAME] = pod.nameId;
      ints[o + POD_WORKLOAD] = pod.workloadId;
      ints[o + POD_WORKLOAD_KIND] = pod.workloadKindId;
      ints[o + POD_LABELS] = pod.labelsId;
    } else {
      ints[o + POD_NAMESPACE] = this.strings.idOf(ev.podNamespace);
      ints[o + POD_NAME] = this.strings.idOf(ev.podName);
      ints[o + POD_WORKLOAD] = this.strings.idOf(ev.podWorkload);
      ints[o + POD_WORKLOAD_KIND] = this.strings.idOf(ev.podWorkloadKind);
      ints[o + POD_LABELS] = -1;
    }
    ints[o + REMOTE_ADDRESS] = this.strings.idOf(ev.remoteAddress);
    ints[o + LOCAL_ADDRESS] = this.strings.idOf(ev.localAddress);
    ints[o + COOKIE] = this.strings.idOf(ev.cookie);
    this.nums[n] = ev.timeMs;
    this.nums[n + 1] = ev.bytes;
  }

  /** The batch so far, for posting (its arrays are transferred); the writer starts afresh. */
  take(seq: number, oversized: number, fallbacks: number): DecodedBatch {
    const batch: DecodedBatch = {
      seq,
      resetTables: this.reset,
      lines: this.lines,
      ints: this.ints.slice(0, this.lines * INTS),
      nums: this.nums.slice(0, this.lines * NUMS),
      strings: this.strings.take(),
      labels: this.labels.take(),
      losses: this.losses,
      oversized,
      fallbacks,
    };
    this.lines = 0;
    this.losses = [];
    this.reset = this.strings.size >= this.maxTable || this.labels.size >= this.maxTable;
    if (this.reset) {
      this.strings.clear();
      this.labels.clear();
      this.pods.clear();
    }
    return batch;
  }
}

/** Sees each line of a batch, in order: its status, the event (reused), and a loss line's signal. */
export type DecodedLineVisitor = (status: DecodeStatus, ev: KernelEvent, loss: LossSignal) => void;

/**
 * A worker's tables as the main thread holds them: what its batches' numbers refer to.
 * Only ever appended to; a batch that starts the numbering over gets new tables, so a
 * batch still waiting to be read keeps the tables it was numbered against.
 */
export class BatchTables {
  readonly strings: string[] = [];
  readonly labels: Labels[] = [];

  /** The tables to read `batch` with, its additions taken; call once per batch, in the order the worker posted them. */
  static after(tables: BatchTables, batch: DecodedBatch): BatchTables {
    const next = batch.resetTables ? new BatchTables() : tables;
    for (const s of batch.strings) next.strings.push(s);
    for (const l of batch.labels) next.labels.push(l);
    return next;
  }
}

/** Replays a batch's lines into `ev`, one after another, on the main thread (its tables already added). */
export function readBatch(batch: DecodedBatch, tables: BatchTables, ev: KernelEvent, visit: DecodedLineVisitor): void {
  const { ints, nums } = batch;
  const { strings, labels } = tables;
  const str = (i: number): string | undefined => (i < 0 ? undefined : strings[i]);
  let lossAt = 0;
  for (let line = 0; line < batch.lines; line++) {
    const o = line * INTS;
    const status = ints[o + STATUS] as DecodeStatus;
    if (status === DecodeStatus.Skipped) {
      ev.skippedType = strings[ints[o + TYPE]!]!;
      visit(status, ev, isLossType(ev.skippedType) ? batch.losses[lossAt++] : undefined);
      continue;
    }
    if (status === DecodeStatus.Rejected) {
      ev.rejectReason = strings[ints[o + TYPE]!] as RejectReason;
      ev.rejectField = strings[ints[o + REJECT_FIELD]!]!;
      visit(status, ev, undefined);
      continue;
    }
    const n = line * NUMS;
    ev.op = OPS[ints[o + OP]!]!;
    ev.remotePort = ints[o + REMOTE_PORT]!;
    ev.localPort = ints[o + LOCAL_PORT]!;
    ev.node = str(ints[o + NODE]!);
    ev.cluster = str(ints[o + CLUSTER]!);
    ev.podNamespace = str(ints[o + POD_NAMESPACE]!);
    ev.podName = str(ints[o + POD_NAME]!);
    ev.podWorkload = str(ints[o + POD_WORKLOAD]!);
    ev.podWorkloadKind = str(ints[o + POD_WORKLOAD_KIND]!);
    ev.remoteAddress = strings[ints[o + REMOTE_ADDRESS]!]!;
    ev.localAddress = strings[ints[o + LOCAL_ADDRESS]!]!;
    ev.cookie = str(ints[o + COOKIE]!);
    const l = ints[o + POD_LABELS]!;
    ev.podLabels = l < 0 ? undefined : labels[l];
    ev.timeMs = nums[n]!;
    ev.bytes = nums[n + 1]!;
    ev.skippedType = '';
    ev.rejectField = '';
    visit(status, ev, undefined);
  }
}
