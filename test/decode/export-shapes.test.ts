/**
 * Both decoders, and the fast decoder's speculative (canonical layout) path, on the shapes
 * real exports take besides the default one: lines cut down by our Tetragon field filters
 * (no `parent`, a `process` holding only its pod, `"process":{}` for host processes), Go
 * protobuf JSON's spaced variant (`{"a":1, "b":2}`), and `cluster_name`/`node_labels`.
 * Each must give exactly the reference's result, and plain lines of each shape must stay
 * on the speculative path: a decoder that always took the slower path would pass the rest.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realisticEventLine } from '../../bench/realistic-events.ts';
import { FastDecoder } from '../../src/decode/fast-decoder.ts';
import { KernelEvent } from '../../src/decode/kernel-event.ts';
import { ReferenceDecoder } from '../../src/decode/reference-decoder.ts';
import { spacedLine, withClusterFields } from '../../bench/export-shapes.ts';
import { filterLine } from '../../bench/field-filter.ts';
import { kernelEventFacts } from '../support/kernel-event-facts.ts';

const SAMPLES = path.resolve(import.meta.dirname, '../../../shared/reference/tetragon/samples');
const reference = new ReferenceDecoder();

function expectSame(line: string | Buffer, fast: FastDecoder): number {
  const bytes = typeof line === 'string' ? Buffer.from(line) : line;
  // Neighbouring bytes, as in a chunk: reading past the line would show.
  const buf = Buffer.concat([Buffer.from('{"x":1}\n'), bytes, Buffer.from('\n, "z"}]')]);
  const a = new KernelEvent();
  const b = new KernelEvent();
  const ref = reference.decode(buf, 8, 8 + bytes.length, a);
  const got = fast.decode(buf, 8, 8 + bytes.length, b);
  expect({ status: got, facts: kernelEventFacts(b) }, bytes.toString()).toEqual({ status: ref, facts: kernelEventFacts(a) });
  return ref;
}

const SHAPES: Record<string, (line: string) => string> = {
  'field-filtered': (l) => filterLine(l),
  spaced: spacedLine,
  'field-filtered and spaced': (l) => spacedLine(filterLine(l)),
  'with cluster_name and node_labels': withClusterFields,
  'field-filtered, spaced, with cluster_name and node_labels': (l) => spacedLine(withClusterFields(filterLine(l))),
};

describe('export shapes', () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    it(`${name}: the same results as the reference, all on the speculative path`, () => {
      const fast = new FastDecoder();
      let used = 0;
      const n = 3000;
      for (let i = 0; i < n; i++) if (expectSame(shape(realisticEventLine(i)), fast) === 0) used++;
      expect(used).toBe(n);
      expect(fast.fallbacks).toBe(0);
      expect(fast.speculated).toBe(n);
    });
  }

  it('lines of both separator styles in turns: the same results, all on the speculative path, also when the pair cache hits', () => {
    // The style is taken from the first comma literal after process or parent; a pair
    // cache hit skips both, so the style must be right at `function_name` alone.
    const fast = new FastDecoder();
    const lines = Array.from({ length: 8 }, (_, i) => realisticEventLine(i));
    const shapes = [(l: string) => l, spacedLine, filterLine, (l: string) => spacedLine(filterLine(l))];
    let n = 0;
    for (let round = 0; round < 3; round++) {
      for (const l of lines) {
        for (const shape of shapes) {
          expectSame(shape(l), fast);
          n++;
        }
      }
    }
    expect(fast.fallbacks).toBe(0);
    expect(fast.speculated).toBe(n);
    expect(fast.spanHits).toBeGreaterThan(n / 2);
  });

  it('field filtering leaves host processes as "process":{} and drops parent, arguments, binary', () => {
    const host = Array.from({ length: 50 }, (_, i) => realisticEventLine(i)).find((l) => !l.includes('"pod":'))!;
    const filtered = filterLine(host);
    expect(filtered).toContain('{"process_kprobe":{"process":{},"function_name":');
    const pod = filterLine(realisticEventLine(1));
    for (const gone of ['"parent"', '"arguments"', '"binary"', '"exec_id"', '"container"', '"action"', '"policy_name"'])
      expect(pod).not.toContain(gone);
    for (const kept of ['"namespace"', '"workload_kind"', '"pod_labels"', '"function_name"', '"args"', '"node_name"', '"time"'])
      expect(pod).toContain(kept);
  });

  it('agrees with the reference on mutations of every shape', () => {
    const fast = new FastDecoder();
    const shapes = Object.values(SHAPES);
    fc.assert(
      fc.property(
        fc.nat(100_000),
        fc.nat(shapes.length - 1),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('flip', 'delete', 'insert-space'),
        (i, s, at, byte, kind) => {
          const line = Buffer.from(shapes[s]!(realisticEventLine(i)));
          const k = at % line.length;
          const damaged =
            kind === 'flip'
              ? Buffer.concat([line.subarray(0, k), Buffer.from([byte]), line.subarray(k + 1)])
              : kind === 'delete'
                ? Buffer.concat([line.subarray(0, k), line.subarray(k + 1)])
                : Buffer.concat([line.subarray(0, k), Buffer.from(' '), line.subarray(k)]);
          expectSame(damaged, fast);
        },
      ),
      { numRuns: 5000 },
    );
    // 5000 property runs take ~10 s alone and several times that on a loaded 2-core machine.
  }, 180_000);

  if (!existsSync(SAMPLES) && !process.env.CI)
    console.warn(`skipping the real samples: ${SAMPLES} is not there (../shared beside the repository)`);
  it.skipIf(!existsSync(SAMPLES) && !process.env.CI)('on the real samples in every shape', () => {
    const fast = new FastDecoder();
    for (const f of ['tetragon-docs-events.jsonl', 'tcp-recvmsg-real-cluster.jsonl']) {
      for (const line of readFileSync(path.join(SAMPLES, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')) {
        for (const shape of Object.values(SHAPES)) expectSame(shape(line), fast);
      }
    }
  });
});
