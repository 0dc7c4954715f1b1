/**
 * The fast decoder's speculative path for Tetragon's canonical layout (fast-skeleton.ts):
 * it must be taken on plain lines (or these tests would pass with the path dead), and any
 * line that leaves the skeleton anywhere after `parent` — a byte changed, inserted or
 * removed at any offset — must still decode exactly as the reference does, whether the
 * learned spans are primed with the original line or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realisticEventLine } from '../../bench/realistic-events.ts';
import { exampleLines } from '../../examples/synthetic-cluster.ts';
import { FastDecoder } from '../../src/decode/fast-decoder.ts';
import { KernelEvent, type DecodeStatus } from '../../src/decode/kernel-event.ts';
import { ReferenceDecoder } from '../../src/decode/reference-decoder.ts';
import { kernelEventFacts } from '../support/kernel-event-facts.ts';
import { sampleLines } from '../support/tetragon-lines.ts';

const reference = new ReferenceDecoder();

function outcome(status: DecodeStatus, e: KernelEvent): Record<string, unknown> {
  return { status, ...kernelEventFacts(e) };
}

/** Decodes `line` with both decoders inside a larger buffer, so that reads past `end` would show. */
function expectSame(fast: FastDecoder, line: Buffer): void {
  const before = Buffer.from('{"x":1}\n');
  const after = Buffer.from('"}]},"node_name":"n","time":"2024-01-01T00:00:00Z"}\n');
  const buf = Buffer.concat([before, line, after]);
  const s = before.length;
  const e = s + line.length;
  const a = new KernelEvent();
  const b = new KernelEvent();
  const ref = outcome(reference.decode(buf, s, e, a), a);
  const got = outcome(fast.decode(buf, s, e, b), b);
  expect(got, JSON.stringify(line.toString('latin1'))).toEqual(ref);
}

/** Index just after the `parent` object's value: where the speculated skeleton starts. */
function afterParent(line: Buffer): number {
  const p = line.indexOf('"parent":{');
  expect(p).toBeGreaterThan(0);
  const parsed = JSON.parse(line.toString('utf8')) as { process_kprobe: { parent: unknown } };
  return p + '"parent":'.length + Buffer.byteLength(JSON.stringify(parsed.process_kprobe.parent));
}

function sampleKprobes(): Buffer[] {
  return sampleLines()
    .filter((l) => l.startsWith('{"process_kprobe":{"process":'))
    .map((l) => Buffer.from(l));
}

/** Canonical lines of every shape the generators print: tcp with and without size/return, I/O with file_arg, real samples. */
function bases(): Buffer[] {
  const example = [...exampleLines(400, 3_600_000, 7)].filter((l) => l.startsWith('{"process_kprobe"'));
  const pick = (fn: string, withReturn: boolean): string => {
    const l = example.find((x) => x.includes(`"function_name":"${fn}"`) && x.includes('"return":') === withReturn);
    if (l === undefined) throw new Error(`no example line for ${fn}`);
    return l;
  };
  return [pick('tcp_sendmsg', true), pick('tcp_connect', false), realisticEventLine(3), realisticEventLine(7)]
    .map((l): Buffer => Buffer.from(l))
    .concat(
      sampleKprobes()
        .filter((l) => l.includes('"sock_arg"'))
        .slice(0, 1),
    );
}

/** Byte values tried at each position: JSON's structural bytes, whitespace, escapes, digits, letters, controls, non-ASCII. */
const BYTES = [0x20, 0x22, 0x5c, 0x2c, 0x3a, 0x7d, 0x5d, 0x30, 0x39, 0x2d, 0x2e, 0x65, 0x00, 0xc3];

function mutate(line: Buffer, at: number, kind: 'set' | 'insert' | 'delete', byte: number): Buffer {
  if (kind === 'delete') return Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]);
  if (kind === 'insert') return Buffer.concat([line.subarray(0, at), Buffer.from([byte]), line.subarray(at)]);
  const m = Buffer.from(line);
  m[at] = byte;
  return m;
}

