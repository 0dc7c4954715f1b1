/**
 * `npm run bench`: throughput of the full replay against the usual ceiling (split lines
 * and JSON.parse each), measured in the same run on the same realistic ~2 KB events, as
 * ratios, because machines are noisy and absolute numbers are not comparable across them.
 *
 * KOVENANT_BENCH_MB sets the input size (default 450 MB); KOVENANT_BENCH_ROUNDS the
 * number of alternating rounds (default 3, best of each arm is reported);
 * KOVENANT_BENCH_ONLY a comma-separated subset of `replay,metadata,sinks,peers,dns`.
 * The metadata case (150,000 pods through the watch path) and the sink case (points/s
 * into real InfluxDB 1.x and through the v2 client) run in their own processes, so
 * heap and RSS figures are their own.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clusterSnapshot, exampleLines } from '../examples/synthetic-cluster.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = `${here}.data`;
const targetMb = Number(process.env.KOVENANT_BENCH_MB ?? 450);
const rounds = Number(process.env.KOVENANT_BENCH_ROUNDS ?? 3);

/** The generator's version: bump it when the generated stream changes, to regenerate. */
const STREAM_VERSION = 3;

async function ensureInput(distinctProcesses: boolean): Promise<string> {
  mkdirSync(dataDir, { recursive: true });
  const events = `${dataDir}/events-v${STREAM_VERSION}-${targetMb}mb${distinctProcesses ? '-distinct' : ''}.jsonl`;
  if (existsSync(events) && statSync(events).size >= targetMb * 1_000_000) return events;
  process.stderr.write(`generating ${targetMb} MB of events in ${events} ...\n`);
  const out = createWriteStream(events);
  const lineBytes = 2040;
  const count = Math.ceil((targetMb * 1_000_000) / lineBytes);
  let buffered = '';
  // An hour of traffic: windows open and close as they would on a node.
  for (const line of exampleLines(count, 3_600_000, 7, distinctProcesses)) {
    buffered += line + '\n';
    if (buffered.length > 1 << 20) {
      if (!out.write(buffered)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffered = '';
    }
  }
  out.end(buffered);
  await new Promise<void>((r) => out.once('finish', () => r()));
  return events;
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

const snapshot = `${dataDir}/snapshot.json`;
mkdirSync(dataDir, { recursive: true });
writeFileSync(snapshot, JSON.stringify(clusterSnapshot()));

interface Scenario {
  name: string;
  events: string;
}

/** Runs the arms alternately, best of `rounds`, and prints the table of one input. */
function measure(scenario: Scenario, arms: readonly string[]): Map<string, ArmResult> {
  const best = new Map<string, ArmResult>();
  for (let round = 0; round < rounds; round++) {
    for (const arm of arms) {
      const r = runArm(arm, scenario.events, snapshot);
      const prev = best.get(arm);
      if (!prev || r.seconds < prev.seconds) best.set(arm, r);
      process.stderr.write(`${scenario.name}, round ${round + 1}: ${arm} ${(r.events / r.seconds).toFixed(0)} events/s, peak RSS ${r.maxRssMb.toFixed(0)} MB\n`);
    }
  }
  return best;
}

function report(scenario: Scenario, best: Map<string, ArmResult>): string[] {
  const rate = (arm: string): number => best.get(arm)!.events / best.get(arm)!.seconds;
  const base = rate('json-parse');
  const sizeMb = statSync(scenario.events).size / 1_000_000;
  const replay = best.get('replay')!;
  return [
    `${scenario.name}: ${sizeMb.toFixed(0)} MB, ${replay.events} events (~${Math.round((sizeMb * 1e6) / replay.events)} bytes each), best of ${rounds} rounds`,
    'arm                        events/s   ratio   peak RSS',
    ...[...best.keys()].map((arm) => `${arm.padEnd(24)} ${rate(arm).toFixed(0).padStart(10)}   ${(rate(arm) / base).toFixed(2).padStart(5)}x   ${best.get(arm)!.maxRssMb.toFixed(0).padStart(5)} MB`),
    `full replay / (split + JSON.parse): ${(rate('replay') / base).toFixed(2)}x; peak RSS ${replay.maxRssMb.toFixed(0)} MB (targets: >= 2.0x, < 200 MB)`,
    '',
  ];
}

const only = new Set((process.env.KOVENANT_BENCH_ONLY ?? 'replay,metadata,sinks,peers,dns').split(',').map((x) => x.trim()));

if (only.has('replay')) {
  const scenarios: Scenario[] = [
    { name: 'realistic stream (long-lived processes, as on a busy node)', events: await ensureInput(false) },
    { name: 'worst case (every event from a distinct process)', events: await ensureInput(true) },
  ];
  const out: string[] = ['== replay: decode → attribute → aggregate → line protocol', ''];
  for (const [i, scenario] of scenarios.entries()) {
    out.push(...report(scenario, measure(scenario, i === 0 ? ['json-parse', 'replay', 'replay-reference'] : ['json-parse', 'replay'])));
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** A benchmark module run alone in a child process; its stdout is the report. */
function runModule(title: string, file: string): void {
  process.stderr.write(`running ${file} ...\n`);
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', `${here}${file}`], { encoding: 'utf8', maxBuffer: 16 << 20 });
  process.stdout.write(`== ${title}\n\n${out.trimEnd()}\n\n`);
}

if (only.has('metadata')) runModule('metadata: 150,000 pods, 10,000 services, 5,000 nodes through the watch path', 'metadata.ts');
if (only.has('peers')) runModule('peers: 1.5M events to 1.5M distinct external addresses through kovenant run (peak RSS)', 'distinct-peers.ts');
if (only.has('sinks')) runModule('sinks: points/s into real InfluxDB 1.x and through the v2 client', 'sinks.ts');
if (only.has('dns')) runModule('dns: the DNS name cache at 1,000,000 addresses (--dnstap-listen)', 'dns.ts');
