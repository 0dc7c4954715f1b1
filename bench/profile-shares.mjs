// Where a profile's time goes, by stage: the self time of every sample of one or more
// `node --cpu-prof` profiles of the built CLI, its frames mapped through the source maps
// beside dist/'s files to src/ files, grouped into the stages the README's profile
// summary names, and averaged over the profiles (each profile's shares count alike).
//
//   node --cpu-prof --cpu-prof-interval 200 --cpu-prof-dir DIR bin/kovenant.js run ...
//   node bench/profile-shares.mjs DIR/*.cpuprofile
//   node bench/profile-shares.mjs --functions 40 DIR/*.cpuprofile   (also the 40 heaviest functions, by stage)
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const maps = new Map();
function mapOf(url) {
  if (!maps.has(url)) {
    const file = fileURLToPath(url);
    maps.set(
      url,
      existsSync(`${file}.map`) ? { dir: dirname(file), map: new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) } : null,
    );
  }
  return maps.get(url);
}

/** A frame's file: `src/...` for kovenant's (and rxjs's own maps), `node_modules/...`, `node:...`, or V8's `(name)`. */
function fileOf(frame) {
  if (!frame.url) return `(${frame.functionName})`;
  const mapped = frame.url.startsWith('file:') ? mapOf(frame.url) : null;
  const entry = mapped?.map.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry && 'originalSource' in entry) return resolve(mapped.dir, entry.originalSource).replace(/.*\/(src|node_modules)\//, '$1/');
  return frame.url.replace(/.*\/node_modules\//, 'node_modules/');
}

// A frame's own stage, first match wins: kovenant's code (rxjs's frames map to its own
// `src/internal/`), the dependencies and node's module loader (start-up), and V8's
// pseudo-frames. Node's other internals and V8's natives (a Buffer compare, a read's or a
// write's binding, a copy) have none: they take the stage of the nearest caller that has
// one, so that their time goes to the stage that asked for it, not to a stage of their own.
const OWN_STAGES = [
  ['decoding', (f) => f.startsWith('src/decode/') || f === 'src/pipeline/decode-stage.ts'],
  ['attribution', (f) => f.startsWith('src/enrich/') || f.startsWith('src/core/')],
  [
    'accumulation',
    (f, fn) =>
      f === 'src/aggregate/event-accumulator.ts' || (f === 'src/aggregate/window-aggregator.ts' && /^(slotValues|trackPeer)$/.test(fn)),
  ],
  ['closing windows (close, sort, points, checkpoint snapshot)', (f) => f.startsWith('src/aggregate/')],
  ['sink (line protocol, writes)', (f) => f.startsWith('src/sinks/')],
  ['splitting lines', (f) => f === 'src/sources/line-splitter.ts'],
  ['reading', (f) => f.startsWith('src/sources/')],
  ['pipeline (rxjs, batches, checkpoint)', (f) => f.startsWith('src/pipeline/') || f.startsWith('src/internal/')],
  [
    'module loading and compiling',
    (f, fn) =>
      /^node:internal\/(modules|bootstrap)\//.test(f) ||
      f.startsWith('node_modules/') ||
      // The launcher reading the bundle and V8 taking its code cache (src/cli/launcher.ts).
      f === 'src/cli/launcher.ts' ||
      (f === 'node:vm' && fn === 'Script') ||
      ['(program)', 'compileFunction', '__require2'].includes(fn),
  ],
  ['garbage collection', (f, fn) => fn === '(garbage collector)'],
  ['waiting (idle)', (f, fn) => fn === '(idle)'],
  ['other', (f) => f.startsWith('src/')],
];

// A node internal that no kovenant frame called (a callback of the event loop): by what it is.
const UNCALLED_STAGES = [
  ['sink (line protocol, writes)', (f) => /internal\/(fs\/streams|streams\/)/.test(f)],
  ['reading', (f) => f.includes('fs/promises')],
  ['other', () => true],
];

const ownStage = (f, fn) => OWN_STAGES.find(([, test]) => test(f, fn))?.[0];

const args = process.argv.slice(2);
const topFunctions = args[0] === '--functions' ? Number(args[1]) : 0;
const files = topFunctions ? args.slice(2) : args;
if (files.length === 0 || (args[0] === '--functions' && !(topFunctions > 0))) {
  console.error('usage: node bench/profile-shares.mjs [--functions N] PROFILE.cpuprofile...');
  process.exit(2);
}
const shares = new Map();
/** Self time by stage and function, summed over the profiles (milliseconds). */
const byFunction = new Map();
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  /** Per node of the call tree, once: its stage and what `--functions` names it by. */
  const labels = new Map();
  const labelOf = (id) => {
    let label = labels.get(id);
    if (label === undefined) {
      const frame = nodes.get(id).callFrame;
      const f = fileOf(frame);
      let stage = ownStage(f, frame.functionName);
      for (let up = parents.get(id); stage === undefined && up !== undefined; up = parents.get(up)) {
        const caller = nodes.get(up).callFrame;
        stage = ownStage(fileOf(caller), caller.functionName);
      }
      stage ??= UNCALLED_STAGES.find(([, test]) => test(f))[0];
      label = { stage, fn: `${stage} :: ${frame.functionName || '(anonymous)'} ${f}` };
      labels.set(id, label);
    }
    return label;
  };
  const byStage = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const { stage, fn } = labelOf(profile.samples[i]);
    byStage.set(stage, (byStage.get(stage) ?? 0) + us);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us / 1000);
    total += us;
  }
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms of samples`);
  for (const [stage, us] of byStage) shares.set(stage, (shares.get(stage) ?? 0) + us / total / files.length);
}
for (const [stage, share] of [...shares].sort((a, b) => b[1] - a[1])) console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${stage}`);
if (topFunctions) {
  console.log(`\nheaviest functions (self time, ms, summed over ${files.length} profile(s)):`);
  for (const [fn, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, topFunctions))
    console.log(`${ms.toFixed(0).padStart(6)}  ${fn}`);
}
