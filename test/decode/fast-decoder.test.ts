/**
 * Differential tests: FastDecoder must give exactly the ReferenceDecoder's status and
 * KernelEvent fields for every input — real samples, realistic generated events, events
 * generated with every shape the export can take (and many it cannot), and arbitrary byte
 * mutations of them. They also check that the fast path is actually taken on plain events,
 * or a decoder that always fell back would pass everything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realisticEventLine } from '../../bench/realistic-events.ts';
import { FastDecoder } from '../../src/decode/fast-decoder.ts';
import { KernelEvent, KPROBE_OPS, type DecodeStatus } from '../../src/decode/kernel-event.ts';
import { ReferenceDecoder } from '../../src/decode/reference-decoder.ts';
import { kernelEventFacts } from '../support/kernel-event-facts.ts';
import { HAVE_SAMPLES, sampleLines } from '../support/tetragon-lines.ts';

interface Outcome {
  status: DecodeStatus;
  fields: Record<string, unknown>;
}

function snapshot(status: DecodeStatus, e: KernelEvent): Outcome {
  return { status, fields: kernelEventFacts(e) };
}

const reference = new ReferenceDecoder();

/**
 * Decodes `line` with both decoders, embedded in a larger buffer (other bytes before and
 * after, like a chunk with neighbouring lines) so that reading past `end` would show.
 */
function both(line: Buffer | string, fast: FastDecoder = new FastDecoder()): { ref: Outcome; fast: Outcome; text: string } {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const before = Buffer.from('{"x":1}\n');
  const after = Buffer.from('\n1234567"}]{"process_kprobe":{}}');
  const buf = Buffer.concat([before, bytes, after]);
  const start = before.length;
  const end = start + bytes.length;
  const a = new KernelEvent();
  const b = new KernelEvent();
  return {
    ref: snapshot(reference.decode(buf, start, end, a), a),
    fast: snapshot(fast.decode(buf, start, end, b), b),
    // The line itself, so that a failing property shows what was decoded.
    text: JSON.stringify(bytes.toString('latin1')),
  };
}

function expectSame(line: Buffer | string, fast?: FastDecoder): Outcome {
  const r = both(line, fast);
  expect(r.fast, r.text).toEqual(r.ref);
  return r.ref;
}

// ---------------------------------------------------------------------------------------
// A JSON model that can express what JSON.stringify cannot: duplicate keys, raw number
// text, and per-string escaping and whitespace chosen at serialization time.

type J =
  | { t: 'obj'; entries: [string, J][] }
  | { t: 'arr'; items: J[] }
  | { t: 'str'; v: string }
  | { t: 'num'; raw: string }
  | { t: 'lit'; raw: 'true' | 'false' | 'null' };

const obj = (entries: [string, J][]): J => ({ t: 'obj', entries });
const arr = (items: J[]): J => ({ t: 'arr', items });
const str = (v: string): J => ({ t: 'str', v });
const num = (raw: string | number): J => ({ t: 'num', raw: String(raw) });
const lit = (raw: 'true' | 'false' | 'null'): J => ({ t: 'lit', raw });

/** Serialization choices, drawn from a seeded PRNG so that fast-check can shrink the seed. */
interface Style {
  /** Probability of escaping a character that need not be escaped. */
  escape: number;
  /** Probability of whitespace around each token. */
  ws: number;
  /** Shuffle object keys at every level. */
  shuffle: boolean;
  seed: number;
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function hex4(code: number): string {
  return code.toString(16).padStart(4, '0');
}

function writeString(v: string, style: Style, rnd: () => number): string {
  let out = '"';
  for (const ch of v) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (code < 0x20)
      out +=
        rnd() < 0.5 ? `\\u${hex4(code)}` : ({ '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f' }[ch] ?? `\\u${hex4(code)}`);
    else if (rnd() < style.escape) {
      if (ch === '/') out += rnd() < 0.5 ? '\\/' : '\\u002f';
      else if (code > 0xffff) {
        const hi = 0xd800 + ((code - 0x10000) >> 10);
        const lo = 0xdc00 + ((code - 0x10000) & 0x3ff);
        out += `\\u${hex4(hi)}\\u${rnd() < 0.5 ? hex4(lo) : hex4(lo).toUpperCase()}`;
      } else out += `\\u${rnd() < 0.5 ? hex4(code) : hex4(code).toUpperCase()}`;
    } else out += ch;
  }
  return `${out}"`;
}

