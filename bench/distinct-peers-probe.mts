// Ad-hoc probe: node --import tsx bench/distinct-peers-probe.mts distinct|burst N PODS PEERS_OR_PER_WINDOW [run args...]
import { burstChunks, distinctPeerChunks } from '../test/support/hostile-streams.ts';
import { runMeasured } from '../test/support/peak-rss.ts';
const [mode, n, pods, peers, ...extra] = process.argv.slice(2);
const chunks = mode === 'burst'
  ? burstChunks({ events: Number(n), pods: Number(pods), peers: Number(peers) })
  : distinctPeerChunks({ events: Number(n), pods: Number(pods), newPerWindow: Number(peers), windowMs: 10_000 });
const r = await runMeasured(['run', '--events', '-', '--window', '10s', '--metrics-addr', 'off', '--out', '/dev/null', ...extra], chunks);
console.log(JSON.stringify({ code: r.code, peakMb: Math.round(r.peakRssMb), seconds: r.seconds }));
console.log(r.stderr.split('\n').filter((l) => /stopped|rror/.test(l)).slice(-2).join('\n'));
