/**
 * Tetragon's own loss counters, scraped from its Prometheus endpoint (`--tetragon-metrics
 * URL`, `:2112/metrics` in Tetragon's chart). Names as registered by Tetragon v1.5.0 (the
 * version helmfile.yaml pins; pkg/metrics/eventmetrics, pkg/observer, pkg/server,
 * pkg/metrics/kprobemetrics):
 * - `tetragon_bpf_missed_events_total{msg_op,error}`: events the BPF programs failed to
 *   send to user space (ring/perf buffer full, …);
 * - `tetragon_observer_ringbuf_events_lost_total`: events lost reading the ring buffer;
 * - `tetragon_observer_ringbuf_queue_events_lost_total`: events dropped by the queue
 *   between the ring buffer reader and the event processing;
 * - `tetragon_notify_overflowed_events_total`: events dropped because a listener's buffer
 *   (the exporter is one) was full;
 * - `tetragon_missed_prog_probes_total{policy,attach}`, `tetragon_missed_link_probes_total`:
 *   kprobe runs the kernel skipped (recursion, another probe running), i.e. calls never seen.
 * Not counted here: `tetragon_export_ratelimit_events_dropped_total`, because the same
 * drops are reported in the stream as `rate_limit_info` (counted as `rate_limit`), and
 * `tetragon_events_missing_process_info_total` (those events are exported, only without
 * process details).
 */
export const TETRAGON_LOSS_COUNTERS: ReadonlyArray<{ metric: string; reason: string }> = [
  { metric: 'tetragon_bpf_missed_events_total', reason: 'bpf_missed' },
  { metric: 'tetragon_observer_ringbuf_events_lost_total', reason: 'ringbuf_lost' },
  { metric: 'tetragon_observer_ringbuf_queue_events_lost_total', reason: 'ringbuf_queue_lost' },
  { metric: 'tetragon_notify_overflowed_events_total', reason: 'notify_overflowed' },
  { metric: 'tetragon_missed_prog_probes_total', reason: 'probe_missed' },
  { metric: 'tetragon_missed_link_probes_total', reason: 'probe_missed' },
];

const REASON_OF = new Map(TETRAGON_LOSS_COUNTERS.map((c) => [c.metric, c.reason]));

/**
 * Sums the samples of the loss counters by reason (over all label sets) from Prometheus'
 * text exposition format. Hand-written rather than a library: only sample lines of six
 * counter families are needed (name, skip the labels, value), and the npm parsers of the
 * format are unmaintained. Reasons whose counters are absent are absent.
 */
export function parseLossCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let nameEnd = 0;
    while (nameEnd < line.length && line[nameEnd] !== '{' && line[nameEnd] !== ' ' && line[nameEnd] !== '\t') nameEnd++;
    const reason = REASON_OF.get(line.slice(0, nameEnd));
    if (reason === undefined) continue;
    let i = nameEnd;
    if (line[i] === '{') {
      // Label values are quoted and may hold `}` or escaped quotes.
      let quoted = false;
      for (i++; i < line.length; i++) {
        const c = line[i];
        if (quoted) {
          if (c === '\\') i++;
          else if (c === '"') quoted = false;
        } else if (c === '"') quoted = true;
        else if (c === '}') break;
      }
      i++;
    }
    const value = Number(line.slice(i).trim().split(/\s+/)[0]);
    if (!Number.isFinite(value) || value < 0) continue;
    out.set(reason, (out.get(reason) ?? 0) + value);
  }
  return out;
}

/** Fetches and parses the endpoint; throws with the URL named when it cannot. */
export async function scrapeTetragonLosses(url: string, timeoutMs = 5000): Promise<Map<string, number>> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Error(`--tetragon-metrics ${url}: cannot scrape (${cause})`, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`--tetragon-metrics ${url}: HTTP ${res.status}`);
  return parseLossCounters(text);
}
