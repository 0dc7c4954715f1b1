/**
 * One benchmark arm in a fresh process (so its peak RSS is its own):
 *   node --import tsx bench/replay-arm.ts <json-parse|replay|replay-reference> <events> <snapshot>
 * Prints one JSON line: {arm, events, seconds, maxRssMb}.
 */
import { createDecoder } from '../src/decode/default-decoder.ts';
import { ReferenceDecoder } from '../src/decode/reference-decoder.ts';
import { loadSnapshots } from '../src/enrich/metadata/snapshot.ts';
import { runReplay } from '../src/pipeline/replay.ts';
import { LineProtocolSink } from '../src/sinks/line-sink.ts';
import { openByteInput } from '../src/sources/byte-input.ts';
import { LineSplitter } from '../src/sources/line-splitter.ts';

const [arm, events, snapshot] = process.argv.slice(2);
if (!arm || !events || !snapshot) throw new Error('usage: replay-arm.ts <arm> <events> <snapshot>');

async function jsonParseBaseline(): Promise<number> {
  // The usual ceiling: split lines, JSON.parse each, read the event type.
  let n = 0;
  let kprobes = 0;
  const splitter = new LineSplitter((buf, start, end) => {
    const obj = JSON.parse(buf.toString('utf8', start, end)) as Record<string, unknown>;
    n++;
    if (obj.process_kprobe) kprobes++;
  });
  for await (const chunk of (await openByteInput(events!)).chunks) splitter.push(chunk);
  splitter.end();
  if (kprobes === 0) throw new Error('no kprobe events in the input');
  return n;
}

async function replay(reference: boolean): Promise<number> {
  const store = await loadSnapshots([snapshot!]);
  const decoder = reference ? new ReferenceDecoder() : createDecoder();
  const counters = await runReplay({
    input: await openByteInput(events!),
    store,
    sink: await LineProtocolSink.toFile('/dev/null'),
    decoder,
    windowMs: 10_000,
    // The CLI's defaults: windows open until the end of the input, bounded in memory.
    latenessMs: Infinity,
  });
  if (counters.used === 0) throw new Error('nothing used');
  return counters.read;
}

const started = process.hrtime.bigint();
const count = arm === 'json-parse' ? await jsonParseBaseline() : await replay(arm === 'replay-reference');
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
const mem = process.memoryUsage();
const mb = (n: number): number => Math.round(n / 1048576);
process.stdout.write(JSON.stringify({ arm, events: count, seconds, maxRssMb, heapUsedMb: mb(mem.heapUsed), heapTotalMb: mb(mem.heapTotal), externalMb: mb(mem.external), arrayBuffersMb: mb(mem.arrayBuffers) }) + '\n');
