/**
 * Differential tests for the FastDecoder's caches of earlier lines: the `process`/`parent`
 * span cache (a value whose bytes equal one validated before is skipped by memcmp and its
 * results replayed) and the time-seconds cache. Every case decodes a stream with ONE
 * decoder, so that the caches are warm, and compares each line with the reference. The
 * hit counters are asserted too: a decoder that bypassed its cache would pass the
 * agreement checks, but not those.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realisticEventLine } from '../../bench/realistic-events.ts';
import { exampleLines } from '../../examples/synthetic-cluster.ts';
import { FastDecoder } from '../../src/decode/fast-decoder.ts';
import { SpanCache } from '../../src/decode/fast-span-cache.ts';
import { KernelEvent, type DecodeStatus } from '../../src/decode/kernel-event.ts';
import { ReferenceDecoder } from '../../src/decode/reference-decoder.ts';
import { kernelEventFacts } from '../support/kernel-event-facts.ts';

const reference = new ReferenceDecoder();

function outcome(status: DecodeStatus, e: KernelEvent): Record<string, unknown> {
  return { status, ...kernelEventFacts(e) };
}

/**
 * Decodes `line` with `fast` and the reference and expects the same outcome. The line sits
 * in a buffer with other bytes after it, as in a chunk, so that a cached span running past
 * the line's end would be caught.
 */
function expectSame(fast: FastDecoder, line: Buffer | string): void {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const buf = Buffer.concat([Buffer.from('{"a":1}\n'), bytes, Buffer.from('\n"}},"parent":{}}]}')]);
  const start = 8;
  const end = start + bytes.length;
  const a = new KernelEvent();
  const b = new KernelEvent();
  const ref = outcome(reference.decode(buf, start, end, a), a);
  const got = outcome(fast.decode(buf, start, end, b), b);
  expect(got, JSON.stringify(bytes.toString('latin1'))).toEqual(ref);
}

/** Byte ranges of the `process` and `parent` values of a plain (unescaped, compact) line. */
function valueSpan(line: Buffer, key: string): [number, number] {
  const at = line.indexOf(`"${key}":{`);
  if (at < 0) throw new Error(`no ${key} in line`);
  const s = at + key.length + 3;
  let depth = 0;
  let inString = false;
  for (let i = s; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return [s, i + 1];
  }
  throw new Error('unterminated value');
}

const podLine = Buffer.from(realisticEventLine(3));
// realisticEventLine(3) has a pod; the tests below rely on it.
expect(podLine.includes('"pod":{')).toBe(true);

