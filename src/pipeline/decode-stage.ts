/**
 * Where the stream's lines are decoded: in this thread, or in worker threads
 * (decode-worker.ts) while this one attributes and aggregates what they decoded before.
 * Either way the pipeline sees the same lines in the same order, chunk by chunk, so
 * everything after decoding — counters, attribution, windows, checkpoints — is one
 * code path (event-pipeline.ts), and a backlog is decoded on every core the agent has.
 *
 * The stream is framed here (sources/line-splitter.ts: a line crossing chunks is
 * completed in this thread), so each piece a worker gets holds whole lines only and the
 * workers need no state of the stream. A piece goes to a worker when it is big enough
 * to be worth the message, or when earlier pieces are still in workers (its lines must
 * wait for theirs anyway); otherwise it is decoded here at once, which keeps a trickle
 * of live events as fast to deliver as before.
 */
import { Worker } from 'node:worker_threads';
import { DecodeStatus, KernelEvent, type LineDecoder } from '../decode/kernel-event.ts';
import { isLossType, readLossSignal, type LossSignal } from '../decode/loss-signal.ts';
import { BatchTables, BatchWriter, readBatch, type DecodedBatch, type DecodedLineVisitor } from '../decode/decoded-batch.ts';
import { createDecoder, type CountingDecoder } from '../decode/default-decoder.ts';
import { isExclusive, releaseChunk } from '../sources/exclusive-chunk.ts';
import { DEFAULT_MAX_LINE_BYTES, LineFramer, emitLine, isBlank, splitLines } from '../sources/line-splitter.ts';

/** The lines of one chunk of the stream, decoded (or decoded as they are visited). */
export interface DecodedLines {
  /** Calls `visit` for every non-blank line, in order. Once. */
  visit(visit: DecodedLineVisitor): void;
  /** The stream offset past the chunk's last complete line (a checkpoint resumes there). */
  readonly linesEnd: number;
  /** After visit: lines dropped as too long, never decoded. */
  readonly oversized: number;
}

export type DeliverLines = (lines: DecodedLines) => void;

/**
 * One line through the decoder: -1 for a blank line (not a line at all), else its
 * status, with `ev` holding the result. The one per-line rule of every thread.
 */
export function decodeLine(decoder: LineDecoder, buf: Buffer, start: number, end: number, ev: KernelEvent): DecodeStatus | -1 {
  if (start === end || ((buf[start] === 0x20 || buf[start] === 0x09) && isBlank(buf, start, end))) return -1;
  return decoder.decode(buf, start, end, ev);
}

/** A skipped line's loss signal (rare lines, read off the hot path), else undefined. */
function lossOf(status: DecodeStatus, ev: KernelEvent, buf: Buffer, start: number, end: number): LossSignal {
  return status === DecodeStatus.Skipped && isLossType(ev.skippedType) ? readLossSignal(buf.toString('utf8', start, end)) : undefined;
}

/** A framed piece of the stream: an optional head line (no newline), then a body of whole lines. */
export interface Piece {
  head: Buffer | undefined;
  body: Buffer | undefined;
  bodyStart: number;
  bodyEnd: number;
}

/** Decodes the lines of framed pieces, in whichever thread it lives. */
export class PieceDecoder {
  private readonly ev = new KernelEvent();
  private visitor: DecodedLineVisitor = () => undefined;
  private readonly onLine = (buf: Buffer, start: number, end: number): void => {
    const status = decodeLine(this.decoder, buf, start, end, this.ev);
    if (status >= 0) this.visitor(status as DecodeStatus, this.ev, lossOf(status as DecodeStatus, this.ev, buf, start, end));
  };

