/**
 * The component model's recipe (ARCHITECTURE.md), checked: every output the CLI and the
 * daemon offer is a registry sink in its own folder, every component's schema parses its
 * defaults into real types, and the metrics read the parts' stats().
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECTORS } from '../../src/collectors/registry.ts';
import { DaemonConfigSchema, resolveConfig } from '../../src/config/daemon-config.ts';
import { parseSettings } from '../../src/core/config-values.ts';
import { InputError } from '../../src/core/input-error.ts';
import { OUTPUTS, openSink } from '../../src/daemon/sinks.ts';
import { EventCounters } from '../../src/pipeline/event-counters.ts';
import { SINKS, sinkFactory } from '../../src/sinks/registry.ts';
import { SOURCES } from '../../src/sources/registry.ts';
import { ENRICHERS } from '../../src/enrich/registry.ts';
import { DaemonMetrics, type ComponentReport } from '../../src/telemetry/metrics.ts';
import { REPO } from '../support/cli.ts';
import { captureLog, tcpPoints } from '../sinks/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'kovenant-components-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the sink registry', () => {
  it('lists every --output of replay and every output of the daemon, each in src/sinks/<name>/component.ts', () => {
    expect([...OUTPUTS].sort()).toEqual(SINKS.map((s) => s.name).sort());
    const daemonOutputs = (DaemonConfigSchema.shape.output.def.innerType as unknown as { options: string[] }).options;
    // influx-v1 and influx-v2 are the influx sink with its API chosen.
    for (const output of daemonOutputs) expect(SINKS.map((s) => s.name)).toContain(output.replace(/-v[12]$/, ''));
    for (const s of SINKS) {
      expect(s.kind).toBe('sink');
      expect(existsSync(join(REPO, 'src/sinks', s.name, 'component.ts')), `src/sinks/${s.name}/component.ts`).toBe(true);
    }
  });

  it("parses every sink's defaults into numbers, and values given as text once", () => {
    for (const s of SINKS) expect(() => parseSettings(s.schema, {}, s.name)).not.toThrow();
    expect(parseSettings(sinkFactory('console').schema, {}, 'console')).toEqual({ top: 10 });
    expect(parseSettings(sinkFactory('influx').schema, {}, 'influx') as object).toMatchObject({
      influxApi: 'v2',
      spoolMaxBytes: 1024 ** 3,
      batchSize: 5000,
      flushInterval: 1000,
      drainTimeout: 60_000,
    });
    expect(
      parseSettings(sinkFactory('influx').schema, { spoolMaxBytes: '512MiB', flushInterval: '2s', batchSize: '250' }, 'influx') as object,
    ).toMatchObject({ spoolMaxBytes: 512 * 1024 ** 2, flushInterval: 2000, batchSize: 250 });
    // The daemon's YAML may give a number as such.
    expect((parseSettings(sinkFactory('influx').schema, { batchSize: 250 }, 'influx') as { batchSize: number }).batchSize).toBe(250);
  });

  it('refuses bad values and unknown outputs with the flag named', () => {
    expect(() => parseSettings(sinkFactory('influx').schema, { drainTimeout: 'soon' }, 'influx')).toThrow(
      /^--drain-timeout: invalid duration "soon"$/,
    );
    expect(() => parseSettings(sinkFactory('console').schema, { top: '0' }, 'console')).toThrow(
      /^--top: expected a whole number above 0, got "0"$/,
    );
    expect(() => parseSettings(sinkFactory('console').schema, { out: 'x.lp' }, 'console')).toThrow(
      /only --output line or json write to a file/,
    );
    expect(() => sinkFactory('kafka')).toThrow(InputError);
    expect(() => sinkFactory('kafka')).toThrow(/--output kafka: unknown output/);
  });

  it('builds a sink that writes through the registry', async () => {
    const out = join(dir, 'points.lp');
    const sink = await openSink({ output: 'line', out });
    expect(sink.destination).toBe(out);
    await sink.write(tcpPoints(0, 3));
    await sink.close();
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(sink.stats()).toEqual({});
  });
});

describe('the source and collector registries', () => {
  it('parse their defaults', () => {
    expect(parseSettings(SOURCES['k8s-logs'].schema, {}, 'k8s-logs')).toEqual({
      tetragonNamespace: 'kube-system',
      tetragonSelector: 'app.kubernetes.io/name=tetragon',
      tetragonContainer: 'export-stdout',
    });
    for (const name of ['read', 'follow'] as const)
      expect(parseSettings(SOURCES[name].schema, { path: '/x' }, name)).toEqual({ path: '/x' });
    const defaults = resolveConfig({});
    const enabled = COLLECTORS.filter((c) => c.enabled(parseSettings(c.schema, defaults, c.name))).map((c) => c.name);
    expect(enabled).toEqual(['source']);
    const all = resolveConfig({ flags: { conntrack: true, cpu: true, conntrackInterval: '2s' } });
    expect(COLLECTORS.filter((c) => c.enabled(parseSettings(c.schema, all, c.name))).map((c) => c.name)).toEqual([
      'source',
      'conntrack',
      'node_cpu',
      'cpu',
    ]);
    expect(parseSettings(COLLECTORS[1]!.schema, all, 'conntrack') as object).toMatchObject({ conntrackInterval: 2000 });
  });

  it('a followed file reports its rotations as stats', async () => {
    const stop = new AbortController();
    const source = await SOURCES.follow.create({ path: join(dir, 'events.log') }, { log: captureLog().log, signal: stop.signal });
    expect(source.stats()).toEqual({ renames: 0, truncations: 0, filesMissed: 0, bytesMissed: 0 });
    stop.abort();
    await source.close();
  });
});

describe('the enricher registry (metadata store, dnstap)', () => {
  it('parses defaults into real types and checks dnstap addresses before anything opens', () => {
    expect(parseSettings(ENRICHERS.metadata.schema, {}, 'metadata')).toEqual({
      kube: [],
      inCluster: false,
      syncTimeout: { text: '2m', ms: 120_000 },
      waitForSync: true,
      allowEmptyKube: false,
    });
    const dnstap = parseSettings(ENRICHERS.dnstap.schema, resolveConfig({}), 'dnstap');
    expect(dnstap).toEqual({ dnsCacheMax: 100_000, dnsGrace: 300_000 });
    expect(ENRICHERS.dnstap.enabled(dnstap)).toBe(false);
    expect(
      parseSettings(ENRICHERS.dnstap.schema, resolveConfig({ flags: { dnstapListen: '127.0.0.1:6000', dnsGrace: '1m' } }), 'dnstap'),
    ).toMatchObject({ dnstapListen: { kind: 'tcp', port: 6000 }, dnsGrace: 60_000 });
    expect(() => parseSettings(ENRICHERS.dnstap.schema, { dnstapConnect: ':6001' }, 'dnstap')).toThrow(
      /^--dnstap-connect .*needs the host to dial/,
    );
  });

  it('builds the metadata store from a snapshot, with its objects as stats', async () => {
    const notices: string[] = [];
    const m = await ENRICHERS.metadata.create(
      parseSettings(ENRICHERS.metadata.schema, { kube: [join(REPO, 'examples/snapshot.json')] }, 'metadata'),
      { log: captureLog().log, signal: new AbortController().signal, notice: (l) => notices.push(l) },
    );
    expect(m.isReady()).toBe(true);
    expect(m.stats()).toMatchObject({ synced: 1, outageSeconds: 0 });
    expect(m.stats()['objects.pods']).toBeGreaterThan(0);
    expect(notices).toEqual([]);
    await m.close();
  });
});

/** What /metrics shows for these parts' stats. */
function scrape(components: ComponentReport[], decoderFallbacks?: () => number): Promise<string> {
  return new DaemonMetrics({
    counters: new EventCounters(),
    openWindows: () => 0,
    lagSeconds: () => undefined,
    metadataSynced: () => true,
    components: () => components,
    decoderFallbacks,
  }).registry.metrics();
}