describe('FastDecoder span cache (process / parent)', () => {
  it('hits on streams where processes repeat, with results identical to the reference', () => {
    const fast = new FastDecoder();
    let kprobes = 0;
    for (const line of exampleLines(3000, 600_000, 11)) {
      expectSame(fast, line);
      if (line.startsWith('{"process_kprobe"')) kprobes++;
    }
    // One process and one parent lookup per kprobe line; almost all repeat.
    expect(fast.spanHits + fast.spanMisses).toBe(2 * kprobes);
    expect(fast.spanHits).toBeGreaterThan(0.9 * 2 * kprobes);
    expect(fast.fallbacks).toBe(0);
  });

  it('misses (and stays right) when every event comes from a distinct process', () => {
    const fast = new FastDecoder();
    for (const line of exampleLines(2000, 600_000, 11, true)) expectSame(fast, line);
    expect(fast.spanHits).toBeLessThan(0.05 * fast.spanMisses);
  });

  it('hits when only `tid` varies among a few threads (busy node), with results identical to the reference', () => {
    const fast = new FastDecoder();
    let kprobes = 0;
    for (const line of exampleLines(3000, 600_000, 11, false, 4)) {
      expectSame(fast, line);
      if (line.startsWith('{"process_kprobe"')) kprobes++;
    }
    expect(fast.spanHits + fast.spanMisses).toBe(2 * kprobes);
    // As with one thread per process: `tid` is a hole in the cached process span.
    expect(fast.spanHits).toBeGreaterThan(0.9 * 2 * kprobes);
    expect(fast.fallbacks).toBe(0);
  });

  it('agrees on every token in place of a cached `tid` or `refcnt` (holes take plain integers only)', () => {
    const tokens = [
      '0',
      '7',
      '-0',
      '-12',
      '123456789012345678901234567890',
      '01',
      '00',
      '1.5',
      '1e3',
      '1E+3',
      '-',
      '--1',
      '1-',
      '+1',
      '0x1',
      '1 ',
      ' 1',
      '"1"',
      'null',
      'true',
      '[]',
      '{}',
      '',
      '1,"tid":2',
      '1,"pod":{"namespace":"evil","name":"p"}',
      '1}',
      '9'.repeat(400),
    ];
    // The pair, process and parent caches each see the edited process: hits only where the
    // token is a plain integer, and then with the original pod facts.
    for (const line of [podLine, Buffer.from([...exampleLines(20, 60_000, 4, false, 4)].find((l) => l.includes('"pod":{'))!)]) {
      for (const key of ['tid', 'refcnt']) {
        const at = line.indexOf(`"${key}":`);
        expect(at, key).toBeGreaterThan(0);
        const s = at + key.length + 3;
        let e = s;
        while (line[e] !== 0x2c && line[e] !== 0x7d) e++;
        for (const sets of [1, 1024]) {
          const fast = new FastDecoder({ spanSets: sets });
          expectSame(fast, line);
          for (const t of tokens) {
            const edited = Buffer.concat([line.subarray(0, s), Buffer.from(t), line.subarray(e)]);
            const hits = fast.spanHits;
            expectSame(fast, edited);
            if (/^-?(0|[1-9][0-9]*)$/.test(t)) expect(fast.spanHits, t).toBeGreaterThan(hits);
            expectSame(fast, line);
          }
        }
      }
    }
  });

  it('agrees on every byte change of a cached `pod` inside a process never seen before', { timeout: 180_000 }, () => {
    // Fresh processes (the worst case) whose pods repeat: the pod span cache serves them.
    const lines = [...exampleLines(400, 60_000, 12, true)]
      .filter((l) => l.includes('"pod":{') && l.startsWith('{"process_kprobe"'))
      .map((l) => Buffer.from(l));
    const fast = new FastDecoder();
    for (const l of lines) expectSame(fast, l);
    const line = lines[lines.length - 1]!;
    const [s, e] = valueSpan(line, 'pod');
    for (let at = s; at < e; at++) {
      for (const r of at % 5 === 0 ? [0x22, 0x5c, 0x7d, 0x2c, 0x20, 0x30, 0x78] : [0x22, 0x78]) {
        if (line[at] === r) continue;
        const v = Buffer.from(line);
        v[at] = r;
        expectSame(fast, v);
        expectSame(fast, line);
      }
      expectSame(fast, Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]));
    }
    // The cached pod bytes in another process, and a second `pod` after them.
    const pod = line.subarray(s, e);
    const other = Buffer.from(lines[0]!);
    expectSame(fast, Buffer.concat([line.subarray(0, e), Buffer.from(`,"pod":{"namespace":"x","name":"y"}`), line.subarray(e)]));
    expectSame(
      fast,
      Buffer.concat([Buffer.from('{"process_kprobe":{"process":{"pod":'), pod, other.subarray(other.indexOf(',"function_name"') - 1)]),
    );
  });

  it('agrees on sequences of threads whose `tid`s and `refcnt`s vary in value and length, and on bytes changed next to them (property)', () => {
    // A way's holes are rewritten with each line's integers when they have the filed
    // lengths: the next lines must still be judged by the bytes around the holes alone.
    const line = podLine;
    const tidAt = line.indexOf('"tid":') + 6;
    const refAt = line.indexOf('"refcnt":') + 9;
    expect(tidAt).toBeGreaterThan(6);
    expect(refAt).toBeGreaterThan(9);
    const tokenEnd = (at: number): number => {
      let e = at;
      while (line[e] !== 0x2c && line[e] !== 0x7d) e++;
      return e;
    };
    // Tokens of the filed ones' lengths that are not plain integers, too: such a hole
    // must not be written into the way.
    const filed = [tidAt, refAt].map((at) => line.toString('latin1', at, tokenEnd(at)));
    const sameLength = filed.flatMap((t) => ['.', 'e', '-', 'x', '"', ' '].map((c) => c + t.slice(1)));
    const int = fc.oneof(
      fc.integer({ min: 0, max: 99999 }).map(String),
      fc.integer({ min: 100000, max: 999999 }).map(String),
      fc.constantFrom('0', '-1', '01', '1.5', '1e3', '', 'x', '"1"', ...filed, ...sameLength),
    );
    const step = fc.record({ tid: int, refcnt: int, flip: fc.option(fc.integer({ min: -3, max: 3 }), { freq: 4 }) });
    let hits = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), fc.constantFrom(1, 1024), (steps, sets) => {
        const fast = new FastDecoder({ spanSets: sets });
        for (const st of steps) {
          const [first, second] = tidAt < refAt ? [tidAt, refAt] : [refAt, tidAt];
          const [t1, t2] = tidAt < refAt ? [st.tid, st.refcnt] : [st.refcnt, st.tid];
          let v = Buffer.concat([
            line.subarray(0, first),
            Buffer.from(t1),
            line.subarray(tokenEnd(first), second),
            Buffer.from(t2),
            line.subarray(tokenEnd(second)),
          ]);
          if (st.flip !== null) {
            // A byte just before or after the first hole.
            const at = first + (st.flip < 0 ? st.flip : t1.length + st.flip);
            v = Buffer.from(v);
            v[at] = v[at] === 0x31 ? 0x32 : 0x31;
          }
          const before = fast.spanHits;
          expectSame(fast, v);
          hits += fast.spanHits - before;
        }
      }),
      { numRuns: 200 },
    );
    expect(hits).toBeGreaterThan(200);
  });

  it('agrees when a cached span with holes is cut short around a hole, or a hole runs to the line end', () => {
    const fast = new FastDecoder();
    expectSame(fast, podLine);
    const at = podLine.indexOf('"tid":') + 6;
    for (let cut = at - 3; cut < at + 12; cut++) {
      expectSame(fast, podLine.subarray(0, cut));
      expectSame(fast, Buffer.concat([podLine.subarray(0, cut), Buffer.from('1')]));
      expectSame(fast, podLine);
    }
  });

  // ~10 s alone; several times that on a loaded 2-core machine.
  it('agrees on every single-byte change of a cached process or parent span', { timeout: 180_000 }, () => {
    // The cache holds podLine's spans; each variant differs from them in one byte (inside
    // strings, numbers, keys, braces), so it must miss and be validated afresh — or, for
    // a change outside the span, still hit. Re-decoding podLine between variants keeps
    // the original spans cached whatever the variant did to the cache.
    const fast = new FastDecoder();
    expectSame(fast, podLine);
    const hitsBefore = fast.spanHits;
    expectSame(fast, podLine);
    expect(fast.spanHits).toBe(hitsBefore + 2);
    const replacements = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x30, 0x39, 0x78, 0x00, 0x0a, 0xff, 0x2d];
    for (const key of ['process', 'parent']) {
      const [s, e] = valueSpan(podLine, key);
      for (let at = s; at < e; at++) {
        const variants: Buffer[] = [
          Buffer.concat([podLine.subarray(0, at), podLine.subarray(at + 1)]),
          Buffer.concat([podLine.subarray(0, at), Buffer.from(' '), podLine.subarray(at)]),
        ];
        for (const r of at % 7 === 0 ? replacements : replacements.slice(0, 4)) {
          if (podLine[at] === r) continue;
          const v = Buffer.from(podLine);
          v[at] = r;
          variants.push(v);
        }
        for (const v of variants) {
          expectSame(fast, podLine);
          expectSame(fast, v);
        }
      }
    }
    expect(fast.fallbacks).toBeGreaterThan(0);
  });

  it('agrees when a cached span is a prefix of the value, is cut short, or is followed by garbage', () => {
    const fast = new FastDecoder();
    expectSame(fast, podLine);
    const [s, e] = valueSpan(podLine, 'process');
    const [ps, pe] = valueSpan(podLine, 'parent');
    const head = podLine.subarray(0, s);
    const proc = podLine.subarray(s, e);
    const cases = [
      // The cached bytes, then more members in the same object (the cached `}` is not the end).
      Buffer.concat([head, proc.subarray(0, proc.length - 1), Buffer.from(',"extra":1}'), podLine.subarray(e)]),
      // The cached value, then garbage instead of the next member.
      Buffer.concat([head, proc, Buffer.from('x'), podLine.subarray(e)]),
      Buffer.concat([head, proc, Buffer.from('}'), podLine.subarray(e)]),
      Buffer.concat([head, proc, Buffer.from(' , '), podLine.subarray(e + 1)]),
      // The line ends inside or right after the cached value.
      podLine.subarray(0, e),
      podLine.subarray(0, e - 1),
      podLine.subarray(0, s + 64),
      podLine.subarray(0, pe),
      // The parent cut so that it is a prefix of the cached parent.
      Buffer.concat([podLine.subarray(0, pe - 2), Buffer.from('}'), podLine.subarray(pe)]),
      Buffer.concat([podLine.subarray(0, ps), Buffer.from('{"exec_id":"x"}'), podLine.subarray(pe)]),
    ];
    for (const c of cases) {
      expectSame(fast, podLine);
      expectSame(fast, c);
    }
  });

  it('keeps the reference semantics for duplicate process keys and for a parent equal to a cached process', () => {
    const fast = new FastDecoder();
    expectSame(fast, podLine);
    const [s, e] = valueSpan(podLine, 'process');
    const [ps, pe] = valueSpan(podLine, 'parent');
    const proc = podLine.subarray(s, e);
    const parent = podLine.subarray(ps, pe);
    const other =
      '{"exec_id":"b3RoZXI=0000000000000000000000000000000000000000000","pid":7,"pod":{"namespace":"other-ns","name":"other-pod","workload":"w"}}';
    const lines = [
      // A second `process` later in the object: JSON.parse keeps the last.
      Buffer.concat([podLine.subarray(0, e), Buffer.from(`,"process":${other}`), podLine.subarray(e)]),
      Buffer.concat([podLine.subarray(0, s), Buffer.from(`${other},"process":`), proc, podLine.subarray(e)]),
      // The cached process bytes as the parent (its pod must not become the event's) and
      // the cached parent bytes as the process (its pod must).
      Buffer.concat([podLine.subarray(0, s), Buffer.from(other), podLine.subarray(e, ps), proc, podLine.subarray(pe)]),
      Buffer.concat([podLine.subarray(0, s), parent, podLine.subarray(e, ps), Buffer.from(other), podLine.subarray(pe)]),
      // Both keys twice, parent first.
      Buffer.concat([
        Buffer.from('{"process_kprobe":{"parent":'),
        proc,
        Buffer.from(',"process":'),
        parent,
        Buffer.from(',"parent":'),
        parent,
        podLine.subarray(pe),
      ]),
      // Cached process bytes under a key that is not `process`.
      Buffer.concat([podLine.subarray(0, s - '"process":'.length), Buffer.from('"proc":'), proc, podLine.subarray(e)]),
      // Cached process bytes at the top level and inside args.
      Buffer.concat([Buffer.from('{"process_exec":{"process":'), proc, Buffer.from('},"time":"2024-05-01T12:00:00Z"}')]),
    ];
    for (let round = 0; round < 2; round++) for (const l of lines) expectSame(fast, l);
    expect(fast.spanHits).toBeGreaterThan(2);
  });

  it('stays right when the cache evicts (tiny cache, many distinct processes)', () => {
    const fast = new FastDecoder({ spanSets: 4, spanMaxBytes: 4096 });
    const lines = [...exampleLines(1500, 600_000, 5)];
    const distinct = [...exampleLines(1500, 600_000, 6, true)];
    for (let i = 0; i < lines.length; i++) {
      expectSame(fast, lines[i]!);
      expectSame(fast, distinct[i]!);
      // An immediate repeat always fits, whatever was evicted before.
      const before = fast.spanHits;
      expectSame(fast, distinct[i]!);
      if (distinct[i]!.startsWith('{"process_kprobe"')) expect(fast.spanHits).toBe(before + 2);
    }
  });

  it('fills again after a long stretch without reuse (when it files only some misses)', () => {
    const fast = new FastDecoder();
    // > 1024 lookups without hits: the cache switches to filing one miss in sixteen.
    for (const line of exampleLines(5000, 600_000, 8, true)) expectSame(fast, line);
    const hits = fast.spanHits;
    const reuse = [...exampleLines(3000, 600_000, 9)];
    for (const line of reuse) expectSame(fast, line);
    expect(fast.spanHits - hits).toBeGreaterThan(0.8 * 2 * reuse.length * 0.9);
    expect(fast.fallbacks).toBe(0);
  });

  it('does not cache values longer than spanMaxBytes', () => {
    const fast = new FastDecoder({ spanSets: 16, spanMaxBytes: 128 });
    expectSame(fast, podLine);
    expectSame(fast, podLine);
    expect(fast.spanHits).toBe(0);
  });

  it('agrees on streams built by repeating and mutating a pool of events (property)', () => {
    const pool = [
      ...Array.from({ length: 6 }, (_, k) => Buffer.from(realisticEventLine(k * 13))),
      ...[...exampleLines(40, 60_000, 3)].map((l) => Buffer.from(l)),
    ];
    const step = fc.record({
      pick: fc.nat(pool.length - 1),
      mutate: fc.option(
        fc.record({
          kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
          // An integer, not a double in [0, 1]: fast-check's doubles crowd at 0 and 1,
          // which would leave the spans in the middle of the line unmutated.
          at: fc.integer({ min: 0, max: 0x7fffffff }),
          byte: fc.oneof(fc.constantFrom(...Buffer.from('"\\{}[],: 0x9-e.')), fc.integer({ min: 0, max: 255 })),
        }),
        { freq: 3 },
      ),
    });
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.constantFrom(1, 2, 2048),
        fc.nat(pool.length - 4),
        (steps, sets, offset) => {
          const fast = new FastDecoder({ spanSets: sets });
          let repeats = 0;
          const decodedIntact = new Set<number>();
          for (const step of steps) {
            // A window of four pool lines, so that lines (and their spans) repeat often.
            const pick = offset + (step.pick % 4);
            const mutate = step.mutate;
            let line = pool[pick]!;
            if (mutate !== null) {
              // Mostly inside the process and parent spans, which are most of a line.
              const at = mutate.at % line.length;
              if (mutate.kind === 'flip') {
                line = Buffer.from(line);
                line[at] = mutate.byte;
              } else if (mutate.kind === 'insert')
                line = Buffer.concat([line.subarray(0, at), Buffer.from([mutate.byte]), line.subarray(at)]);
              else if (mutate.kind === 'delete') line = Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]);
              else line = line.subarray(0, at);
            } else {
              if (decodedIntact.has(pick) && line.subarray(0, 17).toString() === '{"process_kprobe"') repeats++;
              decodedIntact.add(pick);
            }
            expectSame(fast, line);
          }
          // An intact kprobe line decoded intact before hits (large cache only: no eviction).
          if (sets === 2048 && repeats > 0) expect(fast.spanHits).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('FastDecoder time cache (repeated date-and-seconds prefix)', () => {
  it('agrees on streams of times that share, drift from and break the cached seconds (property)', () => {
    const seconds = fc.oneof(
      fc.constantFrom('2026-11-20T10:00:00', '2026-11-20T10:00:01', '2024-02-29T23:59:59', '2024-05-01T12:00:60'),
      fc
        .date({ min: new Date('1600-01-01T00:00:00Z'), max: new Date('2300-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 19)),
    );
    // One byte of the seconds replaced (a different second, or an invalid time).
    const edited = fc
      .tuple(seconds, fc.nat(18), fc.constantFrom('0', '1', '9', 'x', 't', ' ', ':', '-', '\u00e9'))
      .map(([t, at, c]) => t.slice(0, at) + c + t.slice(at + 1));
    const suffix = fc.oneof(
      fc.stringMatching(/^\.[0-9]{1,12}[Zz]$/),
      fc.constantFrom('Z', 'z', '.Z', '', '.123', '+01:00', '.5-00:30', 'ZZ', '.12x4Z', ' Z'),
    );
    const time = fc.tuple(fc.oneof({ weight: 4, arbitrary: seconds }, { weight: 1, arbitrary: edited }), suffix).map(([a, b]) => a + b);
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 30 }), (times) => {
        const fast = new FastDecoder();
        for (const t of times) {
          expectSame(fast, `{"process_kprobe":{"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":${JSON.stringify(t)}}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees on every suffix form after a cached prefix', () => {
    const fast = new FastDecoder();
    const base = '2024-05-01T12:00:07';
    const suffixes = [
      '.123456789Z',
      'Z',
      'z',
      '.5Z',
      '.12Z',
      '.1234z',
      '.Z',
      '.',
      '',
      '.123',
      '+00:00',
      '-01:30',
      '.5+02:00',
      'Zx',
      '.12a4Z',
      '.0000000000000000000009Z',
      'ZZ',
      ' Z',
      '.9\u00e9Z',
      '\u00e9',
    ];
    const prefixes = [
      base,
      '2024-05-01T12:00:60',
      '2024-02-30T12:00:07',
      '2024-05-01t12:00:07',
      '2024-05-01 12:00:07',
      '2024-05-01T12:00:0x',
    ];
    for (let round = 0; round < 2; round++) {
      for (const p of prefixes) {
        for (const sfx of suffixes) {
          for (const warm of ['.000Z', sfx]) {
            for (const t of [p + warm, p + sfx, base + sfx]) {
              expectSame(
                fast,
                `{"process_kprobe":{"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":${JSON.stringify(t)}}`,
              );
            }
          }
        }
      }
    }
  });
});

describe('FastDecoder socket cache (from `saddr` to the element end)', () => {
  const tcpLines = [...exampleLines(600, 60_000, 21, false, 4)].filter((l) => l.includes('"sock_arg":{')).map((l) => Buffer.from(l));
  /** The socket stretch the cache files: from the saddr value to the sock_arg element's `}}`. */
  function sockSpan(line: Buffer): [number, number] {
    const s = line.indexOf('"saddr":"') + 9;
    const e = line.indexOf('}}', s) + 2;
    expect(s).toBeGreaterThan(9);
    expect(e).toBeGreaterThan(s);
    return [s, e];
  }

  it('hits on connections that repeat, with results identical to the reference', () => {
    const fast = new FastDecoder();
    let socks = 0;
    for (const line of exampleLines(3000, 600_000, 11, false, 4)) {
      expectSame(fast, line);
      if (line.includes('"sock_arg":{')) socks++;
    }
    expect(socks).toBeGreaterThan(1000);
    expect(fast.sockHits).toBeGreaterThan(0.5 * socks);
    expect(fast.fallbacks).toBe(0);
  });

  it('agrees on every single-byte change, deletion and insertion in a cached socket stretch', { timeout: 180_000 }, () => {
    const replacements = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x30, 0x39, 0x78, 0x2e, 0x2d, 0x65, 0x00, 0xff];
    for (const line of [tcpLines[0]!, tcpLines.find((l) => !l.includes('"cookie"')) ?? tcpLines[1]!]) {
      const fast = new FastDecoder();
      expectSame(fast, line);
      const hits = fast.sockHits;
      expectSame(fast, line);
      expect(fast.sockHits).toBe(hits + 1);
      const [s, e] = sockSpan(line);
      for (let at = s - 2; at < e + 2; at++) {
        const variants: Buffer[] = [
          Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]),
          Buffer.concat([line.subarray(0, at), Buffer.from('1'), line.subarray(at)]),
          Buffer.concat([line.subarray(0, at), Buffer.from(' '), line.subarray(at)]),
          line.subarray(0, at),
        ];
        for (const r of replacements) {
          if (line[at] === r) continue;
          const v = Buffer.from(line);
          v[at] = r;
          variants.push(v);
        }
        for (const v of variants) {
          expectSame(fast, v);
          expectSame(fast, line);
        }
      }
    }
  });

  it('agrees when the cached stretch is followed by other bytes or sits in another element', () => {
    const line = tcpLines[0]!;
    const [s, e] = sockSpan(line);
    const stretch = line.subarray(s, e);
    const fast = new FastDecoder();
    expectSame(fast, line);
    const cases = [
      // More elements, garbage, or the line's end after the cached `}}`.
      Buffer.concat([line.subarray(0, e), Buffer.from(',{"size_arg":"7"}'), line.subarray(e)]),
      Buffer.concat([line.subarray(0, e), Buffer.from('x'), line.subarray(e)]),
      Buffer.concat([line.subarray(0, e), Buffer.from('}'), line.subarray(e)]),
      line.subarray(0, e),
      // The stretch after another head, and as the second element (which the walk reads).
      Buffer.concat([
        line.subarray(0, line.indexOf('"family":"') + 10),
        Buffer.from('AF_INET6",'),
        line.subarray(line.indexOf('"type":"')),
      ]),
      Buffer.concat([
        line.subarray(0, line.indexOf('"args":[') + 8),
        Buffer.from('{"size_arg":"3"},'),
        line.subarray(line.indexOf('"args":[') + 8),
      ]),
      // A second cookie or port after the cached stretch's fields, inside the element.
      Buffer.concat([line.subarray(0, e - 2), Buffer.from(',"cookie":"9"}}'), line.subarray(e)]),
      Buffer.concat([line.subarray(0, e - 2), Buffer.from(',"sport":9}}'), line.subarray(e)]),
      Buffer.concat([line.subarray(0, s), stretch.subarray(0, stretch.length - 1), Buffer.from(',"x":1}'), line.subarray(e)]),
    ];
    for (let round = 0; round < 2; round++) {
      for (const c of cases) {
        expectSame(fast, c);
        expectSame(fast, line);
      }
    }
  });

  it('agrees on streams of connections whose fields vary and repeat (property)', () => {
    const line = tcpLines[0]!;
    const [s, e] = sockSpan(line);
    const head = line.subarray(0, s);
    const tail = line.subarray(e);
    const addr = fc.constantFrom('10.0.0.1', '10.244.1.17', 'fd00::1', '', '10.0.0.1\\u0030', '1', '2001:db8::ffff:1:2:3:4');
    const port = fc.constantFrom('0', '80', '65535', '65536', '00', '-1', '1.5', '"80"', '123456', '99999999999999999999');
    const conn = fc.record({
      saddr: addr,
      daddr: addr,
      sport: port,
      dport: port,
      cookie: fc.option(fc.constantFrom('18446462599923493369', '1', '', 'x\\"y'), { nil: undefined }),
      state: fc.option(fc.constantFrom('TCP_ESTABLISHED', 'TCP_CLOSE', ''), { nil: undefined }),
    });
    const stretchOf = (c: { saddr: string; daddr: string; sport: string; dport: string; cookie?: string; state?: string }): Buffer =>
      Buffer.from(
        `${c.saddr}","daddr":"${c.daddr}","sport":${c.sport},"dport":${c.dport}` +
          (c.cookie === undefined ? '' : `,"cookie":"${c.cookie}"`) +
          (c.state === undefined ? '' : `,"state":"${c.state}"`) +
          '}}',
      );
    let hits = 0;
    fc.assert(
      fc.property(fc.array(conn, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (conns, picks) => {
        const fast = new FastDecoder();
        const lines = conns.map((c) => Buffer.concat([head, stretchOf(c), tail]));
        for (const p of picks) expectSame(fast, lines[p % lines.length]!);
        hits += fast.sockHits;
      }),
      { numRuns: 300 },
    );
    // Not a property of each run (short or escaped stretches are not cached), but of the lot.
    expect(hits).toBeGreaterThan(100);
  });
});

describe('SpanCache, the adaptation of its stores', () => {
  /** `count` distinct 100-byte values, each missed once: how many of them the cache wants filed. */
  function filedOfMisses(cache: SpanCache<number>, count: number, from = 0): number {
    const buf = Buffer.alloc(100, 0x61);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    let wanted = 0;
    for (let i = from; i < from + count; i++) {
      buf.write(String(i).padStart(12, '0'), 8, 'latin1'); // in the hashed bytes
      expect(cache.lookup(buf, dv, 0, buf.length)).toBe(0);
      if (cache.wantsStore()) wanted++;
    }
    return wanted;
  }

  it('files every miss until its first period without reuse ends, at the 1,088th lookup: the neutral one that ends at the 64th does not start sampling', () => {
    expect(filedOfMisses(new SpanCache<number>(1024, 4096), 1087)).toBe(1087);
  });

  it('then files one miss in 16 while nothing is reused', () => {
    const cache = new SpanCache<number>(1024, 4096);
    filedOfMisses(cache, 1088);
    expect(filedOfMisses(cache, 1024, 1088)).toBe(1024 / 16);
  });
});