function space(style: Style, rnd: () => number): string {
  if (rnd() >= style.ws) return '';
  const ws = [' ', '\t', '\r', '\n', '  ', '\r\n  '];
  return ws[Math.floor(rnd() * ws.length)] ?? ' ';
}

function write(j: J, style: Style, rnd: () => number = prng(style.seed)): string {
  const s = (): string => space(style, rnd);
  switch (j.t) {
    case 'str':
      return writeString(j.v, style, rnd);
    case 'num':
    case 'lit':
      return j.raw;
    case 'arr':
      return `[${s()}${j.items.map((x) => write(x, style, rnd)).join(`${s()},${s()}`)}${s()}]`;
    case 'obj': {
      const entries = [...j.entries];
      if (style.shuffle) {
        for (let k = entries.length - 1; k > 0; k--) {
          const m = Math.floor(rnd() * (k + 1));
          const tmp = entries[k]!;
          entries[k] = entries[m]!;
          entries[m] = tmp;
        }
      }
      const members = entries.map(([k, v]) => `${writeString(k, style, rnd)}${s()}:${s()}${write(v, style, rnd)}`);
      return `{${s()}${members.join(`${s()},${s()}`)}${s()}}`;
    }
  }
}

const PLAIN: Style = { escape: 0, ws: 0, shuffle: false, seed: 1 };

// ---------------------------------------------------------------------------------------
// Arbitraries for every part of an event, each including wrong types and edge values.

const FUNCTION_NAMES = [...KPROBE_OPS.keys()];

/** Strings with the characters that matter: escapes, unicode (BMP and astral), slashes. */
const text = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('kube-system', 'payments', 'api-7d9f8-x2k', 'app.kubernetes.io/name', '10.0.0.1', '::ffff:10.0.0.1'),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom('caf\u00e9', 'smile\ud83d\ude00', 'a"b', 'back\\slash', 'sl/ash', '\u2028', 'tab\there', '') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

const anyScalar: fc.Arbitrary<J> = fc.oneof(
  text.map(str),
  fc.integer().map(num),
  fc.constantFrom('true', 'false', 'null').map((x) => lit(x as 'true' | 'false' | 'null')),
  fc.constantFrom('1.5', '-0', '1e3', '0.0', '-1E-2').map(num),
);

const junk: fc.Arbitrary<J> = fc.letrec<{ j: J }>((tie) => ({
  j: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyScalar,
    fc.array(tie('j'), { maxLength: 3 }).map(arr),
    fc.array(fc.tuple(text, tie('j')), { maxLength: 3 }).map(obj),
  ),
})).j;

/** Optional entry: absent, or present with the value. */
function maybe(key: string, value: fc.Arbitrary<J>, absent = 1): fc.Arbitrary<[string, J][]> {
  return fc.oneof(
    { weight: absent, arbitrary: fc.constant<[string, J][]>([]) },
    { weight: 4, arbitrary: value.map((v): [string, J][] => [[key, v]]) },
  );
}

/** Sometimes a second, different value for a key already present (JSON.parse keeps the last). */
function withDuplicates(entries: fc.Arbitrary<[string, J][]>): fc.Arbitrary<[string, J][]> {
  return fc.tuple(entries, fc.nat(60), junk).map(([es, pick, v]) => {
    if (pick >= es.length || pick > 3) return es;
    const [k] = es[pick]!;
    return [...es, [k, v]];
  });
}

