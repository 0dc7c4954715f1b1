/** The pieces of kovenant_source: Tetragon's loss lines, its Prometheus text, counter resets. */
import { describe, expect, it } from 'vitest';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { SourceCollector } from '../../src/collectors/source/source-collector.ts';
import { parseLossCounters } from '../../src/collectors/source/tetragon-metrics.ts';
import { readLossSignal } from '../../src/decode/loss-signal.ts';
import { EventCounters } from '../../src/pipeline/event-counters.ts';

describe('readLossSignal', () => {
  it('reads rate_limit_info counts (protobuf int64 strings, or numbers) and throttle starts', () => {
    expect(
      readLossSignal('{"rate_limit_info":{"number_of_dropped_process_events":"18446744"},"node_name":"n","time":"2026-01-01T00:00:00Z"}'),
    ).toEqual({ kind: 'rate_limit', droppedEvents: 18446744 });
    expect(readLossSignal('{"rate_limit_info":{"number_of_dropped_process_events":7}}')).toEqual({ kind: 'rate_limit', droppedEvents: 7 });
    // protobuf JSON leaves a zero out
    expect(readLossSignal('{"rate_limit_info":{}}')).toEqual({ kind: 'rate_limit', droppedEvents: 0 });
    expect(readLossSignal('{"process_throttle":{"type":"THROTTLE_START","cgroup":"x"}}')).toEqual({ kind: 'throttle', start: true });
    expect(readLossSignal('{"process_throttle":{"type":"THROTTLE_STOP","cgroup":"x"}}')).toEqual({ kind: 'throttle', start: false });
    for (const bad of [
      '{"rate_limit_info":{"number_of_dropped_process_events":"-1"}}',
      '{"rate_limit_info":{"number_of_dropped_process_events":"1e3"}}',
      '{"rate_limit_info":{"number_of_dropped_process_events":"99999999999999999999"}}',
      'nope',
      '[]',
    ]) {
      expect(readLossSignal(bad), bad).toBeUndefined();
    }
  });
});

describe('parseLossCounters', () => {
  it('sums the loss counters by reason over label sets, ignoring comments, other families and bad values', () => {
    const text = [
      '# HELP tetragon_bpf_missed_events_total x',
      '# TYPE tetragon_bpf_missed_events_total counter',
      'tetragon_bpf_missed_events_total{error="EBUSY",msg_op="5"} 3',
      'tetragon_bpf_missed_events_total{error="a \\"}\\" b",msg_op="9"} 4 1700000000000',
      'tetragon_observer_ringbuf_events_lost_total 2',
      'tetragon_observer_ringbuf_queue_events_lost_total 1e1',
      'tetragon_notify_overflowed_events_total 0',
      'tetragon_missed_prog_probes_total{attach="x",policy="p"} 1',
      'tetragon_missed_link_probes_total{attach="y",policy="p"} 2',
      'tetragon_export_ratelimit_events_dropped_total 100',
      'tetragon_bpf_missed_events_total_other 50',
      'tetragon_observer_ringbuf_events_lost_total NaN',
      '',
    ].join('\n');
    expect(Object.fromEntries(parseLossCounters(text))).toEqual({
      bpf_missed: 7,
      ringbuf_lost: 2,
      ringbuf_queue_lost: 10,
      notify_overflowed: 0,
      probe_missed: 3,
    });
  });
});

describe('SourceCollector', () => {
  it('adds the stream counts and the increase of Tetragon counters since the last sample; a reset counts from 0', async () => {
    const counters = new EventCounters();
    const totals = [new Map([['bpf_missed', 10]]), new Map([['bpf_missed', 15]]), new Map([['bpf_missed', 4]])];
    let scrape = 0;
    const c = new SourceCollector({
      counters,
      intervalMs: 1000,
      nodeName: 'n1',
      source: 'file',
      scrapeTetragon: async () => totals[scrape++]!,
    });
    const agg = new WindowAggregator({ windowMs: 1000, latenessMs: 0 });
    await c.collect(500, agg); // baseline
    counters.read = 10;
    counters.reject('invalid_json');
    counters.addLost('rate_limit', 4);
    counters.throttles = 1;
    await c.collect(1500, agg);
    counters.read = 12;
    await c.collect(2500, agg);
    const points = agg.closeAll().map((p) => ({ t: p.timeMs, tags: p.tags, ints: p.ints }));
    expect(points).toEqual([
      {
        t: 1000,
        tags: { node: 'n1', source: 'file' },
        ints: { events_read: 10, events_rejected: 1, events_lost: 4, throttles: 1, kernel_events_lost: 5 },
      },
      // Tetragon restarted: 4 since its restart
      {
        t: 2000,
        tags: { node: 'n1', source: 'file' },
        ints: { events_read: 2, events_rejected: 0, events_lost: 0, throttles: 0, kernel_events_lost: 4 },
      },
    ]);
    expect(Object.fromEntries(c.kernelLost)).toEqual({ bpf_missed: 9 });
  });
});
