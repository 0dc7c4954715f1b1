/**
 * `npm run bench`: throughput of the full replay against the usual ceiling (split lines
 * and JSON.parse each), measured in the same run on the same realistic ~2 KB events, as
 * ratios, because machines are noisy and absolute numbers are not comparable across them.
 *
 * KOVENANT_BENCH_MB sets the input size (default 450 MB); KOVENANT_BENCH_ROUNDS the
 * number of alternating rounds (default 3, best of each arm is reported).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clusterSnapshot, exampleLines } from '../examples/synthetic-cluster.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = `${here}.data`;
const targetMb = Number(process.env.KOVENANT_BENCH_MB ?? 450);
const rounds = Number(process.env.KOVENANT_BENCH_ROUNDS ?? 3);

async function ensureInput(): Promise<{ events: string; snapshot: string }> {
  mkdirSync(dataDir, { recursive: true });
  const events = `${dataDir}/events-${targetMb}mb.jsonl`;
  const snapshot = `${dataDir}/snapshot.json`;
  writeFileSync(snapshot, JSON.stringify(clusterSnapshot()));
  if (existsSync(events) && statSync(events).size >= targetMb * 1_000_000) return { events, snapshot };
  process.stderr.write(`generating ${targetMb} MB of events in ${events} ...\n`);
  const out = createWriteStream(events);
  const lineBytes = 2040;
  const count = Math.ceil((targetMb * 1_000_000) / lineBytes);
  let buffered = '';
  // An hour of traffic: windows open and close as they would on a node.
  for (const line of exampleLines(count, 3_600_000, 7)) {
    buffered += line + '\n';
    if (buffered.length > 1 << 20) {
      if (!out.write(buffered)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffered = '';
    }
  }
  out.end(buffered);
  await new Promise<void>((r) => out.once('finish', () => r()));
  return { events, snapshot };
}

interface ArmResult {
  arm: string;
  events: number;
  seconds: number;
  maxRssMb: number;
}

function runArm(arm: string, events: string, snapshot: string): ArmResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', `${here}replay-arm.ts`, arm, events, snapshot], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as ArmResult;
}

const { events, snapshot } = await ensureInput();
const sizeMb = statSync(events).size / 1_000_000;
const best = new Map<string, ArmResult>();
const arms = ['json-parse', 'replay', 'replay-reference'];
for (let round = 0; round < rounds; round++) {
  for (const arm of arms) {
    const r = runArm(arm, events, snapshot);
    const prev = best.get(arm);
    if (!prev || r.seconds < prev.seconds) best.set(arm, r);
    process.stderr.write(`round ${round + 1}: ${arm} ${(r.events / r.seconds).toFixed(0)} events/s, peak RSS ${r.maxRssMb.toFixed(0)} MB\n`);
  }
}
const rate = (arm: string): number => {
  const r = best.get(arm)!;
  return r.events / r.seconds;
};
const base = rate('json-parse');
const lines = [
  `input: ${sizeMb.toFixed(0)} MB, ${best.get('replay')!.events} events (~${Math.round((sizeMb * 1e6) / best.get('replay')!.events)} bytes each); best of ${rounds} rounds`,
  '',
  'arm                                     events/s   ratio   peak RSS',
  ...arms.map((arm) => `${arm.padEnd(38)} ${rate(arm).toFixed(0).padStart(9)}   ${(rate(arm) / base).toFixed(2).padStart(5)}x   ${best.get(arm)!.maxRssMb.toFixed(0).padStart(5)} MB`),
  '',
  `full replay / (split + JSON.parse): ${(rate('replay') / base).toFixed(2)}x (targets: >= 1.0 core issue, >= 2.0 fast path); peak RSS ${best.get('replay')!.maxRssMb.toFixed(0)} MB (target < 200 MB)`,
];
process.stdout.write(lines.join('\n') + '\n');