const extra: fc.Arbitrary<[string, J][]> = fc.array(
  fc.tuple(fc.constantFrom('extra', 'future_field', 'zz', '0', '17', '__proto__', 'tid'), junk),
  { maxLength: 2 },
);

const numberish = (digits: fc.Arbitrary<number>): fc.Arbitrary<J> =>
  fc.oneof(
    { weight: 6, arbitrary: digits.map(num) },
    { weight: 4, arbitrary: digits.map((n) => str(String(n))) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', '12a', ' 1', '+5', '0x10', '00443', '-', '99999999999999999', '9007199254740993', '1234567890123456')
        .map(str),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('443.0', '4.43e2', '1e21', '-0', '65536', '-1', '12345678901234567890', '0.5', '9007199254740993')
        .map(num),
    },
    { weight: 1, arbitrary: anyScalar },
  );

const port = numberish(fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: -5, max: 70000 })));
const size = numberish(fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: -3, max: 3 })));
const ret = numberish(fc.oneof(fc.integer({ min: -120, max: 1 << 20 }), fc.constant(0)));

const labels: fc.Arbitrary<J> = fc.oneof(
  { weight: 6, arbitrary: withDuplicates(fc.array(fc.tuple(text, text.map(str)), { maxLength: 4 })).map(obj) },
  { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom('2', '10', 'a', '__proto__', 'b'), anyScalar), { maxLength: 4 }).map(obj) },
  { weight: 1, arbitrary: junk },
);

const podEntries: fc.Arbitrary<[string, J][]> = fc
  .tuple(
    maybe('namespace', fc.oneof({ weight: 5, arbitrary: text.map(str) }, { weight: 1, arbitrary: anyScalar })),
    maybe('name', fc.oneof({ weight: 5, arbitrary: text.map(str) }, { weight: 1, arbitrary: anyScalar })),
    maybe('uid', text.map(str)),
    maybe(
      'container',
      fc.constant(
        obj([
          ['id', str('containerd://abc')],
          ['name', str('c')],
          [
            'image',
            obj([
              ['id', str('img@sha256:1')],
              ['name', str('img')],
            ]),
          ],
          ['pid', num(7)],
        ]),
      ),
    ),
    maybe('pod_labels', labels),
    maybe('workload', fc.oneof(text.map(str), anyScalar)),
    maybe('workload_kind', fc.oneof(fc.constantFrom('Deployment', 'DaemonSet', '').map(str), anyScalar)),
    extra,
  )
  .map((parts) => parts.flat());

const pod: fc.Arbitrary<J> = fc.oneof({ weight: 8, arbitrary: withDuplicates(podEntries).map(obj) }, { weight: 1, arbitrary: junk });

const processEntries: fc.Arbitrary<[string, J][]> = fc
  .tuple(
    fc.constant<[string, J][]>([
      ['exec_id', str('bWdtdDo2MDI5MDAwMDAwMDoxNjA3Mw==')],
      ['pid', num(16073)],
      ['binary', str('/usr/bin/curl')],
      ['arguments', str('-s https://example.com/a?b=c')],
      ['flags', str('execve clone')],
      ['start_time', str('2022-08-10T19:20:11.689Z')],
    ]),
    maybe('pod', pod),
    maybe(
      'cap',
      fc.constant(
        obj([
          ['permitted', arr([str('CAP_CHOWN'), str('CAP_KILL')])],
          ['effective', arr([])],
        ]),
      ),
    ),
    extra,
  )
  .map((parts) => parts.flat());

const processValue: fc.Arbitrary<J> = fc.oneof(
  { weight: 8, arbitrary: withDuplicates(processEntries).map(obj) },
  { weight: 1, arbitrary: junk },
);

