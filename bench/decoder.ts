/**
 * Decoder micro-benchmark: the same realistic ~2 KB lines, in 64 KB chunks as the byte
 * reader hands them over, through
 *   - split + `JSON.parse` (the baseline the issue measures against),
 *   - `ReferenceDecoder`,
 *   - `FastDecoder` (a fresh instance per round, so that its span cache starts cold),
 *   - `skipValue` over each whole line (the validating scan alone: the floor under the
 *     fast decoder, which must validate every byte it does not read).
 * over the example cluster with long-lived processes (consecutive events of
 * a process repeat its `process`/`parent` bytes, as on a real node), the same with four
 * threads per process (`npm run bench`'s busy-node stream: `process` repeats but for
 * `tid`), the same cluster with a distinct process for every event (no reuse: the span
 * cache's worst case, `npm run bench`'s worst stream), and `realisticEventLine` (bigger
 * events, almost no process reuse either).
 * Arms alternate for several rounds and the best round of each is kept, as CPU time, so
 * that other processes on a shared machine disturb the ratios as little as possible.
 *
 *   node --expose-gc --import tsx bench/decoder.ts [lines] [rounds]
 *
 * With KOVENANT_BENCH_DIST=1 the decoders are bundled by build.mjs (into a temp dir) as
 * dist/ bundles them for `bin/kovenant.js`; otherwise the sources, compiled by tsx.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exampleLines } from '../examples/synthetic-cluster.ts';
import type { FastDecoder as FastDecoderClass } from '../src/decode/fast-decoder.ts';
import type { KernelEvent as KernelEventClass, LineDecoder } from '../src/decode/kernel-event.ts';
import type { ReferenceDecoder as ReferenceDecoderClass } from '../src/decode/reference-decoder.ts';
import type * as jsonScanModule from '../src/decode/json-scan.ts';
import { spacedLine } from './export-shapes.ts';
import { filterLine } from './field-filter.ts';
import { realisticEventLine } from './realistic-events.ts';

const DECODE_MODULES = ['fast-decoder', 'kernel-event', 'reference-decoder', 'json-scan'];
/** The four decoder modules bundled by build.mjs into a temp dir, one entry each (their shared code in chunks). */
function bundledDecoders(): string {
  const repo = fileURLToPath(new URL('../', import.meta.url));
  const out = mkdtempSync(join(tmpdir(), 'kovenant-bench-decoders-'));
  execFileSync(process.execPath, [join(repo, 'build.mjs'), out, ...DECODE_MODULES.map((m) => `${m}=src/decode/${m}.ts`)], {
    stdio: 'inherit',
  });
  return pathToFileURL(out).href;
}
const bundled = process.env.KOVENANT_BENCH_DIST === '1';
const from = bundled ? bundledDecoders() : '../src/decode';
const ext = bundled ? 'js' : 'ts';
const { FastDecoder } = (await import(`${from}/fast-decoder.${ext}`)) as { FastDecoder: typeof FastDecoderClass };
const { KernelEvent } = (await import(`${from}/kernel-event.${ext}`)) as { KernelEvent: typeof KernelEventClass };
const { ReferenceDecoder } = (await import(`${from}/reference-decoder.${ext}`)) as { ReferenceDecoder: typeof ReferenceDecoderClass };
const jsonScan = (await import(`${from}/json-scan.${ext}`)) as typeof jsonScanModule;
type FastDecoder = FastDecoderClass;
process.stdout.write(`decoders from ${from}\n`);

const lineCount = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 7);
const CHUNK = 64 * 1024;
const skipValue = jsonScan.skipValue;

/** Splits `text` into chunks of about CHUNK bytes that end on line boundaries. */
function chunked(lines: Iterable<string>): { chunks: Buffer[]; bytes: number; lines: number } {
  const all = Buffer.from([...lines].join('\n') + '\n');
  const chunks: Buffer[] = [];
  let n = 0;
  for (let o = 0; o < all.length;) {
    let e = all.indexOf(10, Math.min(all.length - 1, o + CHUNK));
    if (e < 0) e = all.length - 1;
    chunks.push(Buffer.from(all.subarray(o, e + 1)));
    o = e + 1;
  }
  for (let i = 0; i < all.length; i++) if (all[i] === 10) n++;
  return { chunks, bytes: all.length, lines: n };
}

type Arm = (chunks: Buffer[]) => number;

