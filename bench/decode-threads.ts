/**
 * What a decoding thread (`--decode-threads 1`) can gain on this machine, decoding only.
 * Two measurements, alternating, best of KOVENANT_BENCH_ROUNDS (default 3):
 *
 * - the busy-node stream through DecodeStage with 0 and with 1 worker, every line visited
 *   and nothing else done with it, so the main thread is free to feed the worker. Reports
 *   the wall clock (a worker's start included) and how many pieces each thread decoded
 *   (the main thread decodes a piece itself when the worker already holds two);
 * - the same file decoded in the main thread by one process alone (`decode` mode, a
 *   child process), then by two such processes at once: how much one decoder slows down
 *   while another runs beside it, which bounds what a second thread can add whatever the
 *   pipeline does.
 *
 * Alone: node --import tsx bench/decode-threads.ts compare EVENTS
 * (`KOVENANT_BENCH_ONLY=threads npm run bench` passes the bench's busy-node stream).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PieceDecoder, DecodeStage, TS_LOADER_ENV, type DecodedLines } from '../src/pipeline/decode-stage.ts';
import { openByteInput } from '../src/sources/byte-input.ts';
import { LineFramer } from '../src/sources/line-splitter.ts';
import { tsLoaderUrl } from '../test/support/ts-loader.ts';

const [mode, events] = process.argv.slice(2);
const ROUNDS = Number(process.env.KOVENANT_BENCH_ROUNDS ?? 3);
const self = fileURLToPath(import.meta.url);
const CHUNK = 1 << 20;

/** One pass through DecodeStage: wall milliseconds and pieces decoded by each thread. */
async function stagePass(file: string, threads: number): Promise<{ ms: number; inWorkers: number; here: number }> {
  const start = performance.now();
  const stage = new DecodeStage({ threads });
  let lines = 0;
  const deliver = (decoded: DecodedLines): void =>
    decoded.visit(() => {
      lines++;
    });
  const input = await openByteInput(file);
  for await (const chunk of input.chunks) {
    stage.push(chunk, deliver);
    await stage.ready();
  }
  await stage.end(false, deliver);
  const ms = performance.now() - start;
  await stage.close();
  if (lines === 0) throw new Error(`${file}: no lines`);
  return { ms, inWorkers: stage.piecesInWorkers, here: stage.piecesHere };
}

/** Decodes the whole file in this thread; prints the milliseconds spent decoding. */
function decodeHere(file: string): void {
  const fd = openSync(file, 'r');
  const decoder = new PieceDecoder();
  const framer = new LineFramer();
  const buf = Buffer.allocUnsafeSlow(CHUNK);
  let ms = 0;
  for (let got = readSync(fd, buf, 0, CHUNK, null); got > 0; got = readSync(fd, buf, 0, CHUNK, null)) {
    const chunk = buf.subarray(0, got);
    const head = framer.push(chunk);
    const t = performance.now();
    decoder.decode({ head, body: chunk, bodyStart: framer.bodyStart, bodyEnd: framer.bodyEnd }, () => undefined);
    ms += performance.now() - t;
  }
  closeSync(fd);
  process.stdout.write(`${ms.toFixed(0)}\n`);
}

function decodeChild(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, 'decode', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`decode child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  if (!events || (mode !== 'compare' && mode !== 'decode')) throw new Error('usage: decode-threads.ts compare EVENTS');
  if (mode === 'decode') return decodeHere(events);
  process.env[TS_LOADER_ENV] ??= tsLoaderUrl();
  const best = { t0: Infinity, t1: Infinity, alone: Infinity, pair: Infinity };
  let pieces = '';
  for (let r = 0; r < ROUNDS; r++) {
    best.t0 = Math.min(best.t0, (await stagePass(events, 0)).ms);
    const t1 = await stagePass(events, 1);
    if (t1.ms < best.t1) {
      best.t1 = t1.ms;
      pieces = `${t1.inWorkers} pieces in the worker, ${t1.here} in the main thread`;
    }
    best.alone = Math.min(best.alone, await decodeChild(events));
    const pair = await Promise.all([decodeChild(events), decodeChild(events)]);
    best.pair = Math.min(best.pair, Math.max(...pair));
  }
  process.stdout.write(
    [
      `best of ${ROUNDS} rounds, milliseconds (decoding only: every line visited, nothing done with it)`,
      `DecodeStage, 0 threads       ${best.t0.toFixed(0).padStart(6)}`,
      `DecodeStage, 1 thread        ${best.t1.toFixed(0).padStart(6)}   (${pieces})`,
      `one decoder alone            ${best.alone.toFixed(0).padStart(6)}`,
      `two decoders at once, slower ${best.pair.toFixed(0).padStart(6)}   (${(best.pair / best.alone).toFixed(2)}x the time alone)`,
    ].join('\n') + '\n',
  );
}

await main();