const sockEntries: fc.Arbitrary<[string, J][]> = fc
  .tuple(
    maybe('family', fc.constantFrom('AF_INET', 'AF_INET6').map(str)),
    maybe('saddr', fc.oneof({ weight: 5, arbitrary: text.map(str) }, { weight: 1, arbitrary: anyScalar })),
    maybe('daddr', fc.oneof({ weight: 5, arbitrary: text.map(str) }, { weight: 1, arbitrary: anyScalar })),
    maybe('sport', port),
    maybe('dport', port),
    maybe(
      'cookie',
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(str('18446744073709551615')) },
        { weight: 2, arbitrary: text.map(str) },
        { weight: 1, arbitrary: anyScalar },
      ),
    ),
    extra,
  )
  .map((parts) => parts.flat());

const argElement: fc.Arbitrary<J> = fc.oneof(
  {
    weight: 4,
    arbitrary: withDuplicates(
      fc
        .tuple(
          maybe('sock_arg', fc.oneof({ weight: 6, arbitrary: withDuplicates(sockEntries).map(obj) }, { weight: 1, arbitrary: junk }), 0),
          extra,
        )
        .map((p) => p.flat()),
    ).map(obj),
  },
  { weight: 4, arbitrary: withDuplicates(fc.tuple(maybe('size_arg', size, 0), extra).map((p) => p.flat())).map(obj) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      obj([['file_arg', obj([['path', str('/etc/passwd')]])]]),
      obj([['bytes_arg', str('ZGFlbW9u')]]),
      obj([['int_arg', num(3)]]),
      obj([]),
    ),
  },
  { weight: 1, arbitrary: junk },
);

const args: fc.Arbitrary<J> = fc.oneof(
  { weight: 8, arbitrary: fc.array(argElement, { maxLength: 4 }).map(arr) },
  { weight: 1, arbitrary: junk },
);

const returnValue: fc.Arbitrary<J> = fc.oneof(
  { weight: 6, arbitrary: withDuplicates(fc.tuple(maybe('int_arg', ret, 0), extra).map((p) => p.flat())).map(obj) },
  { weight: 1, arbitrary: junk },
);

const functionName: fc.Arbitrary<J> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...FUNCTION_NAMES).map(str) },
  { weight: 1, arbitrary: fc.constantFrom('tcp_sendmsg ', 'security_file_open', '', '__x64_sys_readv', 'TCP_CONNECT').map(str) },
  { weight: 1, arbitrary: anyScalar },
);

const kprobeEntries: fc.Arbitrary<[string, J][]> = fc
  .tuple(
    // `parent` both before and after `process`, each with its own pod.
    maybe('parent', processValue),
    maybe('process', processValue, 0),
    maybe('parent', processValue),
    maybe('function_name', functionName, 0),
    maybe('args', args, 0),
    maybe('return', returnValue, 2),
    maybe('action', fc.constant(str('KPROBE_ACTION_POST'))),
    maybe('policy_name', text.map(str)),
    extra,
  )
  .map((parts) => {
    // At most one `parent` (a duplicate is exercised by withDuplicates below).
    const flat = parts.flat();
    const firstParent = flat.findIndex(([k]) => k === 'parent');
    return flat.filter(([k], idx) => k !== 'parent' || idx === firstParent);
  });

const time: fc.Arbitrary<J> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(
        '2022-08-16T16:37:56.890Z',
        '2024-05-01T12:00:00.123456789Z',
        '2024-02-29T23:59:60+02:00',
        '2021-10-18t20:08:55z',
        '2021-10-18 20:08:55.5-01:30',
      )
      .map(str),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '2022-13-01T00:00:00Z',
        '2022-08-16',
        'yesterday',
        '',
        '2022-02-30T00:00:00Z',
        '2022-08-16T16:37:56.Z',
        '2022-08-16T16:37:56\u00e9Z',
      )
      .map(str),
  },
  { weight: 1, arbitrary: anyScalar },
);

const eventType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('process_kprobe') },
  { weight: 2, arbitrary: fc.constantFrom('process_exec', 'process_exit', 'process_tracepoint', 'rate_limit_info', '42', 'weird key', '') },
);

