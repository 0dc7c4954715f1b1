/**
 * The pipeline, one direction: source → decode → enrich → aggregate → sink, composed
 * with rxjs at the granularity of input chunks (about a megabyte, hundreds of events):
 * per-event observables would cost more than the work they carry.
 */
import { Observable, concatMap, map, type OperatorFunction } from './rx.ts';
import { DecodeStatus, type KernelEvent } from '../decode/kernel-event.ts';
import { isLossType, type LossSignal } from '../decode/loss-signal.ts';
import type { Resolver } from '../enrich/resolver.ts';
import { accumulateEvent } from '../aggregate/event-accumulator.ts';
import type { WindowAggregator } from '../aggregate/window-aggregator.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import type { EventCounters } from './event-counters.ts';
import type { DecodeStage, DecodedLines } from './decode-stage.ts';

export interface EventStages {
  /** Splits and decodes the chunks, in this thread or in workers (decode-stage.ts). */
  decoding: DecodeStage;
  resolver: Resolver;
  aggregator: WindowAggregator;
  counters: EventCounters;
  /**
   * Updated after every chunk's lines: the stream offset past the last complete line read,
   * which a checkpoint needs for windows closed outside this operator (wall clock).
   */
  progress?: StreamProgress;
  /**
   * Sees every non-empty batch the moment it is closed (the aggregator still in the
   * state that produced it) and returns the batch to write: the daemon's cardinality
   * guard and checkpoint marks. Replay leaves it out.
   */
  finishBatch?: (points: MetricPoint[]) => MetricPoint[];
  /**
   * At the end, drop a last line without newline instead of decoding it: a followed
   * file's writer may not have finished it, and a restart reads it again whole.
   */
  dropUnterminatedLine?: boolean;
  /**
   * At the end, write the open windows one window time at a time, each after the sink
   * took the previous: replay's spilled windows are read back one by one.
   */
  closeInTurn?: Backpressure;
  /**
   * The daemon's clock-skew rule: the latest event time accepted, read once per chunk
   * (the wall clock plus `--max-clock-skew`). A later event is rejected as
   * `time_in_future` before it reaches the aggregator, so it never moves a watermark.
   */
  latestTimeMs?: () => number;
}

export interface StreamProgress {
  linesEnd: number;
}

/** Lets a source wait while the sink is behind, so memory stays bounded. */
export class Backpressure {
  private inflight = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly maxInflight = 2) {}

  /**
   * Counts a batch from the moment it is emitted until the sink took it; returns the
   * call that ends it. Counting at emission, not when its write starts, is what makes a
   * stalled sink stop the source: writes run one at a time, so batches wait in line.
   */
  enter(): () => void {
    this.inflight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inflight--;
      if (this.inflight < this.maxInflight) for (const w of this.waiters.splice(0)) w();
    };
  }

  ready(): Promise<void> {
    if (this.inflight < this.maxInflight) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** What a source waits for before its next chunk. */
export interface Gate {
  ready(): Promise<void>;
}

/** Chunks of an async byte stream, pulled only when downstream keeps up (every gate open). */
export function chunksFrom(chunks: AsyncIterable<Buffer>, ...gates: Gate[]): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    let stopped = false;
    (async () => {
      for await (const chunk of chunks) {
        if (stopped) return;
        subscriber.next(chunk);
        for (const gate of gates) await gate.ready();
      }
      subscriber.complete();
    })().catch((err: unknown) => subscriber.error(err));
    return () => {
      stopped = true;
    };
  });
}

/** Tetragon's report of events it dropped (rare lines, read off the hot path). */
function countLoss(counters: EventCounters, signal: LossSignal): void {
  if (!signal) counters.unreadableLossSignals++;
  else if (signal.kind === 'rate_limit') counters.addLost('rate_limit', signal.droppedEvents);
  else if (signal.start) counters.throttles++;
}

/** Decode, enrich and aggregate: chunks in, the points of each window as it closes out. */
export function eventsToWindows(stages: EventStages): OperatorFunction<Buffer, MetricPoint[]> {
  const { decoding, resolver, aggregator, counters, progress } = stages;
  const finish = stages.finishBatch ?? ((points: MetricPoint[]) => points);
  return (chunks$) =>
    new Observable<MetricPoint[]>((subscriber) => {
      const latestTimeOf = stages.latestTimeMs;
      let latestTimeMs = Infinity;
      const onLine = (status: DecodeStatus, ev: KernelEvent, loss: LossSignal): void => {
        counters.read++;
        if (status === DecodeStatus.Used && ev.timeMs > latestTimeMs) {
          counters.reject('time_in_future');
        } else if (status === DecodeStatus.Used) {
          counters.used++;
          accumulateEvent(ev, resolver, aggregator);
        } else if (status === DecodeStatus.Skipped) {
          counters.skip(ev.skippedType);
          if (isLossType(ev.skippedType)) countLoss(counters, loss);
        } else {
          counters.reject(ev.rejectReason);
        }
      };
      const syncLineCounters = (lines: DecodedLines): void => {
        // Oversized lines never reach the decoder; count them as read and rejected here.
        for (let n = lines.oversized; n > 0; n--) {
          counters.read++;
          counters.reject('line_too_long');
        }
        counters.late = aggregator.lateEvents;
        counters.windowSpills = aggregator.spills;
      };
      /** A chunk's lines, decoded: into the windows; what closed goes out. */
      const deliver = (lines: DecodedLines): void => {
        if (latestTimeOf) latestTimeMs = latestTimeOf();
        lines.visit(onLine);
        if (progress) progress.linesEnd = lines.linesEnd;
        syncLineCounters(lines);
        const ready = aggregator.closeReady();
        if (ready.length) subscriber.next(finish(ready));
      };
      const completeAfterInput = async (): Promise<void> => {
        await decoding.end(stages.dropUnterminatedLine ?? false, deliver);
        counters.late = aggregator.lateEvents;
        counters.windowSpills = aggregator.spills;
        const inTurn = stages.closeInTurn;
        if (inTurn) {
          for (const batch of aggregator.closeAllInTurn()) {
            if (batch.length) subscriber.next(finish(batch));
            await inTurn.ready();
          }
        } else {
          const rest = aggregator.closeAll();
          if (rest.length) subscriber.next(finish(rest));
        }
        subscriber.complete();
      };
      return chunks$.subscribe({
        next(chunk) {
          try {
            decoding.push(chunk, deliver);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error(err: unknown) {
          subscriber.error(err);
        },
        complete() {
          completeAfterInput().catch((err: unknown) => subscriber.error(err));
        },
      });
    });
}

/**
 * Writes each batch in order; the source waits while writes are outstanding.
 * `acknowledged` runs after the sink accepted a batch, before the next is written.
 */
export function intoSink(
  sink: MetricSink,
  backpressure: Backpressure,
  counters: EventCounters,
  acknowledged?: (points: MetricPoint[]) => Promise<void>,
): OperatorFunction<MetricPoint[], void> {
  return (batches$) =>
    batches$.pipe(
      map((points) => ({ points, leave: backpressure.enter() })),
      concatMap(async ({ points, leave }) => {
        try {
          await sink.write(points);
          counters.pointsWritten += points.length;
          if (acknowledged) await acknowledged(points);
        } finally {
          leave();
        }
      }),
    );
}
