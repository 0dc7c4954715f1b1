/**
 * Sums per window and series. Each node has its own event-time watermark: one node's
 * export is in time order, but a replay of several nodes' exports one after another is
 * not, and a single watermark would close the second node's windows too early.
 *
 * A window closes when its node's watermark passes its end plus the allowed lateness.
 * An event for a window that has already closed is counted as late and added to the
 * node's oldest open window, so totals are never lost.
 *
 * Which window an event belongs to is the `WindowSchedule`'s to say: fixed windows
 * (`windowMs`, window.ts) or dynamic ones (`dynamic`, dynamic-windows.ts). The
 * aggregator keeps the windows' sums and the clocks, the same for both.
 */
import type { Series } from '../core/series.ts';
import type { MetricPoint } from '../core/metric-point.ts';
import type { AggregatorState } from './aggregator-state.ts';
import type { DynamicWindows } from './dynamic-windows.ts';
import type { FieldSchema } from './field-schema.ts';
import { FixedWindows } from './window.ts';
import { finiteOrNull, type WindowSchedule } from './window-schedule.ts';
import { PEER_RANK_FIELDS, foldedTags, guardedPeerOf } from './external-peer-guard.ts';
import { seriesKey } from '../core/series.ts';
import type { SpillRun, WindowSpill } from './window-spill.ts';
import { SeriesOrder } from './series-order.ts';

interface Slot {
  readonly series: Series;
  readonly schema: FieldSchema;
  readonly values: number[];
}

class NodeWindows {
  watermark = -Infinity;
  /** Windows starting before this are closed. */
  closedBefore = -Infinity;
  readonly open = new Map<number, Map<string, Slot>>();
  /** The window the last event went to: consecutive events mostly share it. */
  lastStart = NaN;
  lastSlots: Map<string, Slot> | undefined;
  /** The series the last event went to in that window, and its values. */
  lastSeries: Series | undefined;
  lastValues: number[] | undefined;
  /** Open windows whose earlier sums are in the spill: their runs, by partition. */
  readonly spilled = new Map<number, SpilledWindow>();
  /** With a peer bound: per open window, measurement → external peer → its slots. */
  readonly peers = new Map<number, Map<string, Map<string, Slot[]>>>();
}

/**
 * A spilled window is kept in this many partitions by series key, each read back on its
 * own at the end, so a window of any size is written in parts no larger than a
 * partition: every series is in exactly one, so still once, at the window's time.
 */
const SPILL_PARTITIONS = 16;
/**
 * Spilled windows with fewer points than this are written to and read from the spill
 * whole: reading back a small window in 16 pieces costs 16 reads for nothing. A window
 * that grows past it is partitioned from then on; its earlier, whole runs are then read
 * once per partition, keeping that partition's records only.
 */
const PARTITIONED_FROM = 1024;

/** A run of one partition (`part`), or of the whole window (-1). */
interface PartRun {
  run: SpillRun;
  part: number;
}

interface SpilledWindow {
  /** Points written to the spill so far (a series spilled twice counts twice). */
  records: number;
  runs: PartRun[];
}

/**
 * What the aggregator builds per slot and per point of a schema, made once per schema:
 * a slot's zeros and a point's field objects are copies of these, allocated at their
 * final size and, for the fields, with the template's hidden class. Built up instead (a
 * push per value, a property added per field), they grew their backing stores on the
 * way, and the line encoder's walk over such fields allocated too (7.9 MB in
 * `LineEncoder.point`, none over the copies): a busy-node replay allocated 88 MB instead
 * of 80 (sampling heap profiler, collected objects included), and closing its windows
 * cold took ~10% longer (bench/warm-up.ts, 12 alternating runs).
 */
interface SchemaLayout {
  readonly zeros: readonly number[];
  readonly ints: Readonly<Record<string, number>>;
  readonly floats: Readonly<Record<string, number>> | undefined;
}

const layouts = new WeakMap<FieldSchema, SchemaLayout>();

function layoutOf(schema: FieldSchema): SchemaLayout {
  let layout = layouts.get(schema);
  if (!layout) {
    layout = {
      zeros: doubleZeros(schema.ints.length + schema.floats.length),
      ints: doubleZeroFields(schema.ints),
      floats: schema.floats.length > 0 ? doubleZeroFields(schema.floats) : undefined,
    };
    layouts.set(schema, layout);
  }
  return layout;
}

