/**
 * ObjectShape (src/decode/fast-shape.ts) skips an object by the keys and separators of the
 * last two objects it skipped. It must end exactly where `skipValue` ends and accept
 * exactly what `skipValue` accepts, whatever the values, the layouts taking turns, a byte
 * changed anywhere, or bytes after the object; and its shapes must actually be used (the
 * hit counter), or the property would only test the fallback.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleLines } from '../../examples/synthetic-cluster.ts';
import { ObjectShape } from '../../src/decode/fast-shape.ts';
import { SpanCache } from '../../src/decode/fast-span-cache.ts';
import { skipValue } from '../../src/decode/json-scan.ts';

/** Bytes after the object, as in a chunk: the next line, or junk a scan must not run into. */
const TAILS = ['', '\n{"a":1}', ',"x":[1,2]}', ' }', '"}}]'];

function skipBoth(shape: ObjectShape, text: Buffer, tail: string): { shape: number; scan: number } {
  const buf = Buffer.concat([Buffer.from(' '), text, Buffer.from(tail)]);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = 1 + text.length;
  return { shape: shape.skip(buf, dv, 1, end), scan: skipValue(buf, dv, 1, end) };
}

// Values nest at most a few levels: skipValue tracks 31, and a member's value may nest one
// level deeper in a shape than in a whole-object scan (both valid JSON; see fast-shape.ts).
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  ),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('node'), { maxKeys: 3 }),
  ),
})).node;

/** A changed byte: often one that means something to the grammar (a control character, an escape, a separator, a number's part). */
const byte = fc.oneof(
  fc.constantFrom(0x00, 0x09, 0x0a, 0x1f, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x3a, 0x45, 0x5c, 0x5d, 0x65, 0x75, 0x7d),
  fc.integer({ min: 0, max: 255 }),
);

/** Two layouts (key lists), and objects of either with fresh values, some with one byte changed. */
const stream = fc
  .tuple(
    fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 8 }),
    fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 8 }),
  )
  .chain(([a, b]) =>
    fc.array(
      fc.record({
        layout: fc.constantFrom(a, b),
        values: fc.array(value, { minLength: 8, maxLength: 8 }),
        // One object in five has a byte changed.
        mutation: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.tuple(fc.nat(), byte, fc.constantFrom('replace', 'insert', 'delete')) },
        ),
        tail: fc.constantFrom(...TAILS),
      }),
      { minLength: 5, maxLength: 30, size: 'medium' },
    ),
  );

function render(keys: readonly string[], values: readonly unknown[]): string {
  return `{${keys.map((k, i) => `${JSON.stringify(k)}:${JSON.stringify(values[i])}`).join(',')}}`;
}

function mutate(text: string, [at, byte, how]: readonly [number, number, 'replace' | 'insert' | 'delete']): Buffer {
  const b = Buffer.from(text, 'utf8');
  const i = at % b.length;
  if (how === 'replace') {
    const c = Buffer.from(b);
    c[i] = byte;
    return c;
  }
  if (how === 'insert') return Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
  return Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
}

describe('skipping an object by its shape', () => {
  it('ends where skipValue ends, and fails where it fails, for any values and changed bytes', () => {
    let hits = 0;
    fc.assert(
      fc.property(stream, (objects) => {
        const shape = new ObjectShape();
        for (const { layout, values, mutation, tail } of objects) {
          const text = render(layout, values);
          const bytes = mutation ? mutate(text, mutation) : Buffer.from(text, 'utf8');
          const got = skipBoth(shape, bytes, tail);
          expect(got.shape, bytes.toString('latin1')).toBe(got.scan);
        }
        hits += shape.hits;
      }),
      { numRuns: 1000 },
    );
    expect(hits, `shape hits`).toBeGreaterThan(1000);
  });

  it('skips Tetragon parents of two layouts in turn by their shapes, their pods by the nested cache', () => {
    const pods = new SpanCache<boolean>(64, 4096);
    const shape = new ObjectShape(pods);
    const parents = [...exampleLines(400, 60_000, 7, true)]
      .map((line) => (JSON.parse(line) as { process_kprobe?: { parent?: unknown } }).process_kprobe?.parent)
      .filter((p): p is Record<string, unknown> => p !== undefined);
    // A host process's parent: no pod, no docker (the second layout).
    const hostParents = parents.map(({ pod: _p, docker: _d, ...rest }) => rest);
    let n = 0;
    for (let k = 0; k < parents.length; k++) {
      const parent = k % 5 === 4 ? hostParents[k]! : parents[k]!;
      const text = Buffer.from(JSON.stringify(parent));
      if (parent.pod !== undefined) {
        // Filed as a process's pod would be, before its parent is skipped.
        const pod = Buffer.from(JSON.stringify(parent.pod));
        const dv = new DataView(pod.buffer, pod.byteOffset, pod.byteLength);
        if (pods.lookup(pod, dv, 0, pod.length) === 0) pods.store(pod, 0, pod.length, true);
      }
      const got = skipBoth(shape, text, '\n');
      expect(got.shape).toBe(text.length + 1);
      expect(got.scan).toBe(got.shape);
      n++;
    }
    expect(n).toBeGreaterThan(100);
    // Two layouts learnt once each; every other parent matched a shape.
    expect(shape.misses).toBe(2);
    expect(shape.hits).toBe(n - 2);
    expect(pods.hits).toBeGreaterThan(n / 2);
  });
});
