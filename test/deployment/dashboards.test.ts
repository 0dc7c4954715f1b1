/**
 * The Grafana dashboards run against real data: a real InfluxDB 1.x is filled
 * by replaying the bundled example through kovenant, Grafana's macros and
 * template variables are substituted in every panel query the way Grafana
 * does, and each query must return data. PromQL (pipeline health) cannot run
 * here, so it is checked against the metric names kovenant exports.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_REPLAY, runCli } from '../support/cli.ts';
import { parseLine, pointLines, type ParsedPoint } from '../support/line-protocol.ts';
import { influxQuery, requireBinary, startInfluxd, type RunningServer } from '../support/servers.ts';
import { ROOT, filesIn } from './support/paths.ts';

interface Target {
  refId: string;
  datasource?: { type: string; uid: string };
  rawQuery?: boolean;
  query?: string;
  expr?: string;
  resultFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string;
  description?: string;
  datasource?: { uid: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const DB = 'kovenant';
const INFLUXD = '/usr/bin/influxd';
const WINDOW_NS = 10_000_000_000n;

const dashboards = filesIn('dashboards', '.json').map((file) => ({
  file: basename(file),
  dashboard: JSON.parse(readFileSync(file, 'utf8')) as Dashboard,
}));
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const influxTargets = dashboards.flatMap(({ file, dashboard }) =>
  allPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).filter((t) => (t.datasource ?? p.datasource)?.type === 'influxdb').map((t) => ({ file, panel: p.title, target: t })),
  ),
);
const promTargets = dashboards.flatMap(({ file, dashboard }) =>
  allPanels(dashboard).flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => (t.datasource ?? p.datasource)?.type === 'prometheus')
      .map((t) => ({ file, panel: p.title, target: t })),
  ),
);

/** Textbox variables (the cost dashboard's prices), by name, with their default values. */
const textboxes: Record<string, string> = Object.fromEntries(
  dashboards.flatMap(({ dashboard }) => dashboard.templating.list.filter((v) => v.type === 'textbox').map((v) => [v.name, v.query])),
);

/** Grafana's regex escaping of a variable value in an InfluxQL regex. */
const escapeRegex = (v: string): string => v.replace(/[\\^$.|?*+()[\]{}/-]/g, '\\$&');

/**
 * Substitutes what Grafana substitutes before sending an InfluxQL query: the
 * time filter, the interval macros, and `/^$var$/` regex variables, with the
 * All value (`.*`, the variables' allValue) or a concrete value. Anything
 * left that starts with `$` would reach InfluxDB verbatim, so it fails.
 */
function interpolate(query: string, range: { fromMs: number; toMs: number }, values: Record<string, string | undefined>): string {
  let q = query
    .replaceAll('$timeFilter', `time >= ${range.fromMs}ms and time <= ${range.toMs}ms`)
    .replaceAll('$__interval_ms', '10000')
    .replaceAll('$__interval', '10s');
  q = q.replace(/\/\^\$(\w+)\$\//g, (_m, name: string) => {
    const v = values[name];
    return v === undefined ? '/^.*$/' : `/^(${escapeRegex(v)})$/`;
  });
  // Textbox variables are substituted as they are (numbers here).
  q = q.replace(/\$(\w+)/g, (m, name: string) => textboxes[name] ?? m);
  expect(q, 'unsubstituted Grafana variable').not.toMatch(/\$\w/);
  return q;
}