describe('FastDecoder speculative path (canonical Tetragon layout)', () => {
  it('is taken on every plain kprobe line of the example stream, realistic events and the real samples', () => {
    const fast = new FastDecoder();
    const example = [...exampleLines(3000, 3_600_000, 7)];
    const kprobes = example.filter((l) => l.startsWith('{"process_kprobe"')).length;
    for (const l of example) expectSame(fast, Buffer.from(l));
    expect(fast.speculated).toBe(kprobes);
    expect(fast.abandoned).toBe(example.length - kprobes);
    expect(fast.fallbacks).toBe(0);

    const realistic = new FastDecoder();
    for (let i = 0; i < 500; i++) expectSame(realistic, Buffer.from(realisticEventLine(i)));
    expect(realistic.speculated).toBe(500);

    const samples = new FastDecoder();
    const lines = sampleKprobes();
    for (const l of lines) expectSame(samples, l);
    expect(samples.speculated).toBe(lines.length);
  });

  it('reads cluster_name and the socket cookie on the speculative path, the cookie of each line its own', () => {
    const fast = new FastDecoder();
    const tcp = [...exampleLines(400, 60_000)].filter((l) => l.includes('"sock_arg"')).slice(0, 20);
    expect(tcp.length).toBe(20);
    const cookies = new Set<string>();
    for (const [i, l] of tcp.entries()) {
      // Distinct cookies (the example generator's are all alike).
      const line = Buffer.from(
        l
          .replace(/"cookie":"\d+"/, `"cookie":"1844674407370955${1000 + i}"`)
          .replace(/\}$/, `,"cluster_name":"prod-${i % 2}","node_labels":{"a":"b"}}`),
      );
      expectSame(fast, line);
      const ev = new KernelEvent();
      fast.decode(line, 0, line.length, ev);
      expect(ev.cluster).toBe(`prod-${i % 2}`);
      expect(ev.cookie).toBe(/"cookie":"(\d+)"/.exec(line.toString())![1]);
      cookies.add(ev.cookie!);
    }
    expect(cookies.size).toBeGreaterThan(1);
    expect(fast.speculated).toBe(2 * tcp.length);
    expect(fast.fallbacks).toBe(0);
  });

  it('looks process and parent up once per line, also when the speculation is abandoned', () => {
    const line = bases()[0]!;
    const p = afterParent(line);
    const spaced = Buffer.concat([line.subarray(0, p), Buffer.from(' '), line.subarray(p)]);
    const fast = new FastDecoder();
    expectSame(fast, spaced);
    expect(fast.abandoned).toBe(1);
    expect(fast.spanHits + fast.spanMisses).toBe(2);
    expectSame(fast, line);
    expectSame(fast, spaced);
    expect(fast.speculated).toBe(1);
    expect(fast.abandoned).toBe(2);
    expect(fast.spanHits + fast.spanMisses).toBe(6);
  });

  it(
    'agrees on every byte change, insertion and deletion after parent, with learned spans primed and drifting',
    { timeout: 300_000 },
    () => {
      for (const base of bases()) {
        const from = afterParent(base);
        const primed = new FastDecoder();
        // Not re-primed: its learned spans hold whatever the previous mutant taught them.
        const drifting = new FastDecoder();
        let taken = 0;
        for (let at = from; at <= base.length; at++) {
          const kinds: ['set' | 'insert' | 'delete', number][] = [];
          for (const b of BYTES) {
            if (at < base.length && base[at] !== b) kinds.push(['set', b]);
            kinds.push(['insert', b]);
          }
          if (at < base.length) kinds.push(['delete', 0]);
          for (const [kind, b] of kinds) {
            const m = mutate(base, at, kind, b);
            // Primed: the original line just taught the learned spans its bytes.
            expectSame(primed, base);
            const before = primed.speculated;
            expectSame(primed, m);
            taken += primed.speculated - before;
            expectSame(drifting, m);
          }
        }
        // Some mutations keep the line canonical (a digit for a digit): the path stays live.
        expect(taken).toBeGreaterThan(0);
      }
    },
  );

  it('agrees on random edits at integer positions of the part after parent (property)', () => {
    const lines = bases();
    const primed = lines.map(() => new FastDecoder());
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: lines.length - 1 }),
        fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        (which, edits) => {
          const base = lines[which]!;
          const from = afterParent(base);
          let m = base;
          for (const e of edits) {
            const span = m.length - from;
            if (span <= 0) break;
            m = mutate(m, from + (e.at % (span + (e.kind === 'insert' ? 1 : 0))), e.kind as 'set' | 'insert' | 'delete', e.byte);
          }
          const fast = primed[which]!;
          expectSame(fast, base);
          expectSame(fast, m);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees on every byte change of either of two kprobe tails learned in turns', () => {
    const fast = new FastDecoder();
    const tcp = bases()[0]!;
    const io = Buffer.from(tcp.toString('latin1').replace('"policy_name":"kovenant-tcp"', '"policy_name":"kovenant-io"'), 'latin1');
    for (const line of [tcp, io]) {
      const s = line.indexOf(',"action":"');
      const e = line.indexOf('"node_name":"') + 13;
      expect(s).toBeGreaterThan(0);
      for (let at = s; at < e; at++) {
        for (const r of [0x22, 0x2c, 0x7d, 0x78, 0x20]) {
          if (line[at] === r) continue;
          const v = Buffer.from(line);
          v[at] = r;
          // Both tails learned, the edited line's own most recently or not.
          expectSame(fast, tcp);
          expectSame(fast, io);
          if (at % 2 === 0) expectSame(fast, line);
          expectSame(fast, v);
        }
      }
    }
    const speculated = fast.speculated;
    for (let k = 0; k < 4; k++) expectSame(fast, k % 2 === 0 ? tcp : io);
    expect(fast.speculated).toBe(speculated + 4);
  });

  it('agrees when the learned spans see alternating and drifting values', () => {
    const fast = new FastDecoder();
    const line = bases()[0]!.toString('latin1');
    const variants = [
      line,
      line.replace('"policy_name":"kovenant-tcp"', '"policy_name":"kovenant-io"'),
      line.replace('"state":"TCP_ESTABLISHED"', '"state":"TCP_CLOSE"'),
      line.replace('"family":"AF_INET"', '"family":"AF_INET6"'),
      line.replace(/"cookie":"[0-9]+"/, '"cookie":"1"'),
      line.replace(/,"cookie":"[0-9]+"/, ''),
      line.replace('"action":"KPROBE_ACTION_POST",', ''),
      line.replace('"policy_name":"kovenant-tcp"', '"policy_name":"kovenant-tcp","return_action":"X","tags":["a"]'),
      line.replace('"policy_name":"kovenant-tcp"', '"policy_name":"kovenant-tcp","function_name":"tcp_close"'),
      line.replace('"policy_name":"kovenant-tcp"', '"policy_name":"kovenant-\\u0074cp"'),
      line.replace('"node_name":"', '"cluster_name":"c","node_name":"'),
      line.replace(/\}$/, ',"cluster_name":"c"}'),
      line.replace(/\}$/, ',"time":"2020-01-01T00:00:00Z"}'),
    ];
    for (let r = 0; r < 3; r++) for (const v of variants) expectSame(fast, Buffer.from(v, 'latin1'));
    expect(fast.speculated).toBeGreaterThan(0);
  });
});
