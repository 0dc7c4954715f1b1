/**
 * `source`: the event source's completeness (lines read, rejected, lost, throttles, and
 * with `tetragonMetrics` Tetragon's own loss counters) into kovenant_source.
 */
import { hostname } from 'node:os';
import * as z from 'zod';
import { parseDuration } from '../../core/duration.ts';
import { collectorComponent, collectorFactory } from '../collector-component.ts';
import { SourceCollector } from '../source/source-collector.ts';
import { scrapeTetragonLosses } from '../source/tetragon-metrics.ts';

const schema = z.object({
  events: z.string(),
  /** One sample per window at least, and a dashboard point every 10 s at most. */
  window: z.string().transform((w) => (w === 'dynamic' ? 10_000 : Math.min(10_000, Math.max(1000, parseDuration(w, '--window'))))),
  nodeName: z.string().optional(),
  clusterName: z.string().optional(),
  tetragonMetrics: z.string().optional(),
});

export const sourceCollector = collectorFactory({
  name: 'source',
  description: "the event source's completeness, and Tetragon's own loss counters",
  schema,
  enabled: (config) => config.events !== 'none',
  build(config, { counters, log }) {
    const url = config.tetragonMetrics;
    const c = new SourceCollector({
      counters,
      intervalMs: config.window,
      nodeName: config.nodeName ?? hostname(),
      source: config.events === '-' ? 'stdin' : config.events === 'k8s-logs' ? 'k8s-logs' : 'file',
      cluster: config.clusterName,
      scrapeTetragon: url ? () => scrapeTetragonLosses(url) : undefined,
      onScrapeError: (err) =>
        log.warn(
          { err: (err as Error).message },
          "cannot read Tetragon's loss counters; kernel_events_lost counts the increase at the next scrape",
        ),
    });
    return collectorComponent(c, () => {
      const out: Record<string, number> = { tetragon_scrape_errors: c.scrapeErrors };
      for (const [reason, n] of c.kernelLost) out[`lost.${reason}`] = n;
      return out;
    });
  },
});
