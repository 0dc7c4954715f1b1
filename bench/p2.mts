import { burstChunks, distinctPeerChunks } from '/work/wt/i11/test/support/hostile-streams.ts';
import { runMeasured } from '/work/wt/i11/test/support/peak-rss.ts';
const [mode, n, pods, peers, nodeArgs, ...extra] = process.argv.slice(2);
const chunks = mode === 'burst' ? burstChunks({ events: Number(n), pods: Number(pods), peers: Number(peers) }) : distinctPeerChunks({ events: Number(n), pods: Number(pods), newPerWindow: Number(peers), windowMs: 10_000 });
const r = await runMeasured(['run', '--events', '-', '--window', '10s', '--metrics-addr', 'off', '--out', '/dev/null', ...extra], chunks, nodeArgs ? nodeArgs.split(' ') : []);
console.log(JSON.stringify({ code: r.code, peakMb: Math.round(r.peakRssMb), seconds: r.seconds }));
console.log(r.stderr.split('\n').filter((l) => /Mark-Compact|Scavenge/.test(l)).slice(-3).join('\n'));
