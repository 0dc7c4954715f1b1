/**
 * Sums per window and series. Each node has its own event-time watermark: one node's
 * export is in time order, but a replay of several nodes' exports one after another is
 * not, and a single watermark would close the second node's windows too early.
 *
 * A window closes when its node's watermark passes its end plus the allowed lateness.
 * An event for a window that has already closed is counted as late and added to the
 * node's oldest open window, so totals are never lost.
 *
 * Windows are fixed (`windowMs`) or dynamic (`dynamic`, see dynamic-windows.ts). The
 * fixed path is the replay's hot loop: per event it does what it always did, plus one
 * well-predicted test of `dynamic`.
 */
import type { Series } from '../core/series.ts';
import type { MetricPoint } from '../core/metric-point.ts';
import type { DynamicWindows, DynamicWindowsState } from './dynamic-windows.ts';
import { describeRungs } from './dynamic-windows.ts';
import type { FieldSchema } from './field-schema.ts';
import { windowStart } from './window.ts';

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
}

/**
 * Everything the aggregator holds, as plain JSON: what a checkpoint stores so that a
 * restarted daemon continues the open windows instead of rewriting them half-full.
 * Watermarks and `closedBefore` are kept too: they decide which later events are late
 * and when windows close, and the restart must decide exactly as the first run did.
 */
export interface AggregatorState {
  /** Fixed windows: their length; dynamic: the shortest length. */
  windowMs: number;
  /** Dynamic windows only: the schedule of lengths and the controller's state. */
  dynamic?: DynamicWindowsState;
  /** Field schemas, referred to by index from the slots. */
  schemas: Array<{ ints: string[]; floats: string[] }>;
  nodes: Array<{
    node: string;
    /** null for -Infinity (JSON has no infinities). */
    watermark: number | null;
    closedBefore: number | null;
    windows: Array<{ start: number; slots: Array<{ measurement: string; tags: Record<string, string>; key: string; schema: number; values: number[] }> }>;
  }>;
}

export type AggregatorOptions = FixedWindowOptions | DynamicWindowOptions;

interface CommonOptions {
  /** Infinity keeps every window open until closeAll (replay's default: exact whatever the order). */
  latenessMs: number;
  /**
   * A bound on the (window, series) slots held open: beyond it the oldest windows are
   * closed early (and later events for them count as late), so memory stays bounded
   * however long the input is. Undefined for no bound.
   */
  maxOpenSlots?: number;
}

export interface FixedWindowOptions extends CommonOptions {
  windowMs: number;
}

export interface DynamicWindowOptions extends CommonOptions {
  dynamic: DynamicWindows;
}

