/**
 * Properties of the whole pipeline: random, truncated or garbage lines never crash it
 * and never change what the valid lines add up to, however the input is chunked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { runReplay } from '../../src/pipeline/replay.ts';
import { MemorySink, chunkedInput, totals } from '../support/memory.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';

const T0 = Date.UTC(2024, 0, 1);

const validLine = fc
  .record({
    fn: fc.constantFrom('tcp_connect', 'tcp_close', 'tcp_sendmsg', 'tcp_recvmsg', '__x64_sys_read', '__arm64_sys_write'),
    node: fc.constantFrom('n1', 'n2'),
    offsetMs: fc.integer({ min: 0, max: 60_000 }),
    pod: fc.option(fc.record({ namespace: fc.constantFrom('a', 'b'), name: fc.constantFrom('p1', 'p2', 'p 3,=x') }), { nil: undefined }),
    daddr: fc.constantFrom('10.0.0.1', '127.0.0.1', '::ffff:10.0.0.2', '2001:db8::1'),
    size: fc.integer({ min: 0, max: 1 << 20 }),
    ret: fc.option(fc.integer({ min: -100, max: 1 << 20 }), { nil: undefined }),
  })
  .map((e) =>
    kprobeLine({
      fn: e.fn,
      node: e.node,
      time: new Date(T0 + e.offsetMs).toISOString(),
      ...(e.pod ? { pod: e.pod } : {}),
      ...(e.fn.startsWith('tcp') ? { sock: { saddr: '10.9.9.9', sport: 1234, daddr: e.daddr, dport: 80 } } : {}),
      ...(e.fn === 'tcp_connect' || e.fn === 'tcp_close' ? {} : { size: String(e.size) }),
      ...(e.ret !== undefined && e.fn !== 'tcp_connect' && e.fn !== 'tcp_close' ? { ret: e.ret } : {}),
    }),
  );

/** A valid line with one defect; lines the defect does not apply to are not generated. */
function corrupted(defect: (line: string) => string): fc.Arbitrary<string> {
  return validLine
    .map((l) => [l, defect(l)] as const)
    .filter(([l, d]) => l !== d)
    .map(([, d]) => d);
}

/** Lines that must never count: garbage, other JSON, truncated events, invalid bytes. */
const garbageLine = fc
  .oneof(
    fc.string({ maxLength: 200 }),
    fc.json(),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
    validLine.chain((l) => fc.integer({ min: 1, max: l.length - 1 }).map((n) => l.slice(0, n))),
    corrupted((l) => l.replace('"time":"', '"time":"x')),
    corrupted((l) => l.replace(/"size_arg":"\d+"/, '"size_arg":"12abc"')),
    corrupted((l) => l.replace('"daddr"', '"daddx"')),
    corrupted((l) => l.replace('"size_arg"', '"size_argh"').replace(/,"return":\{[^}]*\}/, '')),
  )
  .map((s) => s.replace(/[\r\n]/g, ' '));

async function replayTotals(
  text: string,
  chunkSizes: readonly number[],
): Promise<{ totals: Record<string, number>; used: number; rejected: number }> {
  const sink = new MemorySink();
  const counters = await runReplay({
    input: chunkedInput(Buffer.from(text, 'latin1'), chunkSizes),
    store: new MetadataIndex(),
    sink,
    decodeThreads: 0,
    windowMs: 10_000,
    latenessMs: 300_000,
  });
  return { totals: totals(sink.points), used: counters.used, rejected: counters.rejectedTotal };
}

describe('pipeline properties', () => {
  it('garbage interleaved with valid lines changes nothing the valid lines add up to', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(validLine, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), garbageLine), { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 5 }),
        async (valid, garbage, chunks) => {
          const clean = await replayTotals(valid.join('\n') + '\n', [1 << 20]);
          const mixed = [...valid];
          for (const [pos, g] of garbage) mixed.splice(pos % (mixed.length + 1), 0, g);
          const dirty = await replayTotals(mixed.join('\r\n'), chunks);
          expect(dirty.totals).toEqual(clean.totals);
          expect(dirty.used).toBe(valid.length);
          expect(clean.used).toBe(valid.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arbitrary bytes never crash the pipeline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 512 }), async (bytes, chunk) => {
        const sink = new MemorySink();
        const counters = await runReplay({
          input: chunkedInput(Buffer.from(bytes), [chunk]),
          store: new MetadataIndex(),
          sink,
          decodeThreads: 0,
          windowMs: 1000,
          latenessMs: 0,
        });
        expect(counters.read).toBe(counters.used + counters.skippedTotal + counters.rejectedTotal);
      }),
      { numRuns: 200 },
    );
  });

  it('counts every bytes_sent and every call exactly, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 100 }),
        fc.integer({ min: 1, max: 700 }),
        async (sizes, chunk) => {
          const text = sizes
            .map((size, i) =>
              kprobeLine({
                fn: 'tcp_sendmsg',
                node: 'n',
                time: new Date(T0 + i * 997).toISOString(),
                sock: { saddr: '1.1.1.1', sport: 1, daddr: '2.2.2.2', dport: 2 },
                size: String(size),
              }),
            )
            .join('\n');
          const r = await replayTotals(text, [chunk]);
          expect(r.totals['kovenant_tcp.bytes_sent']).toBe(sizes.reduce((a, b) => a + b, 0));
          expect(r.totals['kovenant_tcp.sends']).toBe(sizes.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