function eachLine(chunks: Buffer[], f: (buf: Buffer, start: number, end: number) => number): number {
  let n = 0;
  for (const buf of chunks) {
    let s = 0;
    for (;;) {
      const e = buf.indexOf(10, s);
      if (e < 0) break;
      n += f(buf, s, e);
      s = e + 1;
    }
  }
  return n;
}

const jsonParse: Arm = (chunks) =>
  eachLine(chunks, (buf, s, e) => {
    const o = JSON.parse(buf.toString('utf8', s, e)) as Record<string, unknown>;
    return o.process_kprobe === undefined ? 0 : 1;
  });

function decoderArm(decoder: LineDecoder): Arm {
  const out = new KernelEvent();
  return (chunks) => eachLine(chunks, (buf, s, e) => (decoder.decode(buf, s, e, out) === 0 ? 1 : 0));
}

/** A new FastDecoder per round, kept in `last` for its counters. */
function fastArm(last: { decoder: FastDecoder }): Arm {
  return (chunks) => {
    last.decoder = new FastDecoder();
    return decoderArm(last.decoder)(chunks);
  };
}

const scanOnly: Arm = (chunks) => {
  let n = 0;
  for (const buf of chunks) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let s = 0;
    for (;;) {
      const e = buf.indexOf(10, s);
      if (e < 0) break;
      if (skipValue(buf, dv, s, e) === e) n++;
      s = e + 1;
    }
  }
  return n;
};

function cpuSeconds(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

function run(name: string, input: { chunks: Buffer[]; bytes: number; lines: number }): void {
  const last = { decoder: new FastDecoder() };
  const arms: [string, Arm][] = [
    ['split + JSON.parse', jsonParse],
    ['ReferenceDecoder', decoderArm(new ReferenceDecoder())],
    ['FastDecoder', fastArm(last)],
    ['skipValue (validation only)', scanOnly],
  ];
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const [arm, f] of arms) {
      globalThis.gc?.();
      const s = cpuSeconds(() => f(input.chunks));
      best.set(arm, Math.min(best.get(arm) ?? Infinity, s));
    }
  }
  const base = input.lines / best.get('split + JSON.parse')!;
  process.stdout.write(
    `\n${name}: ${input.lines} lines, ${(input.bytes / 1e6).toFixed(1)} MB (~${Math.round(input.bytes / input.lines)} bytes/line), best of ${rounds} rounds (CPU time)\n`,
  );
  process.stdout.write('arm                              events/s    ratio\n');
  for (const [arm] of arms) {
    const rate = input.lines / best.get(arm)!;
    process.stdout.write(`${arm.padEnd(30)} ${rate.toFixed(0).padStart(10)}   ${(rate / base).toFixed(2).padStart(5)}x\n`);
  }
  const fast = last.decoder;
  const spans = fast.spanHits + fast.spanMisses;
  process.stdout.write(
    `FastDecoder (last round) fallbacks: ${fast.fallbacks} of ${fast.decoded} (${(100 * fast.fallbackRate).toFixed(3)}%); ` +
      `process/parent span cache hits: ${fast.spanHits} of ${spans} (${spans === 0 ? 0 : ((100 * fast.spanHits) / spans).toFixed(1)}%)\n`,
  );
}

run(
  'examples/synthetic-cluster.ts exampleLines, long-lived processes (the npm run bench input)',
  chunked(exampleLines(lineCount, 3_600_000, 7)),
);
run(
  'exampleLines, long-lived processes with four threads each (`tid` varies: npm run bench busy-node)',
  chunked(exampleLines(lineCount, 3_600_000, 7, false, 4)),
);
run(
  'examples/synthetic-cluster.ts exampleLines, a distinct process per event (no reuse: npm run bench worst)',
  chunked(exampleLines(lineCount, 3_600_000, 7, true)),
);
run('bench/realistic-events.ts realisticEventLine', chunked(Array.from({ length: lineCount }, (_, i) => realisticEventLine(i))));
// The same events as exported with our Tetragon field filters (install/values/tetragon.yaml),
// and as printed by a Go protobuf build that writes a space after every comma.
run(
  'realisticEventLine, field-filtered (install/values/tetragon.yaml)',
  chunked(Array.from({ length: lineCount }, (_, i) => filterLine(realisticEventLine(i)))),
);
run(
  'exampleLines, long-lived processes, spaced (`, ` after every comma)',
  chunked([...exampleLines(lineCount, 3_600_000, 7)].map(spacedLine)),
);
run(
  'realisticEventLine, field-filtered and spaced',
  chunked(Array.from({ length: lineCount }, (_, i) => spacedLine(filterLine(realisticEventLine(i))))),
);
process.stdout.write(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
