/**
 * A line of millions of `[` (issue 11: an OOM crash loop in the daemon, 858 MB in replay
 * for 15 MB) is rejected as `too_deep` before any parse, in bounded memory, by both
 * decoders; the events around it still count. Peak RSS of the child process.
 */
import { describe, expect, it } from 'vitest';
import { FastDecoder } from '../../src/decode/fast-decoder.ts';
import { DecodeStatus, KernelEvent } from '../../src/decode/kernel-event.ts';
import { ReferenceDecoder, decodeText } from '../../src/decode/reference-decoder.ts';
import { MAX_NESTING_DEPTH } from '../../src/decode/nesting-depth.ts';
import { runMeasured } from '../support/peak-rss.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';

const event = (i: number): string =>
  kprobeLine({
    fn: 'tcp_sendmsg',
    node: 'n1',
    time: `2024-05-01T12:00:0${i}.000000000Z`,
    sock: { saddr: '10.0.0.1', sport: 40000, daddr: '203.0.113.9', dport: 443 },
    size: '100',
  });

describe('deep nesting', () => {
  it('both decoders reject nesting deeper than the limit as too_deep, and accept it up to the limit', () => {
    for (const decoder of [new FastDecoder(), new ReferenceDecoder()]) {
      for (const [text, reason] of [
        ['['.repeat(100_000), 'too_deep'],
        [`{"process_kprobe":${'['.repeat(MAX_NESTING_DEPTH)}${']'.repeat(MAX_NESTING_DEPTH)}}`, 'too_deep'],
        [`{"a":"${'['.repeat(1000)}"}`, undefined],
        [`{"process_kprobe":${'['.repeat(MAX_NESTING_DEPTH - 1)}${']'.repeat(MAX_NESTING_DEPTH - 1)}}`, 'invalid_json'],
      ] as const) {
        const ev = new KernelEvent();
        const buf = Buffer.from(text);
        const status = decoder.decode(buf, 0, buf.length, ev);
        if (reason === undefined) expect(ev.rejectReason === 'too_deep' && status === DecodeStatus.Rejected).toBe(false);
        else expect([status, ev.rejectReason]).toEqual([DecodeStatus.Rejected, reason]);
      }
    }
    const ev = new KernelEvent();
    expect(decodeText('['.repeat(1000), ev)).toBe(DecodeStatus.Rejected);
    expect(ev.rejectReason).toBe('too_deep');
  });

  it('replay: a 15 MB line of [ is rejected in bounded memory and counted', async () => {
    const input = [event(1), '['.repeat(15_000_000), event(2)].join('\n') + '\n';
    const run = await runMeasured(['replay', '-', '--output', 'line', '--out', '/dev/null'], [input]);
    process.stderr.write(`replay, 15 MB of [: peak RSS ${run.peakRssMb.toFixed(0)} MB\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/too_deep\D+1\b/);
    // Before the limit: 858 MB. The line itself is held a few times (chunks, splitter).
    expect(run.peakRssMb).toBeLessThan(350);
  }, 60_000);

  it('run: a 12 MB line of [ does not crash the daemon; the events around it are written', async () => {
    const chunks = function* (): Generator<string> {
      yield event(1) + '\n';
      for (let i = 0; i < 12; i++) yield '['.repeat(1_000_000);
      yield '\n' + event(2) + '\n';
    };
    const run = await runMeasured(['run', '--events', '-', '--metrics-addr', 'off', '--out', '/dev/null'], chunks());
    process.stderr.write(`run, 12 MB of [: peak RSS ${run.peakRssMb.toFixed(0)} MB\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/"used":2\b/);
    expect(run.peakRssMb).toBeLessThan(350);
  }, 60_000);
});