  constructor(
    readonly decoder: CountingDecoder = createDecoder(),
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /** Visits the piece's lines in order; returns how many were dropped as too long. */
  decode(piece: Piece, visit: DecodedLineVisitor): number {
    this.visitor = visit;
    let oversized = 0;
    if (piece.head) oversized += emitLine(this.onLine, this.maxLineBytes, piece.head, 0, piece.head.length);
    if (piece.body) oversized += splitLines(this.onLine, this.maxLineBytes, piece.body, piece.bodyStart, piece.bodyEnd);
    return oversized;
  }
}

/** What the main thread posts to a worker: a piece, numbered. */
export interface PieceMessage {
  seq: number;
  head: Uint8Array | undefined;
  body: Uint8Array | undefined;
  bodyStart: number;
  bodyEnd: number;
}

/** What a worker posts back: a piece's batch, and the memory of the piece's body (the main thread's to reuse). */
export interface BatchMessage {
  batch: DecodedBatch;
  memory: ArrayBuffer | undefined;
}

/** What a worker is started with. */
export interface DecodeWorkerData {
  maxLineBytes: number;
}

export interface DecodeStageOptions {
  /** Worker threads decoding; 0 decodes in this thread. */
  threads: number;
  maxLineBytes?: number;
  /** The worker's entry (tests give one that fails); default decode-worker.ts. */
  workerEntry?: URL;
}

/** Pieces a worker holds at most: one it decodes, one queued. */
const PIECES_PER_WORKER = 2;

/** Below this, a piece is decoded here when nothing is pending: a message costs about as much as its lines. */
const MIN_WORKER_BYTES = 64 * 1024;

interface Pending {
  deliver: DeliverLines;
  /** The source's chunk whose memory the worker holds (sources/exclusive-chunk.ts), to release when it comes back. */
  lent: Buffer | undefined;
  linesEnd: number;
  oversized: number;
  batch: DecodedBatch | undefined;
  tables: BatchTables | undefined;
}

/** A batch decoded by a worker, delivered. */
class WorkerLines implements DecodedLines {
  constructor(
    private readonly batch: DecodedBatch,
    private readonly tables: BatchTables,
    private readonly ev: KernelEvent,
    readonly linesEnd: number,
    readonly oversized: number,
  ) {}

  visit(visit: DecodedLineVisitor): void {
    readBatch(this.batch, this.tables, this.ev, visit);
  }
}

const NO_PIECE: Piece = { head: undefined, body: undefined, bodyStart: 0, bodyEnd: 0 };

/** A piece decoded in this thread as it is visited. */
class LocalLines implements DecodedLines {
  piece: Piece = NO_PIECE;
  linesEnd = 0;
  oversized = 0;

  constructor(private readonly decoder: PieceDecoder) {}

