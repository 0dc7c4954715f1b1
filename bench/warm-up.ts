/**
 * How much of a replay is the JIT warming up: one process decodes and accumulates the
 * busy-node stream slice by slice (20 MB each), then writes the windows' points as line
 * protocol, and does it all again with fresh decoder, resolver and windows (the code is now
 * compiled, the data structures are new). The first pass is what every `kovenant` process
 * pays; the second is the same work at full speed.
 *
 * Alone: node --expose-gc --import tsx bench/warm-up.ts EVENTS SNAPSHOT
 * (`KOVENANT_BENCH_ONLY=warmup npm run bench` passes the bench's busy-node stream).
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { accumulateEvent } from '../src/aggregate/event-accumulator.ts';
import { WindowAggregator } from '../src/aggregate/window-aggregator.ts';
import { DecodeStatus, KernelEvent } from '../src/decode/kernel-event.ts';
import { loadSnapshots } from '../src/enrich/metadata/snapshot.ts';
import { Resolver } from '../src/enrich/resolver.ts';
import { PieceDecoder } from '../src/pipeline/decode-stage.ts';
import { LineEncoder } from '../src/sinks/line-protocol-bytes.ts';

const [events, snapshot] = process.argv.slice(2);
if (!events || !snapshot) throw new Error('usage: warm-up.ts EVENTS SNAPSHOT');
const SLICE = 20 << 20;
const SLICES = 4;

/** The first SLICES slices of whole lines (not the whole file: the bench process stays small). */
function slices(): Buffer[] {
  const fd = openSync(events!, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, SLICE * SLICES + (1 << 20));
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const r = readSync(fd, buf, n, size - n, n);
      if (r === 0) break;
      n += r;
    }
    const out: Buffer[] = [];
    let s = 0;
    for (let k = 0; k < SLICES && s < n; k++) {
      const e = buf.lastIndexOf(10, Math.min(n - 1, s + SLICE - 1)) + 1;
      if (e <= s) break;
      out.push(buf.subarray(s, e));
      s = e;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

const store = await loadSnapshots([snapshot]);
const pieces = slices();

function pass(): { decode: number[]; accumulate: number[]; close: number; points: number } {
  const decoder = new PieceDecoder();
  const resolver = new Resolver(store, {});
  const aggregator = new WindowAggregator({ windowMs: 10_000, latenessMs: Infinity });
  const encoder = new LineEncoder();
  const decode: number[] = [];
  const accumulate: number[] = [];
  for (const body of pieces) {
    // Decoded first, accumulated after, so that each stage is timed alone.
    const used: KernelEvent[] = [];
    let t = performance.now();
    decoder.decode({ head: undefined, body, bodyStart: 0, bodyEnd: body.length }, (status, ev) => {
      if (status === DecodeStatus.Used) used.push(Object.assign(new KernelEvent(), ev));
    });
    decode.push(performance.now() - t);
    t = performance.now();
    for (const ev of used) accumulateEvent(ev, resolver, aggregator);
    accumulate.push(performance.now() - t);
  }
  const t = performance.now();
  let points = 0;
  for (const batch of aggregator.closeAllInTurn()) {
    points += batch.length;
    encoder.encode(batch);
  }
  return { decode, accumulate, close: performance.now() - t, points };
}

const ms = (v: number): string => v.toFixed(0).padStart(5);
const rows = ['pass    stage        ' + pieces.map((_, k) => `slice ${k + 1}`.padStart(8)).join('') + '   total'];
for (const name of ['first (cold)', 'second (warm)']) {
  const r = pass();
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  rows.push(`${name.padEnd(14)}decode    ${r.decode.map((v) => ms(v).padStart(8)).join('')} ${ms(sum(r.decode)).padStart(7)}`);
  rows.push(`${''.padEnd(14)}accumulate${r.accumulate.map((v) => ms(v).padStart(8)).join('')} ${ms(sum(r.accumulate)).padStart(7)}`);
  rows.push(`${''.padEnd(14)}close + line protocol (${r.points} points): ${ms(r.close)} ms`);
}
process.stdout.write(`${pieces.length} slices of ~20 MB of ${events}; milliseconds\n${rows.join('\n')}\n`);
