/** `kovenant demo`, assembled: the bundled example replayed into a file and a top-talkers table. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENRICHERS } from '../enrich/registry.ts';
import { runReplay } from '../pipeline/replay.ts';
import { lineSink } from '../sinks/line/component.ts';
import { parseSettings } from '../core/config-values.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import { TopTalkers, formatTopTalkers } from '../sinks/top-talkers.ts';
import { SOURCES } from '../sources/registry.ts';
import { createLogger } from '../telemetry/logger.ts';
import { formatSummary } from './replay-summary.ts';

// The sources sit two levels below the package (src/daemon/), the bundle one (dist/).
const EXAMPLES = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../examples/' : '../examples/', import.meta.url));

export async function runDemo(opts: { out: string; top: string }, stderr: (text: string) => void): Promise<void> {
  const started = Date.now();
  const context = { log: createLogger('kovenant-demo'), signal: new AbortController().signal };
  const metadataFactory = ENRICHERS.metadata;
  const { store } = await metadataFactory.create(
    parseSettings(metadataFactory.schema, { kube: [join(EXAMPLES, 'snapshot.json')] }, 'demo'),
    { ...context, notice: stderr },
  );
  const read = SOURCES.read;
  const input = await read.create(parseSettings(read.schema, { path: join(EXAMPLES, 'events.jsonl.gz') }, 'demo'), context);
  const file = await lineSink.create(parseSettings(lineSink.schema, { out: opts.out }, '--out'), {});
  const talkers = new TopTalkers();
  const sink: MetricSink = {
    write: async (points: readonly MetricPoint[]) => {
      talkers.add(points);
      await file.write(points);
    },
    close: () => file.close(),
  };
  const counters = await runReplay({ input, store, sink, decodeThreads: 0, windowMs: 10_000, latenessMs: Infinity });
  process.stdout.write(`Top talkers in examples/events.jsonl.gz (pod → remote, bytes over the whole replay)\n\n`);
  process.stdout.write(formatTopTalkers(talkers.top(Number(opts.top) || 15)));
  process.stdout.write(`\nLine protocol (${counters.pointsWritten} points) written to ${opts.out}\n`);
  process.stdout.write(`Replay it yourself: npx kovenant replay examples/events.jsonl.gz --kube examples/snapshot.json\n`);
  stderr(formatSummary(counters, Date.now() - started, opts.out));
}
