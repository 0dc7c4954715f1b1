// Start-up of the built CLI against `node -e 0`, best of N alternating runs, wall clock and
// CPU (user + system of the child, read as it exits): `--help`, a replay of the example's
// first 40 events, a replay of the whole example. More package roots (a checkout of an
// older commit, built) are measured in the same runs, for a before/after on a shared machine.
//
//   npm run build && node bench/startup.mjs [ROUNDS=25] [ROOT...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

const repo = resolve(import.meta.dirname, '..');
const rounds = Number(process.argv[2] ?? 25);
const roots = process.argv.length > 3 ? process.argv.slice(3).map((r) => resolve(r)) : [repo];
const dir = mkdtempSync(join(tmpdir(), 'kovenant-startup-'));
const example = join(repo, 'examples/events.jsonl.gz');
const snapshot = join(repo, 'examples/snapshot.json');
const tiny = join(dir, 'tiny.jsonl');
writeFileSync(tiny, gunzipSync(readFileSync(example)).toString('utf8').split('\n').slice(0, 40).join('\n') + '\n');
const hook = join(dir, 'cpu-at-exit.mjs');
writeFileSync(
  hook,
  "import { writeSync } from 'node:fs';\n" +
    "process.on('exit', () => { const u = process.cpuUsage(); writeSync(3, String((u.user + u.system) / 1e6)); });\n",
);

const replay = (events) => ['replay', events, '--kube', snapshot, '--out', '/dev/null', '--no-summary'];
// kovenant as an executable, as `npx kovenant` runs it (its shebang's node options
// apply); the hook through NODE_OPTIONS, this node first on the PATH the shebang searches.
const cases = [['node -e 0', process.execPath, ['-e', '0']]];
for (const root of roots) {
  const bin = join(root, 'bin/kovenant.js');
  const name = roots.length > 1 ? `${root}: ` : '';
  cases.push([`${name}kovenant --help`, bin, ['--help']]);
  cases.push([`${name}replay of 40 events`, bin, replay(tiny)]);
  cases.push([`${name}replay of the example`, bin, replay(example)]);
}
const env = {
  ...process.env,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${hook}`.trim(),
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
};

const wall = new Map();
const cpu = new Map();
for (let i = 0; i < rounds; i++) {
  for (const [name, command, args] of cases) {
    const started = process.hrtime.bigint();
    const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (r.status !== 0) throw new Error(`${name}: exit ${r.status}: ${r.stderr}`);
    wall.set(name, Math.min(wall.get(name) ?? Infinity, seconds));
    cpu.set(name, Math.min(cpu.get(name) ?? Infinity, Number(String(r.output[3]))));
  }
}
rmSync(dir, { recursive: true, force: true });

const [w0, c0] = [wall.get('node -e 0'), cpu.get('node -e 0')];
console.log(`start-up: best of ${rounds} alternating runs; wall clock and CPU, each also over node -e 0`);
for (const [name] of cases) {
  const w = wall.get(name);
  const c = cpu.get(name);
  console.log(
    `${name.padEnd(roots.length > 1 ? 60 : 28)} wall ${w.toFixed(3)} s (+${(w - w0).toFixed(3)})   CPU ${c.toFixed(3)} s (+${(c - c0).toFixed(3)})`,
  );
}