/** For messages: "10000 ms" or "dynamic (10s, 20s, 1m)". */
export function describeWindows(state: Pick<AggregatorState, 'windowMs' | 'dynamic'>): string {
  return state.dynamic ? `dynamic (${describeRungs(state.dynamic.rungs)})` : `${state.windowMs} ms long`;
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
  /** Events whose window had already closed (added to the oldest open window). */
  lateEvents = 0;
  /** Windows closed before their time because of `maxOpenSlots`. */
  windowsClosedEarly = 0;

  /** Fixed windows' length; NaN with dynamic windows (never read then). */
  private readonly fixedMs: number;
  private readonly dynamic: DynamicWindows | undefined;
  private readonly latenessMs: number;

  constructor(options: AggregatorOptions) {
    this.latenessMs = options.latenessMs;
    this.maxOpenSlots = options.maxOpenSlots;
    if ('dynamic' in options) {
      this.dynamic = options.dynamic;
      this.fixedMs = NaN;
      return;
    }
    if (!(options.windowMs > 0) || !Number.isInteger(options.windowMs)) {
      throw new RangeError(`window must be a positive whole number of milliseconds, got ${options.windowMs}`);
    }
    this.dynamic = undefined;
    this.fixedMs = options.windowMs;
  }

  /** The length of the window that holds `timeMs`. */
  windowLengthAt(timeMs: number): number {
    return this.dynamic === undefined ? this.fixedMs : this.dynamic.lengthAt(timeMs);
  }

  /** The windows as checkpoints and messages describe them. */
  get windowsDescription(): string {
    return this.dynamic === undefined ? `${this.fixedMs} ms long` : describeWindows({ windowMs: this.dynamic.shortestMs, dynamic: this.dynamic.snapshot() });
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
    let start = this.dynamic === undefined ? windowStart(timeMs, this.fixedMs) : this.dynamic.startFor(timeMs);
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
        if (this.dynamic !== undefined) this.dynamic.created(start);
      }
      nw.lastStart = start;
      nw.lastSlots = slots;
    }
    let slot = slots!.get(series.key);
    if (!slot) {
      slot = { series, schema, values: new Array<number>(schema.ints.length + schema.floats.length).fill(0) };
      slots!.set(series.key, slot);
      this.openSlots++;
    }
    nw.lastSeries = series;
    nw.lastValues = slot.values;
    return slot.values;
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
          out.push({ measurement: slot.series.measurement, tags: { ...slot.series.tags }, key: slot.series.key, schema, values: [...slot.values] });
        }
        windows.push({ start, slots: out });
      }
      nodes.push({ node, watermark: finiteOrNull(nw.watermark), closedBefore: finiteOrNull(nw.closedBefore), windows });
    }
    if (this.dynamic !== undefined) return { windowMs: this.dynamic.shortestMs, dynamic: this.dynamic.snapshot(), schemas, nodes };
    return { windowMs: this.fixedMs, schemas, nodes };
  }

  /**
   * Replaces the state with a snapshot (at startup, before any event). Refuses a
   * snapshot of other windows: its windows would overlap this run's.
   */
  restore(state: AggregatorState): void {
    if (this.dynamic === undefined ? state.dynamic !== undefined || state.windowMs !== this.fixedMs : state.dynamic === undefined) {
      throw new RangeError(`the saved windows are ${describeWindows(state)}, this aggregator's ${this.windowsDescription}`);
    }
    if (this.dynamic !== undefined && state.dynamic !== undefined) this.dynamic.restore(state.dynamic);
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
      }
      this.nodes.set(n.node, nw);
    }
  }

  /** Dynamic windows learn of the windows now complete on every node. */
  private settleDynamic(): void {
    if (this.dynamic === undefined) return;
    let oldest = Infinity;
    for (const nw of this.nodes.values()) for (const s of nw.open.keys()) if (s < oldest) oldest = s;
    this.dynamic.settle(oldest);
  }

  private oldestOpen(nw: NodeWindows): number {
    let oldest = Infinity;
    for (const s of nw.open.keys()) if (s < oldest) oldest = s;
    return oldest === Infinity ? nw.closedBefore : oldest;
  }

  /** Points of every window whose node's watermark passed its end plus the lateness. */
  closeReady(): MetricPoint[] {
    const out: MetricPoint[] = [];
    const dynamic = this.dynamic;
    for (const nw of this.nodes.values()) {
      if (dynamic === undefined) {
        const limit = nw.watermark - this.latenessMs - this.fixedMs;
        this.closeWhere(nw, (start) => start <= limit, out);
      } else {
        const limit = nw.watermark - this.latenessMs;
        this.closeWhere(nw, (start) => dynamic.endOf(start) <= limit, out);
      }
    }
    this.settleDynamic();
    this.closeOldestOverBound(out);
    return sortPoints(out);
  }

  /**
   * Over `maxOpenSlots`, closes the oldest windows (over all nodes) until a tenth of the
   * bound is free again, so this does not run for every event once at the bound.
   */
  private closeOldestOverBound(out: MetricPoint[]): void {
    if (this.maxOpenSlots === undefined || this.openSlots <= this.maxOpenSlots) return;
    const target = Math.floor(this.maxOpenSlots * 0.9);
    while (this.openSlots > target) {
      let oldest = Infinity;
      let oldestNode: [string, NodeWindows] | undefined;
      for (const entry of this.nodes) {
        for (const start of entry[1].open.keys()) {
          if (start < oldest) {
            oldest = start;
            oldestNode = entry;
          }
        }
      }
      if (!oldestNode) return;
      this.closeWhere(oldestNode[1], (start) => start === oldest, out);
      this.windowsClosedEarly++;
    }
  }

  /** Closes windows that ended before `nowMs - lateness` in wall-clock time (idle streams). */
  closeBefore(nowMs: number): MetricPoint[] {
    const out: MetricPoint[] = [];
    const dynamic = this.dynamic;
    if (dynamic === undefined) {
      const limit = nowMs - this.latenessMs - this.fixedMs;
      for (const nw of this.nodes.values()) this.closeWhere(nw, (start) => start <= limit, out);
    } else {
      const limit = nowMs - this.latenessMs;
      for (const nw of this.nodes.values()) this.closeWhere(nw, (start) => dynamic.endOf(start) <= limit, out);
    }
    this.settleDynamic();
    return sortPoints(out);
  }

  /** Closes everything (end of input, shutdown). */
  closeAll(): MetricPoint[] {
    const out: MetricPoint[] = [];
    for (const nw of this.nodes.values()) this.closeWhere(nw, () => true, out);
    this.settleDynamic();
    return sortPoints(out);
  }

  private closeWhere(nw: NodeWindows, shouldClose: (start: number) => boolean, out: MetricPoint[]): void {
    for (const [start, slots] of nw.open) {
      if (!shouldClose(start)) continue;
      for (const slot of slots.values()) out.push(toPoint(slot, start));
      nw.open.delete(start);
      this.openCount--;
      this.openSlots -= slots.size;
      let end: number;
      if (this.dynamic === undefined) {
        end = start + this.fixedMs;
      } else {
        end = this.dynamic.endOf(start);
        this.dynamic.windowClosed(start, end, slots.size);
      }
      if (end > nw.closedBefore) nw.closedBefore = end;
      if (nw.lastStart === start) {
        nw.lastStart = NaN;
        nw.lastSlots = undefined;
      }
    }
  }
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function toPoint(slot: Slot, timeMs: number): MetricPoint {
  const { schema, values } = slot;
  const ints: Record<string, number> = {};
  schema.ints.forEach((name, i) => (ints[name] = values[i] ?? 0));
  let floats: Record<string, number> | undefined;
  if (schema.floats.length) {
    floats = {};
    const base = schema.ints.length;
    schema.floats.forEach((name, i) => (floats![name] = values[base + i] ?? 0));
  }
  return { measurement: slot.series.measurement, tags: slot.series.tags, ints, ...(floats ? { floats } : {}), timeMs, key: slot.series.key };
}

/** Deterministic output: by window, then series key. */
function sortPoints(points: MetricPoint[]): MetricPoint[] {
  return points.sort((a, b) => a.timeMs - b.timeMs || ((a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0));
}
