/**
 * Decoding in worker threads hands the pipeline exactly what decoding in the main
 * thread does: the same lines, in the same order, with the same fields, the same
 * checkpoint offsets and the same counts of dropped lines, whatever the chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeStatus, type KernelEvent } from '../../src/decode/kernel-event.ts';
import type { LossSignal } from '../../src/decode/loss-signal.ts';
import { DecodeStage, type DecodedLines } from '../../src/pipeline/decode-stage.ts';
import { ChunkPool, markExclusive } from '../../src/sources/exclusive-chunk.ts';
import { waitFor } from '../support/wait.ts';
import { exampleLines, kprobeLine } from '../support/tetragon-lines.ts';

const MAX_LINE = 6000;

function seen(status: DecodeStatus, ev: KernelEvent, loss: LossSignal): unknown {
  if (status === DecodeStatus.Skipped) return { status, type: ev.skippedType, loss };
  if (status === DecodeStatus.Rejected) return { status, reason: ev.rejectReason };
  const { skippedType: _s, rejectReason: _r, rejectField: _f, ...facts } = ev;
  return { status, ...facts, labelOrder: ev.podLabels && Object.keys(ev.podLabels) };
}

const stages: DecodeStage[] = [];

interface Delivery {
  linesEnd: number;
  oversized: number;
  lines: unknown[];
}

async function decodeAll(
  threads: number,
  chunks: readonly { bytes: Buffer; exclusive: boolean }[],
  dropUnterminatedLine: boolean,
): Promise<Delivery[]> {
  const stage = new DecodeStage({ threads, maxLineBytes: MAX_LINE });
  stages.push(stage);
  const out: Delivery[] = [];
  const deliver = (lines: DecodedLines): void => {
    const seenLines: unknown[] = [];
    lines.visit((status, ev, loss) => seenLines.push(seen(status, ev, loss)));
    out.push({ linesEnd: lines.linesEnd, oversized: lines.oversized, lines: seenLines });
  };
  try {
    for (const { bytes, exclusive } of chunks) {
      // A fresh copy each run: an exclusive chunk's memory may move to a worker.
      const chunk = Buffer.from(bytes);
      stage.push(exclusive ? markExclusive(chunk) : chunk, deliver);
      await stage.ready();
    }
    await stage.end(dropUnterminatedLine, deliver);
  } finally {
    await stage.close();
  }
  return out;
}

const examples = exampleLines(400);
const line = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...examples) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t ', 'not json', '{"process_kprobe":', '[]', '{}') },
  { weight: 1, arbitrary: fc.constant('{"rate_limit_info":{"number_of_dropped_process_events":"12"},"time":"2024-01-01T00:00:00Z"}') },
  { weight: 1, arbitrary: fc.constant('{"process_throttle":{"type":"THROTTLE_START","cgroup":"/x"},"time":"2024-01-01T00:00:00Z"}') },
  { weight: 1, arbitrary: fc.constant(kprobeLine({ fn: 'tcp_sendmsg', node: 'n', size: '-1' })) },
  // Longer than the reader accepts: dropped and counted, inside a chunk or across chunks.
  { weight: 1, arbitrary: fc.constant('{"x":"' + 'a'.repeat(MAX_LINE) + '"}') },
);

const stream = fc.record({
  lines: fc.array(line, { minLength: 1, maxLength: 600, size: 'large' }),
  crlf: fc.boolean(),
  terminated: fc.boolean(),
  cuts: fc.array(fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 60_000, max: 400_000 })), {
    minLength: 1,
    maxLength: 12,
  }),
  exclusive: fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
  drop: fc.boolean(),
});

describe('decoding in worker threads', () => {
  it('delivers what decoding in the main thread delivers, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.integer({ min: 1, max: 2 }), async (s, threads) => {
        const text = s.lines.join(s.crlf ? '\r\n' : '\n') + (s.terminated ? '\n' : '');
        const all = Buffer.from(text);
        const chunks: { bytes: Buffer; exclusive: boolean }[] = [];
        for (let at = 0, i = 0; at < all.length; i++) {
          const size = s.cuts[i % s.cuts.length]!;
          chunks.push({ bytes: all.subarray(at, at + size), exclusive: s.exclusive[i % s.exclusive.length]! });
          at += size;
        }
        const inline = await decodeAll(0, chunks, s.drop);
        const pooled = await decodeAll(threads, chunks, s.drop);
        expect(pooled).toEqual(inline);
      }),
      // No shrinking: each try starts threads, and a shrink takes hundreds of tries.
      { numRuns: 40, endOnFailure: true },
    );
    // The property was tried on pieces the workers decoded, and on pieces decoded here.
    const pooledStages = stages.filter((st) => st.piecesInWorkers > 0);
    expect(pooledStages.length).toBeGreaterThan(10);
    expect(pooledStages.some((st) => st.piecesHere > 0)).toBe(true);
  }, 120_000);
});

describe('the memory of lent chunks', () => {
  it('goes back to the source after decoding, here and through a worker, and the lines stay exact', async () => {
    // The same lines in another order per chunk: one length, different bytes, so a read
    // into memory still in use would show in the lines.
    const all = exampleLines(300);
    const texts = [0, 1, 2, 3].map((k) => Buffer.from([...all.slice(k * 37), ...all.slice(0, k * 37)].join('\n') + '\n'));
    for (const threads of [0, 1]) {
      const pool = new ChunkPool(texts[0]!.length, 8);
      const stage = new DecodeStage({ threads, maxLineBytes: MAX_LINE });
      const seenLines: unknown[] = [];
      const expected: unknown[] = [];
      try {
        for (let k = 0; k < 4; k++) {
          const buf = pool.buffer();
          texts[k]!.copy(buf);
          stage.push(pool.lend(buf, buf.length), (lines) => lines.visit((status, ev, loss) => seenLines.push(seen(status, ev, loss))));
          await stage.ready();
        }
        await stage.end(false, () => undefined);
        await waitFor('a chunk back in its pool', () => pool.spares > 0, 20_000);
        if (threads > 0) expect(stage.piecesInWorkers).toBeGreaterThan(0);
      } finally {
        await stage.close();
      }
      if (threads > 0) {
        // One piece alone goes to the worker, and its memory comes back with its batch.
        const single = new ChunkPool(texts[0]!.length, 8);
        const alone = new DecodeStage({ threads, maxLineBytes: MAX_LINE });
        try {
          const buf = single.buffer();
          texts[0]!.copy(buf);
          alone.push(single.lend(buf, buf.length), (lines) => lines.visit(() => undefined));
          await alone.end(false, () => undefined);
          expect(alone.piecesInWorkers).toBe(1);
          expect(single.spares).toBe(1);
        } finally {
          await alone.close();
        }
      }
      // Reads into memory handed back did not change the lines decoded before.
      const reference = new DecodeStage({ threads: 0, maxLineBytes: MAX_LINE });
      for (let k = 0; k < 4; k++)
        reference.push(Buffer.from(texts[k]!), (lines) => lines.visit((status, ev, loss) => expected.push(seen(status, ev, loss))));
      await reference.end(false, () => undefined);
      expect(seenLines.length).toBe(4 * all.length);
      expect(seenLines).toEqual(expected);
    }
  }, 60_000);
});

describe('a decoding thread that fails', () => {
  it('fails the stream with its error instead of waiting for its lines', async () => {
    const stage = new DecodeStage({ threads: 1, workerEntry: new URL('./fixtures/failing-decode-worker.ts', import.meta.url) });
    try {
      const lines = Buffer.from(exampleLines(200).join('\n') + '\n');
      stage.push(markExclusive(lines), () => {
        throw new Error('nothing may be delivered');
      });
      await expect(stage.end(false, () => undefined)).rejects.toThrow('a decoding thread failed: the decoder broke');
      await expect(stage.ready()).rejects.toThrow('the decoder broke');
      expect(() => stage.push(Buffer.from('{}\n'), () => undefined)).toThrow('the decoder broke');
    } finally {
      await stage.close();
    }
  }, 60_000);
});