  visit(visit: DecodedLineVisitor): void {
    this.oversized += this.decoder.decode(this.piece, visit);
  }
}

/** The worker's entry: the compiled one beside this module in dist/, or the source when this runs from src/. */
const WORKER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js', import.meta.url);

/**
 * The variable naming the module that lets a worker import TypeScript: set by the tests,
 * which run the sources (test/support/ts-loader.ts). Node 20 neither runs .ts nor carries
 * the parent's loader hooks into a worker, and vitest's transform does not reach it.
 */
export const TS_LOADER_ENV = 'KOVENANT_TS_LOADER';

/** Starts a worker on `entry`; a TypeScript entry registers the loader of TS_LOADER_ENV first (the compiled build never does). */
function startWorker(entry: URL, workerData: DecodeWorkerData): Worker {
  // None of this process's node options (a worker would inherit them: `--import` hooks, a
  // profiler); the compiled worker maps its own stack traces (telemetry/stack-traces.ts).
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData, execArgv: [] });
  const loader = process.env[TS_LOADER_ENV];
  if (!loader)
    throw new Error(`${entry.pathname}: a TypeScript worker entry needs ${TS_LOADER_ENV} (the module whose register() loads .ts)`);
  const boot = `import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

export class DecodeStage {
  private readonly framer: LineFramer;
  private readonly local: PieceDecoder;
  private readonly localLines: LocalLines;
  private readonly ev = new KernelEvent();
  private readonly workers: Worker[] = [];
  /** Pieces each worker holds (decoding or queued). */
  private readonly inWorker: number[] = [];
  /** This thread's own batches: pieces it decodes ahead while every worker is full. */
  private readonly aheadWriter = new BatchWriter();
  private aheadTables = new BatchTables();
  private readonly addAhead = this.aheadWriter.add.bind(this.aheadWriter);
  private seq = 0;
  /** Pieces in workers or waiting for earlier ones, in stream order. */
  private readonly pending = new Map<number, Pending>();
  private firstPending = 0;
  private failure: Error | undefined;
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private workerFallbacks = 0;
  /** Pieces decoded by workers, and in this thread. */
  piecesInWorkers = 0;
  piecesHere = 0;
  private readonly maxPending: number;
  private closing = false;

  constructor(options: DecodeStageOptions) {
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.framer = new LineFramer(maxLineBytes);
    this.local = new PieceDecoder(createDecoder(), maxLineBytes);
    this.localLines = new LocalLines(this.local);
    // Two pieces a worker (one decoding, one queued, so that it never waits for this
    // thread), and two this thread decoded ahead: memory stays at a few chunks.
    this.maxPending = PIECES_PER_WORKER * options.threads + 2;
    if (options.threads > 0) {
      const entry = options.workerEntry ?? WORKER_ENTRY;
      const workerData: DecodeWorkerData = { maxLineBytes };
      for (let i = 0; i < options.threads; i++) {
        const worker = startWorker(entry, workerData);
        let tables = new BatchTables();
        worker.on('message', ({ batch, memory }: BatchMessage) => {
          this.inWorker[i]!--;
          const lent = this.pending.get(batch.seq)?.lent;
          if (lent && memory) releaseChunk(lent, memory);
          // In the order this worker posted: its tables grow batch by batch.
          tables = BatchTables.after(tables, batch);
          this.workerFallbacks += batch.fallbacks;
          this.decoded(batch, tables);
        });
        worker.on('error', (err) => this.fail(new Error(`a decoding thread failed: ${err.message}`, { cause: err })));
        worker.on('exit', (code) => {
          if (!this.closing) this.fail(new Error(`a decoding thread exited (code ${code})`));
        });
        // Referenced only while it holds pieces: an idle worker must not keep the process alive.
        worker.unref();
        this.workers.push(worker);
        this.inWorker.push(0);
      }
    }
  }

  /** Lines the fast decoder handed to the reference decoder, in all threads. */
  get fallbacks(): number {
    return this.local.decoder.fallbacks + this.workerFallbacks;
  }

  /** Takes the next chunk; `deliver` sees its lines, now or later, always in stream order. */
  push(chunk: Buffer, deliver: DeliverLines): void {
    if (this.failure) throw this.failure;
    const framer = this.framer;
    const before = framer.oversized;
    const head = framer.push(chunk);
    const oversized = framer.oversized - before;
    const hasBody = framer.bodyEnd > framer.bodyStart;
    const size = hasBody ? framer.bodyEnd - framer.bodyStart : 0;
    const here: Piece = { head, body: hasBody ? chunk : undefined, bodyStart: framer.bodyStart, bodyEnd: framer.bodyEnd };
    let moved = false;
    if (this.workers.length === 0 || (this.pending.size === 0 && size < MIN_WORKER_BYTES)) {
      this.deliverHere(here, framer.linesEnd, oversized, deliver);
    } else {
      const worker = this.leastBusyWorker();
      // Every worker is full: rather than wait, decode it here (its lines still wait for
      // the earlier pieces'), which also covers the workers' start-up.
      if (this.inWorker[worker]! >= PIECES_PER_WORKER) this.decodeAhead(here, framer.linesEnd, oversized, deliver);
      else moved = this.toWorker(worker, here, size, framer.linesEnd, oversized, deliver);
    }
    // Unless its memory moved to a worker (released when it comes back), the chunk is done
    // with now (the framer copied what it keeps): the source may read into it again.
    if (!moved) releaseChunk(chunk);
  }

  /** Posts `piece` to `worker`; whether the chunk's memory moved with it (else its body was copied). */
  private toWorker(worker: number, piece: Piece, size: number, linesEnd: number, oversized: number, deliver: DeliverLines): boolean {
    const chunk = piece.body;
    let body: Uint8Array | undefined;
    let transfer: ArrayBuffer[] = [];
    if (chunk) {
      // A chunk the source gave up (sources/exclusive-chunk.ts) moves without a copy.
      if (size >= MIN_WORKER_BYTES && isExclusive(chunk) && chunk.buffer instanceof ArrayBuffer) {
        body = chunk;
        transfer = [chunk.buffer];
      } else {
        // A copy: the source may reuse the chunk's memory once push returns.
        body = new Uint8Array(chunk.subarray(piece.bodyStart, piece.bodyEnd));
        transfer = [body.buffer as ArrayBuffer];
      }
    }
    const lent = body === chunk ? chunk : undefined;
    const message: PieceMessage = {
      seq: 0,
      head: piece.head,
      body,
      bodyStart: lent ? piece.bodyStart : 0,
      bodyEnd: lent ? piece.bodyEnd : size,
    };
    this.send(worker, message, transfer, lent, linesEnd, oversized, deliver);
    return lent !== undefined;
  }

  /**
   * The input ended: the last line without a newline is delivered too, unless dropped.
   * Resolves once every line was delivered; rejects if decoding failed.
   */
  async end(dropUnterminatedLine: boolean, deliver: DeliverLines): Promise<void> {
    if (this.failure) throw this.failure;
    const last = this.framer.end();
    if (last && !dropUnterminatedLine) {
      const piece: Piece = { head: last, body: undefined, bodyStart: 0, bodyEnd: 0 };
      if (this.pending.size === 0) this.deliverHere(piece, this.framer.linesEnd, 0, deliver);
      else this.decodeAhead(piece, this.framer.linesEnd, 0, deliver);
    }
    while (this.pending.size > 0) await this.waitForProgress();
  }

  /** Resolves when the stage takes another chunk without holding more in memory; rejects if decoding failed. */
  async ready(): Promise<void> {
    while (this.pending.size >= this.maxPending && this.maxPending > 0) await this.waitForProgress();
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private deliverHere(piece: Piece, linesEnd: number, oversized: number, deliver: DeliverLines): void {
    const lines = this.localLines;
    lines.piece = piece;
    lines.linesEnd = linesEnd;
    lines.oversized = oversized;
    this.piecesHere++;
    deliver(lines);
    lines.piece = NO_PIECE;
  }

  private leastBusyWorker(): number {
    let best = 0;
    for (let i = 1; i < this.inWorker.length; i++) if (this.inWorker[i]! < this.inWorker[best]!) best = i;
    return best;
  }

  private send(
    worker: number,
    message: PieceMessage,
    transfer: ArrayBuffer[],
    lent: Buffer | undefined,
    linesEnd: number,
    oversized: number,
    deliver: DeliverLines,
  ): void {
    const seq = this.seq++;
    message.seq = seq;
    this.piecesInWorkers++;
    this.inWorker[worker]!++;
    this.pending.set(seq, { deliver, lent, linesEnd, oversized, batch: undefined, tables: undefined });
    const w = this.workers[worker]!;
    w.ref();
    w.postMessage(message, transfer);
  }

  /** Decodes a piece here into a batch that waits, like a worker's, for the pieces before it. */
  private decodeAhead(piece: Piece, linesEnd: number, oversized: number, deliver: DeliverLines): void {
    const seq = this.seq++;
    this.piecesHere++;
    const dropped = this.local.decode(piece, this.addAhead);
    // Fallbacks of this thread's decoder are counted by `fallbacks` already.
    const batch = this.aheadWriter.take(seq, dropped, 0);
    this.aheadTables = BatchTables.after(this.aheadTables, batch);
    this.pending.set(seq, { deliver, lent: undefined, linesEnd, oversized, batch: undefined, tables: undefined });
    this.decoded(batch, this.aheadTables);
  }

  private decoded(batch: DecodedBatch, tables: BatchTables): void {
    const entry = this.pending.get(batch.seq);
    if (!entry) return;
    entry.batch = batch;
    entry.tables = tables;
    // In stream order: a piece decoded early waits for the ones before it.
    for (let next = this.pending.get(this.firstPending); next?.batch; next = this.pending.get(this.firstPending)) {
      this.pending.delete(this.firstPending);
      this.firstPending++;
      try {
        next.deliver(new WorkerLines(next.batch, next.tables!, this.ev, next.linesEnd, next.oversized + next.batch.oversized));
      } catch (err) {
        this.fail(err as Error);
        return;
      }
    }
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    this.wake();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.workers) w.unref();
    this.wake();
  }

  private waitForProgress(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (this.failure) w.reject(this.failure);
      else w.resolve();
    }
  }
}