const topEntries: fc.Arbitrary<[string, J][]> = fc
  .tuple(
    eventType,
    fc.oneof({ weight: 10, arbitrary: withDuplicates(kprobeEntries).map(obj) }, { weight: 1, arbitrary: junk }),
    maybe('node_name', fc.oneof({ weight: 5, arbitrary: text.map(str) }, { weight: 1, arbitrary: anyScalar })),
    maybe('time', time),
    maybe('cluster_name', fc.oneof({ weight: 5, arbitrary: text.map(str) }, { weight: 1, arbitrary: anyScalar })),
    maybe('node_labels', labels),
    maybe('aggregation_info', fc.constant(obj([['count', str('3')]]))),
    extra,
  )
  .map(([type, body, ...rest]) => [[type, body] as [string, J], ...rest.flat()]);

const event: fc.Arbitrary<J> = withDuplicates(topEntries).map(obj);

const style: fc.Arbitrary<Style> = fc.record({
  escape: fc.oneof(fc.constant(0), fc.constant(0.05), fc.constant(0.5), fc.constant(1)),
  ws: fc.oneof(fc.constant(0), fc.constant(0.1), fc.constant(1)),
  shuffle: fc.boolean(),
  seed: fc.nat(),
});

/** A byte-level mutation of a line: the kinds of damage a corrupt or truncated stream shows. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.array(fc.oneof(fc.constantFrom(...Buffer.from('"{}[],:\\ \t0-9eE.+anulltrue\u00e9')), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.constantFrom('x', '}', ' ', '\t', ',', '{}', '\u0000', 'null') }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(line: Buffer, m: Mutation): Buffer {
  if (m.kind === 'append') return Buffer.concat([line, Buffer.from(m.bytes)]);
  const at = Math.min(line.length, Math.floor(m.at * (line.length + 1)));
  switch (m.kind) {
    case 'truncate':
      return line.subarray(0, at);
    case 'flip': {
      const copy = Buffer.from(line);
      if (at < copy.length) copy[at] = m.byte;
      return copy;
    }
    case 'insert':
      return Buffer.concat([line.subarray(0, at), Buffer.from(m.bytes), line.subarray(at)]);
    case 'delete':
      return Buffer.concat([line.subarray(0, at), line.subarray(at + m.length)]);
    case 'duplicate':
      return Buffer.concat([line.subarray(0, at + m.length), line.subarray(at)]);
  }
}

// ---------------------------------------------------------------------------------------

describe('FastDecoder agrees with ReferenceDecoder', () => {
  it.skipIf(!HAVE_SAMPLES)('on the real Tetragon samples', () => {
    const lines = sampleLines();
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const fast = new FastDecoder();
    const statuses = lines.map((l) => expectSame(l, fast).status);
    // The samples hold used kprobes and skipped exec/exit events.
    expect(statuses).toContain(0);
    expect(statuses).toContain(1);
    expect(fast.fallbacks).toBe(0);
  });

  it.skipIf(!HAVE_SAMPLES)('on the real samples, pretty-printed, shuffled and escaped', () => {
    for (const line of sampleLines()) {
      for (let seed = 1; seed <= 40; seed++) {
        const pretty = JSON.stringify(JSON.parse(line), null, seed % 3 === 0 ? '\t' : 2);
        expectSame(pretty);
        const j = toModel(JSON.parse(line) as unknown);
        expectSame(write(j, { escape: seed % 2 === 0 ? 0.3 : 1, ws: 0.3, shuffle: true, seed }));
      }
    }
  });

  it('on realistic ~2 KB events, taking the fast path for all of them', () => {
    const fast = new FastDecoder();
    const statuses = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const s = expectSame(realisticEventLine(i), fast).status;
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
    expect(statuses[0]).toBe(3000);
    expect(fast.decoded).toBe(3000);
    expect(fast.fallbackRate).toBeLessThan(0.01);
  });

  it('when one decoder instance and one output object are reused across a stream', () => {
    // Fields the reference leaves alone on skip/reject (op, rejectReason) carry over
    // from the previous line; both decoders must carry over the same values.
    const fast = new FastDecoder();
    const a = new KernelEvent();
    const b = new KernelEvent();
    const lines = [
      ...sampleLines(),
      'garbage',
      '{"process_exec":{}}',
      realisticEventLine(7),
      '{"process_kprobe":[]}',
      realisticEventLine(8),
    ];
    for (let round = 0; round < 3; round++) {
      for (const l of lines) {
        const buf = Buffer.from(l);
        const sr = reference.decode(buf, 0, buf.length, a);
        const sf = fast.decode(buf, 0, buf.length, b);
        expect(snapshot(sf, b)).toEqual(snapshot(sr, a));
      }
    }
  });

  it.each([
    ['empty', ''],
    ['whitespace', ' \t '],
    ['array', '[]'],
    ['string', '"process_kprobe"'],
    ['number', '42'],
    ['null', 'null'],
    ['empty object', '{}'],
    ['bom', '\ufeff{"process_exec":{}}'],
    ['garbage after', '{"process_exec":{}}x'],
    ['second object', '{"process_exec":{}}{}'],
    ['trailing comma', '{"process_exec":{},}'],
    ['trailing comma in array', '{"process_kprobe":{"args":[{"size_arg":"1"},]}}'],
    ['leading zero', '{"process_exec":{"pid":01}}'],
    ['single quotes', "{'process_exec':{}}"],
    ['raw tab in string', '{"process_exec":{"a":"x\ty"}}'],
    ['bad escape', '{"process_exec":{"a":"\\x"}}'],
    ['short unicode escape', '{"process_exec":{"a":"\\u12"}}'],
    ['lone surrogate escape', '{"process_exec":{"a":"\\ud800"},"node_name":"\\udc00x"}'],
    ['kprobe not an object', '{"process_kprobe":[1],"time":"2022-08-16T16:37:56.890Z"}'],
    ['kprobe null', '{"process_kprobe":null}'],
    ['no event key', '{"node_name":"n","time":"2022-08-16T16:37:56.890Z"}'],
    ['numeric event key first', '{"zz":{},"5":{},"node_name":"n"}'],
    [
      'escaped event key',
      '{"process\\u005fkprobe":{"function_name":"tcp_close","args":[{"sock_arg":{"saddr":"a","daddr":"b","sport":1,"dport":2}}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'escaped kprobe keys',
      '{"process_kprobe":{"function\\u005fname":"__x64_sys_read","\\u0061rgs":[{"size\\u005farg":"12"}]},"t\\u0069me":"2022-08-16T16:37:56.890Z"}',
    ],
    ['escaped function name', '{"process_kprobe":{"function_name":"tcp\\u005fclose"},"time":"x"}'],
    ['unknown function escaped', '{"process_kprobe":{"function_name":"caf\\u00e9"}}'],
    [
      'duplicate kprobe',
      '{"process_kprobe":{"function_name":"tcp_close"},"process_kprobe":{"function_name":"__x64_sys_read","args":[{"size_arg":"3"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'duplicate time',
      '{"process_kprobe":{"function_name":"__x64_sys_read","args":[{"size_arg":"3"}]},"time":"bad","time":"2022-08-16T16:37:56.890Z"}',
    ],
    ['return -0', '{"process_kprobe":{"function_name":"__x64_sys_read","return":{"int_arg":-0}},"time":"2022-08-16T16:37:56.890Z"}'],
    ['return "-0"', '{"process_kprobe":{"function_name":"__x64_sys_read","return":{"int_arg":"-0"}},"time":"2022-08-16T16:37:56.890Z"}'],
    ['return exponent', '{"process_kprobe":{"function_name":"__x64_sys_read","return":{"int_arg":5e2}},"time":"2022-08-16T16:37:56.890Z"}'],
    [
      'return null',
      '{"process_kprobe":{"function_name":"__x64_sys_read","return":{"int_arg":null},"args":[{"size_arg":"3"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'return without int_arg',
      '{"process_kprobe":{"function_name":"__x64_sys_read","return":{},"args":[{"size_arg":"3"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'size at index 2',
      '{"process_kprobe":{"function_name":"__arm64_sys_write","args":[{"file_arg":{}},7,{"size_arg":"65536"},{"size_arg":"x"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'size invalid first',
      '{"process_kprobe":{"function_name":"__arm64_sys_write","args":[{"size_arg":"x"},{"size_arg":"5"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'size 16 digits',
      '{"process_kprobe":{"function_name":"__arm64_sys_write","args":[{"size_arg":"9007199254740993"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'size max safe',
      '{"process_kprobe":{"function_name":"__arm64_sys_write","args":[{"size_arg":"9007199254740991"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'size number 16 digits',
      '{"process_kprobe":{"function_name":"__arm64_sys_write","args":[{"size_arg":9007199254740991}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'port as float',
      '{"process_kprobe":{"function_name":"tcp_connect","args":[{"sock_arg":{"saddr":"a","daddr":"b","sport":443.0,"dport":"00080"}}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'port -0',
      '{"process_kprobe":{"function_name":"tcp_connect","args":[{"sock_arg":{"saddr":"a","daddr":"b","sport":-0,"dport":1}}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'port too big',
      '{"process_kprobe":{"function_name":"tcp_connect","args":[{"sock_arg":{"saddr":"a","daddr":"b","sport":65536,"dport":1}}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'sock in second arg',
      '{"process_kprobe":{"function_name":"tcp_connect","args":[{"size_arg":"1"},{"sock_arg":{"saddr":"a","daddr":"b","sport":1,"dport":1}}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'parent pod only',
      '{"process_kprobe":{"parent":{"pod":{"namespace":"p","name":"q"}},"process":{"pid":1},"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'labels with __proto__ and numeric keys',
      '{"process_kprobe":{"process":{"pod":{"namespace":"n","name":"p","pod_labels":{"b":"1","__proto__":"x","10":"y","2":"z","b":"2","c":3}}},"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'labels array',
      '{"process_kprobe":{"process":{"pod":{"namespace":"n","name":"p","pod_labels":["a"]}},"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'duplicate pod',
      '{"process_kprobe":{"process":{"pod":{"namespace":"n","name":"p"},"pod":{"namespace":"m","name":"q"}},"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890Z"}',
    ],
    [
      'non-ascii time',
      '{"process_kprobe":{"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890\u00e9"}',
    ],
    [
      'escaped time',
      '{"process_kprobe":{"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890\\u005a"}',
    ],
    [
      'invalid utf-8 in pod name',
      Buffer.concat([
        Buffer.from('{"process_kprobe":{"process":{"pod":{"namespace":"n\xff","name":"p'),
        Buffer.from([0xe2, 0x82]),
        Buffer.from('"}},"function_name":"__x64_sys_read","args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890Z"}'),
      ]),
    ],
    [
      'pretty printed',
      '{\n  "process_kprobe" : {\r\n\t"function_name":"__x64_sys_read" , "args" : [ { "size_arg" : "1" } ] } ,\n "time":"2022-08-16T16:37:56.890Z"\n}\n',
    ],
  ] as [string, string | Buffer][])('on %s', (_name, line) => {
    expectSame(line);
  });

  it('on deep nesting, past what the scanner tracks', () => {
    for (const depth of [30, 31, 32, 33, 200, 5000]) {
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      expectSame(
        `{"process_kprobe":{"function_name":"__x64_sys_read","x":${deep},"args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890Z"}`,
      );
      expectSame(
        `{"process_kprobe":{"function_name":"__x64_sys_read","x":${deep.slice(1)},"args":[{"size_arg":"1"}]},"time":"2022-08-16T16:37:56.890Z"}`,
      );
    }
  });

  it('on every truncation and every single-byte deletion of a realistic event', () => {
    const fast = new FastDecoder();
    const line = Buffer.from(realisticEventLine(11));
    for (let at = 0; at <= line.length; at++) {
      expectSame(line.subarray(0, at), fast);
      expectSame(Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]), fast);
    }
  });

  it('on generated events with reordered keys, escapes, unicode, whitespace, duplicates, missing and extra fields', () => {
    const fast = new FastDecoder();
    fc.assert(
      fc.property(event, style, (e, st) => {
        const r = both(write(e, st), fast);
        expect(r.fast, r.text).toEqual(r.ref);
      }),
      { numRuns: 4000 },
    );
  });

  it('takes the fast path on plain generated events', () => {
    // Plain: no escapes or whitespace, no duplicate keys and no array-index keys at the top
    // level (which reorder Object.keys); the fast path leaves those to the reference by
    // design. Wrong types, missing and extra fields stay in.
    const fast = new FastDecoder();
    let plain = 0;
    fc.assert(
      fc.property(event, fc.nat(), (e, seed) => {
        if (hasDuplicateKeys(e) || (e.t === 'obj' && e.entries.some(([k]) => /^[0-9]/.test(k)))) return;
        plain++;
        expectSame(write(e, { ...PLAIN, shuffle: true, seed }), fast);
      }),
      { numRuns: 3000 },
    );
    expect(plain).toBeGreaterThan(300);
    expect(fast.decoded).toBe(plain);
    expect(fast.fallbackRate).toBeLessThan(0.01);
  });

  it('on arbitrary mutations of generated and realistic events', () => {
    const fast = new FastDecoder();
    const source = fc.oneof(
      fc.tuple(event, style).map(([e, st]) => Buffer.from(write(e, st))),
      fc.nat(100000).map((i) => Buffer.from(realisticEventLine(i))),
    );
    fc.assert(
      fc.property(source, fc.array(mutation, { minLength: 1, maxLength: 3 }), (line, ms) => {
        const damaged = ms.reduce(mutate, line);
        const r = both(damaged, fast);
        expect(r.fast, r.text).toEqual(r.ref);
      }),
      { numRuns: 6000 },
    );
  });

  it('counts fallbacks for lines it hands to the reference', () => {
    const fast = new FastDecoder();
    expectSame('{"process_kprobe":', fast);
    expectSame(realisticEventLine(1), fast);
    expect(fast.fallbacks).toBe(1);
    expect(fast.decoded).toBe(2);
    expect(fast.fallbackRate).toBe(0.5);
  });

  it('keeps results right when the string caches evict (many distinct pods)', () => {
    const fast = new FastDecoder();
    for (let i = 0; i < 12000; i++) {
      const line = `{"process_kprobe":{"process":{"pod":{"namespace":"ns-${i % 5000}","name":"pod-${i}","pod_labels":{"app":"a${i % 3000}"}}},"function_name":"__x64_sys_read","args":[{"size_arg":"${i}"}]},"node_name":"node-${i % 7000}","time":"2022-08-16T16:37:56.890Z"}`;
      expectSame(line, fast);
    }
    expect(fast.fallbacks).toBe(0);
  });
});

function hasDuplicateKeys(j: J): boolean {
  if (j.t === 'arr') return j.items.some(hasDuplicateKeys);
  if (j.t !== 'obj') return false;
  const keys = j.entries.map(([k]) => k);
  return new Set(keys).size !== keys.length || j.entries.some(([, v]) => hasDuplicateKeys(v));
}

/** Converts parsed JSON into the model so that real samples can be re-serialized with styles. */
function toModel(v: unknown): J {
  if (v === null) return lit('null');
  if (v === true) return lit('true');
  if (v === false) return lit('false');
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return arr(v.map(toModel));
  return obj(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toModel(x)]));
}