/**
 * Zeros that V8 stores as doubles, in an array (a slot's sums) and as fields (a point's):
 * the sums become doubles with their first byte count (the decoders' counts are doubles),
 * and storage that started with small integers then moves to double storage: the array
 * once per slot (a busy-node replay's 80,546 times), the fields once per field and
 * schema, each a new hidden class (`--trace-generalization` listed ten in a replay's
 * first closes). Assigned twice, the fields are also mutable from the start.
 */
function doubleZeros(n: number): number[] {
  const zeros = Array.from({ length: n }, () => 0.5);
  zeros.fill(0);
  return zeros;
}

function doubleZeroFields(names: readonly string[]): Record<string, number> {
  const fields: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0.5]));
  for (const name of names) fields[name] = 0;
  return fields;
}

/** The partition of a series key (FNV-1a over its UTF-16 code units). */
function partitionOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SPILL_PARTITIONS;
}

type SpillRecord = [key: string, measurement: string, tags: Readonly<Record<string, string>>, schema: number, values: number[]];

/** Per schema, the value indexes whose sum ranks a peer (PEER_RANK_FIELDS). */
const rankIndexes = new WeakMap<FieldSchema, number[]>();
function rankIndexesOf(schema: FieldSchema): number[] {
  let out = rankIndexes.get(schema);
  if (!out) {
    out = PEER_RANK_FIELDS.map((f) => schema.ints.indexOf(f)).filter((i) => i >= 0);
    rankIndexes.set(schema, out);
  }
  return out;
}

export type AggregatorOptions = FixedWindowOptions | DynamicWindowOptions;

interface CommonOptions {
  /** Infinity keeps every window open until closeAll (replay's default: exact whatever the order). */
  latenessMs: number;
  /**
   * A bound on the (window, series) slots held in memory: beyond it the open windows'
   * sums go to `spill` and stay open, so memory stays bounded however long the input is
   * and every window is still written once, whole, at its own time. Undefined for no bound.
   */
  maxOpenSlots?: number;
  /** Where windows go past `maxOpenSlots` (required with it). */
  spill?: WindowSpill;
  /**
   * The cardinality guard while aggregating (`--max-external-peers`; 0 or undefined: off).
   * Per open window, node and measurement, once `2 × max` external peers have their own
   * series, the `max` with the most bytes so far keep theirs and the others' sums move
   * into one `remote_name=other` series per local party: memory is bounded by the guard,
   * not by the number of distinct peers, and every sum over the other tags is unchanged.
   * A folded peer seen again starts a series of its own from zero.
   */
  maxExternalPeers?: number;
}

export interface FixedWindowOptions extends CommonOptions {
  windowMs: number;
}

export interface DynamicWindowOptions extends CommonOptions {
  dynamic: DynamicWindows;
}

export class WindowAggregator {
  private readonly nodes = new Map<string, NodeWindows>();
  /** The node of the last event: a node's export is one node_name throughout. */
  private lastNodeName: string | undefined;
  private lastNode: NodeWindows | undefined;
  private openCount = 0;
  /** (window, series) slots held in open windows: the aggregator's memory. */
  private openSlots = 0;
  private readonly maxOpenSlots: number | undefined;
  private readonly spill: WindowSpill | undefined;
  /** Schemas of spilled slots, by index (a spill record names its schema by number). */
  private readonly spillSchemas: FieldSchema[] = [];
  private readonly spillSchemaIndex = new Map<FieldSchema, number>();
  /** Times open windows were spilled (each spill writes the oldest windows until half the bound is free). */
  spills = 0;
  /** Events whose window had already closed (added to the oldest open window). */
  lateEvents = 0;
  /** Peers folded into `other` while aggregating (counted each time one is folded). */
  externalPeersFolded = 0;
  private readonly maxExternalPeers: number;

  private readonly windows: WindowSchedule;
  private readonly latenessMs: number;
  /** The series keys' order, kept across batches (series-order.ts). */
  private readonly order = new SeriesOrder();

  constructor(options: AggregatorOptions) {
    this.latenessMs = options.latenessMs;
    this.maxOpenSlots = options.maxOpenSlots;
    this.spill = options.spill;
    if (this.maxOpenSlots !== undefined && this.spill === undefined)
      throw new RangeError('a bound on open points needs a spill for the windows beyond it');
    this.maxExternalPeers = options.maxExternalPeers ?? 0;
    this.windows = 'dynamic' in options ? options.dynamic : new FixedWindows(options.windowMs);
  }

