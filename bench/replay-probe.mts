import { burstChunks } from '../test/support/hostile-streams.ts';
import { runMeasured } from '../test/support/peak-rss.ts';
const [n, pods, peers, ...extra] = process.argv.slice(2);
const r = await runMeasured(['replay', '-', '--window', '10s', '--output', 'line', '--out', '/dev/null', ...extra], burstChunks({ events: Number(n), pods: Number(pods), peers: Number(peers) }));
console.log(JSON.stringify({ code: r.code, peakMb: Math.round(r.peakRssMb), seconds: r.seconds }));
console.log(r.stderr.split('\n').filter((l) => /points written|spills|rror/.test(l)).join('\n'));