describe('metrics read stats()', () => {
  it('the metadata store and dnstap, as enrichers', async () => {
    const text = await scrape([
      { kind: 'enricher', name: 'metadata', stats: { synced: 1, outageSeconds: 12, 'objects.pods': 4, 'objects.services': 2 } },
      {
        kind: 'enricher',
        name: 'dnstap',
        stats: {
          connections: 2,
          frames: 9,
          responses: 4,
          parseErrors: 1,
          'cache.size': 3,
          'cache.evictions': 0,
          'cache.hits': 5,
          'cache.misses': 6,
        },
      },
    ]);
    for (const line of [
      'kovenant_metadata_objects{resource="pods"} 4',
      'kovenant_metadata_outage_seconds 12',
      'kovenant_dnstap_connections_total 2',
      'kovenant_dnstap_frames_total 9',
      'kovenant_dnstap_parse_errors_total 1',
      'kovenant_dns_cache_addresses 3',
      'kovenant_dns_lookups_total{result="hit"} 5',
      'kovenant_dns_lookups_total{result="miss"} 6',
      'kovenant_component_stat{kind="enricher",component="dnstap",stat="frames"} 9',
    ])
      expect(text).toContain(line);
    expect(await scrape([])).not.toContain('kovenant_dnstap_frames_total');
  });

  it('source reconnects and rotations, collector counts and losses, the sink, decoder fallbacks', async () => {
    const text = await scrape(
      [
        { kind: 'source', name: 'k8s-logs', stats: { reconnects: 3, renames: 2, truncations: 1, filesMissed: 0, bytesMissed: 0 } },
        {
          kind: 'sink',
          name: 'influx',
          stats: { spoolBytes: 4096, 'blocked.unauthorized': 1, 'blocked.forbidden': 0, 'blocked.not_found': 0 },
        },
        { kind: 'collector', name: 'conntrack', stats: { conntrack_vanished_flows: 5 } },
        { kind: 'collector', name: 'source', stats: { tetragon_scrape_errors: 1, 'lost.bpf_missed': 4 } },
      ],
      () => 7,
    );
    for (const line of [
      'kovenant_source_reconnects_total 3',
      'kovenant_source_rotations_total{kind="rename"} 2',
      'kovenant_source_rotations_total{kind="truncation"} 1',
      'kovenant_spool_bytes 4096',
      'kovenant_sink_blocked{reason="unauthorized"} 1',
      'kovenant_collector_events_total{what="conntrack_vanished_flows"} 5',
      'kovenant_collector_events_total{what="tetragon_scrape_errors"} 1',
      'kovenant_source_events_lost_total{reason="bpf_missed"} 4',
      'kovenant_decoder_fallbacks_total 7',
      'kovenant_component_stat{kind="source",component="k8s-logs",stat="reconnects"} 3',
    ])
      expect(text).toContain(line);
    expect(text).not.toContain('what="lost.bpf_missed"');
  });
});