  /** The length of the window that holds `timeMs`. */
  windowLengthAt(timeMs: number): number {
    return this.windows.lengthAt(timeMs);
  }

  /** The windows as checkpoints and messages describe them (see describeWindows). */
  get windowsDescription(): string {
    return this.windows.description;
  }

  /** (window, series) slots held in memory, over all nodes. */
  get openPoints(): number {
    return this.openSlots;
  }

  /** Windows currently open, over all nodes. */
  get openWindows(): number {
    return this.openCount;
  }

  /**
   * The value slots (schema order) of `series` in the window of `timeMs` on `node`, to
   * be incremented by the caller. Also advances the node's watermark.
   */
  slotValues(node: string, timeMs: number, series: Series, schema: FieldSchema): number[] {
    let nw = node === this.lastNodeName ? this.lastNode : this.nodes.get(node);
    if (!nw) {
      nw = new NodeWindows();
      this.nodes.set(node, nw);
    }
    this.lastNodeName = node;
    this.lastNode = nw;
    if (timeMs > nw.watermark) nw.watermark = timeMs;
    let start = this.windows.startFor(timeMs);
    let slots: Map<string, Slot> | undefined;
    if (start === nw.lastStart) {
      if (series === nw.lastSeries) return nw.lastValues!;
      slots = nw.lastSlots;
    } else {
      if (start < nw.closedBefore) {
        this.lateEvents++;
        start = this.oldestOpen(nw);
      }
      slots = nw.open.get(start);
      if (!slots) {
        slots = new Map();
        nw.open.set(start, slots);
        this.openCount++;
        this.windows.created(start);
      }
      nw.lastStart = start;
      nw.lastSlots = slots;
    }
    let slot = slots!.get(series.key);
    if (!slot) {
      slot = { series, schema, values: layoutOf(schema).zeros.slice() };
      if (this.maxExternalPeers > 0) {
        const peer = guardedPeerOf(series.measurement, series.tags);
        if (peer !== undefined) this.trackPeer(nw, start, slots!, slot, peer);
      }
      slots!.set(series.key, slot);
      this.openSlots++;
    }
    nw.lastSeries = series;
    nw.lastValues = slot.values;
    return slot.values;
  }

  /** Registers a new slot of `peer`; first folds the smaller peers when the window has too many. */
  private trackPeer(nw: NodeWindows, start: number, slots: Map<string, Slot>, slot: Slot, peer: string): void {
    let byMeasurement = nw.peers.get(start);
    if (!byMeasurement) nw.peers.set(start, (byMeasurement = new Map()));
    const measurement = slot.series.measurement;
    let byPeer = byMeasurement.get(measurement);
    if (!byPeer) byMeasurement.set(measurement, (byPeer = new Map()));
    const known = byPeer.get(peer);
    if (known) {
      known.push(slot);
      return;
    }
    if (byPeer.size >= 2 * this.maxExternalPeers) this.foldSmallPeers(nw, slots, byPeer);
    byPeer.set(peer, [slot]);
  }