describe.skipIf(!requireBinary(INFLUXD))('dashboards over a real InfluxDB 1.x', () => {
  let influx: RunningServer;
  let workDir: string;
  let range: { fromMs: number; toMs: number };
  let concrete: Record<string, string>;
  let replayed: ParsedPoint[];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'kovenant-dashboards-'));
    const out = join(workDir, 'replay.lp');
    const replay = await runCli([...EXAMPLE_REPLAY, '--cluster-name', 'example', '--out', out], { cwd: ROOT });
    expect(replay.code, `kovenant replay failed:\n${replay.stderr}`).toBe(0);
    const lines = pointLines(readFileSync(out, 'utf8'), { withSource: true });
    expect(lines.length).toBeGreaterThan(0);

    const points = lines.map(parseLine);
    const first = points.reduce((m, p) => (p.timeNs < m ? p.timeNs : m), points[0]!.timeNs);
    const last = points.reduce((m, p) => (p.timeNs > m ? p.timeNs : m), points[0]!.timeNs);
    range = { fromMs: Number(first / 1_000_000n), toMs: Number((last + WINDOW_NS) / 1_000_000n) };

    // A pod with a workload peer and a release: the concrete variable values, and the
    // tags of the synthetic points below.
    const sample = points.find(
      (p) => p.measurement === 'kovenant_tcp' && ['namespace', 'pod', 'workload', 'release', 'remote_workload'].every((k) => k in p.tags),
    );
    expect(sample, 'the example has no pod talking to a workload').toBeDefined();
    const t = sample!.tags;
    concrete = { cluster: t.cluster!, namespace: t.namespace!, workload: t.workload!, pod: t.pod!, release: t.release! };
    replayed = points;

    // SYNTHETIC DATA: `kovenant replay` produces only kovenant_tcp and kovenant_io
    // (conntrack, CPU and the source's completeness come from the daemon's collectors,
    // not from Tetragon events; test/daemon/source-losses.test.ts runs the completeness
    // panels over points the daemon wrote). These
    // few points exist only so that the panels over those measurements are executed
    // and must return data; their values mean nothing.
    const local = ['cluster', 'namespace', 'node', 'pod', 'release', 'workload', 'workload_kind'].map((k) => `${k}=${t[k]}`).join(',');
    const remote = Object.entries(t)
      .filter(([k]) => k.startsWith('remote_') && k !== 'remote_port')
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const synthetic = [0n, WINDOW_NS].flatMap((offset) => {
      const ts = first + offset;
      return [
        `kovenant_conntrack,${local},${remote},protocol=tcp,remote_port=443 bytes_sent=1500i,bytes_received=4200i,packets_sent=10i,packets_received=12i,flows=1i ${ts}`,
        `kovenant_cpu,${local} cpu_seconds=0.25,cpu_cores=0.025 ${ts}`,
        `kovenant_node_cpu,node=${t.node},mode=user seconds=3.5 ${ts}`,
        `kovenant_node_cpu,node=${t.node},mode=system seconds=1.25 ${ts}`,
        // External peers named by DNS (kovenant run --dnstap-listen; replay has no DNS
        // stream), with the tags the daemon writes: two addresses under one name.
        ...['52.216.1.2', '52.216.1.3'].map(
          (ip) =>
            `kovenant_tcp,${local},remote_dns=s3.eu-west-1.amazonaws.com,remote_kind=external,remote_name=${ip} bytes_sent=1000i,bytes_received=50i,sends=1i,receives=1i,connects=0i,closes=0i ${ts}`,
        ),
        `kovenant_source,node=${t.node},source=file events_read=1000i,events_rejected=2i,events_lost=30i,throttles=1i,kernel_events_lost=5i ${ts}`,
      ];
    });

    influx = await startInfluxd();
    await fetch(`${influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${DB}`)}`, { method: 'POST' });
    const body = [...lines, ...synthetic].join('\n');
    const res = await fetch(`${influx.url}/write?db=${DB}&precision=ns`, { method: 'POST', body });
    expect(res.status, await res.text()).toBe(204);
  });

  afterAll(async () => {
    await influx?.dispose();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('has InfluxDB targets', () => {
    expect(influxTargets.length).toBeGreaterThanOrEqual(15);
  });

  it.each(influxTargets.map((x) => [`${x.file} / ${x.panel} / ${x.target.refId}`, x.target] as const))(
    '%s returns data for All',
    async (_name, target) => {
      const series = await influxQuery(influx.url, DB, interpolate(target.query!, range, {}));
      expect(series.length).toBeGreaterThan(0);
      expect(series.some((s) => s.values.length > 0)).toBe(true);
    },
  );

  it.each(influxTargets.map((x) => [`${x.file} / ${x.panel} / ${x.target.refId}`, x.target] as const))(
    '%s runs with concrete variable values',
    async (_name, target) => {
      // A concrete pod may rightly have no external traffic: only errors fail here.
      await expect(influxQuery(influx.url, DB, interpolate(target.query!, range, concrete))).resolves.toBeInstanceOf(Array);
    },
  );

  it('the per-pod throughput panel narrows to the selected pod', async () => {
    const target = influxTargets.find((x) => x.panel === 'Throughput by pod')!.target;
    const series = await influxQuery(influx.url, DB, interpolate(target.query!, range, concrete));
    expect(series.map((s) => s.tags?.pod)).toEqual([concrete.pod]);
  });

  it("the egress panel shows DNS names where known, all of a name's addresses together, and addresses elsewhere", async () => {
    const panel = influxTargets.filter((x) => x.panel.startsWith('Traffic leaving the cluster'));
    expect(panel.map((x) => x.target.refId)).toEqual(['A', 'B', 'C', 'D']);
    const [byName, byAddress] = await Promise.all(
      [panel[0]!, panel[1]!].map((x) => influxQuery(influx.url, DB, interpolate(x.target.query!, range, {}))),
    );
    expect(byName!.map((s) => s.tags?.remote_dns)).toEqual(['s3.eu-west-1.amazonaws.com']);
    // 2 addresses × 1000 bytes in each of the two windows, as bytes/s over 10 s.
    expect(byName![0]!.values.map((row) => row[1])).toEqual([200, 200]);
    const addresses = byAddress!.map((s) => s.tags?.remote_name);
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses).not.toContain('52.216.1.2');
  });

  it("the cost panels sum exactly the senders' bytes on each billed path, priced by the variables", async () => {
    const stat = influxTargets.filter((x) => x.panel === 'Estimated cost over the time range');
    expect(stat.map((x) => x.target.refId)).toEqual(['A', 'B', 'C']);
    const GIB = 2 ** 30;
    const sentOn = (path: string): number =>
      replayed.filter((p) => p.measurement === 'kovenant_tcp' && p.tags.path === path).reduce((a, p) => a + p.fields.bytes_sent!, 0);
    const expected = [
      (sentOn('cross-zone') / GIB) * Number(textboxes.price_cross_zone),
      (sentOn('cross-region') / GIB) * Number(textboxes.price_cross_region),
      (sentOn('internet') / GIB) * Number(textboxes.price_internet),
    ];
    expect(expected.every((v) => v > 0)).toBe(true);
    for (const [i, { target }] of stat.entries()) {
      const series = await influxQuery(influx.url, DB, interpolate(target.query!, range, {}));
      expect(Number(series[0]!.values[0]![1])).toBeCloseTo(expected[i]!, 12);
    }
    expect(replayed.some((p) => p.tags.cluster === 'example')).toBe(true);
  });

  it('the template variables list values from the data', async () => {
    for (const { dashboard } of dashboards) {
      for (const v of dashboard.templating.list.filter((x) => x.datasource?.uid === 'kovenant-influxdb')) {
        const series = await influxQuery(influx.url, DB, interpolate(v.query, range, {}));
        const values = series.flatMap((s) => s.values.map((row) => row[1]));
        expect(values.length, v.name).toBeGreaterThan(0);
      }
    }
  });
});

describe('dashboard structure', () => {
  const traffic = dashboards.find((d) => d.dashboard.uid === 'kovenant-traffic')?.dashboard;

  it('every InfluxDB target is raw InfluxQL on the provisioned datasource', () => {
    for (const { file, panel, target } of influxTargets) {
      const where = `${file} / ${panel} / ${target.refId}`;
      expect(target.rawQuery, where).toBe(true);
      expect(target.query, where).toMatch(/^(SELECT|SHOW) /);
      expect(target.datasource?.uid, where).toBe('kovenant-influxdb');
      expect(target.query, `${where} must be bounded by the dashboard time range`).toContain('$timeFilter');
    }
  });

  it('uids are unique and panel ids are unique per dashboard', () => {
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
    for (const { dashboard } of dashboards) {
      const ids = allPanels(dashboard).map((p) => p.id);
      expect(new Set(ids).size, dashboard.uid).toBe(ids.length);
    }
  });

  it('has cluster, namespace, workload, pod and release variables, multi-valued with All matching everything', () => {
    for (const uid of ['kovenant-traffic', 'kovenant-cost']) {
      const vars = dashboards.find((d) => d.dashboard.uid === uid)!.dashboard.templating.list.filter((v) => v.type === 'query');
      expect(
        vars.map((v) => v.name),
        uid,
      ).toEqual(['cluster', 'namespace', 'workload', 'pod', 'release']);
      for (const v of vars) expect(v).toMatchObject({ multi: true, includeAll: true, allValue: '.*' });
    }
  });

  it('every panel over pods honours all five variables, and every InfluxDB panel the cluster', () => {
    for (const { panel, target } of influxTargets) expect(target.query, `${panel}: $cluster`).toContain('"cluster" =~ /^$cluster$/');
    // Node-level measurements have no pod tags.
    for (const { panel, target } of influxTargets.filter(
      (x) => !x.target.query!.includes('kovenant_node_cpu') && !x.target.query!.includes('kovenant_source'),
    )) {
      for (const v of ['namespace', 'workload', 'pod', 'release']) expect(target.query, `${panel}: $${v}`).toContain(`/^$${v}$/`);
    }
  });

  it('the cost dashboard: paths over time, billed paths by workload, release and destination, priced from documented variables, each byte once', () => {
    const cost = dashboards.find((d) => d.dashboard.uid === 'kovenant-cost')!.dashboard;
    const panels = allPanels(cost);
    const queries = (p: Panel): string => (p.targets ?? []).map((t) => t.query ?? '').join('\n');
    const has = (pred: (p: Panel) => boolean, what: string): void => expect(panels.some(pred), what).toBe(true);
    has((p) => p.type === 'timeseries' && /GROUP BY time\(\$__interval\), "path"/.test(queries(p)), 'bytes by path over time');
    for (const path of ['cross-zone', 'cross-region']) {
      has(
        (p) =>
          queries(p).includes(`"path" = '${path}'`) &&
          /GROUP BY "path", "namespace", "workload"/.test(queries(p)) &&
          queries(p).includes(`$price_${path.replace('-', '_')}`),
        `${path} by workload with cost`,
      );
      has(
        (p) =>
          queries(p).includes(`"path" = '${path}'`) &&
          /GROUP BY "path", "release"/.test(queries(p)) &&
          queries(p).includes(`$price_${path.replace('-', '_')}`),
        `${path} by release with cost`,
      );
    }
    has(
      (p) =>
        queries(p).includes(`"path" = 'internet'`) &&
        /GROUP BY "namespace", "workload"/.test(queries(p)) &&
        queries(p).includes('$price_internet'),
      'internet egress by workload',
    );
    has(
      (p) =>
        queries(p).includes(`"path" = 'internet'`) && /GROUP BY "remote_name"/.test(queries(p)) && queries(p).includes('$price_internet'),
      'internet egress by destination',
    );
    // Each byte once: only the sender's bytes_sent, never bytes_received.
    for (const p of panels) expect(queries(p), p.title).not.toContain('bytes_received');
    for (const name of ['price_cross_zone', 'price_cross_region', 'price_internet']) {
      const v = cost.templating.list.find((x) => x.name === name);
      expect(v, name).toMatchObject({ type: 'textbox' });
      expect(Number(v!.query), name).toBeGreaterThan(0);
      expect(v!.description, name).toMatch(/USD\/GB/);
    }
  });

  it('has the panels the issue asks for', () => {
    const panels = allPanels(traffic!);
    const queries = (p: Panel): string => (p.targets ?? []).map((t) => t.query ?? '').join('\n');
    const has = (pred: (p: Panel) => boolean, what: string): void => expect(panels.some(pred), what).toBe(true);
    has(
      (p) => /GROUP BY .*"pod"/.test(queries(p)) && queries(p).includes('bytes_sent') && queries(p).includes('bytes_received'),
      'bytes by pod',
    );
    has(
      (p) => /GROUP BY .*"workload"/.test(queries(p)) && queries(p).includes('bytes_received') && queries(p).includes('kovenant_tcp'),
      'bytes by workload',
    );
    has((p) => queries(p).includes('"connects"') && /GROUP BY .*"pod"/.test(queries(p)), 'connections by pod');
    has((p) => p.type === 'table' && queries(p).includes('"remote_kind"') && queries(p).includes('"remote_release"'), 'top talkers');
    has((p) => queries(p).includes(`"remote_kind" = 'external'`) && queries(p).includes('"remote_name"'), 'external traffic');
    has(
      (p) => queries(p).includes('kovenant_io') && queries(p).includes('bytes_read') && queries(p).includes('bytes_written'),
      'I/O by pod',
    );
    has((p) => queries(p).includes('kovenant_cpu') && /GROUP BY .*"pod"/.test(queries(p)), 'CPU by pod');
    has((p) => queries(p).includes('kovenant_cpu') && /GROUP BY .*"release"/.test(queries(p)), 'CPU by release');
    has((p) => queries(p).includes('kovenant_conntrack') && queries(p).includes('FROM "kovenant_tcp"'), 'conntrack next to kprobes');
    has((p) => p.type === 'nodeGraph' && /GROUP BY "workload", "remote_workload"/.test(queries(p)), 'service map');
    has(
      (p) => queries(p).includes('FROM "kovenant_source"') && queries(p).includes('"events_lost"') && /GROUP BY .*"node"/.test(queries(p)),
      'data completeness per node',
    );
    expect(promTargets.length, 'pipeline health').toBeGreaterThan(0);
  });
});

describe('pipeline health (PromQL)', () => {
  const KNOWN = new Set([
    'kovenant_events_read_total',
    'kovenant_events_used_total',
    'kovenant_events_skipped_total',
    'kovenant_events_rejected_total',
    'kovenant_lag_seconds',
    'kovenant_open_windows',
    'kovenant_points_written_total',
    'kovenant_write_duration_seconds_bucket',
    'kovenant_write_duration_seconds_sum',
    'kovenant_write_duration_seconds_count',
    'kovenant_spool_bytes',
    'kovenant_metadata_objects',
    'kovenant_metadata_synced',
    'kovenant_metadata_outage_seconds',
    'kovenant_dnstap_frames_total',
    'kovenant_dnstap_parse_errors_total',
    'kovenant_dns_cache_addresses',
    'kovenant_dns_cache_evictions_total',
    'kovenant_dns_lookups_total',
    'kovenant_source_events_lost_total',
    'kovenant_source_throttles_total',
    'kovenant_source_rotations_total',
    'kovenant_source_files_missed_total',
    'kovenant_source_bytes_missed_total',
  ]);
  const LABELS: Record<string, string[]> = {
    kovenant_events_skipped_total: ['type'],
    kovenant_events_rejected_total: ['reason'],
    kovenant_metadata_objects: ['resource'],
    kovenant_dns_lookups_total: ['result'],
    kovenant_source_events_lost_total: ['reason'],
    kovenant_source_rotations_total: ['kind'],
  };

  it.each(promTargets.map((x) => [`${x.file} / ${x.panel} / ${x.target.refId}`, x.target] as const))(
    '%s uses only metrics kovenant exports',
    (_name, target) => {
      const expr = target.expr ?? '';
      const metrics = expr.match(/\bkovenant_[a-z_]+/g) ?? [];
      expect(metrics.length).toBeGreaterThan(0);
      for (const m of metrics) expect(KNOWN, m).toContain(m);
      // Labels aggregated by must exist on the metric (or be Prometheus's own).
      for (const by of expr.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of by[1]!.split(',').map((s) => s.trim())) {
          const allowed = ['instance', 'job', 'le', ...metrics.flatMap((m) => LABELS[m] ?? [])];
          expect(allowed, `${label} in ${expr}`).toContain(label);
        }
      }
      // Counters are only meaningful through rate().
      for (const m of metrics.filter((x) => x.endsWith('_total') || x.endsWith('_bucket')))
        expect(expr).toMatch(new RegExp(`rate\\(${m}\\[`));
    },
  );
});
