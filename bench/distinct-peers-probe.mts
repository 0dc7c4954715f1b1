// usage: node --import tsx /tmp/i11-repro.ts events pods newPerWindow [extra run args...]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { distinctPeerChunks } from '/work/wt/i11/test/support/hostile-streams.ts';
const [events, pods, perWin, ...extra] = process.argv.slice(2);
const child = spawn(process.execPath, ['/work/wt/i11/bin/kovenant.js', 'run', '--events', '-', '--window', '10s', '--lateness', '2s', '--metrics-addr', 'off', '--output', 'line', '--out', '/dev/null', ...extra], { stdio: ['pipe', 'ignore', 'pipe'] });
let err = ''; child.stderr.on('data', (d) => (err += d));
let peak = 0;
const timer = setInterval(() => { try { const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8')); if (m) peak = Math.max(peak, Number(m[1])); } catch {} }, 200);
const t0 = Date.now();
for (const c of distinctPeerChunks({ events: Number(events), pods: Number(pods), newPerWindow: Number(perWin), windowMs: 10_000 })) {
  if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once('drain', r));
}
child.stdin.end();
const code = await new Promise((r) => child.on('exit', r));
clearInterval(timer);
console.log(JSON.stringify({ code, peakMb: peak / 1024, seconds: (Date.now() - t0) / 1000 }));
console.log(err.split('\n').filter(l => /stopped|error|Error/.test(l)).slice(-3).join('\n'));
