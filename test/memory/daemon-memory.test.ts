/**
 * `kovenant run` stays within its memory bound on streams that used to grow it without
 * end (issue 11): every event to a new external address (the resolver's caches), and one
 * window of a burst of peers (the open window itself). Measured as the child's peak RSS.
 * The bounds have a wide margin over what these runs measure with the defaults and fail
 * on the code before the fix (measured: 648 MB and 958 MB at these sizes).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { burstChunks, distinctPeerChunks, distinctPeerTotals, eventSize, type DistinctPeersSpec } from '../support/hostile-streams.ts';
import { runMeasured } from '../support/peak-rss.ts';
import { parseLineProtocol } from '../daemon/support.ts';

const dir = mkdtempSync(join(tmpdir(), 'kovenant-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sums(file: string): { bytes: number; sends: number; points: number; peers: Set<string> } {
  const points = parseLineProtocol(readFileSync(file, 'utf8')).filter((p) => p.measurement === 'kovenant_tcp');
  const peers = new Set<string>();
  let bytes = 0;
  let sends = 0;
  for (const p of points) {
    bytes += p.fields.bytes_sent ?? 0;
    sends += p.fields.sends ?? 0;
    peers.add(`${p.timeNs}/${p.tags.remote_name}`);
  }
  return { bytes, sends, points: points.length, peers };
}

describe('kovenant run: bounded memory', () => {
  it('every event to a new external address: the attribution cache stays bounded, totals exact', async () => {
    const spec: DistinctPeersSpec = { events: 300_000, pods: 500, newPerWindow: 5_000, windowMs: 10_000 };
    const out = join(dir, 'distinct.lp');
    const run = await runMeasured(
      ['run', '--events', '-', '--window', '10s', '--metrics-addr', 'off', '--out', out],
      distinctPeerChunks(spec),
    );
    process.stderr.write(`distinct peers: peak RSS ${run.peakRssMb.toFixed(0)} MB in ${run.seconds} s\n`);
    expect(run.code, run.stderr).toBe(0);
    const got = sums(out);
    const want = distinctPeerTotals(spec);
    expect(got.bytes).toBe(want.bytes_sent);
    expect(got.sends).toBe(want.sends);
    expect(run.peakRssMb).toBeLessThan(450);
  }, 120_000);

  it('a burst of peers in one window is folded while aggregating: the open window stays bounded, totals exact', async () => {
    const events = 300_000;
    const out = join(dir, 'burst.lp');
    const run = await runMeasured(
      ['run', '--events', '-', '--window', '10s', '--metrics-addr', 'off', '--out', out],
      burstChunks({ events, pods: 40_000, peers: 150_000 }),
    );
    process.stderr.write(`burst: peak RSS ${run.peakRssMb.toFixed(0)} MB in ${run.seconds} s\n`);
    expect(run.code, run.stderr).toBe(0);
    const got = sums(out);
    let bytes = 0;
    for (let i = 0; i < events; i++) bytes += eventSize(i);
    expect(got.bytes).toBe(bytes);
    expect(got.sends).toBe(events);
    // The default guard: 1000 named peers, plus `other`.
    expect(got.peers.size).toBe(1001);
    expect(run.peakRssMb).toBeLessThan(550);
  }, 120_000);
});
