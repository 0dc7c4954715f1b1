/**
 * The distinct-peers stream of issue 11 through `kovenant run` (stdin, line output to
 * /dev/null, defaults): 1.5M events from 500 pods, each to a new external address, 5,000
 * new ones per 10 s window. Prints the child's peak RSS (VmHWM) and checks the totals.
 * KOVENANT_BENCH_PEERS sets the number of events (default 1,500,000).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distinctPeerChunks, distinctPeerTotals, type DistinctPeersSpec } from '../test/support/hostile-streams.ts';
import { runMeasured } from '../test/support/peak-rss.ts';

const spec: DistinctPeersSpec = {
  events: Number(process.env.KOVENANT_BENCH_PEERS ?? 1_500_000),
  pods: 500,
  newPerWindow: 5_000,
  windowMs: 10_000,
};
const dir = mkdtempSync(join(tmpdir(), 'kovenant-bench-peers-'));
try {
  const out = join(dir, 'points.lp');
  const run = await runMeasured(
    ['run', '--events', '-', '--window', '10s', '--metrics-addr', 'off', '--out', out],
    distinctPeerChunks(spec),
  );
  let bytes = 0;
  let sends = 0;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (!line.startsWith('kovenant_tcp')) continue;
    bytes += Number(/bytes_sent=(\d+)i/.exec(line)?.[1] ?? 0);
    sends += Number(/sends=(\d+)i/.exec(line)?.[1] ?? 0);
  }
  const want = distinctPeerTotals(spec);
  const exact = bytes === want.bytes_sent && sends === want.sends;
  process.stdout.write(
    `${spec.events} events, ${spec.pods} pods, ${spec.newPerWindow} new external addresses per window: exit ${run.code}, ` +
      `${(spec.events / run.seconds).toFixed(0)} events/s, peak RSS ${run.peakRssMb.toFixed(0)} MB (target <= 300 MB), totals ${exact ? 'exact' : `WRONG: ${bytes}/${sends}, expected ${want.bytes_sent}/${want.sends}`}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