  /**
   * Keeps the `max` peers with the most bytes (ties: the smaller name, as the batch guard
   * ranks) and moves every other peer's sums into its local party's `other` series.
   * Runs once per `max` new peers, so its sort costs O(log max) per new peer.
   */
  private foldSmallPeers(nw: NodeWindows, slots: Map<string, Slot>, byPeer: Map<string, Slot[]>): void {
    const ranked: Array<[string, number]> = [];
    for (const [peer, list] of byPeer) {
      let bytes = 0;
      for (const s of list) for (const i of rankIndexesOf(s.schema)) bytes += s.values[i]!;
      ranked.push([peer, bytes]);
    }
    ranked.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let r = this.maxExternalPeers; r < ranked.length; r++) {
      const peer = ranked[r]![0];
      for (const s of byPeer.get(peer)!) {
        const tags = foldedTags(s.series.tags);
        const key = seriesKey(s.series.measurement, tags);
        let into = slots.get(key);
        if (!into) {
          into = {
            series: { measurement: s.series.measurement, tags, key },
            schema: s.schema,
            values: layoutOf(s.schema).zeros.slice(),
          };
          slots.set(key, into);
          this.openSlots++;
        }
        for (let i = 0; i < s.values.length; i++) into.values[i]! += s.values[i]!;
        slots.delete(s.series.key);
        this.openSlots--;
      }
      byPeer.delete(peer);
      this.externalPeersFolded++;
    }
    // The last event's slot may be one just folded.
    nw.lastSeries = undefined;
    nw.lastValues = undefined;
  }

  /**
   * The newest watermark over the nodes `include` accepts (-Infinity when none): the
   * daemon's lag metric, which must ignore its collectors' wall-clock keys.
   */
  newestWatermark(include: (node: string) => boolean): number {
    let newest = -Infinity;
    for (const [node, nw] of this.nodes) if (include(node) && nw.watermark > newest) newest = nw.watermark;
    return newest;
  }

  /** A deep copy of the open windows and per-node clocks (see AggregatorState). */
  snapshot(): AggregatorState {
    // Only replay spills, and replay keeps no checkpoint.
    for (const nw of this.nodes.values())
      if (nw.spilled.size > 0) throw new Error('open windows were spilled; a snapshot would miss their sums');
    const schemaIndex = new Map<FieldSchema, number>();
    const schemas: AggregatorState['schemas'] = [];
    const nodes: AggregatorState['nodes'] = [];
    for (const [node, nw] of this.nodes) {
      const windows: AggregatorState['nodes'][number]['windows'] = [];
      for (const [start, slots] of nw.open) {
        const out: AggregatorState['nodes'][number]['windows'][number]['slots'] = [];
        for (const slot of slots.values()) {
          let schema = schemaIndex.get(slot.schema);
          if (schema === undefined) {
            schema = schemas.push({ ints: [...slot.schema.ints], floats: [...slot.schema.floats] }) - 1;
            schemaIndex.set(slot.schema, schema);
          }
          // A series' tags never change (series are interned and shared read-only), so the
          // snapshot shares them; only the values go on changing. The daemon takes a
          // snapshot per closed batch (its checkpoint), of every open slot.
          out.push({
            measurement: slot.series.measurement,
            tags: slot.series.tags,
            key: slot.series.key,
            schema,
            values: slot.values.slice(),
          });
        }
        windows.push({ start, slots: out });
      }
      nodes.push({ node, watermark: finiteOrNull(nw.watermark), closedBefore: finiteOrNull(nw.closedBefore), windows });
    }
    return { ...this.windows.state(), schemas, nodes };
  }

  /**
   * Replaces the state with a snapshot (at startup, before any event). Refuses a
   * snapshot of other windows: its windows would overlap this run's.
   */
  restore(state: AggregatorState): void {
    this.windows.restore(state);
    const schemas: FieldSchema[] = state.schemas.map((s) => ({ ints: s.ints, floats: s.floats }));
    this.nodes.clear();
    this.lastNodeName = undefined;
    this.lastNode = undefined;
    this.openCount = 0;
    this.openSlots = 0;
    for (const n of state.nodes) {
      const nw = new NodeWindows();
      nw.watermark = n.watermark ?? -Infinity;
      nw.closedBefore = n.closedBefore ?? -Infinity;
      for (const w of n.windows) {
        const slots = new Map<string, Slot>();
        for (const s of w.slots) {
          const schema = schemas[s.schema];
          if (!schema) throw new RangeError(`saved slot ${s.key} refers to schema ${s.schema}, which the snapshot lacks`);
          slots.set(s.key, { series: { measurement: s.measurement, tags: s.tags, key: s.key }, schema, values: [...s.values] });
        }
        nw.open.set(w.start, slots);
        this.openCount++;
        this.openSlots += slots.size;
        if (this.maxExternalPeers > 0) {
          for (const slot of [...slots.values()]) {
            if (slots.get(slot.series.key) !== slot) continue; // folded by an earlier one
            const peer = guardedPeerOf(slot.series.measurement, slot.series.tags);
            if (peer !== undefined) this.trackPeer(nw, w.start, slots, slot, peer);
          }
        }
      }
      this.nodes.set(n.node, nw);
    }
  }

  /** The oldest window open on any node; Infinity when none is. */
  private readonly oldestOpenStart = (): number => {
    let oldest = Infinity;
    for (const nw of this.nodes.values()) for (const s of nw.open.keys()) if (s < oldest) oldest = s;
    return oldest;
  };

  private oldestOpen(nw: NodeWindows): number {
    let oldest = Infinity;
    for (const s of nw.open.keys()) if (s < oldest) oldest = s;
    return oldest === Infinity ? nw.closedBefore : oldest;
  }

  /** Points of every window whose node's watermark passed its end plus the lateness. */
  closeReady(): MetricPoint[] {
    const out: MetricPoint[] = [];
    for (const nw of this.nodes.values()) this.closeEndedBy(nw, nw.watermark - this.latenessMs, out);
    this.windows.settle(this.oldestOpenStart);
    this.spillOverBound();
    return this.order.sort(out);
  }

  /**
   * Over `maxOpenSlots`, writes the sums of every window in memory to the spill (they
   * stay open, empty in memory), so this runs once per bound's worth of new slots.
   */
  private spillOverBound(): void {
    if (this.maxOpenSlots === undefined || this.openSlots <= this.maxOpenSlots || !this.spill) return;
    // Oldest windows first, down to half the bound: in a stream in time order those are
    // complete and are spilled once; the windows still filling stay in memory, and the
    // next spill is a bound's half of new points away.
    const target = Math.floor(this.maxOpenSlots / 2);
    const windows: Array<[NodeWindows, number]> = [];
    for (const nw of this.nodes.values()) for (const [start, slots] of nw.open) if (slots.size > 0) windows.push([nw, start]);
    windows.sort((a, b) => a[1] - b[1]);
    for (const [nw, start] of windows) {
      if (this.openSlots <= target) break;
      const slots = nw.open.get(start)!;
      let spilled = nw.spilled.get(start);
      if (!spilled) nw.spilled.set(start, (spilled = { records: 0, runs: [] }));
      spilled.records += slots.size;
      const whole = spilled.records < Math.min(PARTITIONED_FROM, target);
      const parts = whole ? [[...slots.values()]] : this.partitions(slots.values());
      for (let p = 0; p < parts.length; p++) {
        const part = parts[p]!;
        if (part.length === 0) continue;
        const records = part.map((slot): SpillRecord => [
          slot.series.key,
          slot.series.measurement,
          slot.series.tags,
          this.spillSchemaOf(slot.schema),
          slot.values,
        ]);
        spilled.runs.push({ run: this.spill.append(JSON.stringify(records)), part: whole ? -1 : p });
      }
      this.openSlots -= slots.size;
      // Cleared in place: `lastSlots` may be this map and stays valid.
      slots.clear();
      nw.peers.delete(start);
      nw.lastSeries = undefined;
      nw.lastValues = undefined;
    }
    this.spills++;
  }

  private spillSchemaOf(schema: FieldSchema): number {
    let i = this.spillSchemaIndex.get(schema);
    if (i === undefined) {
      i = this.spillSchemas.push(schema) - 1;
      this.spillSchemaIndex.set(schema, i);
    }
    return i;
  }

  private partitions(slots: Iterable<Slot>): Slot[][] {
    const parts: Slot[][] = Array.from({ length: SPILL_PARTITIONS }, () => []);
    for (const slot of slots) parts[partitionOf(slot.series.key)]!.push(slot);
    return parts;
  }

  /**
   * Slots in memory plus the sums of the spilled runs read back, added up by series:
   * all of them, or those of partition `part` only.
   */
  private unspill(inMemory: Iterable<Slot>, spilled: SpilledWindow | undefined, part?: number): Map<string, Slot> {
    const merged = new Map<string, Slot>();
    for (const slot of inMemory) merged.set(slot.series.key, slot);
    for (const { run, part: runPart } of spilled?.runs ?? []) {
      if (part !== undefined && runPart !== -1 && runPart !== part) continue;
      const filter = part !== undefined && runPart === -1;
      const records = JSON.parse(this.spill!.read(run)) as SpillRecord[];
      for (const [key, measurement, tags, schemaIndex, values] of records) {
        if (filter && partitionOf(key) !== part) continue;
        const into = merged.get(key);
        if (into) for (let i = 0; i < values.length; i++) into.values[i]! += values[i]!;
        else merged.set(key, { series: { measurement, tags, key }, schema: this.spillSchemas[schemaIndex]!, values });
      }
    }
    return merged;
  }

  /** Closes windows that ended before `nowMs - lateness` in wall-clock time (idle streams). */
  closeBefore(nowMs: number): MetricPoint[] {
    const out: MetricPoint[] = [];
    for (const nw of this.nodes.values()) this.closeEndedBy(nw, nowMs - this.latenessMs, out);
    this.windows.settle(this.oldestOpenStart);
    return this.order.sort(out);
  }

  /**
   * Closes everything one window time at a time, oldest first (every node's window of
   * that time together): with spilled windows, only one is read back at once when the
   * caller waits for each batch to be written.
   */
  *closeAllInTurn(): Generator<MetricPoint[]> {
    for (;;) {
      const oldest = this.oldestOpenStart();
      if (oldest === Infinity) break;
      const holding = [...this.nodes.values()].filter((nw) => nw.open.has(oldest));
      if (holding.some((nw) => (nw.spilled.get(oldest)?.records ?? 0) >= PARTITIONED_FROM)) {
        // A partition at a time, every node's part of it together.
        const parts = holding.map((nw) => this.partitions(nw.open.get(oldest)!.values()));
        const sizes = holding.map(() => 0);
        for (let p = 0; p < SPILL_PARTITIONS; p++) {
          const out: MetricPoint[] = [];
          holding.forEach((nw, n) => {
            const merged = this.unspill(parts[n]![p]!, nw.spilled.get(oldest), p);
            sizes[n]! += merged.size;
            for (const slot of merged.values()) out.push(toPoint(slot, oldest));
          });
          if (out.length) yield this.order.sort(out);
        }
        holding.forEach((nw, n) => this.forget(nw, oldest, sizes[n]!));
        continue;
      }
      const out: MetricPoint[] = [];
      // That window only: a scan of every open window per window time was quadratic in a replay's windows.
      for (const nw of holding) this.closeWindow(nw, oldest, nw.open.get(oldest)!, out);
      yield this.order.sort(out);
    }
    this.windows.settle(this.oldestOpenStart);
  }

  /** Closes everything (end of input, shutdown). */
  closeAll(): MetricPoint[] {
    const out: MetricPoint[] = [];
    for (const nw of this.nodes.values()) this.closeWhere(nw, () => true, out);
    this.windows.settle(this.oldestOpenStart);
    return this.order.sort(out);
  }

  /** Closes the windows of `nw` that end at or before `limit`. */
  private closeEndedBy(nw: NodeWindows, limit: number, out: MetricPoint[]): void {
    // Infinite lateness (replay): nothing ends before the input does, and a scan of every
    // open window after each chunk was ~10 MB of garbage per 338 MB replayed.
    if (limit === -Infinity) return;
    const windows = this.windows;
    this.closeWhere(nw, (start) => windows.endOf(start) <= limit, out);
  }

  private closeWhere(nw: NodeWindows, shouldClose: (start: number) => boolean, out: MetricPoint[]): void {
    for (const [start, open] of nw.open) if (shouldClose(start)) this.closeWindow(nw, start, open, out);
  }

  /** Writes the window `start` of `nw` (its slots `open`, plus what it spilled) to `out`, and forgets it. */
  private closeWindow(nw: NodeWindows, start: number, open: Map<string, Slot>, out: MetricPoint[]): void {
    const spilled = nw.spilled.get(start);
    const slots = spilled ? this.unspill(open.values(), spilled) : open;
    for (const slot of slots.values()) out.push(toPoint(slot, start));
    this.forget(nw, start, slots.size);
  }

  /** The bookkeeping of a window written: `points` is how many it wrote. */
  private forget(nw: NodeWindows, start: number, points: number): void {
    const open = nw.open.get(start);
    if (!open) return;
    nw.open.delete(start);
    nw.spilled.delete(start);
    nw.peers.delete(start);
    this.openCount--;
    this.openSlots -= open.size;
    const end = this.windows.endOf(start);
    this.windows.closed(start, end, points);
    if (end > nw.closedBefore) nw.closedBefore = end;
    if (nw.lastStart === start) {
      nw.lastStart = NaN;
      nw.lastSlots = undefined;
    }
  }
}

function toPoint(slot: Slot, timeMs: number): MetricPoint {
  const { schema, values, series } = slot;
  const layout = layoutOf(schema);
  // Loops and literals rather than forEach: this runs once per point written.
  const ints = { ...layout.ints };
  const names = schema.ints;
  for (let i = 0; i < names.length; i++) ints[names[i]!] = values[i] ?? 0;
  if (layout.floats === undefined) return { measurement: series.measurement, tags: series.tags, ints, timeMs, key: series.key };
  const floats = { ...layout.floats };
  const base = names.length;
  for (let i = 0; i < schema.floats.length; i++) floats[schema.floats[i]!] = values[base + i] ?? 0;
  return { measurement: series.measurement, tags: series.tags, ints, floats, timeMs, key: series.key };
}
